//! The office's log of the lists it imported: each import's events are recorded together with
//! its log row, and an undo is recorded together with the mark that it was undone, so neither
//! can land without the other. What an import's summary and undo hold is the importer's JSON,
//! opaque here (`gocua_import::ImportCounts`, `gocua_import::UndoRecord`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use super::{DeviceStore, now_seconds, record_batch};
use crate::error::Error;
use crate::event::{Event, Payload};

/// One imported list, as the office's import screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportLogEntry {
    /// The import.
    pub id: Uuid,
    /// The file it came from.
    pub file_name: String,
    /// When it was recorded (this device's clock).
    pub recorded_at: DateTime<Utc>,
    /// Who imported it.
    pub author: Uuid,
    /// How many events recorded it.
    pub events: u64,
    /// Its counts (the importer's JSON).
    pub summary: String,
    /// When it was undone, if it was.
    pub undone_at: Option<DateTime<Utc>>,
    /// The undo's counts (the importer's JSON), once undone.
    pub undo_summary: Option<String>,
}

fn time(i: usize, s: String) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

fn uuid(i: usize, s: String) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

impl DeviceStore {
    /// Records an imported list's events and its log row in one transaction (all or none, as
    /// [`DeviceStore::record_all`]). Returns the import's id and the events.
    pub fn record_import(
        &mut self,
        file_name: &str,
        payloads: Vec<Payload>,
        summary: &str,
        undo: &str,
    ) -> Result<(Uuid, Vec<Event>), Error> {
        self.refuse_in_sandbox()?;
        let enrollment = self.require_enrollment()?;
        let at = now_seconds();
        let tx = self.conn.transaction()?;
        let events = record_batch(&tx, &enrollment, payloads, at)?;
        let (first, last) = match (events.first(), events.last()) {
            (Some(first), Some(last)) => (first.seq, last.seq),
            _ => return Err(Error::invalid_input("Danh sách không có gì mới để nhập / the list brings nothing new")),
        };
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO imports (id, file_name, recorded_at, author, first_seq, last_seq, summary, undo)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id.to_string(),
                file_name,
                at.to_rfc3339(),
                enrollment.user_id.to_string(),
                first,
                last,
                summary,
                undo
            ],
        )?;
        tx.commit()?;
        Ok((id, events))
    }

    /// The lists this device imported, newest first.
    pub fn imports(&self) -> Result<Vec<ImportLogEntry>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, file_name, recorded_at, author, last_seq - first_seq + 1, summary, undone_at, undo_summary
             FROM imports ORDER BY recorded_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ImportLogEntry {
                id: uuid(0, r.get(0)?)?,
                file_name: r.get(1)?,
                recorded_at: time(2, r.get(2)?)?,
                author: uuid(3, r.get(3)?)?,
                events: r.get(4)?,
                summary: r.get(5)?,
                undone_at: r.get::<_, Option<String>>(6)?.map(|s| time(6, s)).transpose()?,
                undo_summary: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What undoing import `id` takes (the importer's JSON), while it is not undone; `None` for
    /// an import this device does not know.
    pub fn import_undo(&self, id: Uuid) -> Result<Option<String>, Error> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .query_row("SELECT undo, undone_at FROM imports WHERE id = ?1", [id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match row {
            Some((_, Some(_))) => {
                Err(Error::invalid_input("Lần nhập này đã được hoàn tác / this import was undone already"))
            }
            Some((undo, None)) => Ok(Some(undo)),
            None => Ok(None),
        }
    }

    /// Records the undo of import `id` (its events, possibly none: what it brought may be gone
    /// already) and marks it undone, in one transaction. The undo's own record is dropped: an
    /// undone import holds no personal data any more.
    pub fn record_import_undo(&mut self, id: Uuid, payloads: Vec<Payload>, summary: &str) -> Result<Vec<Event>, Error> {
        self.refuse_in_sandbox()?;
        let enrollment = self.require_enrollment()?;
        let at = now_seconds();
        let tx = self.conn.transaction()?;
        let marked = tx.execute(
            "UPDATE imports SET undone_at = ?2, undo_summary = ?3, undo = '{}' WHERE id = ?1 AND undone_at IS NULL",
            params![id.to_string(), at.to_rfc3339(), summary],
        )?;
        if marked == 0 {
            return Err(Error::invalid_input(
                "Không có lần nhập này, hoặc nó đã được hoàn tác / no such import, or it was undone already",
            ));
        }
        let events = record_batch(&tx, &enrollment, payloads, at)?;
        tx.commit()?;
        Ok(events)
    }
}
