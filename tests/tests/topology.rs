//! The multi-server topology on loopback (`scripts/topology.sh`): a PostgreSQL primary and a
//! streaming hot standby, `gocua-server` processes that write to the primary and read pull pages
//! from the standby, nginx in front. Phones talk to nginx (or to one server) over real HTTP.
//!
//! Built with the `postgres-tests` feature only: it needs Debian's postgresql and nginx, which
//! `scripts/test.sh` installs before it runs that feature. Each test starts a topology of its
//! own and stops it however the test ends; the tests take turns.

#![cfg(feature = "postgres-tests")]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gocua_core::event::{HouseholdSurveyed, Payload};
use gocua_core::fixtures::{self, Rng};
use gocua_core::places::{Place, PlaceLevel};
use gocua_core::reducer::Projection;
use gocua_core::scope::Scope;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{BatchSizer, SyncReport, Transport, TransportError, sync_once_with_progress};
use gocua_core::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse, Role};
use gocua_e2e::{assert_same_as_volunteer_sees, off_runtime, server_bin};
use gocua_http_client::HttpTransport;
use gocua_server_store::{Store, run_read};
use tokio::task::JoinHandle;
use uuid::Uuid;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/topology.sh");
const COMMUNE: &str = "03445"; // Xã Mường Tè, Lai Châu
const HAMLETS: [&str; 2] = ["03445-01", "03445-02"];
/// Reasons any role may choose (not `in_prison`, which only the police see).
const REASONS: [&str; 5] = ["absent_unreachable", "needs_phone_update", "no_smartphone", "refused", "other"];

/// Two topologies at once would starve each other of the machine's cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// --- the topology ------------------------------------------------------------------------------

/// A running topology; `topology.sh stop` when dropped (a failed assertion included).
struct Topology {
    dir: String,
    env: BTreeMap<String, String>,
}

/// Runs `topology.sh ARGS…` and returns its stdout; panics with its stderr when it fails.
fn script(args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(SCRIPT)
        .args(args)
        .env("GOCUA_SERVER_BIN", server_bin())
        .env_remove("TOPOLOGY_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/topology.sh");
    assert!(
        out.status.success(),
        "topology.sh {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

impl Topology {
    fn start(servers: u32) -> Topology {
        let out = script(&["start", "--servers", &servers.to_string()]);
        let env: BTreeMap<String, String> =
            out.lines().filter_map(|line| line.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let dir = env.get("TOPOLOGY_DIR").expect("TOPOLOGY_DIR in the output of start").clone();
        Topology { dir, env }
    }

    fn get(&self, key: &str) -> &str {
        self.env.get(key).unwrap_or_else(|| panic!("{key} is not in the topology's env"))
    }

    /// `topology.sh ARGS… --dir DIR`, on a blocking thread (it may take a second or two).
    async fn run(&self, args: &[&str]) {
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.extend(["--dir".to_owned(), self.dir.clone()]);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            script(&args);
        })
        .await
        .expect("topology.sh");
    }

    fn primary(&self) -> &str {
        self.get("PRIMARY_URL")
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        let out = Command::new("bash").arg(SCRIPT).args(["stop", "--dir", &self.dir]).stdin(Stdio::null()).output();
        if !matches!(&out, Ok(o) if o.status.success()) {
            eprintln!("topology.sh stop --dir {} failed: {out:?}", self.dir);
        }
    }
}

/// Rows of a query on a PostgreSQL database, off the async runtime.
fn pg_rows(url: &str, sql: &str) -> Vec<postgres::Row> {
    off_runtime(|| {
        let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL");
        client.query(sql, &[]).expect("query")
    })
}

/// The highest `server_seq` a database (the primary or the standby) holds.
fn last_server_seq(url: &str) -> u64 {
    pg_rows(url, "SELECT coalesce(max(server_seq), 0) FROM events")[0].get::<_, i64>(0) as u64
}

/// Runs `f` on the primary's store (the rules, as an admin command does), off the runtime.
fn with_primary<R: Send>(url: &str, f: impl FnOnce(&dyn Store) -> R + Send) -> R {
    off_runtime(|| f(&*gocua_server::db::open(url, None).expect("open the primary's store")))
}

/// The places, and one user with a fresh enrollment code per `(name, role)`.
fn users_with_codes(primary: &str, users: &[(String, Role)]) -> Vec<String> {
    with_primary(primary, |store| {
        use gocua_server::admin;
        admin::import_admin_units(store, admin::ADMIN_UNITS_2025).expect("places");
        for (code, name) in [(HAMLETS[0], "Bản Nậm Củm"), (HAMLETS[1], "Bản Phìn Khò")] {
            let hamlet = Place {
                code: code.into(),
                name: name.into(),
                level: PlaceLevel::Hamlet,
                division_type: "bản".into(),
                parent_code: Some(COMMUNE.into()),
            };
            admin::add_place(store, &hamlet).expect("hamlet");
        }
        users
            .iter()
            .map(|(name, role)| {
                let user = admin::add_user(store, name, *role, &Scope::single(COMMUNE)).expect("user");
                admin::create_code(store, user, 24).expect("code")
            })
            .collect()
    })
}

// --- phones ------------------------------------------------------------------------------------

/// One pull answer as the phone received it.
#[derive(Debug, Clone)]
struct PageLog {
    after: u64,
    cursor: u64,
    seqs: Vec<u64>,
    reset: bool,
}

/// The phone's HTTP transport, noting every pull page it receives.
#[derive(Debug, Clone)]
struct Recorder {
    inner: HttpTransport,
    pages: Arc<Mutex<Vec<PageLog>>>,
}

impl Transport for Recorder {
    async fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.inner.push(request).await
    }

    async fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let page = self.inner.pull(request).await?;
        self.pages.lock().unwrap().push(PageLog {
            after: request.cursor,
            cursor: page.cursor,
            seqs: page.events.iter().map(|e| e.server_seq).collect(),
            reset: page.reset.is_some(),
        });
        Ok(page)
    }
}

/// A simulated phone: a real device store on a temp file and its link.
struct Phone {
    name: String,
    role: Role,
    store: Mutex<DeviceStore>,
    link: Recorder,
    device_id: Uuid,
    rng: Mutex<Rng>,
}

impl Phone {
    /// Enrolls a new device store at `url` with `code` (with a bundle signing key, as the app).
    async fn enroll(dir: &std::path::Path, url: &str, name: &str, role: Role, code: &str, seed: u64) -> Phone {
        let mut store = DeviceStore::open(&dir.join(format!("{}.sqlite", Uuid::now_v7()))).expect("device store");
        let transport = HttpTransport::new(url).expect("transport");
        let key = store.enrollment_key().expect("signing key");
        let response = transport.enroll_with_key(code, name, Some(&key)).await.expect("enroll");
        let enrollment = store.save_enrollment(url, &response).expect("save enrollment");
        Phone {
            name: name.to_owned(),
            role,
            store: Mutex::new(store),
            link: Recorder { inner: transport.with_token(&enrollment.token), pages: Arc::default() },
            device_id: enrollment.device_id,
            rng: Mutex::new(Rng::new(seed)),
        }
    }

    /// The same phone's token on another server (a second way to the same database).
    fn link_to(&self, url: &str) -> Recorder {
        let token = self.store.lock().unwrap().enrollment().expect("enrollment").expect("enrolled").token;
        Recorder {
            inner: HttpTransport::new(url).expect("transport").with_token(&token),
            pages: self.link.pages.clone(),
        }
    }

    /// Records a little fieldwork: a new household, visits to people it knows (its own or
    /// pulled from the others), or a new survey of a known household (an order-sensitive edit
    /// that other phones may make at the same time). Returns how many events.
    fn record_some(&self) -> usize {
        let mut rng = self.rng.lock().unwrap();
        let mut store = self.store.lock().unwrap();
        let pick = |store: &DeviceStore, table: &str, n: u64| -> Vec<Uuid> {
            let sql = format!("SELECT id FROM {table} ORDER BY random() LIMIT {n}");
            let mut stmt = store.connection().prepare(&sql).expect("prepare");
            let ids = stmt.query_map([], |r| r.get::<_, String>(0)).expect("query");
            ids.map(|id| Uuid::parse_str(&id.expect("row")).expect("uuid")).collect()
        };
        let mut payloads = Vec::new();
        match rng.below(3) {
            1 => {
                let n = 1 + rng.below(2);
                for resident in pick(&store, "residents", n) {
                    payloads.push(fixtures::visit_payload(&mut rng, resident, &REASONS));
                }
            }
            2 => {
                for household in pick(&store, "households", 1) {
                    let members = 1 + rng.below(6) as u32;
                    payloads.push(Payload::HouseholdSurveyed(HouseholdSurveyed {
                        household_id: household,
                        members,
                        smartphones: rng.below(u64::from(members) + 1) as u32,
                        has_internet_computer: rng.below(5) == 0,
                    }));
                }
            }
            _ => {}
        }
        if payloads.is_empty() {
            let hamlet = *rng.pick(&HAMLETS);
            let residents = 1 + rng.below(3) as usize;
            payloads = fixtures::household_payloads(&mut rng, hamlet, residents).2;
        }
        let n = payloads.len();
        for payload in payloads {
            store.record(payload).expect("record");
        }
        n
    }

    async fn sync(&self, link: &Recorder) -> Result<SyncReport, gocua_core::sync::engine::SyncError> {
        sync_once_with_progress(&self.store, link, &mut BatchSizer::default(), |_| {}).await
    }

    fn local_events(&self) -> Vec<(u64, Uuid)> {
        let events = self.store.lock().unwrap().local_events().expect("local events");
        events.into_iter().map(|e| (e.seq, e.id)).collect()
    }

    /// Ids of every event the phone holds (its own and pulled).
    fn event_ids(&self) -> BTreeSet<Uuid> {
        let store = self.store.lock().unwrap();
        let mut stmt = store.connection().prepare("SELECT id FROM events").expect("prepare");
        let ids = stmt.query_map([], |r| r.get::<_, String>(0)).expect("query");
        ids.map(|id| Uuid::parse_str(&id.expect("row")).expect("uuid")).collect()
    }

    fn projection(&self) -> Projection {
        self.store.lock().unwrap().projection().expect("projection")
    }

    fn cursor(&self) -> u64 {
        self.store.lock().unwrap().pull_cursor().expect("cursor")
    }
}

// --- the server's side -------------------------------------------------------------------------

/// One row of the primary's event log.
#[derive(Debug, Clone)]
struct ServerEvent {
    server_seq: u64,
    id: Uuid,
    device: Uuid,
    seq: u64,
    status: String,
    kind: String,
}

fn server_events(primary: &str) -> Vec<ServerEvent> {
    pg_rows(primary, "SELECT server_seq, id::text, device_id::text, seq, status, type FROM events ORDER BY server_seq")
        .iter()
        .map(|r| ServerEvent {
            server_seq: r.get::<_, i64>(0) as u64,
            id: Uuid::parse_str(r.get(1)).expect("uuid"),
            device: Uuid::parse_str(r.get(2)).expect("uuid"),
            seq: r.get::<_, i64>(3) as u64,
            status: r.get(4),
            kind: r.get(5),
        })
        .collect()
}

fn server_projection(primary: &str) -> Projection {
    with_primary(primary, |store| run_read(store, |tx| tx.dump_projection()).expect("dump"))
}

/// Every page a phone received covered the server's order without a hole: pages follow each
/// other (each asks after the cursor the one before it gave), and each holds exactly the events
/// of other devices between its two cursors. So its cursor never moved past an event it had not
/// been given. Returns the number of pages.
fn assert_pages_skip_nothing(phone: &Phone, events: &[ServerEvent]) -> usize {
    let pages = phone.link.pages.lock().unwrap().clone();
    let mut cursor = 0;
    for (i, page) in pages.iter().enumerate() {
        let what = format!("{}: page {i} of {}", phone.name, pages.len());
        assert!(!page.reset, "{what}: no reset was expected");
        assert_eq!(page.after, cursor, "{what}: asked after the cursor the page before gave");
        assert!(page.cursor >= page.after, "{what}: the cursor went back ({} → {})", page.after, page.cursor);
        let expected: Vec<u64> = events
            .iter()
            .filter(|e| e.server_seq > page.after && e.server_seq <= page.cursor && e.device != phone.device_id)
            .map(|e| e.server_seq)
            .collect();
        assert_eq!(
            page.seqs, expected,
            "{what}: exactly the other devices' events in ({}, {}]",
            page.after, page.cursor
        );
        cursor = page.cursor;
    }
    pages.len()
}

/// The end state, checked against the primary: nothing lost, nothing twice, everyone agrees.
fn assert_converged(primary: &str, phones: &[Arc<Phone>]) -> usize {
    let events = server_events(primary);
    let total = events.len();
    assert!(events.iter().all(|e| e.status == "applied"), "every event on the server is applied");
    let seqs: Vec<u64> = events.iter().map(|e| e.server_seq).collect();
    assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>(), "the server's order has no gap");
    let ids: BTreeSet<Uuid> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), total, "no event is on the server twice");

    let server = server_projection(primary);
    let mut recorded = 0;
    for phone in phones {
        let mine = phone.local_events();
        let seqs: Vec<u64> = mine.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=mine.len() as u64).collect::<Vec<_>>(), "{}: a gap-free sequence", phone.name);
        assert_eq!(phone.store.lock().unwrap().unsent_count().unwrap(), 0, "{}: the outbox is empty", phone.name);
        let mut on_server: Vec<(u64, Uuid)> =
            events.iter().filter(|e| e.device == phone.device_id).map(|e| (e.seq, e.id)).collect();
        on_server.sort();
        assert_eq!(on_server, mine, "{}: the server holds exactly this phone's events, each once", phone.name);
        recorded += mine.len();
        assert_eq!(phone.event_ids(), ids, "{}: holds every event of every phone, each once", phone.name);
        let what = format!("{} ({})", phone.name, phone.role.code());
        match phone.role {
            Role::Volunteer => assert_same_as_volunteer_sees(&phone.projection(), &server, &what),
            _ => assert_eq!(phone.projection(), server, "{what}: the server's state"),
        }
        assert_pages_skip_nothing(phone, &events);
    }
    assert_eq!(recorded, total, "the server holds the phones' events and nothing else");

    // the projection tables hold what the applied events make, one row per created record
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count() as i64;
    let tables = &pg_rows(
        primary,
        "SELECT (SELECT count(*) FROM households), (SELECT count(*) FROM residents), (SELECT count(*) FROM visits)",
    )[0];
    let (households, residents, visits): (i64, i64, i64) = (tables.get(0), tables.get(1), tables.get(2));
    assert_eq!(households, count("household_created.v1"), "households = household_created events");
    assert_eq!(residents, count("resident_added.v1"), "residents = resident_added events");
    assert_eq!(visits, count("visit_recorded.v1"), "visits = visit_recorded events");
    assert_eq!(
        (server.households.len(), server.residents.len(), server.visits.len()),
        (households as usize, residents as usize, visits as usize)
    );
    total
}

/// Polls `done` every 10 ms until it holds; panics after `seconds`.
async fn until(seconds: u64, what: &str, done: impl FnMut() -> bool) {
    until_or_gone(seconds, what, done, &[]).await;
}

/// [`until`], and panics as soon as one of `tasks` has ended (it panicked: they only end when
/// told to stop).
async fn until_or_gone(seconds: u64, what: &str, mut done: impl FnMut() -> bool, tasks: &[JoinHandle<()>]) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(!tasks.iter().any(JoinHandle::is_finished), "a phone's task ended while waiting for {what}");
        assert!(Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// --- the tests ---------------------------------------------------------------------------------

/// What the phones saw during the race.
#[derive(Debug, Default)]
struct Tally {
    /// Syncs under way now.
    in_flight: AtomicU64,
    syncs: AtomicU64,
    failed_syncs: AtomicU64,
    recorded: AtomicU64,
    pushed: AtomicU64,
    pulled: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_phones_race_through_nginx_while_a_server_is_killed_and_postgres_restarts() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let topology = Topology::start(2);
    let (primary, nginx) = (topology.primary().to_owned(), topology.get("NGINX_URL").to_owned());

    // ten volunteers and ten commune police officers of one commune: everyone sees everyone's
    // households (the volunteers with CCCD numbers masked)
    let users: Vec<(String, Role)> = (0..20)
        .map(|i| match i % 2 {
            0 => (format!("Tình nguyện viên thử {i:02}"), Role::Volunteer),
            _ => (format!("Cán bộ công an thử {i:02}"), Role::CommunePolice),
        })
        .collect();
    let codes = users_with_codes(&primary, &users);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut phones = Vec::new();
    for (i, ((name, role), code)) in users.iter().zip(&codes).enumerate() {
        phones.push(Arc::new(Phone::enroll(dir.path(), &nginx, name, *role, code, 1000 + i as u64).await));
    }

    // every phone records and syncs in a loop, all at once, until the faults are over
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let per_phone: Arc<Vec<AtomicU64>> = Arc::new((0..phones.len()).map(|_| AtomicU64::new(0)).collect());
    let mut tasks = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        let (phone, tally, stop, per_phone) = (phone.clone(), tally.clone(), stop.clone(), per_phone.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                tally.recorded.fetch_add(phone.record_some() as u64, Ordering::SeqCst);
                tally.in_flight.fetch_add(1, Ordering::SeqCst);
                let result = phone.sync(&phone.link).await;
                tally.in_flight.fetch_sub(1, Ordering::SeqCst);
                match result {
                    Ok(report) => {
                        tally.syncs.fetch_add(1, Ordering::SeqCst);
                        tally.pushed.fetch_add(report.applied + report.duplicates, Ordering::SeqCst);
                        tally.pulled.fetch_add(report.pulled, Ordering::SeqCst);
                        assert_eq!((report.rejected, report.resets), (0, 0), "{}: {report:?}", phone.name);
                        per_phone[i].fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => {
                        // a server killed or the database restarting: the phone tries again later
                        tally.failed_syncs.fetch_add(1, Ordering::SeqCst);
                        if let gocua_core::sync::engine::SyncError::Transport(t) = &e {
                            assert!(t.is_transient(), "{}: a failure that is not transient: {e}", phone.name);
                        } else {
                            panic!("{}: the device store failed: {e}", phone.name);
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }
    let syncs = |tally: &Tally| tally.syncs.load(Ordering::SeqCst);
    let all_synced_twice = || per_phone.iter().all(|n| n.load(Ordering::SeqCst) >= 2);
    until_or_gone(60, "every phone to sync twice", all_synced_twice, &tasks).await;

    // each fault strikes while at least five phones are in the middle of a sync
    let busy = || tally.in_flight.load(Ordering::SeqCst) >= 5;
    // server 1 dies mid-traffic (SIGKILL); nginx sends everything to server 2 meanwhile
    until_or_gone(60, "phones mid-sync", busy, &tasks).await;
    let before = syncs(&tally);
    eprintln!("race: {:.1} s: killing server 1", started.elapsed().as_secs_f64());
    topology.run(&["kill-server", "1"]).await;
    let killed_at = syncs(&tally);
    until_or_gone(60, "60 syncs with server 1 dead", || syncs(&tally) >= killed_at + 60, &tasks).await;
    eprintln!("race: {:.1} s: starting server 1 again", started.elapsed().as_secs_f64());
    topology.run(&["start-server", "1"]).await;
    let back_at = syncs(&tally);
    until_or_gone(60, "60 syncs with server 1 back", || syncs(&tally) >= back_at + 60, &tasks).await;
    // the database restarts under both servers: every connection of every pool is cut
    until_or_gone(60, "phones mid-sync", busy, &tasks).await;
    let failed_before_restart = tally.failed_syncs.load(Ordering::SeqCst);
    eprintln!("race: {:.1} s: restarting PostgreSQL", started.elapsed().as_secs_f64());
    topology.run(&["restart-postgres"]).await;
    let restarted_at = syncs(&tally);
    eprintln!("race: {:.1} s: PostgreSQL restarted", started.elapsed().as_secs_f64());
    until_or_gone(90, "100 syncs after PostgreSQL restarted", || syncs(&tally) >= restarted_at + 100, &tasks).await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("a phone's task panicked");
    }
    let failed_after_restart = tally.failed_syncs.load(Ordering::SeqCst) - failed_before_restart;
    eprintln!(
        "race: {} events recorded, {} syncs ({} failed, {} of them around the PostgreSQL restart; {} before the \
         kill), {} events pushed, {} pulled, {:.1} s",
        tally.recorded.load(Ordering::SeqCst),
        syncs(&tally),
        tally.failed_syncs.load(Ordering::SeqCst),
        failed_after_restart,
        before,
        tally.pushed.load(Ordering::SeqCst),
        tally.pulled.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64()
    );

    // then everyone syncs until the phones are quiet: each holds every event of the server
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut round = Vec::new();
        for phone in &phones {
            let phone = phone.clone();
            round.push(tokio::spawn(async move { phone.sync(&phone.link).await.map(|_| ()) }));
        }
        for task in round {
            task.await.expect("sync task").expect("the faults are over: every sync succeeds");
        }
        let total = server_events(&primary).len();
        let quiet = phones.iter().all(|p| {
            let store = p.store.lock().unwrap();
            store.unsent_count().unwrap() == 0 && store.event_count().unwrap() as usize == total
        });
        if quiet {
            break;
        }
        assert!(Instant::now() < deadline, "the phones never converged");
    }

    let total = assert_converged(&primary, &phones);
    let pages: usize = phones.iter().map(|p| p.link.pages.lock().unwrap().len()).sum();
    // nginx's access log: `"REQUEST" STATUS …` and every server a request was tried on,
    // "upstream=A, B"
    let access = std::fs::read_to_string(topology.get("NGINX_ACCESS_LOG")).unwrap_or_default();
    let retried = access
        .lines()
        .filter_map(|l| l.split_once(" upstream=").and_then(|(_, rest)| rest.split_once(" upstream_status=")))
        .filter(|(upstreams, _)| upstreams.contains(", "))
        .count();
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    for line in access.lines() {
        if let Some(status) = line.split("\" ").nth(1).and_then(|rest| rest.split(' ').next()) {
            *statuses.entry(status).or_default() += 1;
        }
    }
    eprintln!(
        "race: converged on {total} events, {pages} pull pages checked; nginx answered {statuses:?} and retried \
         {retried} requests on the other server; {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
    assert!(total >= 200, "the phones recorded enough to race: {total} events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_replica_never_makes_a_pull_skip_an_event() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let topology = Topology::start(1);
    let (primary, replica) = (topology.primary().to_owned(), topology.get("REPLICA_URL").to_owned());
    let replica_admin = topology.get("REPLICA_ADMIN_URL").to_owned();
    let server = topology.get("SERVER_1_URL").to_owned();
    let users = [
        ("Cán bộ công an thử Ghi".to_owned(), Role::CommunePolice),
        ("Cán bộ công an thử Đọc".to_owned(), Role::CommunePolice),
    ];
    let codes = users_with_codes(&primary, &users);
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = Phone::enroll(dir.path(), &server, &users[0].0, users[0].1, &codes[0], 7).await;
    let reader = Phone::enroll(dir.path(), &server, &users[1].0, users[1].1, &codes[1], 8).await;
    // a server on the primary alone (no --read-database), for a cursor the replica has not reached
    let primary_only = ServerProcess::start(&primary);
    let via_primary = reader.link_to(&primary_only.url);
    // small pages, so several of them follow each other
    let mut sizer = BatchSizer { pull_limit: 2, ..BatchSizer::default() };
    let mut reader_sync = async |link: &Recorder| {
        sync_once_with_progress(&reader.store, link, &mut sizer, |_| {}).await.expect("the reader syncs")
    };
    let write = async |households: usize| -> u64 {
        for _ in 0..households {
            let mut rng = writer.rng.lock().unwrap();
            let payloads = fixtures::household_payloads(&mut rng, HAMLETS[0], 2).2;
            let mut store = writer.store.lock().unwrap();
            for p in payloads {
                store.record(p).expect("record");
            }
        }
        writer.sync(&writer.link).await.expect("the writer syncs");
        last_server_seq(&primary)
    };
    let replica_has = |seq: u64| last_server_seq(&replica) >= seq;

    // A: on the replica too, and on the reader's phone
    let a = write(2).await;
    until(30, "the replica to replay A", || replica_has(a)).await;
    reader_sync(&reader.link).await;
    assert_eq!(reader.cursor(), a);
    // A2 reaches the replica, then its replay is paused, then B reaches the primary only
    let a2 = write(2).await;
    until(30, "the replica to replay A2", || replica_has(a2)).await;
    topology.run(&["replica-pause"]).await;
    until(30, "the replica's replay to pause", || {
        pg_rows(&replica_admin, "SELECT pg_get_wal_replay_pause_state()::text")[0].get::<_, String>(0) == "paused"
    })
    .await;
    let b = write(2).await;
    assert!(b > a2, "B is on the primary");
    assert_eq!(last_server_seq(&replica), a2, "and not on the paused replica");

    // through the server reading the lagging replica: A2, and nothing past what the replica has
    let report = reader_sync(&reader.link).await;
    assert_eq!(report.resets, 0, "a lagging replica is not a restored database");
    assert_eq!(report.pulled, 2 * 3, "A2's two households of three events");
    assert_eq!(reader.cursor(), a2, "the cursor stops where the replica ends, before B");
    // a cursor past the replica's end (from a server on the primary) makes the pull ask the
    // primary: B, then C, without a reset
    let report = reader_sync(&via_primary).await;
    assert_eq!((report.pulled, report.resets), (2 * 3, 0));
    assert_eq!(reader.cursor(), b);
    let c = write(1).await;
    assert_eq!(last_server_seq(&replica), a2, "the replica is still paused");
    let report = reader_sync(&reader.link).await;
    assert_eq!((report.pulled, report.resets), (3, 0), "C, read on the primary");
    assert_eq!(reader.cursor(), c);

    // replay resumes; D; the reader ends with every event exactly once
    topology.run(&["replica-resume"]).await;
    let d = write(2).await;
    until(30, "the replica to replay D", || replica_has(d)).await;
    reader_sync(&reader.link).await;
    assert_eq!(reader.cursor(), d);
    drop(primary_only);

    let events = server_events(&primary);
    let written: BTreeSet<Uuid> = writer.local_events().into_iter().map(|(_, id)| id).collect();
    assert_eq!(events.len(), written.len(), "the server holds the writer's events");
    assert_eq!(reader.event_ids(), written, "the reader holds every one of them");
    assert_eq!(reader.store.lock().unwrap().event_count().unwrap() as usize, written.len(), "each once");
    assert_eq!(reader.projection(), server_projection(&primary));
    let pages = assert_pages_skip_nothing(&reader, &events);
    assert!(pages >= 5, "several pages: {pages}");
}

/// A `gocua-server serve` of our own on the primary alone; killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start(database: &str) -> ServerProcess {
        let mut child = Command::new(server_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .env("GOCUA_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn gocua-server");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("gocua-server listening on ") {
                        break url.trim().to_owned();
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("gocua-server exited before printing its address");
                }
            }
        };
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        ServerProcess { child, url }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
