//! Places and reasons in SQL: read, insert, and the ancestor path of a place.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Error;
use crate::places::{Place, PlaceLevel};
use crate::reasons::{Reason, ReasonCatalog};

fn place_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Place> {
    let level: String = row.get(2)?;
    Ok(Place {
        code: row.get(0)?,
        name: row.get(1)?,
        level: PlaceLevel::from_code(&level).unwrap_or(PlaceLevel::Hamlet),
        division_type: row.get(3)?,
        parent_code: row.get(4)?,
    })
}

/// A place by code.
pub fn place(conn: &Connection, code: &str) -> Result<Option<Place>, Error> {
    Ok(conn
        .query_row(
            "SELECT code, name, level, division_type, parent_code FROM places WHERE code = ?1",
            [code],
            place_from_row,
        )
        .optional()?)
}

/// The direct children of a place, by name.
pub fn children(conn: &Connection, code: &str) -> Result<Vec<Place>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, name, level, division_type, parent_code FROM places WHERE parent_code = ?1 ORDER BY name, code",
    )?;
    let rows = stmt.query_map([code], place_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Inserts or updates places. Parents must come before children (or already exist). A
/// household assigned on its own is a scope's place, not the catalog's: it is left out.
pub fn upsert_places(conn: &Connection, places: &[Place]) -> Result<usize, Error> {
    let places: Vec<&Place> = places.iter().filter(|p| p.level != crate::places::PlaceLevel::Household).collect();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO places (code, name, level, division_type, parent_code) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(code) DO UPDATE SET name = excluded.name, level = excluded.level,
             division_type = excluded.division_type, parent_code = excluded.parent_code",
    )?;
    for p in &places {
        stmt.execute(params![p.code, p.name, p.level.code(), p.division_type, p.parent_code])?;
    }
    Ok(places.len())
}

/// The place and its ancestors, root first; empty if the code is unknown.
pub fn lineage(conn: &Connection, code: &str) -> Result<Vec<Place>, Error> {
    crate::places::lineage_with(code, |c| place(conn, c), |c| Error::invalid_input(format!("place tree loops at {c}")))
}

/// The `/root/…/code/` path of a place, used to match scopes by containment.
pub fn place_path(conn: &Connection, code: &str) -> Result<Option<String>, Error> {
    Ok(crate::places::path_of(&lineage(conn, code)?))
}

fn reason_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Reason> {
    Ok(Reason {
        code: row.get(0)?,
        label_vi: row.get(1)?,
        label_en: row.get(2)?,
        can_activate_later: row.get(3)?,
        police_only: row.get(4)?,
        requires_note: row.get(5)?,
        province_code: row.get(6)?,
        sort_order: row.get(7)?,
    })
}

const REASON_COLUMNS: &str =
    "code, label_vi, label_en, can_activate_later, police_only, requires_note, province_code, sort_order";

/// A reason by code.
pub fn reason(conn: &Connection, code: &str) -> Result<Option<Reason>, Error> {
    Ok(conn
        .query_row(&format!("SELECT {REASON_COLUMNS} FROM reasons WHERE code = ?1"), [code], reason_from_row)
        .optional()?)
}

/// Every reason stored.
pub fn reasons(conn: &Connection) -> Result<ReasonCatalog, Error> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {REASON_COLUMNS} FROM reasons"))?;
    let rows = stmt.query_map([], reason_from_row)?;
    Ok(ReasonCatalog::new(rows.collect::<Result<_, _>>()?))
}

/// Inserts or replaces reasons (a province's additions, or a catalog sent to a device).
pub fn upsert_reasons(conn: &Connection, reasons: &[Reason]) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO reasons ({REASON_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?;
    for r in reasons {
        stmt.execute(params![
            r.code,
            r.label_vi,
            r.label_en,
            r.can_activate_later,
            r.police_only,
            r.requires_note,
            r.province_code,
            r.sort_order
        ])?;
    }
    Ok(())
}
