//! The one managed state: the device store and the sync worker's handle.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use gocua_core::store::DeviceStore;

use crate::error::CommandError;
use crate::worker::SyncHandle;

/// Shared by every command.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The device database.
    pub store: Arc<Mutex<DeviceStore>>,
    /// The background sync worker.
    pub sync: SyncHandle,
    /// Where the real database and the trainer's sandbox live.
    pub paths: Arc<StorePaths>,
}

/// The two database files: real data, and the trainer's sandbox (never synced).
#[derive(Debug, Clone)]
pub struct StorePaths {
    /// The enrolled device's data.
    pub real: PathBuf,
    /// Made-up training data (`DeviceStore::create_sandbox`).
    pub sandbox: PathBuf,
}

impl StorePaths {
    /// The sandbox sits beside the real file: `gocua.sqlite` → `gocua-tap-huan.sqlite`.
    pub fn beside(real: PathBuf) -> Self {
        let stem = real.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "gocua".into());
        let sandbox = real.with_file_name(format!("{stem}-tap-huan.sqlite"));
        StorePaths { real, sandbox }
    }
}

impl AppState {
    /// Runs a store operation on a blocking thread (never on the UI's async executor).
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, CommandError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DeviceStore) -> Result<T, gocua_core::Error> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| CommandError::new("internal", "store lock poisoned"))?;
            f(&mut guard).map_err(CommandError::from)
        })
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
    }

    /// Replaces the open database (real ↔ sandbox) with the one `open` returns, on a blocking
    /// thread; the old one is closed. The worker's next round sees the new one.
    pub async fn switch_store<F>(&self, open: F) -> Result<(), CommandError>
    where
        F: FnOnce(&StorePaths) -> Result<DeviceStore, gocua_core::Error> + Send + 'static,
    {
        let (store, paths) = (Arc::clone(&self.store), Arc::clone(&self.paths));
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| CommandError::new("internal", "store lock poisoned"))?;
            // close the old connection first: a sandbox reset deletes and re-creates its file
            *guard = DeviceStore::open_in_memory()?;
            *guard = open(&paths)?;
            Ok(())
        })
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
    }

    /// Runs a write and then nudges the worker to sync soon.
    pub async fn write<T, F>(&self, f: F) -> Result<T, CommandError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DeviceStore) -> Result<T, gocua_core::Error> + Send + 'static,
    {
        let out = self.with_store(f).await?;
        self.sync.nudge();
        Ok(out)
    }
}
