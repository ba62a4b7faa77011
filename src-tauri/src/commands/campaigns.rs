//! Peak campaigns: what the running one asks of this device's user and their hamlets, with the
//! people they guided ("PL danh sách hướng dẫn"), on every device; and, for the office, setting a
//! campaign's window, targets and quotas, recorded offline as `campaign_set.v1`.

use chrono::NaiveDate;
use gocua_core::event::{CampaignSet, Payload};
use gocua_core::reducer::campaign_place_errors;
use gocua_core::sql::projection::SqlView;
use gocua_core::store::campaigns::CampaignView;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// The campaign to show on the phone's calendar `date` (YYYY-MM-DD, its clock
/// `utc_offset_minutes` east of UTC) with its progress; `null` when none reached this device.
#[tauri::command]
pub async fn campaign_view(
    state: State<'_, AppState>,
    date: NaiveDate,
    utc_offset_minutes: i32,
) -> Result<Option<CampaignView>, CommandError> {
    state.with_store(move |s| s.campaign_view(date, utc_offset_minutes)).await
}

/// Records the office's plan for a campaign (under a new id when `new_campaign`); returns
/// the campaign as shown on `date`.
#[tauri::command]
pub async fn campaign_save(
    state: State<'_, AppState>,
    mut plan: CampaignSet,
    new_campaign: bool,
    date: NaiveDate,
    utc_offset_minutes: i32,
) -> Result<Option<CampaignView>, CommandError> {
    state.with_store(|s| Ok(super::office::authorize(s))).await??;
    if new_campaign {
        plan.campaign_id = Uuid::now_v7();
    }
    state
        .write(move |s| {
            let errors = campaign_place_errors(&SqlView::new(s.connection()), &plan)?;
            if !errors.is_empty() {
                return Err(gocua_core::Error::Invalid(errors));
            }
            s.record(Payload::CampaignSet(plan))?;
            s.campaign_view(date, utc_offset_minutes)
        })
        .await
}
