//! The HTTP surface in-process (`router(state)`, no sockets): errors are specific JSON, limits hold.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gocua_core::fixtures;
use gocua_core::sync::protocol::{APP_VERSION, EnrollRequest, EnrollResponse, SCHEMA_VERSION};
use gocua_server::db::{Db, open_sqlite};
use gocua_server::{AppState, admin, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct App {
    router: axum::Router,
    codes: Vec<String>,
}

fn app() -> App {
    let mut conn = open_sqlite(std::path::Path::new(":memory:")).unwrap();
    let seed = admin::seed_demo(&mut conn).unwrap();
    App { router: router(AppState { db: Db::new(conn) }), codes: seed.codes.into_iter().map(|c| c.2).collect() }
}

async fn call(app: &App, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn post(uri: &str, token: Option<&str>, body: Vec<u8>, zstd: bool) -> Request<Body> {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if zstd {
        b = b.header(header::CONTENT_ENCODING, "zstd");
    }
    b.body(Body::from(body)).unwrap()
}

async fn enroll(app: &App, code: &str) -> (StatusCode, Value) {
    let body = serde_json::to_vec(&EnrollRequest {
        code: code.into(),
        device_name: "Điện thoại thử".into(),
        schema_version: SCHEMA_VERSION,
        app_version: APP_VERSION.into(),
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
async fn answers_are_zstd_compressed_for_clients_that_accept_it() {
    let app = app();
    let request = Request::get("/api/v1/health").header(header::ACCEPT_ENCODING, "zstd").body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers().get(header::CONTENT_ENCODING).unwrap(), "zstd");
    let wire = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&zstd::decode_all(wire.as_ref()).unwrap()).unwrap();
    assert_eq!(body["status"], "ok");
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
    assert_eq!(response.reasons.len(), 12);
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

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}
