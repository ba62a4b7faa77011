//! The app lock's commands: set the PIN, change it, unlock with it, lock now (the UI's idle
//! timer).

use chrono::Utc;
use tauri::State;

use crate::applock::{self, PinError, PinRecord};
use crate::error::CommandError;
use crate::state::AppState;
use crate::views::AppInfo;

impl From<PinError> for CommandError {
    fn from(e: PinError) -> Self {
        let kind = match e {
            PinError::Format | PinError::Mismatch | PinError::Unchanged => "invalid_pin",
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
/// script): `confirm` must repeat it. A PIN that is set is changed with [`change_pin`].
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

/// Changes the PIN of the unlocked app: `current_pin` is checked as unlocking checks it (a
/// wrong one counts towards the wait, in the key store), and `new_pin`, repeated in `confirm`,
/// replaces the record. The new PIN's shape is checked first, so a typing slip costs no try.
#[tauri::command]
pub async fn change_pin(
    state: State<'_, AppState>,
    current_pin: String,
    new_pin: String,
    confirm: String,
) -> Result<AppInfo, CommandError> {
    change_pin_with(&state, &current_pin, &new_pin, &confirm).await?;
    super::enrollment::app_info(state).await
}

/// The body of [`change_pin`].
pub async fn change_pin_with(state: &AppState, current: &str, pin: &str, confirm: &str) -> Result<(), CommandError> {
    if state.lock.is_locked() {
        return Err(crate::state::locked());
    }
    if !state.lock.has_pin() {
        return Err(CommandError::new("invalid_pin", "Máy chưa có mã PIN / This device has no PIN yet"));
    }
    applock::check_format(pin)?;
    if pin != confirm {
        return Err(PinError::Mismatch.into());
    }
    if pin == current {
        return Err(PinError::Unchanged.into());
    }
    let (current, pin) = (current.to_owned(), pin.to_owned());
    let (paths, vault, lock) = (state.paths.clone(), state.vault.clone(), state.lock.clone());
    tauri::async_runtime::spawn_blocking(move || {
        lock.one_check_at_a_time(|| {
            let mut record = applock::load_record(vault.as_ref(), &paths.real)
                .map_err(vault_error)?
                .ok_or_else(|| CommandError::new("internal", "no PIN record"))?;
            if let Err(wrong) = record.check(&current, Utc::now()) {
                applock::save_record(vault.as_ref(), &paths.real, &record).map_err(vault_error)?;
                return Err(wrong.into());
            }
            let fresh = PinRecord::new(&pin)?;
            applock::save_record(vault.as_ref(), &paths.real, &fresh).map_err(vault_error)
        })
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))?
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
    tauri::async_runtime::spawn_blocking(move || crate::state::wipe_and_unlock(&store, &paths, vault.as_ref(), &lock))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applock::FREE_TRIES;
    use crate::state::{AppState, test_state};

    /// An unlocked app whose PIN is `pin`.
    async fn app_with_pin(dir: &std::path::Path, pin: &str) -> AppState {
        let state = test_state(dir);
        save_new_pin(&state, pin, pin).await.unwrap();
        state
    }

    fn record(state: &AppState) -> PinRecord {
        applock::load_record(state.vault.as_ref(), &state.paths.real).unwrap().unwrap()
    }

    /// Whether `pin` opens the app now (checked on a copy: the stored count is left alone).
    fn opens(state: &AppState, pin: &str) -> bool {
        record(state).check(pin, Utc::now()).is_ok()
    }

    #[tokio::test]
    async fn the_new_pin_replaces_the_old_once_the_current_one_is_right() {
        let dir = tempfile::tempdir().unwrap();
        let state = app_with_pin(dir.path(), "135790").await;
        change_pin_with(&state, "135790", "246801", "246801").await.unwrap();
        assert!(opens(&state, "246801"), "the new PIN unlocks");
        assert!(!opens(&state, "135790"), "the old one no longer does");
        assert!(state.lock.has_pin() && !state.lock.is_locked());

        // the lock then asks for the new one
        state.lock_now().await.unwrap();
        let mut stored = record(&state);
        assert!(stored.check("246801", Utc::now()).is_ok());
        assert_eq!(change_pin_with(&state, "246801", "111111", "111111").await.unwrap_err().kind, "locked");
    }

    #[tokio::test]
    async fn a_slip_in_the_new_pin_costs_no_try_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = app_with_pin(dir.path(), "135790").await;
        let before = record(&state);
        for (current, new, confirm, message) in [
            ("000000", "12345", "12345", "Mã PIN phải gồm đúng 6 chữ số"),
            ("000000", "24680a", "24680a", "Mã PIN phải gồm đúng 6 chữ số"),
            ("000000", "246801", "246810", "Hai lần nhập mã PIN không giống nhau"),
            ("135790", "135790", "135790", "Mã PIN mới phải khác mã PIN hiện tại"),
        ] {
            let e = change_pin_with(&state, current, new, confirm).await.unwrap_err();
            assert_eq!(e.kind, "invalid_pin", "{new}");
            assert!(e.message.starts_with(message) && e.message.contains(" / "), "{}", e.message);
        }
        assert_eq!(record(&state), before, "no try was counted, the PIN is the same");

        // a device without a PIN sets one first (set_pin); there is nothing to change
        let bare = test_state(&dir.path().join("bare"));
        let e = change_pin_with(&bare, "135790", "246801", "246801").await.unwrap_err();
        assert_eq!(e.kind, "invalid_pin");
        assert_eq!(applock::load_record(bare.vault.as_ref(), &bare.paths.real).unwrap(), None);
    }

    #[tokio::test]
    async fn a_wrong_current_pin_counts_towards_the_same_wait_as_unlocking() {
        let dir = tempfile::tempdir().unwrap();
        let state = app_with_pin(dir.path(), "135790").await;
        for left in (1..FREE_TRIES).rev() {
            let e = change_pin_with(&state, "000000", "246801", "246801").await.unwrap_err();
            assert_eq!(e.kind, "wrong_pin");
            assert!(e.message.contains(&format!("Còn {left} lần thử")), "{}", e.message);
        }
        // the fifth wrong try starts the 30 s wait, kept in the key store as unlocking keeps it
        let e = change_pin_with(&state, "000000", "246801", "246801").await.unwrap_err();
        assert_eq!(e.kind, "wrong_pin");
        assert!(e.message.contains("Chờ 30 giây"), "{}", e.message);
        assert!(record(&state).wait_seconds(Utc::now()) > 0);
        // during the wait even the right PIN is not checked, and the PIN stays
        let e = change_pin_with(&state, "135790", "246801", "246801").await.unwrap_err();
        assert_eq!(e.kind, "pin_wait");
        assert!(!opens(&state, "246801"));
        let mut stored = record(&state);
        assert!(matches!(stored.check("135790", Utc::now()), Err(PinError::Wait { .. })));
    }
}
