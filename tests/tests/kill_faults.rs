//! Crash faults: the real server process and real phone processes (`gocua-fault-client`) are
//! SIGKILLed at random points while they record and sync, round after round. Afterwards every
//! device and the server must agree exactly: the same projection, every event on the server
//! exactly once, nothing left in an outbox, nothing rejected.
//!
//! `GOCUA_FAULT_ROUNDS` (default 100) and `GOCUA_FAULT_SEED` (default: from the clock; printed)
//! replay a run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use gocua_core::event::Payload;
use gocua_core::fixtures::Rng;
use gocua_core::store::DeviceStore;
use gocua_e2e::{TestServer, enrolled_device};
use uuid::Uuid;

const CLIENT: &str = env!("CARGO_BIN_EXE_gocua-fault-client");

/// The longest a client may take to finish a round (it retries while the server is down).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// How far a client process got, from the lines it printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Spawned, nothing printed yet (starting up, opening the store).
    Spawned,
    /// Opened its store; recording.
    Started,
    /// Recorded its events; syncing.
    Recorded,
    /// At least one push answer applied this run; still syncing.
    Acked,
    /// Finished: the outbox is empty.
    Synced,
}

impl Stage {
    fn mid_sync(self) -> bool {
        matches!(self, Stage::Recorded | Stage::Acked)
    }
}

/// One `gocua-fault-client` process, its output read on a thread.
#[derive(Debug)]
struct ClientProcess {
    child: Child,
    lines: Receiver<String>,
    stage: Stage,
    spawned_at: Instant,
    recorded_at: Option<Instant>,
    synced_at: Option<Instant>,
    exit: Option<ExitStatus>,
    output: Vec<String>,
}

impl ClientProcess {
    fn spawn(db: &Path, events: u64, seed: u64, batch: u64, known_visits: u64) -> ClientProcess {
        let mut child = Command::new(CLIENT)
            .arg("--db")
            .arg(db)
            .args(["--events", &events.to_string(), "--seed", &seed.to_string()])
            .args(["--batch", &batch.to_string(), "--known-visits", &known_visits.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn gocua-fault-client");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ClientProcess {
            child,
            lines,
            stage: Stage::Spawned,
            spawned_at: Instant::now(),
            recorded_at: None,
            synced_at: None,
            exit: None,
            output: Vec::new(),
        }
    }

    fn note(&mut self, line: String) {
        let stage = match line.split_whitespace().next() {
            Some("started") => Stage::Started,
            Some("recorded") => {
                self.recorded_at.get_or_insert_with(Instant::now);
                Stage::Recorded
            }
            Some("acked") if !line.starts_with("acked 0/") => Stage::Acked,
            Some("synced") => {
                self.synced_at.get_or_insert_with(Instant::now);
                Stage::Synced
            }
            _ => Stage::Spawned,
        };
        self.stage = self.stage.max(stage);
        self.output.push(line);
    }

    /// Reads what was printed so far and notes whether the process ended.
    fn poll(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.note(line);
        }
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("try_wait");
            if self.exit.is_some() {
                self.drain();
            }
        }
    }

    /// Everything the ended process printed (the reader thread stops at end of file).
    fn drain(&mut self) {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            self.note(line);
        }
    }

    fn alive(&self) -> bool {
        self.exit.is_none()
    }

    /// SIGKILL, then how far the process had got.
    fn kill(&mut self) -> Stage {
        self.child.kill().expect("kill client");
        self.exit = Some(self.child.wait().expect("wait client"));
        self.drain();
        self.stage
    }

    /// Waits for the process to end by itself.
    async fn finish(&mut self) -> ExitStatus {
        while self.alive() {
            assert!(self.spawned_at.elapsed() < CLIENT_TIMEOUT, "the client never finished: {:?}", self.output);
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.poll();
        }
        self.exit.expect("exited")
    }

    /// Asserts that the process ended by itself, successfully, with an empty outbox; returns
    /// how many of its pushed events the server already had (committed before a kill).
    fn assert_synced(&self) -> u64 {
        let status = self.exit.expect("exited");
        assert!(status.success(), "the client failed ({status}): {:?}", self.output);
        let last = self.output.last().map(String::as_str).unwrap_or_default();
        assert!(last.starts_with("synced ") && last.ends_with(" unsent=0"), "unexpected last line: {last:?}");
        assert!(last.contains(" rejected=0 "), "the server rejected events: {last:?}");
        assert!(last.contains(" resets=0 "), "a restart of the same database asked for a re-download: {last:?}");
        let duplicates = last.split_whitespace().find_map(|f| f.strip_prefix("duplicates="));
        duplicates.and_then(|d| d.parse().ok()).unwrap_or_else(|| panic!("no duplicate count: {last:?}"))
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// When something happens in a round: some time after the client was spawned, or after it
/// printed that it recorded its events (so, during sync).
#[derive(Debug, Clone, Copy)]
enum Anchor {
    Spawn,
    Recorded,
}

#[derive(Debug, Clone, Copy)]
struct At {
    anchor: Anchor,
    delay: Duration,
}

impl At {
    /// A random instant: `spawn_share` percent of the time while the client records, the rest
    /// while it syncs, spread a little past how long that usually takes.
    fn random(rng: &mut Rng, spawn_share: u64, timing: &Timing) -> At {
        let (anchor, typical) = if rng.below(100) < spawn_share {
            (Anchor::Spawn, timing.record_ms)
        } else {
            (Anchor::Recorded, timing.sync_ms)
        };
        At { anchor, delay: Duration::from_millis(rng.below((typical * 1.2) as u64 + 1)) }
    }

    /// The instant, once its anchor has happened.
    fn instant(self, client: &ClientProcess) -> Option<Instant> {
        let base = match self.anchor {
            Anchor::Spawn => Some(client.spawned_at),
            Anchor::Recorded => client.recorded_at,
        };
        base.map(|b| b + self.delay)
    }
}

/// How long a client usually takes to record and to sync (a moving average over the clients
/// that finished), so kills keep landing inside those phases on a fast or a loaded machine.
#[derive(Debug)]
struct Timing {
    record_ms: f64,
    sync_ms: f64,
}

impl Timing {
    fn observe(&mut self, record: Duration, sync: Duration) {
        self.record_ms = 0.8 * self.record_ms + 0.2 * record.as_secs_f64() * 1e3;
        self.sync_ms = 0.8 * self.sync_ms + 0.2 * sync.as_secs_f64() * 1e3;
    }
}

/// What landed where, over all rounds.
#[derive(Debug, Default)]
struct Tally {
    client_runs: u64,
    client_finished: u64,
    client_kills: u64,
    client_kills_mid_record: u64,
    client_kills_mid_sync: u64,
    client_kills_between_pushes: u64,
    client_kills_too_late: u64,
    client_kills_missed: u64,
    /// Events the server had committed but a device had not marked acknowledged, re-sent and
    /// answered `duplicate` (as reported by the clients that finished).
    duplicates: u64,
    record_time: Duration,
    sync_time: Duration,
    server_kills: u64,
    server_kills_mid_sync: u64,
    server_kills_mid_record: u64,
    server_kills_idle: u64,
    server_restarts: u64,
    rounds_killed_mid_sync: u64,
}

/// The server, whether it is up, and when it is due back.
#[derive(Debug)]
struct Server {
    server: TestServer,
    down: bool,
    restart_at: Option<Instant>,
}

impl Server {
    fn kill(&mut self, tally: &mut Tally) {
        self.server.stop();
        self.down = true;
        self.restart_at = None;
        tally.server_kills += 1;
    }

    async fn restart(&mut self, tally: &mut Tally) {
        self.server.start_again().await;
        self.down = false;
        self.restart_at = None;
        tally.server_restarts += 1;
    }
}

/// One device's plan for a round.
#[derive(Debug)]
struct DevicePlan {
    events: u64,
    seed: u64,
    kill_at: Option<At>,
}

/// Knobs of a run.
#[derive(Debug, Clone, Copy)]
struct Config {
    rounds: u64,
    /// Events a client records per round: `min_events..min_events + spread`.
    min_events: u64,
    spread: u64,
    /// The client's largest push (and pull page) per request.
    batch: u64,
    /// Visits to already known residents (own or pulled) per round.
    known_visits: u64,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name} is not a number: {v}")))
}

fn seed() -> u64 {
    env_u64("GOCUA_FAULT_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as u64
    })
}

/// Runs `config.rounds` rounds of all `devices` recording and syncing at once, with clients and
/// the server SIGKILLed at random points. Leaves the server up.
async fn run_rounds(server: &mut Server, devices: &[PathBuf], config: Config, rng: &mut Rng) -> Tally {
    let mut tally = Tally::default();
    let mut timing = Timing { record_ms: 120.0, sync_ms: 200.0 };
    for round in 0..config.rounds {
        // one round in three kills the server, mostly while the clients sync, and brings it back
        // after a moment
        let mut server_kill = (!server.down && rng.below(3) == 0)
            .then(|| (At::random(rng, 15, &timing), Duration::from_millis(rng.below(300))));
        let plans: Vec<DevicePlan> = devices
            .iter()
            .map(|_| DevicePlan {
                events: config.min_events + rng.below(config.spread),
                seed: rng.next_u64(),
                kill_at: match server_kill {
                    // four rounds in five kill the client, mostly during sync
                    None => (rng.below(5) > 0).then(|| At::random(rng, 20, &timing)),
                    // with the server killed too, let most clients live to see it come back
                    Some((at, downtime)) => (rng.below(3) == 0).then(|| At {
                        anchor: at.anchor,
                        delay: at.delay + downtime + Duration::from_millis(rng.below(timing.sync_ms as u64 + 1)),
                    }),
                },
            })
            .collect();
        let mut clients: Vec<ClientProcess> = devices
            .iter()
            .zip(&plans)
            .map(|(db, plan)| ClientProcess::spawn(db, plan.events, plan.seed, config.batch, config.known_visits))
            .collect();
        tally.client_runs += clients.len() as u64;
        if server.down {
            // down since an earlier round: the clients find it unreachable, then it comes back
            server.restart_at = Some(Instant::now() + Duration::from_millis(rng.below(300)));
        }
        let mut killed_mid_sync = false;
        let mut killed: Vec<bool> = vec![false; clients.len()];
        let mut missed: Vec<bool> = vec![false; clients.len()];
        loop {
            for client in &mut clients {
                client.poll();
            }
            let now = Instant::now();
            if server.down && server.restart_at.is_some_and(|t| now >= t) {
                server.restart(&mut tally).await;
            }
            if let Some((at, downtime)) = server_kill
                && at.instant(&clients[0]).is_some_and(|t| now >= t)
            {
                server_kill = None;
                let live: Vec<Stage> = clients.iter().filter(|c| c.alive()).map(|c| c.stage).collect();
                if live.iter().any(|s| s.mid_sync()) {
                    tally.server_kills_mid_sync += 1;
                    killed_mid_sync = true;
                } else if live.iter().any(|s| *s < Stage::Recorded) {
                    tally.server_kills_mid_record += 1;
                } else {
                    tally.server_kills_idle += 1;
                }
                server.kill(&mut tally);
                server.restart_at = Some(Instant::now() + downtime);
            }
            for (i, (client, plan)) in clients.iter_mut().zip(&plans).enumerate() {
                if !client.alive() {
                    if plan.kill_at.is_some() && !killed[i] && !missed[i] {
                        missed[i] = true;
                        tally.client_kills_missed += 1;
                    }
                    continue;
                }
                if let Some(at) = plan.kill_at
                    && at.instant(client).is_some_and(|t| now >= t)
                {
                    killed[i] = true;
                    tally.client_kills += 1;
                    match client.kill() {
                        Stage::Spawned | Stage::Started => tally.client_kills_mid_record += 1,
                        stage @ (Stage::Recorded | Stage::Acked) => {
                            tally.client_kills_mid_sync += 1;
                            killed_mid_sync = true;
                            if stage == Stage::Acked {
                                tally.client_kills_between_pushes += 1;
                            }
                        }
                        Stage::Synced => tally.client_kills_too_late += 1,
                    }
                }
            }
            if clients.iter().all(|c| !c.alive()) {
                break;
            }
            if let Some(client) = clients.iter().find(|c| c.spawned_at.elapsed() > CLIENT_TIMEOUT) {
                panic!("round {round}: a client never finished: {:?}", client.output);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for (client, killed) in clients.iter().zip(&killed) {
            if !killed {
                tally.duplicates += client.assert_synced();
                tally.client_finished += 1;
                if let (Some(recorded), Some(synced)) = (client.recorded_at, client.synced_at) {
                    tally.record_time += recorded - client.spawned_at;
                    tally.sync_time += synced - recorded;
                    timing.observe(recorded - client.spawned_at, synced - recorded);
                }
            }
        }
        if killed_mid_sync {
            tally.rounds_killed_mid_sync += 1;
        }
        if server_kill.is_some() {
            // the clients were gone before the server's turn came: kill it idle, and leave it
            // down into the next round
            tally.server_kills_idle += 1;
            server.kill(&mut tally);
        } else if server.down && rng.below(2) == 0 {
            server.restart(&mut tally).await;
        }
        // whatever was killed, the server never holds an event the device does not
        if !server.down {
            let on_server = server.server.event_count("applied") + server.server.event_count("rejected");
            let on_devices: usize = devices.iter().map(|db| local_events(db).len()).sum();
            assert!(
                on_server as usize <= on_devices,
                "round {round}: {on_server} on the server, {on_devices} recorded"
            );
        }
    }
    if server.down {
        server.restart(&mut tally).await;
    }
    tally
}

fn local_events(db: &Path) -> Vec<(u64, Uuid)> {
    let store = DeviceStore::open(db).expect("open device store");
    store.local_events().expect("local events").into_iter().map(|e| (e.seq, e.id)).collect()
}

/// `(seq, id)` of one device's events on the server, by status.
fn server_events(server: &TestServer, device_id: Uuid) -> BTreeMap<String, Vec<(u64, Uuid)>> {
    let rows = server.sql_text_rows(&format!(
        "SELECT status, CAST(seq AS TEXT), CAST(id AS TEXT) FROM events WHERE CAST(device_id AS TEXT) = '{device_id}'"
    ));
    let mut out: BTreeMap<String, Vec<(u64, Uuid)>> = BTreeMap::new();
    for row in rows {
        let (seq, id) = (row[1].parse().expect("seq"), Uuid::parse_str(&row[2]).expect("uuid"));
        out.entry(row[0].clone()).or_default().push((seq, id));
    }
    // sorted here: PostgreSQL's `ORDER BY seq` names the text column of the same name
    out.values_mut().for_each(|events| events.sort());
    out
}

fn server_last_seq(server: &TestServer, device_id: Uuid) -> u64 {
    let device = server.with_store(|store| {
        gocua_server_store::run_read(store, |tx| tx.device(gocua_server_store::DeviceKey::Id(device_id)))
            .expect("device")
    });
    device.expect("a known device").last_seq
}

/// Enrolls a device store file for a new commune police officer of Xã Mường Tè and closes it.
/// Police see full CCCD numbers, so a converged phone holds exactly the server's projection (a
/// volunteer's holds the other phone's CCCDs masked: `tests/security.rs`).
async fn enroll(server: &TestServer, file: &str, name: &str) -> PathBuf {
    let code = server.code_for(name, "commune-police", "03445");
    let (store, _) = enrolled_device(server, file, &code).await;
    drop(store);
    server.temp_path(file)
}

/// Runs a client to completion with nothing new to record.
async fn final_sync(db: &Path, tally: &mut Tally) {
    let mut client = ClientProcess::spawn(db, 0, 0, 100, 0);
    client.finish().await;
    tally.duplicates += client.assert_synced();
}

/// The device and the server agree exactly on this device's events and on the projection.
fn assert_converged(server: &TestServer, db: &Path) -> usize {
    let store = DeviceStore::open(db).expect("open device store");
    let device_id = store.enrollment().expect("enrollment").expect("enrolled").device_id;
    let mine: Vec<(u64, Uuid)> = store.local_events().expect("local events").iter().map(|e| (e.seq, e.id)).collect();
    let seqs: Vec<u64> = mine.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=mine.len() as u64).collect::<Vec<_>>(), "the device's sequence is gap-free");
    assert_eq!(store.unsent_count().expect("unsent"), 0, "the outbox is empty");
    let status = store.sync_status().expect("status");
    assert_eq!(status.rejected, 0, "no event of the device was rejected");

    let on_server = server_events(server, device_id);
    assert_eq!(on_server.keys().collect::<Vec<_>>(), ["applied"], "only applied events on the server");
    assert_eq!(on_server["applied"], mine, "the server holds exactly the device's events, each once");
    assert_eq!(server_last_seq(server, device_id), mine.len() as u64);
    assert_eq!(
        store.projection().expect("device projection"),
        server.projection(),
        "device and server derive the same state"
    );
    mine.len()
}

/// Visits recorded on `visitor` to residents that `adder` added.
fn cross_visits(visitor: &Path, adder: &Path) -> usize {
    let events = |db: &Path| DeviceStore::open(db).expect("open device store").local_events().expect("events");
    let added: BTreeSet<Uuid> = events(adder)
        .into_iter()
        .filter_map(|e| match e.payload {
            Payload::ResidentAdded(p) => Some(p.resident_id),
            _ => None,
        })
        .collect();
    events(visitor)
        .into_iter()
        .filter(|e| matches!(&e.payload, Payload::VisitRecorded(p) if added.contains(&p.resident_id)))
        .count()
}

fn print_tally(what: &str, seed: u64, config: Config, tally: &Tally, events: i64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    let finished = tally.client_finished.max(1) as f64;
    eprintln!(
        "{what}: seed {seed}, {} rounds, {} client runs ({} finished), {events} events on the server, {seconds:.1} s",
        config.rounds, tally.client_runs, tally.client_finished
    );
    eprintln!(
        "  client kills: {} ({} mid-record, {} mid-sync of which {} after a push was acknowledged, {} after it \
         finished; {} more came too late)",
        tally.client_kills,
        tally.client_kills_mid_record,
        tally.client_kills_mid_sync,
        tally.client_kills_between_pushes,
        tally.client_kills_too_late,
        tally.client_kills_missed
    );
    eprintln!(
        "  a finished client took {:.0} ms to record and {:.0} ms to sync on average",
        tally.record_time.as_secs_f64() * 1e3 / finished,
        tally.sync_time.as_secs_f64() * 1e3 / finished
    );
    eprintln!(
        "  server kills: {} ({} mid-sync, {} mid-record, {} idle), {} restarts",
        tally.server_kills,
        tally.server_kills_mid_sync,
        tally.server_kills_mid_record,
        tally.server_kills_idle,
        tally.server_restarts
    );
    eprintln!(
        "  rounds killed mid-sync: {}; events re-sent after a kill and answered duplicate: {}",
        tally.rounds_killed_mid_sync, tally.duplicates
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_phone_and_the_server_killed_at_random_points_converge_exactly() {
    let started = Instant::now();
    let seed = seed();
    eprintln!("kill_faults one phone: GOCUA_FAULT_SEED={seed}");
    let config = Config {
        rounds: env_u64("GOCUA_FAULT_ROUNDS").unwrap_or(100),
        min_events: 20,
        spread: 40,
        batch: 2,
        known_visits: 0,
    };
    let mut rng = Rng::new(seed);
    let test_server = TestServer::start().await;
    test_server.add_places();
    let phone = enroll(&test_server, "phone.sqlite", "Lò Thị Lan").await;
    let mut server = Server { server: test_server, down: false, restart_at: None };

    let mut tally = run_rounds(&mut server, std::slice::from_ref(&phone), config, &mut rng).await;
    final_sync(&phone, &mut tally).await;
    let events = server.server.event_count("applied");
    print_tally("one phone", seed, config, &tally, events, started);

    assert_eq!(server.server.event_count("rejected"), 0, "no event rejected");
    assert_eq!(assert_converged(&server.server, &phone) as i64, events);
    assert!(events > 0);
    // the kills really landed while the phone was syncing, on both sides
    let rounds = config.rounds;
    assert!(
        tally.rounds_killed_mid_sync >= rounds / 5,
        "only {} of {rounds} rounds were killed mid-sync",
        tally.rounds_killed_mid_sync
    );
    assert!(tally.client_kills_mid_sync >= rounds / 5, "only {} client kills mid-sync", tally.client_kills_mid_sync);
    assert!(tally.server_kills_mid_sync >= rounds / 20, "only {} server kills mid-sync", tally.server_kills_mid_sync);
    // and some landed between the server's commit and the device's: those events came back
    // as duplicates, and were applied once
    if rounds >= 50 {
        assert!(tally.duplicates > 0, "no kill landed between a server's commit and the device's");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_of_one_commune_killed_at_random_points_converge_with_the_server() {
    let started = Instant::now();
    let seed = seed();
    eprintln!("kill_faults two phones: GOCUA_FAULT_SEED={seed}");
    let config = Config {
        rounds: (env_u64("GOCUA_FAULT_ROUNDS").unwrap_or(100) / 2).max(1),
        min_events: 15,
        spread: 30,
        batch: 2,
        // each phone also visits people the other one added (pulled from the server)
        known_visits: 4,
    };
    // not the one-phone test's schedule when both replay the same seed
    let mut rng = Rng::new(seed ^ 0x5EED_0002);
    let test_server = TestServer::start().await;
    test_server.add_places();
    let phones = [
        enroll(&test_server, "phone-a.sqlite", "Lò Thị Lan").await,
        enroll(&test_server, "phone-b.sqlite", "Hà Văn Chiến").await,
    ];
    let mut server = Server { server: test_server, down: false, restart_at: None };

    let mut tally = run_rounds(&mut server, &phones, config, &mut rng).await;
    // a, then b (which pulls all of a), then a again (which pulls the rest of b)
    for phone in [&phones[0], &phones[1], &phones[0]] {
        final_sync(phone, &mut tally).await;
    }
    let events = server.server.event_count("applied");
    print_tally("two phones", seed, config, &tally, events, started);

    assert_eq!(server.server.event_count("rejected"), 0, "no event rejected");
    let recorded: usize = phones.iter().map(|phone| assert_converged(&server.server, phone)).sum();
    assert_eq!(recorded as i64, events, "the server holds both phones' events and nothing else");
    let visits_to_the_other = cross_visits(&phones[0], &phones[1]) + cross_visits(&phones[1], &phones[0]);
    eprintln!("  visits to people the other phone added: {visits_to_the_other}");
    if config.rounds >= 10 {
        assert!(visits_to_the_other > 0, "the phones never visited each other's residents");
    }
    let rounds = config.rounds;
    assert!(
        tally.rounds_killed_mid_sync >= rounds / 5,
        "only {} of {rounds} rounds were killed mid-sync",
        tally.rounds_killed_mid_sync
    );
}
