//! The office's "Bản ghi có thể trùng" screen: every pair of records that may be one person (the
//! same CCCD, or the same name and birth year in a hamlet; typically one typed on the spot and
//! one an import brought), merged as a `residents_merged.v1` event that every phone applies, or
//! marked as two different people.

use gocua_core::event::{Payload, ResidentsMerged};
use gocua_core::store::duplicates::DuplicatePair;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// The pairs, same CCCD first.
#[tauri::command]
pub async fn duplicate_pairs(state: State<'_, AppState>) -> Result<Vec<DuplicatePair>, CommandError> {
    state.with_store(|s| Ok(super::office::authorize(s))).await??;
    state.with_store(|s| s.duplicate_pairs()).await
}

/// Merges `merged` into `kept`, offline; returns the pairs left.
#[tauri::command]
pub async fn merge_residents(
    state: State<'_, AppState>,
    kept: Uuid,
    merged: Uuid,
) -> Result<Vec<DuplicatePair>, CommandError> {
    state.with_store(|s| Ok(super::office::authorize(s))).await??;
    state
        .write(move |s| {
            s.record(Payload::ResidentsMerged(ResidentsMerged { kept, merged }))?;
            s.duplicate_pairs()
        })
        .await
}

/// Marks the two as different people; returns the pairs left.
#[tauri::command]
pub async fn mark_not_duplicates(
    state: State<'_, AppState>,
    one: Uuid,
    other: Uuid,
) -> Result<Vec<DuplicatePair>, CommandError> {
    state.with_store(|s| Ok(super::office::authorize(s))).await??;
    state
        .write(move |s| {
            s.mark_not_duplicates(one, other)?;
            s.duplicate_pairs()
        })
        .await
}
