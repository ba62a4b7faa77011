//! Test harness: an RAII handle on the real `gocua-server` process, plus device helpers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gocua_core::reducer::Projection;
use gocua_core::store::DeviceStore;
use gocua_http_client::HttpTransport;

/// Path of the server binary: `$GOCUA_SERVER_BIN`, or `gocua-server` next to the test
/// executable's `deps/` folder (built by `cargo test --workspace`, which builds the server's
/// own integration tests and so its binary).
pub fn server_bin() -> PathBuf {
    if let Ok(path) = std::env::var("GOCUA_SERVER_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("gocua-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p gocua-server` or `cargo test --workspace`",
        bin.display()
    );
    bin
}

/// A running server on `127.0.0.1:0` with its own temp database; killed on drop.
#[derive(Debug)]
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The SQLite file.
    pub db_path: PathBuf,
    dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts the binary, reads the bound address it prints, and waits for `/api/v1/health`.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = dir.path().join("server.sqlite");
        let (child, url) = spawn(&db_path);
        let server = TestServer { child, url, db_path, dir };
        server.wait_healthy().await;
        server
    }

    /// Starts the binary with `GOCUA_LOG=level`, its stdout and stderr written to
    /// [`TestServer::log_path`] (for tests that read what the server logs).
    pub async fn start_logging(level: &str) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = dir.path().join("server.sqlite");
        let (child, url) = spawn_with(&db_path, "127.0.0.1:0", level, Some(&dir.path().join("server.log")));
        let server = TestServer { child, url, db_path, dir };
        server.wait_healthy().await;
        server
    }

    /// Where [`TestServer::start_logging`] writes the server's output.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Kills the process (SIGKILL), as a crash or a power cut would.
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Starts the server again on the same database and the same address (devices keep the
    /// URL they enrolled with).
    pub async fn start_again(&mut self) {
        self.kill();
        let addr = self.url.trim_start_matches("http://").to_owned();
        let (child, url) = spawn_on(&self.db_path, &addr);
        self.child = child;
        self.url = url;
        self.wait_healthy().await;
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn wait_healthy(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(format!("{}/api/v1/health", self.url)).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "server never became healthy at {}", self.url);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs `gocua-server admin --database DB ARGS…` and returns its trimmed stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(server_bin())
            .args(["admin", "--database"])
            .arg(&self.db_path)
            .args(args)
            .output()
            .expect("run admin");
        assert!(out.status.success(), "admin {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
    }

    /// Runs `gocua-server admin --database DB import-bundle FILE --by BY`; refusals are expected
    /// in tests, so this does not assert success.
    pub fn import_bundle(&self, file: &Path, by: &str) -> AdminRun {
        let out = Command::new(server_bin())
            .args(["admin", "--database"])
            .arg(&self.db_path)
            .arg("import-bundle")
            .arg(file)
            .args(["--by", by])
            .env("GOCUA_LOG", "warn")
            .output()
            .expect("run admin import-bundle");
        AdminRun {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }
    }

    /// Loads the 2025 places and three made-up hamlets: two in Xã Mường Tè (`03445`), one in
    /// Xã Mường Kim (`03637`), both in Lai Châu.
    pub fn add_places(&self) {
        assert_eq!(self.admin(&["import-places"]), "imported 3355 places");
        for (code, name, parent) in [
            ("03445-01", "Bản Nậm Củm", "03445"),
            ("03445-02", "Bản Phìn Khò", "03445"),
            ("03637-01", "Bản Mường Kim", "03637"),
        ] {
            self.admin(&[
                "add-place",
                "--code",
                code,
                "--name",
                name,
                "--level",
                "hamlet",
                "--parent",
                parent,
                "--division-type",
                "bản",
            ]);
        }
    }

    /// Adds a volunteer scoped to `commune` and returns a fresh one-time code for them.
    pub fn volunteer_code(&self, name: &str, commune: &str) -> String {
        self.code_for(name, "volunteer", commune)
    }

    /// A one-time code for a new user of `role` (as `gocua-server admin add-user --role` spells
    /// it: `team-leader`, …) in `scope`.
    pub fn code_for(&self, name: &str, role: &str, scope: &str) -> String {
        let user = self.admin(&["add-user", "--name", name, "--role", role, "--scope", scope]);
        self.admin(&["create-code", "--user", &user])
    }

    /// The server's derived state, read straight from its database file.
    pub fn projection(&self) -> Projection {
        let conn = rusqlite::Connection::open_with_flags(&self.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open server db");
        gocua_core::sql::projection::dump(&conn).expect("dump")
    }

    /// Rows in the server's event table with this status.
    pub fn event_count(&self, status: &str) -> i64 {
        let conn = rusqlite::Connection::open_with_flags(&self.db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open server db");
        conn.query_row("SELECT count(*) FROM events WHERE status = ?1", [status], |r| r.get(0)).expect("count")
    }

    /// A temp path beside the server's database.
    pub fn temp_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The outcome of an admin command run as a process.
#[derive(Debug, Clone)]
pub struct AdminRun {
    /// Exit status 0.
    pub success: bool,
    /// Standard output, trimmed.
    pub stdout: String,
    /// Standard error, trimmed.
    pub stderr: String,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(db_path: &Path) -> (Child, String) {
    spawn_on(db_path, "127.0.0.1:0")
}

fn spawn_on(db_path: &Path, listen: &str) -> (Child, String) {
    spawn_with(db_path, listen, "warn", None)
}

fn spawn_with(db_path: &Path, listen: &str, level: &str, log: Option<&Path>) -> (Child, String) {
    let log = log.map(|path| std::fs::File::create(path).expect("server log file"));
    let mut child = Command::new(server_bin())
        .args(["serve", "--listen", listen, "--database"])
        .arg(db_path)
        .env("GOCUA_LOG", level)
        .stdout(Stdio::piped())
        .stderr(match &log {
            Some(file) => Stdio::from(file.try_clone().expect("log file")),
            None => Stdio::inherit(),
        })
        .spawn()
        .expect("spawn gocua-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut log = log;
    let mut keep = move |line: &str| {
        if let Some(file) = log.as_mut() {
            use std::io::Write;
            let _ = writeln!(file, "{line}");
        }
    };
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                keep(&line);
                if let Some(url) = line.strip_prefix("gocua-server listening on ") {
                    break url.trim().to_owned();
                }
            }
            _ => panic!("gocua-server exited before printing its address"),
        }
    };
    // keep draining stdout so the child never blocks on a full pipe (into the log, if any)
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep(&line);
        }
    });
    (child, url)
}

/// A device store on a temp file, enrolled with `code` against `server` (with a bundle signing
/// key, as the app enrolls).
pub async fn enrolled_device(server: &TestServer, file: &str, code: &str) -> (Mutex<DeviceStore>, HttpTransport) {
    let mut store = DeviceStore::open(&server.temp_path(file)).expect("open device store");
    let transport = HttpTransport::new(&server.url).expect("transport");
    let key = store.enrollment_key().expect("signing key");
    let response = transport.enroll_with_key(code, file, Some(&key)).await.expect("enroll");
    let enrollment = store.save_enrollment(&server.url, &response).expect("save enrollment");
    (Mutex::new(store), transport.with_token(&enrollment.token))
}

/// Asserts that a volunteer's phone holds the server's state as its role may see it: every
/// record and field the same, except that a CCCD is either the server's (this phone typed it
/// last) or the server's masked (`gocua_core::privacy`), and never anything else.
pub fn assert_same_as_volunteer_sees(phone: &Projection, server: &Projection, what: &str) {
    use gocua_core::privacy::mask_cccd;
    let mut masked = 0;
    let mut phone = phone.clone();
    for (id, r) in phone.residents.iter_mut() {
        let Some(on_server) = server.residents.get(id) else { continue };
        match (r.cccd.as_deref(), on_server.cccd.as_deref()) {
            (Some(mine), Some(theirs)) if mine != theirs => {
                assert_eq!(mine, mask_cccd(theirs), "{what}: resident {id}'s CCCD is neither the server's nor masked");
                r.cccd = on_server.cccd.clone();
                masked += 1;
            }
            (mine, theirs) => assert_eq!(mine, theirs, "{what}: resident {id}'s CCCD"),
        }
    }
    assert_eq!(&phone, server, "{what}: the same state but for masked CCCDs ({masked} masked)");
}

/// A commune police officer's phone in Xã Mường Tè that recorded the sentinel household
/// (`gocua_core::fixtures::record_sentinel_household`) and one visit of its resident with
/// `reason`, `note` and `follow_up`, then synced: the phone, its link and the resident's id.
pub async fn police_recorded_sentinel_visit(
    server: &TestServer,
    status: gocua_core::funnel::FunnelState,
    reason: &str,
    note: &str,
    follow_up: Option<chrono::NaiveDate>,
) -> (Mutex<DeviceStore>, HttpTransport, uuid::Uuid) {
    use gocua_core::event::{Payload, VisitRecorded};
    let officer = server.code_for("Công an xã", "commune-police", "03445");
    let (police, link) = enrolled_device(server, "police.sqlite", &officer).await;
    let resident = {
        let mut store = police.lock().unwrap();
        let household = gocua_core::fixtures::record_sentinel_household(&mut store);
        let resident = store.residents_of(household).unwrap()[0].id;
        let visit_id = store.new_record_id().unwrap();
        store
            .record(Payload::VisitRecorded(VisitRecorded {
                visit_id,
                resident_id: resident,
                status,
                reason_code: Some(reason.into()),
                action: None,
                follow_up,
                steps: vec![],
                note: Some(note.into()),
            }))
            .expect("the police record any reason");
        resident
    };
    gocua_core::sync::engine::sync_once(&police, &link).await.expect("the police phone syncs");
    (police, link, resident)
}
