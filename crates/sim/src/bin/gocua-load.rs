//! `gocua-load`: a load generator for the server's push ingest, and a profile of a new phone's
//! first pull.
//!
//! `ingest` enrolls phones (volunteers made through the admin path, then `POST /enroll` as the
//! app does), makes each phone's visits offline (made-up households of four residents, one visit
//! each) and encodes, before any timing, every push body exactly as the app sends it: the
//! compact schema-3 JSON of a `PushRequest` of at most `MAX_PUSH_EVENTS` events, `dcz` with the
//! push dictionary (`gocua_core`'s own encoders, as `gocua_http_client` calls them). Then it
//! fires the bodies over `--devices` concurrent kept-alive connections (each connection plays
//! its phones one after another, each phone's pushes in order) and measures events applied per
//! second and push latency, checking that every answer is `200` and counting the events it
//! says were applied. `--mode naive` sends the same records as a form tool would: one plain,
//! uncompressed JSON push per resident visit.
//!
//! `pull-profile` enrolls a fresh volunteer of the commune and downloads its scope page by page
//! as the app asks for it, timing the server and the phone's store separately, and says where
//! the bytes go: JSON per event, what the server's zstd makes of it, and what other encodings of
//! the same pages would weigh (estimates; the protocol is not changed here).
//!
//! The last line of its output is one JSON object.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use clap::{Parser, Subcommand, ValueEnum};
use gocua_core::event::Event;
use gocua_core::places::PlaceLevel;
use gocua_core::store::DeviceStore;
use gocua_core::sync::dcz;
use gocua_core::sync::protocol::{
    APP_VERSION, EnrollResponse, EventStatus, MAX_PULL_LIMIT, MAX_PUSH_BYTES, MAX_PUSH_EVENTS, PullResponse,
    PushRequest, PushResponse, Role, SCHEMA_VERSION,
};
use gocua_core::sync::wire::PullBody;
use gocua_http_client::HttpTransport;
use gocua_sim::{FieldClock, OfflinePhone, made_up_households};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(name = "gocua-load", version, about = "Tạo tải cho máy chủ / load the server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Push pre-encoded batches from many phones at once and measure the server's ingest.
    Ingest(IngestArgs),
    /// A new volunteer phone downloads its commune: pages, bytes, server and phone time.
    PullProfile(PullArgs),
}

/// Where the phones enroll.
#[derive(Debug, clap::Args)]
struct Target {
    /// The server's base URL (`http://127.0.0.1:PORT`).
    #[arg(long)]
    server: String,
    /// The server's database (a SQLite file or a postgres:// URL): volunteers and their one-time
    /// codes are made through the admin path, as `gocua-sim --admin-database` does.
    #[arg(long)]
    admin_database: String,
    /// The commune the volunteers work in; it needs hamlets.
    #[arg(long, default_value = "03445")]
    commune: String,
}

#[derive(Debug, clap::Args)]
struct IngestArgs {
    #[command(flatten)]
    target: Target,
    /// Concurrent connections, each one phone syncing at a time.
    #[arg(long, default_value_t = 10)]
    devices: usize,
    /// Visits in the whole run (households of four residents, one visit each).
    #[arg(long, default_value_t = 40_000)]
    visits: usize,
    /// Visits a phone records at most; the run has enough phones for `--visits`, at least
    /// `--devices`, a multiple of it. Default: 2,000 (`gocua`), 200 (`naive`: the server gives a
    /// phone a burst of 240 requests, then 4 a second).
    #[arg(long)]
    visits_per_phone: Option<usize>,
    /// What the phones send.
    #[arg(long, value_enum, default_value_t = Mode::Gocua)]
    mode: Mode,
    /// Seed of the made-up data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also report the CPU time of these processes (and of their children) during the timed
    /// part: NAME=PID, e.g. `server=1234`, `postgres=5678` (the postmaster: its backends are its
    /// children).
    #[arg(long, value_parser = name_pid)]
    cpu_of: Vec<(String, u32)>,
}

#[derive(Debug, clap::Args)]
struct PullArgs {
    #[command(flatten)]
    target: Target,
    /// Page size asked for (the app asks for the largest).
    #[arg(long, default_value_t = MAX_PULL_LIMIT)]
    limit: u32,
}

/// What the phones of `ingest` send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    /// As the app: batches of up to 100 events, compact JSON, `dcz`, answers in zstd.
    Gocua,
    /// One plain JSON push per resident visit, uncompressed both ways.
    Naive,
}

fn name_pid(s: &str) -> Result<(String, u32), String> {
    let (name, pid) = s.split_once('=').ok_or_else(|| format!("NAME=PID expected, got {s:?}"))?;
    Ok((name.to_owned(), pid.parse().map_err(|e| format!("{pid:?}: {e}"))?))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Ingest(args) => ingest(&args),
        Command::PullProfile(args) => pull_profile(&args),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

// --- enrollment ----------------------------------------------------------------------------------

/// One enrolled phone: what its pushes need.
#[derive(Debug, Clone)]
struct Enrolled {
    token: String,
    device_id: Uuid,
    user_id: Uuid,
    hamlets: Vec<String>,
    response: EnrollResponse,
}

/// Makes `n` volunteers of the commune with a one-time code each (admin path, on this thread:
/// the PostgreSQL driver blocks and must be dropped outside async code), then enrolls a phone
/// with each code over HTTP, as the app does.
fn enroll(rt: &tokio::runtime::Runtime, target: &Target, n: usize, name: &str) -> Result<Vec<Enrolled>> {
    let codes = {
        let store = gocua_server::db::open(&target.admin_database, None).map_err(anyhow::Error::msg)?;
        let store = &*store;
        let hamlets = gocua_server_store::run_read(store, |tx| tx.children(&target.commune))?;
        if hamlets.is_empty() {
            bail!("xã {0} chưa có thôn/bản / commune {0} has no hamlets: add some first", target.commune);
        }
        let scope = gocua_core::scope::Scope::single(target.commune.clone());
        (0..n)
            .map(|i| {
                let user = gocua_server::admin::add_user(store, &format!("{name} {i}"), Role::Volunteer, &scope)?;
                Ok(gocua_server::admin::create_code(store, user, 24)?)
            })
            .collect::<Result<Vec<String>>>()?
    };
    let commune = target.commune.clone();
    rt.block_on(async {
        let transport = HttpTransport::new(&target.server)?;
        let mut out = Vec::with_capacity(n);
        for (i, code) in codes.iter().enumerate() {
            let response = transport
                .enroll(code, &format!("{name} {i}"))
                .await
                .with_context(|| format!("không đăng ký được máy {i} / cannot enroll phone {i}"))?;
            let hamlets = response
                .places
                .iter()
                .filter(|p| p.level == PlaceLevel::Hamlet && p.parent_code.as_deref() == Some(commune.as_str()))
                .map(|p| p.code.clone())
                .collect::<Vec<_>>();
            if hamlets.is_empty() {
                bail!("the enrolled scope has no hamlets");
            }
            out.push(Enrolled {
                token: response.token.clone(),
                device_id: response.device_id,
                user_id: response.user.id,
                hamlets,
                response,
            });
        }
        Ok(out)
    })
}

// --- ingest ------------------------------------------------------------------------------------

/// One request body, ready to send, and what it carries.
#[derive(Debug, Clone)]
struct Body {
    bytes: Bytes,
    events: u64,
    /// The last sequence number in it: the answer's `last_seq`.
    last_seq: u64,
}

/// A phone's pushes, in order.
#[derive(Debug, Clone)]
struct Phone {
    token: String,
    bodies: Vec<Body>,
}

/// The app's batches of a phone's outbox, as `DeviceStore::outbox_batch(MAX_PUSH_EVENTS,
/// MAX_PUSH_BYTES)` cuts them and the engine sends them.
fn app_batches(events: Vec<Event>) -> Result<Vec<Vec<Event>>> {
    let mut batches: Vec<Vec<Event>> = Vec::new();
    let (mut batch, mut bytes) = (Vec::new(), 0);
    for event in events {
        let size = serde_json::to_vec(&event)?.len();
        if batch.len() == MAX_PUSH_EVENTS || (!batch.is_empty() && bytes + size > MAX_PUSH_BYTES) {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push(event);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    Ok(batches)
}

/// A push body as the app's transport makes it (`gocua_http_client`'s `push`): the request's
/// JSON (the compact schema-3 form), then `dcz`; or, naive, the JSON as it is.
fn encode(events: Vec<Event>, mode: Mode) -> Result<Body> {
    let last_seq = events.last().map_or(0, |e| e.seq);
    let count = events.len() as u64;
    let request =
        PushRequest { schema_version: SCHEMA_VERSION, app_version: APP_VERSION.to_owned(), events, queued: None };
    let json = serde_json::to_vec(&request)?;
    let bytes = match mode {
        Mode::Gocua => dcz::encode(&json)?,
        Mode::Naive => json,
    };
    Ok(Body { bytes: Bytes::from(bytes), events: count, last_seq })
}

/// Every push of one phone: its visits recorded offline, cut into the mode's requests.
fn phone_bodies(phone: &Enrolled, index: usize, visits: usize, args: &IngestArgs) -> Result<Vec<Body>> {
    let seed = args.seed.wrapping_add(index as u64 * 7919);
    let households = made_up_households(seed, visits, &phone.hamlets)?;
    let clock = FieldClock::new(args.seed.wrapping_add(index as u64), households.len());
    let mut recorder = OfflinePhone::new(phone.device_id, phone.user_id, clock);
    let visit_by_visit = args.mode == Mode::Naive;
    let mut groups = Vec::new();
    for h in &households {
        groups.extend(recorder.household(h, visit_by_visit)?);
    }
    let requests = match args.mode {
        Mode::Gocua => app_batches(groups.into_iter().flatten().collect())?,
        Mode::Naive => groups,
    };
    requests.into_iter().map(|events| encode(events, args.mode)).collect()
}

/// What one connection saw.
#[derive(Debug, Default)]
struct ConnectionReport {
    latencies: Vec<Duration>,
    applied: u64,
    duplicates: u64,
    rejected: u64,
    flagged: u64,
    /// Answers that were not `200`, or not what the body asked for: (status, first bytes).
    failures: Vec<String>,
    bytes_up: u64,
    bytes_down: u64,
    finished: Duration,
}

async fn send_all(
    phones: Vec<Phone>,
    url: String,
    mode: Mode,
    start: Arc<tokio::sync::Barrier>,
    t0: Arc<std::sync::OnceLock<Instant>>,
) -> Result<ConnectionReport> {
    // one kept-alive HTTP/1.1 connection per task
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .http1_only()
        .no_proxy()
        .timeout(Duration::from_secs(300))
        .user_agent(format!("gocua/{APP_VERSION}"))
        .build()?;
    let mut report = ConnectionReport::default();
    // open the connection before the clock starts
    client.get(url.replace("/sync/push", "/health")).send().await?.bytes().await?;
    start.wait().await;
    let t0 = *t0.get_or_init(Instant::now);
    for phone in phones {
        for body in phone.bodies {
            let mut request = client
                .post(&url)
                .bearer_auth(&phone.token)
                .header("gocua-schema-version", SCHEMA_VERSION.to_string())
                .header("gocua-app-version", APP_VERSION)
                .header("content-type", "application/json");
            if mode == Mode::Gocua {
                request = request.header("content-encoding", dcz::CONTENT_ENCODING).header("accept-encoding", "zstd");
            }
            report.bytes_up += body.bytes.len() as u64;
            let sent = Instant::now();
            let response = request.body(body.bytes).send().await?;
            let status = response.status();
            let zstd_body = response.headers().get("content-encoding").is_some_and(|v| v.as_bytes() == b"zstd");
            let wire = response.bytes().await?;
            report.latencies.push(sent.elapsed());
            report.bytes_down += wire.len() as u64;
            let json = if zstd_body { zstd::decode_all(wire.as_ref())? } else { wire.to_vec() };
            if status != reqwest::StatusCode::OK {
                report.failures.push(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&json).chars().take(200).collect::<String>()
                ));
                continue;
            }
            let answer: PushResponse = serde_json::from_slice(&json)?;
            let results = answer.all_results();
            for r in &results {
                match r.status {
                    EventStatus::Applied => report.applied += 1,
                    EventStatus::Flagged => {
                        report.applied += 1;
                        report.flagged += 1;
                    }
                    EventStatus::Duplicate => report.duplicates += 1,
                    EventStatus::Rejected => report.rejected += 1,
                }
            }
            if answer.last_seq != body.last_seq || answer.expected_seq.is_some() || results.len() as u64 != body.events
            {
                report.failures.push(format!(
                    "200 but last_seq {} (sent up to {}), expected_seq {:?}, {} results for {} events",
                    answer.last_seq,
                    body.last_seq,
                    answer.expected_seq,
                    results.len(),
                    body.events
                ));
            }
        }
    }
    report.finished = t0.elapsed();
    Ok(report)
}

/// CPU seconds (user + system) of the process `pid` and, with `children`, of its live children.
fn cpu_seconds(pid: u32, children: bool) -> f64 {
    // /proc reports in USER_HZ, which Linux fixes at 100 for user space
    const USER_HZ: f64 = 100.0;
    let mut ticks = 0u64;
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0.0 };
    for entry in dir.flatten() {
        let Some(p) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        // after the command name, which may hold spaces: state ppid … utime(14) stime(15)
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ppid = fields.get(1).and_then(|f| f.parse::<u32>().ok()).unwrap_or(0);
        if p == pid || (children && ppid == pid) {
            ticks += fields.get(11).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
            ticks += fields.get(12).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    ticks as f64 / USER_HZ
}

/// (busy, all) jiffies of every core together, from /proc/stat.
fn machine_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else { return (0, 0) };
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let all: u64 = v.iter().take(8).sum(); // user nice system idle iowait irq softirq steal
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (all - idle, all)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_owned()
}

/// The `p`-th percentile (nearest rank) of sorted values, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1].as_secs_f64() * 1000.0
}

#[derive(Debug, Serialize)]
struct IngestReport {
    mode: Mode,
    devices: usize,
    phones: usize,
    visits: usize,
    events: u64,
    requests: u64,
    /// Events the answers said were applied (flagged ones included).
    events_applied: u64,
    duplicates: u64,
    rejected: u64,
    flagged: u64,
    /// Answers that were not `200` or did not acknowledge their whole body.
    failures: usize,
    seconds: f64,
    events_per_second: f64,
    requests_per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Request body bytes (as sent) and answer body bytes (as received).
    bytes_up: u64,
    bytes_down: u64,
    enroll_seconds: f64,
    prepare_seconds: f64,
    /// CPU seconds of this process during the timed part, and its share of one core.
    loadgen_cpu_seconds: f64,
    loadgen_cores: f64,
    /// CPU seconds of each `--cpu-of` process (and its children), and their share of a core.
    cpu_seconds: BTreeMap<String, f64>,
    cores: BTreeMap<String, f64>,
    /// Cores busy on the whole machine (all processes, other users' included) during it.
    machine_busy_cores: f64,
    machine_cores: usize,
    loadavg_before: String,
    loadavg_after: String,
}

fn ingest(args: &IngestArgs) -> Result<()> {
    if args.devices == 0 || args.visits == 0 {
        bail!("--devices và --visits phải lớn hơn 0 / --devices and --visits must be above 0");
    }
    let rt = runtime()?;
    let per_phone = args.visits_per_phone.unwrap_or(match args.mode {
        Mode::Gocua => 2_000,
        Mode::Naive => 200,
    });
    let phones = args.visits.div_ceil(per_phone).max(args.devices).div_ceil(args.devices) * args.devices;
    let visits_per_phone = args.visits.div_ceil(phones);
    eprintln!(
        "gocua-load: {} phones × {visits_per_phone} visits over {} connections ({:?}); enrolling…",
        phones, args.devices, args.mode
    );
    let started = Instant::now();
    let enrolled = enroll(&rt, &args.target, phones, "Tải")?;
    let enroll_seconds = started.elapsed().as_secs_f64();

    // every body encoded before the clock starts, on every core
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let mut bodies: Vec<Option<Vec<Body>>> = vec![None; phones];
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let enrolled = &enrolled;
                scope.spawn(move || -> Result<Vec<(usize, Vec<Body>)>> {
                    (t..enrolled.len())
                        .step_by(threads)
                        .map(|i| Ok((i, phone_bodies(&enrolled[i], i, visits_per_phone, args)?)))
                        .collect()
                })
            })
            .collect();
        for handle in handles {
            for (i, b) in handle.join().map_err(|_| anyhow::anyhow!("an encoding thread panicked"))?? {
                bodies[i] = Some(b);
            }
        }
        Ok(())
    })?;
    let prepare_seconds = started.elapsed().as_secs_f64();
    let mut connections: Vec<Vec<Phone>> = vec![Vec::new(); args.devices];
    let (mut events, mut requests) = (0u64, 0u64);
    for (i, (phone, bodies)) in enrolled.iter().zip(bodies).enumerate() {
        let bodies = bodies.context("a phone without bodies")?;
        events += bodies.iter().map(|b| b.events).sum::<u64>();
        requests += bodies.len() as u64;
        connections[i % args.devices].push(Phone { token: phone.token.clone(), bodies });
    }
    eprintln!(
        "gocua-load: {events} events in {requests} requests prepared in {prepare_seconds:.1} s (enrolled in \
         {enroll_seconds:.1} s); pushing…"
    );

    let url = format!("{}/api/v1/sync/push", args.target.server.trim_end_matches('/'));
    let me = std::process::id();
    let loadavg_before = loadavg();
    let (reports, seconds, cpu_before, cpu_after, machine) = rt.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(args.devices + 1));
        let t0 = Arc::new(std::sync::OnceLock::new());
        let tasks: Vec<_> = connections
            .into_iter()
            .map(|phones| tokio::spawn(send_all(phones, url.clone(), args.mode, barrier.clone(), t0.clone())))
            .collect();
        let cpu = || -> Vec<f64> {
            std::iter::once(cpu_seconds(me, false))
                .chain(args.cpu_of.iter().map(|(_, p)| cpu_seconds(*p, true)))
                .collect()
        };
        let cpu_before = cpu();
        let machine_before = machine_jiffies();
        let started = Instant::now();
        barrier.wait().await;
        let mut reports = Vec::new();
        for task in tasks {
            reports.push(task.await??);
        }
        let seconds = reports.iter().map(|r| r.finished).max().unwrap_or_default().as_secs_f64();
        let wall = started.elapsed().as_secs_f64();
        let cpu_after = cpu();
        let machine_after = machine_jiffies();
        let busy = (machine_after.0 - machine_before.0) as f64 / 100.0 / wall;
        Ok::<_, anyhow::Error>((reports, seconds, cpu_before, cpu_after, busy))
    })?;
    let wall = seconds.max(1e-9);
    let mut latencies: Vec<Duration> = reports.iter().flat_map(|r| r.latencies.iter().copied()).collect();
    latencies.sort();
    let applied: u64 = reports.iter().map(|r| r.applied).sum();
    let failures: Vec<&String> = reports.iter().flat_map(|r| r.failures.iter()).collect();
    for f in failures.iter().take(5) {
        eprintln!("gocua-load: answer: {f}");
    }
    let cpu_delta: Vec<f64> = cpu_after.iter().zip(&cpu_before).map(|(a, b)| a - b).collect();
    let report = IngestReport {
        mode: args.mode,
        devices: args.devices,
        phones,
        visits: visits_per_phone * phones,
        events,
        requests,
        events_applied: applied,
        duplicates: reports.iter().map(|r| r.duplicates).sum(),
        rejected: reports.iter().map(|r| r.rejected).sum(),
        flagged: reports.iter().map(|r| r.flagged).sum(),
        failures: failures.len(),
        seconds,
        events_per_second: applied as f64 / wall,
        requests_per_second: latencies.len() as f64 / wall,
        p50_ms: percentile_ms(&latencies, 50.0),
        p95_ms: percentile_ms(&latencies, 95.0),
        p99_ms: percentile_ms(&latencies, 99.0),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        bytes_up: reports.iter().map(|r| r.bytes_up).sum(),
        bytes_down: reports.iter().map(|r| r.bytes_down).sum(),
        enroll_seconds,
        prepare_seconds,
        loadgen_cpu_seconds: cpu_delta[0],
        loadgen_cores: cpu_delta[0] / wall,
        cpu_seconds: args.cpu_of.iter().zip(&cpu_delta[1..]).map(|((n, _), c)| (n.clone(), *c)).collect(),
        cores: args.cpu_of.iter().zip(&cpu_delta[1..]).map(|((n, _), c)| (n.clone(), c / wall)).collect(),
        machine_busy_cores: machine,
        machine_cores: std::thread::available_parallelism().map_or(0, usize::from),
        loadavg_before,
        loadavg_after: loadavg(),
    };
    eprintln!(
        "gocua-load: {} events applied in {:.2} s = {:.0} events/s; push p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; \
         load generator {:.2} cores",
        report.events_applied,
        report.seconds,
        report.events_per_second,
        report.p50_ms,
        report.p95_ms,
        report.p99_ms,
        report.loadgen_cores
    );
    println!("{}", serde_json::to_string(&report)?);
    if !failures.is_empty() || applied != events {
        bail!(
            "{} câu trả lời lỗi, {applied}/{events} sự kiện được nhận / {} failed answers, {applied} of {events} \
             events applied",
            failures.len(),
            failures.len()
        );
    }
    Ok(())
}

// --- pull profile ------------------------------------------------------------------------------

/// Where a first download's time and bytes go.
#[derive(Debug, Default, Serialize)]
struct PullReport {
    pages: u64,
    events: u64,
    /// Time of the requests (loopback: the server's work, answer compression included).
    server_seconds: f64,
    /// Time the phone's store took to apply the pages (`DeviceStore::apply_pull_page`).
    apply_seconds: f64,
    /// Answer bodies as served to this app (runs, `dcz` at `dcz::PULL_LEVEL`), and their JSON.
    wire_bytes: u64,
    json_bytes: u64,
    wire_bytes_per_event: f64,
    json_bytes_per_event: f64,
    /// The same pages as an app before schema 5 gets them: every event in full, zstd level 3.
    full_json_bytes: u64,
    full_zstd3_bytes: u64,
    /// The runs' JSON at zstd level 3 (an app that names no dictionary).
    runs_zstd3_bytes: u64,
    /// The runs' JSON as `dcz` at other zstd levels: bytes and the server's compression time.
    dcz_levels: Vec<LevelCost>,
    limit: u32,
    loadavg: String,
}

/// What one zstd level costs for the whole download.
#[derive(Debug, Default, Serialize)]
struct LevelCost {
    level: i32,
    bytes: u64,
    seconds: f64,
}

/// The `dcz` levels a pull profile weighs against each other.
const PROFILE_LEVELS: [i32; 6] = [3, 6, 9, 12, 15, 19];

/// One page, asked for as the app asks (`gocua_http_client::HttpTransport::pull`): the body on
/// the wire and its JSON.
async fn fetch_page(
    client: &reqwest::Client,
    url: &str,
    query: &[(&str, String)],
    token: &str,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let response = client
        .get(url)
        .query(query)
        .bearer_auth(token)
        .header("gocua-schema-version", SCHEMA_VERSION.to_string())
        .header("gocua-app-version", APP_VERSION)
        .header("accept-encoding", "dcz, zstd")
        .header(dcz::AVAILABLE_DICTIONARY, dcz::available_dictionary())
        .send()
        .await?;
    let status = response.status();
    let encoding = response.headers().get("content-encoding").map(|v| v.as_bytes().to_vec());
    let wire = response.bytes().await?.to_vec();
    let json = match encoding.as_deref() {
        Some(b"dcz") => dcz::decode(&wire, 256 << 20)?,
        Some(b"zstd") => zstd::decode_all(&wire[..])?,
        _ => wire.clone(),
    };
    if status != reqwest::StatusCode::OK {
        bail!("pull: {status}: {}", String::from_utf8_lossy(&json));
    }
    Ok((wire, json))
}

fn pull_profile(args: &PullArgs) -> Result<()> {
    let rt = runtime()?;
    let phone = enroll(&rt, &args.target, 1, "Máy mới")?.remove(0);
    let dir = tempfile::tempdir()?;
    let mut store = DeviceStore::open(&dir.path().join("phone.sqlite"))?;
    store.save_enrollment(&args.target.server, &phone.response)?;
    let client = reqwest::Client::builder().http1_only().no_proxy().timeout(Duration::from_secs(300)).build()?;
    let url = format!("{}/api/v1/sync/pull", args.target.server.trim_end_matches('/'));
    let mut report = PullReport { limit: args.limit, loadavg: loadavg(), ..PullReport::default() };
    report.dcz_levels = PROFILE_LEVELS.iter().map(|&level| LevelCost { level, ..LevelCost::default() }).collect();
    let (mut cursor, mut epoch) = (0u64, String::new());
    loop {
        let query = [
            ("cursor", cursor.to_string()),
            ("limit", args.limit.to_string()),
            ("epoch", epoch.clone()),
            ("scope", phone.response.scope.code.clone()),
        ];
        let started = Instant::now();
        let (wire, json) = rt.block_on(fetch_page(&client, &url, &query, &phone.token))?;
        report.server_seconds += started.elapsed().as_secs_f64();
        let page: PullResponse = serde_json::from_slice::<PullBody>(&json)?.into();
        if page.reset.is_some() {
            bail!("a new phone's first pull answered reset");
        }
        report.pages += 1;
        report.events += page.events.len() as u64;
        report.wire_bytes += wire.len() as u64;
        report.json_bytes += json.len() as u64;
        let full = serde_json::to_vec(&page)?;
        report.full_json_bytes += full.len() as u64;
        report.full_zstd3_bytes += zstd::bulk::compress(&full, 3)?.len() as u64;
        report.runs_zstd3_bytes += zstd::bulk::compress(&json, 3)?.len() as u64;
        for cost in &mut report.dcz_levels {
            let timed = Instant::now();
            cost.bytes += dcz::encode_with(&json, dcz::PUSH_DICTIONARY_V1, cost.level)?.len() as u64;
            cost.seconds += timed.elapsed().as_secs_f64();
        }
        let applying = Instant::now();
        store.apply_pull_page(&page)?;
        report.apply_seconds += applying.elapsed().as_secs_f64();
        let more = page.has_more && page.cursor > cursor;
        cursor = page.cursor;
        epoch = page.epoch;
        if !more {
            break;
        }
    }
    let per = |bytes: u64| bytes as f64 / report.events.max(1) as f64;
    report.wire_bytes_per_event = per(report.wire_bytes);
    report.json_bytes_per_event = per(report.json_bytes);
    eprintln!(
        "gocua-load: {} events in {} pages: {} bytes on the wire ({:.1} per event; JSON {:.1} per event), server \
         {:.2} s, phone store {:.2} s",
        report.events,
        report.pages,
        report.wire_bytes,
        report.wire_bytes_per_event,
        report.json_bytes_per_event,
        report.server_seconds,
        report.apply_seconds
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gocua_core::sync::engine::Transport;

    /// The bodies this tool fires are byte for byte what the app's transport sends.
    #[tokio::test]
    async fn a_prepared_body_is_what_the_app_s_transport_sends() {
        // each request's Content-Encoding and body
        type Seen = Arc<std::sync::Mutex<Vec<(Option<String>, Bytes)>>>;
        let seen: Seen = Arc::default();
        let app = {
            let seen = seen.clone();
            axum::Router::new().route(
                "/api/v1/sync/push",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: Bytes| {
                    let seen = seen.clone();
                    async move {
                        let encoding = headers.get("content-encoding").and_then(|v| v.to_str().ok()).map(str::to_owned);
                        seen.lock().unwrap().push((encoding, body));
                        axum::Json(PushResponse { results: vec![], applied: vec![], last_seq: 0, expected_seq: None })
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let (device_id, user_id) = (Uuid::now_v7(), Uuid::now_v7());
        let households = made_up_households(3, 60, &["03445-01".to_owned(), "03445-02".to_owned()]).unwrap();
        let mut phone = OfflinePhone::new(device_id, user_id, FieldClock::new(3, households.len()));
        let events: Vec<Event> = households.iter().flat_map(|h| phone.household(h, false).unwrap()).flatten().collect();
        let batches = app_batches(events).unwrap();
        // 15 households of 9 events: the app's batches of 100
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [100, 35]);

        let transport = HttpTransport::new(&format!("http://{addr}")).unwrap().with_token("t");
        let request = PushRequest {
            schema_version: SCHEMA_VERSION,
            app_version: APP_VERSION.to_owned(),
            events: batches[0].clone(),
            queued: None,
        };
        transport.push(&request).await.unwrap();
        let body = encode(batches[0].clone(), Mode::Gocua).unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0.as_deref(), Some(dcz::CONTENT_ENCODING));
        assert_eq!(seen[0].1, body.bytes, "the same bytes as the app's push");
        assert_eq!((body.events, body.last_seq), (100, 100));
    }
}
