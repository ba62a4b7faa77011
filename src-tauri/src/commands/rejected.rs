//! The "Bản ghi bị từ chối" screen: the records the server rejected, with its reasons; each is
//! corrected and sent again, sent again unchanged, or given up. Every action answers the list
//! as it is then.

use gocua_core::event::Payload;
use gocua_core::store::rejected::RejectedRecord;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// The records the server rejected that wait for the volunteer, oldest first.
#[tauri::command]
pub async fn list_rejected(state: State<'_, AppState>) -> Result<Vec<RejectedRecord>, CommandError> {
    list(&state).await
}

/// Sends a rejected record again with the volunteer's corrections: `payload` is the rejected
/// one's (same kind, same household or person) with the corrected fields. Refused with field
/// errors when the phone's own rules say no; then nothing changes.
#[tauri::command]
pub async fn resend_rejected(
    state: State<'_, AppState>,
    event_id: Uuid,
    payload: Payload,
) -> Result<Vec<RejectedRecord>, CommandError> {
    resend(&state, event_id, Some(payload)).await
}

/// Sends a rejected record again as it was (its household or person has been sent again since).
#[tauri::command]
pub async fn resend_unchanged(state: State<'_, AppState>, event_id: Uuid) -> Result<Vec<RejectedRecord>, CommandError> {
    resend(&state, event_id, None).await
}

/// Gives a rejected record up: nothing is sent, it leaves the list.
#[tauri::command]
pub async fn discard_rejected(state: State<'_, AppState>, event_id: Uuid) -> Result<Vec<RejectedRecord>, CommandError> {
    discard(&state, event_id).await
}

async fn list(state: &AppState) -> Result<Vec<RejectedRecord>, CommandError> {
    state.with_store(|s| s.rejected_records()).await
}

async fn discard(state: &AppState, event_id: Uuid) -> Result<Vec<RejectedRecord>, CommandError> {
    state
        .with_store(move |s| {
            s.discard_rejected(event_id)?;
            s.rejected_records()
        })
        .await
}

/// Records the corrected (or, without `payload`, the same) record anew; the worker is nudged
/// to send it.
async fn resend(
    state: &AppState,
    event_id: Uuid,
    payload: Option<Payload>,
) -> Result<Vec<RejectedRecord>, CommandError> {
    state
        .write(move |s| {
            match payload {
                Some(payload) => s.resend_rejected(event_id, payload)?,
                None => s.resend_unchanged(event_id)?,
            };
            s.rejected_records()
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use gocua_core::event::{HouseholdCreated, ResidentAdded, ResidentFields};
    use gocua_core::fixtures;
    use gocua_core::model::Sex;
    use gocua_core::sync::protocol::{EventResult, EventStatus, PushResponse};
    use gocua_core::validate::FieldError;

    /// An enrolled app whose household (with one person) the server rejected: the household
    /// for its address, the person for their unknown household.
    async fn rejected_household(dir: &std::path::Path) -> (AppState, Uuid, Uuid) {
        let state = crate::state::test_state(dir);
        let (home, lan) = (Uuid::now_v7(), Uuid::now_v7());
        state
            .with_store(move |s| {
                let response = fixtures::enroll_response(s);
                s.save_enrollment("http://127.0.0.1:9/", &response)?;
                s.record(Payload::HouseholdCreated(HouseholdCreated {
                    household_id: home,
                    hamlet_code: "03445-01".into(),
                    address: "?".into(),
                    head_name: "Lò Văn Páo".into(),
                }))?;
                s.record(Payload::ResidentAdded(ResidentAdded {
                    resident_id: lan,
                    household_id: home,
                    fields: ResidentFields {
                        full_name: "Lò Thị Lan".into(),
                        birth_year: 1990,
                        sex: Sex::Female,
                        cccd: None,
                        phone: None,
                    },
                }))?;
                let batch = s.outbox_batch(10, usize::MAX)?;
                let errors = [
                    FieldError::new("address", "address_unclear", "Địa chỉ chưa rõ.", "The address is unclear."),
                    FieldError::new(
                        "household_id",
                        "unknown_household",
                        "Không tìm thấy hộ này.",
                        "Unknown household.",
                    ),
                ];
                let results = batch
                    .iter()
                    .zip(errors)
                    .map(|(e, error)| EventResult {
                        seq: e.seq,
                        event_id: Some(e.id),
                        status: EventStatus::Rejected,
                        errors: vec![error],
                        flags: vec![],
                        server_seq: None,
                    })
                    .collect();
                s.apply_push_response(&PushResponse { last_seq: 2, results, applied: vec![], expected_seq: None })?;
                Ok(())
            })
            .await
            .unwrap();
        (state, home, lan)
    }

    #[tokio::test]
    async fn a_correction_is_sent_again_and_the_list_answered_is_shorter() {
        let dir = tempfile::tempdir().unwrap();
        let (state, home, lan) = rejected_household(dir.path()).await;
        let listed = list(&state).await.unwrap();
        assert_eq!(
            listed.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
            ["household_created.v1", "resident_added.v1"]
        );
        assert_eq!(listed[0].errors[0].code, "address_unclear");
        assert_eq!(listed[1].waits_for, Some(listed[0].event_id));

        // the UI sends the rejected payload with the corrected fields put over it
        let mut corrected = listed[0].payload.clone();
        corrected["address"] = "Số 12, Bản Nậm Củm".into();
        let payload: Payload = serde_json::from_value(corrected).unwrap();
        let left = resend(&state, listed[0].event_id, Some(payload)).await.unwrap();
        assert_eq!(left.iter().map(|r| (r.event_id, r.waits_for)).collect::<Vec<_>>(), [(listed[1].event_id, None)]);
        let left = resend(&state, listed[1].event_id, None).await.unwrap();
        assert!(left.is_empty());

        let (status, held) =
            state.with_store(move |s| Ok((s.sync_status()?, s.household_detail(home)?))).await.unwrap();
        assert_eq!((status.unsent, status.rejected), (2, 0));
        assert_eq!(held.household.address, "Số 12, Bản Nậm Củm");
        assert_eq!(held.residents.iter().map(|r| r.id).collect::<Vec<_>>(), [lan]);
    }

    #[tokio::test]
    async fn a_correction_the_phone_refuses_answers_field_errors_and_a_discard_empties_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let (state, _, _) = rejected_household(dir.path()).await;
        let listed = list(&state).await.unwrap();
        let mut corrected = listed[0].payload.clone();
        corrected["head_name"] = "".into();
        let payload: Payload = serde_json::from_value(corrected).unwrap();
        let refused = resend(&state, listed[0].event_id, Some(payload)).await.unwrap_err();
        assert_eq!(refused.kind, "invalid");
        assert_eq!(refused.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["head_name"]);
        // a person cannot go before their household
        let early = resend(&state, listed[1].event_id, None).await.unwrap_err();
        assert_eq!((early.kind.as_str(), early.fields[0].code.as_str()), ("invalid", "unknown_household"));

        assert_eq!(discard(&state, listed[0].event_id).await.unwrap().len(), 1);
        assert!(discard(&state, listed[1].event_id).await.unwrap().is_empty());
        let again = discard(&state, listed[0].event_id).await.unwrap_err();
        assert_eq!(again.kind, "invalid");
        assert!(again.message.starts_with("Bản ghi này đã được"), "{}", again.message);
        let rejected = state.with_store(|s| s.sync_status()).await.unwrap().rejected;
        assert_eq!(rejected, 0);
    }
}
