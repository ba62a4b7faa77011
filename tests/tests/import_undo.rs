//! A whole import undone, end to end: the commune police import a list in the office, a
//! volunteer's phone pulls it and records a visit offline; the office undoes the import. After
//! their next syncs the list is gone from the server and from the phone, the volunteer's visit
//! still reached the server, an app too old to apply the undo is told to update, and the same
//! list imported again comes back on the phone.

use gocua_core::event::IMPORT_UNDONE;
use gocua_core::fixtures::{self, Rng};
use gocua_core::sql::projection::SqlView;
use gocua_core::store::{DeviceStore, HouseholdQuery};
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};
use gocua_import::testdata::{GenFormat, GenSpec, Plant, PlantKind, generate};
use gocua_import::{UndoRecord, undo_events};
use uuid::Uuid;

mod lists;

fn listed(store: &DeviceStore) -> usize {
    store.households(&HouseholdQuery { limit: Some(10_000), ..HouseholdQuery::default() }).unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undone_import_leaves_the_server_and_the_phones_and_the_volunteer_s_visit_still_counts() {
    let planted = [PlantKind::BadCccd, PlantKind::UnknownHamlet, PlantKind::LostLeadingZero]
        .into_iter()
        .map(Plant::seeded)
        .collect();
    let list = generate(&GenSpec { hamlets: 2, planted, format: GenFormat::Csv, ..GenSpec::new(300, 21) }).unwrap();
    let server = TestServer::start().await;
    assert_eq!(server.admin(&["import-places"]), "imported 3355 places");
    server.add_hamlets("03445", list.known.hamlets.iter().map(|h| (h.code.as_str(), h.name.as_str())));
    let office_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &office_code).await;
    let phone_code = server.volunteer_code("Lò Thị Lan", "03445");
    let (phone, phone_link) = enrolled_device(&server, "phone.sqlite", &phone_code).await;

    // the office imports the list; the phone pulls it
    let imported = lists::import(&mut office.lock().unwrap(), &list);
    let (first, households, people) = (imported.id, imported.households, imported.people);
    assert!(households > 50 && people > 250, "{households} households, {people} people");
    sync_once(&office, &office_link).await.unwrap();
    sync_once(&phone, &phone_link).await.unwrap();
    assert_eq!(listed(&phone.lock().unwrap()), households);
    let held = phone.lock().unwrap().projection().unwrap();
    assert_eq!(held.residents.len(), people);

    // offline, the volunteer visits one of the imported people
    let mut rng = Rng::new(7);
    let visited = *held.residents.keys().next().unwrap();
    let visit = phone.lock().unwrap().record(fixtures::visit_payload(&mut rng, visited, &[])).unwrap();

    // the office undoes the whole import and syncs
    {
        let mut office = office.lock().unwrap();
        let record: UndoRecord = serde_json::from_str(&office.import_undo(first).unwrap().unwrap()).unwrap();
        let undo = undo_events(&record, &SqlView::new(office.connection())).unwrap();
        assert_eq!((undo.counts.households_removed, undo.counts.people_removed), (households, people));
        office.record_import_undo(first, undo.payloads, &serde_json::to_string(&undo.counts).unwrap()).unwrap();
        assert_eq!(listed(&office), 0);
    }
    sync_once(&office, &office_link).await.unwrap();
    let on_server = server.projection();
    assert_eq!(on_server.households.len(), households);
    assert!(on_server.households.values().all(|h| h.removed.as_deref() == Some(IMPORT_UNDONE)));
    assert!(on_server.residents.values().all(|r| r.removed.as_deref() == Some(IMPORT_UNDONE)));

    // an app that cannot apply the undo is told to update, not served a page it would misread
    let token = phone.lock().unwrap().enrollment().unwrap().unwrap().token;
    let old_app = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/pull?cursor=0&limit=2000", server.url))
        .bearer_auth(&token)
        .header("gocua-schema-version", "5")
        .send()
        .await
        .unwrap();
    assert_eq!(old_app.status().as_u16(), 426);

    // the phone's next sync: its visit goes up and counts, the list leaves its screens
    let report = sync_once(&phone, &phone_link).await.unwrap();
    assert_eq!(report.rejected, 0, "{report:?}");
    assert_eq!(listed(&phone.lock().unwrap()), 0, "gone from the phone");
    let after = phone.lock().unwrap().projection().unwrap();
    assert!(after.residents.values().all(|r| r.removed.as_deref() == Some(IMPORT_UNDONE)));
    let on_server = server.projection();
    assert!(on_server.visits.contains_key(&visit_id(&visit)), "the volunteer's visit reached the server");
    assert_eq!(on_server.residents[&visited].visit_count, 1);

    // the same list again comes back as new records, on the server and on the phone
    let again = lists::import(&mut office.lock().unwrap(), &list);
    assert_eq!((again.households, again.people), (households, people));
    sync_once(&office, &office_link).await.unwrap();
    sync_once(&phone, &phone_link).await.unwrap();
    assert_eq!(listed(&phone.lock().unwrap()), households);
    let on_server = server.projection();
    assert_eq!(on_server.residents.values().filter(|r| r.removed.is_none()).count(), people);
    assert_eq!(on_server.residents.len(), 2 * people, "the undone records stay as tombstones");
}

fn visit_id(event: &gocua_core::event::Event) -> Uuid {
    match &event.payload {
        gocua_core::event::Payload::VisitRecorded(v) => v.visit_id,
        other => panic!("not a visit: {}", other.type_name()),
    }
}
