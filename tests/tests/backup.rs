//! Backups that lose nothing: the server is backed up while it runs, phones go on syncing, the
//! backup is restored, and the phones bring back everything the restore lost, each event once.
//!
//! A restored database carries a new epoch (SQLite: `admin backup` writes one into its copy;
//! PostgreSQL: `admin new-epoch` after `pg_restore`, which cannot change a dump), so every
//! phone's next pull answers `reset`: it downloads its scope again and sends back every own
//! event it holds; the server keeps what it lacks and answers `duplicate` for the rest. Runs on
//! the backend `GOCUA_TEST_BACKEND` names, with the README's procedure for each.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use gocua_core::event::Payload;
use gocua_core::fixtures::{self, Rng};
use gocua_core::reducer::Projection;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{SyncReport, sync_once};
use gocua_e2e::{Backend, TestServer, backend, enrolled_device};
use gocua_http_client::HttpTransport;
use gocua_server_store::run_read;
use uuid::Uuid;

const REASONS: [&str; 4] = ["absent_unreachable", "needs_phone_update", "no_smartphone", "refused"];

/// A commune police officer's phone in Xã Mường Tè (police see full CCCD numbers, so a synced
/// phone holds exactly the server's projection).
struct Phone {
    name: &'static str,
    store: Mutex<DeviceStore>,
    link: HttpTransport,
    rng: Mutex<Rng>,
    own_residents: Mutex<BTreeSet<Uuid>>,
}

impl Phone {
    async fn enroll(server: &TestServer, name: &'static str, seed: u64) -> Phone {
        let code = server.code_for(name, "commune-police", "03445");
        let (store, link) = enrolled_device(server, &format!("phone-{seed}.sqlite"), &code).await;
        Phone { name, store, link, rng: Mutex::new(Rng::new(seed)), own_residents: Mutex::default() }
    }

    /// Records `households` households of two residents, a visit to each, and a visit to one
    /// resident another phone added (when it knows one). Returns how many events.
    fn record(&self, households: usize) -> u64 {
        let mut rng = self.rng.lock().unwrap();
        let mut store = self.store.lock().unwrap();
        let mut payloads = Vec::new();
        let mut own = self.own_residents.lock().unwrap();
        let theirs: Vec<Uuid> = {
            let mut stmt = store.connection().prepare("SELECT id FROM residents ORDER BY id").expect("prepare");
            let ids = stmt.query_map([], |r| r.get::<_, String>(0)).expect("residents");
            ids.map(|id| Uuid::parse_str(&id.expect("row")).expect("uuid")).filter(|id| !own.contains(id)).collect()
        };
        if !theirs.is_empty() {
            let resident = *rng.pick(&theirs);
            payloads.push(fixtures::visit_payload(&mut rng, resident, &REASONS));
        }
        for i in 0..households {
            let hamlet = ["03445-01", "03445-02"][i % 2];
            let (_, residents, created) = fixtures::household_payloads(&mut rng, hamlet, 2);
            payloads.extend(created);
            for resident in residents {
                own.insert(resident);
                payloads.push(fixtures::visit_payload(&mut rng, resident, &REASONS));
            }
        }
        let n = payloads.len() as u64;
        for payload in payloads {
            store.record(payload).expect("record");
        }
        n
    }

    async fn sync(&self) -> SyncReport {
        sync_once(&self.store, &self.link).await.unwrap_or_else(|e| panic!("{} syncs: {e}", self.name))
    }

    fn device_id(&self) -> Uuid {
        self.store.lock().unwrap().enrollment().unwrap().expect("enrolled").device_id
    }

    fn local_events(&self) -> Vec<(u64, Uuid)> {
        self.store.lock().unwrap().local_events().unwrap().into_iter().map(|e| (e.seq, e.id)).collect()
    }

    fn cursor(&self) -> u64 {
        self.store.lock().unwrap().pull_cursor().unwrap()
    }
}

/// Everyone syncs in turn, round after round, until a round moves nothing; returns what each
/// phone's syncs did, summed.
async fn sync_until_quiet(phones: &[&Phone]) -> Vec<SyncReport> {
    let mut totals = vec![SyncReport::default(); phones.len()];
    for _ in 0..10 {
        let mut moved = 0;
        for (phone, total) in phones.iter().zip(&mut totals) {
            let r = phone.sync().await;
            moved += r.applied + r.duplicates + r.rejected + r.pulled + r.resets;
            total.applied += r.applied;
            total.duplicates += r.duplicates;
            total.rejected += r.rejected;
            total.pulled += r.pulled;
            total.resets += r.resets;
        }
        if moved == 0 {
            return totals;
        }
    }
    panic!("the phones never went quiet");
}

fn epoch(server: &TestServer) -> String {
    server.with_store(|store| run_read(store, |tx| tx.epoch()).expect("epoch"))
}

fn last_server_seq(server: &TestServer) -> u64 {
    server.with_store(|store| run_read(store, |tx| tx.last_server_seq()).expect("last server_seq"))
}

/// `(seq, id)` of one device's events on the server, by status.
fn server_events(server: &TestServer, device_id: Uuid) -> BTreeMap<String, Vec<(u64, Uuid)>> {
    let rows = server.sql_text_rows(&format!(
        "SELECT status, CAST(seq AS TEXT), CAST(id AS TEXT) FROM events WHERE CAST(device_id AS TEXT) = '{device_id}'"
    ));
    let mut out: BTreeMap<String, Vec<(u64, Uuid)>> = BTreeMap::new();
    for row in rows {
        out.entry(row[0].clone()).or_default().push((row[1].parse().unwrap(), Uuid::parse_str(&row[2]).unwrap()));
    }
    out.values_mut().for_each(|events| events.sort());
    out
}

/// Nothing lost, nothing twice: each phone's events are on the server exactly once, applied;
/// the server holds nothing else; every phone holds the server's state; and the server's
/// households, residents and visits are as many as the events that created them.
fn assert_nothing_lost(server: &TestServer, phones: &[&Phone]) {
    assert_eq!(server.event_count("rejected"), 0, "no event rejected");
    let applied = server.event_count("applied");
    let ids: BTreeSet<Uuid> = server
        .sql_text_rows("SELECT CAST(id AS TEXT) FROM events")
        .iter()
        .map(|row| Uuid::parse_str(&row[0]).unwrap())
        .collect();
    assert_eq!(ids.len() as i64, applied, "no event twice");
    let (mut recorded, mut households, mut residents, mut visits) = (0, 0, 0, 0);
    for phone in phones {
        let mine = phone.local_events();
        let on_server = server_events(server, phone.device_id());
        assert_eq!(on_server.keys().collect::<Vec<_>>(), ["applied"], "{}: only applied events", phone.name);
        assert_eq!(on_server["applied"], mine, "{}: the server holds exactly its events, each once", phone.name);
        let store = phone.store.lock().unwrap();
        assert_eq!(store.unsent_count().unwrap(), 0, "{}: nothing left to send", phone.name);
        let held: BTreeSet<Uuid> = {
            let mut stmt = store.connection().prepare("SELECT id FROM events").unwrap();
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
            rows.map(|id| Uuid::parse_str(&id.unwrap()).unwrap()).collect()
        };
        assert_eq!(held, ids, "{}: holds every phone's events", phone.name);
        assert_eq!(store.event_count().unwrap() as i64, applied, "{}: each once", phone.name);
        recorded += mine.len() as i64;
        for event in store.local_events().unwrap() {
            match event.payload {
                Payload::HouseholdCreated(_) => households += 1,
                Payload::ResidentAdded(_) => residents += 1,
                Payload::VisitRecorded(_) => visits += 1,
                _ => {}
            }
        }
    }
    assert_eq!(recorded, applied, "the server holds the phones' events and nothing else");
    let audit = server.admin(&["verify-audit"]);
    assert!(audit.starts_with("audit log intact"), "the restored audit chain goes on: {audit}");
    let state = server.projection();
    assert_eq!(
        (state.households.len(), state.residents.len(), state.visits.len()),
        (households, residents, visits),
        "the server's records are those the events created"
    );
    for phone in phones {
        let theirs = phone.store.lock().unwrap().projection().unwrap();
        assert!(theirs == state, "{} does not show the server's state: {}", phone.name, differences(&theirs, &state));
    }
}

/// The records a phone's projection shows differently from the server's (a readable failure).
fn differences(phone: &Projection, server: &Projection) -> String {
    fn diff<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
        what: &str,
        phone: &BTreeMap<K, V>,
        server: &BTreeMap<K, V>,
    ) -> Vec<String> {
        let keys: BTreeSet<&K> = phone.keys().chain(server.keys()).collect();
        keys.into_iter()
            .filter(|k| phone.get(k) != server.get(k))
            .map(|k| format!("{what} {k:?}: the phone {:?}, the server {:?}", phone.get(k), server.get(k)))
            .collect()
    }
    let mut out = diff("household", &phone.households, &server.households);
    out.extend(diff("resident", &phone.residents, &server.residents));
    out.extend(diff("visit", &phone.visits, &server.visits));
    out.join("\n")
}

// --- backup and restore, as the README says -------------------------------------------------------

/// A backup of the server's database.
enum Copy {
    /// `gocua-server admin backup --to FILE`, taken while the server runs.
    Sqlite(PathBuf),
    /// `pg_dump -Fc`, taken while the server runs.
    Postgres(PathBuf),
}

fn back_up(server: &TestServer) -> Copy {
    match backend() {
        Backend::Sqlite => {
            let to = server.temp_path("backup.sqlite");
            let said = server.admin(&["backup", "--to", to.to_str().expect("a UTF-8 path")]);
            let copy_epoch: String = rusqlite::Connection::open(&to)
                .expect("open the copy")
                .query_row("SELECT value FROM server_meta WHERE key = 'epoch'", [], |r| r.get(0))
                .expect("the copy's epoch");
            assert!(said.contains(&format!("epoch {copy_epoch}")), "{said}");
            assert_ne!(copy_epoch, epoch(server), "the copy is another database to the phones");
            Copy::Sqlite(to)
        }
        Backend::Postgres => Copy::Postgres(pg_dump(server)),
    }
}

/// Stops the server, puts the copy in place of its database, starts it again.
async fn restore(server: &mut TestServer, copy: &Copy) {
    server.stop();
    match copy {
        Copy::Sqlite(from) => {
            let live = server.db.sqlite_path.clone().expect("a SQLite database");
            // the live file's write-ahead log belongs to it, not to the copy
            for suffix in ["-wal", "-shm"] {
                let mut side = live.clone().into_os_string();
                side.push(suffix);
                let _ = std::fs::remove_file(side);
            }
            std::fs::copy(from, &live).expect("copy the backup in place");
        }
        Copy::Postgres(dump) => pg_restore(server, dump),
    }
    server.start_again().await;
}

#[cfg(not(feature = "postgres-tests"))]
fn pg_dump(_server: &TestServer) -> PathBuf {
    unreachable!("GOCUA_TEST_BACKEND=postgres needs the postgres-tests feature")
}

#[cfg(not(feature = "postgres-tests"))]
fn pg_restore(_server: &TestServer, _dump: &std::path::Path) {
    unreachable!("GOCUA_TEST_BACKEND=postgres needs the postgres-tests feature")
}

/// A client program of the newest PostgreSQL installed (the one the test cluster runs).
#[cfg(feature = "postgres-tests")]
fn pg_program(name: &str) -> PathBuf {
    gocua_server_postgres::testing::bin_dir().join(name)
}

#[cfg(feature = "postgres-tests")]
fn run_program(program: &str, args: &[&std::ffi::OsStr]) {
    let out = std::process::Command::new(pg_program(program)).args(args).output().expect("run a PostgreSQL tool");
    assert!(out.status.success(), "{program} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
}

#[cfg(feature = "postgres-tests")]
fn pg_dump(server: &TestServer) -> PathBuf {
    let to = server.temp_path("gocua.dump");
    run_program("pg_dump", &["-Fc".as_ref(), "-f".as_ref(), to.as_os_str(), "-d".as_ref(), server.database().as_ref()]);
    to
}

#[cfg(feature = "postgres-tests")]
fn pg_restore(server: &TestServer, dump: &std::path::Path) {
    let db = server.db.postgres.as_ref().expect("a PostgreSQL database");
    gocua_e2e::off_runtime(|| {
        let mut admin = db.cluster().admin_client();
        // one statement each: DROP DATABASE may not run inside a transaction block
        admin.batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", db.name())).expect("drop the database");
        admin.batch_execute(&format!("CREATE DATABASE {}", db.name())).expect("create it again");
    });
    run_program(
        "pg_restore",
        &[
            "--exit-on-error".as_ref(),
            "--single-transaction".as_ref(),
            "--no-owner".as_ref(),
            "-d".as_ref(),
            server.database().as_ref(),
            dump.as_os_str(),
        ],
    );
    let said = server.admin(&["new-epoch"]);
    assert!(said.contains("replaced by"), "{said}");
}

// --- the stories --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_gets_back_from_the_phones_every_event_it_lost() {
    let mut server = TestServer::start().await;
    server.add_places();
    let a = Phone::enroll(&server, "Cán bộ Thử Một", 1).await;
    let b = Phone::enroll(&server, "Cán bộ Thử Hai", 2).await;
    a.record(3);
    b.record(3);
    sync_until_quiet(&[&a, &b]).await;
    let epoch_before = epoch(&server);

    // backed up while the server runs; the live database keeps its epoch
    let copy = back_up(&server);
    assert_eq!(epoch(&server), epoch_before);
    let kept = server.event_count("applied");
    a.record(2);
    b.record(2);
    sync_until_quiet(&[&a, &b]).await;
    let lost = server.event_count("applied") - kept;
    assert!(lost > 0);

    restore(&mut server, &copy).await;
    assert_eq!(server.event_count("applied"), kept, "the restore lost what came after the backup");
    assert_ne!(epoch(&server), epoch_before, "a restored database is another database to the phones");

    let reports = sync_until_quiet(&[&a, &b]).await;
    for (phone, report) in [&a, &b].iter().zip(&reports) {
        assert_eq!(report.resets, 1, "{}: one reset: {report:?}", phone.name);
    }
    let applied: u64 = reports.iter().map(|r| r.applied).sum();
    let duplicates: u64 = reports.iter().map(|r| r.duplicates).sum();
    assert_eq!(applied as i64, lost, "what the restore lost came back from the phones");
    assert_eq!(duplicates as i64, kept, "and what it kept was answered duplicate");
    assert_nothing_lost(&server, &[&a, &b]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_loses_nothing_when_another_phone_pushes_before_the_old_ones_sync() {
    let mut server = TestServer::start().await;
    server.add_places();
    let a = Phone::enroll(&server, "Cán bộ Thử Một", 11).await;
    let b = Phone::enroll(&server, "Cán bộ Thử Hai", 12).await;
    let c = Phone::enroll(&server, "Cán bộ Thử Ba", 13).await;
    for phone in [&a, &b, &c] {
        phone.record(2);
    }
    sync_until_quiet(&[&a, &b, &c]).await;

    let copy = back_up(&server);
    let kept = server.event_count("applied");
    // a and b go on working and syncing; c is out of signal
    a.record(3);
    b.record(3);
    sync_until_quiet(&[&a, &b]).await;
    let lost = server.event_count("applied") - kept;

    restore(&mut server, &copy).await;
    // c comes back first with a long day's work: the restored order grows past where a's and b's
    // cursors stand, so only the new epoch tells them the database is not the one they knew
    let c_new = c.record(lost as usize / 5 + 2);
    let first = c.sync().await;
    assert_eq!(first.resets, 1, "c's own pull found the new epoch");
    let end = last_server_seq(&server);
    assert!(end >= a.cursor().max(b.cursor()), "the order ({end}) reached the old phones' cursors");

    let mut reports = sync_until_quiet(&[&a, &b, &c]).await;
    reports[2].applied += first.applied;
    reports[2].duplicates += first.duplicates;
    reports[2].resets += first.resets;
    for (phone, report) in [&a, &b, &c].iter().zip(&reports) {
        assert_eq!(report.resets, 1, "{}: one reset: {report:?}", phone.name);
    }
    let applied: u64 = reports.iter().map(|r| r.applied).sum();
    let duplicates: u64 = reports.iter().map(|r| r.duplicates).sum();
    assert_eq!(applied as i64, lost + c_new as i64, "the lost events came back, and c's new ones");
    // c sent its new events twice: once before its reset, then again with all it holds
    assert_eq!(duplicates as i64, kept + c_new as i64, "everything else was answered duplicate");
    assert_nothing_lost(&server, &[&a, &b, &c]);
}
