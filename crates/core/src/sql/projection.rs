//! The reducer's projection in SQL: a [`StateView`] over a connection and the writer of changes.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::error::Error;
use crate::event::GeoPosition;
use crate::funnel::{FunnelState, VisitAction};
use crate::model::{Household, Resident, Review, Sex, Visit};
use crate::places::Place;
use crate::reasons::Reason;
use crate::reducer::{Change, Projection, StateView};
use crate::spotcheck::CheckOutcome;
use crate::text::fold;

/// Reads state for the reducer from the projection tables of one connection (or transaction).
#[derive(Debug, Clone, Copy)]
pub struct SqlView<'c> {
    conn: &'c Connection,
}

impl<'c> SqlView<'c> {
    /// A view over `conn`.
    pub fn new(conn: &'c Connection) -> Self {
        SqlView { conn }
    }
}

pub(crate) fn bad(column: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unreadable {what}: {value}").into(),
    )
}

pub(crate) fn uuid_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let s: String = row.get(i)?;
    Uuid::from_str(&s).map_err(|_| bad(i, "uuid", &s))
}

pub(crate) fn opt_uuid_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Uuid>> {
    let s: Option<String> = row.get(i)?;
    s.map(|s| Uuid::from_str(&s).map_err(|_| bad(i, "uuid", &s))).transpose()
}

fn opt_date_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let s: Option<String> = row.get(i)?;
    s.map(|s| NaiveDate::from_str(&s).map_err(|_| bad(i, "date", &s))).transpose()
}

pub(crate) fn opt_status_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<FunnelState>> {
    let s: Option<String> = row.get(i)?;
    s.map(|s| FunnelState::from_code(&s).ok_or_else(|| bad(i, "funnel state", &s))).transpose()
}

const HOUSEHOLD_COLUMNS: &str = "id, hamlet_code, address, head_name, members, smartphones, has_internet_computer, version, review, \
     field_versions, removed";

/// Maps a row selected with the household columns.
pub fn household_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Household> {
    Ok(Household {
        id: uuid_at(row, 0)?,
        hamlet_code: row.get(1)?,
        address: row.get(2)?,
        head_name: row.get(3)?,
        members: row.get(4)?,
        smartphones: row.get(5)?,
        has_internet_computer: row.get(6)?,
        version: row.get(7)?,
        review: opt_review_at(row, 8)?,
        field_versions: field_versions_at(row, 9)?,
        removed: row.get(10)?,
    })
}

fn opt_review_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Review>> {
    let s: Option<String> = row.get(i)?;
    s.map(|s| Review::from_code(&s).ok_or_else(|| bad(i, "review", &s))).transpose()
}

fn field_versions_at(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<BTreeMap<String, u32>> {
    let s: String = row.get(i)?;
    serde_json::from_str(&s).map_err(|_| bad(i, "field versions", &s))
}

fn field_versions_json(map: &BTreeMap<String, u32>) -> Result<String, Error> {
    Ok(serde_json::to_string(map)?)
}

/// The resident columns [`resident_from_row`] reads, in its order.
pub const RESIDENT_COLUMNS: &str = "id, household_id, full_name, birth_year, sex, cccd, phone, version, review, \
     status, reason_code, follow_up, deciding_visit, visit_count, field_versions, removed, claim_check, checked_visit, \
     merged_into";

/// Maps a row selected with the resident columns.
pub fn resident_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Resident> {
    let sex: String = row.get(4)?;
    Ok(Resident {
        id: uuid_at(row, 0)?,
        household_id: uuid_at(row, 1)?,
        full_name: row.get(2)?,
        birth_year: row.get(3)?,
        sex: Sex::from_code(&sex).ok_or_else(|| bad(4, "sex", &sex))?,
        cccd: row.get(5)?,
        phone: row.get(6)?,
        version: row.get(7)?,
        review: opt_review_at(row, 8)?,
        status: opt_status_at(row, 9)?,
        reason_code: row.get(10)?,
        follow_up: opt_date_at(row, 11)?,
        deciding_visit: opt_uuid_at(row, 12)?,
        visit_count: row.get(13)?,
        field_versions: field_versions_at(row, 14)?,
        removed: row.get(15)?,
        claim_check: match row.get::<_, Option<String>>(16)? {
            Some(code) => Some(CheckOutcome::from_code(&code).ok_or_else(|| bad(16, "check outcome", &code))?),
            None => None,
        },
        checked_visit: opt_uuid_at(row, 17)?,
        merged_into: opt_uuid_at(row, 18)?,
    })
}

const VISIT_COLUMNS: &str = "id, resident_id, status, reason_code, action, follow_up, note, author, device_id, \
     device_time, steps, lat_e6, lon_e6, accuracy_m, review";

/// A visit's position from its three nullable columns at `at`, `at + 1`, `at + 2`: all or none.
pub fn position_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Option<GeoPosition>> {
    let lat: Option<i32> = row.get(at)?;
    let lon: Option<i32> = row.get(at + 1)?;
    let accuracy: Option<u32> = row.get(at + 2)?;
    Ok(match (lat, lon, accuracy) {
        (Some(lat_e6), Some(lon_e6), Some(accuracy_m)) => Some(GeoPosition { lat_e6, lon_e6, accuracy_m }),
        _ => None,
    })
}

fn visit_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Visit> {
    let status: String = row.get(2)?;
    let action: Option<String> = row.get(4)?;
    let device_time: String = row.get(9)?;
    Ok(Visit {
        id: uuid_at(row, 0)?,
        resident_id: uuid_at(row, 1)?,
        status: FunnelState::from_code(&status).ok_or_else(|| bad(2, "funnel state", &status))?,
        reason_code: row.get(3)?,
        action: action
            .map(|a| {
                serde_json::from_value::<VisitAction>(serde_json::Value::String(a.clone()))
                    .map_err(|_| bad(4, "action", &a))
            })
            .transpose()?,
        follow_up: opt_date_at(row, 5)?,
        note: row.get(6)?,
        author: uuid_at(row, 7)?,
        device_id: uuid_at(row, 8)?,
        device_time: DateTime::parse_from_rfc3339(&device_time)
            .map_err(|_| bad(9, "time", &device_time))?
            .with_timezone(&Utc),
        steps: match row.get::<_, Option<String>>(10)? {
            Some(json) => serde_json::from_str(&json).map_err(|_| bad(10, "checklist steps", &json))?,
            None => Vec::new(),
        },
        position: position_at(row, 11)?,
        review: opt_review_at(row, 14)?,
    })
}

fn action_code(action: VisitAction) -> String {
    match serde_json::to_value(action) {
        Ok(serde_json::Value::String(s)) => s,
        _ => unreachable!("unit enum variants serialize as strings"),
    }
}

impl StateView for SqlView<'_> {
    fn household(&self, id: Uuid) -> Result<Option<Household>, Error> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE id = ?1"),
                [id.to_string()],
                household_from_row,
            )
            .optional()?)
    }
    fn resident(&self, id: Uuid) -> Result<Option<Resident>, Error> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE id = ?1"),
                [id.to_string()],
                resident_from_row,
            )
            .optional()?)
    }
    fn visit_exists(&self, id: Uuid) -> Result<bool, Error> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM visits WHERE id = ?1", [id.to_string()], |_| Ok(()))
            .optional()?
            .is_some())
    }
    fn place(&self, code: &str) -> Result<Option<Place>, Error> {
        super::catalog::place(self.conn, code)
    }
    fn reason(&self, code: &str) -> Result<Option<Reason>, Error> {
        super::catalog::reason(self.conn, code)
    }
}

/// Writes the reducer's changes. Call inside the transaction that stores the event.
pub fn apply_changes(conn: &Connection, changes: &[Change]) -> Result<(), Error> {
    for change in changes {
        match change {
            Change::PutHousehold(h) => {
                conn.prepare_cached(&format!(
                    "INSERT OR REPLACE INTO households ({HOUSEHOLD_COLUMNS}, search_key)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                ))?
                .execute(params![
                    h.id.to_string(),
                    h.hamlet_code,
                    h.address,
                    h.head_name,
                    h.members,
                    h.smartphones,
                    h.has_internet_computer,
                    h.version,
                    h.review.map(Review::code),
                    field_versions_json(&h.field_versions)?,
                    h.removed,
                    fold(&format!("{} {}", h.head_name, h.address)),
                ])?;
            }
            Change::PutResident(r) => {
                conn.prepare_cached(&format!(
                    "INSERT OR REPLACE INTO residents ({RESIDENT_COLUMNS}, search_key)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
                ))?
                .execute(params![
                    r.id.to_string(),
                    r.household_id.to_string(),
                    r.full_name,
                    r.birth_year,
                    r.sex.code(),
                    r.cccd,
                    r.phone,
                    r.version,
                    r.review.map(Review::code),
                    r.status.map(FunnelState::code),
                    r.reason_code,
                    r.follow_up.map(|d| d.to_string()),
                    r.deciding_visit.map(|v| v.to_string()),
                    r.visit_count,
                    field_versions_json(&r.field_versions)?,
                    r.removed,
                    r.claim_check.map(CheckOutcome::code),
                    r.checked_visit.map(|v| v.to_string()),
                    r.merged_into.map(|v| v.to_string()),
                    fold(&r.full_name),
                ])?;
            }
            Change::AddVisit(v) => {
                conn.prepare_cached(&format!(
                    "INSERT INTO visits ({VISIT_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ))?
                .execute(params![
                    v.id.to_string(),
                    v.resident_id.to_string(),
                    v.status.code(),
                    v.reason_code,
                    v.action.map(action_code),
                    v.follow_up.map(|d| d.to_string()),
                    v.note,
                    v.author.to_string(),
                    v.device_id.to_string(),
                    v.device_time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    if v.steps.is_empty() { None } else { Some(serde_json::to_string(&v.steps)?) },
                    v.position.map(|p| p.lat_e6),
                    v.position.map(|p| p.lon_e6),
                    v.position.map(|p| p.accuracy_m),
                    v.review.map(Review::code),
                ])?;
            }
            Change::PutAssignment(a) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO assignments (user_id, places, assigned_by) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    a.user_id.to_string(),
                    a.places.join(","),
                    a.assigned_by.to_string()
                ])?;
            }
            Change::PutCampaign(c) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO campaigns (id, place, starts, ends, plan) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    c.campaign_id.to_string(),
                    c.place,
                    c.starts.to_string(),
                    c.ends.to_string(),
                    serde_json::to_string(c)?,
                ])?;
            }
            Change::MoveVisits { from, to } => {
                conn.prepare_cached("UPDATE visits SET resident_id = ?2 WHERE resident_id = ?1")?
                    .execute(params![from.to_string(), to.to_string()])?;
            }
            Change::VisitReview { visit_id, review } => {
                conn.prepare_cached("UPDATE visits SET review = ?2 WHERE id = ?1")?
                    .execute(params![visit_id.to_string(), review.map(Review::code)])?;
            }
            Change::Flagged(_) => {}
        }
    }
    Ok(())
}

/// Empties a device's projection, the office's assignments and the campaigns included (before
/// replaying the event log in a new order).
pub fn clear(conn: &Connection) -> Result<(), Error> {
    conn.execute_batch(
        "DELETE FROM visits; DELETE FROM residents; DELETE FROM households; DELETE FROM assignments;
         DELETE FROM campaigns;",
    )?;
    Ok(())
}

/// A resident's visits, newest first (by visit id: UUIDv7 ids sort by creation).
pub fn visits_of(conn: &Connection, resident_id: Uuid) -> Result<Vec<Visit>, Error> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE resident_id = ?1 ORDER BY id DESC"))?;
    let rows = stmt.query_map([resident_id.to_string()], visit_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The part of the projection in these hamlets: their households, those households' residents,
/// and those residents' visits (what an import into a commune is checked against).
pub fn dump_in(conn: &Connection, hamlets: &[String]) -> Result<Projection, Error> {
    let hamlets = serde_json::to_string(hamlets)?;
    let mut projection = Projection::default();
    let in_hamlets = "SELECT h.id FROM households h WHERE h.hamlet_code IN (SELECT value FROM json_each(?1))";
    let mut stmt = conn.prepare(&format!(
        "SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE hamlet_code IN (SELECT value FROM json_each(?1))"
    ))?;
    for h in stmt.query_map([&hamlets], household_from_row)? {
        let h = h?;
        projection.households.insert(h.id, h);
    }
    let mut stmt =
        conn.prepare(&format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE household_id IN ({in_hamlets})"))?;
    for r in stmt.query_map([&hamlets], resident_from_row)? {
        let r = r?;
        projection.residents.insert(r.id, r);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {VISIT_COLUMNS} FROM visits
         WHERE resident_id IN (SELECT r.id FROM residents r WHERE r.household_id IN ({in_hamlets}))"
    ))?;
    for v in stmt.query_map([&hamlets], visit_from_row)? {
        let v = v?;
        projection.visits.insert(v.id, v);
    }
    Ok(projection)
}

/// Reads the whole projection.
pub fn dump(conn: &Connection) -> Result<Projection, Error> {
    let mut projection = Projection::default();
    let mut stmt = conn.prepare(&format!("SELECT {HOUSEHOLD_COLUMNS} FROM households"))?;
    for h in stmt.query_map([], household_from_row)? {
        let h = h?;
        projection.households.insert(h.id, h);
    }
    let mut stmt = conn.prepare(&format!("SELECT {RESIDENT_COLUMNS} FROM residents"))?;
    for r in stmt.query_map([], resident_from_row)? {
        let r = r?;
        projection.residents.insert(r.id, r);
    }
    let mut stmt = conn.prepare(&format!("SELECT {VISIT_COLUMNS} FROM visits"))?;
    for v in stmt.query_map([], visit_from_row)? {
        let v = v?;
        projection.visits.insert(v.id, v);
    }
    Ok(projection)
}
