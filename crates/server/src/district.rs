//! The office's actions as server commands, for the district and province police: what an
//! officer records at the server's command line goes through the same push rules as a device's
//! (role, scope, validation, the audit), under a command-line device of that officer's, and
//! reaches the office and the phones like any other event. A police list is imported with the
//! importer the office uses (the same dry run, the same record ids, so an import on the server
//! and one at the office name the same people alike), and a whole import is undone from the
//! record its commit wrote.

use chrono::Utc;
use gocua_core::event::{Event, Payload};
use gocua_core::places::PlaceLevel;
use gocua_core::reducer::MemoryState;
use gocua_core::sync::protocol::{APP_VERSION, EventResult, EventStatus, PushRequest, SCHEMA_VERSION};
use gocua_import::{
    ImportCounts, KnownHamlet, KnownResident, Plan, PlanOptions, Report, Severity, UndoCounts, UndoRecord, events_for,
    plan, read_list, undo_events,
};
use gocua_server_store::{DeviceKey, DeviceRow, Store, run_read, run_write};
use uuid::Uuid;

use crate::auth::{AuthDevice, hash_secret, load_device};
use crate::domain::Error;
use crate::policy::{self, Action};

/// The name of the device an officer's server commands are recorded under.
pub const COMMAND_LINE_DEVICE: &str = "Dòng lệnh máy chủ / server command line";

/// Events per push: one write transaction each (the HTTP API's own cap).
const BATCH: usize = crate::sync::MAX_EVENTS_PER_REQUEST;

fn invalid(message: String) -> Error {
    Error::Invalid { kind: "invalid", message }
}

/// What recording some events did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Events applied (flagged ones included).
    pub applied: usize,
    /// Events the rules rejected, each with its reasons; they are stored as rejected and change
    /// nothing.
    pub rejected: Vec<EventResult>,
}

/// The officer's command-line device: made on first use, one per officer, never revoked by
/// this code. Refused for anyone but the police: the office's right, not a device's push right
/// (the province police push nothing from an app, but act for a commune's office here).
pub fn command_device(store: &dyn Store, user_id: Uuid) -> Result<AuthDevice, Error> {
    let user = run_read(store, |tx| tx.user(user_id))?
        .ok_or_else(|| Error::NotFound(format!("không có người dùng {user_id} / unknown user {user_id}")))?;
    if !policy::allows(user.role, Action::Office) {
        return Err(Error::Forbidden(
            "Chỉ công an xã, công an tỉnh ghi việc của văn phòng / only the police record the office's work".into(),
        ));
    }
    server_side_device(store, user_id, COMMAND_LINE_DEVICE)
}

/// A device the server itself records under for `user_id` (an officer's command line, the
/// demo's list): the user's unrevoked device of that name, else a new one whose token nobody
/// holds. As the push rules see it.
pub fn server_side_device(store: &dyn Store, user_id: Uuid, name: &str) -> Result<AuthDevice, Error> {
    let existing = run_read(store, |tx| tx.devices(Some(user_id)))?
        .into_iter()
        .find(|d| d.name == name && d.revoked_at.is_none())
        .map(|d| d.id);
    let device_id = match existing {
        Some(id) => id,
        None => {
            let id = Uuid::now_v7();
            run_write(store, |tx| {
                tx.insert_device(&DeviceRow {
                    id,
                    user_id,
                    name: name.into(),
                    token_hash: hash_secret(&crate::auth::new_token()),
                    enrolled_at: Utc::now(),
                    last_seen_at: None,
                    last_seq: 0,
                    app_version: None,
                    revoked_at: None,
                    signing_key: None,
                })
            })?;
            id
        }
    };
    Ok(run_read(store, |tx| load_device(tx, DeviceKey::Id(device_id)))?
        .ok_or_else(|| invalid(format!("the device {name} vanished")))?
        .auth)
}

/// Records `payloads` as the officer's, in order, through the push rules: a scope the officer
/// does not hold refuses the whole batch it is in; an invalid event is stored rejected with its
/// reasons.
pub fn record(store: &dyn Store, user_id: Uuid, payloads: Vec<Payload>) -> Result<Recorded, Error> {
    record_as(store, &command_device(store, user_id)?, payloads)
}

/// Records `payloads` under a server-side `device` ([`server_side_device`]), numbered on from
/// its last sequence, in batches of one push each.
pub fn record_as(store: &dyn Store, device: &AuthDevice, payloads: Vec<Payload>) -> Result<Recorded, Error> {
    let mut next_seq = run_read(store, |tx| tx.device_holder(DeviceKey::Id(device.device_id)))?
        .map_or(0, |holder| holder.device.last_seq)
        + 1;
    let mut recorded = Recorded::default();
    let mut payloads = payloads.into_iter().peekable();
    while payloads.peek().is_some() {
        let events: Vec<Event> = payloads
            .by_ref()
            .take(BATCH)
            .map(|payload| {
                let event = Event {
                    id: Uuid::now_v7(),
                    device_id: device.device_id,
                    seq: next_seq,
                    author: device.user_id,
                    device_time: Utc::now(),
                    payload,
                };
                next_seq += 1;
                event
            })
            .collect();
        let request =
            PushRequest { schema_version: SCHEMA_VERSION, app_version: APP_VERSION.to_owned(), events, queued: None };
        let response = crate::sync::push::push(store, device, &request)?;
        for result in response.results {
            match result.status {
                EventStatus::Applied | EventStatus::Flagged => recorded.applied += 1,
                EventStatus::Rejected => recorded.rejected.push(result),
                EventStatus::Duplicate => {}
            }
        }
        if let Some(expected) = response.expected_seq {
            return Err(invalid(format!(
                "máy chủ chờ bản ghi số {expected} của thiết bị dòng lệnh / the server expects event {expected}"
            )));
        }
    }
    Ok(recorded)
}

/// A list to import into one commune.
#[derive(Debug, Clone)]
pub struct ListFile<'a> {
    /// The file's bytes (CSV, XLSX, XLS or ODS).
    pub bytes: &'a [u8],
    /// Its name (the format is told by its extension).
    pub file_name: &'a str,
    /// The sheet to read; without one, the first sheet that has a header.
    pub sheet: Option<&'a str>,
    /// The commune's code.
    pub commune: &'a str,
    /// The year the birth years are checked against.
    pub current_year: i32,
}

/// A list checked, and recorded when asked.
#[derive(Debug, Clone)]
pub struct ListImport {
    /// The dry run's report: every problem with its row.
    pub report: Report,
    /// What recording changed (`None` for a dry run).
    pub counts: Option<ImportCounts>,
    /// What undoing the import takes (`None` for a dry run, or when nothing was recorded).
    pub undo: Option<UndoRecord>,
    /// What the push rules did with its events.
    pub recorded: Recorded,
}

/// The commune's hamlets, checked to be a commune the officer may import into.
fn commune_hamlets(store: &dyn Store, device: &AuthDevice, commune: &str) -> Result<Vec<KnownHamlet>, Error> {
    run_read(store, |tx| {
        let place = tx.place(commune)?;
        if place.as_ref().is_none_or(|p| p.level != PlaceLevel::Commune) {
            return Err(Error::NotFound(format!("Không có xã mã {commune} / there is no commune {commune}")));
        }
        let path = gocua_server_store::place_path(tx, commune)?.unwrap_or_default();
        if !device.scope.contains_path(&path) {
            return Err(Error::Forbidden(format!(
                "Xã {commune} nằm ngoài địa bàn của bạn / commune {commune} is outside your places"
            )));
        }
        Ok(tx
            .children(commune)?
            .into_iter()
            .filter(|p| p.level == PlaceLevel::Hamlet)
            .map(|p| KnownHamlet { code: p.code, name: p.name })
            .collect())
    })
}

/// Reads and checks a list against the commune's hamlets and residents, as the office's dry run
/// does; with `commit`, records what it brings as the officer's.
pub fn import_list(store: &dyn Store, user_id: Uuid, list: &ListFile<'_>, commit: bool) -> Result<ListImport, Error> {
    let device = command_device(store, user_id)?;
    let hamlets = commune_hamlets(store, &device, list.commune)?;
    let codes: Vec<String> = hamlets.iter().map(|h| h.code.clone()).collect();
    let held = run_read(store, |tx| tx.projection_in(&codes))?;
    let known = gocua_import::Known { hamlets, residents: KnownResident::all_in(&held) };
    // the office's namespace: one commune's lists name their records by the commune's code
    let options = PlanOptions { key_namespace: list.commune.to_owned(), ..PlanOptions::new(list.current_year) };
    let file_error = |e: gocua_import::ImportError| invalid(format!("{} / {}", e.message_vi(), e.message_en()));
    let (table, map) = read_list(list.bytes, list.file_name, list.sheet).map_err(file_error)?;
    let planned: Plan = plan(&table, &map, &known, &options, None).map_err(file_error)?;
    if !commit {
        return Ok(ListImport { report: planned.report, counts: None, undo: None, recorded: Recorded::default() });
    }
    let mut view = MemoryState::new(Vec::new(), Default::default());
    view.projection = held;
    let events = events_for(&planned, &view)?;
    let undo = (!events.payloads.is_empty()).then_some(events.undo);
    let recorded = record_as(store, &device, events.payloads)?;
    Ok(ListImport { report: planned.report, counts: Some(events.counts), undo, recorded })
}

/// Undoes a whole import from the record its commit gave: what it created is removed and the
/// fields it changed go back, unless changed again since. Undoing twice changes nothing.
pub fn undo_import(store: &dyn Store, user_id: Uuid, undo: &UndoRecord) -> Result<(UndoCounts, Recorded), Error> {
    let device = command_device(store, user_id)?;
    let mut ids: Vec<Uuid> = undo.households_created.clone();
    ids.extend(undo.households_changed.iter().map(|c| c.id));
    let (households, residents) = run_read(store, |tx| {
        let mut people: Vec<Uuid> = undo.people_created.clone();
        people.extend(undo.people_changed.iter().map(|c| c.id));
        Ok::<_, Error>((tx.households(&ids)?, tx.residents(&people)?))
    })?;
    let mut view = MemoryState::new(Vec::new(), Default::default());
    view.projection.households = households.into_iter().map(|h| (h.id, h)).collect();
    view.projection.residents = residents.into_iter().map(|r| (r.id, r)).collect();
    let events = undo_events(undo, &view)?;
    let recorded = record_as(store, &device, events.payloads)?;
    Ok((events.counts, recorded))
}

/// What a command prints of a recording: the count, then each rejected event with its reasons
/// (Vietnamese first).
pub fn recorded_lines(recorded: &Recorded) -> Vec<String> {
    let mut lines = vec![format!(
        "đã ghi {0} bản ghi, {1} bị từ chối / {0} recorded, {1} rejected",
        recorded.applied,
        recorded.rejected.len()
    )];
    for result in &recorded.rejected {
        for error in &result.errors {
            lines.push(format!(
                "  bản ghi {0} [{1}: {2}] {3} / event {0}: {4}",
                result.seq, error.field, error.code, error.message_vi, error.message_en
            ));
        }
    }
    lines
}

/// What a command prints of a dry run: the numbers, then every error, warning and repair by row
/// (the messages only: a cell's value is personal data and is not printed).
pub fn report_lines(report: &Report) -> Vec<String> {
    let c = &report.counts;
    let mut lines = vec![format!(
        "đọc {0} dòng: {1} người, {2} hộ; {3} dòng bị bỏ ra; {4} lỗi, {5} cảnh báo, {6} tự sửa / read {0} rows: \
         {1} people, {2} households; {3} rows left out; {4} errors, {5} warnings, {6} repairs",
        c.rows_read, c.people_planned, c.households_planned, c.rows_left_out, c.errors, c.warnings, c.repairs
    )];
    for issue in &report.issues {
        let row = issue.row.map_or_else(|| "tệp / file".to_owned(), |r| format!("dòng / row {r}"));
        let severity = match issue.severity {
            Severity::Error => "lỗi / error",
            Severity::Warning => "cảnh báo / warning",
            Severity::Repaired => "tự sửa / repaired",
        };
        lines.push(format!("  {row} [{severity}: {}] {} / {}", issue.code, issue.message_vi, issue.message_en));
    }
    lines
}
