//! The office assigns hamlets ("phân công địa bàn"): the commune police record who works where
//! on the office's device, as events. Once the office has synced, each volunteer's phone pulls
//! only the hamlet given to them; a re-assignment moves a hamlet off the old phone at its next
//! sync, and the visit that phone recorded offline meanwhile still reaches the server and
//! counts. An assignment the server cannot accept (a police officer, not a volunteer) comes back
//! rejected with its reason, and changes nobody's places. A single household can be given on
//! its own: the phone then holds that household and nothing else of its hamlet.

use std::ffi::OsStr;
use std::sync::Mutex;

use gocua_core::event::{AssignmentSet, Payload};
use gocua_core::fixtures::{self, Rng};
use gocua_core::reducer::Projection;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};
use gocua_http_client::HttpTransport;
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

/// The places, and the commune's office enrolled (its officer's id, store and link) holding six
/// households of two people each, alternately in hamlets 01 and 02 (even ones in 01), recorded
/// and not yet synced; with each household's id and people.
async fn office_with_households(
    server: &TestServer,
    rng: &mut Rng,
) -> (String, Mutex<DeviceStore>, HttpTransport, Vec<(Uuid, Vec<Uuid>)>) {
    server.add_places();
    let office_user =
        server.admin(&["add-user", "--name", "Trần Văn Công", "--role", "commune-police", "--scope", "03445"]);
    let office_code = server.admin(&["create-code", "--user", &office_user]);
    let (office, office_link) = enrolled_device(server, "office.sqlite", &office_code).await;
    let mut households = Vec::new();
    for i in 0..6 {
        let hamlet = if i % 2 == 0 { "03445-01" } else { "03445-02" };
        let (household, residents, payloads) = fixtures::household_payloads(rng, hamlet, 2);
        let mut store = office.lock().unwrap();
        for p in payloads {
            store.record(p).unwrap();
        }
        households.push((household, residents));
    }
    (office_user, office, office_link, households)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hamlet_assigned_reaches_only_its_volunteer_and_a_reassignment_keeps_the_unsent_visit() {
    let server = TestServer::start().await;
    let mut rng = Rng::new(14);
    let (office_user, office, office_link, _) = office_with_households(&server, &mut rng).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_households_assigned_reach_only_their_volunteer_and_leave_with_her_unsent_visit_counted() {
    let server = TestServer::start().await;
    let mut rng = Rng::new(41);
    let (_, office, office_link, households) = office_with_households(&server, &mut rng).await;
    // a visit the office recorded before any assignment: it must reach the household's phone
    let (first, first_residents) = households[0].clone();
    office.lock().unwrap().record(fixtures::visit_payload(&mut rng, first_residents[0], &[])).unwrap();
    sync_once(&office, &office_link).await.unwrap();

    let mai = server.admin(&["add-user", "--name", "Vàng Thị Mai", "--role", "volunteer", "--scope", "03445"]);
    let mai_code = server.admin(&["create-code", "--user", &mai]);
    let (mai_phone, mai_link) = enrolled_device(&server, "mai.sqlite", &mai_code).await;
    sync_once(&mai_phone, &mai_link).await.unwrap();
    assert_eq!(mai_phone.lock().unwrap().projection().unwrap().households.len(), 6, "the whole commune first");

    // the office gives Mai one household of each hamlet, on their own
    let (second, _) = households[1].clone();
    let (first_code, second_code) = (first.to_string(), second.to_string());
    office.lock().unwrap().record(assign(&mai, &[&first_code, &second_code])).unwrap();
    let report = sync_once(&office, &office_link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (1, 0), "{report:?}");
    let report = sync_once(&mai_phone, &mai_link).await.unwrap();
    assert_eq!(report.resets, 1, "{report:?}");
    let holds = mai_phone.lock().unwrap().projection().unwrap();
    let mut held: Vec<_> = holds.households.keys().copied().collect();
    held.sort();
    let mut given = vec![first, second];
    given.sort();
    assert_eq!(held, given, "Mai's phone holds the two households and nothing else of their hamlets");
    assert_eq!(holds.residents.len(), 4);
    assert_eq!(holds.residents[&first_residents[0]].visit_count, 1, "with the visit recorded before");
    let mut expected_scope = vec![first_code.clone(), second_code.clone()];
    expected_scope.sort();
    assert_eq!(mai_phone.lock().unwrap().enrollment().unwrap().unwrap().scope.key(), expected_scope.join(","));
    assert!(mai_phone.lock().unwrap().hamlets().unwrap().is_empty(), "she adds no household to a hamlet");

    // what happens later to her households reaches her; the rest of the hamlet does not
    let (third, third_residents) = households[2].clone();
    let (_, second_residents) = households[1].clone();
    office.lock().unwrap().record(fixtures::visit_payload(&mut rng, second_residents[1], &[])).unwrap();
    office.lock().unwrap().record(fixtures::visit_payload(&mut rng, third_residents[0], &[])).unwrap();
    let (new_household, _, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    for p in payloads {
        office.lock().unwrap().record(p).unwrap();
    }
    sync_once(&office, &office_link).await.unwrap();
    let report = sync_once(&mai_phone, &mai_link).await.unwrap();
    assert_eq!(report.resets, 0, "{report:?}");
    let holds = mai_phone.lock().unwrap().projection().unwrap();
    assert_eq!(holds.residents[&second_residents[1]].visit_count, 1);
    assert!(!holds.households.contains_key(&third) && !holds.households.contains_key(&new_household));
    assert_eq!(holds.households.len(), 2);

    // the office lists her among its people, with her two households
    let people = office_link.office_people().await.unwrap().people;
    let listed = people.iter().find(|p| p.id.to_string() == mai).expect("Mai is listed by the office");
    assert_eq!(listed.places, expected_scope);

    // offline, Mai records a visit in the first household; the office takes it from her meanwhile
    mai_phone.lock().unwrap().record(fixtures::visit_payload(&mut rng, first_residents[1], &[])).unwrap();
    office.lock().unwrap().record(assign(&mai, &[&second_code])).unwrap();
    sync_once(&office, &office_link).await.unwrap();
    let report = sync_once(&mai_phone, &mai_link).await.unwrap();
    assert_eq!((report.applied, report.rejected, report.resets), (1, 0, 1), "{report:?}");
    let holds = mai_phone.lock().unwrap().projection().unwrap();
    assert_eq!(holds.households.keys().copied().collect::<Vec<_>>(), [second], "the first household left her phone");
    assert_eq!(mai_phone.lock().unwrap().unsent_count().unwrap(), 0);
    let on_server = server.projection();
    assert_eq!(
        on_server.residents[&first_residents[1]].visit_count, 1,
        "her unsent visit reached the server and counts"
    );

    // a code that names no household is refused on the office's device, with its reason
    let refused = office.lock().unwrap().record(assign(&mai, &[&Uuid::from_u128(0x5eed).to_string()]));
    match refused {
        Err(gocua_core::Error::Invalid(errors)) => assert_eq!(errors[0].code, "unknown_place"),
        other => panic!("an unknown household must be refused: {other:?}"),
    }
    let report = sync_once(&office, &office_link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (0, 0), "{report:?}");
    let scope = server.with_store(|store| {
        run_read(store, |tx| tx.user(Uuid::parse_str(&mai).unwrap())).unwrap().unwrap().scope.key()
    });
    assert_eq!(scope, second_code, "the refused assignment changed nothing");

    // the command line gives single households too, and refuses an id that names none
    // (an id typed in capitals is the same household: the phone does not reset again and again)
    let typed = first_code.to_uppercase();
    server.admin(&["set-scope", "--user", &mai, "--scope", &format!("{typed},03445-02")]);
    let report = sync_once(&mai_phone, &mai_link).await.unwrap();
    assert_eq!(report.resets, 1, "{report:?}");
    let report = sync_once(&mai_phone, &mai_link).await.unwrap();
    assert_eq!(report.resets, 0, "the phone's scope is the server's: {report:?}");
    let holds = mai_phone.lock().unwrap().projection().unwrap();
    assert!(holds.households.contains_key(&first) && holds.households.contains_key(&second));
    assert_eq!(holds.households.len(), 1 + 3, "the first household, and hamlet 02's three");
    let unknown = Uuid::from_u128(0x5eed).to_string();
    let refused = server.admin_run(&[
        OsStr::new("set-scope"),
        "--user".as_ref(),
        mai.as_ref(),
        "--scope".as_ref(),
        unknown.as_ref(),
    ]);
    assert!(!refused.success && refused.stderr.contains("không có địa bàn"), "{}", refused.stderr);
}
