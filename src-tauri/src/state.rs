//! The one managed state: the device store and the sync worker's handle.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use gocua_core::store::DeviceStore;

use crate::applock::AppLock;
use crate::error::CommandError;
use crate::keyvault::{KeyVault, key_name};
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
    /// The OS key store holding the real database's key.
    pub vault: Arc<dyn KeyVault>,
    /// The app lock: while locked, the database is closed and every command but unlocking is
    /// refused.
    pub lock: Arc<AppLock>,
}

/// Opens the real (encrypted) database with its key from `vault`, making the key on first use.
/// A plaintext database from an older app is encrypted in place.
pub fn open_real_store(path: &std::path::Path, vault: &dyn KeyVault) -> Result<DeviceStore, gocua_core::Error> {
    let (key, new) =
        vault.load_or_create(&key_name(path)).map_err(|e| gocua_core::Error::invalid_input(e.to_string()))?;
    match DeviceStore::open_encrypted(path, &key) {
        Err(gocua_core::Error::WrongKey) if new => Err(gocua_core::Error::invalid_input(
            "Khoá của cơ sở dữ liệu đã mất khỏi kho khoá: không mở được dữ liệu cũ / the database key is \
             gone from the key store: the existing data cannot be opened",
        )),
        other => other,
    }
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

/// Erases a revoked device: closes the open database, deletes the real database's files and
/// its key (without the key, a copy of the file taken earlier cannot be read either), its PIN
/// record and its revocation probe, and opens a new empty database under a new key, so the app
/// is back at the enrollment screen. A sandbox open at the time stays open (it holds only
/// made-up data). Exported bundles are left where the user saved them: they are sealed to the
/// server's key, so they tell a finder nothing.
pub fn wipe_real_store(
    store: &Mutex<DeviceStore>,
    paths: &StorePaths,
    vault: &dyn KeyVault,
) -> Result<(), gocua_core::Error> {
    let mut guard = store.lock().map_err(|_| gocua_core::Error::invalid_input("store lock poisoned"))?;
    let in_sandbox = guard.is_sandbox()?;
    if !in_sandbox {
        *guard = DeviceStore::open_in_memory()?;
    }
    vault.delete(&key_name(&paths.real)).map_err(|e| gocua_core::Error::invalid_input(e.to_string()))?;
    crate::applock::delete_record(vault, &paths.real).map_err(|e| gocua_core::Error::invalid_input(e.to_string()))?;
    gocua_core::store::cipher::delete_database(&paths.real)?;
    // last: while anything above is left, the locked app's next check finds it revoked again
    crate::revocation::delete_probe(vault, &paths.real).map_err(|e| gocua_core::Error::invalid_input(e.to_string()))?;
    if !in_sandbox {
        *guard = open_real_store(&paths.real, vault)?;
    }
    Ok(())
}

/// [`wipe_real_store`], then lifts the lock: no PIN is left to unlock with, and the app shows
/// the enrollment screen (a revocation learned while locked, or a forgotten PIN).
pub fn wipe_and_unlock(
    store: &Mutex<DeviceStore>,
    paths: &StorePaths,
    vault: &dyn KeyVault,
    lock: &AppLock,
) -> Result<(), gocua_core::Error> {
    wipe_real_store(store, paths, vault)?;
    lock.set_has_pin(false);
    lock.set_unlocked();
    Ok(())
}

impl AppState {
    /// Runs a store operation on a blocking thread (never on the UI's async executor).
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, CommandError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DeviceStore) -> Result<T, gocua_core::Error> + Send + 'static,
    {
        let (store, lock) = (Arc::clone(&self.store), Arc::clone(&self.lock));
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| CommandError::new("internal", "store lock poisoned"))?;
            // IMPORTANT: checked under the store's mutex, which locking takes to close the
            // database: no command runs on it once the lock is on
            if lock.is_locked() {
                return Err(locked());
            }
            f(&mut guard).map_err(CommandError::from)
        })
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
    }

    /// Replaces the open database (real ↔ sandbox) with the one `open` returns, on a blocking
    /// thread; the old one is closed. The worker's next round sees the new one.
    pub async fn switch_store<F>(&self, open: F) -> Result<(), CommandError>
    where
        F: FnOnce(&StorePaths, &dyn KeyVault) -> Result<DeviceStore, gocua_core::Error> + Send + 'static,
    {
        let (store, paths, vault, lock) =
            (Arc::clone(&self.store), Arc::clone(&self.paths), Arc::clone(&self.vault), Arc::clone(&self.lock));
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| CommandError::new("internal", "store lock poisoned"))?;
            if lock.is_locked() {
                return Err(locked());
            }
            // close the old connection first: a sandbox reset deletes and re-creates its file
            *guard = DeviceStore::open_in_memory()?;
            *guard = open(&paths, vault.as_ref())?;
            Ok(())
        })
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
    }

    /// Locks the app: closes the open database (real or sandbox), so its key leaves memory.
    /// Without a PIN there is nothing to unlock with, and nothing happens.
    pub async fn lock_now(&self) -> Result<(), CommandError> {
        if !self.lock.has_pin() || self.lock.is_locked() {
            return Ok(());
        }
        let (store, lock) = (Arc::clone(&self.store), Arc::clone(&self.lock));
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| CommandError::new("internal", "store lock poisoned"))?;
            let sandbox = guard.is_sandbox().unwrap_or(false);
            lock.set_locked(sandbox);
            *guard = DeviceStore::open_in_memory()?;
            Ok(())
        })
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
    }

    /// Reopens what was open when the app locked, and lifts the lock (the PIN was checked).
    pub async fn reopen_after_unlock(&self) -> Result<(), CommandError> {
        let (store, lock, paths, vault) =
            (Arc::clone(&self.store), Arc::clone(&self.lock), Arc::clone(&self.paths), Arc::clone(&self.vault));
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store.lock().map_err(|_| CommandError::new("internal", "store lock poisoned"))?;
            if !lock.is_locked() {
                return Ok(());
            }
            let sandbox = lock.reopens_sandbox() && paths.sandbox.exists();
            *guard = if sandbox {
                DeviceStore::open(&paths.sandbox)?
            } else {
                open_real_store(&paths.real, vault.as_ref())?
            };
            lock.set_unlocked();
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

/// An app on a new encrypted database in `dir`, its key in a vault in memory, with no PIN, no
/// worker and no enrollment: what the commands' tests start from.
#[cfg(test)]
pub fn test_state(dir: &std::path::Path) -> AppState {
    std::fs::create_dir_all(dir).expect("the test's folder");
    let paths = StorePaths::beside(dir.join("gocua.sqlite"));
    let vault: Arc<dyn KeyVault> = Arc::new(crate::keyvault::MemoryVault::default());
    let store = open_real_store(&paths.real, vault.as_ref()).expect("a new encrypted database");
    AppState {
        store: Arc::new(Mutex::new(store)),
        sync: SyncHandle::detached(),
        paths: Arc::new(paths),
        vault,
        lock: Arc::new(AppLock::new(false)),
    }
}

/// The error every command but unlocking answers while the app is locked.
pub fn locked() -> CommandError {
    CommandError::new("locked", "Ứng dụng đang khoá: nhập mã PIN để mở / The app is locked: enter the PIN to open it")
}
