//! Sneakernet end to end: a phone with no signal exports its unsent events as a bundle file, the
//! commune office imports it with `gocua-server admin import-bundle`, and the server ends up where
//! a push would have left it. Tampered, misdirected and out-of-scope bundles are refused.

use std::path::Path;

use chrono::Utc;
use gocua_core::event::{HouseholdSurveyed, Payload};
use gocua_core::fixtures::{self, Rng};
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};

const COMMUNE_A: &str = "03445"; // Xã Mường Tè, Lai Châu
const COMMUNE_B: &str = "03637"; // Xã Mường Kim, Lai Châu

/// Records `households` made-up households in commune A (created, 3 residents, surveyed, a visit
/// per resident: 8 events each), offline. Returns the number of events.
fn record(store: &mut DeviceStore, rng: &mut Rng, households: usize) -> u64 {
    let mut events = 0;
    for h in 0..households {
        let hamlet = if h % 2 == 0 { "03445-01" } else { "03445-02" };
        let (household_id, residents, payloads) = fixtures::household_payloads(rng, hamlet, 3);
        for payload in payloads {
            store.record(payload).expect("record");
            events += 1;
        }
        store
            .record(Payload::HouseholdSurveyed(HouseholdSurveyed {
                household_id,
                members: 3,
                smartphones: (h % 3) as u32,
                has_internet_computer: false,
            }))
            .expect("survey");
        events += 1;
        for resident in residents {
            store
                .record(fixtures::visit_payload(rng, resident, &["absent_unreachable", "no_smartphone"]))
                .expect("visit");
            events += 1;
        }
    }
    events
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write bundle");
}

/// Audit rows: (outcome, reason, applied, duplicates, rejected, imported_by).
fn audit(server: &TestServer) -> Vec<(String, Option<String>, i64, i64, i64, String)> {
    let rows =
        server.with_store(|store| gocua_server_store::run_read(store, |tx| tx.bundle_imports()).expect("audit rows"));
    rows.into_iter()
        .map(|r| (r.outcome, r.reason, r.counts.0 as i64, r.counts.2 as i64, r.counts.3 as i64, r.start.imported_by))
        .collect()
}

/// Every value in the audit table, as text.
fn audit_text(server: &TestServer) -> String {
    let rows =
        server.with_store(|store| gocua_server_store::run_read(store, |tx| tx.bundle_imports()).expect("audit rows"));
    rows.into_iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{}|{}",
                r.start.sha256,
                r.start.device_id.map(|d| d.to_string()).unwrap_or_default(),
                r.start.events.map(|n| n.to_string()).unwrap_or_default(),
                r.start.imported_by,
                r.start.started_at.to_rfc3339(),
                r.reason.unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const OFFICE: &str = "Văn phòng UBND xã Mường Tè";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_carried_to_the_commune_office_imports_exactly_like_a_push() {
    let server = TestServer::start().await;
    server.add_places();
    let (device, transport) =
        enrolled_device(&server, "lan.sqlite", &server.volunteer_code("Lò Thị Lan", COMMUNE_A)).await;

    // days without signal: 240 events, more than two pushes' worth
    let recorded = record(&mut device.lock().unwrap(), &mut Rng::new(2025), 30);
    assert_eq!(recorded, 240);
    let bundle = device.lock().unwrap().export_bundle(Utc::now()).expect("export");
    assert_eq!(device.lock().unwrap().unsent_count().unwrap(), 240, "exporting keeps the outbox");
    let file = server.temp_path("lan.gocua");
    write(&file, &bundle);
    assert_eq!(server.event_count("applied"), 0);

    // the office imports it
    let run = server.import_bundle(&file, OFFICE);
    assert!(run.success, "import failed: {}", run.stderr);
    assert!(run.stdout.starts_with("Đã nhập gói"), "{}", run.stdout);
    assert!(run.stdout.contains("240 events — 240 applied, 0 duplicates, 0 rejected"), "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 1, "one summary line");
    let device_state = device.lock().unwrap().projection().unwrap();
    let server_state = server.projection();
    assert_eq!(server_state.households.len(), 30);
    assert_eq!(server_state, device_state, "the server derives what the phone did");
    assert_eq!(server.event_count("applied"), 240);

    // the same file again (a second copy came over Zalo): all duplicates, nothing changes
    let run = server.import_bundle(&file, OFFICE);
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains("240 events — 0 applied, 240 duplicates, 0 rejected"), "{}", run.stdout);
    assert_eq!(server.projection(), server_state);
    assert_eq!(server.event_count("applied"), 240);

    // signal again: the phone's sync acknowledges them as duplicates and its outbox empties
    let report = sync_once(&device, &transport).await.expect("sync");
    assert_eq!((report.applied, report.duplicates, report.rejected), (0, 240, 0));
    assert_eq!(device.lock().unwrap().unsent_count().unwrap(), 0);
    assert_eq!(server.projection(), server_state);

    // more days offline; the bundle is damaged on the way: refused as such, nothing applied
    let more = record(&mut device.lock().unwrap(), &mut Rng::new(7), 5);
    let bundle = device.lock().unwrap().export_bundle(Utc::now()).expect("export again");
    let sealed_at = bundle.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    let mut tampered = bundle.clone();
    let middle = sealed_at + (bundle.len() - sealed_at) / 2;
    tampered[middle] ^= 0x20;
    let tampered_file = server.temp_path("lan-2-tampered.gocua");
    write(&tampered_file, &tampered);
    let run = server.import_bundle(&tampered_file, OFFICE);
    assert!(!run.success, "a tampered bundle was accepted: {}", run.stdout);
    assert!(run.stderr.contains("bị hỏng hoặc đã bị sửa đổi"), "{}", run.stderr);
    assert!(run.stderr.contains("the bundle is damaged or was tampered with"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(server.event_count("applied"), 240);
    assert_eq!(server.projection(), server_state);

    // a bundle from a phone enrolled with another server: named as such, nothing applied
    let other = TestServer::start().await;
    other.add_places();
    let (stranger, _) = enrolled_device(&other, "nga.sqlite", &other.volunteer_code("Hà Thị Nga", COMMUNE_A)).await;
    record(&mut stranger.lock().unwrap(), &mut Rng::new(9), 2);
    let foreign_file = server.temp_path("nga.gocua");
    write(&foreign_file, &stranger.lock().unwrap().export_bundle(Utc::now()).expect("export elsewhere"));
    let run = server.import_bundle(&foreign_file, OFFICE);
    assert!(!run.success, "{}", run.stdout);
    assert!(run.stderr.contains("được tạo cho máy chủ khác"), "{}", run.stderr);
    assert!(run.stderr.contains("this bundle was made for another server"), "{}", run.stderr);
    assert_eq!(server.event_count("applied"), 240);
    assert_eq!(server.projection(), server_state);
    drop(other);

    // a phone of commune B signs a bundle with an event in commune A: refused by the ingest's
    // scope check, and its own valid event in the same batch is not applied either
    let (phone_b, _) =
        enrolled_device(&server, "phong.sqlite", &server.volunteer_code("Lò Văn Phóng", COMMUNE_B)).await;
    let (device_b, author_b) = {
        let e = phone_b.lock().unwrap().enrollment().unwrap().unwrap();
        (e.device_id, e.user_id)
    };
    let (_, _, own) = fixtures::household_payloads(&mut Rng::new(31), "03637-01", 0);
    let (_, _, intruding) = fixtures::household_payloads(&mut Rng::new(32), "03445-01", 0);
    let events = vec![
        fixtures::event(device_b, author_b, 1, own[0].clone()),
        fixtures::event(device_b, author_b, 2, intruding[0].clone()),
    ];
    let scope_file = server.temp_path("phong.gocua");
    write(&scope_file, &phone_b.lock().unwrap().export_bundle_of(&events, Utc::now()).expect("export b"));
    let run = server.import_bundle(&scope_file, OFFICE);
    assert!(!run.success, "{}", run.stdout);
    assert!(run.stderr.contains("[forbidden]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("nằm ngoài địa bàn") && run.stderr.contains("outside the device's scope"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was imported"), "{}", run.stderr);
    assert_eq!(server.event_count("applied"), 240);
    assert_eq!(server.projection(), server_state);

    // the intact copy of the second bundle still imports
    let intact_file = server.temp_path("lan-2.gocua");
    write(&intact_file, &bundle);
    let run = server.import_bundle(&intact_file, OFFICE);
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("{more} events — {more} applied, 0 duplicates")), "{}", run.stdout);
    assert_eq!(server.event_count("applied"), 240 + more as i64);

    // one audit row per import attempt: the three accepted ones with their counts, and the
    // three refusals with their reasons, none of which applied anything
    let rows = audit(&server);
    let office = OFFICE.to_owned();
    let accepted: Vec<_> = rows.iter().filter(|r| r.0 == "imported").cloned().collect();
    assert_eq!(
        accepted,
        vec![
            ("imported".into(), None, 240, 0, 0, office.clone()),
            ("imported".into(), None, 0, 240, 0, office.clone()),
            ("imported".into(), None, more as i64, 0, 0, office.clone()),
        ]
    );
    let refused: Vec<_> = rows.iter().filter(|r| r.0 != "imported").cloned().collect();
    assert_eq!(
        refused,
        vec![
            ("refused".into(), Some("damaged".into()), 0, 0, 0, office.clone()),
            ("refused".into(), Some("other_server".into()), 0, 0, 0, office.clone()),
            ("refused".into(), Some("forbidden".into()), 0, 0, 0, office),
        ]
    );
    // no personal values in the audit
    let text = audit_text(&server);
    let state = server.projection();
    for household in state.households.values() {
        assert!(!text.contains(&household.head_name) && !text.contains(&household.address), "{text}");
    }
    for resident in state.residents.values() {
        assert!(!text.contains(&resident.full_name), "{text}");
    }
}
