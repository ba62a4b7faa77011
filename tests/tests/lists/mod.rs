//! The office's import of a police list, as `import_commit` does it, shared by the end-to-end
//! tests that need one: plan against what the store holds, then the events and the log row in
//! one transaction.

#![allow(dead_code)] // each test file uses its own part of it

use gocua_core::sql::projection::SqlView;
use gocua_core::store::DeviceStore;
use gocua_import::testdata::{CURRENT_YEAR, Generated};
use gocua_import::{
    Known, KnownHamlet, KnownResident, PlanOptions, Report, detect_columns, events_for, plan, read_table,
};
use uuid::Uuid;

/// What one import did.
pub struct Imported {
    /// Its row in the office's import log.
    pub id: Uuid,
    /// Households it created.
    pub households: usize,
    /// People it created.
    pub people: usize,
    /// The dry run's report.
    pub report: Report,
}

/// Imports `list` into the office's store (commune 03445).
pub fn import(office: &mut DeviceStore, list: &Generated) -> Imported {
    let table = read_table(&list.bytes, &list.file_name).unwrap();
    let map = detect_columns(&table).unwrap();
    let hamlets = office.hamlets().unwrap().into_iter().map(|p| KnownHamlet { code: p.code, name: p.name }).collect();
    let known = Known { hamlets, residents: KnownResident::all_in(&office.projection().unwrap()) };
    let options = PlanOptions { key_namespace: "03445".into(), ..PlanOptions::new(CURRENT_YEAR) };
    let planned = plan(&table, &map, &known, &options, None).unwrap();
    let events = events_for(&planned, &SqlView::new(office.connection())).unwrap();
    let (households, people) = (events.counts.households_created, events.counts.people_created);
    let summary = serde_json::to_string(&events.counts).unwrap();
    let undo = serde_json::to_string(&events.undo).unwrap();
    let (id, _) = office.record_import(&list.file_name, events.payloads, &summary, &undo).unwrap();
    Imported { id, households, people, report: planned.report }
}
