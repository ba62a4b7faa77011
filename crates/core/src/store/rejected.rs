//! Records the server rejected, dealt with on the phone: corrected and sent again, sent again unchanged, or given up.
//!
//! A rejected event stays in the log as it was (`sync_state = 'rejected'`, with the server's
//! reasons), out of the projection. Dealing with it never edits it: a correction, or the same
//! payload sent again, is recorded as a new event (next sequence number, through the reducer and
//! into the outbox, like any record), and the rejected row only notes what replaced it in
//! `resolved_by` (the new event's id, or [`DISCARDED`]), which takes it off the list and the sync
//! bar's count. The server never applied the rejected event, so the new one may name the same
//! household, person or visit: when a household was rejected, the people and visits recorded in
//! it were rejected too (their household was unknown to the server); sending the household again
//! first, then each of them, rebuilds the chain in order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{DeviceStore, acknowledged_now, next_seq, now_seconds, record_in};
use crate::error::Error;
use crate::event::{Event, Payload};
use crate::forms::{NewHousehold, NewResident, NewVisit};
use crate::reducer::StateView;
use crate::sql::{catalog, projection::SqlView};
use crate::validate::FieldError;

/// `resolved_by` of a rejected event the volunteer gave up.
pub const DISCARDED: &str = "discarded";

/// A record the server rejected, as the phone's "Bản ghi bị từ chối" screen shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecord {
    /// The rejected event (what the actions name).
    pub event_id: Uuid,
    /// Its sequence number on this device.
    pub seq: u64,
    /// Its payload's type (`resident_added.v1`, `visit_recorded.v1`, …).
    pub kind: String,
    /// When it was recorded, by the phone's clock.
    pub recorded_at: DateTime<Utc>,
    /// Why the server refused it.
    pub errors: Vec<FieldError>,
    /// Whom it is about, when the phone knows: the person's name, or the household head's.
    pub subject: Option<String>,
    /// Its hamlet, when the phone knows.
    pub hamlet_code: Option<String>,
    /// The payload as recorded, `type` tag and ids included: a correction is this with the
    /// corrected fields put over it.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub payload: serde_json::Value,
    /// A new household's fields, to fill the household form with.
    pub household: Option<NewHousehold>,
    /// A new person's fields, to fill the person form with.
    pub resident: Option<NewResident>,
    /// A visit's fields, to fill the visit form with.
    pub visit: Option<NewVisit>,
    /// An earlier rejected record this one needs sent again first (the household or person it
    /// belongs to, which the server never received).
    pub waits_for: Option<Uuid>,
}

impl DeviceStore {
    /// The records the server rejected that wait for a person, oldest first, with what the
    /// screen shows of each.
    pub fn rejected_records(&self) -> Result<Vec<RejectedRecord>, Error> {
        let view = SqlView::new(&self.conn);
        // records created by earlier rejected events still waiting: what later ones may need
        let mut created_by: HashMap<Uuid, Uuid> = HashMap::new();
        let mut out = Vec::new();
        for rejected in self.rejected_events()? {
            let event = rejected.event;
            let needs = needed_records(&event.payload);
            let waits_for = needs.iter().find_map(|id| created_by.get(id).copied());
            if let Some(created) = created_record(&event.payload) {
                created_by.insert(created, event.id);
            }
            let (subject, hamlet_code) = self.described(&view, &event.payload)?;
            let (household, resident, visit) = prefill(&event.payload);
            out.push(RejectedRecord {
                event_id: event.id,
                seq: event.seq,
                kind: event.payload.type_name().to_owned(),
                recorded_at: event.device_time,
                errors: rejected.errors,
                subject,
                hamlet_code,
                payload: serde_json::to_value(&event.payload)?,
                household,
                resident,
                visit,
                waits_for,
            });
        }
        Ok(out)
    }

    /// Sends a rejected record again, corrected: `corrected` must be of the same kind and name
    /// the same record as the rejected event. It is recorded as a new event, validated against
    /// the phone's current state like any record (field errors refuse it and store nothing), and
    /// queued for the server; the rejected event is marked as replaced by it.
    pub fn resend_rejected(&mut self, event_id: Uuid, corrected: Payload) -> Result<Event, Error> {
        let enrollment = self.require_enrollment()?;
        let tx = self.conn.transaction()?;
        let rejected = waiting(&tx, event_id)?;
        if corrected.type_name() != rejected.payload.type_name() {
            return Err(Error::invalid_input(format!(
                "Bản sửa phải cùng loại với bản ghi bị từ chối ({}) / the correction must be a {} like the rejected record",
                rejected.payload.type_name(),
                rejected.payload.type_name()
            )));
        }
        if corrected.record_id() != rejected.payload.record_id() {
            return Err(Error::invalid_input(format!(
                "Bản sửa phải nói về cùng hộ hoặc cùng người ({}) / the correction must be about the same record ({})",
                rejected.payload.record_id(),
                rejected.payload.record_id()
            )));
        }
        let event = resend_in(&tx, &enrollment, event_id, tidy(corrected))?;
        tx.commit()?;
        Ok(event)
    }

    /// Sends a rejected record again as it was (it was rejected only because the household or
    /// person it belongs to was, and that has been sent again since): a new event with the same
    /// payload, the rejected one marked as replaced by it.
    pub fn resend_unchanged(&mut self, event_id: Uuid) -> Result<Event, Error> {
        let enrollment = self.require_enrollment()?;
        let tx = self.conn.transaction()?;
        let rejected = waiting(&tx, event_id)?;
        let event = resend_in(&tx, &enrollment, event_id, rejected.payload)?;
        tx.commit()?;
        Ok(event)
    }

    /// Gives a rejected record up: it leaves the list and the count, nothing is sent, and its
    /// row stays in the log, marked [`DISCARDED`].
    pub fn discard_rejected(&mut self, event_id: Uuid) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        waiting(&tx, event_id)?;
        resolve(&tx, event_id, DISCARDED)?;
        tx.commit()?;
        Ok(())
    }

    /// Whom `payload` is about and where, from the projection or, for a record the server never
    /// received, from the local event that created it.
    fn described(&self, view: &SqlView<'_>, payload: &Payload) -> Result<(Option<String>, Option<String>), Error> {
        match payload {
            Payload::HouseholdCreated(p) => return Ok((Some(p.head_name.clone()), Some(p.hamlet_code.clone()))),
            Payload::ResidentAdded(p) => {
                let hamlet = self.household_of(view, p.household_id)?.map(|(_, hamlet)| hamlet);
                return Ok((Some(p.fields.full_name.clone()), hamlet));
            }
            _ => {}
        }
        let record = payload.record_id();
        if let Some((name, household)) = self.resident_of(view, record)? {
            let hamlet = self.household_of(view, household)?.map(|(_, hamlet)| hamlet);
            return Ok((Some(name), hamlet));
        }
        if let Some((head, hamlet)) = self.household_of(view, record)? {
            return Ok((Some(head), Some(hamlet)));
        }
        // an assignment names a user
        let person = self
            .conn
            .query_row("SELECT name FROM people WHERE id = ?1", [record.to_string()], |r| r.get::<_, String>(0))
            .optional()?;
        Ok((person, None))
    }

    /// A person's name and household, held or only in this phone's log.
    fn resident_of(&self, view: &SqlView<'_>, id: Uuid) -> Result<Option<(String, Uuid)>, Error> {
        if let Some(r) = view.resident(id)? {
            return Ok(Some((r.full_name, r.household_id)));
        }
        Ok(self.created_locally(id, "resident_added.v1")?.and_then(|p| match p {
            Payload::ResidentAdded(p) => Some((p.fields.full_name, p.household_id)),
            _ => None,
        }))
    }

    /// A household's head and hamlet, held or only in this phone's log.
    fn household_of(&self, view: &SqlView<'_>, id: Uuid) -> Result<Option<(String, String)>, Error> {
        if let Some(h) = view.household(id)? {
            return Ok(Some((h.head_name, h.hamlet_code)));
        }
        Ok(self.created_locally(id, "household_created.v1")?.and_then(|p| match p {
            Payload::HouseholdCreated(p) => Some((p.head_name, p.hamlet_code)),
            _ => None,
        }))
    }

    /// The latest local event of type `kind` that created record `id`.
    fn created_locally(&self, id: Uuid, kind: &str) -> Result<Option<Payload>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT payload FROM events WHERE origin = 'local' AND type = ?1 AND instr(payload, ?2) > 0
             ORDER BY seq DESC",
        )?;
        let rows = stmt.query_map(params![kind, id.to_string()], |r| r.get::<_, String>(0))?;
        for payload in rows {
            let payload: Payload = serde_json::from_str(&payload?)?;
            if created_record(&payload) == Some(id) {
                return Ok(Some(payload));
            }
        }
        Ok(None)
    }
}

/// The rejected event `event_id` of this device, if it still waits for a person.
fn waiting(tx: &Transaction<'_>, event_id: Uuid) -> Result<Event, Error> {
    let row = tx
        .query_row(
            "SELECT payload, id, device_id, seq, author, device_time, sync_state, resolved_by FROM events
             WHERE id = ?1 AND origin = 'local'",
            [event_id.to_string()],
            |row| Ok((super::event_from_row(row)?, row.get::<_, String>(6)?, row.get::<_, Option<String>>(7)?)),
        )
        .optional()?;
    match row {
        None => Err(Error::NotFound { what: "rejected record", id: event_id.to_string() }),
        Some((_, state, _)) if state != "rejected" => Err(Error::invalid_input(
            "Máy chủ không từ chối bản ghi này / the server did not reject this record".to_owned(),
        )),
        Some((_, _, Some(_))) => Err(Error::invalid_input(
            "Bản ghi này đã được sửa, gửi lại hoặc bỏ rồi / this record was already dealt with".to_owned(),
        )),
        Some((event, _, None)) => event,
    }
}

/// Records `payload` as this device's next event (the one path every record takes: checked
/// against masked input and the reducer, stored, queued, applied) and marks `rejected` as
/// replaced by it.
fn resend_in(
    tx: &Transaction<'_>,
    enrollment: &super::Enrollment,
    rejected: Uuid,
    payload: Payload,
) -> Result<Event, Error> {
    let reasons = catalog::reasons(tx)?;
    let seq = next_seq(tx, enrollment.device_id)?;
    let event = record_in(tx, enrollment, &reasons, payload, now_seconds(), seq)?;
    resolve(tx, rejected, &event.id.to_string())?;
    Ok(event)
}

fn resolve(tx: &Transaction<'_>, event_id: Uuid, by: &str) -> Result<(), Error> {
    tx.execute(
        "UPDATE events SET resolved_by = ?2, resolved_at = ?3 WHERE id = ?1 AND resolved_by IS NULL",
        params![event_id.to_string(), by, acknowledged_now()],
    )?;
    Ok(())
}

/// Blank optional text left out, as the forms do ([`crate::forms`]).
fn tidy(payload: Payload) -> Payload {
    fn blank_to_none(value: Option<String>) -> Option<String> {
        value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }
    match payload {
        Payload::ResidentAdded(mut p) => {
            p.fields.cccd = blank_to_none(p.fields.cccd);
            p.fields.phone = blank_to_none(p.fields.phone);
            Payload::ResidentAdded(p)
        }
        Payload::VisitRecorded(mut p) => {
            p.reason_code = blank_to_none(p.reason_code);
            p.note = blank_to_none(p.note);
            Payload::VisitRecorded(p)
        }
        other => other,
    }
}

/// The household or person an event creates.
fn created_record(payload: &Payload) -> Option<Uuid> {
    match payload {
        Payload::HouseholdCreated(p) => Some(p.household_id),
        Payload::ResidentAdded(p) => Some(p.resident_id),
        _ => None,
    }
}

/// The records an event needs to exist: the one it changes, and a new person's household.
fn needed_records(payload: &Payload) -> Vec<Uuid> {
    match payload {
        Payload::HouseholdCreated(_) => vec![],
        Payload::ResidentAdded(p) => vec![p.household_id],
        other => vec![other.record_id()],
    }
}

/// The form values a correction starts from.
fn prefill(payload: &Payload) -> (Option<NewHousehold>, Option<NewResident>, Option<NewVisit>) {
    match payload {
        Payload::HouseholdCreated(p) => (
            Some(NewHousehold {
                hamlet_code: p.hamlet_code.clone(),
                address: p.address.clone(),
                head_name: p.head_name.clone(),
            }),
            None,
            None,
        ),
        Payload::ResidentAdded(p) => {
            (None, Some(NewResident { household_id: p.household_id, fields: p.fields.clone() }), None)
        }
        Payload::VisitRecorded(p) => (
            None,
            None,
            Some(NewVisit {
                resident_id: p.resident_id,
                status: p.status,
                reason_code: p.reason_code.clone(),
                action: p.action,
                follow_up: p.follow_up,
                steps: p.steps.clone(),
                note: p.note.clone(),
                position: p.position,
            }),
        ),
        _ => (None, None, None),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::event::{HouseholdCreated, ResidentAdded, ResidentFields, VisitRecorded};
    use crate::fixtures;
    use crate::funnel::FunnelState;
    use crate::model::Sex;
    use crate::sync::protocol::{EventResult, EventStatus, PushResponse};

    fn enrolled() -> DeviceStore {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let response = fixtures::enroll_response(&store);
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        store
    }

    fn household(id: Uuid, head: &str) -> Payload {
        Payload::HouseholdCreated(HouseholdCreated {
            household_id: id,
            hamlet_code: "03445-01".into(),
            address: "Bản Nậm Củm".into(),
            head_name: head.into(),
        })
    }

    fn person(id: Uuid, household: Uuid, name: &str, year: i32) -> Payload {
        Payload::ResidentAdded(ResidentAdded {
            resident_id: id,
            household_id: household,
            fields: ResidentFields {
                full_name: name.into(),
                birth_year: year,
                sex: Sex::Female,
                cccd: None,
                phone: None,
            },
        })
    }

    fn visit(resident: Uuid, reason: Option<&str>, note: Option<&str>) -> Payload {
        Payload::VisitRecorded(VisitRecorded {
            visit_id: Uuid::now_v7(),
            resident_id: resident,
            status: FunnelState::ApprovedNotActivated,
            reason_code: reason.map(Into::into),
            action: None,
            follow_up: None,
            steps: Vec::new(),
            note: note.map(Into::into),
            position: None,
        })
    }

    /// The server's answer to everything queued: the events at `rejected` (sequence numbers)
    /// rejected with `error`, the rest applied.
    fn answer(store: &mut DeviceStore, rejected: &[u64], error: &FieldError) {
        let batch = store.outbox_batch(1000, usize::MAX).unwrap();
        let results = batch
            .iter()
            .map(|e| {
                let refused = rejected.contains(&e.seq);
                EventResult {
                    seq: e.seq,
                    event_id: Some(e.id),
                    status: if refused { EventStatus::Rejected } else { EventStatus::Applied },
                    errors: if refused { vec![error.clone()] } else { vec![] },
                    flags: vec![],
                    server_seq: None,
                }
            })
            .collect();
        let response =
            PushResponse { last_seq: batch.last().map_or(0, |e| e.seq), results, applied: vec![], expected_seq: None };
        store.apply_push_response(&response).unwrap();
    }

    fn note_required() -> FieldError {
        FieldError::new("note", "note_required", "Lý do \"Khác\" cần ghi chú cụ thể.", "Reason \"Other\" needs a note.")
    }

    fn unknown_household() -> FieldError {
        FieldError::new("household_id", "unknown_household", "Không tìm thấy hộ này.", "Unknown household.")
    }

    fn replay(store: &mut DeviceStore) {
        let tx = store.conn.transaction().unwrap();
        super::super::replay_log(&tx).unwrap();
        tx.commit().unwrap();
    }

    fn resolved_by(store: &DeviceStore, event: Uuid) -> Option<String> {
        store.conn.query_row("SELECT resolved_by FROM events WHERE id = ?1", [event.to_string()], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_corrected_record_is_queued_as_a_new_event_and_the_rejected_one_leaves_the_list() {
        let mut store = enrolled();
        let (home, lan) = (Uuid::now_v7(), Uuid::now_v7());
        store.record(household(home, "Lò Văn Páo")).unwrap();
        store.record(person(lan, home, "Lò Thị Lan", 1990)).unwrap();
        let refused = store.record(visit(lan, Some("no_smartphone"), None)).unwrap();
        answer(&mut store, &[3], &note_required());
        assert_eq!((store.sync_status().unwrap().unsent, store.sync_status().unwrap().rejected), (0, 1));

        let listed = store.rejected_records().unwrap();
        assert_eq!(listed.len(), 1);
        let record = &listed[0];
        assert_eq!((record.event_id, record.seq, record.kind.as_str()), (refused.id, 3, "visit_recorded.v1"));
        assert_eq!(record.errors, [note_required()]);
        assert_eq!((record.subject.as_deref(), record.hamlet_code.as_deref()), (Some("Lò Thị Lan"), Some("03445-01")));
        let form = record.visit.clone().unwrap();
        assert_eq!((form.resident_id, form.reason_code.as_deref(), form.note), (lan, Some("no_smartphone"), None));
        assert_eq!(record.payload["type"], "visit_recorded.v1");
        assert_eq!(record.waits_for, None);

        let Payload::VisitRecorded(mut corrected) = refused.payload.clone() else { unreachable!() };
        corrected.note = Some("  Máy của con gái, hẹn cuối tuần  ".into());
        let sent = store.resend_rejected(refused.id, Payload::VisitRecorded(corrected)).unwrap();
        assert_ne!(sent.id, refused.id);
        assert_eq!(sent.seq, 4, "the next sequence number");
        let Payload::VisitRecorded(p) = &sent.payload else { unreachable!() };
        assert_eq!(p.note.as_deref(), Some("Máy của con gái, hẹn cuối tuần"), "trimmed as the forms do");

        let queued = store.outbox_batch(100, usize::MAX).unwrap();
        assert_eq!(queued.iter().map(|e| e.id).collect::<Vec<_>>(), [sent.id], "the new event waits to be sent");
        assert!(store.rejected_records().unwrap().is_empty());
        assert!(store.rejected_events().unwrap().is_empty());
        let status = store.sync_status().unwrap();
        assert_eq!((status.unsent, status.rejected), (1, 0));
        assert_eq!(resolved_by(&store, refused.id), Some(sent.id.to_string()), "the row stays, naming its replacement");
        let visits = store.resident_detail(lan).unwrap().visits;
        assert_eq!(visits.len(), 1, "the corrected visit is shown at once");

        // dealt with once only
        let again = store.resend_unchanged(refused.id).unwrap_err();
        assert!(again.to_string().contains("đã được sửa"), "{again}");
        assert!(matches!(store.discard_rejected(refused.id), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn a_correction_of_another_kind_or_record_is_refused_and_a_reducer_error_stores_nothing() {
        let mut store = enrolled();
        let (home, lan, mai) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        store.record(household(home, "Lò Văn Páo")).unwrap();
        store.record(person(lan, home, "Lò Thị Lan", 1990)).unwrap();
        store.record(person(mai, home, "Lò Thị Mai", 1995)).unwrap();
        let refused = store.record(visit(lan, Some("no_smartphone"), None)).unwrap();
        answer(&mut store, &[4], &note_required());

        let other_person = store.resend_rejected(refused.id, visit(mai, Some("no_smartphone"), Some("x"))).unwrap_err();
        assert!(
            matches!(&other_person, Error::InvalidInput(m) if m.starts_with("Bản sửa phải nói về cùng")),
            "{other_person}"
        );
        let other_kind = store.resend_rejected(refused.id, person(lan, home, "Lò Thị Lan", 1990)).unwrap_err();
        assert!(
            matches!(&other_kind, Error::InvalidInput(m) if m.starts_with("Bản sửa phải cùng loại")),
            "{other_kind}"
        );
        // the phone's own rules still hold: an activated state takes no reason
        let Payload::VisitRecorded(mut wrong) = refused.payload.clone() else { unreachable!() };
        wrong.status = FunnelState::ActivatedLevel1;
        let invalid = store.resend_rejected(refused.id, Payload::VisitRecorded(wrong)).unwrap_err();
        let Error::Invalid(errors) = invalid else { panic!("field errors: {invalid}") };
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("reason_code", "reason_with_activated"));
        assert_eq!(store.unsent_count().unwrap(), 0, "nothing stored");
        assert_eq!(store.rejected_records().unwrap().len(), 1, "still waiting");
        let unknown = store.discard_rejected(Uuid::now_v7()).unwrap_err();
        assert!(matches!(unknown, Error::NotFound { what: "rejected record", .. }), "{unknown}");
        let applied = store.local_events().unwrap()[0].id;
        assert!(matches!(store.resend_unchanged(applied), Err(Error::InvalidInput(_))), "only rejected records");
    }

    #[test]
    fn a_discarded_record_leaves_the_list_and_sends_nothing() {
        let mut store = enrolled();
        let (home, lan) = (Uuid::now_v7(), Uuid::now_v7());
        store.record(household(home, "Lò Văn Páo")).unwrap();
        store.record(person(lan, home, "Lò Thị Lan", 1990)).unwrap();
        let refused = store.record(visit(lan, Some("no_smartphone"), None)).unwrap();
        answer(&mut store, &[3], &note_required());

        store.discard_rejected(refused.id).unwrap();
        assert!(store.rejected_records().unwrap().is_empty());
        let status = store.sync_status().unwrap();
        assert_eq!((status.unsent, status.rejected), (0, 0));
        assert_eq!(resolved_by(&store, refused.id).as_deref(), Some(DISCARDED));
        assert_eq!(store.local_events().unwrap().len(), 3, "its row stays in the log");
        replay(&mut store);
        assert!(store.projection().unwrap().visits.is_empty(), "and stays out of the projection");
    }

    #[test]
    fn a_rejected_household_and_what_was_recorded_in_it_are_sent_again_in_order() {
        let mut store = enrolled();
        let (home, lan) = (Uuid::now_v7(), Uuid::now_v7());
        let created = store.record(household(home, "Lò Văn Páo")).unwrap();
        let added = store.record(person(lan, home, "Lò Thị Lan", 1990)).unwrap();
        let visited = store.record(visit(lan, None, None)).unwrap();
        let address = FieldError::new("address", "too_long", "Địa chỉ dài quá.", "The address is too long.");
        let unknown_resident =
            FieldError::new("resident_id", "unknown_resident", "Không tìm thấy người này.", "Unknown person.");
        // the server refused the household, so it knew neither the person nor the visit
        let batch = store.outbox_batch(100, usize::MAX).unwrap();
        let errors = [address.clone(), unknown_household(), unknown_resident.clone()];
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
        store.apply_push_response(&PushResponse { last_seq: 3, results, applied: vec![], expected_seq: None }).unwrap();
        assert!(store.projection().unwrap().households.is_empty(), "rejected events leave the projection");

        let listed = store.rejected_records().unwrap();
        assert_eq!(
            listed.iter().map(|r| (r.event_id, r.waits_for)).collect::<Vec<_>>(),
            [(created.id, None), (added.id, Some(created.id)), (visited.id, Some(added.id))],
            "each needs the one before it sent again first"
        );
        assert_eq!(listed[1].subject.as_deref(), Some("Lò Thị Lan"));
        assert_eq!(listed[1].hamlet_code.as_deref(), Some("03445-01"), "from the rejected household");
        assert_eq!(listed[1].resident.as_ref().map(|r| r.fields.birth_year), Some(1990));
        assert_eq!(listed[2].subject.as_deref(), Some("Lò Thị Lan"), "from the rejected person");
        assert_eq!(listed[0].household.as_ref().map(|h| h.head_name.as_str()), Some("Lò Văn Páo"));

        // the person cannot go before their household
        let early = store.resend_unchanged(added.id).unwrap_err();
        assert!(matches!(&early, Error::Invalid(e) if e[0].code == "unknown_household"), "{early}");

        let Payload::HouseholdCreated(mut fixed) = created.payload.clone() else { unreachable!() };
        fixed.address = "Số 12, Bản Nậm Củm".into();
        let sent_home = store.resend_rejected(created.id, Payload::HouseholdCreated(fixed)).unwrap();
        assert_eq!(store.rejected_records().unwrap()[0].waits_for, None, "its household is sent again");
        let sent_person = store.resend_unchanged(added.id).unwrap();
        let sent_visit = store.resend_unchanged(visited.id).unwrap();
        assert_eq!((sent_home.seq, sent_person.seq, sent_visit.seq), (4, 5, 6));
        assert_eq!(sent_person.payload, added.payload, "the same record, unchanged");
        assert!(store.rejected_records().unwrap().is_empty());
        let queued: Vec<u64> = store.outbox_batch(100, usize::MAX).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(queued, [4, 5, 6]);

        // rebuilt from the log: the corrected records, none of the rejected ones
        replay(&mut store);
        let projection = store.projection().unwrap();
        assert_eq!(projection.households[&home].address, "Số 12, Bản Nậm Củm");
        assert_eq!(projection.residents[&lan].full_name, "Lò Thị Lan");
        assert_eq!(projection.residents[&lan].visit_count, 1);
        assert_eq!(projection.visits.len(), 1);

        // the server takes them this time
        answer(&mut store, &[], &unknown_household());
        let status = store.sync_status().unwrap();
        assert_eq!((status.unsent, status.rejected), (0, 0));
        assert_eq!(store.projection().unwrap(), projection);
    }

    #[test]
    fn a_correction_rejected_again_is_listed_again_in_its_place() {
        let mut store = enrolled();
        let (home, lan) = (Uuid::now_v7(), Uuid::now_v7());
        store.record(household(home, "Lò Văn Páo")).unwrap();
        store.record(person(lan, home, "Lò Thị Lan", 1990)).unwrap();
        let refused = store.record(visit(lan, Some("no_smartphone"), None)).unwrap();
        answer(&mut store, &[3], &note_required());
        let sent = store.resend_unchanged(refused.id).unwrap();
        answer(&mut store, &[4], &note_required());
        let listed = store.rejected_records().unwrap();
        assert_eq!(listed.iter().map(|r| r.event_id).collect::<Vec<_>>(), [sent.id]);
        assert_eq!(store.sync_status().unwrap().rejected, 1);
    }
}
