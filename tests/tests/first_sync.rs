//! The foundation's end-to-end story: the real server binary, real device stores on temp files,
//! real HTTP on loopback.

use gocua_core::event::{Event, HouseholdCreated, HouseholdSurveyed, Payload, VisitRecorded};
use gocua_core::fixtures::{self, Rng};
use gocua_core::funnel::FunnelState;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{Transport, TransportError, sync_once};
use gocua_core::sync::protocol::{APP_VERSION, EventStatus, PullRequest, PushRequest, SCHEMA_VERSION};
use gocua_e2e::{TestServer, enrolled_device};
use uuid::Uuid;

const COMMUNE_A: &str = "03445"; // Xã Mường Tè, Lai Châu
const COMMUNE_B: &str = "03637"; // Xã Mường Kim, Lai Châu

/// Records 50 households (created, surveyed, 4 residents each) and 200 visits, offline.
fn record_field_day(store: &mut DeviceStore, rng: &mut Rng) -> (usize, Vec<Uuid>) {
    let reasons = ["absent_unreachable", "needs_phone_update", "no_smartphone", "refused", "other"];
    let mut events = 0;
    let mut all_residents = Vec::new();
    for h in 0..50u32 {
        let hamlet = if h % 2 == 0 { "03445-01" } else { "03445-02" };
        let (household_id, residents, payloads) = fixtures::household_payloads(rng, hamlet, 4);
        for p in payloads {
            store.record(p).expect("record household/resident");
            events += 1;
        }
        store
            .record(Payload::HouseholdSurveyed(HouseholdSurveyed {
                household_id,
                members: 4,
                smartphones: h % 5,
                has_internet_computer: h % 7 == 0,
            }))
            .expect("survey");
        events += 1;
        for resident in &residents {
            store.record(fixtures::visit_payload(rng, *resident, &reasons)).expect("visit");
            events += 1;
        }
        all_residents.extend(residents);
    }
    (events, all_residents)
}

fn push_request(events: Vec<Event>) -> PushRequest {
    PushRequest { schema_version: SCHEMA_VERSION, app_version: APP_VERSION.into(), events, queued: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_visits_sync_and_both_sides_derive_the_same_state() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", COMMUNE_A);
    let (device, transport) = enrolled_device(&server, "phone-a.sqlite", &code).await;

    // a whole day offline: nothing reaches the server until sync
    let (recorded, _) = record_field_day(&mut device.lock().unwrap(), &mut Rng::new(42));
    assert_eq!(recorded, 50 * 6 + 200);
    let visits = device.lock().unwrap().projection().unwrap().visits.len();
    assert_eq!(visits, 200);
    assert_eq!(server.event_count("applied"), 0);

    let report = sync_once(&device, &transport).await.expect("sync");
    assert_eq!(report.applied, recorded as u64);
    assert_eq!((report.duplicates, report.rejected), (0, 0));
    assert!(report.push_requests >= 5, "batches of at most 100 events: {}", report.push_requests);
    assert_eq!(device.lock().unwrap().sync_status().unwrap().unsent, 0);

    let device_state = device.lock().unwrap().projection().unwrap();
    let server_state = server.projection();
    assert_eq!(server_state.households.len(), 50);
    assert_eq!(server_state.residents.len(), 200);
    assert_eq!(server_state.visits.len(), 200);
    assert_eq!(server_state, device_state, "server and device derive the same state");

    // pushing the same batches again changes nothing
    let events = device.lock().unwrap().local_events().unwrap();
    for batch in events.chunks(100) {
        let response = transport.push(&push_request(batch.to_vec())).await.expect("replay");
        let results = response.all_results();
        assert_eq!(results.len(), batch.len());
        assert!(results.iter().all(|r| r.status == EventStatus::Duplicate));
        assert_eq!(response.last_seq, events.len() as u64);
    }
    assert_eq!(server.projection(), server_state);
    assert_eq!(server.event_count("applied"), recorded as i64);

    // a second phone in the same commune pulls everything and derives the same state
    let code2 = server.volunteer_code("Hà Thị Nga", COMMUNE_A);
    let (device2, transport2) = enrolled_device(&server, "phone-a2.sqlite", &code2).await;
    let report2 = sync_once(&device2, &transport2).await.expect("pull");
    assert_eq!(report2.pulled, recorded as u64);
    // the same state as a volunteer sees it: every CCCD but its last two digits masked
    let mut as_volunteer_sees = server_state.clone();
    for r in as_volunteer_sees.residents.values_mut() {
        r.cccd = r.cccd.as_deref().map(gocua_core::privacy::mask_cccd);
    }
    assert!(server_state.residents.values().any(|r| r.cccd.is_some()), "some CCCDs to mask");
    assert_eq!(device2.lock().unwrap().projection().unwrap(), as_volunteer_sees);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_one_invalid_event_applies_the_rest_and_reports_it() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", COMMUNE_A);
    let (device, transport) = enrolled_device(&server, "phone-a.sqlite", &code).await;
    let (device_id, author) = {
        let e = device.lock().unwrap().enrollment().unwrap().unwrap();
        (e.device_id, e.user_id)
    };
    let mut rng = Rng::new(7);
    let (_, residents, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 2);
    let mut events: Vec<Event> =
        payloads.into_iter().enumerate().map(|(i, p)| fixtures::event(device_id, author, i as u64 + 1, p)).collect();
    let visit = |status, reason: Option<&str>| {
        Payload::VisitRecorded(VisitRecorded {
            steps: Vec::new(),
            visit_id: Uuid::now_v7(),
            resident_id: residents[0],
            status,
            reason_code: reason.map(str::to_owned),
            action: None,
            follow_up: None,
            note: None,
            position: None,
        })
    };
    events.push(fixtures::event(
        device_id,
        author,
        4,
        visit(FunnelState::ApprovedNotActivated, Some("made_up_reason")),
    ));
    events.push(fixtures::event(device_id, author, 5, visit(FunnelState::ActivatedLevel1, None)));

    let response = transport.push(&push_request(events)).await.expect("push");
    let results = response.all_results();
    let statuses: Vec<_> = results.iter().map(|r| r.status).collect();
    use EventStatus::{Applied, Rejected};
    assert_eq!(statuses, [Applied, Applied, Applied, Rejected, Applied]);
    assert_eq!(results[3].errors[0].code, "unknown_reason");
    assert_eq!(results[3].errors[0].field, "reason_code");
    assert_eq!(response.last_seq, 5, "the rejected event advanced the sequence");
    assert_eq!((server.event_count("applied"), server.event_count("rejected")), (4, 1));
    let state = server.projection();
    assert_eq!(state.residents[&residents[0]].status, Some(FunnelState::ActivatedLevel1));
    assert_eq!(state.visits.len(), 1);

    // a gap is answered with the sequence the server expects, and nothing after it is applied
    let late = fixtures::event(device_id, author, 9, visit(FunnelState::UsedPortal, None));
    let response = transport.push(&push_request(vec![late])).await.expect("push");
    assert_eq!((response.all_results().len(), response.expected_seq, response.last_seq), (0, Some(6), 5));
    assert_eq!(server.projection(), state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_of_another_commune_can_neither_push_into_nor_pull_from_the_first() {
    let server = TestServer::start().await;
    server.add_places();
    let (device_a, transport_a) =
        enrolled_device(&server, "phone-a.sqlite", &server.volunteer_code("Lò Thị Lan", COMMUNE_A)).await;
    let (_, residents_a) = record_field_day(&mut device_a.lock().unwrap(), &mut Rng::new(1));
    sync_once(&device_a, &transport_a).await.expect("sync a");
    let before = server.projection();

    let (device_b, transport_b) =
        enrolled_device(&server, "phone-b.sqlite", &server.volunteer_code("Lò Văn Phóng", COMMUNE_B)).await;
    let (device_id, author) = {
        let e = device_b.lock().unwrap().enrollment().unwrap().unwrap();
        (e.device_id, e.user_id)
    };
    let foreign_household = Payload::HouseholdCreated(HouseholdCreated {
        household_id: Uuid::now_v7(),
        hamlet_code: "03445-01".into(),
        address: "Bản Nậm Củm".into(),
        head_name: "Hà Văn Chiến".into(),
    });
    let foreign_visit = Payload::VisitRecorded(VisitRecorded {
        steps: Vec::new(),
        visit_id: Uuid::now_v7(),
        resident_id: residents_a[0],
        status: FunnelState::ActivatedLevel2,
        reason_code: None,
        action: None,
        follow_up: None,
        note: None,
        position: None,
    });
    for payload in [foreign_household, foreign_visit] {
        let err =
            transport_b.push(&push_request(vec![fixtures::event(device_id, author, 1, payload)])).await.unwrap_err();
        let TransportError::Refused { status, kind, .. } = err else { panic!("expected a refusal, got {err:?}") };
        assert_eq!((status, kind.as_str()), (403, "forbidden"));
    }
    assert_eq!(server.projection(), before, "nothing of the refused pushes was applied");

    // pulling the first commune by name is refused; pulling its own scope shows none of it
    let http = reqwest::Client::new();
    let token = device_b.lock().unwrap().enrollment().unwrap().unwrap().token;
    let refused = http
        .get(format!("{}/api/v1/sync/pull?cursor=0&place={COMMUNE_A}", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["kind"], "forbidden");
    assert!(body["message"].as_str().unwrap().contains(COMMUNE_A));
    let own = transport_b.pull(&PullRequest { limit: 500, ..PullRequest::default() }).await.expect("own pull");
    assert!(own.events.is_empty(), "another commune's events never reach this device");

    // the 403s did not advance the device's sequence: its own first event is still seq 1
    let (_, _, mine) = fixtures::household_payloads(&mut Rng::new(9), "03637-01", 0);
    let response = transport_b
        .push(&push_request(vec![fixtures::event(device_id, author, 1, mine[0].clone())]))
        .await
        .expect("own push");
    assert_eq!(response.all_results()[0].status, EventStatus::Applied);
    let own_sync = sync_once(&device_b, &transport_b).await.expect("b syncs");
    assert_eq!(own_sync.pulled, 0);
}
