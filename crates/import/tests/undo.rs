//! Whole imports undone in a real device store: what an import created is removed, what it
//! changed goes back unless someone changed it again since, an import undone twice changes
//! nothing more, and the same list imported after its undo comes back as new records.

use gocua_core::event::{IMPORT_UNDONE, Payload, ResidentPatch};
use gocua_core::fixtures;
use gocua_core::sql::projection::SqlView;
use gocua_core::store::{DeviceStore, HouseholdQuery};
use gocua_import::testdata::{CURRENT_YEAR, GenFormat, GenSpec, Generated, Plant, PlantKind, generate};
use gocua_import::{
    ImportEvents, Known, KnownResident, Plan, PlanOptions, UndoCounts, UndoRecord, detect_columns, events_for, plan,
    read_table, undo_events,
};
use uuid::Uuid;

fn spec(corrected: bool) -> GenSpec {
    let planted = PlantKind::ALL.iter().map(|kind| Plant::seeded(*kind)).collect();
    GenSpec { planted, format: GenFormat::Csv, corrected, ..GenSpec::new(600, 20_261_207) }
}

fn office(generated: &Generated) -> DeviceStore {
    let mut store = DeviceStore::open_in_memory().unwrap();
    let places = generated.places();
    let mut response = gocua_core::sync::protocol::EnrollResponse { places, ..fixtures::enroll_response(&store) };
    response.user.role = gocua_core::sync::protocol::Role::CommunePolice;
    store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
    store
}

fn plan_against(generated: &Generated, store: &DeviceStore) -> (Plan, ImportEvents) {
    let table = read_table(&generated.bytes, &generated.file_name).unwrap();
    let map = detect_columns(&table).unwrap();
    let options = PlanOptions { key_namespace: "03445".to_owned(), ..PlanOptions::new(CURRENT_YEAR) };
    let residents = KnownResident::all_in(&store.projection().unwrap());
    let known = Known { hamlets: generated.known.hamlets.clone(), residents };
    let planned = plan(&table, &map, &known, &options, None).unwrap();
    let events = events_for(&planned, &SqlView::new(store.connection())).unwrap();
    (planned, events)
}

/// Imports `generated` as the office does: its events and its log row together.
fn import(store: &mut DeviceStore, generated: &Generated) -> (Uuid, ImportEvents) {
    let (_, events) = plan_against(generated, store);
    let summary = serde_json::to_string(&events.counts).unwrap();
    let undo = serde_json::to_string(&events.undo).unwrap();
    let (id, _) = store.record_import(&generated.file_name, events.payloads.clone(), &summary, &undo).unwrap();
    (id, events)
}

fn undo(store: &mut DeviceStore, id: Uuid) -> UndoCounts {
    let record: UndoRecord = serde_json::from_str(&store.import_undo(id).unwrap().unwrap()).unwrap();
    let events = undo_events(&record, &SqlView::new(store.connection())).unwrap();
    store.record_import_undo(id, events.payloads, &serde_json::to_string(&events.counts).unwrap()).unwrap();
    events.counts
}

fn listed(store: &DeviceStore) -> usize {
    store.households(&HouseholdQuery { limit: Some(10_000), ..HouseholdQuery::default() }).unwrap().len()
}

fn rename(store: &mut DeviceStore, id: Uuid, name: &str) {
    let version = store.projection().unwrap().residents[&id].version;
    store
        .record(Payload::ResidentPatched(ResidentPatch {
            resident_id: id,
            base_version: version,
            full_name: Some(name.into()),
            ..ResidentPatch::default()
        }))
        .unwrap();
}

#[test]
fn an_import_undone_removes_what_it_brought_restores_what_it_changed_and_may_come_again() {
    let first_file = generate(&spec(false)).unwrap();
    let corrected_file = generate(&spec(true)).unwrap();
    let mut store = office(&first_file);

    let (first, first_events) = import(&mut store, &first_file);
    let households = first_events.counts.households_created;
    let people = first_events.counts.people_created;
    assert!(people > 500 && households > 100, "{:?}", first_events.counts);
    assert_eq!(listed(&store), households);

    // the corrected file brings the rows that were wrong; undoing it removes only those
    let (second, second_events) = import(&mut store, &corrected_file);
    let brought = second_events.counts.people_created;
    assert!(brought >= 5, "{:?}", second_events.counts);
    let undone = undo(&mut store, second);
    assert_eq!(undone.people_removed, brought);
    assert_eq!(undone.households_removed, second_events.counts.households_created);
    let held = store.projection().unwrap();
    let live = held.residents.values().filter(|r| r.removed.is_none()).count();
    assert_eq!(live, people, "the first import's people stay");
    assert_eq!(listed(&store), households);

    // hand edits, then the first file again: the import changes the names back to the list's
    let ids: Vec<Uuid> = first_events.undo.people_created.iter().take(2).copied().collect();
    let listed_name = held.residents[&ids[0]].full_name.clone();
    rename(&mut store, ids[0], "Nguyễn Văn Sửa Tay");
    rename(&mut store, ids[1], "Trần Thị Sửa Tay");
    let (third, third_events) = import(&mut store, &first_file);
    assert_eq!(third_events.counts.people_updated, 2, "{:?}", third_events.counts);
    assert_eq!(store.projection().unwrap().residents[&ids[0]].full_name, listed_name);
    // someone changes one of them again after the import: undoing keeps theirs
    rename(&mut store, ids[1], "Trần Thị Sửa Lần Hai");
    let undone = undo(&mut store, third);
    assert_eq!((undone.records_restored, undone.fields_kept), (1, 1), "{undone:?}");
    let held = store.projection().unwrap();
    assert_eq!(held.residents[&ids[0]].full_name, "Nguyễn Văn Sửa Tay", "back to before the import");
    assert_eq!(held.residents[&ids[1]].full_name, "Trần Thị Sửa Lần Hai", "changed since: kept");

    // undoing the first import removes everything it brought, and a second undo is refused
    let undone = undo(&mut store, first);
    assert_eq!((undone.households_removed, undone.people_removed), (households, people));
    assert_eq!(listed(&store), 0);
    let held = store.projection().unwrap();
    assert!(held.residents.values().all(|r| r.removed.as_deref() == Some(IMPORT_UNDONE)));
    assert!(store.import_undo(first).is_err(), "undone once only");
    assert!(store.record_import_undo(first, Vec::new(), "{}").is_err());
    let log = store.imports().unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|entry| entry.undone_at.is_some()));

    // the list again: every row comes back, as records of their own (the tombstones stay)
    let (_, again) = import(&mut store, &first_file);
    assert_eq!((again.counts.households_created, again.counts.people_created), (households, people));
    assert!(again.undo.people_created.iter().all(|id| !first_events.undo.people_created.contains(id)));
    assert_eq!(listed(&store), households);
    let held = store.projection().unwrap();
    assert_eq!(held.residents.values().filter(|r| r.removed.is_none()).count(), people);
    // and a further re-import finds them held: nothing to record
    let (_, unchanged) = plan_against(&first_file, &store);
    assert!(unchanged.payloads.is_empty(), "{:?}", unchanged.counts);
}
