//! A resident's rights on the server (Decree 13/2023/NĐ-CP): everything held about one person,
//! exported (`admin export-resident`), and their personal values erased on request
//! (`admin erase-resident`) from the log and the projection at once, and from each phone at its
//! next pull (`PullResponse::erased`). Both are audited, by resident id only.

use std::collections::BTreeSet;

use chrono::Utc;
use gocua_core::erasure::{self, Erasure};
use gocua_core::event::Payload;
use gocua_server_store::{ErasureRow, Store, Tx, place_path, run_write};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::Error;

fn unknown(resident: Uuid) -> Error {
    Error::NotFound(format!("không có người dân {resident} / unknown resident {resident}"))
}

fn who(by: &str) -> Result<String, Error> {
    let by = by.trim();
    if by.is_empty() {
        return Err(Error::invalid("cần ghi ai thực hiện (--by) / say who does this (--by)"));
    }
    Ok(by.chars().take(100).collect())
}

/// Everything the server holds about `resident`: the record, their household, their visits
/// and every event that mentions them, with who recorded it from which device and when.
pub fn export(store: &dyn Store, resident: Uuid, by: &str) -> Result<Value, Error> {
    let by = who(by)?;
    run_write(store, |tx| {
        let record = tx.residents(&[resident])?.pop().ok_or_else(|| unknown(resident))?;
        let household = tx.households(&[record.household_id])?.pop();
        let visits = tx.visits_of(resident)?;
        let events: Vec<Value> = tx
            .events_mentioning(resident)?
            .into_iter()
            .map(|e| {
                json!({
                    "server_seq": e.server_seq,
                    "type": e.type_name,
                    "recorded_at": micros(e.device_time),
                    "received_at": micros(e.received_at),
                    "status": e.status,
                    "payload": e.payload,
                    "recorded_by": e.author_name,
                    "device": e.device_name,
                })
            })
            .collect();
        let erased = tx.erasure(resident)?.map(|e| e.erased_at.to_rfc3339());
        crate::audit::append(
            tx,
            &crate::audit::Entry::at_command_line(
                "export_resident",
                json!({ "resident": resident, "events": events.len(), "by": by }),
            ),
        )?;
        Ok(json!({
            "resident": record,
            "household": household,
            "visits": visits,
            "events": events,
            "erased_at": erased,
            "exported_at": Utc::now().to_rfc3339(),
        }))
    })
}

fn micros(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// What an erasure changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// Events rewritten.
    pub events: usize,
    /// Whether the person had been erased before (nothing was left to change).
    pub again: bool,
    /// What the backend could not scrub (lingering copies), for the officer.
    pub warnings: Vec<String>,
}

/// Who `resident` is in the log and the projection: their household and every name they had;
/// `None` when neither knows them.
fn erasure_of(tx: &mut dyn Tx, resident: Uuid) -> Result<Option<Erasure>, Error> {
    let mut names = BTreeSet::new();
    let mut household_id = tx.residents(&[resident])?.pop().map(|r| {
        names.insert(r.full_name);
        r.household_id
    });
    for event in tx.events_mentioning(resident)? {
        match event.payload {
            Payload::ResidentAdded(p) if p.resident_id == resident => {
                household_id.get_or_insert(p.household_id);
                names.insert(p.fields.full_name);
            }
            Payload::ResidentEdited(p) if p.resident_id == resident => {
                names.insert(p.fields.full_name);
            }
            Payload::ResidentPatched(p) if p.resident_id == resident => {
                names.extend(p.full_name);
            }
            _ => {}
        }
    }
    names.remove(erasure::ERASED_NAME);
    Ok(household_id.map(|household_id| Erasure { resident_id: resident, household_id, names }))
}

/// Erases `resident`'s personal values from the server's log and projection in one
/// transaction, and notes the erasure for the phones of their place; then asks the backend to
/// scrub what it keeps beside its tables (`Store::scrub_after_erasure`).
pub fn erase(store: &dyn Store, resident: Uuid, by: &str) -> Result<Erased, Error> {
    let by = who(by)?;
    let (events, again) = run_write(store, |tx| {
        let erasure = erasure_of(tx, resident)?.ok_or_else(|| unknown(resident))?;
        let mut events = 0;
        for id in [erasure.resident_id, erasure.household_id] {
            for mut stored in tx.events_mentioning(id)? {
                if erasure::redact(&mut stored.payload, &erasure) {
                    tx.rewrite_payload(stored.server_seq, &stored.payload)?;
                    events += 1;
                }
            }
        }
        let names: Vec<String> = erasure.names.iter().cloned().collect();
        tx.redact_projection(resident, erasure.household_id, &names, erasure::ERASED_NAME)?;
        // the household's path: a phone given that household alone hears of the erasure too
        let place_path = place_path(tx, &erasure.household_id.to_string())?.unwrap_or_default();
        let at_seq = tx.last_server_seq()?;
        let again = tx.erasure(resident)?.is_some();
        tx.put_erasure(&ErasureRow {
            resident_id: resident,
            place_path,
            at_seq,
            erased_at: Utc::now(),
            erased_by: by.clone(),
        })?;
        crate::audit::append(
            tx,
            &crate::audit::Entry::at_command_line(
                "erase_resident",
                json!({ "resident": resident, "events": events, "by": by }),
            ),
        )?;
        Ok::<_, Error>((events, again))
    })?;
    let warnings = store.scrub_after_erasure()?;
    Ok(Erased { events, again, warnings })
}
