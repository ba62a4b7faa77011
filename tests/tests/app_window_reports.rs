//! The report in the real app window, against the real server: the commune police office sees
//! its commune's activations, rate and hamlets once its sync brings a volunteer's work, opens a
//! hamlet and comes back up, and saves the appendix and a named list as files (through the
//! export folder the tests set instead of the save dialog, which WebDriver cannot reach); the
//! same screen at a phone's 360 px. Screenshots in both languages: `screenshots/report-*.png`.
#![cfg(feature = "window-tests")]

mod window;

use gocua_core::event::{Payload, VisitRecorded};
use gocua_core::funnel::FunnelState;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, claim_activations, enrolled_device};
use window::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_reads_its_report_opens_a_hamlet_and_saves_the_appendix_and_a_list() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Giàng A Dũng", "03445");
    let (phone, link) = enrolled_device(&server, "dung.sqlite", &code).await;
    let mut rng = gocua_core::fixtures::Rng::new(21);
    // six people activated in hamlet 01; in hamlet 02, two absent
    claim_activations(&phone, &mut rng, "03445-01", 6);
    for _ in 0..2 {
        let (_, residents, payloads) = gocua_core::fixtures::household_payloads(&mut rng, "03445-02", 1);
        let mut store = phone.lock().unwrap();
        for p in payloads {
            store.record(p).unwrap();
        }
        let visit = VisitRecorded {
            visit_id: rng.uuid(),
            resident_id: residents[0],
            status: FunnelState::NotRegistered,
            reason_code: Some("absent_unreachable".into()),
            action: None,
            follow_up: None,
            steps: vec![],
            note: None,
            position: None,
        };
        store.record(Payload::VisitRecorded(visit)).unwrap();
    }
    sync_once(&phone, &link).await.unwrap();
    let activated: Vec<String> = server
        .projection()
        .residents
        .values()
        .filter(|r| r.status.is_some_and(|s| s.is_activated()))
        .map(|r| r.full_name.clone())
        .collect();
    assert_eq!(activated.len(), 6);
    let office = server.code_for("Trần Văn Công", "commune-police", "03445");

    let exports = tempfile::tempdir().unwrap();
    let export_dir = exports.path().to_str().unwrap().to_owned();
    let driver = start_driver_with(&server.url, &[("GOCUA_EXPORT_DIR", &export_dir)]);
    let c = connect(&driver).await;
    c.set_window_size(1280, 800).await.expect("the office's 1280×800 window");
    enroll(&c, &server, &office, "Máy tính Công an xã").await;

    click(&c, "#open-reports").await;
    css(&c, "#report-place").await;
    // the office's first sync brings the volunteer's work; the screen reloads with it
    until("the report counts the six activations", 60, || async { text(&c, "#report-activated").await == "6" }).await;
    assert_eq!(text(&c, "#report-place").await, "Xã Mường Tè");
    assert!(text(&c, "#report-rate").await.contains("75,0 %"), "6 of 8: {}", text(&c, "#report-rate").await);
    let first = text(&c, "#report-units tbody tr:first-child").await;
    assert!(first.contains("Bản Nậm Củm") && first.contains("100,0 %"), "ranked first: {first}");
    assert!(text(&c, "#report-reasons").await.contains("Vắng mặt, không liên lạc được 2"));
    both_languages(&c, "report-01-commune").await;

    click(&c, "[data-place='03445-01'] .open-unit").await;
    until("the hamlet's report", 10, || async { text(&c, "#report-place").await == "Bản Nậm Củm" }).await;
    assert_eq!(text(&c, "#report-activated").await, "6");
    both_languages(&c, "report-02-hamlet").await;
    click(&c, ".trail .up").await;
    until("back to the commune", 10, || async { text(&c, "#report-place").await == "Xã Mường Tè" }).await;

    click(&c, "#export-appendix").await;
    until("the appendix is saved", 30, || async { text(&c, "#export-result").await.contains("Đã lưu phụ lục") }).await;
    let saved: Vec<_> = std::fs::read_dir(exports.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(saved[0].file_name().unwrap().to_str().unwrap().starts_with("phu-luc-thong-ke"));
    assert!(std::fs::read(&saved[0]).unwrap().starts_with(b"PK"), "an XLSX (a zip)");

    select(&c, "#export-list-kind", "activated").await;
    select(&c, "#export-format", "csv").await;
    click(&c, "#export-list").await;
    until("the list is saved", 30, || async { text(&c, "#export-result").await.contains("danh sách 6 người") }).await;
    both_languages(&c, "report-03-exported").await;
    let list = std::fs::read_dir(exports.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .expect("the CSV list");
    let text_of_list = std::fs::read_to_string(&list).unwrap();
    assert!(text_of_list.starts_with('\u{feff}'), "a byte-order mark first");
    for name in &activated {
        assert!(text_of_list.contains(name.as_str()), "{name} on the list");
    }
    assert_eq!(text_of_list.lines().count(), 2 + 6, "title, header, six people");

    c.set_window_size(360, 740).await.expect("a phone's 360 px");
    both_languages(&c, "report-04-phone").await;
    c.close().await.unwrap();
}
