//! The device store: the event log, the outbox, the projection and sync state in one SQLite file.

pub mod assignments;
pub mod campaigns;
pub mod cipher;
pub mod drafts;
pub mod duplicates;
pub mod imports;
pub mod migrations;
mod queries;
pub mod rejected;
pub mod report;
pub mod retention;
pub mod review;
pub mod sandbox;
pub mod spotcheck;
pub mod team;
pub mod today;

pub use queries::{HouseholdQuery, HouseholdSummary, StatusFilter, vietnam_today};

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::event::{Event, Payload};
use crate::ids;
use crate::model::Review;
use crate::places::Place;
use crate::reasons::{Reason, ReasonCatalog};
use crate::reducer::{Change, Projection, ReduceError, StateView, reduce};
use crate::scope::Scope;
use crate::sql::{self, catalog, projection::SqlView};
use crate::sync::protocol::{EnrollResponse, EventStatus, Flag, PullResponse, PushResponse, Role};
use crate::validate::FieldError;

/// Who this device is, as the server enrolled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    /// The server's base URL.
    pub server_url: String,
    /// This device's id.
    pub device_id: Uuid,
    /// The bearer token.
    #[serde(skip_serializing)]
    pub token: String,
    /// The user's id (events' author).
    pub user_id: Uuid,
    /// The user's display name.
    pub user_name: String,
    /// The user's role.
    pub role: Role,
    /// The places the device works in (one or more; stored as [`Scope::key`]).
    pub scope: Scope,
    /// When it was enrolled.
    pub enrolled_at: DateTime<Utc>,
}

/// What the sync bar shows.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// Local events the server has not acknowledged.
    pub unsent: u64,
    /// Local events the server rejected, waiting for a person.
    pub rejected: u64,
    /// The last time a push and pull both completed.
    pub last_success: Option<DateTime<Utc>>,
    /// The pull cursor.
    pub pull_cursor: u64,
}

/// Counts of what a push answer did to the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckSummary {
    /// Newly applied on the server.
    pub applied: u64,
    /// The server already had them.
    pub duplicates: u64,
    /// Rejected, kept on the device for a person to deal with.
    pub rejected: u64,
    /// Of the applied ones, flagged for review.
    pub flagged: u64,
}

/// A local event the server refused, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    /// The event as recorded.
    pub event: Event,
    /// Why.
    pub errors: Vec<FieldError>,
}

/// The device's SQLite database.
#[derive(Debug)]
pub struct DeviceStore {
    conn: Connection,
}

const META_PULL_CURSOR: &str = "pull_cursor";
const META_LAST_SUCCESS: &str = "last_success";
const META_EPOCH: &str = "server_epoch";
const META_REPLAY_AFTER_PULL: &str = "replay_after_pull";
/// Set by [`DeviceStore::change_scope`] and [`DeviceStore::change_role`] for the reset that
/// comes with them: the same server database, whose order what stays keeps. A reset of the same
/// epoch without it is one restored from a backup (see [`DeviceStore::begin_reset`]). The
/// stored key keeps its first name, so a phone updated mid-reset still finds it.
const META_SAME_DATABASE_RESET: &str = "scope_changed";
/// The digest of the reason catalog the server last gave (`ReasonCatalog::digest`).
const META_REASONS_DIGEST: &str = "reasons_digest";
/// Set while a reset replaces what a role may no longer hold: when it ends, the write-ahead
/// log's old pages (which still hold it) are emptied.
const META_SCRUB_AFTER_RESET: &str = "scrub_after_reset";
/// How many household, resident and visit ids this device has made.
const META_RECORD_COUNTER: &str = "record_counter";

fn now_millis() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// When the phone learns that the server has an event (a push answer, a pull page), by its own
/// clock: what retention ages an acknowledged event by (`events.acknowledged_at`).
fn acknowledged_now() -> String {
    now_millis().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The time stamped on a recorded event: whole seconds, which is all a report needs and keeps
/// push bodies small.
fn now_seconds() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// Records one user action inside `tx` as event `seq`: refuses masked input, reduces it
/// against the state `tx` sees, stores it, queues it for the server and applies its changes.
fn record_in(
    tx: &Transaction<'_>,
    enrollment: &Enrollment,
    reasons: &crate::reasons::ReasonCatalog,
    payload: Payload,
    device_time: DateTime<Utc>,
    seq: u64,
) -> Result<Event, Error> {
    let refused = crate::privacy::refuse_masked_input(&payload, enrollment.role, |code| {
        reasons.get(code).is_some_and(|r| r.police_only)
    });
    if !refused.is_empty() {
        return Err(Error::Invalid(refused));
    }
    let event = Event {
        id: ids::event_id(enrollment.device_id, seq),
        device_id: enrollment.device_id,
        seq,
        author: enrollment.user_id,
        device_time,
        payload,
    };
    let changes = match reduce(&SqlView::new(tx), &event) {
        Ok(changes) => changes,
        Err(ReduceError::Rejected(errors)) => return Err(Error::Invalid(errors)),
        Err(ReduceError::Store(e)) => return Err(e),
    };
    insert_event(tx, &event, "local", "unsent", None, None)?;
    tx.prepare_cached("INSERT INTO outbox (seq, event_id) VALUES (?1, ?2)")?
        .execute(params![event.seq, event.id.to_string()])?;
    sql::projection::apply_changes(tx, &changes)?;
    Ok(event)
}

/// Records `payloads` inside `tx` as consecutive events, each reduced against what the ones
/// before it left; the first invalid one fails the batch with its index ([`Error::InvalidAt`]).
fn record_batch(
    tx: &Transaction<'_>,
    enrollment: &Enrollment,
    payloads: Vec<Payload>,
    device_time: DateTime<Utc>,
) -> Result<Vec<Event>, Error> {
    let reasons = catalog::reasons(tx)?;
    let first_seq = next_seq(tx, enrollment.device_id)?;
    let mut events = Vec::with_capacity(payloads.len());
    for (index, payload) in payloads.into_iter().enumerate() {
        match record_in(tx, enrollment, &reasons, payload, device_time, first_seq + index as u64) {
            Ok(event) => events.push(event),
            Err(Error::Invalid(errors)) => return Err(Error::InvalidAt { index, errors }),
            Err(e) => return Err(e),
        }
    }
    Ok(events)
}

/// The sequence number this device's next event gets.
fn next_seq(tx: &Transaction<'_>, device_id: Uuid) -> Result<u64, Error> {
    let last: Option<u64> =
        tx.query_row("SELECT max(seq) FROM events WHERE device_id = ?1", [device_id.to_string()], |r| r.get(0))?;
    // purged own events still hold their numbers (see `retention`)
    Ok(last.unwrap_or(0).max(retention::seq_floor(tx, device_id)?) + 1)
}

impl DeviceStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, Error> {
        Self::init(Connection::open(path)?)
    }

    /// Opens (or creates) the store at `path` encrypted under `key` (SQLCipher). A plaintext
    /// store left by an older app is encrypted in place first; a wrong key is
    /// [`Error::WrongKey`] and changes nothing.
    pub fn open_encrypted(path: &Path, key: &cipher::DbKey) -> Result<Self, Error> {
        if cipher::is_plaintext(path)? {
            cipher::encrypt_in_place(path, key)?;
        }
        let conn = Connection::open(path)?;
        cipher::unlock(&conn, key)?;
        Self::init(conn)
    }

    /// An in-memory store, for tests and the trainer's throw-away sandbox.
    pub fn open_in_memory() -> Result<Self, Error> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, Error> {
        sql::configure(&conn)?;
        // 16 MiB of pages kept in memory (SQLite's default is 2 MiB): a commune's working set
        // stays cached, which matters most when every page read from disk must be decrypted
        conn.pragma_update(None, "cache_size", -16_384)?;
        migrations::device().to_latest(&mut conn)?;
        Ok(DeviceStore { conn })
    }

    /// Read-only access for queries that have no method yet (tests, reports).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The enrollment, if the device is enrolled.
    pub fn enrollment(&self) -> Result<Option<Enrollment>, Error> {
        self.conn
            .query_row(
                "SELECT server_url, device_id, token, user_id, user_name, role, scope_code, enrolled_at
                 FROM enrollment WHERE singleton = 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, String>(6)?,
                        row.get::<_, String>(7)?,
                    ))
                },
            )
            .optional()?
            .map(|(server_url, device_id, token, user_id, user_name, role, scope_code, enrolled_at)| {
                let unreadable = |what: &str| Error::invalid_input(format!("unreadable enrollment {what}"));
                Ok(Enrollment {
                    server_url,
                    device_id: Uuid::from_str(&device_id).map_err(|_| unreadable("device id"))?,
                    token,
                    user_id: Uuid::from_str(&user_id).map_err(|_| unreadable("user id"))?,
                    user_name,
                    role: Role::from_code(&role).ok_or_else(|| unreadable("role"))?,
                    scope: Scope::parse_key(&scope_code).map_err(|_| unreadable("scope"))?,
                    enrolled_at: DateTime::parse_from_rfc3339(&enrolled_at)
                        .map_err(|_| unreadable("time"))?
                        .with_timezone(&Utc),
                })
            })
            .transpose()
    }

    fn require_enrollment(&self) -> Result<Enrollment, Error> {
        self.enrollment()?.ok_or(Error::NotEnrolled)
    }

    /// Stores a successful enrollment with its places and reasons. Refused while events of an
    /// earlier enrollment are unsent: nothing unsent is ever dropped by re-enrolling.
    pub fn save_enrollment(&mut self, server_url: &str, response: &EnrollResponse) -> Result<Enrollment, Error> {
        self.refuse_in_sandbox()?;
        self.save_enrollment_unchecked(server_url, response)
    }

    fn save_enrollment_unchecked(&mut self, server_url: &str, response: &EnrollResponse) -> Result<Enrollment, Error> {
        let unsent = self.unsent_count()?;
        if unsent > 0 {
            return Err(Error::UnsentData { count: unsent });
        }
        let enrollment = Enrollment {
            server_url: server_url.trim_end_matches('/').to_owned(),
            device_id: response.device_id,
            token: response.token.clone(),
            user_id: response.user.id,
            user_name: response.user.name.clone(),
            role: response.user.role,
            scope: response.scope_set(),
            enrolled_at: now_millis(),
        };
        let tx = self.conn.transaction()?;
        catalog::upsert_places(&tx, &response.places)?;
        catalog::upsert_reasons(&tx, &response.reasons)?;
        set_meta(&tx, META_REASONS_DIGEST, &ReasonCatalog::new(response.reasons.clone()).digest())?;
        tx.execute(
            "INSERT OR REPLACE INTO enrollment
                 (singleton, server_url, device_id, token, user_id, user_name, role, scope_code, enrolled_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                enrollment.server_url,
                enrollment.device_id.to_string(),
                enrollment.token,
                enrollment.user_id.to_string(),
                enrollment.user_name,
                enrollment.role.code(),
                enrollment.scope.key(),
                enrollment.enrolled_at.to_rfc3339(),
            ],
        )?;
        crate::bundle::on_enrolled(&tx, response)?;
        tx.commit()?;
        Ok(enrollment)
    }

    /// Records a user action: validates it against current state, stores the event, queues it
    /// for the server and updates the projection, all in one transaction. Invalid input is
    /// refused with field errors and stores nothing.
    pub fn record(&mut self, payload: Payload) -> Result<Event, Error> {
        self.record_at(payload, now_seconds())
    }

    /// [`DeviceStore::record`] with an explicit device time (tests, imports).
    pub fn record_at(&mut self, payload: Payload, device_time: DateTime<Utc>) -> Result<Event, Error> {
        let enrollment = self.require_enrollment()?;
        let tx = self.conn.transaction()?;
        let reasons = catalog::reasons(&tx)?;
        let seq = next_seq(&tx, enrollment.device_id)?;
        let event = record_in(&tx, &enrollment, &reasons, payload, device_time, seq)?;
        tx.commit()?;
        Ok(event)
    }

    /// Records many user actions at once (an imported list): each is validated against the
    /// state the ones before it left, and all are stored in one transaction, or none. The first
    /// invalid one is [`Error::InvalidAt`] with its index in `payloads`; nothing is stored.
    pub fn record_all(&mut self, payloads: Vec<Payload>, device_time: DateTime<Utc>) -> Result<Vec<Event>, Error> {
        let enrollment = self.require_enrollment()?;
        let tx = self.conn.transaction()?;
        let events = record_batch(&tx, &enrollment, payloads, device_time)?;
        tx.commit()?;
        Ok(events)
    }

    /// A new id for a household, resident or visit this device creates (see [`ids::record_id`]):
    /// the next value of a counter kept in the database.
    pub fn new_record_id(&mut self) -> Result<Uuid, Error> {
        let enrollment = self.require_enrollment()?;
        let tx = self.conn.transaction()?;
        let next = get_meta(&tx, META_RECORD_COUNTER)?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 1;
        set_meta(&tx, META_RECORD_COUNTER, &next.to_string())?;
        tx.commit()?;
        Ok(ids::record_id(enrollment.device_id, next))
    }

    /// The next batch to push: outbox events in sequence order, at most `max_events` and about
    /// `max_bytes` of JSON (always at least one event if any is queued).
    pub fn outbox_batch(&self, max_events: usize, max_bytes: usize) -> Result<Vec<Event>, Error> {
        self.refuse_in_sandbox()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.payload, e.id, e.device_id, e.seq, e.author, e.device_time
             FROM outbox o JOIN events e ON e.id = o.event_id ORDER BY o.seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([max_events as i64], event_from_row)?;
        let mut batch = Vec::new();
        let mut bytes = 0;
        for event in rows {
            let event = event??;
            bytes += serde_json::to_vec(&event)?.len();
            if !batch.is_empty() && bytes > max_bytes {
                break;
            }
            batch.push(event);
        }
        Ok(batch)
    }

    /// Applies a push answer: acknowledged and rejected events leave the outbox in one
    /// transaction; rejected ones stay in the log, marked, for a person to deal with, and the
    /// projection is replayed without them so it matches the server's. So it is when a resent
    /// event turns out to sit, in the server's order, before events pulled since (a restored
    /// server answers `duplicate` with its old place): replayed after them until now, a pulled
    /// record that needs it (another phone's visit to this phone's resident) did not apply.
    pub fn apply_push_response(&mut self, response: &PushResponse) -> Result<AckSummary, Error> {
        self.refuse_in_sandbox()?;
        let device_id = self.require_enrollment()?.device_id.to_string();
        let tx = self.conn.transaction()?;
        let mut summary = AckSummary::default();
        let mut replay = false;
        // the earliest server place given to an event the device had replayed as unordered
        let mut earliest_placed: Option<u64> = None;
        let now = acknowledged_now();
        for result in &response.all_results() {
            if result.status == EventStatus::Duplicate
                && let Some(server_seq) = result.server_seq
            {
                let unordered = tx
                    .query_row(
                        "SELECT server_seq IS NULL FROM events WHERE device_id = ?1 AND seq = ?2 AND origin = 'local'",
                        params![device_id, result.seq],
                        |r| r.get::<_, bool>(0),
                    )
                    .optional()?
                    .unwrap_or(false);
                if unordered {
                    earliest_placed = Some(earliest_placed.map_or(server_seq, |e| e.min(server_seq)));
                }
            }
            let (state, errors) = match result.status {
                EventStatus::Applied => {
                    summary.applied += 1;
                    ("acknowledged", None)
                }
                EventStatus::Flagged => {
                    summary.applied += 1;
                    summary.flagged += 1;
                    ("acknowledged", None)
                }
                EventStatus::Duplicate => {
                    summary.duplicates += 1;
                    ("acknowledged", None)
                }
                EventStatus::Rejected => {
                    summary.rejected += 1;
                    ("rejected", Some(serde_json::to_string(&result.errors)?))
                }
            };
            let flags = if result.flags.is_empty() { None } else { Some(serde_json::to_string(&result.flags)?) };
            // by sequence number: a compact answer names no ids; retention ages an acknowledged
            // event from now, whenever it was recorded
            let changed = tx.execute(
                "UPDATE events SET sync_state = ?3, reject_errors = ?4, server_seq = coalesce(?5, server_seq),
                        flags = coalesce(?6, flags),
                        acknowledged_at = CASE WHEN ?3 = 'acknowledged' THEN ?7 END
                 WHERE device_id = ?1 AND seq = ?2 AND origin = 'local' AND sync_state != 'rejected'",
                params![device_id, result.seq, state, errors, result.server_seq, flags, now],
            )?;
            if changed == 1 {
                tx.execute("DELETE FROM outbox WHERE seq = ?1", [result.seq])?;
                replay |= result.status == EventStatus::Rejected;
                // a visit recorded under a wrong clock awaits a look (applied at once, without it)
                if let Some(review) = result.flags.iter().find_map(|f| f.clock_review()) {
                    let payload: String = tx.query_row(
                        "SELECT payload FROM events WHERE device_id = ?1 AND seq = ?2 AND origin = 'local'",
                        params![device_id, result.seq],
                        |r| r.get(0),
                    )?;
                    if let Payload::VisitRecorded(visit) = serde_json::from_str(&payload)? {
                        let change = Change::VisitReview { visit_id: visit.visit_id, review: Some(review) };
                        sql::projection::apply_changes(&tx, &[change])?;
                    }
                }
            }
        }
        if let Some(expected) = response.expected_seq {
            requeue_from(&tx, expected)?;
        }
        if let Some(placed) = earliest_placed {
            replay |= tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM events WHERE origin = 'pulled' AND server_seq > ?1)",
                [placed],
                |r| r.get::<_, bool>(0),
            )?;
        }
        if replay {
            replay_log(&tx)?;
        }
        tx.commit()?;
        Ok(summary)
    }

    /// Stores one pull page and its cursor in one transaction. When a pulled edit belongs
    /// before a local edit of the same record (the server got it first), or a local edit of the
    /// record is still unsent, the projection is replayed in server order with the unsent
    /// events on top: pulled data never overwrites a local unsent edit, and the device ends
    /// where the server does.
    pub fn apply_pull_page(&mut self, page: &PullResponse) -> Result<usize, Error> {
        self.refuse_in_sandbox()?;
        let tx = self.conn.transaction()?;
        // a scope change's reset has begun (or never will): the mark is spent
        tx.execute("DELETE FROM sync_meta WHERE key = ?1", [META_SAME_DATABASE_RESET])?;
        for person in &page.people {
            tx.execute(
                "INSERT OR REPLACE INTO people (id, name, role) VALUES (?1, ?2, ?3)",
                params![person.id.to_string(), person.name, person.role.code()],
            )?;
        }
        let mut applied = 0;
        let clamped: std::collections::HashMap<u64, Flag> =
            page.clamped.iter().map(|c| (c.server_seq, c.flag)).collect();
        let resetting = get_meta(&tx, META_REPLAY_AFTER_PULL)?.is_some();
        let mut replay = resetting;
        for pulled in &page.events {
            let event = &pulled.event;
            let known = tx
                .query_row("SELECT 1 FROM events WHERE id = ?1", [event.id.to_string()], |_| Ok(()))
                .optional()?
                .is_some();
            if known {
                continue;
            }
            if !replay && event.payload.order_sensitive() && local_edit_after(&tx, event, pulled.server_seq)? {
                replay = true;
            }
            let clock = clamped.get(&pulled.server_seq).copied();
            if replay {
                insert_event(&tx, event, "pulled", "acknowledged", None, Some(pulled.server_seq))?;
            } else {
                match reduce(&SqlView::new(&tx), event) {
                    Ok(changes) => {
                        insert_event(&tx, event, "pulled", "acknowledged", None, Some(pulled.server_seq))?;
                        let changes = crate::reducer::with_clock(changes, clock.and_then(Flag::clock_review));
                        sql::projection::apply_changes(&tx, &changes)?;
                    }
                    Err(ReduceError::Rejected(errors)) => {
                        let errors = serde_json::to_string(&errors)?;
                        insert_event(&tx, event, "pulled", "rejected", Some(&errors), Some(pulled.server_seq))?;
                        continue;
                    }
                    Err(ReduceError::Store(e)) => return Err(e),
                }
            }
            applied += 1;
            if let Some(flag) = clock {
                // kept with the event, as a pushed event's flags are, for a replay to use
                tx.execute(
                    "UPDATE events SET flags = ?2 WHERE id = ?1",
                    params![event.id.to_string(), serde_json::to_string(&[flag])?],
                )?;
            }
        }
        // residents erased on request: nothing of them stays in the log, the projection or the
        // retention baseline
        let mut erased = false;
        for resident in &page.erased {
            if let Some(erasure) = crate::erasure::erasure_of(&tx, *resident)? {
                crate::erasure::redact_log(&tx, &erasure)?;
                crate::erasure::redact_rows(&tx, &erasure, "")?;
                crate::erasure::redact_rows(&tx, &erasure, "base_")?;
                // a half-typed visit form of theirs (its key names the resident)
                tx.execute("DELETE FROM drafts WHERE instr(key, ?1) > 0", [resident.to_string()])?;
                // the values an import changed on them, kept for its undo
                imports::forget_person(&tx, *resident)?;
                erased = true;
            }
        }
        if replay && !(resetting && page.has_more) {
            replay_log(&tx)?;
            erased |= get_meta(&tx, META_SCRUB_AFTER_RESET)?.is_some();
            tx.execute(
                "DELETE FROM sync_meta WHERE key IN (?1, ?2, ?3)",
                [META_REPLAY_AFTER_PULL, retention::META_PULL_OWN, META_SCRUB_AFTER_RESET],
            )?;
        }
        if !page.epoch.is_empty() {
            set_meta(&tx, META_EPOCH, &page.epoch)?;
        }
        // IMPORTANT: the cursor moves in the same transaction as the page it covers, so a crash
        // can never skip a page or store one twice.
        set_meta(&tx, META_PULL_CURSOR, &page.cursor.to_string())?;
        tx.commit()?;
        if erased {
            // the old pages of the WAL held the erased values (or what a role may no longer
            // hold): empty it
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(applied)
    }

    /// The server database the pull cursor belongs to ("" before the first pull).
    pub fn server_epoch(&self) -> Result<String, Error> {
        Ok(get_meta(&self.conn, META_EPOCH)?.unwrap_or_default())
    }

    /// The server said `reset`: forget what was pulled, and download the scope again from
    /// cursor 0. Local events are all kept (unsent ones stay queued). After a scope change
    /// ([`DeviceStore::change_scope`] just before) of the same database, where they sit in the
    /// server's order is kept too, and the server has every acknowledged one. Otherwise the
    /// server is another database, or this one restored from a backup (its order ends before
    /// the cursor), which may lack any of them: the order is forgotten and every acknowledged
    /// event of this device goes back to the outbox, under its own sequence number, for the
    /// server to store again what it lost and answer `duplicate` for the rest (and, queued, none
    /// can be purged meanwhile). The projection is replayed when the last page has arrived.
    pub fn begin_reset(&mut self, epoch: &str) -> Result<(), Error> {
        self.refuse_in_sandbox()?;
        let tx = self.conn.transaction()?;
        retention::drop_baseline(&tx)?;
        tx.execute("DELETE FROM events WHERE origin = 'pulled'", [])?;
        let same_database = get_meta(&tx, META_SAME_DATABASE_RESET)?.is_some();
        tx.execute("DELETE FROM sync_meta WHERE key = ?1", [META_SAME_DATABASE_RESET])?;
        if !same_database || get_meta(&tx, META_EPOCH)?.as_deref() != Some(epoch) {
            tx.execute("UPDATE events SET server_seq = NULL WHERE origin = 'local'", [])?;
            requeue_from(&tx, 1)?;
        }
        set_meta(&tx, META_PULL_CURSOR, "0")?;
        set_meta(&tx, META_EPOCH, epoch)?;
        set_meta(&tx, META_REPLAY_AFTER_PULL, "1")?;
        tx.commit()?;
        Ok(())
    }

    /// The server gave this device's user other places: remember the new scope and its
    /// places. What left the scope leaves the projection at the replay that ends the reset
    /// that comes with it (see [`DeviceStore::begin_reset`]), which it marks as a scope change's.
    pub fn change_scope(&mut self, scope: &Scope, places: &[Place]) -> Result<(), Error> {
        self.refuse_in_sandbox()?;
        let tx = self.conn.transaction()?;
        catalog::upsert_places(&tx, places)?;
        tx.execute("UPDATE enrollment SET scope_code = ?1 WHERE singleton = 1", [&scope.key()])?;
        set_meta(&tx, META_SAME_DATABASE_RESET, "1")?;
        tx.commit()?;
        Ok(())
    }

    /// The server says this device's user now has `role`. Between roles that see the same
    /// (a volunteer made team leader) only the enrollment changes. A police officer's device
    /// whose user is no longer police also drops what only the police may hold, before the
    /// reset that comes with it: the office's own tables (imports with the values they
    /// replaced, spot-check samples, column layouts, pairs marked distinct) and every own
    /// event the server has acknowledged, which the reset brings back masked (full CCCD
    /// numbers, police-only reasons). Unsent and rejected own events stay: never lose a
    /// person's own work. The other way round, the reset brings what the new role sees.
    pub fn change_role(&mut self, role: Role) -> Result<(), Error> {
        self.refuse_in_sandbox()?;
        let enrollment = self.require_enrollment()?;
        if enrollment.role == role {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE enrollment SET role = ?1 WHERE singleton = 1", [role.code()])?;
        let sees = crate::privacy::sees_everything;
        if sees(enrollment.role) != sees(role) {
            // the same server database: what stays keeps its place in the server's order
            set_meta(&tx, META_SAME_DATABASE_RESET, "1")?;
        }
        if sees(enrollment.role) && !sees(role) {
            let device = enrollment.device_id.to_string();
            let last: Option<u64> = tx.query_row(
                "SELECT max(seq) FROM events WHERE device_id = ?1 AND origin = 'local' AND sync_state = 'acknowledged'",
                [&device],
                |r| r.get(0),
            )?;
            if let Some(last) = last {
                retention::raise_seq_floor(&tx, enrollment.device_id, last)?;
                tx.execute("DELETE FROM events WHERE origin = 'local' AND sync_state = 'acknowledged'", [])?;
                set_meta(&tx, retention::META_PULL_OWN, "1")?;
            }
            tx.execute_batch(
                "DELETE FROM imports; DELETE FROM spot_check_items; DELETE FROM spot_checks;
                 DELETE FROM import_layouts; DELETE FROM not_duplicates;",
            )?;
            set_meta(&tx, META_SCRUB_AFTER_RESET, "1")?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The digest of the reason catalog the server last gave this device ("" when unknown: an
    /// app enrolled before catalogs were kept up to date, which a pull then brings).
    pub fn reasons_digest(&self) -> Result<String, Error> {
        Ok(get_meta(&self.conn, META_REASONS_DIGEST)?.unwrap_or_default())
    }

    /// The server's reason catalog for this device's province changed (a reason added, or one
    /// that now needs a note): take it on, so the phone refuses what the server would. Reasons
    /// are replaced or added, never removed (a visit may still name one).
    pub fn update_reasons(&mut self, reasons: &[Reason]) -> Result<(), Error> {
        self.refuse_in_sandbox()?;
        let tx = self.conn.transaction()?;
        catalog::upsert_reasons(&tx, reasons)?;
        set_meta(&tx, META_REASONS_DIGEST, &ReasonCatalog::new(reasons.to_vec()).digest())?;
        tx.commit()?;
        Ok(())
    }

    /// Notes that a full sync round completed now.
    pub fn mark_sync_success(&self) -> Result<(), Error> {
        set_meta(&self.conn, META_LAST_SUCCESS, &Utc::now().to_rfc3339())
    }

    /// The pull cursor (0 before the first pull).
    pub fn pull_cursor(&self) -> Result<u64, Error> {
        Ok(get_meta(&self.conn, META_PULL_CURSOR)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Local events not yet acknowledged.
    pub fn unsent_count(&self) -> Result<u64, Error> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
    }

    /// What the sync bar shows.
    pub fn sync_status(&self) -> Result<SyncStatus, Error> {
        let rejected = self.conn.query_row(
            "SELECT count(*) FROM events WHERE origin = 'local' AND sync_state = 'rejected' AND resolved_by IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(SyncStatus {
            unsent: self.unsent_count()?,
            rejected,
            last_success: get_meta(&self.conn, META_LAST_SUCCESS)?
                .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
                .map(|t| t.with_timezone(&Utc)),
            pull_cursor: self.pull_cursor()?,
        })
    }

    /// Every event this device recorded, in sequence order (for replays and bundle export).
    pub fn local_events(&self) -> Result<Vec<Event>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT payload, id, device_id, seq, author, device_time FROM events
             WHERE origin = 'local' ORDER BY seq",
        )?;
        let rows = stmt.query_map([], event_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Local events the server rejected that wait for a person (not yet corrected, sent again
    /// or given up: see [`rejected`]).
    pub fn rejected_events(&self) -> Result<Vec<RejectedEvent>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT payload, id, device_id, seq, author, device_time, reject_errors FROM events
             WHERE origin = 'local' AND sync_state = 'rejected' AND resolved_by IS NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |row| Ok((event_from_row(row)?, row.get::<_, Option<String>>(6)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (event, errors) = row?;
            out.push(RejectedEvent {
                event: event?,
                errors: errors.map(|e| serde_json::from_str(&e)).transpose()?.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The whole projection, for comparison with the server's.
    pub fn projection(&self) -> Result<Projection, Error> {
        sql::projection::dump(&self.conn)
    }
}

/// Whether this device has an edit of the same record that the server ordered after
/// `server_seq`, or has not received yet.
fn local_edit_after(tx: &Transaction<'_>, event: &Event, server_seq: u64) -> Result<bool, Error> {
    let record = event.payload.record_id().to_string();
    let mut stmt = tx.prepare_cached(
        "SELECT payload FROM events
         WHERE origin = 'local' AND sync_state != 'rejected' AND (server_seq IS NULL OR server_seq > ?1)
           AND (instr(payload, ?2) > 0)",
    )?;
    let rows = stmt.query_map(params![server_seq, record], |r| r.get::<_, String>(0))?;
    for payload in rows {
        let payload: Payload = serde_json::from_str(&payload?)?;
        if payload.order_sensitive() && payload.record_id() == event.payload.record_id() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Rebuilds the projection from the event log: first every event the server ordered (by
/// `server_seq`), then local events it has not ordered yet (by sequence). Rejected events are
/// left out; a local unsent event that no longer fits stays queued for the server to judge.
fn replay_log(tx: &Transaction<'_>) -> Result<(), Error> {
    sql::projection::clear(tx)?;
    // what purged events made (see `retention`), then the events still held
    retention::restore_baseline(tx)?;
    let events = events_with_clock(
        tx,
        "SELECT payload, id, device_id, seq, author, device_time, flags FROM events
         WHERE sync_state != 'rejected'
         ORDER BY server_seq IS NULL, server_seq, seq",
        [],
    )?;
    for (event, clock) in &events {
        match reduce(&SqlView::new(tx), event) {
            Ok(changes) => sql::projection::apply_changes(tx, &crate::reducer::with_clock(changes, *clock))?,
            Err(ReduceError::Rejected(_)) => {}
            Err(ReduceError::Store(e)) => return Err(e),
        }
    }
    drop_outside_scope(tx)
}

/// "Left your scope": removes from the projection the households outside the device's scope
/// (this phone's own acknowledged records of a place it no longer works in), with their
/// residents and visits, unless an unsent local event still needs them. The event log keeps
/// everything.
fn drop_outside_scope(tx: &Transaction<'_>) -> Result<(), Error> {
    let Some(scope) = tx.query_row("SELECT scope_code FROM enrollment", [], |r| r.get::<_, String>(0)).optional()?
    else {
        return Ok(());
    };
    let mut scope_paths = Vec::new();
    for code in Scope::parse_key(&scope)?.codes() {
        scope_paths.extend(scope_path(tx, code)?);
    }
    if scope_paths.is_empty() {
        return Ok(());
    }
    let view = SqlView::new(tx);
    let mut needed = std::collections::HashSet::new();
    let mut stmt = tx.prepare("SELECT e.payload FROM outbox o JOIN events e ON e.id = o.event_id")?;
    for payload in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let payload: Payload = serde_json::from_str(&payload?)?;
        let record = payload.record_id();
        needed.insert(record);
        if let Some(resident) = view.resident(record)? {
            needed.insert(resident.household_id);
        }
        if let Payload::ResidentAdded(p) = &payload {
            needed.insert(p.household_id);
        }
    }
    let mut stmt = tx.prepare("SELECT id, hamlet_code FROM households")?;
    let households: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    for (id, hamlet) in households {
        let path = match (catalog::place_path(tx, &hamlet)?, Uuid::from_str(&id)) {
            (Some(hamlet_path), Ok(id)) => Some(crate::places::household_path(&hamlet_path, id)),
            _ => None,
        };
        let inside = path.is_some_and(|p| scope_paths.iter().any(|s| p.starts_with(s)));
        let keep = inside || Uuid::from_str(&id).is_ok_and(|id| needed.contains(&id));
        if !keep {
            tx.execute(
                "DELETE FROM visits WHERE resident_id IN (SELECT id FROM residents WHERE household_id = ?1)",
                [&id],
            )?;
            tx.execute("DELETE FROM residents WHERE household_id = ?1", [&id])?;
            tx.execute("DELETE FROM households WHERE id = ?1", [&id])?;
        }
    }
    Ok(())
}

/// The path of one of the scope's places: a catalog place's, or a household's assigned on its
/// own (found in the projection; `None` until the phone has pulled it).
fn scope_path(tx: &Transaction<'_>, code: &str) -> Result<Option<String>, Error> {
    let Some(id) = crate::places::household_of(code) else {
        return catalog::place_path(tx, code);
    };
    let Some(household) = SqlView::new(tx).household(id)? else {
        return Ok(None);
    };
    Ok(catalog::place_path(tx, &household.hamlet_code)?.map(|hamlet| crate::places::household_path(&hamlet, id)))
}

/// Puts this device's acknowledged events from `seq` on back into the outbox: the server says it
/// lacks them (e.g. it was restored from a backup), and the event log still has them. Rejected
/// ones stay as they are.
fn requeue_from(tx: &Transaction<'_>, seq: u64) -> Result<(), Error> {
    tx.execute(
        "INSERT OR IGNORE INTO outbox (seq, event_id)
         SELECT e.seq, e.id FROM events e, enrollment n
         WHERE e.origin = 'local' AND e.device_id = n.device_id AND e.seq >= ?1 AND e.sync_state = 'acknowledged'",
        [seq],
    )?;
    tx.execute(
        "UPDATE events SET sync_state = 'unsent', acknowledged_at = NULL WHERE id IN (SELECT event_id FROM outbox)",
        [],
    )?;
    Ok(())
}

type EventRow = Result<Event, Error>;

/// The review a stored event's visit awaits, from the flags the server gave it (a wrong clock).
fn clock_review(flags: Option<&str>) -> Option<Review> {
    Flag::clock_among(flags?)?.clock_review()
}

/// Events of the log with the review their visit awaits: `sql` selects the columns of
/// [`event_from_row`], then `flags`.
pub(crate) fn events_with_clock(
    tx: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(Event, Option<Review>)>, Error> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map(params, |row| {
        let flags: Option<String> = row.get(6)?;
        Ok((event_from_row(row)?, clock_review(flags.as_deref())))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (event, clock) = row?;
        out.push((event?, clock));
    }
    Ok(out)
}

/// Maps `payload, id, device_id, seq, author, device_time` to an event.
fn event_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    let payload: String = row.get(0)?;
    let id: String = row.get(1)?;
    let device_id: String = row.get(2)?;
    let seq: u64 = row.get(3)?;
    let author: String = row.get(4)?;
    let device_time: String = row.get(5)?;
    Ok((|| {
        let bad = |what: &str| Error::invalid_input(format!("unreadable event {what} in the log"));
        Ok(Event {
            id: Uuid::from_str(&id).map_err(|_| bad("id"))?,
            device_id: Uuid::from_str(&device_id).map_err(|_| bad("device"))?,
            seq,
            author: Uuid::from_str(&author).map_err(|_| bad("author"))?,
            device_time: DateTime::parse_from_rfc3339(&device_time).map_err(|_| bad("time"))?.with_timezone(&Utc),
            payload: serde_json::from_str(&payload)?,
        })
    })())
}

/// Stores an event; an acknowledged one (pulled) is stamped acknowledged now.
fn insert_event(
    tx: &Transaction<'_>,
    event: &Event,
    origin: &str,
    sync_state: &str,
    reject_errors: Option<&str>,
    server_seq: Option<u64>,
) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO events (id, device_id, seq, author, device_time, type, payload, origin, sync_state, reject_errors,
                             server_seq, acknowledged_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        event.id.to_string(),
        event.device_id.to_string(),
        event.seq,
        event.author.to_string(),
        event.device_time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        event.payload.type_name(),
        serde_json::to_string(&event.payload)?,
        origin,
        sync_state,
        reject_errors,
        server_seq,
        (sync_state == "acknowledged").then(acknowledged_now),
    ])?;
    Ok(())
}

fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>, Error> {
    Ok(conn.query_row("SELECT value FROM sync_meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), Error> {
    conn.execute("INSERT OR REPLACE INTO sync_meta (key, value) VALUES (?1, ?2)", params![key, value])?;
    Ok(())
}

#[cfg(test)]
mod cipher_tests;
#[cfg(test)]
mod tests;
