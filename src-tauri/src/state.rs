//! The one managed state: the device store and the sync worker's handle.

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
