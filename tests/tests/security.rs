//! Security end to end against the real server process: the audit log records who read and
//! changed which records (ids and counts only) and catches tampering; a revoked device is
//! refused at its next contact, and told so through its revocation probe while locked; a
//! sentinel CCCD sent through every path appears in no server log at any level.

use std::process::Command;

use gocua_core::event::{HouseholdCreated, Payload};
use gocua_core::fixtures::{SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, record_sentinel_household};
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{SyncError, TransportError, sync_once};
use gocua_core::sync::status::DeviceState;
use gocua_e2e::{TestServer, enrolled_device, server_bin};
use gocua_http_client::HttpTransport;
use sha2::Digest;
use uuid::Uuid;

fn record_sentinel(store: &mut DeviceStore) {
    record_sentinel_household(store);
}

fn admin(server: &TestServer, args: &[&str]) -> std::process::Output {
    Command::new(server_bin()).args(["admin", "--database"]).arg(server.database()).args(args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_says_who_read_and_changed_what_and_catches_tampering() {
    let server = TestServer::start().await;
    server.add_places();
    let lan = server.volunteer_code("Lò Thị Lan", "03445");
    let (writer, writer_link) = enrolled_device(&server, "writer.sqlite", &lan).await;
    record_sentinel(&mut writer.lock().unwrap());
    sync_once(&writer, &writer_link).await.unwrap();
    let nga = server.volunteer_code("Hà Thị Nga", "03445");
    let (reader, reader_link) = enrolled_device(&server, "reader.sqlite", &nga).await;
    sync_once(&reader, &reader_link).await.unwrap();
    let writer_id = writer.lock().unwrap().enrollment().unwrap().unwrap().device_id;
    let reader_id = reader.lock().unwrap().enrollment().unwrap().unwrap().device_id;

    let out = admin(&server, &["verify-audit"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("audit log intact"),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let audit = server.with_store(|store| gocua_server_store::run_read(store, |tx| tx.audit_rows(0, 100_000)).unwrap());
    let rows: Vec<(String, Option<String>, String)> =
        audit.iter().map(|r| (r.action.clone(), r.actor_device.clone(), r.detail.clone())).collect();
    let by = |action: &str, device: Uuid| {
        rows.iter().filter(|(a, d, _)| a == action && d.as_deref() == Some(device.to_string().as_str())).count()
    };
    assert_eq!(by("enroll", writer_id), 1);
    assert_eq!(by("push", writer_id), 1, "the writer's change: {rows:?}");
    assert_eq!(by("enroll", reader_id), 1);
    assert!(by("pull", reader_id) >= 1, "the reader's read of the household: {rows:?}");
    let push = rows.iter().find(|(a, _, _)| a == "push").unwrap();
    assert!(push.2.contains("\"applied\":2"), "{}", push.2);
    for (_, _, detail) in &rows {
        for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, "Sentinel"] {
            assert!(!detail.contains(secret), "personal data in the audit log: {detail}");
        }
    }

    // someone with the database file edits the row of the read, to hide it
    let pull_seq = audit.iter().filter(|r| r.action == "pull").map(|r| r.seq).max().unwrap();
    let edit = format!("UPDATE audit_log SET actor_device = '{writer_id}' WHERE seq = {pull_seq}");
    server.sql_execute(
        &format!("DROP TRIGGER audit_log_no_update; {edit};"),
        &format!("ALTER TABLE audit_log DISABLE TRIGGER USER; {edit};"),
    );
    let out = admin(&server, &["verify-audit"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "verification must fail");
    assert!(said.contains(&format!("altered at entry {pull_seq}")), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_told_so_at_its_next_contact() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (device, link) = enrolled_device(&server, "lost.sqlite", &code).await;
    sync_once(&device, &link).await.unwrap();
    let id = device.lock().unwrap().enrollment().unwrap().unwrap().device_id;
    let said = server.admin(&["revoke-device", "--device", &id.to_string()]);
    assert!(said.contains("revoked"), "{said}");
    assert!(server.admin(&["revoke-device", "--device", &id.to_string()]).contains("already"));
    let unknown = admin(&server, &["revoke-device", "--device", &Uuid::now_v7().to_string()]);
    assert!(!unknown.status.success() && String::from_utf8_lossy(&unknown.stderr).contains("unknown device"));

    record_sentinel(&mut device.lock().unwrap());
    match sync_once(&device, &link).await {
        Err(SyncError::Transport(e)) => assert!(e.is_revoked(), "{e}"),
        other => panic!("a revoked device must be refused: {other:?}"),
    }
    assert!(server.projection().households.is_empty(), "nothing from the revoked device was taken");
    let audit = server.with_store(|store| gocua_server_store::run_read(store, |tx| tx.audit_rows(0, 100_000)).unwrap());
    let revokes = audit.iter().filter(|r| r.action == "revoke_device").count();
    assert_eq!(revokes, 1, "revoking is audited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_phone_learns_of_its_revocation_with_its_probe_alone() {
    let server = TestServer::start_logging("info").await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    // what a locked app holds outside its database: the server, the device's id, the probe
    let bare = HttpTransport::new(&server.url).unwrap();
    let enrolled = bare.enroll(&code, "Điện thoại của Lan").await.unwrap();
    let probe = enrolled.revocation_probe.clone().expect("the server gives a revocation probe");
    let device = enrolled.device_id;
    assert_eq!(bare.device_status(device, &probe).await.unwrap(), DeviceState::Active);

    // the server keeps the probe's hash only
    let id = device.to_string();
    let kept =
        server.sql_text_rows(&format!("SELECT CAST(probe_hash AS TEXT) FROM devices WHERE CAST(id AS TEXT) = '{id}'"));
    assert_eq!(kept, [[hex::encode(sha2::Sha256::digest(probe.as_bytes()))]]);

    for (who, asked) in [
        ("wrong probe", bare.device_status(device, "not-the-probe").await),
        ("unknown device", bare.device_status(Uuid::now_v7(), &probe).await),
    ] {
        match asked {
            Err(TransportError::Refused { status: 401, kind, message }) => {
                assert_eq!(kind, "unauthorized", "{who}");
                assert!(message.starts_with("Mã kiểm tra thiết bị không hợp lệ / "), "{who}: {message}");
            }
            other => panic!("{who}: {other:?}"),
        }
    }

    server.admin(&["revoke-device", "--device", &id]);
    assert_eq!(bare.device_status(device, &probe).await.unwrap(), DeviceState::Revoked);
    // the answer says that and nothing else: no user, no scope, no name
    let raw = reqwest::Client::new()
        .post(format!("{}/api/v1/device/status", server.url))
        .json(&serde_json::json!({ "device_id": device, "probe": probe }))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.text().await.unwrap(), r#"{"status":"revoked"}"#);
    // and the probe is in no log line
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(log.contains("a revoked device asked its status"), "{log}");
    assert!(!log.contains(&probe), "the probe leaked into the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_cccd_appears_in_no_server_log_at_any_level() {
    for level in ["trace", "debug", "info", "warn"] {
        let server = TestServer::start_logging(level).await;
        server.add_places();
        let lan = server.volunteer_code("Lò Thị Lan", "03445");
        let (writer, writer_link) = enrolled_device(&server, "writer.sqlite", &lan).await;
        record_sentinel(&mut writer.lock().unwrap());
        sync_once(&writer, &writer_link).await.unwrap();
        // the same records again (duplicates), another phone reading them, and broken requests
        // that carry the CCCD where the server must refuse them
        sync_once(&writer, &writer_link).await.unwrap();
        let nga = server.volunteer_code("Hà Thị Nga", "03445");
        let (reader, reader_link) = enrolled_device(&server, "reader.sqlite", &nga).await;
        sync_once(&reader, &reader_link).await.unwrap();
        let token = writer.lock().unwrap().enrollment().unwrap().unwrap().token;
        let client = reqwest::Client::new();
        for body in [
            format!("{{\"schema_version\":3,\"events\":[{{\"type\":\"{SENTINEL_CCCD}\"}}]}}"),
            format!("{{\"schema_version\":3,\"app_version\":\"{SENTINEL_CCCD}\",\"events\":\"{SENTINEL_NAME}\"}}"),
            format!("not json {SENTINEL_CCCD}"),
        ] {
            let answer = client
                .post(format!("{}/api/v1/sync/push", server.url))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 400, "refused");
        }
        let bad_token = client
            .get(format!("{}/api/v1/sync/pull?scope={SENTINEL_CCCD}", server.url))
            .bearer_auth(SENTINEL_CCCD)
            .send()
            .await
            .unwrap();
        assert_eq!(bad_token.status(), 401);

        let log = std::fs::read_to_string(server.log_path()).unwrap();
        assert!(log.contains("listening on"), "the log was captured at {level}");
        if level == "trace" || level == "debug" {
            // the level took effect: lines below info were written (each request at debug), and
            // at trace some trace lines
            let below_info = log.lines().filter(|l| l.contains(" DEBUG ") || l.contains(" TRACE ")).count();
            assert!(below_info >= 5, "{level} logs a lot: {below_info} lines below info\n{log}");
            assert_eq!(level == "trace", log.contains(" TRACE "), "trace lines at {level} only\n{log}");
        }
        for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, "Sentinel"] {
            let line = log.lines().find(|l| l.contains(secret));
            assert!(line.is_none(), "{secret:?} in the server log at {level}: {line:?}");
        }
    }
}

/// A `gocua-server serve` writing JSON logs (`GOCUA_LOG_FORMAT=json`) at `trace` to a file;
/// killed on drop.
struct JsonLoggingServer {
    child: std::process::Child,
    url: String,
}

impl JsonLoggingServer {
    fn start(database: &str, log: &std::path::Path) -> JsonLoggingServer {
        use std::io::BufRead;
        let mut child = Command::new(server_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .env("GOCUA_LOG", "trace")
            .env("GOCUA_LOG_FORMAT", "json")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("gocua-server listening on ").map(|u| u.trim().to_owned()))
            .expect("the server listens");
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        JsonLoggingServer { child, url }
    }
}

impl Drop for JsonLoggingServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every string in a JSON value, keys included, as decoded (an escaped value is caught too).
fn json_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                out.push(k.clone());
                json_strings(v, out);
            }
        }
        other => out.push(other.to_string()),
    }
}

/// The same sentinel story with `--log-format json` (here by its environment variable) at
/// `trace`: every line is one JSON object, and no personal value is in any of them, raw or
/// decoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_cccd_appears_in_no_json_log_line() {
    let mut server = TestServer::start().await;
    server.add_places();
    let lan = server.volunteer_code("Lò Thị Lan", "03445");
    let nga = server.volunteer_code("Hà Thị Nga", "03445");
    server.stop();
    let log_path = server.temp_path("json.log");
    let json = JsonLoggingServer::start(server.database(), &log_path);
    server.url = json.url.clone();

    let (writer, writer_link) = enrolled_device(&server, "writer.sqlite", &lan).await;
    record_sentinel(&mut writer.lock().unwrap());
    sync_once(&writer, &writer_link).await.unwrap();
    sync_once(&writer, &writer_link).await.unwrap();
    let (reader, reader_link) = enrolled_device(&server, "reader.sqlite", &nga).await;
    sync_once(&reader, &reader_link).await.unwrap();
    assert!(reader.lock().unwrap().projection().unwrap().residents.values().any(|r| r.full_name == SENTINEL_NAME));
    let token = writer.lock().unwrap().enrollment().unwrap().unwrap().token;
    let client = reqwest::Client::new();
    let refused = client
        .post(format!("{}/api/v1/sync/push", server.url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"schema_version\":3,\"app_version\":\"{SENTINEL_CCCD}\",\"events\":\"{SENTINEL_NAME}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let bad_token = client
        .get(format!("{}/api/v1/sync/pull?scope={SENTINEL_CCCD}", server.url))
        .bearer_auth(SENTINEL_CCCD)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), 401);

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object ({e}): {l}")))
        .collect();
    let at = |level: &str| lines.iter().filter(|l| l["level"] == level).count();
    assert!(at("DEBUG") >= 5 && at("TRACE") >= 1, "trace took effect: {} debug, {} trace", at("DEBUG"), at("TRACE"));
    assert!(lines.iter().any(|l| l["message"] == "push" && l["handled"] == 2), "the push is logged, by count");
    for line in &lines {
        let mut strings = Vec::new();
        json_strings(line, &mut strings);
        for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, "Sentinel"] {
            assert!(!strings.iter().any(|s| s.contains(secret)), "{secret:?} in a JSON log line: {line}");
        }
    }
    for secret in [SENTINEL_CCCD, SENTINEL_NAME, SENTINEL_PHONE, "Sentinel"] {
        assert!(!log.contains(secret), "{secret:?} in the raw JSON log");
    }
}

/// What one request got: the HTTP status.
async fn push_household_at(server: &TestServer, code: &str, hamlet: &str) -> u16 {
    let transport = gocua_http_client::HttpTransport::new(&server.url).unwrap();
    let enrolled = transport.enroll_with_key(code, "matrix", None).await.expect("enroll");
    let event = gocua_core::event::Event {
        id: gocua_core::ids::event_id(enrolled.device_id, 1),
        device_id: enrolled.device_id,
        seq: 1,
        author: enrolled.user.id,
        device_time: chrono::Utc::now(),
        payload: Payload::HouseholdCreated(HouseholdCreated {
            household_id: Uuid::now_v7(),
            hamlet_code: hamlet.into(),
            address: "Số 1".into(),
            head_name: "Hộ thử quyền".into(),
        }),
    };
    let request = gocua_core::sync::protocol::PushRequest {
        schema_version: gocua_core::sync::protocol::SCHEMA_VERSION,
        app_version: "matrix".into(),
        events: vec![event],
        queued: None,
    };
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/sync/push", server.url))
        .bearer_auth(&enrolled.token)
        .json(&request)
        .send()
        .await
        .unwrap();
    answer.status().as_u16()
}

async fn pull_at(server: &TestServer, token: &str, place: Option<&str>) -> u16 {
    let mut url = format!("{}/api/v1/sync/pull?cursor=0", server.url);
    if let Some(place) = place {
        url.push_str(&format!("&place={place}"));
    }
    reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().status().as_u16()
}

/// Every role × every endpoint × own and foreign places, each allowed or denied as the policy
/// says (`crates/server/src/policy.rs`), through real HTTP against the real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_on_every_endpoint_in_its_own_and_foreign_places() {
    let server = TestServer::start().await;
    server.add_places();
    // a hamlet in another province (Phường Ba Đình, Hà Nội)
    server.admin(&[
        "add-place",
        "--code",
        "00004-01",
        "--name",
        "Tổ dân phố 1",
        "--level",
        "hamlet",
        "--parent",
        "00004",
        "--division-type",
        "tổ dân phố",
    ]);
    const OK: u16 = 200;
    const DENIED: u16 = 403;
    // role (as the CLI spells it), scope, then: push at own hamlet 03445-01, at the
    // neighbouring commune's 03637-01, at Hà Nội's 00004-01; pull of the whole scope, of
    // 03445-01, of commune 03637, of commune 00004
    let matrix: [(&str, &str, [u16; 3], [u16; 4]); 6] = [
        ("volunteer", "03445", [OK, DENIED, DENIED], [OK, OK, DENIED, DENIED]),
        ("team-leader", "03445", [OK, DENIED, DENIED], [OK, OK, DENIED, DENIED]),
        ("commune-police", "03445", [OK, DENIED, DENIED], [OK, OK, DENIED, DENIED]),
        ("province-police", "12", [DENIED, DENIED, DENIED], [OK, OK, OK, DENIED]),
        ("trainer", "03445", [DENIED, DENIED, DENIED], [DENIED, DENIED, DENIED, DENIED]),
        ("admin", "12", [DENIED, DENIED, DENIED], [DENIED, DENIED, DENIED, DENIED]),
    ];
    let mut seen = Vec::new();
    for (role, scope, push, pull) in matrix {
        let mut got_push = [0u16; 3];
        for (i, hamlet) in ["03445-01", "03637-01", "00004-01"].into_iter().enumerate() {
            let code = server.code_for(&format!("{role} {i}"), role, scope);
            got_push[i] = push_household_at(&server, &code, hamlet).await;
        }
        let code = server.code_for(&format!("{role} reader"), role, scope);
        let reader = gocua_http_client::HttpTransport::new(&server.url).unwrap();
        let token = reader.enroll_with_key(&code, "matrix reader", None).await.expect("enroll").token;
        let mut got_pull = [0u16; 4];
        for (i, place) in [None, Some("03445-01"), Some("03637"), Some("00004")].into_iter().enumerate() {
            got_pull[i] = pull_at(&server, &token, place).await;
        }
        seen.push((role, got_push, got_pull));
        assert_eq!((got_push, got_pull), (push, pull), "{role} in {scope}: push and pull statuses");
    }
    assert_eq!(seen.len(), 6, "every role was tried");
    // without a token, or with a made-up one, nothing at all
    for token in ["", "not-a-token"] {
        assert_eq!(pull_at(&server, token, None).await, 401, "pull with {token:?}");
    }
    let anonymous =
        reqwest::Client::new().post(format!("{}/api/v1/sync/push", server.url)).body("{}").send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    // only the three households pushed in place were taken
    assert_eq!(server.projection().households.len(), 3);
}

/// A police officer records the sentinel resident "in prison", with a note. Phones of police
/// roles receive the full CCCD and the reason; a volunteer's and a team leader's phone receive
/// the last two digits and the withheld marker, and their database files hold neither the
/// number nor the note. A volunteer may still correct the person's name (the server keeps the
/// full number), but may not record a police-only reason, nor send a masked number back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cccd_numbers_and_police_only_reasons_reach_police_roles_only() {
    use gocua_core::event::{ResidentPatch, VisitRecorded};
    use gocua_core::funnel::FunnelState;
    use gocua_core::privacy::{WITHHELD_REASON, mask_cccd};

    const NOTE: &str = "Sentinel đang ở trại giam";
    let server = TestServer::start().await;
    server.add_places();
    let (_police, _police_link, resident) = gocua_e2e::police_recorded_sentinel_visit(
        &server,
        FunnelState::NoChipCccd,
        "in_prison",
        NOTE,
        chrono::NaiveDate::from_ymd_opt(2027, 3, 1),
    )
    .await;

    let readers = [
        ("volunteer", "03445", false),
        ("team-leader", "03445", false),
        ("commune-police", "03445", true),
        ("province-police", "12", true),
    ];
    for (role, scope, sees) in readers {
        let code = server.code_for(&format!("{role} reader"), role, scope);
        let file = format!("{role}.sqlite");
        let (reader, link) = enrolled_device(&server, &file, &code).await;
        let token = reader.lock().unwrap().enrollment().unwrap().unwrap().token;
        let raw = reqwest::Client::new()
            .get(format!("{}/api/v1/sync/pull?cursor=0", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(raw.contains(SENTINEL_NAME), "{role} reads the household at all");
        assert_eq!(raw.contains(SENTINEL_CCCD), sees, "{role}: full CCCD on the wire");
        assert_eq!(raw.contains("in_prison"), sees, "{role}: police-only reason on the wire");
        assert_eq!(raw.contains("trại giam"), sees, "{role}: the reason's note on the wire");

        sync_once(&reader, &link).await.unwrap();
        let detail = reader.lock().unwrap().resident_detail(resident).unwrap();
        let (cccd, reason) =
            if sees { (SENTINEL_CCCD.to_owned(), "in_prison") } else { (mask_cccd(SENTINEL_CCCD), WITHHELD_REASON) };
        assert_eq!(detail.resident.cccd.as_deref(), Some(cccd.as_str()), "{role}");
        assert_eq!(detail.resident.reason_code.as_deref(), Some(reason), "{role}");
        assert_eq!(detail.visits[0].note.is_some(), sees, "{role}: the note");
        assert_eq!(detail.visits[0].follow_up.is_some(), sees, "{role}: the date");
        drop(reader);
        let bytes = std::fs::read(server.temp_path(&file)).unwrap();
        let holds = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        assert_eq!(holds(SENTINEL_CCCD), sees, "{role}: full CCCD in the phone's database file");
        assert_eq!(holds("trại giam"), sees, "{role}: the note in the phone's database file");
    }

    // a volunteer corrects the name of the person they hold masked: the server keeps the number
    let lan = server.volunteer_code("Lò Thị Lan", "03445");
    let (volunteer, volunteer_link) = enrolled_device(&server, "lan.sqlite", &lan).await;
    sync_once(&volunteer, &volunteer_link).await.unwrap();
    let (prison, masked) = {
        let mut store = volunteer.lock().unwrap();
        let base_version = store.resident_detail(resident).unwrap().resident.version;
        store
            .record(Payload::ResidentPatched(ResidentPatch {
                resident_id: resident,
                base_version,
                full_name: Some("Vi Thị Sentinel Hai".into()),
                ..Default::default()
            }))
            .expect("a name correction needs no CCCD");
        let refused = |err: gocua_core::Error| match err {
            gocua_core::Error::Invalid(errors) => errors.into_iter().map(|e| e.code).collect::<Vec<_>>(),
            other => panic!("{other}"),
        };
        let visit_id = store.new_record_id().unwrap();
        let prison = Payload::VisitRecorded(VisitRecorded {
            visit_id,
            resident_id: resident,
            status: FunnelState::NoChipCccd,
            reason_code: Some("in_prison".into()),
            action: None,
            follow_up: None,
            steps: vec![],
            note: None,
            position: None,
        });
        assert_eq!(refused(store.record(prison.clone()).unwrap_err()), ["reason_police_only"]);
        let masked = Payload::ResidentPatched(ResidentPatch {
            resident_id: resident,
            base_version: base_version + 1,
            cccd: Some(mask_cccd(SENTINEL_CCCD)),
            ..Default::default()
        });
        assert_eq!(refused(store.record(masked.clone()).unwrap_err()), ["cccd_masked"]);
        (prison, masked)
    };
    sync_once(&volunteer, &volunteer_link).await.unwrap();
    {
        // the same two sent straight to the server, as a modified app would
        let enrollment = volunteer.lock().unwrap().enrollment().unwrap().unwrap();
        let events: Vec<_> = [prison, masked]
            .into_iter()
            .enumerate()
            .map(|(i, payload)| gocua_core::event::Event {
                id: gocua_core::ids::event_id(enrollment.device_id, 2 + i as u64),
                device_id: enrollment.device_id,
                seq: 2 + i as u64,
                author: enrollment.user_id,
                device_time: chrono::Utc::now(),
                payload,
            })
            .collect();
        let request = gocua_core::sync::protocol::PushRequest {
            schema_version: gocua_core::sync::protocol::SCHEMA_VERSION,
            app_version: "modified".into(),
            events,
            queued: None,
        };
        let answer: gocua_core::sync::protocol::PushResponse = reqwest::Client::new()
            .post(format!("{}/api/v1/sync/push", server.url))
            .bearer_auth(&enrollment.token)
            .json(&request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let codes: Vec<Vec<String>> =
            answer.results.iter().map(|r| r.errors.iter().map(|e| e.code.clone()).collect()).collect();
        assert_eq!(codes, [vec!["reason_police_only".to_owned()], vec!["cccd_masked".to_owned()]]);
    }
    let on_server = server.projection().residents[&resident].clone();
    assert_eq!(on_server.full_name, "Vi Thị Sentinel Hai", "the volunteer's correction was taken");
    assert_eq!(on_server.cccd.as_deref(), Some(SENTINEL_CCCD), "and the full number kept");
    assert_eq!(on_server.reason_code.as_deref(), Some("in_prison"));
}
