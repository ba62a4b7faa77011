//! Drafts of forms being filled in, so an app ended in the background reopens with what was typed.

use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// Saves the draft of a form (`key` names the form and its record).
#[tauri::command]
pub async fn save_draft(state: State<'_, AppState>, key: String, value: String) -> Result<(), CommandError> {
    state.with_store(move |s| s.save_draft(&key, &value)).await
}

/// The draft of a form, if one was saved.
#[tauri::command]
pub async fn load_draft(state: State<'_, AppState>, key: String) -> Result<Option<String>, CommandError> {
    state.with_store(move |s| s.draft(&key)).await
}

/// Forgets a form's draft (saved or abandoned).
#[tauri::command]
pub async fn clear_draft(state: State<'_, AppState>, key: String) -> Result<(), CommandError> {
    state.with_store(move |s| s.clear_draft(&key)).await
}
