//! The review queue ("Cần xem lại"): households and people two edits flagged, for the police or
//! a team leader to open, correct if needed, and settle as a `review_resolved.v1` event.

use gocua_core::event::{Payload, ReviewResolved};
use gocua_core::store::DeviceStore;
use gocua_core::store::review::ReviewItem;
use gocua_core::sync::protocol::Role;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// Refused unless this device's user settles reviews (police, team leaders).
fn authorize(store: &DeviceStore) -> Result<(), CommandError> {
    let role = store.enrollment()?.ok_or(gocua_core::Error::NotEnrolled)?.role;
    if role.is_police() || role == Role::TeamLeader {
        return Ok(());
    }
    Err(CommandError::new(
        "refused",
        "Chỉ công an và tổ trưởng xử lý bản ghi cần xem lại / Only the police and team leaders settle reviews",
    ))
}

/// The flagged records.
#[tauri::command]
pub async fn review_queue(state: State<'_, AppState>) -> Result<Vec<ReviewItem>, CommandError> {
    state.with_store(|s| Ok(authorize(s))).await??;
    state.with_store(|s| s.review_queue()).await
}

/// Settles one record as seen at `base_version` (`kept` or `corrected`); returns the queue.
#[tauri::command]
pub async fn resolve_review(
    state: State<'_, AppState>,
    record_id: Uuid,
    base_version: u32,
    resolution: String,
) -> Result<Vec<ReviewItem>, CommandError> {
    state.with_store(|s| Ok(authorize(s))).await??;
    state
        .write(move |s| {
            // a visit's resolution names its person, where the event belongs
            let resident_id = s
                .connection()
                .query_row("SELECT resident_id FROM visits WHERE id = ?1", [record_id.to_string()], |r| {
                    r.get::<_, String>(0)
                })
                .ok()
                .and_then(|id| Uuid::parse_str(&id).ok());
            s.record(Payload::ReviewResolved(ReviewResolved { record_id, base_version, resolution, resident_id }))?;
            s.review_queue()
        })
        .await
}
