//! A visit's position end to end (issue 14): a volunteer records one visit with where her phone
//! was and one without, and syncs. The server stores it; the commune police office, having
//! pulled, sees it on its spot-check; another volunteer of the same hamlet and the team leader
//! get the same visit without it, and nothing of it crosses the wire to them.

use gocua_core::event::{GeoPosition, Payload};
use gocua_core::fixtures::{self, Rng};
use gocua_core::forms::NewVisit;
use gocua_core::funnel::FunnelState;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{Transport, sync_once};
use gocua_core::sync::protocol::PullRequest;
use gocua_e2e::{TestServer, enrolled_device};
use std::sync::Mutex;
use uuid::Uuid;

const HERE: GeoPosition = GeoPosition { lat_e6: 21_028_500, lon_e6: 105_854_200, accuracy_m: 15 };

/// Everything from the start, as this phone's next pull would ask for it.
fn from_the_start(phone: &Mutex<DeviceStore>) -> PullRequest {
    let store = phone.lock().unwrap();
    let enrollment = store.enrollment().unwrap().expect("enrolled");
    PullRequest {
        epoch: store.server_epoch().unwrap(),
        cursor: 0,
        limit: 500,
        scope: enrollment.scope.key(),
        own: false,
        role: Some(enrollment.role),
        reasons: Some(store.reasons_digest().unwrap()),
    }
}

fn activated(resident_id: Uuid, position: Option<GeoPosition>) -> NewVisit {
    NewVisit {
        resident_id,
        status: FunnelState::ActivatedLevel1,
        reason_code: None,
        action: None,
        follow_up: None,
        steps: vec![],
        note: None,
        position,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visits_position_reaches_the_server_and_the_police_spot_check_and_no_other_phone() {
    let server = TestServer::start().await;
    server.add_places();
    let (lan, lan_link) =
        enrolled_device(&server, "lan.sqlite", &server.volunteer_code("Lò Thị Lan", "03445-01")).await;
    let (son, son_link) =
        enrolled_device(&server, "son.sqlite", &server.volunteer_code("Hà Văn Sơn", "03445-01")).await;
    let leader_code = server.code_for("Vàng Thị Mai", "team-leader", "03445");
    let (leader, leader_link) = enrolled_device(&server, "leader.sqlite", &leader_code).await;
    let office_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &office_code).await;

    // Lan, at the door: one visit with where her phone was, one without (she could not get one)
    let (with, without) = {
        let mut store = lan.lock().unwrap();
        let (_, residents, payloads) = fixtures::household_payloads(&mut Rng::new(2026), "03445-01", 2);
        for p in payloads {
            store.record(p).unwrap();
        }
        let with = store.record_visit(activated(residents[0], Some(HERE))).unwrap();
        let without = store.record_visit(activated(residents[1], None)).unwrap();
        // her own phone holds it, but its screens show none
        assert_eq!(store.projection().unwrap().visits[&with].position, Some(HERE));
        assert_eq!(store.resident_detail(residents[0]).unwrap().visits[0].position, None);
        (with, without)
    };
    sync_once(&lan, &lan_link).await.unwrap();

    // the server's projection stores it, in its own columns
    let on_server = server.projection();
    assert_eq!((on_server.visits[&with].position, on_server.visits[&without].position), (Some(HERE), None));
    let rows = server.sql_text_rows(
        "SELECT CAST(id AS TEXT), CAST(lat_e6 AS TEXT), CAST(lon_e6 AS TEXT), CAST(accuracy_m AS TEXT)
         FROM visits WHERE lat_e6 IS NOT NULL",
    );
    assert_eq!(rows, [[with.to_string(), "21028500".into(), "105854200".into(), "15".into()]]);
    let bare = server.sql_text_rows("SELECT CAST(id AS TEXT) FROM visits WHERE lat_e6 IS NULL AND accuracy_m IS NULL");
    assert_eq!(bare, [[without.to_string()]]);

    // the commune police: on the spot-check, the claim's position
    sync_once(&office, &office_link).await.unwrap();
    {
        let mut office = office.lock().unwrap();
        assert_eq!(office.projection().unwrap().visits[&with].position, Some(HERE));
        office.draw_spot_check(100).unwrap();
        let sample = office.spot_check().unwrap().unwrap();
        let position_of = |visit: Uuid| sample.items.iter().find(|i| i.visit_id == visit).expect("drawn").position;
        assert_eq!((position_of(with), position_of(without)), (Some(HERE), None));
    }

    // another volunteer of the hamlet and the team leader: the visit, never where it was
    for (name, phone, link) in [("Sơn", &son, &son_link), ("the team leader", &leader, &leader_link)] {
        sync_once(phone, link).await.unwrap();
        let held = phone.lock().unwrap().projection().unwrap();
        let visit = held.visits.get(&with).unwrap_or_else(|| panic!("{name} has the visit"));
        assert_eq!((visit.status, visit.position), (FunnelState::ActivatedLevel1, None), "{name}");
        assert!(held.visits.values().all(|v| v.position.is_none()), "{name}");
        // and what the server sends them holds no position at all
        let page = link.pull(&from_the_start(phone)).await.unwrap();
        assert_eq!(page.reset, None, "{name}");
        let visits: Vec<_> = page
            .events
            .iter()
            .filter_map(|e| match &e.event.payload {
                Payload::VisitRecorded(v) => Some(v),
                _ => None,
            })
            .collect();
        assert_eq!(visits.len(), 2, "{name}");
        assert!(visits.iter().all(|v| v.position.is_none()), "{name}");
        let json = serde_json::to_string(&page).unwrap();
        assert!(!json.contains("position") && !json.contains("21028500"), "{name}: {json}");
    }

    // the police pulling the same page get it
    let page = office_link.pull(&from_the_start(&office)).await.unwrap();
    let police_sees = page.events.iter().any(
        |e| matches!(&e.event.payload, Payload::VisitRecorded(v) if v.visit_id == with && v.position == Some(HERE)),
    );
    assert!(police_sees, "the police's pull carries the position");
}
