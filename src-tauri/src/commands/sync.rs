//! The sync bar: status, "Đồng bộ ngay", and records the server rejected.

use gocua_core::store::RejectedEvent;
use tauri::State;
use tokio::time::Instant;

use crate::error::CommandError;
use crate::state::AppState;
use crate::views::SyncView;

/// Counts from the store plus what the worker is doing.
#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncView, CommandError> {
    let counts = state.with_store(|s| s.sync_status()).await?;
    let worker = state.sync.status();
    let now = Instant::now();
    Ok(SyncView {
        phase: worker.phase,
        unsent: counts.unsent,
        rejected: counts.rejected,
        last_success: counts.last_success,
        progress: worker.progress,
        message: worker.message,
        next_retry_secs: worker.next_round.map(|t| t.saturating_duration_since(now).as_secs()),
    })
}

/// Starts a round now; progress shows in [`sync_status`].
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.sync.nudge();
    Ok(())
}

/// Local records the server rejected, with reasons.
#[tauri::command]
pub async fn list_rejected(state: State<'_, AppState>) -> Result<Vec<RejectedEvent>, CommandError> {
    state.with_store(|s| s.rejected_events()).await
}
