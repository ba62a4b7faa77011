//! Operations against the real server process on loopback: liveness (`/api/v1/health`) without
//! the database, readiness (`/api/v1/ready`) with it, Prometheus metrics on their own listener,
//! JSON logs, a graceful stop on SIGTERM that finishes the push in flight, and the OpenAPI
//! document naming exactly the routes served. On the suite's backend (`GOCUA_TEST_BACKEND`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use gocua_core::fixtures::{self, Rng, SENTINEL_CCCD};
use gocua_core::sync::protocol::{EventStatus, PushRequest, PushResponse, SCHEMA_VERSION};
use gocua_e2e::{Backend, TestServer, backend, server_bin};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A `gocua-server serve` of this test's own, for flags the harness does not pass; killed on
/// drop. Its stderr (the log) goes to a file.
struct Spawned {
    child: Child,
    url: String,
    metrics: Option<String>,
    log: PathBuf,
}

impl Spawned {
    /// Starts `serve` on `database` with `args` and `env`, and waits until it answers.
    async fn start(database: &str, args: &[&str], env: &[(&str, &str)], log: PathBuf) -> Spawned {
        let mut child = Command::new(server_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .args(args)
            .env("GOCUA_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
            .spawn()
            .expect("spawn gocua-server");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut metrics = None;
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(at) = line.strip_prefix("gocua-server metrics on ") {
                        metrics = Some(at.trim().to_owned());
                    }
                    if let Some(url) = line.strip_prefix("gocua-server listening on ") {
                        break url.trim().to_owned();
                    }
                }
                _ => panic!("gocua-server exited before listening: {}", std::fs::read_to_string(&log).unwrap()),
            }
        };
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        let spawned = Spawned { child, url, metrics, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&spawned.url, "/api/v1/health").await.map(|r| r.0) != Some(200) {
            assert!(Instant::now() < deadline, "never healthy");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        spawned
    }

    /// Sends SIGTERM, as systemd or an orchestrator stops a service.
    fn terminate(&self) {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM");
    }

    /// Waits for the process to exit by itself.
    fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).expect("the server's log")
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET base+path`: status, headers and body; `None` when nothing answers.
async fn get(base: &str, path: &str) -> Option<(u16, reqwest::header::HeaderMap, String)> {
    let response = reqwest::Client::new().get(format!("{base}{path}")).send().await.ok()?;
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    Some((status, headers, response.text().await.ok()?))
}

async fn get_json(base: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let (status, headers, body) = get(base, path).await.expect("the server answers");
    (status, headers, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} answered non-JSON ({e}): {body}")))
}

/// A fresh volunteer enrolled on `url` with `code`: its token, device and user.
async fn enroll(url: &str, code: &str) -> (String, uuid::Uuid, uuid::Uuid) {
    let transport = gocua_http_client::HttpTransport::new(url).unwrap();
    let enrolled = transport.enroll_with_key(code, "ops phone", None).await.expect("enroll");
    (enrolled.token, enrolled.device_id, enrolled.user.id)
}

/// A push of one household with `residents` people in hamlet 03445-01 (1 + residents events),
/// then, when `with_visits`, one visit with a made-up reason (rejected) and one plain visit.
fn household_push(device: uuid::Uuid, author: uuid::Uuid, residents: usize, with_visits: bool) -> PushRequest {
    use gocua_core::event::{Payload, VisitRecorded};
    use gocua_core::funnel::FunnelState;
    let (_, people, mut payloads) = fixtures::household_payloads(&mut Rng::new(13), "03445-01", residents);
    if with_visits {
        for reason in [Some("made_up_reason"), None] {
            payloads.push(Payload::VisitRecorded(VisitRecorded {
                steps: Vec::new(),
                visit_id: uuid::Uuid::now_v7(),
                resident_id: people[0],
                status: if reason.is_some() { FunnelState::ApprovedNotActivated } else { FunnelState::ActivatedLevel1 },
                reason_code: reason.map(str::to_owned),
                action: None,
                follow_up: None,
                note: None,
                position: None,
            }));
        }
    }
    let events =
        payloads.into_iter().enumerate().map(|(i, p)| fixtures::event(device, author, i as u64 + 1, p)).collect();
    PushRequest { schema_version: SCHEMA_VERSION, app_version: "ops".into(), events, queued: None }
}

fn assert_bilingual(message: &str) {
    let (vi, en) = message.split_once(" / ").unwrap_or_else(|| panic!("Vietnamese / English: {message}"));
    assert!(!vi.is_ascii() && !en.is_empty(), "Vietnamese first, then English: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_the_process_alone_and_ready_checks_the_database() {
    let server = TestServer::start().await;
    let (status, _, health) = get_json(&server.url, "/api/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(
        (health["status"].as_str(), health["schema_version"].as_u64()),
        (Some("ok"), Some(u64::from(SCHEMA_VERSION)))
    );

    let (status, _, ready) = get_json(&server.url, "/api/v1/ready").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["message"], Value::Null, "nothing to say when all is well");
    let expected = ready["migrations_expected"].as_u64().unwrap();
    assert!(expected >= 1 && ready["migrations_applied"] == expected, "{ready}");
    assert_eq!(ready["backend"], if backend() == Backend::Postgres { "postgres" } else { "sqlite" });
    assert_eq!((ready["replica"].as_bool(), ready["replica_lag_seconds"].is_null()), (Some(false), true));
    assert_eq!(ready["max_replica_lag_seconds"], 30.0, "the default of --max-replica-lag");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_503_while_migrations_are_behind_and_200_again_once_current() {
    let server = TestServer::start().await;
    let (_, _, ready) = get_json(&server.url, "/api/v1/ready").await;
    let expected = ready["migrations_expected"].as_u64().unwrap();
    // someone restored an older database under the running server
    server.sql_execute(
        &format!("PRAGMA user_version = {}", expected - 1),
        "CREATE TABLE parked AS SELECT * FROM schema_migrations
             WHERE version = (SELECT max(version) FROM schema_migrations);
         DELETE FROM schema_migrations WHERE version IN (SELECT version FROM parked);",
    );
    let (status, headers, body) = get_json(&server.url, "/api/v1/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_eq!((body["status"].as_str(), body["database"].as_str()), (Some("not_ready"), Some("ok")));
    assert_eq!(
        (body["migrations_applied"].as_u64(), body["migrations_expected"].as_u64()),
        (Some(expected - 1), Some(expected))
    );
    let message = body["message"].as_str().unwrap();
    assert_bilingual(message);
    assert!(message.contains(&format!("migrations are behind: {} of {expected} applied", expected - 1)), "{message}");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&body), keys(&ready), "the same fields, ready or not");
    assert_eq!(get(&server.url, "/api/v1/health").await.unwrap().0, 200, "alive all the same");

    server.sql_execute(
        &format!("PRAGMA user_version = {expected}"),
        "INSERT INTO schema_migrations SELECT * FROM parked; DROP TABLE parked;",
    );
    let (status, _, body) = get_json(&server.url, "/api/v1/ready").await;
    assert_eq!((status, body["migrations_applied"].as_u64()), (200, Some(expected)), "{body}");
}

/// PostgreSQL: a server on a cluster of its own, which is then stopped. SQLite: the database is
/// a file the server holds open, which cannot go away under it; its "database down" is a file
/// that cannot be opened, and the server refuses to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_down_ready_is_503_and_health_200() {
    let dir = tempfile::tempdir().unwrap();
    match backend() {
        Backend::Sqlite => {
            let out = Command::new(server_bin())
                .args(["serve", "--listen", "127.0.0.1:0", "--database", "/dev/null/gocua.sqlite"])
                .env("GOCUA_LOG", "warn")
                .output()
                .unwrap();
            let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(!out.status.success() && !stdout.contains("listening on"), "{stdout}{stderr}");
            assert!(stderr.contains("không mở được cơ sở dữ liệu / cannot open the database"), "{stderr}");
        }
        Backend::Postgres => database_down_on_postgres(dir.path()).await,
    }
}

#[cfg(feature = "postgres-tests")]
async fn database_down_on_postgres(dir: &Path) {
    use gocua_e2e::off_runtime;
    use gocua_server_postgres::testing::TestCluster;
    let (cluster, db) = off_runtime(|| {
        let cluster = TestCluster::private();
        let db = cluster.database();
        (cluster, db)
    });
    let mut server = Spawned::start(db.url(), &[], &[], dir.join("server.log")).await;
    let (status, _, ready) = get_json(&server.url, "/api/v1/ready").await;
    assert_eq!(status, 200, "{ready}");

    // the only handles on the private cluster: it is stopped (pg_ctl stop -m immediate)
    off_runtime(move || drop((db, cluster)));
    let started = Instant::now();
    let (status, headers, body) = get_json(&server.url, "/api/v1/ready").await;
    assert!(started.elapsed() < Duration::from_secs(10), "ready answers within its timeout");
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_eq!((body["status"].as_str(), body["database"].as_str()), (Some("not_ready"), Some("unavailable")));
    assert_eq!((body["migrations_applied"].clone(), body["backend"].as_str()), (Value::Null, Some("postgres")));
    assert_bilingual(body["message"].as_str().unwrap());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&body), keys(&ready), "the same fields, ready or not");

    let started = Instant::now();
    let (status, _, health) = get_json(&server.url, "/api/v1/health").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    assert!(started.elapsed() < Duration::from_secs(1), "health never waits for the database");

    // and it still stops cleanly, its connections broken
    server.terminate();
    let exit = server.wait_exit(Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{}", server.log());
}

#[cfg(not(feature = "postgres-tests"))]
async fn database_down_on_postgres(_dir: &Path) {
    panic!("GOCUA_TEST_BACKEND=postgres needs the postgres-tests feature of gocua-e2e");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_reports_the_read_replica_and_the_lag_limit() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    match backend() {
        Backend::Sqlite => {
            let out = Command::new(server_bin())
                .args(["serve", "--listen", "127.0.0.1:0", "--database", server.database()])
                .args(["--read-database", "postgres://nobody@127.0.0.1:9/none"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success() && stderr.contains("--read-database needs a PostgreSQL --database"),
                "{stderr}"
            );
            let plain =
                Spawned::start(server.database(), &["--max-replica-lag", "12.5"], &[], dir.path().join("a.log")).await;
            let (status, _, ready) = get_json(&plain.url, "/api/v1/ready").await;
            assert_eq!(
                (status, ready["replica"].as_bool(), ready["max_replica_lag_seconds"].as_f64()),
                (200, Some(false), Some(12.5))
            );
        }
        Backend::Postgres => {
            // the primary itself as the "replica": it is not in recovery, so its lag is 0
            let args = ["--read-database", server.database(), "--max-replica-lag", "12.5"];
            let replicated = Spawned::start(server.database(), &args, &[], dir.path().join("a.log")).await;
            let (status, _, ready) = get_json(&replicated.url, "/api/v1/ready").await;
            assert_eq!(status, 200, "{ready}");
            assert_eq!((ready["replica"].as_bool(), ready["replica_lag_seconds"].as_f64()), (Some(true), Some(0.0)));
            assert_eq!(
                (ready["replica_lagging"].as_bool(), ready["replica_unreachable"].as_bool()),
                (Some(false), Some(false))
            );
            assert_eq!(ready["max_replica_lag_seconds"].as_f64(), Some(12.5));
            drop(replicated);

            // a replica nobody answers at: still ready (pulls go to the primary), and it says so
            let args = ["--read-database", "postgres://postgres@127.0.0.1:9/gone"];
            let orphan = Spawned::start(server.database(), &args, &[], dir.path().join("b.log")).await;
            let (status, _, ready) = get_json(&orphan.url, "/api/v1/ready").await;
            assert_eq!(status, 200, "{ready}");
            assert_eq!(
                (ready["replica_unreachable"].as_bool(), ready["replica_lag_seconds"].clone()),
                (Some(true), Value::Null)
            );
            let message = ready["message"].as_str().unwrap();
            assert_bilingual(message);
            assert!(message.contains("pulls are served by the primary"), "{message}");
        }
    }
}

/// The value of the sample `name{labels}` in an exposition, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_events_by_outcome_on_their_own_listener() {
    let mut server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    server.stop();
    let dir = tempfile::tempdir().unwrap();
    let own =
        Spawned::start(server.database(), &["--metrics-listen", "127.0.0.1:0"], &[], dir.path().join("s.log")).await;
    server.url = own.url.clone();
    let metrics = own.metrics.clone().expect("the metrics address is printed");

    let (token, device, author) = enroll(&own.url, &code).await;
    let request = household_push(device, author, 1, true);
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let answer = client
            .post(format!("{}/api/v1/sync/push", own.url))
            .bearer_auth(&token)
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    let pulled = client.get(format!("{}/api/v1/sync/pull?cursor=0", own.url)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(pulled.status(), 200);
    let refused = client.get(format!("{}/api/v1/sync/pull?scope={SENTINEL_CCCD}", own.url)).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(get(&own.url, &format!("/x/{SENTINEL_CCCD}?cccd={SENTINEL_CCCD}")).await.unwrap().0, 404);
    assert_eq!(get(&own.url, "/metrics").await.unwrap().0, 404, "no metrics on the public port");

    let (status, headers, text) = get(&metrics, "").await.expect("the metrics listener answers");
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let requests = |method: &str, route: &str, status: u16| {
        sample(&text, &format!(r#"gocua_http_requests_total{{method="{method}",route="{route}",status="{status}"}}"#))
    };
    assert_eq!(requests("POST", "/api/v1/enroll", 200), Some(1.0), "{text}");
    assert_eq!(requests("POST", "/api/v1/sync/push", 200), Some(2.0), "{text}");
    assert_eq!(requests("GET", "/api/v1/sync/pull", 200), Some(1.0), "{text}");
    assert_eq!(requests("GET", "/api/v1/sync/pull", 401), Some(1.0), "{text}");
    assert_eq!(requests("GET", "unmatched", 404), Some(2.0), "{text}");
    // 3 applied (household, resident, visit) and 1 rejected, then all 4 again: 3 duplicates and
    // the same rejection
    let events = |outcome: &str| sample(&text, &format!(r#"gocua_push_events_total{{outcome="{outcome}"}}"#));
    assert_eq!(
        (events("applied"), events("duplicate"), events("rejected")),
        (Some(3.0), Some(3.0), Some(2.0)),
        "{text}"
    );
    let latency = |route: &str| {
        sample(
            &text,
            &format!(
                r#"gocua_http_request_duration_seconds_count{{method="{}",route="{route}"}}"#,
                if route.ends_with("push") { "POST" } else { "GET" }
            ),
        )
    };
    assert_eq!((latency("/api/v1/sync/push"), latency("/api/v1/sync/pull")), (Some(2.0), Some(2.0)), "{text}");
    assert!(text.contains(
        r#"gocua_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/api/v1/sync/push"} 2"#
    ));
    assert!(!text.contains(SENTINEL_CCCD) && !text.contains('?') && !text.contains("/x/"), "no raw URI: {text}");
    assert_eq!(get(&metrics, "/api/v1/health").await.unwrap().0, 404, "the metrics listener serves /metrics only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line_with_the_route_and_never_the_uri() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut own = Spawned::start(
        server.database(),
        &["--log-format", "json"],
        &[("GOCUA_LOG", "debug")],
        dir.path().join("server.log"),
    )
    .await;
    assert_eq!(get(&own.url, &format!("/api/v1/sync/pull?scope={SENTINEL_CCCD}")).await.unwrap().0, 401);
    own.terminate();
    assert_eq!(own.wait_exit(Duration::from_secs(30)).code(), Some(0));

    let log = own.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "{log}");
    for line in &lines {
        for field in ["timestamp", "level", "target", "message"] {
            assert!(line.get(field).is_some(), "{field} in {line}");
        }
    }
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["status"] == 401)
        .unwrap_or_else(|| panic!("the request line: {log}"));
    assert_eq!((request["level"].as_str(), request["route"].as_str()), (Some("DEBUG"), Some("/api/v1/sync/pull")));
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "{log}");
    assert!(!log.contains(SENTINEL_CCCD), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_push_in_flight_finish_then_exits_0() {
    let mut server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    server.stop();
    let dir = tempfile::tempdir().unwrap();
    let mut own = Spawned::start(server.database(), &[], &[], dir.path().join("s.log")).await;
    let (token, device, author) = enroll(&own.url, &code).await;
    let body = serde_json::to_vec(&household_push(device, author, 3, false)).unwrap();
    let addr = own.url.trim_start_matches("http://").to_owned();

    // the push's headers and half its body are sent: the handler is waiting for the rest
    let mut push = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/sync/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    push.write_all(head.as_bytes()).await.unwrap();
    let half = body.len() / 2;
    push.write_all(&body[..half]).await.unwrap();
    push.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    own.terminate();
    // no new connection is accepted…
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the server kept accepting connections after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // …but the process waits for the push in flight
    assert!(own.child.try_wait().unwrap().is_none(), "exited with a push in flight");
    push.write_all(&body[half..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), push.read_to_end(&mut answer)).await.expect("answered").unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json = answer.split_once("\r\n\r\n").unwrap().1;
    let response: PushResponse = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}"));
    let statuses: Vec<EventStatus> = response.all_results().iter().map(|r| r.status).collect();
    assert_eq!((statuses, response.last_seq), (vec![EventStatus::Applied; 4], 4));

    let exit = own.wait_exit(Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "a clean exit: {}", own.log());
    assert_eq!(server.event_count("applied"), 4, "the push in flight was stored");
    assert!(own.log().contains("stopping: no new connections"), "{}", own.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    let server = TestServer::start().await;
    let (status, _, doc) = get_json(&server.url, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "OpenAPI 3: {}", doc["openapi"]);
    let documented = gocua_server::api::openapi::operations(&doc);
    let mut served: Vec<(String, String)> =
        gocua_server::api::routes::list().into_iter().map(|(m, p)| (m, p.to_owned())).collect();
    served.sort();
    assert_eq!(documented, served, "documented vs served");
    assert!(documented.len() >= 6, "{documented:?}");

    // every documented operation reaches its handler on the real server (no fallback 404, no
    // 405), without a token or a body where it needs one
    let client = reqwest::Client::new();
    for (method, path) in &documented {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let answer = client.request(method.clone(), format!("{}{path}", server.url)).send().await.unwrap();
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap();
        assert!(
            status != 405 && !(status == 404 && body.contains("no such endpoint")),
            "{method} {path}: {status} {body}"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("PushBody") && schemas.contains_key("PullResponse") && schemas.contains_key("Ready"));
}
