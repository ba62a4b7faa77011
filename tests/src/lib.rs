//! Test harness: an RAII handle on the real `gocua-server` process on either backend, plus
//! device helpers.
//!
//! The story suite (every test here and in `crates/server/tests`) runs on SQLite by default and
//! on PostgreSQL with `GOCUA_TEST_BACKEND=postgres`: each server then gets a fresh database in
//! the cluster `GOCUA_TEST_POSTGRES` names, or in a private cluster the harness starts
//! (`gocua_server_postgres::testing`). `scripts/test.sh` runs the suite both ways.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gocua_core::reducer::Projection;
use gocua_core::store::DeviceStore;
use gocua_http_client::HttpTransport;
use gocua_server_store::{Store, run_read};

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

/// Runs `f` on a thread of its own and waits for it: the PostgreSQL driver blocks on a runtime
/// of its own, which it may not do on an async test's thread.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(f).join().expect("the blocking work panicked"))
}

/// The backend the story suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// `GOCUA_TEST_BACKEND`: `sqlite` (default) or `postgres`; anything else stops the test.
pub fn backend() -> Backend {
    match std::env::var("GOCUA_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("GOCUA_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// A test server's database: a SQLite file in a temp dir, or a fresh PostgreSQL database
/// (dropped with this handle).
#[derive(Debug)]
pub struct ServerDb {
    /// What `--database` is given.
    pub url: String,
    /// The SQLite file, on that backend.
    pub sqlite_path: Option<PathBuf>,
    /// The PostgreSQL database, on that backend.
    #[cfg(feature = "postgres-tests")]
    pub postgres: Option<gocua_server_postgres::testing::TestDatabase>,
}

impl ServerDb {
    /// A new, empty database for a server whose files live in `dir`.
    pub fn new(dir: &Path) -> ServerDb {
        match backend() {
            Backend::Sqlite => {
                let path = dir.join("server.sqlite");
                ServerDb {
                    url: path.display().to_string(),
                    sqlite_path: Some(path),
                    #[cfg(feature = "postgres-tests")]
                    postgres: None,
                }
            }
            #[cfg(feature = "postgres-tests")]
            Backend::Postgres => {
                let db = off_runtime(gocua_server_postgres::testing::TestDatabase::new);
                ServerDb { url: db.url().to_owned(), sqlite_path: None, postgres: Some(db) }
            }
            #[cfg(not(feature = "postgres-tests"))]
            Backend::Postgres => panic!("GOCUA_TEST_BACKEND=postgres needs the postgres-tests feature of gocua-e2e"),
        }
    }

    /// Opens the store, as the server binary does (migrating a new database). Call its methods
    /// through [`off_runtime`] from async code.
    pub fn open(&self) -> Arc<dyn Store> {
        off_runtime(|| gocua_server::db::open(&self.url, None).expect("open the server's store"))
    }
}

#[cfg(feature = "postgres-tests")]
impl Drop for ServerDb {
    fn drop(&mut self) {
        // dropping a PostgreSQL database talks to the server: off the async runtime
        if let Some(db) = self.postgres.take() {
            off_runtime(move || drop(db));
        }
    }
}

/// A running server on `127.0.0.1:0` with its own temp database; killed on drop.
#[derive(Debug)]
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its database.
    pub db: ServerDb,
    dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts the binary, reads the bound address it prints, and waits for `/api/v1/health`.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = ServerDb::new(dir.path());
        let (child, url) = spawn(&db.url);
        let server = TestServer { child, url, db, dir };
        server.wait_healthy().await;
        server
    }

    /// Starts the binary with `GOCUA_LOG=level`, its stdout and stderr written to
    /// [`TestServer::log_path`] (for tests that read what the server logs).
    pub async fn start_logging(level: &str) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = ServerDb::new(dir.path());
        let (child, url) = spawn_with(&db.url, "127.0.0.1:0", level, Some(&dir.path().join("server.log")));
        let server = TestServer { child, url, db, dir };
        server.wait_healthy().await;
        server
    }

    /// The `--database` argument of this server.
    pub fn database(&self) -> &str {
        &self.db.url
    }

    /// Runs `f` on the server's store, opened beside the running process (as an admin command
    /// does), off the async runtime.
    pub fn with_store<R: Send>(&self, f: impl FnOnce(&dyn Store) -> R + Send) -> R {
        let url = &self.db.url;
        // opened, used and closed on one thread: closing a PostgreSQL connection blocks too
        off_runtime(|| f(&*gocua_server::db::open(url, None).expect("open the server's store")))
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
        let (child, url) = spawn_on(&self.db.url, &addr);
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
            .arg(&self.db.url)
            .args(args)
            .output()
            .expect("run admin");
        assert!(out.status.success(), "admin {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
    }

    /// Runs `gocua-server admin --database DB import-bundle FILE --by BY`; refusals are expected
    /// in tests, so this does not assert success.
    pub fn import_bundle(&self, file: &Path, by: &str) -> AdminRun {
        self.admin_run(&["import-bundle".as_ref(), file.as_os_str(), "--by".as_ref(), by.as_ref()])
    }

    /// Runs `gocua-server admin --database DB ARGS…` without asserting success: for commands
    /// whose refusals a test checks.
    pub fn admin_run(&self, args: &[&std::ffi::OsStr]) -> AdminRun {
        let out = Command::new(server_bin())
            .args(["admin", "--database"])
            .arg(&self.db.url)
            .args(args)
            .env("GOCUA_LOG", "warn")
            .output()
            .expect("run admin");
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
        self.add_hamlets("03445", [("03445-01", "Bản Nậm Củm"), ("03445-02", "Bản Phìn Khò")]);
        self.add_hamlets("03637", [("03637-01", "Bản Mường Kim")]);
    }

    /// Adds made-up hamlets (code, name) under the commune `parent`.
    pub fn add_hamlets<'a>(&self, parent: &str, hamlets: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (code, name) in hamlets {
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

    /// The server's derived state, read straight from its database.
    pub fn projection(&self) -> Projection {
        self.with_store(|store| run_read(store, |tx| tx.dump_projection()).expect("dump"))
    }

    /// Rows in the server's event table with this status.
    pub fn event_count(&self, status: &str) -> i64 {
        self.with_store(|store| run_read(store, |tx| tx.count_events(status)).expect("count")) as i64
    }

    /// Whether the server's stored data holds `needle`'s bytes. SQLite: the database file and
    /// its write-ahead log. PostgreSQL: after a checkpoint, the data files of every table, TOAST
    /// table and index of the server's database (not the WAL, nor other databases).
    pub fn data_holds(&self, needle: &str) -> bool {
        let found = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
        if let Some(path) = &self.db.sqlite_path {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            return [path.as_os_str().to_owned(), wal].iter().any(|p| found(&std::fs::read(p).unwrap_or_default()));
        }
        self.postgres_data_holds(&found)
    }

    #[cfg(not(feature = "postgres-tests"))]
    fn postgres_data_holds(&self, _found: &dyn Fn(&[u8]) -> bool) -> bool {
        unreachable!("a PostgreSQL server db without the postgres-tests feature")
    }

    #[cfg(feature = "postgres-tests")]
    fn postgres_data_holds(&self, found: &dyn Fn(&[u8]) -> bool) -> bool {
        let db = self.db.postgres.as_ref().expect("a PostgreSQL database");
        let rows = off_runtime(|| {
            let mut client = db.client();
            client.batch_execute("CHECKPOINT").expect("checkpoint");
            client
                .query(
                    "SELECT pg_read_binary_file(pg_relation_filepath(c.oid)) FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't')
                   AND pg_relation_filepath(c.oid) IS NOT NULL",
                    &[],
                )
                .expect("read the data files")
        });
        rows.iter().any(|r| found(&r.get::<_, Vec<u8>>(0)))
    }

    /// Runs a query on the server's database, bypassing the server (tests that inspect or
    /// tamper): every column must be text in both SQL dialects (`CAST(x AS TEXT)`).
    pub fn sql_text_rows(&self, sql: &str) -> Vec<Vec<String>> {
        if let Some(path) = &self.db.sqlite_path {
            let conn = rusqlite::Connection::open(path).expect("open the server's file");
            let mut stmt = conn.prepare(sql).expect("prepare");
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| (0..n).map(|i| r.get::<_, String>(i)).collect::<Result<Vec<_>, _>>())
                .expect("query");
            return rows.collect::<Result<_, _>>().expect("rows");
        }
        self.postgres_rows(sql)
    }

    #[cfg(not(feature = "postgres-tests"))]
    fn postgres_rows(&self, _sql: &str) -> Vec<Vec<String>> {
        unreachable!("a PostgreSQL server db without the postgres-tests feature")
    }

    #[cfg(feature = "postgres-tests")]
    fn postgres_rows(&self, sql: &str) -> Vec<Vec<String>> {
        let db = self.db.postgres.as_ref().expect("a PostgreSQL database");
        let rows = off_runtime(|| db.client().query(sql, &[]).expect("query"));
        rows.iter().map(|r| (0..r.len()).map(|i| r.get::<_, String>(i)).collect()).collect()
    }

    /// Runs statements on the server's database, bypassing the server: `sqlite` or `postgres`
    /// by backend (someone with the database tampering, in tests).
    pub fn sql_execute(&self, sqlite: &str, postgres: &str) {
        if let Some(path) = &self.db.sqlite_path {
            rusqlite::Connection::open(path).expect("open").execute_batch(sqlite).expect("execute");
            return;
        }
        self.postgres_execute(postgres);
    }

    #[cfg(not(feature = "postgres-tests"))]
    fn postgres_execute(&self, _sql: &str) {
        unreachable!("a PostgreSQL server db without the postgres-tests feature")
    }

    #[cfg(feature = "postgres-tests")]
    fn postgres_execute(&self, sql: &str) {
        let db = self.db.postgres.as_ref().expect("a PostgreSQL database");
        off_runtime(|| db.client().batch_execute(sql).expect("execute"));
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

fn spawn(database: &str) -> (Child, String) {
    spawn_on(database, "127.0.0.1:0")
}

fn spawn_on(database: &str, listen: &str) -> (Child, String) {
    spawn_with(database, listen, "warn", None)
}

fn spawn_with(database: &str, listen: &str, level: &str, log: Option<&Path>) -> (Child, String) {
    let log = log.map(|path| std::fs::File::create(path).expect("server log file"));
    let mut child = Command::new(server_bin())
        .args(["serve", "--listen", listen, "--database"])
        .arg(database)
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
                position: None,
            }))
            .expect("the police record any reason");
        resident
    };
    gocua_core::sync::engine::sync_once(&police, &link).await.expect("the police phone syncs");
    (police, link, resident)
}

/// Records on `phone` `activations` households of one person each in `hamlet`, each person
/// activated at level 1 by a visit: claims for a spot-check.
pub fn claim_activations(
    phone: &Mutex<DeviceStore>,
    rng: &mut gocua_core::fixtures::Rng,
    hamlet: &str,
    activations: usize,
) {
    use gocua_core::event::{Payload, VisitRecorded};
    let mut store = phone.lock().expect("phone store");
    for _ in 0..activations {
        let (_, residents, payloads) = gocua_core::fixtures::household_payloads(rng, hamlet, 1);
        for p in payloads {
            store.record(p).expect("household recorded");
        }
        store
            .record(Payload::VisitRecorded(VisitRecorded {
                visit_id: rng.uuid(),
                resident_id: residents[0],
                status: gocua_core::funnel::FunnelState::ActivatedLevel1,
                reason_code: None,
                action: None,
                follow_up: None,
                steps: vec![],
                note: None,
                position: None,
            }))
            .expect("activation recorded");
    }
}
