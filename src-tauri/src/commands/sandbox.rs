//! Training mode: the trainer's sandbox of made-up data, entered, reset in one tap and left.
//! That it never syncs is enforced by the store (`DeviceStore::refuse_in_sandbox`), not here.

use chrono::NaiveDate;
use gocua_core::store::DeviceStore;
use tauri::State;

use crate::error::CommandError;
use crate::state::{AppState, open_real_store};
use crate::views::AppInfo;

/// A seed for each fresh sandbox, so two resets do not look alike.
fn fresh_seed() -> u64 {
    chrono::Utc::now().timestamp_micros().unsigned_abs()
}

/// Switches to the sandbox, making it on first use; `today` (the phone's date) places the
/// sample's follow-ups.
#[tauri::command]
pub async fn enter_sandbox(state: State<'_, AppState>, today: NaiveDate) -> Result<AppInfo, CommandError> {
    state
        .switch_store(move |paths, _| {
            if paths.sandbox.exists() {
                let store = DeviceStore::open(&paths.sandbox)?;
                if store.is_sandbox()? {
                    return Ok(store);
                }
            }
            DeviceStore::create_sandbox(&paths.sandbox, fresh_seed(), today)
        })
        .await?;
    state.sync.nudge();
    super::enrollment::app_info(state).await
}

/// Throws the sandbox away and makes a new one ("Làm lại dữ liệu mẫu"); only in training mode.
#[tauri::command]
pub async fn reset_sandbox(state: State<'_, AppState>, today: NaiveDate) -> Result<AppInfo, CommandError> {
    if !state.with_store(|s| s.is_sandbox()).await? {
        return Err(CommandError::new(
            "invalid",
            "Chỉ làm lại được dữ liệu tập huấn / Only training data can be reset",
        ));
    }
    state.switch_store(move |paths, _| DeviceStore::create_sandbox(&paths.sandbox, fresh_seed(), today)).await?;
    super::enrollment::app_info(state).await
}

/// Back to the real data.
#[tauri::command]
pub async fn leave_sandbox(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    state.switch_store(|paths, vault| open_real_store(&paths.real, vault)).await?;
    state.sync.nudge();
    super::enrollment::app_info(state).await
}
