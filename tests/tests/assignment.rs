//! The office assigns hamlets ("phân công địa bàn"): the commune police record who works where
//! on the office's device, as events. Once the office has synced, each volunteer's phone pulls
//! only the hamlet given to them; a re-assignment moves a hamlet off the old phone at its next
//! sync, and the visit that phone recorded offline meanwhile still reaches the server and
//! counts. An assignment the server cannot accept (a police officer, not a volunteer) comes back
//! rejected with its reason, and changes nobody's places.

use gocua_core::event::{AssignmentSet, Payload};
use gocua_core::fixtures::{self, Rng};
use gocua_core::reducer::Projection;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};
use gocua_server_store::run_read;
use uuid::Uuid;

fn hamlets_of(p: &Projection) -> Vec<String> {
    let mut codes: Vec<String> = p.households.values().map(|h| h.hamlet_code.clone()).collect();
    codes.sort();
    codes.dedup();
    codes
}

fn assign(user: &str, places: &[&str]) -> Payload {
    Payload::AssignmentSet(AssignmentSet {
        user_id: Uuid::parse_str(user).unwrap(),
        places: places.iter().map(|p| (*p).to_owned()).collect(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hamlet_assigned_reaches_only_its_volunteer_and_a_reassignment_keeps_the_unsent_visit() {
    let server = TestServer::start().await;
    server.add_places();
    // the office holds the commune's households, three in each hamlet
    let office_user =
        server.admin(&["add-user", "--name", "Trần Văn Công", "--role", "commune-police", "--scope", "03445"]);
    let office_code = server.admin(&["create-code", "--user", &office_user]);
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &office_code).await;
    let mut rng = Rng::new(14);
    for i in 0..6 {
        let hamlet = if i % 2 == 0 { "03445-01" } else { "03445-02" };
        let (_, _, payloads) = fixtures::household_payloads(&mut rng, hamlet, 2);
        let mut store = office.lock().unwrap();
        for p in payloads {
            store.record(p).unwrap();
        }
    }
    sync_once(&office, &office_link).await.unwrap();

    // two volunteers of the commune, not yet given a hamlet: they start with the whole commune
    let lan = server.admin(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03445"]);
    let dung = server.admin(&["add-user", "--name", "Giàng A Dũng", "--role", "volunteer", "--scope", "03445"]);
    let lan_code = server.admin(&["create-code", "--user", &lan]);
    let dung_code = server.admin(&["create-code", "--user", &dung]);
    let (lan_phone, lan_link) = enrolled_device(&server, "lan.sqlite", &lan_code).await;
    let (dung_phone, dung_link) = enrolled_device(&server, "dung.sqlite", &dung_code).await;

    // the office gives hamlet 01 to Lan and hamlet 02 to Dũng, offline, then syncs
    {
        let mut office = office.lock().unwrap();
        office.record(assign(&lan, &["03445-01"])).unwrap();
        office.record(assign(&dung, &["03445-02"])).unwrap();
        let held = office.assignments().unwrap();
        assert_eq!(held.len(), 2, "the office shows who works where before it syncs");
    }
    let report = sync_once(&office, &office_link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (2, 0), "{report:?}");
    for (phone, link) in [(&lan_phone, &lan_link), (&dung_phone, &dung_link)] {
        sync_once(phone, link).await.unwrap();
    }
    let lan_holds = lan_phone.lock().unwrap().projection().unwrap();
    let dung_holds = dung_phone.lock().unwrap().projection().unwrap();
    assert_eq!(hamlets_of(&lan_holds), ["03445-01"], "Lan's phone pulls only her hamlet");
    assert_eq!(hamlets_of(&dung_holds), ["03445-02"], "Dũng's phone pulls only his");
    assert_eq!((lan_holds.households.len(), dung_holds.households.len()), (3, 3));
    assert!(lan_holds.residents.keys().all(|r| !dung_holds.residents.contains_key(r)));
    assert_eq!(lan_phone.lock().unwrap().enrollment().unwrap().unwrap().scope.key(), "03445-01");

    // offline, Lan records a visit in hamlet 01…
    let visited = *lan_holds.residents.keys().next().unwrap();
    lan_phone.lock().unwrap().record(fixtures::visit_payload(&mut rng, visited, &[])).unwrap();
    // …while the office moves hamlet 01 to Dũng and gives Lan hamlet 02
    office.lock().unwrap().record(assign(&dung, &["03445-01", "03445-02"])).unwrap();
    office.lock().unwrap().record(assign(&lan, &["03445-02"])).unwrap();
    sync_once(&office, &office_link).await.unwrap();

    let report = sync_once(&lan_phone, &lan_link).await.unwrap();
    assert_eq!((report.applied, report.rejected, report.resets), (1, 0, 1), "{report:?}");
    let lan_holds = lan_phone.lock().unwrap().projection().unwrap();
    assert_eq!(hamlets_of(&lan_holds), ["03445-02"], "hamlet 01 left Lan's phone");
    assert!(!lan_holds.residents.contains_key(&visited));
    assert_eq!(lan_phone.lock().unwrap().unsent_count().unwrap(), 0);
    let on_server = server.projection();
    assert_eq!(on_server.residents[&visited].visit_count, 1, "her unsent visit reached the server and counts");
    assert!(on_server.visits.values().any(|v| v.author.to_string() == lan && v.resident_id == visited));
    sync_once(&dung_phone, &dung_link).await.unwrap();
    let dung_holds = dung_phone.lock().unwrap().projection().unwrap();
    assert_eq!(hamlets_of(&dung_holds), ["03445-01", "03445-02"]);
    assert_eq!(dung_holds.residents[&visited].visit_count, 1, "Dũng's phone has Lan's visit");

    // a commune police officer is not assigned hamlets: rejected with its reason, nothing moves
    office.lock().unwrap().record(assign(&office_user, &["03445-01"])).unwrap();
    let report = sync_once(&office, &office_link).await.unwrap();
    assert_eq!(report.rejected, 1, "{report:?}");
    let rejected = office.lock().unwrap().rejected_events().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].errors[0].code, "not_assignable");
    let held = office.lock().unwrap().assignments().unwrap();
    assert!(held.iter().all(|a| a.user_id.to_string() != office_user), "the rejected one is not shown");
    let scope_of = |user: &str| {
        let id = Uuid::parse_str(user).unwrap();
        server.with_store(|store| run_read(store, |tx| tx.user(id)).unwrap().unwrap().scope.key())
    };
    assert_eq!(scope_of(&office_user), "03445", "the officer keeps the commune");
    assert_eq!((scope_of(&lan), scope_of(&dung)), ("03445-02".to_owned(), "03445-01,03445-02".to_owned()));
}
