//! The app lock's commands: set the PIN, unlock with it, lock now (the UI's idle timer).

use chrono::Utc;
use tauri::State;

use crate::applock::{self, PinError, PinRecord};
use crate::error::CommandError;
use crate::state::AppState;
use crate::views::AppInfo;

impl From<PinError> for CommandError {
    fn from(e: PinError) -> Self {
        let kind = match e {
            PinError::Format | PinError::Mismatch => "invalid_pin",
            PinError::Wrong { .. } => "wrong_pin",
            PinError::Wait { .. } => "pin_wait",
        };
        CommandError::new(kind, e.to_string())
    }
}

fn vault_error(e: crate::keyvault::VaultError) -> CommandError {
    CommandError::new("internal", e.to_string())
}

/// Sets the PIN of a device that has none yet (enrolled by an older app, or by the run
/// script): `confirm` must repeat it. Changing a PIN that is set is not offered here.
#[tauri::command]
pub async fn set_pin(state: State<'_, AppState>, pin: String, confirm: String) -> Result<AppInfo, CommandError> {
    if state.lock.is_locked() {
        return Err(crate::state::locked());
    }
    if state.lock.has_pin() {
        return Err(CommandError::new("invalid_pin", "Máy đã có mã PIN / This device already has a PIN"));
    }
    save_new_pin(&state, &pin, &confirm).await?;
    super::enrollment::app_info(state).await
}

/// Hashes and files a new PIN (Argon2 runs on a blocking thread).
pub async fn save_new_pin(state: &AppState, pin: &str, confirm: &str) -> Result<(), CommandError> {
    applock::check_format(pin)?;
    if pin != confirm {
        return Err(PinError::Mismatch.into());
    }
    let (pin, paths, vault) = (pin.to_owned(), state.paths.clone(), state.vault.clone());
    tauri::async_runtime::spawn_blocking(move || {
        let record = PinRecord::new(&pin)?;
        applock::save_record(vault.as_ref(), &paths.real, &record).map_err(vault_error)
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))??;
    state.lock.set_has_pin(true);
    Ok(())
}

/// Checks the PIN and, when right, reopens the database. Every try counts, in the key store,
/// so neither a restart nor a second window resets the wait.
#[tauri::command]
pub async fn unlock(state: State<'_, AppState>, pin: String) -> Result<AppInfo, CommandError> {
    if state.lock.is_locked() {
        let (paths, vault, lock) = (state.paths.clone(), state.vault.clone(), state.lock.clone());
        tauri::async_runtime::spawn_blocking(move || {
            lock.one_check_at_a_time(|| {
                let mut record = applock::load_record(vault.as_ref(), &paths.real)
                    .map_err(vault_error)?
                    .ok_or_else(|| CommandError::new("internal", "no PIN record"))?;
                let checked = record.check(&pin, Utc::now());
                applock::save_record(vault.as_ref(), &paths.real, &record).map_err(vault_error)?;
                checked.map_err(CommandError::from)
            })
        })
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))??;
        state.reopen_after_unlock().await?;
        state.sync.nudge();
    }
    super::enrollment::app_info(state).await
}

/// A forgotten PIN: erases this device's real data, its key and its PIN (as a revocation
/// does), so it can be enrolled again. Records not yet sent are lost, which the screen says
/// before asking. Allowed while locked: it reveals nothing, and a finder gains nothing by it.
#[tauri::command]
pub async fn wipe_forgotten(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let (store, paths, vault, lock) =
        (state.store.clone(), state.paths.clone(), state.vault.clone(), state.lock.clone());
    tauri::async_runtime::spawn_blocking(move || {
        crate::state::wipe_real_store(&store, &paths, vault.as_ref())?;
        lock.set_has_pin(false);
        lock.set_unlocked();
        Ok::<_, gocua_core::Error>(())
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))??;
    super::enrollment::app_info(state).await
}

/// Locks the app now (after idle, or the lock button). A list previewed for import is personal
/// data held in memory: it goes with the lock, and the officer previews again after unlocking.
#[tauri::command]
pub async fn lock_app(
    state: State<'_, AppState>,
    imports: State<'_, super::import::ImportState>,
) -> Result<AppInfo, CommandError> {
    imports.forget();
    state.lock_now().await?;
    super::enrollment::app_info(state).await
}
