//! A changed role: an administrator makes a commune police officer a volunteer (they moved to
//! the youth union), or the office makes a volunteer team leader. At its next sync the phone
//! takes the new role on; one that no longer sees everything drops what only the police may
//! hold (full CCCD numbers, the office's own tables) and downloads its scope again, masked,
//! while the work it had not sent still reaches the server and counts.

use gocua_core::fixtures::{self, Rng};
use gocua_core::privacy::is_masked_cccd;
use gocua_core::sync::engine::sync_once;
use gocua_core::sync::office::NewRole;
use gocua_core::sync::protocol::Role;
use gocua_e2e::{TestServer, enrolled_device};

/// Whether the file (with its write-ahead log) holds `needle` anywhere, deleted pages included.
fn file_holds(path: &std::path::Path, needle: &str) -> bool {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_made_volunteer_drops_full_cccd_numbers_and_keeps_the_unsent_visit() {
    let server = TestServer::start().await;
    server.add_places();
    let mut rng = Rng::new(41);
    // a volunteer records households with CCCD numbers in hamlet 01
    let volunteer_code = server.volunteer_code("Lò Thị Lan", "03445-01");
    let (volunteer, volunteer_link) = enrolled_device(&server, "lan.sqlite", &volunteer_code).await;
    for _ in 0..4 {
        let (_, _, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 3);
        let mut store = volunteer.lock().unwrap();
        for p in payloads {
            store.record(p).unwrap();
        }
    }
    sync_once(&volunteer, &volunteer_link).await.unwrap();

    // the commune police officer's device pulls them whole, and records a household of its own
    let officer_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (officer, officer_link) = enrolled_device(&server, "officer.sqlite", &officer_code).await;
    let (_, own_residents, own) = fixtures::household_payloads(&mut rng, "03445-02", 2);
    for p in own {
        officer.lock().unwrap().record(p).unwrap();
    }
    sync_once(&officer, &officer_link).await.unwrap();
    officer.lock().unwrap().save_import_layout("fingerprint", r#"{"fields":{}}"#).unwrap();
    let numbers: Vec<String> = {
        let store = officer.lock().unwrap();
        let held = store.projection().unwrap();
        held.residents.values().filter_map(|r| r.cccd.clone()).filter(|c| !is_masked_cccd(c)).collect()
    };
    assert!(numbers.len() >= 6, "the officer's device holds full numbers: {numbers:?}");
    assert!(numbers.iter().all(|n| file_holds(&server.temp_path("officer.sqlite"), n)));

    // offline, the officer records one more visit; meanwhile an administrator makes them a
    // volunteer of the same commune
    let visited = own_residents[0];
    officer.lock().unwrap().record(fixtures::visit_payload(&mut rng, visited, &[])).unwrap();
    let user = officer.lock().unwrap().enrollment().unwrap().unwrap().user_id.to_string();
    let said = server.admin(&["set-role", "--user", &user, "--role", "volunteer"]);
    assert!(said.contains("is now volunteer"), "{said}");
    assert!(server.admin(&["set-role", "--user", &user, "--role", "volunteer"]).contains("already"), "once only");

    let report = sync_once(&officer, &officer_link).await.unwrap();
    assert_eq!((report.applied, report.rejected, report.resets), (1, 0, 1), "{report:?}");
    {
        let store = officer.lock().unwrap();
        assert_eq!(store.enrollment().unwrap().unwrap().role, Role::Volunteer);
        assert_eq!(store.unsent_count().unwrap(), 0);
        let held = store.projection().unwrap();
        gocua_e2e::assert_same_as_volunteer_sees(&held, &server.projection(), "the commune, as a volunteer sees it");
        let full: Vec<&String> =
            held.residents.values().filter_map(|r| r.cccd.as_ref()).filter(|c| !is_masked_cccd(c)).collect();
        assert!(full.is_empty(), "no full CCCD number is left in the projection: {full:?}");
        for number in &numbers {
            assert!(!file_holds(&server.temp_path("officer.sqlite"), number), "{number} is still in the phone's file");
        }
        assert!(store.import_layouts().unwrap().is_empty(), "the office's own tables are emptied");
        // the visit recorded offline reached the server, and counts
        let on_server = server.projection();
        assert_eq!(on_server.residents[&visited].visit_count, 1);
        assert_eq!(held.residents[&visited].visit_count, 1);
    }
    // it records on as a volunteer: its numbering goes on above the events it dropped
    let (_, _, more) = fixtures::household_payloads(&mut rng, "03445-02", 1);
    for p in more {
        officer.lock().unwrap().record(p).unwrap();
    }
    let report = sync_once(&officer, &officer_link).await.unwrap();
    assert_eq!((report.applied, report.rejected, report.resets), (2, 0, 0), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_makes_a_volunteer_team_leader_and_her_phone_follows_without_a_download() {
    let server = TestServer::start().await;
    server.add_places();
    let mut rng = Rng::new(43);
    let officer_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (officer, officer_link) = enrolled_device(&server, "officer.sqlite", &officer_code).await;
    let user = server.admin(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03445-01"]);
    let code = server.admin(&["create-code", "--user", &user]);
    let (phone, link) = enrolled_device(&server, "lan.sqlite", &code).await;
    let (_, _, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 2);
    for p in payloads {
        phone.lock().unwrap().record(p).unwrap();
    }
    sync_once(&phone, &link).await.unwrap();
    let before = phone.lock().unwrap().projection().unwrap();

    let user_id: uuid::Uuid = user.trim().parse().unwrap();
    let promoted = officer_link.office_set_role(user_id, Role::TeamLeader).await.expect("the office promotes her");
    assert_eq!((promoted.id, promoted.role), (user_id, Role::TeamLeader));
    // the office gives no police role, and changes no police officer's role
    let refused = officer_link.office_set_role(user_id, Role::CommunePolice).await.unwrap_err();
    assert!(refused.to_string().contains("tình nguyện viên và tổ trưởng"), "{refused}");
    let me = officer.lock().unwrap().enrollment().unwrap().unwrap().user_id;
    let refused = officer_link.office_set_role(me, Role::Volunteer).await.unwrap_err();
    assert!(refused.to_string().contains("tình nguyện viên và tổ trưởng"), "{refused}");
    // a volunteer cannot promote anyone (a hand-made request with her token)
    let body = serde_json::to_vec(&NewRole { role: Role::TeamLeader }).unwrap();
    let token = phone.lock().unwrap().enrollment().unwrap().unwrap().token;
    let forbidden = reqwest::Client::new()
        .post(format!("{}/api/v1/office/people/{user_id}/role", server.url))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);

    let report = sync_once(&phone, &link).await.unwrap();
    assert_eq!(report.resets, 0, "a team leader sees what a volunteer saw: nothing to download again");
    let store = phone.lock().unwrap();
    assert_eq!(store.enrollment().unwrap().unwrap().role, Role::TeamLeader);
    assert_eq!(store.projection().unwrap(), before, "nothing dropped");
    // the change is audited with the officer's user
    drop(store);
    let audited = server.with_store(|s| gocua_server_store::run_read(s, |tx| tx.audit_rows(0, 10_000)).unwrap());
    assert!(
        audited
            .iter()
            .any(|row| row.action == "set_role" && row.actor_user.as_deref() == Some(me.to_string().as_str())),
        "the role change is in the audit log"
    );
}
