//! A person typed at the door that a police list also brings, end to end: the volunteer types
//! her (no CCCD, a phone number) and records a visit; the office imports the list, whose report
//! flags the row as possibly already there, and sees the two records as a likely duplicate; it
//! merges them. Meanwhile another volunteer visits the imported record and the first, offline
//! and unaware of the merge, visits the typed one again. After everyone syncs, the server and
//! every phone hold one person with all three visits.

use gocua_core::event::{HouseholdCreated, MERGED, Payload, ResidentAdded, ResidentsMerged, VisitRecorded};
use gocua_core::funnel::FunnelState;
use gocua_core::reducer::Projection;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::sync_once;
use gocua_core::text::fold;
use gocua_e2e::{TestServer, assert_same_as_volunteer_sees, enrolled_device};
use gocua_import::testdata::{CURRENT_YEAR, GenFormat, GenSpec, generate};
use gocua_import::{Known, KnownHamlet, PlanOptions, detect_columns, plan, read_table};
use uuid::Uuid;

mod lists;

fn visit(store: &mut DeviceStore, resident_id: Uuid, status: FunnelState) -> Uuid {
    let visit_id = store.new_record_id().unwrap();
    store
        .record(Payload::VisitRecorded(VisitRecorded {
            visit_id,
            resident_id,
            status,
            reason_code: None,
            action: None,
            follow_up: None,
            steps: vec![],
            note: None,
            position: None,
        }))
        .unwrap();
    visit_id
}

/// The people named `name`, born `year`, not removed.
fn live_named(p: &Projection, name: &str, year: i32) -> Vec<Uuid> {
    p.residents
        .values()
        .filter(|r| r.removed.is_none() && fold(&r.full_name) == fold(name) && r.birth_year == year)
        .map(|r| r.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_person_an_import_also_brings_is_flagged_merged_and_one_person_everywhere_with_every_visit() {
    let list =
        generate(&GenSpec { hamlets: 2, planted: vec![], format: GenFormat::Csv, ..GenSpec::new(120, 33) }).unwrap();
    let server = TestServer::start().await;
    assert_eq!(server.admin(&["import-places"]), "imported 3355 places");
    server.add_hamlets("03445", list.known.hamlets.iter().map(|h| (h.code.as_str(), h.name.as_str())));
    let office_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &office_code).await;
    let lan_code = server.volunteer_code("Lò Thị Lan", "03445");
    let (lan, lan_link) = enrolled_device(&server, "lan.sqlite", &lan_code).await;
    let son_code = server.volunteer_code("Hà Văn Sơn", "03445");
    let (son, son_link) = enrolled_device(&server, "son.sqlite", &son_code).await;

    // someone on the list, as the volunteer meets her at the door: no CCCD, her phone number
    let someone = {
        let table = read_table(&list.bytes, &list.file_name).unwrap();
        let map = detect_columns(&table).unwrap();
        let hamlets = list.known.hamlets.iter().map(|h| KnownHamlet { code: h.code.clone(), name: h.name.clone() });
        let known = Known { hamlets: hamlets.collect(), residents: vec![] };
        let options = PlanOptions { key_namespace: "03445".into(), ..PlanOptions::new(CURRENT_YEAR) };
        plan(&table, &map, &known, &options, None).unwrap().people.swap_remove(17)
    };
    let (name, year) = (someone.fields.full_name.clone(), someone.fields.birth_year);
    let typed = {
        let mut store = lan.lock().unwrap();
        let (household_id, resident_id) = (store.new_record_id().unwrap(), store.new_record_id().unwrap());
        store
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id,
                hamlet_code: someone.hamlet_code.clone(),
                address: "Nhà mới cuối ngõ".into(),
                head_name: name.clone(),
            }))
            .unwrap();
        let mut fields = someone.fields.clone();
        (fields.cccd, fields.phone) = (None, Some("0912345678".into()));
        store.record(Payload::ResidentAdded(ResidentAdded { resident_id, household_id, fields })).unwrap();
        resident_id
    };
    let first_visit = visit(&mut lan.lock().unwrap(), typed, FunnelState::RegisteredPending);
    sync_once(&lan, &lan_link).await.unwrap();
    sync_once(&office, &office_link).await.unwrap();

    // the office imports the list: the row is flagged, imported, and shown as a likely duplicate
    let imported = lists::import(&mut office.lock().unwrap(), &list);
    let flagged: Vec<_> = imported.report.issues.iter().filter(|i| i.code == "possible_existing").collect();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0].row, Some(someone.row), "the report names the row");
    let listed = someone.id();
    let pairs = office.lock().unwrap().duplicate_pairs().unwrap();
    let pair = pairs.iter().find(|p| p.b.resident_id == typed).expect("the pair is shown");
    assert_eq!((pair.a.resident_id, pair.a.imported, pair.b.imported), (listed, true, false), "keep the listed one");
    assert!(pair.same_hamlet && !pair.same_cccd);
    sync_once(&office, &office_link).await.unwrap();

    // the other volunteer visits the listed record; the office merges; the first volunteer,
    // offline and unaware, visits the typed record again
    sync_once(&son, &son_link).await.unwrap();
    let son_visit = visit(&mut son.lock().unwrap(), listed, FunnelState::ApprovedNotActivated);
    sync_once(&son, &son_link).await.unwrap();
    office.lock().unwrap().record(Payload::ResidentsMerged(ResidentsMerged { kept: listed, merged: typed })).unwrap();
    let late_visit = visit(&mut lan.lock().unwrap(), typed, FunnelState::ActivatedLevel1);
    sync_once(&office, &office_link).await.unwrap();
    for _ in 0..2 {
        for (phone, link) in [(&lan, &lan_link), (&son, &son_link), (&office, &office_link)] {
            let report = sync_once(phone, link).await.unwrap();
            assert_eq!(report.rejected, 0, "{report:?}");
        }
    }

    // one person everywhere, with all three visits and the furthest outcome
    let on_server = server.projection();
    assert_eq!(live_named(&on_server, &name, year), [listed]);
    let kept = &on_server.residents[&listed];
    assert_eq!((kept.visit_count, kept.status), (3, Some(FunnelState::ActivatedLevel1)));
    assert_eq!(kept.phone.as_deref(), Some("0912345678"), "the typed record's phone");
    assert!(kept.cccd.is_some(), "the list's CCCD");
    let gone = &on_server.residents[&typed];
    assert_eq!((gone.removed.as_deref(), gone.merged_into), (Some(MERGED), Some(listed)));
    for v in [first_visit, son_visit, late_visit] {
        assert_eq!(on_server.visits[&v].resident_id, listed, "visit {v}");
    }
    assert!(office.lock().unwrap().duplicate_pairs().unwrap().iter().all(|p| p.b.resident_id != typed));
    for (who, phone) in [("Lan", &lan), ("Sơn", &son)] {
        let held = phone.lock().unwrap().projection().unwrap();
        assert_eq!(live_named(&held, &name, year), [listed], "{who}");
        let shown = phone.lock().unwrap().resident_detail(listed).unwrap().visits;
        assert_eq!(shown.len(), 3, "{who} sees every visit on the one person");
        assert_same_as_volunteer_sees(&held, &on_server, who);
    }
    assert_eq!(office.lock().unwrap().projection().unwrap(), on_server, "the office holds what the server does");
}
