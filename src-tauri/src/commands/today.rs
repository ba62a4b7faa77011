//! The volunteer's day (quota progress, follow-ups due, unsent count) and the team leader's
//! view of the team.

use chrono::NaiveDate;
use gocua_core::store::team::TeamView;
use gocua_core::store::today::TodayView;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// The day's screen for the phone's calendar `date` (YYYY-MM-DD), its clock
/// `utc_offset_minutes` east of UTC (420 in Vietnam).
#[tauri::command]
pub async fn get_today(
    state: State<'_, AppState>,
    date: NaiveDate,
    utc_offset_minutes: i32,
) -> Result<TodayView, CommandError> {
    state.with_store(move |s| s.today(date, utc_offset_minutes)).await
}

/// Sets the day's quota the team leader gave (1–1000), or clears it with `null`.
#[tauri::command]
pub async fn set_daily_quota(state: State<'_, AppState>, quota: Option<u32>) -> Result<(), CommandError> {
    state.with_store(move |s| s.set_daily_quota(quota)).await
}

/// The team's progress on the phone's calendar `date`: each person against the daily quota,
/// those behind first.
#[tauri::command]
pub async fn get_team(
    state: State<'_, AppState>,
    date: NaiveDate,
    utc_offset_minutes: i32,
) -> Result<TeamView, CommandError> {
    state.with_store(move |s| s.team(date, utc_offset_minutes)).await
}
