//! The office's log of the lists it imported: each import's events are recorded together with
//! its log row, and an undo is recorded together with the mark that it was undone, so neither
//! can land without the other. What an import's summary and undo hold is the importer's JSON,
//! opaque here (`gocua_import::ImportCounts`, `gocua_import::UndoRecord`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use rusqlite::Transaction;

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

/// Forgets what the import log keeps of a resident erased on request: the values before an
/// import changed them (`gocua_import::UndoRecord::people_changed`, matched by `"id"`). Their
/// id stays in `people_created`, which holds no personal data. The undo of such an import then
/// leaves that person's fields as they are.
pub(super) fn forget_person(tx: &Transaction<'_>, resident: Uuid) -> Result<(), Error> {
    let id = resident.to_string();
    let rows: Vec<(String, String)> = {
        let mut stmt = tx.prepare("SELECT id, undo FROM imports WHERE instr(undo, ?1) > 0")?;
        let rows = stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (import, undo) in rows {
        let mut record: serde_json::Value = serde_json::from_str(&undo)?;
        if let Some(changed) = record.get_mut("people_changed").and_then(|v| v.as_array_mut()) {
            changed.retain(|entry| entry.get("id").and_then(|v| v.as_str()) != Some(id.as_str()));
        }
        tx.execute("UPDATE imports SET undo = ?2 WHERE id = ?1", params![import, serde_json::to_string(&record)?])?;
    }
    Ok(())
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

    /// Every column layout this office remembered (the importer's JSON), newest first.
    pub fn import_layouts(&self) -> Result<Vec<String>, Error> {
        let mut stmt = self.conn.prepare("SELECT layout FROM import_layouts ORDER BY saved_at DESC, fingerprint")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Remembers the column layout for lists whose headers hash to `fingerprint`, replacing an
    /// earlier one. Kept on this device only; refused in the trainer's sandbox.
    pub fn save_import_layout(&mut self, fingerprint: &str, layout: &str) -> Result<(), Error> {
        self.refuse_in_sandbox()?;
        self.conn.execute(
            "INSERT INTO import_layouts (fingerprint, layout, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (fingerprint) DO UPDATE SET layout = excluded.layout, saved_at = excluded.saved_at",
            params![fingerprint, layout, now_seconds().to_rfc3339()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn an_erased_person_s_values_before_an_import_are_forgotten_by_the_import_log() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut response = fixtures::enroll_response(&store);
        response.user.role = crate::sync::protocol::Role::CommunePolice;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let (erased, kept) = (Uuid::now_v7(), Uuid::now_v7());
        let undo = serde_json::json!({
            "people_created": [erased],
            "people_changed": [
                { "id": erased, "full_name": { "before": "Lò Thị Bí Mật", "after": "Lò Thị Lan" } },
                { "id": kept, "phone": { "before": null, "after": "0912345678" } },
            ],
        })
        .to_string();
        let (_, _, events) = fixtures::household_payloads(&mut fixtures::Rng::new(1), "03445-01", 1);
        let (id, _) = store.record_import("danh-sach.csv", events, "{}", &undo).unwrap();
        let tx = store.conn.transaction().unwrap();
        forget_person(&tx, erased).unwrap();
        tx.commit().unwrap();
        let left = store.import_undo(id).unwrap().unwrap();
        assert!(!left.contains("Bí Mật") && !left.contains("Lò Thị Lan"), "{left}");
        assert!(left.contains(&kept.to_string()) && left.contains("0912345678"), "the others stay: {left}");
        assert!(left.contains(&erased.to_string()), "the id of a record created stays");
    }

    #[test]
    fn a_layout_is_remembered_once_per_header_and_replaced() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        assert!(store.import_layouts().unwrap().is_empty());
        store.save_import_layout("abc", r#"{"v":1}"#).unwrap();
        store.save_import_layout("def", r#"{"v":2}"#).unwrap();
        store.save_import_layout("abc", r#"{"v":3}"#).unwrap();
        let mut held = store.import_layouts().unwrap();
        held.sort();
        assert_eq!(held, [r#"{"v":2}"#, r#"{"v":3}"#]);
    }
}
