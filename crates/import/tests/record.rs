//! A plan recorded into a real device store through `events_for` and `record_all`: the same
//! file twice records nothing, and a corrected file records only its corrected rows.

use std::collections::BTreeSet;

use gocua_core::event::Payload;
use gocua_core::fixtures;
use gocua_core::sql::projection::SqlView;
use gocua_core::store::DeviceStore;
use gocua_import::testdata::{CURRENT_YEAR, GenFormat, GenSpec, Generated, Plant, PlantKind, generate};
use gocua_import::{
    ImportEvents, Known, KnownResident, Plan, PlanOptions, Severity, detect_columns, events_for, plan, read_table,
};

fn spec(corrected: bool) -> GenSpec {
    let planted = PlantKind::ALL.iter().flat_map(|kind| std::iter::repeat_n(Plant::seeded(*kind), 2)).collect();
    GenSpec { planted, format: GenFormat::Xlsx, corrected, ..GenSpec::new(5_000, 20_261_206) }
}

/// An office store enrolled in commune 03445 with the generated list's hamlets.
fn office(generated: &Generated) -> DeviceStore {
    let mut store = DeviceStore::open_in_memory().unwrap();
    let places = generated.places();
    let response = gocua_core::sync::protocol::EnrollResponse { places, ..fixtures::enroll_response(&store) };
    store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
    store
}

/// What the office holds, as the planner is told it.
fn known(store: &DeviceStore, generated: &Generated) -> Known {
    let residents = KnownResident::all_in(&store.projection().unwrap());
    Known { hamlets: generated.known.hamlets.clone(), residents }
}

fn plan_against(generated: &Generated, store: &DeviceStore) -> (Plan, ImportEvents) {
    let table = read_table(&generated.bytes, &generated.file_name).unwrap();
    let map = detect_columns(&table).unwrap();
    let options = PlanOptions { key_namespace: "03445".to_owned(), ..PlanOptions::new(CURRENT_YEAR) };
    let planned = plan(&table, &map, &known(store, generated), &options, None).unwrap();
    let events = events_for(&planned, &SqlView::new(store.connection())).unwrap();
    (planned, events)
}

fn record(store: &mut DeviceStore, events: &ImportEvents) {
    let at = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap();
    store.record_all(events.payloads.clone(), at).unwrap();
}

#[test]
fn a_list_recorded_twice_changes_nothing_and_a_corrected_one_only_its_corrected_rows() {
    let first_file = generate(&spec(false)).unwrap();
    let mut store = office(&first_file);

    let (first, events) = plan_against(&first_file, &store);
    let error_rows: BTreeSet<u32> =
        first.report.row_codes(&[Severity::Error]).into_iter().map(|(row, _)| row).collect();
    assert!(error_rows.len() >= 20, "the plants left rows out");
    assert_eq!(events.counts.households_created, first.households.len());
    assert_eq!(events.counts.people_created, first.people.len());
    assert_eq!(events.counts.people_updated + events.counts.households_updated + events.counts.unchanged, 0);
    assert_eq!(events.payloads.len(), first.households.len() + first.people.len());
    record(&mut store, &events);
    let held = store.projection().unwrap();
    assert_eq!((held.households.len(), held.residents.len()), (first.households.len(), first.people.len()));
    for person in &first.people {
        let resident = &held.residents[&person.id()];
        assert_eq!(resident.household_id, person.household_id());
        assert_eq!(
            (resident.full_name.as_str(), resident.cccd.as_ref()),
            (person.fields.full_name.as_str(), person.fields.cccd.as_ref())
        );
    }
    let unsent = store.unsent_count().unwrap();

    // The same file again: the people it brought are known by their ids, not duplicates.
    let (again, events) = plan_against(&first_file, &store);
    assert_eq!(again.report.row_codes(&[Severity::Error]), first.report.row_codes(&[Severity::Error]));
    assert_eq!(
        again.people.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
        first.people.iter().map(|p| p.key.clone()).collect::<Vec<_>>()
    );
    assert!(events.payloads.is_empty(), "nothing to record: {:?}", events.counts);
    assert_eq!(events.counts.unchanged, first.households.len() + first.people.len());
    assert_eq!(store.unsent_count().unwrap(), unsent);

    // The corrected file: only the rows that were wrong come in; nothing held changes.
    let corrected = generate(&spec(true)).unwrap();
    let (fixed, events) = plan_against(&corrected, &store);
    assert!(fixed.report.row_codes(&[Severity::Error]).is_empty(), "{:?}", fixed.report.row_codes(&[Severity::Error]));
    let new_rows: BTreeSet<u32> = events
        .payloads
        .iter()
        .filter_map(|payload| match payload {
            Payload::ResidentAdded(added) => fixed.people.iter().find(|p| p.id() == added.resident_id).map(|p| p.row),
            _ => None,
        })
        .collect();
    assert_eq!(events.counts.people_created, new_rows.len());
    assert!(new_rows.len() >= 10, "the corrected rows come in: {}", new_rows.len());
    assert_eq!(fixed.people.len(), first.people.len() + new_rows.len(), "every other row is one already held");
    assert!(
        new_rows.is_subset(&error_rows),
        "only rows left out before come in: {:?}",
        new_rows.difference(&error_rows).collect::<Vec<_>>()
    );
    assert_eq!(events.counts.people_updated, 0, "{:?}", events.counts);
    record(&mut store, &events);
    assert_eq!(store.projection().unwrap().residents.len(), first.people.len() + new_rows.len());
    assert_eq!(store.unsent_count().unwrap(), unsent + events.payloads.len() as u64);
}
