//! "Left your scope": the commune police move a volunteer from one hamlet to another. The
//! phone's unsent records from the old hamlet are still accepted; on its next pull the server
//! answers `reset` with the new scope, the old hamlet's records leave the phone, and the new
//! hamlet's arrive, so the phone holds exactly the server's records of its new scope.

use gocua_core::fixtures::{self, Rng};
use gocua_core::reducer::Projection;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};

/// The part of a projection under one hamlet.
fn only_hamlet(p: &Projection, hamlet: &str) -> Projection {
    let mut out = Projection::default();
    for h in p.households.values().filter(|h| h.hamlet_code == hamlet) {
        out.households.insert(h.id, h.clone());
        for r in p.residents.values().filter(|r| r.household_id == h.id) {
            out.residents.insert(r.id, r.clone());
            for v in p.visits.values().filter(|v| v.resident_id == r.id) {
                out.visits.insert(v.id, v.clone());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassigned_volunteer_hands_in_the_old_hamlet_and_receives_the_new_one() {
    let server = TestServer::start().await;
    server.add_places();
    // a team leader for the whole commune records households in both hamlets
    let leader_code = server.volunteer_code("Giàng Thị Dợ", "03445");
    let (leader, leader_link) = enrolled_device(&server, "leader.sqlite", &leader_code).await;
    let mut rng = Rng::new(11);
    for i in 0..6 {
        let hamlet = if i % 2 == 0 { "03445-01" } else { "03445-02" };
        let (_, residents, payloads) = fixtures::household_payloads(&mut rng, hamlet, 2);
        let mut store = leader.lock().unwrap();
        for p in payloads {
            store.record(p).unwrap();
        }
        store.record(fixtures::visit_payload(&mut rng, residents[0], &[])).unwrap();
    }
    sync_once(&leader, &leader_link).await.unwrap();

    // a volunteer working in hamlet 01 only
    let user = server.admin(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03445-01"]);
    let code = server.admin(&["create-code", "--user", &user]);
    let (phone, link) = enrolled_device(&server, "phone.sqlite", &code).await;
    // she finds one more household herself
    let (_, _, own) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    for p in own {
        phone.lock().unwrap().record(p).unwrap();
    }
    sync_once(&phone, &link).await.unwrap();
    let before = phone.lock().unwrap().projection().unwrap();
    assert_eq!(before.households.len(), 4, "only hamlet 01's households, hers included");
    assert!(before.households.values().all(|h| h.hamlet_code == "03445-01"));

    // offline, she records one more visit in hamlet 01…
    let resident = *before.residents.keys().next().unwrap();
    phone.lock().unwrap().record(fixtures::visit_payload(&mut rng, resident, &[])).unwrap();
    // …while the commune police move her to hamlet 02
    let moved = server.admin(&["set-scope", "--user", &user, "--scope", "03445-02"]);
    assert!(moved.contains("03445-02"), "{moved}");

    let report = sync_once(&phone, &link).await.unwrap();
    assert_eq!((report.applied, report.rejected, report.resets), (1, 0, 1), "{report:?}");
    let store = phone.lock().unwrap();
    assert_eq!(store.enrollment().unwrap().unwrap().scope.key(), "03445-02");
    assert_eq!(store.hamlets().unwrap().iter().map(|h| h.code.as_str()).collect::<Vec<_>>(), ["03445-02"]);
    let after = store.projection().unwrap();
    gocua_e2e::assert_same_as_volunteer_sees(
        &after,
        &only_hamlet(&server.projection(), "03445-02"),
        "exactly the new hamlet, as the server has it",
    );
    assert_eq!(after.households.len(), 3);
    assert_eq!(store.unsent_count().unwrap(), 0);
    // the visit recorded in the old hamlet reached the server
    let server_state = server.projection();
    assert_eq!(server_state.residents[&resident].visit_count, before.residents[&resident].visit_count + 1);
}

/// A volunteer given two hamlets of two communes (a team's hamlets): her phone knows both
/// places, pulls exactly their households, may record in both and in nothing else; when one of
/// them is swapped for another, only that one leaves the phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_with_two_hamlets_holds_both_and_only_them() {
    let server = TestServer::start().await;
    server.add_places();
    // volunteers of two communes record households in three hamlets
    let mut rng = Rng::new(23);
    for (commune, hamlets) in
        [("03445", vec!["03445-01", "03445-02", "03445-01", "03445-02"]), ("03637", vec!["03637-01"; 2])]
    {
        let code = server.volunteer_code("Sùng Thị Mai", commune);
        let (recorder, recorder_link) = enrolled_device(&server, &format!("recorder-{commune}.sqlite"), &code).await;
        for hamlet in hamlets {
            let (_, _, payloads) = fixtures::household_payloads(&mut rng, hamlet, 2);
            let mut store = recorder.lock().unwrap();
            for p in payloads {
                store.record(p).unwrap();
            }
        }
        sync_once(&recorder, &recorder_link).await.unwrap();
    }

    let user =
        server.admin(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03637-01,03445-01"]);
    let code = server.admin(&["create-code", "--user", &user]);
    let (phone, link) = enrolled_device(&server, "phone.sqlite", &code).await;
    {
        let store = phone.lock().unwrap();
        assert_eq!(store.enrollment().unwrap().unwrap().scope.codes(), ["03445-01", "03637-01"]);
        let hamlets: Vec<String> = store.hamlets().unwrap().into_iter().map(|h| h.code).collect();
        assert_eq!(hamlets.len(), 2);
        assert!(hamlets.contains(&"03445-01".to_owned()) && hamlets.contains(&"03637-01".to_owned()), "{hamlets:?}");
    }
    // she records a household in each of her hamlets; the phone knows no other hamlet
    for hamlet in ["03445-01", "03637-01"] {
        let (_, _, payloads) = fixtures::household_payloads(&mut rng, hamlet, 1);
        let mut store = phone.lock().unwrap();
        for p in payloads {
            store.record(p).unwrap();
        }
    }
    let (_, _, elsewhere) = fixtures::household_payloads(&mut rng, "03445-02", 1);
    let refused = phone.lock().unwrap().record(elsewhere[0].clone()).unwrap_err();
    assert!(refused.to_string().contains("03445-02"), "{refused}");
    let report = sync_once(&phone, &link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (4, 0), "{report:?}");
    let mine = phone.lock().unwrap().projection().unwrap();
    let server_state = server.projection();
    let mut both = only_hamlet(&server_state, "03445-01");
    let other = only_hamlet(&server_state, "03637-01");
    both.households.extend(other.households);
    both.residents.extend(other.residents);
    both.visits.extend(other.visits);
    assert_eq!(both.households.len(), 6, "two recorded earlier and one of hers in each hamlet");
    gocua_e2e::assert_same_as_volunteer_sees(
        &mine,
        &both,
        "exactly her two hamlets' households, as the server has them",
    );

    // hamlet 01 of Mường Tè is given to someone else; she gets hamlet 02 instead
    server.admin(&["set-scope", "--user", &user, "--scope", "03445-02,03637-01"]);
    let report = sync_once(&phone, &link).await.unwrap();
    assert_eq!(report.resets, 1, "{report:?}");
    let store = phone.lock().unwrap();
    assert_eq!(store.enrollment().unwrap().unwrap().scope.codes(), ["03445-02", "03637-01"]);
    let after = store.projection().unwrap();
    let mut expected = only_hamlet(&server_state, "03445-02");
    let kept = only_hamlet(&server_state, "03637-01");
    expected.households.extend(kept.households);
    expected.residents.extend(kept.residents);
    expected.visits.extend(kept.visits);
    gocua_e2e::assert_same_as_volunteer_sees(&after, &expected, "hamlet 01 left, hamlet 02 came, Mường Kim stayed");
    assert!(after.households.values().all(|h| h.hamlet_code != "03445-01"));
}
