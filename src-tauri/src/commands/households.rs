//! Households: hamlets, search, detail, create and survey.

use gocua_core::event::HouseholdSurveyed;
use gocua_core::forms::{HouseholdDetail, NewHousehold};
use gocua_core::places::Place;
use gocua_core::store::{HouseholdQuery, HouseholdSummary};
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// The hamlets of the device's scope.
#[tauri::command]
pub async fn list_hamlets(state: State<'_, AppState>) -> Result<Vec<Place>, CommandError> {
    state.with_store(|s| s.hamlets()).await
}

/// Searches households (diacritic-insensitive), optionally by hamlet and status.
#[tauri::command]
pub async fn search_households(
    state: State<'_, AppState>,
    query: HouseholdQuery,
) -> Result<Vec<HouseholdSummary>, CommandError> {
    state.with_store(move |s| s.households(&query)).await
}

/// One household with its residents.
#[tauri::command]
pub async fn get_household(state: State<'_, AppState>, id: Uuid) -> Result<HouseholdDetail, CommandError> {
    state.with_store(move |s| s.household_detail(id)).await
}

/// Creates a household; returns its id.
#[tauri::command]
pub async fn create_household(state: State<'_, AppState>, form: NewHousehold) -> Result<Uuid, CommandError> {
    state.write(move |s| s.create_household(form)).await
}

/// Records a household's survey answers.
#[tauri::command]
pub async fn survey_household(state: State<'_, AppState>, survey: HouseholdSurveyed) -> Result<(), CommandError> {
    state.write(move |s| s.survey_household(survey)).await
}
