//! The office's spot-check screen ("Kiểm tra xác suất"): draw a sample of the volunteers'
//! claimed activations (stratified per volunteer, the officer's rate, 10 % unless they say), and
//! record what the national system showed for each, offline, as `claim_checked.v1` events.

use gocua_core::event::{ClaimChecked, Payload};
use gocua_core::spotcheck::CheckOutcome;
use gocua_core::store::spotcheck::SpotCheckView;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// The latest sample and where its checking stands; `None` before the first draw.
#[tauri::command]
pub async fn spot_check_current(state: State<'_, AppState>) -> Result<Option<SpotCheckView>, CommandError> {
    state.with_store(|s| Ok(super::office::authorize(s))).await??;
    state.with_store(|s| s.spot_check()).await
}

/// Draws a new sample of `percent` of each volunteer's claims.
#[tauri::command]
pub async fn spot_check_draw(state: State<'_, AppState>, percent: u32) -> Result<Option<SpotCheckView>, CommandError> {
    state.with_store(|s| Ok(super::office::authorize(s))).await??;
    state
        .with_store(move |s| {
            s.draw_spot_check(percent)?;
            s.spot_check()
        })
        .await
}

/// Records what the check of one claim found (replacing an earlier finding about it).
#[tauri::command]
pub async fn spot_check_record(
    state: State<'_, AppState>,
    resident_id: Uuid,
    visit_id: Uuid,
    outcome: CheckOutcome,
) -> Result<Option<SpotCheckView>, CommandError> {
    state.with_store(|s| Ok(super::office::authorize(s))).await??;
    state
        .write(move |s| {
            s.record(Payload::ClaimChecked(ClaimChecked { resident_id, visit_id, outcome }))?;
            s.spot_check()
        })
        .await
}
