//! Push ingest: per-device sequence, duplicate / applied / rejected per event, gaps, scope.

use chrono::{DateTime, Utc};
use gocua_core::event::{Event, Payload};
use gocua_core::model::Review;
use gocua_core::privacy;
use gocua_core::reasons::ReasonCatalog;
use gocua_core::reducer::{Change, ReduceError, StateView, reduce};
use gocua_core::sql::{catalog, projection};
use gocua_core::sync::protocol::{EventResult, EventStatus, Flag, PushRequest, PushResponse, SCHEMA_VERSION};
use gocua_core::validate::FieldError;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{MAX_EVENTS_PER_REQUEST, MIN_PUSH_SCHEMA};
use crate::auth::AuthDevice;
use crate::error::ApiError;

/// Applies a push in one transaction and answers per event. An event outside the device's
/// scope refuses the whole request (403) and changes nothing.
pub fn push(conn: &mut Connection, device: &AuthDevice, request: &PushRequest) -> Result<PushResponse, ApiError> {
    if request.schema_version < MIN_PUSH_SCHEMA || request.schema_version > SCHEMA_VERSION {
        return Err(ApiError::bad_request(
            "unsupported_schema",
            format!(
                "Phiên bản dữ liệu {} không được hỗ trợ (máy chủ nhận {MIN_PUSH_SCHEMA}–{SCHEMA_VERSION}) / \
                 schema {} is not supported",
                request.schema_version, request.schema_version
            ),
        ));
    }
    if request.events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(ApiError::too_large(format!(
            "Tối đa {MAX_EVENTS_PER_REQUEST} bản ghi mỗi lần gửi / at most {MAX_EVENTS_PER_REQUEST} events per push"
        )));
    }
    let mut events: Vec<&Event> = request.events.iter().collect();
    events.sort_by_key(|e| e.seq);
    if let Some(foreign) = events.iter().find(|e| e.device_id != device.device_id) {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("Bản ghi {} thuộc thiết bị khác / event {} belongs to another device", foreign.id, foreign.id),
        ));
    }
    let tx = conn.transaction()?;
    let mut last_seq: u64 =
        tx.query_row("SELECT last_seq FROM devices WHERE id = ?1", [device.device_id.to_string()], |r| r.get(0))?;
    let mut results = Vec::with_capacity(events.len());
    let mut expected_seq = None;
    let reasons = catalog::reasons(&tx)?;
    let now = Utc::now();
    for event in events {
        if event.seq <= last_seq {
            results.push(replayed(&tx, event)?);
            continue;
        }
        if event.seq > last_seq + 1 {
            expected_seq = Some(last_seq + 1);
            break;
        }
        let outcome = ingest_one(&tx, device, event, now, &reasons)?;
        results.push(outcome);
        last_seq = event.seq;
    }
    if !results.is_empty() {
        crate::audit::append(&tx, &push_audit(device, &results))?;
    }
    tx.execute(
        "UPDATE devices SET last_seq = ?2, last_seen_at = ?3, app_version = ?4 WHERE id = ?1",
        params![device.device_id.to_string(), last_seq, Utc::now().to_rfc3339(), request.app_version],
    )?;
    tx.commit()?;
    Ok(PushResponse { results, applied: vec![], last_seq, expected_seq })
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
fn replayed(tx: &Transaction<'_>, event: &Event) -> Result<EventResult, ApiError> {
    let stored: Option<(u64, String, Option<String>)> = tx
        .prepare_cached("SELECT server_seq, status, errors FROM events WHERE id = ?1")?
        .query_row([event.id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(match stored {
        Some((_, status, errors)) if status == "rejected" => {
            let errors = errors.map(|e| serde_json::from_str(&e)).transpose()?.unwrap_or_default();
            result(event, EventStatus::Rejected, errors)
        }
        Some((server_seq, _, _)) => {
            EventResult { server_seq: Some(server_seq), ..result(event, EventStatus::Duplicate, vec![]) }
        }
        None => result(event, EventStatus::Duplicate, vec![]),
    })
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

fn ingest_one(
    tx: &Transaction<'_>,
    device: &AuthDevice,
    event: &Event,
    now: DateTime<Utc>,
    reasons: &ReasonCatalog,
) -> Result<EventResult, ApiError> {
    let reject = |tx: &Transaction<'_>, errors: Vec<FieldError>, store: bool| -> Result<EventResult, ApiError> {
        if store {
            let stored =
                Stored { status: "rejected", errors: Some(&serde_json::to_string(&errors)?), ..Stored::new(now) };
            insert_event(tx, event, &stored)?;
        }
        Ok(result(event, EventStatus::Rejected, errors))
    };
    let id_taken =
        tx.query_row("SELECT 1 FROM events WHERE id = ?1", [event.id.to_string()], |_| Ok(())).optional()?.is_some();
    if id_taken {
        let e =
            FieldError::new("id", "duplicate_event_id", "Mã bản ghi đã được dùng.", "This event id is already used.");
        return reject(tx, vec![e], false);
    }
    if event.author != device.user_id {
        let e = FieldError::new(
            "author",
            "author_mismatch",
            "Người ghi không khớp thiết bị.",
            "The author is not this device's user.",
        );
        return reject(tx, vec![e], true);
    }
    // a phone offline at an erasure sends its stale copy: the person's values never come back
    let unerased = without_erased(tx, event)?;
    let event = unerased.as_ref().unwrap_or(event);
    let refused = privacy::refuse_masked_input(&event.payload, device.role, |code| {
        reasons.get(code).is_some_and(|r| r.police_only)
    });
    if !refused.is_empty() {
        return reject(tx, refused, true);
    }
    let place_path = match event_place(tx, event)? {
        Some(code) => catalog::place_path(tx, &code)?,
        None => None,
    };
    if let Some(path) = &place_path
        && !device.may_push_at(path)
    {
        return Err(ApiError::forbidden(format!(
            "Bản ghi {} nằm ngoài địa bàn của thiết bị ({}) / event {} is outside the device's scope",
            event.seq, device.scope_code, event.seq
        )));
    }
    match reduce(&projection::SqlView::new(tx), event) {
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
            let stored = Stored {
                place_path: place_path.as_deref(),
                status: "applied",
                errors: None,
                flags: flags_json.as_deref(),
                effective_time: effective,
                received_at: now,
            };
            let server_seq = insert_event(tx, event, &stored)?;
            projection::apply_changes(tx, &changes)?;
            let status = if flags.is_empty() { EventStatus::Applied } else { EventStatus::Flagged };
            Ok(EventResult { flags, server_seq: Some(server_seq), ..result(event, status, vec![]) })
        }
        Err(ReduceError::Rejected(errors)) => reject(tx, errors, true),
        Err(ReduceError::Store(e)) => Err(e.into()),
    }
}

/// The event without the values of a resident erased on request (`crate::resident_rights`),
/// when it is about one; `None` when it is not.
fn without_erased(tx: &Transaction<'_>, event: &Event) -> Result<Option<Event>, ApiError> {
    let resident = match &event.payload {
        Payload::ResidentAdded(p) => p.resident_id,
        Payload::ResidentEdited(p) => p.resident_id,
        Payload::ResidentPatched(p) => p.resident_id,
        Payload::VisitRecorded(p) => p.resident_id,
        _ => return Ok(None),
    };
    let erased = tx
        .prepare_cached("SELECT 1 FROM erasures WHERE resident_id = ?1")?
        .query_row([resident.to_string()], |_| Ok(()))
        .optional()?
        .is_some();
    if !erased {
        return Ok(None);
    }
    let erasure = gocua_core::erasure::Erasure {
        resident_id: resident,
        household_id: uuid::Uuid::nil(),
        names: Default::default(),
    };
    let mut event = event.clone();
    gocua_core::erasure::redact(&mut event.payload, &erasure);
    Ok(Some(event))
}

/// The place an event is about: the hamlet of its household, when the household is known.
fn event_place(tx: &Transaction<'_>, event: &Event) -> Result<Option<String>, ApiError> {
    let view = projection::SqlView::new(tx);
    let household = |id| -> Result<Option<String>, ApiError> { Ok(view.household(id)?.map(|h| h.hamlet_code)) };
    let resident_household = |id| -> Result<Option<String>, ApiError> {
        match view.resident(id)? {
            Some(r) => household(r.household_id),
            None => Ok(None),
        }
    };
    match &event.payload {
        Payload::HouseholdCreated(p) => Ok(Some(p.hamlet_code.clone())),
        Payload::HouseholdSurveyed(p) => household(p.household_id),
        Payload::HouseholdEdited(p) => household(p.household_id),
        Payload::ResidentAdded(p) => household(p.household_id),
        Payload::ResidentEdited(p) => resident_household(p.resident_id),
        Payload::VisitRecorded(p) => resident_household(p.resident_id),
        Payload::HouseholdPatched(p) => household(p.household_id),
        Payload::HouseholdRemoved(p) => household(p.household_id),
        Payload::ResidentPatched(p) => resident_household(p.resident_id),
    }
}

/// What the server adds to an event it stores.
struct Stored<'a> {
    place_path: Option<&'a str>,
    status: &'a str,
    errors: Option<&'a str>,
    flags: Option<&'a str>,
    effective_time: DateTime<Utc>,
    received_at: DateTime<Utc>,
}

impl Stored<'_> {
    fn new(now: DateTime<Utc>) -> Self {
        Stored { place_path: None, status: "applied", errors: None, flags: None, effective_time: now, received_at: now }
    }
}

/// Stores the event and returns its `server_seq`.
fn insert_event(tx: &Transaction<'_>, event: &Event, stored: &Stored<'_>) -> Result<u64, ApiError> {
    let micros = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tx.prepare_cached(
        "INSERT INTO events (id, device_id, seq, author, device_time, received_at, type, payload, place_path,
                             status, errors, flags, effective_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        event.id.to_string(),
        event.device_id.to_string(),
        event.seq,
        event.author.to_string(),
        micros(event.device_time),
        micros(stored.received_at),
        event.payload.type_name(),
        serde_json::to_string(&event.payload)?,
        stored.place_path,
        stored.status,
        stored.errors,
        stored.flags,
        micros(stored.effective_time),
    ])?;
    Ok(tx.last_insert_rowid() as u64)
}
