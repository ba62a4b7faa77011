//! A resident's rights end to end against the real server: the commune police export
//! everything held about one person, then erase them on request; the server's log and
//! projection, and both phones after their next pull, no longer hold the person's name, CCCD,
//! phone or visit notes, while the campaign's counts stay; both acts are in the audit log.

use std::process::Command;

use gocua_core::erasure::ERASED_NAME;
use gocua_core::event::{Payload, VisitRecorded};
use gocua_core::fixtures::{SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE};
use gocua_core::funnel::FunnelState;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device, police_recorded_sentinel_visit, server_bin};

const NOTE: &str = "Sentinel hẹn chiều thứ bảy";
const LATE_NOTE: &str = "Sentinel gọi lại sau";

fn admin(server: &TestServer, args: &[&str]) -> std::process::Output {
    Command::new(server_bin()).args(["admin", "--database"]).arg(server.database()).args(args).output().unwrap()
}

fn file_holds(path: &std::path::Path, needle: &str) -> bool {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_is_exported_then_erased_everywhere_on_request() {
    let server = TestServer::start().await;
    server.add_places();
    let (police, police_link, resident) =
        police_recorded_sentinel_visit(&server, FunnelState::NotRegistered, "refused", NOTE, None).await;
    let lan = server.volunteer_code("Lò Thị Lan", "03445");
    let (volunteer, volunteer_link) = enrolled_device(&server, "lan.sqlite", &lan).await;
    sync_once(&volunteer, &volunteer_link).await.unwrap();
    assert!(file_holds(&server.temp_path("lan.sqlite"), SENTINEL_NAME), "the volunteer's phone holds the name");
    assert!(file_holds(&server.temp_path("police.sqlite"), SENTINEL_CCCD), "the police phone holds the number");
    for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, NOTE] {
        assert!(server.data_holds(secret), "the server holds {secret:?} before the erasure");
    }

    // the person asks what is held about them: the police export it
    let out = admin(&server, &["export-resident", "--resident", &resident.to_string(), "--by", "Thượng úy Hà"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the export is JSON");
    assert_eq!(export["resident"]["full_name"], SENTINEL_NAME);
    assert_eq!(export["resident"]["cccd"], SENTINEL_CCCD);
    assert_eq!(export["resident"]["phone"], SENTINEL_PHONE);
    assert_eq!(export["visits"][0]["note"], NOTE);
    let events = export["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "added, and the visit");
    assert!(events.iter().all(|e| e["recorded_by"] == "Công an xã" && e["device"] == "police.sqlite"));
    assert!(export["erased_at"].is_null());

    // and asks to be erased
    let out = admin(&server, &["erase-resident", "--resident", &resident.to_string(), "--by", "Thượng úy Hà"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("erased"), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let on_server = server.projection();
    let r = &on_server.residents[&resident];
    assert_eq!((r.full_name.as_str(), r.cccd.as_deref(), r.phone.as_deref()), (ERASED_NAME, None, None));
    assert_eq!(r.status, Some(FunnelState::NotRegistered), "the counts stay");
    assert_eq!(r.reason_code.as_deref(), Some("refused"));
    assert!(on_server.visits.values().all(|v| v.note.is_none()));
    assert_eq!(on_server.households[&r.household_id].head_name, ERASED_NAME, "she headed the household");
    for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, NOTE] {
        assert!(!server.data_holds(secret), "{secret:?} is still in the server's database file");
    }

    // the police phone, offline since, records one more visit with a note: its push comes
    // before its pull, and the server keeps the visit but not the note
    {
        let mut store = police.lock().unwrap();
        let visit_id = store.new_record_id().unwrap();
        store
            .record(Payload::VisitRecorded(VisitRecorded {
                visit_id,
                resident_id: resident,
                status: FunnelState::NotRegistered,
                reason_code: None,
                action: None,
                follow_up: None,
                steps: vec![],
                note: Some(LATE_NOTE.into()),
                position: None,
            }))
            .unwrap();
    }

    // both phones forget at their next pull, the police one its own records included
    for (store, link, file) in [(&police, &police_link, "police.sqlite"), (&volunteer, &volunteer_link, "lan.sqlite")] {
        sync_once(store, link).await.unwrap();
        let p = store.lock().unwrap().projection().unwrap();
        let r = &p.residents[&resident];
        assert_eq!((r.full_name.as_str(), r.cccd.as_deref(), r.phone.as_deref()), (ERASED_NAME, None, None), "{file}");
        assert!(p.visits.values().all(|v| v.note.is_none()), "{file}");
        assert_eq!(r.status, Some(FunnelState::NotRegistered), "{file}: the counts stay");
        // the search index's folded names too
        for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, NOTE, LATE_NOTE, "sentinel"] {
            assert!(!file_holds(&server.temp_path(file), secret), "{file}: {secret:?} is still in the phone's file");
        }
    }

    let on_server = server.projection();
    assert_eq!(on_server.residents[&resident].visit_count, 2, "the late visit counts");
    assert!(on_server.visits.values().all(|v| v.note.is_none()), "without its note");
    assert!(!server.data_holds(LATE_NOTE), "the late note never reached the server's file");

    // an export now says so, and holds nothing of the person
    let out = admin(&server, &["export-resident", "--resident", &resident.to_string(), "--by", "Thượng úy Hà"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("erased_at") && !text.contains("\"erased_at\":null"), "{text}");
    for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, NOTE] {
        assert!(!text.contains(secret), "{secret:?} in the export after erasure");
    }
    // both acts are audited, by resident id only, and the chain holds
    let details: Vec<(String, String)> = server
        .with_store(|store| gocua_server_store::run_read(store, |tx| tx.audit_rows(0, 10_000)).unwrap())
        .into_iter()
        .filter(|r| r.action == "export_resident" || r.action == "erase_resident")
        .map(|r| (r.action, r.detail))
        .collect();
    let actions: Vec<&str> = details.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["export_resident", "erase_resident", "export_resident"]);
    assert!(details.iter().all(|(_, d)| d.contains(&resident.to_string()) && !d.contains("Sentinel")));
    let out = admin(&server, &["verify-audit"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // an unknown person is a clear error
    let out = admin(&server, &["erase-resident", "--resident", &uuid::Uuid::now_v7().to_string(), "--by", "x"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown resident"));
}
