//! A visit recorded on a phone whose clock is a year ahead: the server counts it at its arrival
//! and flags it; the office's review queue lists it with the phone's wrong time; the officer
//! settles it, offline, as an event, and the flag clears on the server and on the phone that
//! recorded it. A visit recorded under a right clock is never listed.

use chrono::{Duration, Utc};
use gocua_core::event::{Payload, ReviewResolved};
use gocua_core::fixtures::{self, Rng};
use gocua_core::model::Review;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_recorded_under_a_wrong_clock_is_reviewed_in_the_office_and_settled() {
    let server = TestServer::start().await;
    server.add_places();
    let mut rng = Rng::new(57);
    let code = server.volunteer_code("Lò Thị Lan", "03445-01");
    let (phone, link) = enrolled_device(&server, "lan.sqlite", &code).await;
    let (_, residents, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 2);
    let (skewed, right) = {
        let mut store = phone.lock().unwrap();
        for p in payloads {
            store.record(p).unwrap();
        }
        // her phone's clock says next year; then it is set right
        let ahead = Utc::now() + Duration::days(365);
        let skewed = store.record_at(fixtures::visit_payload(&mut rng, residents[0], &[]), ahead).unwrap();
        let right = store.record(fixtures::visit_payload(&mut rng, residents[1], &[])).unwrap();
        (skewed, right)
    };
    let visit_id = |event: &gocua_core::event::Event| match &event.payload {
        Payload::VisitRecorded(v) => v.visit_id,
        other => panic!("a visit, not {other:?}"),
    };
    let (skewed_visit, right_visit) = (visit_id(&skewed), visit_id(&right));
    let report = sync_once(&phone, &link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (5, 0), "{report:?}");
    let on_server = server.projection();
    assert_eq!(on_server.visits[&skewed_visit].review, Some(Review::ClockAhead));
    assert_eq!(on_server.visits[&right_visit].review, None);
    let held = phone.lock().unwrap().projection().unwrap();
    assert_eq!(held.visits[&skewed_visit].review, Some(Review::ClockAhead), "the phone that pushed it learns it");

    // the office pulls it and lists it, with the phone's time
    let officer_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &officer_code).await;
    sync_once(&office, &office_link).await.unwrap();
    let queue = office.lock().unwrap().review_queue().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    let item = &queue[0];
    assert!(item.is_visit && !item.is_person, "{item:?}");
    assert_eq!((item.record_id, item.resident_id, item.review), (skewed_visit, Some(residents[0]), Review::ClockAhead));
    let shown = item.recorded_at.clone().unwrap();
    assert!(shown.starts_with(&(Utc::now() + Duration::days(365)).format("%Y").to_string()), "{shown}");

    // a replay (here: the office's own reset) flags it again from the log
    let epoch = office.lock().unwrap().server_epoch().unwrap();
    office.lock().unwrap().begin_reset(&epoch).unwrap();
    sync_once(&office, &office_link).await.unwrap();
    assert_eq!(office.lock().unwrap().review_queue().unwrap().len(), 1, "still listed after a replay");

    // settled offline, as an event naming the visit's person
    office
        .lock()
        .unwrap()
        .record(Payload::ReviewResolved(ReviewResolved {
            record_id: skewed_visit,
            base_version: 0,
            resolution: "kept".into(),
            resident_id: Some(residents[0]),
        }))
        .unwrap();
    assert!(office.lock().unwrap().review_queue().unwrap().is_empty(), "gone from the queue at once");
    let report = sync_once(&office, &office_link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (1, 0), "{report:?}");
    assert_eq!(server.projection().visits[&skewed_visit].review, None, "cleared on the server");
    sync_once(&phone, &link).await.unwrap();
    assert_eq!(phone.lock().unwrap().projection().unwrap().visits[&skewed_visit].review, None, "and on her phone");
    // the visit itself counts as before
    assert_eq!(server.projection().residents[&residents[0]].visit_count, 1);
}
