//! A resident's rights on the server (Decree 13/2023/NĐ-CP): everything held about one person,
//! exported (`admin export-resident`), and their personal values erased on request
//! (`admin erase-resident`) from the log and the projection at once, and from each phone at its
//! next pull (`PullResponse::erased`). Both are audited, by resident id only.

use chrono::Utc;
use gocua_core::erasure::{self, Erasure};
use gocua_core::reducer::StateView;
use gocua_core::sql::catalog;
use gocua_core::sql::projection::{self, SqlView};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::admin::AdminError;

fn unknown(resident: Uuid) -> AdminError {
    AdminError::Invalid(format!("không có người dân {resident} / unknown resident {resident}"))
}

fn who(by: &str) -> Result<String, AdminError> {
    let by = by.trim();
    if by.is_empty() {
        return Err(AdminError::Invalid("cần ghi ai thực hiện (--by) / say who does this (--by)".into()));
    }
    Ok(by.chars().take(100).collect())
}

/// Everything the server holds about `resident`: the record, their household, their visits
/// and every event that mentions them, with who recorded it from which device and when.
pub fn export(conn: &mut Connection, resident: Uuid, by: &str) -> Result<Value, AdminError> {
    let by = who(by)?;
    let tx = conn.transaction()?;
    let view = SqlView::new(&tx);
    let record = view.resident(resident)?.ok_or_else(|| unknown(resident))?;
    let household = view.household(record.household_id)?;
    let visits = projection::visits_of(&tx, resident)?;
    let mut stmt = tx.prepare(
        "SELECT e.server_seq, e.type, e.device_time, e.received_at, e.status, e.payload,
                coalesce(u.name, ''), coalesce(d.name, '')
         FROM events e LEFT JOIN users u ON u.id = e.author LEFT JOIN devices d ON d.id = e.device_id
         WHERE instr(e.payload, ?1) > 0 ORDER BY e.server_seq",
    )?;
    let events = stmt
        .query_map([resident.to_string()], |r| {
            Ok(json!({
                "server_seq": r.get::<_, i64>(0)?,
                "type": r.get::<_, String>(1)?,
                "recorded_at": r.get::<_, String>(2)?,
                "received_at": r.get::<_, String>(3)?,
                "status": r.get::<_, String>(4)?,
                "payload": serde_json::from_str::<Value>(&r.get::<_, String>(5)?).unwrap_or(Value::Null),
                "recorded_by": r.get::<_, String>(6)?,
                "device": r.get::<_, String>(7)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    let erased: Option<String> = tx
        .query_row("SELECT erased_at FROM erasures WHERE resident_id = ?1", [resident.to_string()], |r| r.get(0))
        .optional()?;
    crate::audit::append(
        &tx,
        &crate::audit::Entry::at_command_line(
            "export_resident",
            json!({ "resident": resident, "events": events.len(), "by": by }),
        ),
    )?;
    tx.commit()?;
    Ok(json!({
        "resident": record,
        "household": household,
        "visits": visits,
        "events": events,
        "erased_at": erased,
        "exported_at": Utc::now().to_rfc3339(),
    }))
}

/// What an erasure changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// Events rewritten.
    pub events: usize,
    /// Whether the person had been erased before (nothing was left to change).
    pub again: bool,
}

/// Erases `resident`'s personal values from the server's log and projection in one
/// transaction, and notes the erasure for the phones of their place.
pub fn erase(conn: &mut Connection, resident: Uuid, by: &str) -> Result<Erased, AdminError> {
    let by = who(by)?;
    let tx = conn.transaction()?;
    let erasure: Erasure = erasure::erasure_of(&tx, resident)?.ok_or_else(|| unknown(resident))?;
    let events = erasure::redact_log(&tx, &erasure)?;
    erasure::redact_rows(&tx, &erasure, "")?;
    let hamlet = SqlView::new(&tx).household(erasure.household_id)?.map(|h| h.hamlet_code).unwrap_or_default();
    let place_path = catalog::place_path(&tx, &hamlet)?.unwrap_or_default();
    let at_seq: i64 = tx.query_row("SELECT coalesce(max(server_seq), 0) FROM events", [], |r| r.get(0))?;
    let again = tx
        .query_row("SELECT 1 FROM erasures WHERE resident_id = ?1", [resident.to_string()], |_| Ok(()))
        .optional()?
        .is_some();
    tx.execute(
        "INSERT INTO erasures (resident_id, place_path, at_seq, erased_at, erased_by) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (resident_id) DO UPDATE SET at_seq = excluded.at_seq, erased_at = excluded.erased_at,
                                                erased_by = excluded.erased_by",
        params![resident.to_string(), place_path, at_seq, Utc::now().to_rfc3339(), by],
    )?;
    crate::audit::append(
        &tx,
        &crate::audit::Entry::at_command_line(
            "erase_resident",
            json!({ "resident": resident, "events": events, "by": by }),
        ),
    )?;
    tx.commit()?;
    Ok(Erased { events, again })
}

/// The residents erased under `scope_path` since a phone at `cursor` last pulled (a phone that
/// pulled after an erasure got the rewritten events already; one at the same point may not
/// have, and is told again: erasing twice changes nothing).
pub fn erased_since(conn: &Connection, scope_path: &str, cursor: u64) -> Result<Vec<Uuid>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT resident_id FROM erasures WHERE at_seq >= ?1 AND instr(place_path, ?2) > 0 ORDER BY resident_id",
    )?;
    let rows = stmt.query_map(params![cursor, scope_path], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for id in rows {
        if let Ok(id) = Uuid::parse_str(&id?) {
            out.push(id);
        }
    }
    Ok(out)
}
