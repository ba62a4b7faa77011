//! Residents and visits: add a person, see them, record a visit outcome, the reason list.

use gocua_core::forms::{NewResident, NewVisit, ResidentDetail};
use gocua_core::reasons::Reason;
use gocua_core::store::duplicates::DuplicateHint;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// Adds a person to a household; returns their id.
#[tauri::command]
pub async fn add_resident(state: State<'_, AppState>, form: NewResident) -> Result<Uuid, CommandError> {
    state.write(move |s| s.add_resident(form)).await
}

/// People held who may be the one being added (the same CCCD anywhere, the same name and birth
/// year in the hamlet): a warning before saving, never a refusal.
#[tauri::command]
pub async fn find_duplicates(
    state: State<'_, AppState>,
    household_id: Uuid,
    full_name: String,
    birth_year: i32,
    cccd: Option<String>,
) -> Result<Vec<DuplicateHint>, CommandError> {
    state.with_store(move |s| s.likely_duplicates(household_id, &full_name, birth_year, cccd.as_deref())).await
}

/// One person with their visits.
#[tauri::command]
pub async fn get_resident(state: State<'_, AppState>, id: Uuid) -> Result<ResidentDetail, CommandError> {
    state.with_store(move |s| s.resident_detail(id)).await
}

/// Records a visit outcome, with the phone's position when the volunteer let the form ask for
/// it (`NewVisit::position`, optional); returns the visit's id.
#[tauri::command]
pub async fn record_visit(state: State<'_, AppState>, form: NewVisit) -> Result<Uuid, CommandError> {
    state.write(move |s| s.record_visit(form)).await
}

/// The cannot-activate reasons, in display order (data from the server, not code).
#[tauri::command]
pub async fn list_reasons(state: State<'_, AppState>) -> Result<Vec<Reason>, CommandError> {
    state.with_store(|s| Ok(s.reasons()?.all().to_vec())).await
}
