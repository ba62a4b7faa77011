//! Push ingest, backend-neutral: per-device sequence, duplicate / applied / rejected per event,
//! gaps, scope, erasure redaction, masked input, flags and the clock clamp (ARCHITECTURE.md,
//! "Push ingest").

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use gocua_core::event::{Event, Payload};
use gocua_core::model::Review;
use gocua_core::places::PlaceLevel;
use gocua_core::privacy;
use gocua_core::reducer::{Change, ReduceError, StateView, reduce};
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::{EventResult, EventStatus, Flag, PushRequest, PushResponse, Role, SCHEMA_VERSION};
use gocua_core::validate::FieldError;
use gocua_server_store::{DeviceKey, NewEvent, Store, StoreError, StoredOutcome, StoredStatus, Tx, run_write};
use uuid::Uuid;

use super::batch::BatchView;
use super::{MAX_EVENTS_PER_REQUEST, MIN_PUSH_SCHEMA};
use crate::auth::AuthDevice;
use crate::domain::Error;

/// Applies a push in one write transaction and answers per event. An event outside the
/// device's scope refuses the whole request and changes nothing.
pub fn push(store: &dyn Store, device: &AuthDevice, request: &PushRequest) -> Result<PushResponse, Error> {
    if request.schema_version < MIN_PUSH_SCHEMA || request.schema_version > SCHEMA_VERSION {
        return Err(Error::Invalid {
            kind: "unsupported_schema",
            message: format!(
                "Phiên bản dữ liệu {} không được hỗ trợ (máy chủ nhận {MIN_PUSH_SCHEMA}–{SCHEMA_VERSION}) / \
                 schema {} is not supported",
                request.schema_version, request.schema_version
            ),
        });
    }
    if request.events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(Error::TooLarge(format!(
            "Tối đa {MAX_EVENTS_PER_REQUEST} bản ghi mỗi lần gửi / at most {MAX_EVENTS_PER_REQUEST} events per push"
        )));
    }
    let mut events: Vec<&Event> = request.events.iter().collect();
    events.sort_by_key(|e| e.seq);
    if let Some(foreign) = events.iter().find(|e| e.device_id != device.device_id) {
        return Err(Error::invalid(format!(
            "Bản ghi {} thuộc thiết bị khác / event {} belongs to another device",
            foreign.id, foreign.id
        )));
    }
    run_write(store, |tx| ingest(tx, device, &events, &request.app_version, request.queued))
}

/// The push's work inside its write transaction.
fn ingest(
    tx: &mut dyn Tx,
    device: &AuthDevice,
    events: &[&Event],
    app_version: &str,
    queued: Option<u64>,
) -> Result<PushResponse, Error> {
    let mut last_seq = tx
        .device(DeviceKey::Id(device.device_id))?
        .ok_or_else(|| StoreError::Corrupt(format!("device {} vanished during its push", device.device_id)))?
        .last_seq;
    // after the first statement, which waits for the write lock: receipt times follow
    // `server_seq` order
    let now = Utc::now();
    let mut next_server_seq = tx.last_server_seq()? + 1;
    let mut view = BatchView::prefetch(tx, events)?;
    let mut results = Vec::with_capacity(events.len());
    let mut stored: Vec<(Event, Placed)> = Vec::new();
    let mut taken_here = HashSet::new();
    let mut expected_seq = None;
    for &event in events {
        if event.seq <= last_seq {
            results.push(replayed(&view, event));
            continue;
        }
        if event.seq > last_seq + 1 {
            expected_seq = Some(last_seq + 1);
            break;
        }
        let (result, keep) = ingest_one(&mut view, device, event, now, &mut taken_here)?;
        if let Some((event, placed)) = keep {
            // the answer names the server_seq of applied events only, as it always has
            let server_seq = (placed.status == StoredStatus::Applied).then_some(next_server_seq);
            let result = EventResult { server_seq, ..result };
            next_server_seq += 1;
            results.push(result);
            stored.push((event, placed));
        } else {
            results.push(result);
        }
        last_seq = event.seq;
    }
    let tx = view.flush()?;
    for (event, placed) in &stored {
        if let (Payload::AssignmentSet(assigned), StoredStatus::Applied) = (&event.payload, &placed.status) {
            let scope = Scope::new(assigned.places.iter().cloned())?;
            crate::admin::change_scope(tx, assigned.user_id, &scope, Some(device))?;
        }
    }
    let first_seq = next_server_seq - stored.len() as u64;
    let rows: Vec<NewEvent<'_>> = stored
        .iter()
        .enumerate()
        .map(|(i, (event, placed))| NewEvent {
            server_seq: first_seq + i as u64,
            event,
            place_path: placed.place_path.clone(),
            status: placed.status.clone(),
            flags: placed.flags.clone(),
            effective_time: placed.effective_time,
            received_at: now,
        })
        .collect();
    if !rows.is_empty() {
        tx.insert_events(&rows)?;
    }
    if !results.is_empty() {
        crate::audit::append(tx, &push_audit(device, &results))?;
    }
    tx.record_push(device.device_id, last_seq, Utc::now(), app_version)?;
    if let Some(queued) = queued {
        // what the phone holds beyond what the server now has of it
        let handled = results.len() as u64;
        tx.record_unsent(device.device_id, queued.saturating_sub(handled))?;
    }
    Ok(PushResponse { results, applied: vec![], last_seq, expected_seq })
}

/// What the server adds to an event it stores.
#[derive(Debug, Clone)]
struct Placed {
    place_path: Option<String>,
    status: StoredStatus,
    flags: Option<String>,
    effective_time: DateTime<Utc>,
}

impl Placed {
    fn rejected(errors: &[FieldError], now: DateTime<Utc>) -> Result<Self, Error> {
        Ok(Placed {
            place_path: None,
            status: StoredStatus::Rejected(Some(serde_json::to_string(errors)?)),
            flags: None,
            effective_time: now,
        })
    }
}

/// The audit row of a push: counts by outcome and the `server_seq` range it stored.
fn push_audit(device: &AuthDevice, results: &[EventResult]) -> crate::audit::Entry {
    let count = |status: EventStatus| results.iter().filter(|r| r.status == status).count();
    let stored: Vec<u64> = results.iter().filter_map(|r| r.server_seq).collect();
    crate::audit::Entry {
        actor_user: Some(device.user_id),
        actor_device: Some(device.device_id),
        action: "push",
        detail: serde_json::json!({
            "applied": count(EventStatus::Applied) + count(EventStatus::Flagged),
            "duplicates": count(EventStatus::Duplicate),
            "rejected": count(EventStatus::Rejected),
            "server_seq": [stored.iter().min(), stored.iter().max()],
        }),
    }
}

fn result(event: &Event, status: EventStatus, errors: Vec<FieldError>) -> EventResult {
    EventResult { seq: event.seq, event_id: Some(event.id), status, errors, flags: vec![], server_seq: None }
}

/// The answer for an event the server already handled: the same as the first time (a rejected
/// event stays rejected, with its reasons), so a lost response is harmless.
fn replayed(view: &BatchView<'_>, event: &Event) -> EventResult {
    match view.stored(event.id) {
        Some(StoredOutcome { status: StoredStatus::Rejected(errors), .. }) => {
            let errors = errors.as_deref().and_then(|e| serde_json::from_str(e).ok()).unwrap_or_default();
            result(event, EventStatus::Rejected, errors)
        }
        Some(outcome) => {
            EventResult { server_seq: Some(outcome.server_seq), ..result(event, EventStatus::Duplicate, vec![]) }
        }
        None => result(event, EventStatus::Duplicate, vec![]),
    }
}

/// How far ahead of the server's clock a device may be before its time is clamped.
const CLOCK_AHEAD_TOLERANCE_MINUTES: i64 = 10;
/// Times before this are a phone that lost its clock (campaigns began in 2025).
const EARLIEST_PLAUSIBLE: &str = "2025-01-01T00:00:00Z";

/// The time reports use for an event, and why it differs from the device's clock. A phone set
/// years ahead (or reset to 1970) is clamped to the server's receipt time: it never moves
/// anyone's "last week" and never orders anything (arrival order does).
pub fn effective_time(device_time: DateTime<Utc>, received: DateTime<Utc>) -> (DateTime<Utc>, Option<Flag>) {
    let earliest = DateTime::parse_from_rfc3339(EARLIEST_PLAUSIBLE).map(|t| t.to_utc()).unwrap_or(received);
    if device_time > received + chrono::Duration::minutes(CLOCK_AHEAD_TOLERANCE_MINUTES) {
        (received, Some(Flag::ClockAhead))
    } else if device_time < earliest {
        (received, Some(Flag::ClockBehind))
    } else {
        (device_time, None)
    }
}

/// An event's answer, and what to store of it (`None`: nothing, e.g. a reused event id).
type Ingested = (EventResult, Option<(Event, Placed)>);

/// A rejected event's answer, and (when `keep`) the row that records it with its reasons.
fn rejected(event: &Event, errors: Vec<FieldError>, now: DateTime<Utc>, keep: bool) -> Result<Ingested, Error> {
    let row = if keep { Some((event.clone(), Placed::rejected(&errors, now)?)) } else { None };
    Ok((result(event, EventStatus::Rejected, errors), row))
}

/// One new event: its answer, and what to store.
fn ingest_one(
    view: &mut BatchView<'_>,
    device: &AuthDevice,
    event: &Event,
    now: DateTime<Utc>,
    taken_here: &mut HashSet<Uuid>,
) -> Result<Ingested, Error> {
    if view.stored(event.id).is_some() || !taken_here.insert(event.id) {
        let e =
            FieldError::new("id", "duplicate_event_id", "Mã bản ghi đã được dùng.", "This event id is already used.");
        return rejected(event, vec![e], now, false);
    }
    if event.author != device.user_id {
        let e = FieldError::new(
            "author",
            "author_mismatch",
            "Người ghi không khớp thiết bị.",
            "The author is not this device's user.",
        );
        return rejected(event, vec![e], now, true);
    }
    // a phone offline at an erasure sends its stale copy: the person's values never come back
    let unerased = without_erased(view, event);
    let event = unerased.as_ref().unwrap_or(event);
    let refused = privacy::refuse_masked_input(&event.payload, device.role, |code| {
        view.reasons().get(code).is_some_and(|r| r.police_only)
    });
    if !refused.is_empty() {
        return rejected(event, refused, now, true);
    }
    let place_path = event_path(view, event).map_err(|e| store_failure(view, e))?;
    if let Some(path) = &place_path
        && !device.may_push_at(path)
    {
        return Err(Error::Forbidden(format!(
            "Bản ghi {} nằm ngoài địa bàn của thiết bị ({}) / event {} is outside the device's scope",
            event.seq,
            device.scope.scope(),
            event.seq
        )));
    }
    if let Payload::AssignmentSet(assigned) = &event.payload {
        let errors = assignment_errors(view, device, assigned)?;
        if !errors.is_empty() {
            return rejected(event, errors, now, true);
        }
    }
    if let Payload::CampaignSet(plan) = &event.payload {
        let errors = gocua_core::reducer::campaign_place_errors(&*view, plan)?;
        if !errors.is_empty() {
            return rejected(event, errors, now, true);
        }
    }
    match reduce(&*view, event) {
        Ok(changes) => {
            let mut flags: Vec<Flag> = changes
                .iter()
                .filter_map(|c| match c {
                    Change::Flagged(Review::ParallelUpdate) => Some(Flag::ParallelUpdate),
                    Change::Flagged(Review::Conflict) => Some(Flag::Conflict),
                    _ => None,
                })
                .collect();
            let (effective, clock) = effective_time(event.device_time, now);
            flags.extend(clock);
            let flags_json = if flags.is_empty() { None } else { Some(serde_json::to_string(&flags)?) };
            // a visit recorded under a wrong clock awaits a look in the office's review queue
            let changes = gocua_core::reducer::with_clock(changes, clock.and_then(Flag::clock_review));
            view.apply(&changes);
            let status = if flags.is_empty() { EventStatus::Applied } else { EventStatus::Flagged };
            let placed =
                Placed { place_path, status: StoredStatus::Applied, flags: flags_json, effective_time: effective };
            Ok((EventResult { flags, ..result(event, status, vec![]) }, Some((event.clone(), placed))))
        }
        Err(ReduceError::Rejected(errors)) => rejected(event, errors, now, true),
        Err(ReduceError::Store(e)) => Err(store_failure(view, e)),
    }
}

/// A read that failed under the reducer: the store's own error when there is one.
fn store_failure(view: &BatchView<'_>, e: gocua_core::Error) -> Error {
    match view.take_failure() {
        Some(failure) => Error::Store(failure),
        None => Error::from(e),
    }
}

/// The event without the values of a resident erased on request (`crate::resident_rights`),
/// when it is about one; `None` when it is not.
fn without_erased(view: &BatchView<'_>, event: &Event) -> Option<Event> {
    let resident = match &event.payload {
        Payload::ResidentAdded(p) => p.resident_id,
        Payload::ResidentEdited(p) => p.resident_id,
        Payload::ResidentPatched(p) => p.resident_id,
        Payload::VisitRecorded(p) => p.resident_id,
        _ => return None,
    };
    if !view.is_erased(resident) {
        return None;
    }
    let erasure = gocua_core::erasure::Erasure {
        resident_id: resident,
        household_id: uuid::Uuid::nil(),
        names: Default::default(),
    };
    let mut event = event.clone();
    gocua_core::erasure::redact(&mut event.payload, &erasure);
    Some(event)
}

/// Why an officer's assignment cannot stand: the user is unknown, is not a volunteer or team
/// leader, or works (or would work) outside the officer's own places.
fn assignment_errors(
    view: &BatchView<'_>,
    device: &AuthDevice,
    assigned: &gocua_core::event::AssignmentSet,
) -> Result<Vec<FieldError>, Error> {
    let target = view.tx().user(assigned.user_id)?;
    let Some(target) = target else {
        return Ok(vec![FieldError::new(
            "user_id",
            "unknown_user",
            "Không có người dùng này trên máy chủ.",
            "This user is not known to the server.",
        )]);
    };
    let mut errors = Vec::new();
    if !matches!(target.role, Role::Volunteer | Role::TeamLeader) {
        errors.push(FieldError::new(
            "user_id",
            "not_assignable",
            "Chỉ phân công địa bàn cho tình nguyện viên hoặc tổ trưởng.",
            "Only volunteers and team leaders are assigned places.",
        ));
    }
    let outside = |codes: &[String]| -> Result<bool, Error> {
        for code in codes {
            let path = view.place_path(code).map_err(|e| store_failure(view, e))?;
            if path.is_some_and(|path| !device.scope.contains_path(&path)) {
                return Ok(true);
            }
        }
        Ok(false)
    };
    if outside(target.scope.codes())? {
        errors.push(FieldError::new(
            "user_id",
            "outside_scope",
            "Người này đang làm ở địa bàn ngoài phạm vi của bạn.",
            "This person works outside your places.",
        ));
    }
    if outside(&assigned.places)? {
        errors.push(FieldError::new(
            "places",
            "outside_scope",
            "Có địa bàn ngoài phạm vi của bạn.",
            "Some of these places are outside yours.",
        ));
    }
    Ok(errors)
}

/// The path an event is stored under, which pulls select on: its household's
/// (`gocua_core::places::household_path`: the hamlet's path and the household's id, so a phone
/// given the hamlet or that household alone pulls it); for a campaign, its place's; for an
/// assignment, the commune of its first place (the office's devices pull it, the volunteers' do
/// not).
fn event_path(view: &BatchView<'_>, event: &Event) -> Result<Option<String>, gocua_core::Error> {
    let household = |id| view.household_path(id);
    let resident_household = |id| -> Result<Option<String>, gocua_core::Error> {
        match view.resident(id)? {
            Some(r) => household(r.household_id),
            None => Ok(None),
        }
    };
    match &event.payload {
        Payload::HouseholdCreated(p) => view.hamlet_household_path(&p.hamlet_code, p.household_id),
        Payload::HouseholdSurveyed(p) => household(p.household_id),
        Payload::HouseholdEdited(p) => household(p.household_id),
        Payload::ResidentAdded(p) => household(p.household_id),
        Payload::ResidentEdited(p) => resident_household(p.resident_id),
        Payload::VisitRecorded(p) => resident_household(p.resident_id),
        Payload::HouseholdPatched(p) => household(p.household_id),
        Payload::HouseholdRemoved(p) => household(p.household_id),
        Payload::ResidentPatched(p) => resident_household(p.resident_id),
        Payload::ResidentRemoved(p) => resident_household(p.resident_id),
        Payload::ClaimChecked(p) => resident_household(p.resident_id),
        // both records are in one hamlet (the reducer's rule); a phone given the other's
        // household alone does not hear of it
        Payload::ResidentsMerged(p) => resident_household(p.kept),
        Payload::CampaignSet(p) => view.place_path(&p.place),
        Payload::ReviewResolved(p) => match household(p.record_id)? {
            Some(path) => Ok(Some(path)),
            None => match (resident_household(p.record_id)?, p.resident_id) {
                (Some(path), _) => Ok(Some(path)),
                // a visit's: its person's household
                (None, Some(resident)) => resident_household(resident),
                (None, None) => Ok(None),
            },
        },
        Payload::AssignmentSet(p) => {
            let Some(first) = p.places.first() else { return Ok(None) };
            let code = match gocua_core::places::household_of(first) {
                Some(id) => match view.household(id)? {
                    Some(h) => h.hamlet_code,
                    None => return Ok(None),
                },
                None => first.clone(),
            };
            match view.place(&code)? {
                Some(place) => match (place.level, place.parent_code) {
                    (PlaceLevel::Hamlet, Some(commune)) => view.place_path(&commune),
                    _ => view.place_path(&place.code),
                },
                None => Ok(None),
            }
        }
    }
}
