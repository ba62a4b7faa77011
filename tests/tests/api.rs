//! The HTTP surface in-process (`router(state)`, no sockets): errors are specific JSON, limits hold.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gocua_core::fixtures;
use gocua_core::sync::dcz;
use gocua_core::sync::protocol::{
    APP_VERSION, EnrollRequest, EnrollResponse, PullResponse, PushRequest, PushResponse, SCHEMA_VERSION,
};
use gocua_core::sync::wire::PullBody;
use gocua_server::{AppState, admin, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct App {
    router: axum::Router,
    codes: Vec<String>,
    store: std::sync::Arc<dyn gocua_server_store::Store>,
    _db: (tempfile::TempDir, gocua_e2e::ServerDb),
}

/// The router over a fresh database of the suite's backend (`gocua_e2e::backend`), seeded with
/// the demo commune.
fn app() -> App {
    app_with(|_| {})
}

fn app_with(adjust: impl FnOnce(&mut AppState)) -> App {
    let dir = tempfile::tempdir().unwrap();
    let db = gocua_e2e::ServerDb::new(dir.path());
    let store = db.open();
    let seed = gocua_e2e::off_runtime(|| admin::seed_demo(&*store).unwrap());
    let mut state = AppState::new(std::sync::Arc::clone(&store));
    adjust(&mut state);
    App { router: router(state), codes: seed.codes.into_iter().map(|c| c.2).collect(), store, _db: (dir, db) }
}

async fn call(app: &App, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn post(uri: &str, token: Option<&str>, body: Vec<u8>, zstd: bool) -> Request<Body> {
    post_encoded(uri, token, body, zstd.then_some("zstd"))
}

fn post_encoded(uri: &str, token: Option<&str>, body: Vec<u8>, encoding: Option<&str>) -> Request<Body> {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(encoding) = encoding {
        b = b.header(header::CONTENT_ENCODING, encoding);
    }
    b.body(Body::from(body)).unwrap()
}

async fn enroll(app: &App, code: &str) -> (StatusCode, Value) {
    let body = serde_json::to_vec(&EnrollRequest {
        code: code.into(),
        device_name: "Điện thoại thử".into(),
        schema_version: SCHEMA_VERSION,
        app_version: APP_VERSION.into(),
        signing_key: None,
    })
    .unwrap();
    call(app, post("/api/v1/enroll", None, body, false)).await
}

#[tokio::test]
async fn health_answers() {
    let app = app();
    let (status, body) = call(&app, Request::get("/api/v1/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn answers_are_zstd_compressed_for_clients_that_accept_it_unless_tiny() {
    let app = app();
    let request = Request::get("/api/v1/health").header(header::ACCEPT_ENCODING, "zstd").body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers().get(header::CONTENT_ENCODING), None, "a tiny answer is sent as it is");

    let body = serde_json::to_vec(&EnrollRequest {
        code: app.codes[0].clone(),
        device_name: "Điện thoại thử".into(),
        schema_version: SCHEMA_VERSION,
        app_version: APP_VERSION.into(),
        signing_key: None,
    })
    .unwrap();
    let mut request = post("/api/v1/enroll", None, body, false);
    request.headers_mut().insert(header::ACCEPT_ENCODING, "zstd".parse().unwrap());
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers().get(header::CONTENT_ENCODING).unwrap(), "zstd");
    let wire = response.into_body().collect().await.unwrap().to_bytes();
    let body = zstd::decode_all(wire.as_ref()).unwrap();
    assert!(body.len() > usize::from(gocua_server::MIN_COMPRESSED_ANSWER_BYTES));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["scope"]["code"], "03445");
}

#[tokio::test]
async fn a_code_enrolls_once_and_binds_role_scope_places_and_reasons() {
    let app = app();
    let (status, body) = enroll(&app, &app.codes[0].to_lowercase()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response: EnrollResponse = serde_json::from_value(body).unwrap();
    assert_eq!(response.scope.code, "03445");
    assert_eq!(response.user.role.code(), "volunteer");
    let codes: Vec<_> = response.places.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes[..2], ["12", "03445"], "ancestors first");
    assert_eq!(codes.len(), 2 + 4, "and the four hamlets");
    assert_eq!(response.reasons.len(), 13, "the national twelve and the withheld marker");
    assert!(response.token.len() >= 43);

    let (status, body) = enroll(&app, &app.codes[0]).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_code")));
    let (status, _) = enroll(&app, "ABCD-EFGH").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sync_needs_a_known_token() {
    let app = app();
    let body = serde_json::to_vec(&json!({"schema_version": 1, "app_version": "x", "events": []})).unwrap();
    let (status, body_json) = call(&app, post("/api/v1/sync/push", None, body.clone(), false)).await;
    assert_eq!((status, body_json["kind"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    let (status, _) = call(&app, post("/api/v1/sync/push", Some("not-a-token"), body, false)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(&app, Request::get("/api/v1/sync/pull").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_bodies_get_specific_errors() {
    let app = app();
    let (_, enrolled) = enroll(&app, &app.codes[0]).await;
    let token = enrolled["token"].as_str().unwrap().to_owned();

    let (status, body) = call(&app, post("/api/v1/sync/push", Some(&token), b"{\"events\": [".to_vec(), false)).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    assert!(body["message"].as_str().unwrap().contains("JSON"), "{body}");

    let unknown_type = json!({"schema_version": 1, "app_version": "x", "events": [{
        "id": uuid::Uuid::now_v7(), "device_id": enrolled["device_id"], "seq": 1,
        "author": enrolled["user"]["id"], "device_time": "2026-10-01T08:00:00Z",
        "payload": {"type": "household_deleted.v1"}}]});
    let (status, body) =
        call(&app, post("/api/v1/sync/push", Some(&token), serde_json::to_vec(&unknown_type).unwrap(), false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("household_deleted.v1"), "{body}");

    let future = json!({"schema_version": 99, "app_version": "x", "events": []});
    let (status, body) =
        call(&app, post("/api/v1/sync/push", Some(&token), serde_json::to_vec(&future).unwrap(), false)).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::BAD_REQUEST, Some("unsupported_schema")));

    let (status, body) = call(&app, post("/api/v1/sync/push", Some(&token), b"not zstd at all".to_vec(), true)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = call(&app, Request::get("/api/v1/nothing").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

#[tokio::test]
async fn the_size_limit_applies_after_decompression() {
    let app = app();
    let (_, enrolled) = enroll(&app, &app.codes[0]).await;
    let token = enrolled["token"].as_str().unwrap();
    // 64 MiB of spaces compresses to a few KiB: a zip bomb must be stopped at the limit
    let bomb = zstd::encode_all(std::io::repeat(b' ').take_bytes(64 << 20), 19).unwrap();
    assert!(bomb.len() < 64 * 1024);
    let (status, body) = call(&app, post("/api/v1/sync/push", Some(token), bomb, true)).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{body}");
}

#[tokio::test]
async fn a_compressed_push_is_applied() {
    let app = app();
    let (_, enrolled) = enroll(&app, &app.codes[0]).await;
    let token = enrolled["token"].as_str().unwrap();
    let device_id = enrolled["device_id"].as_str().unwrap().parse().unwrap();
    let author = enrolled["user"]["id"].as_str().unwrap().parse().unwrap();
    let (_, _, payloads) = fixtures::household_payloads(&mut fixtures::Rng::new(1), "03445-01", 1);
    let events: Vec<_> =
        payloads.into_iter().enumerate().map(|(i, p)| fixtures::event(device_id, author, i as u64 + 1, p)).collect();
    let body = serde_json::to_vec(&json!({"schema_version": 1, "app_version": "x", "events": events})).unwrap();
    let (status, body) =
        call(&app, post("/api/v1/sync/push", Some(token), zstd::encode_all(body.as_slice(), 3).unwrap(), true)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["last_seq"], 2);
    assert_eq!(body["results"][1]["status"], "applied");
}

#[tokio::test]
async fn a_current_app_pushes_dcz_and_hears_runs_while_an_old_one_hears_every_result() {
    let app = app();
    let (mut new, mut old) = (phone(&app, 0).await, phone(&app, 1).await);
    let (_, _, payloads) = fixtures::household_payloads(&mut fixtures::Rng::new(5), "03445-01", 4);
    let events: Vec<_> = payloads.into_iter().map(|x| new.event(x)).collect();
    let request = PushRequest { schema_version: SCHEMA_VERSION, app_version: APP_VERSION.into(), events, queued: None };
    let packed = dcz::encode(&serde_json::to_vec(&request).unwrap()).unwrap();
    let (status, body) =
        call(&app, post_encoded("/api/v1/sync/push", Some(&new.token), packed, Some(dcz::CONTENT_ENCODING))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first_server_seq = body["applied"][0][2].as_u64().unwrap();
    assert_eq!(body, json!({"results": [], "applied": [[1, 5, first_server_seq]], "last_seq": 5}));

    let (_, _, payloads) = fixtures::household_payloads(&mut fixtures::Rng::new(6), "03445-01", 4);
    let events: Vec<_> = payloads.into_iter().map(|x| old.event(x)).collect();
    let body = serde_json::to_vec(&json!({"schema_version": 2, "app_version": "x", "events": events})).unwrap();
    let (status, body) = call(&app, post("/api/v1/sync/push", Some(&old.token), body, false)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.get("applied"), None);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    for (result, event) in results.iter().zip(&events) {
        assert_eq!((&result["event_id"], &result["status"]), (&json!(event.id), &json!("applied")), "{result}");
    }
}

#[tokio::test]
async fn bad_dcz_bodies_and_unknown_encodings_get_specific_errors() {
    let app = app();
    let p = phone(&app, 0).await;
    let push = |body: Vec<u8>, encoding: &str| {
        call(&app, post_encoded("/api/v1/sync/push", Some(&p.token), body, Some(encoding)))
    };
    let json = br#"{"schema_version":3,"app_version":"x","events":[]}"#.to_vec();
    let packed = dcz::encode(&json).unwrap();

    let mut foreign = packed.clone();
    foreign[8] ^= 1; // the dictionary's hash
    let (status, body) = push(foreign, "dcz").await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    assert!(body["message"].as_str().unwrap().contains("unknown compression dictionary"), "{body}");

    let (status, body) = push(packed[..packed.len() - 4].to_vec(), "dcz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("damaged"), "{body}");

    let (status, body) = push(zstd::encode_all(&json[..], 3).unwrap(), "dcz").await;
    assert!(body["message"].as_str().unwrap().contains("not dcz"), "{status} {body}");

    let bomb = dcz::encode(&vec![b' '; gocua_server::MAX_BODY_BYTES + 1]).unwrap();
    assert!(bomb.len() < 64 * 1024);
    let (status, body) = push(bomb, "dcz").await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{body}");

    let (status, body) = push(json.clone(), "br").await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_encoding")));
    assert!(body["message"].as_str().unwrap().contains("br"), "{body}");

    let (status, body) = push(packed, "dcz").await;
    assert_eq!((status, body["last_seq"].as_u64()), (StatusCode::OK, Some(0)), "{body}");
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

/// An enrolled demo phone: token, device id, author.
struct Phone {
    token: String,
    device_id: uuid::Uuid,
    author: uuid::Uuid,
    seq: u64,
}

async fn phone(app: &App, code: usize) -> Phone {
    let (_, enrolled) = enroll(app, &app.codes[code]).await;
    Phone {
        token: enrolled["token"].as_str().unwrap().into(),
        device_id: enrolled["device_id"].as_str().unwrap().parse().unwrap(),
        author: enrolled["user"]["id"].as_str().unwrap().parse().unwrap(),
        seq: 0,
    }
}

impl Phone {
    fn event(&mut self, payload: gocua_core::event::Payload) -> gocua_core::event::Event {
        self.seq += 1;
        fixtures::event(self.device_id, self.author, self.seq, payload)
    }
    /// Pushes as an app of `schema` does; the answer's `results` with runs of applied events
    /// unfolded, as the app reads them.
    async fn push(&self, app: &App, schema: u32, events: &[gocua_core::event::Event]) -> (StatusCode, Value) {
        let body =
            serde_json::to_vec(&json!({"schema_version": schema, "app_version": "x", "events": events})).unwrap();
        let (status, mut body) = call(app, post("/api/v1/sync/push", Some(&self.token), body, false)).await;
        if let Ok(answer) = serde_json::from_value::<PushResponse>(body.clone()) {
            body["results"] = serde_json::to_value(answer.all_results()).unwrap();
        }
        (status, body)
    }
    async fn pull(&self, app: &App, query: &str, schema: u32) -> (StatusCode, Value) {
        let request = Request::get(format!("/api/v1/sync/pull?{query}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header("gocua-schema-version", schema.to_string())
            .body(Body::empty())
            .unwrap();
        call(app, request).await
    }
}

#[tokio::test]
async fn old_apps_still_push_but_must_upgrade_to_pull() {
    let app = app();
    let mut p = phone(&app, 0).await;
    let (_, _, payloads) = fixtures::household_payloads(&mut fixtures::Rng::new(2), "03445-01", 1);
    let events: Vec<_> = payloads.into_iter().map(|x| p.event(x)).collect();
    // a schema-1 phone's unsent data is never stranded
    let (status, body) = p.push(&app, 1, &events).await;
    assert_eq!((status, body["last_seq"].as_u64()), (StatusCode::OK, Some(events.len() as u64)), "{body}");
    // …but it cannot read schema-2 records (patch edits, tombstones), so its pulls are refused
    let (status, body) = p.pull(&app, "cursor=0", 1).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::UPGRADE_REQUIRED, Some("upgrade_required")));
    assert!(body["message"].as_str().unwrap().contains("cập nhật"), "{body}");
    // nor can a schema-3 app read masked records and erasures (schema 4)
    let (status, _) = p.pull(&app, "cursor=0", 3).await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    let (status, _) = p.pull(&app, "cursor=0", SCHEMA_VERSION).await;
    assert_eq!(status, StatusCode::OK);
    // a schema from the future is refused with a clear reason
    let (status, body) = p.push(&app, SCHEMA_VERSION + 1, &[]).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::BAD_REQUEST, Some("unsupported_schema")), "{body}");
}

#[tokio::test]
async fn a_clock_years_off_is_clamped_and_flagged_and_never_orders_anything() {
    let app = app();
    let mut p = phone(&app, 0).await;
    let (_, _, payloads) = fixtures::household_payloads(&mut fixtures::Rng::new(3), "03445-01", 2);
    let mut events: Vec<_> = payloads.into_iter().map(|x| p.event(x)).collect();
    events[0].device_time = "1970-01-01T00:00:00Z".parse().unwrap();
    events[1].device_time = "2031-05-01T08:00:00Z".parse().unwrap();
    let (status, body) = p.push(&app, SCHEMA_VERSION, &events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "flagged", "{body}");
    assert_eq!(body["results"][0]["flags"], json!(["clock_behind"]));
    assert_eq!(body["results"][1]["flags"], json!(["clock_ahead"]));
    assert_eq!(body["results"][2]["status"], "applied", "{body}");
    // the clamp itself: the time reports use is the server's receipt time
    let now = chrono::Utc::now();
    let (clamped, flag) = gocua_server::sync::push::effective_time(events[1].device_time, now);
    assert_eq!((clamped, flag.map(|f| format!("{f:?}"))), (now, Some("ClockAhead".into())));
    let honest = now - chrono::Duration::hours(3);
    assert_eq!(gocua_server::sync::push::effective_time(honest, now), (honest, None));
}

#[tokio::test]
async fn edits_from_one_version_are_flagged_parallel_update_or_conflict_by_field() {
    use gocua_core::event::{Payload, ResidentPatch};
    let app = app();
    let mut a = phone(&app, 0).await;
    let mut b = phone(&app, 1).await;
    let (_, residents, payloads) = fixtures::household_payloads(&mut fixtures::Rng::new(4), "03445-01", 1);
    let created: Vec<_> = payloads.into_iter().map(|x| a.event(x)).collect();
    assert_eq!(a.push(&app, SCHEMA_VERSION, &created).await.0, StatusCode::OK);
    let patch = |phone: Option<&str>, name: Option<&str>| {
        Payload::ResidentPatched(ResidentPatch {
            resident_id: residents[0],
            base_version: 1,
            phone: phone.map(Into::into),
            full_name: name.map(Into::into),
            ..ResidentPatch::default()
        })
    };
    let first = a.event(patch(Some("0987654321"), None));
    let (_, body) = a.push(&app, SCHEMA_VERSION, &[first]).await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    // another phone, from the same version, changes another field: both apply
    let other_field = b.event(patch(None, Some("Vàng Thị Mỷ")));
    let (_, body) = b.push(&app, SCHEMA_VERSION, &[other_field]).await;
    assert_eq!(
        (body["results"][0]["status"].as_str(), &body["results"][0]["flags"]),
        (Some("flagged"), &json!(["parallel_update"]))
    );
    // and then the same field as the first edit: a conflict, the later arrival wins
    let same_field = b.event(patch(Some("0911222333"), None));
    let (_, body) = b.push(&app, SCHEMA_VERSION, &[same_field]).await;
    assert_eq!(body["results"][0]["flags"], json!(["conflict"]), "{body}");
}

#[tokio::test]
async fn pushed_text_with_control_or_bidi_characters_is_refused_by_field_and_clean_text_stored_nfc() {
    use gocua_core::event::Payload;
    use unicode_normalization::UnicodeNormalization;
    let app = app();
    let mut p = phone(&app, 0).await;
    let (_, _, mut spoofed) = fixtures::household_payloads(&mut fixtures::Rng::new(7), "03445-01", 0);
    let Payload::HouseholdCreated(household) = &mut spoofed[0] else { panic!("a household first") };
    household.head_name = "Lò Văn \u{202E}naL".into(); // displays reversed: "Lò Văn Lan"
    let (_, mut nul, mut payloads) = fixtures::household_payloads(&mut fixtures::Rng::new(8), "03445-01", 2);
    let Payload::ResidentAdded(first) = &mut payloads[1] else { panic!("residents after the household") };
    first.fields.full_name = "Nguyễn Thị Ánh Tuyết".nfd().collect();
    let Payload::ResidentAdded(second) = &mut payloads[2] else { panic!("two residents") };
    second.fields.full_name = "Lò\0 Thị Lan".into();
    let nfd_id = nul.remove(0);
    let events: Vec<_> = spoofed.into_iter().chain(payloads).map(|x| p.event(x)).collect();
    let (status, body) = p.push(&app, SCHEMA_VERSION, &events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["rejected", "applied", "applied", "rejected"], "{body}");
    for (i, field, code) in [(0, "head_name", "U+202E"), (3, "full_name", "U+0000")] {
        let error = &results[i]["errors"][0];
        assert_eq!((error["field"].as_str(), error["code"].as_str()), (Some(field), Some("forbidden_character")));
        assert!(error["message_vi"].as_str().unwrap().contains(code), "{error}");
    }
    let store = app._db.1.open();
    let stored = gocua_e2e::off_runtime(|| {
        gocua_server_store::run_read(&*store, |tx| tx.residents(&[nfd_id])).unwrap().remove(0).full_name
    });
    let nfc: String = "Nguyễn Thị Ánh Tuyết".nfc().collect();
    assert_eq!(stored, nfc, "typed decomposed, kept composed");
}

#[tokio::test]
async fn a_replayed_rejected_event_is_still_rejected_with_its_reasons() {
    let app = app();
    let mut p = phone(&app, 0).await;
    let bad = p.event(gocua_core::event::Payload::HouseholdRemoved(gocua_core::event::HouseholdRemoved {
        household_id: uuid::Uuid::now_v7(),
        reason: "duplicate".into(),
    }));
    let (_, first) = p.push(&app, SCHEMA_VERSION, std::slice::from_ref(&bad)).await;
    let (_, again) = p.push(&app, SCHEMA_VERSION, &[bad]).await;
    assert_eq!(first["results"][0]["status"], "rejected", "{first}");
    assert_eq!(again["results"], first["results"], "a lost answer is harmless: the replay says the same");
}

#[tokio::test]
async fn a_cursor_from_another_database_gets_a_reset() {
    let app = app();
    let p = phone(&app, 0).await;
    let (status, page) = p.pull(&app, "cursor=0", SCHEMA_VERSION).await;
    assert_eq!(status, StatusCode::OK);
    let epoch = page["epoch"].as_str().unwrap().to_owned();
    let cursor = page["cursor"].as_u64().unwrap();
    assert!(page["reset"].is_null());
    let (_, same) = p.pull(&app, &format!("cursor={cursor}&epoch={epoch}"), SCHEMA_VERSION).await;
    assert!(same["reset"].is_null(), "{same}");
    let (_, other) = p.pull(&app, &format!("cursor={cursor}&epoch=0123abcd"), SCHEMA_VERSION).await;
    assert_eq!((other["reset"].as_str(), other["cursor"].as_u64()), (Some("other_epoch"), Some(0)), "{other}");
    // restored from an older backup: the cursor points past the last event
    let (_, ahead) = p.pull(&app, &format!("cursor={}&epoch={epoch}", cursor + 1000), SCHEMA_VERSION).await;
    assert_eq!(ahead["reset"], "other_epoch", "{ahead}");
}

/// A pull of the whole scope as an app of `schema` asks it, naming `dictionary` when given: the
/// answer's `Content-Encoding` and its JSON.
async fn pull_page(app: &App, token: &str, schema: u32, dictionary: Option<&str>) -> (Option<String>, Vec<u8>) {
    let mut request = Request::get("/api/v1/sync/pull?cursor=0")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("gocua-schema-version", schema.to_string())
        .header(header::ACCEPT_ENCODING, "dcz, zstd");
    if let Some(dictionary) = dictionary {
        request = request.header(dcz::AVAILABLE_DICTIONARY, dictionary);
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let encoding = response.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_owned());
    let wire = response.into_body().collect().await.unwrap().to_bytes();
    let json = match encoding.as_deref() {
        Some("dcz") => dcz::decode(&wire, 64 << 20).unwrap(),
        Some("zstd") => zstd::decode_all(wire.as_ref()).unwrap(),
        _ => wire.to_vec(),
    };
    (encoding, json)
}

#[tokio::test]
async fn a_page_travels_in_runs_and_dcz_to_new_apps_and_in_full_to_older_ones() {
    let app = app();
    let p = phone(&app, 0).await;
    let (encoding, json) = pull_page(&app, &p.token, 4, Some(&dcz::available_dictionary())).await;
    assert_eq!(encoding.as_deref(), Some("zstd"), "an app before schema 5 reads neither runs nor dcz");
    let full: PullResponse = serde_json::from_slice(&json).unwrap();
    assert!(full.events.len() > 20, "the demo commune's households: {}", full.events.len());

    let (encoding, json) = pull_page(&app, &p.token, SCHEMA_VERSION, Some(&dcz::available_dictionary())).await;
    assert_eq!(encoding.as_deref(), Some(dcz::CONTENT_ENCODING));
    let value: Value = serde_json::from_slice(&json).unwrap();
    assert!(value.get("events").is_none() && value["runs"].as_array().is_some_and(|r| !r.is_empty()), "{value}");
    let runs: PullResponse = serde_json::from_slice::<PullBody>(&json).unwrap().into();
    assert_eq!(runs, full, "the same page either way");

    // no dictionary named, or one this server does not have: runs, compressed as any answer
    for dictionary in [None, Some(":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:")] {
        let (encoding, json) = pull_page(&app, &p.token, SCHEMA_VERSION, dictionary).await;
        assert_eq!(encoding.as_deref(), Some("zstd"), "{dictionary:?}");
        assert_eq!(PullResponse::from(serde_json::from_slice::<PullBody>(&json).unwrap()), full);
    }
}

#[tokio::test]
async fn over_budget_a_device_and_wrong_codes_get_429_with_retry_after() {
    use gocua_server::ratelimit::{Budget, RateLimits};
    let app = app_with(|state| {
        state.limits = std::sync::Arc::new(RateLimits::new(
            Budget { burst: 3.0, per_second: 0.1 },
            Budget { burst: 2.0, per_second: 0.1 },
        ))
    });
    // right codes cost nothing: every demo user enrolls
    let (status, body) = enroll(&app, &app.codes[0]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for code in &app.codes[1..] {
        assert_eq!(enroll(&app, code).await.0, StatusCode::OK);
    }
    let token = body["token"].as_str().unwrap().to_owned();
    let pull = || Request::get("/api/v1/sync/pull?cursor=0").header(header::AUTHORIZATION, format!("Bearer {token}"));
    for _ in 0..3 {
        assert_eq!(call(&app, pull().body(Body::empty()).unwrap()).await.0, StatusCode::OK);
    }
    let response = app.router.clone().oneshot(pull().body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    // two wrong codes use up the enrollment budget: then even trying waits
    assert_eq!(enroll(&app, "WXYZ-0000").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(enroll(&app, "WXYZ-0001").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = enroll(&app, "WXYZ-0002").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["kind"], "too_many_requests");
}

async fn device_status(app: &App, device_id: &str, probe: &str) -> (StatusCode, Value) {
    let body = serde_json::to_vec(&json!({ "device_id": device_id, "probe": probe })).unwrap();
    call(app, post("/api/v1/device/status", None, body, false)).await
}

#[tokio::test]
async fn the_revocation_probe_answers_active_or_revoked_and_nothing_else() {
    let app = app();
    let (status, enrolled) = enroll(&app, &app.codes[0]).await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    let device = enrolled["device_id"].as_str().unwrap().to_owned();
    let probe = enrolled["revocation_probe"].as_str().expect("a probe at enrollment").to_owned();
    assert_ne!(probe, enrolled["token"].as_str().unwrap());

    let (status, body) = device_status(&app, &device, &probe).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!({ "status": "active" })), "only the state");

    // a wrong probe, the token instead, and an unknown device: one answer, Vietnamese first
    let token = enrolled["token"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::now_v7().to_string();
    let mut refusals = Vec::new();
    for (device, probe) in [(&device, "not-the-probe"), (&device, token.as_str()), (&unknown, probe.as_str())] {
        let (status, body) = device_status(&app, device, probe).await;
        assert_eq!((status, body["kind"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{body}");
        assert!(body["message"].as_str().unwrap().starts_with("Mã kiểm tra thiết bị không hợp lệ / "), "{body}");
        refusals.push(body);
    }
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "an unknown device and a wrong probe look the same");
    let (status, _) = call(&app, post("/api/v1/device/status", None, b"{\"device_id\": 1}".to_vec(), false)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let id: uuid::Uuid = device.parse().unwrap();
    let store = std::sync::Arc::clone(&app.store);
    assert!(gocua_e2e::off_runtime(move || admin::revoke_device(&*store, id)).unwrap());
    let (status, body) = device_status(&app, &device, &probe).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "revoked" })));
    let (status, _) = device_status(&app, &device, "not-the-probe").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked or not, a wrong probe learns nothing");
}

#[tokio::test]
async fn wrong_probes_use_up_a_budget_of_their_own() {
    use gocua_server::ratelimit::{Budget, RateLimits};
    let app = app_with(|state| {
        state.limits = std::sync::Arc::new(RateLimits::new(
            Budget { burst: 100.0, per_second: 0.1 },
            Budget { burst: 2.0, per_second: 0.1 },
        ))
    });
    let (_, enrolled) = enroll(&app, &app.codes[0]).await;
    let device = enrolled["device_id"].as_str().unwrap().to_owned();
    let probe = enrolled["revocation_probe"].as_str().unwrap().to_owned();
    // right probes cost nothing of it
    for _ in 0..5 {
        assert_eq!(device_status(&app, &device, &probe).await.0, StatusCode::OK);
    }
    assert_eq!(device_status(&app, &device, "guess-1").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(device_status(&app, &device, "guess-2").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = device_status(&app, &device, "guess-3").await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")));
    assert_eq!(
        device_status(&app, &device, &probe).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "then even the right one waits"
    );
    // and enrollment is not held up by them
    let (status, body) = enroll(&app, &app.codes[1]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
