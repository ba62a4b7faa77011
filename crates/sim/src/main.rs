//! `gocua-sim`: plays N phones, each enrolling, recording M visits offline (households of four
//! made-up residents, one visit each) and syncing, against a real server; or, with
//! `--baseline`, sends the same made-up visits as OpenRosa submissions to an in-process
//! receiver (see [`openrosa`]). With `--link` the traffic crosses an in-process gocua-linksim,
//! which counts the bytes on the wire. The last line of its output is one JSON object with the
//! totals.

mod openrosa;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{BatchSizer, SyncError, Transport, TransportError, sync_once_with_progress};
use gocua_core::sync::protocol::{EventStatus, PullRequest, PullResponse, PushRequest, PushResponse, Role};
use gocua_http_client::HttpTransport;
use gocua_linksim::{Profile, Proxy, StatsSnapshot};
use gocua_sim::{FieldClock, HouseholdVisit, made_up_households, record_household};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(name = "gocua-sim", version, about = "Mô phỏng nhiều điện thoại / simulate many phones")]
struct Cli {
    /// The server's base URL (or a gocua-linksim in front of it). Not used with --baseline.
    #[arg(long, required_unless_present = "baseline")]
    server: Option<String>,
    /// How many phones.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Visits each phone records (0: none; the phone still syncs once, a new phone's first
    /// download of its scope).
    #[arg(long, default_value_t = 100)]
    visits: usize,
    /// Seed of the made-up data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One-time codes to enroll with, comma-separated (one per device).
    #[arg(long, value_delimiter = ',')]
    codes: Vec<String>,
    /// Or: the server's database (a SQLite file or a postgres:// URL), to create volunteers and
    /// codes through the admin path.
    #[arg(long)]
    admin_database: Option<String>,
    /// The commune the created volunteers work in (with --admin-database).
    #[arg(long, default_value = "03445")]
    commune: String,
    /// Give up after this many failed sync rounds (or submission attempts) per device.
    #[arg(long, default_value_t = 1000)]
    max_failed_rounds: u32,
    /// Put a gocua-linksim with this profile (2g, edge, 3g, clean) in front of the target,
    /// inside this process, one per phone; it counts the bytes on the wire, headers included.
    #[arg(long)]
    link: Option<String>,
    /// With --link: cut every connection once it has carried this many bytes.
    #[arg(long, requires = "link")]
    cut_after_bytes: Option<u64>,
    /// With --link: cut every live connection at these seconds after the sync started
    /// (comma-separated).
    #[arg(long, requires = "link", value_delimiter = ',')]
    cut_at: Vec<f64>,
    /// With --link: lose the answer to every Kth push (the server handled it; the phone never
    /// hears so and sends it again).
    #[arg(long, requires = "link", default_value_t = 0)]
    lose_ack_every: u64,
    /// Sync after every N households recorded instead of once after all of them (0: once).
    #[arg(long, default_value_t = 0)]
    sync_every: usize,
    /// Send the same made-up visits as OpenRosa submissions instead of syncing:
    /// one POST per household visit, or one POST per resident visit.
    #[arg(long, value_enum)]
    baseline: Option<Baseline>,
    /// The hamlets of the baseline's made-up households (it enrolls nowhere to learn them).
    #[arg(long, value_delimiter = ',', default_value = "03445-01,03445-02")]
    hamlets: Vec<String>,
}

/// The OpenRosa baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Baseline {
    /// One submission per household visit (household fields and a repeat group of residents).
    OpenrosaHousehold,
    /// One submission per resident visit (household, resident and outcome in each).
    OpenrosaVisit,
}

impl Baseline {
    fn name(self) -> &'static str {
        match self {
            Baseline::OpenrosaHousehold => "openrosa-household",
            Baseline::OpenrosaVisit => "openrosa-visit",
        }
    }
}

/// The totals printed as the last line. For a baseline, "events" are submissions.
#[derive(Debug, Default, Serialize)]
struct Totals {
    /// `gocua`, `openrosa-household` or `openrosa-visit`.
    mode: &'static str,
    devices: usize,
    households: u64,
    visits: u64,
    events_sent: u64,
    events_acknowledged: u64,
    /// Events the server had already acknowledged and got again.
    duplicates: u64,
    rejected: u64,
    failed_rounds: u64,
    /// HTTP requests of the sync (or of the upload), failed ones included.
    requests: u64,
    /// Events carried by push requests (or submissions posted), resends included.
    events_pushed: u64,
    /// Events pushed again after a request that got no answer.
    events_resent: u64,
    /// Pull pages received (answered).
    pull_pages: u64,
    /// Other phones' events received in those pages.
    events_pulled: u64,
    /// Body bytes of those resends (a push's body shared pro rata among its events).
    bytes_resent: u64,
    /// Seconds spent recording offline (the longest phone). The faster, the more alike the
    /// time parts of event ids and device times, and the better they compress.
    record_seconds: f64,
    /// Seconds spent syncing (the longest phone), after every phone recorded offline.
    sync_seconds: f64,
    /// HTTP body bytes up (zstd for our sync), without headers.
    bytes_up: u64,
    /// HTTP body bytes down.
    bytes_down: u64,
    /// With --link: TCP payload bytes up during the sync, HTTP headers included.
    #[serde(skip_serializing_if = "Option::is_none")]
    wire_bytes_up: Option<u64>,
    /// With --link: the same, down.
    #[serde(skip_serializing_if = "Option::is_none")]
    wire_bytes_down: Option<u64>,
    /// With --link: connections opened during the sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    link_connections: Option<u64>,
    /// With --link: connections cut during the sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    link_cuts: Option<u64>,
    seconds: f64,
}

impl Totals {
    fn wire(&mut self, wire: Option<StatsSnapshot>) {
        if let Some(w) = wire {
            *self.wire_bytes_up.get_or_insert(0) += w.bytes_up;
            *self.wire_bytes_down.get_or_insert(0) += w.bytes_down;
            *self.link_connections.get_or_insert(0) += w.connections;
            *self.link_cuts.get_or_insert(0) += w.cuts;
        }
    }

    fn add(&mut self, t: Totals) {
        self.devices += t.devices;
        self.households += t.households;
        self.visits += t.visits;
        self.events_sent += t.events_sent;
        self.events_acknowledged += t.events_acknowledged;
        self.duplicates += t.duplicates;
        self.rejected += t.rejected;
        self.failed_rounds += t.failed_rounds;
        self.requests += t.requests;
        self.events_pushed += t.events_pushed;
        self.events_resent += t.events_resent;
        self.pull_pages += t.pull_pages;
        self.events_pulled += t.events_pulled;
        self.bytes_resent += t.bytes_resent;
        self.record_seconds = self.record_seconds.max(t.record_seconds);
        self.sync_seconds = self.sync_seconds.max(t.sync_seconds);
        self.bytes_up += t.bytes_up;
        self.bytes_down += t.bytes_down;
        if t.wire_bytes_up.is_some() {
            self.wire(Some(StatsSnapshot {
                bytes_up: t.wire_bytes_up.unwrap_or_default(),
                bytes_down: t.wire_bytes_down.unwrap_or_default(),
                connections: t.link_connections.unwrap_or_default(),
                cuts: t.link_cuts.unwrap_or_default(),
            }));
        }
    }
}

fn codes(cli: &Cli) -> Result<Vec<String>> {
    if let Some(db) = &cli.admin_database {
        let store = gocua_server::db::open(db, None).map_err(anyhow::Error::msg)?;
        let store = &*store;
        let hamlets = gocua_server_store::run_read(store, |tx| tx.children(&cli.commune))?;
        if hamlets.is_empty() {
            bail!("xã {} chưa có thôn/bản / commune {} has no hamlets: add some first", cli.commune, cli.commune);
        }
        return (0..cli.devices)
            .map(|i| {
                let commune = gocua_core::scope::Scope::single(cli.commune.clone());
                let user = gocua_server::admin::add_user(store, &format!("Sim {i}"), Role::Volunteer, &commune)?;
                Ok(gocua_server::admin::create_code(store, user, 24)?)
            })
            .collect();
    }
    if cli.codes.len() < cli.devices {
        bail!(
            "cần {} mã đăng ký, có {} / {} devices need {} codes, got {}",
            cli.devices,
            cli.codes.len(),
            cli.devices,
            cli.devices,
            cli.codes.len()
        );
    }
    Ok(cli.codes[..cli.devices].to_vec())
}

/// The link profile of `--link`, with `--cut-after-bytes`.
fn profile(cli: &Cli) -> Result<Option<Profile>> {
    let Some(name) = &cli.link else { return Ok(None) };
    let Some(mut profile) = Profile::named(name) else {
        bail!("không có cấu hình đường truyền {name:?} / unknown profile {name:?}: use 2g, edge, 3g or clean");
    };
    if let Some(bytes) = cli.cut_after_bytes {
        profile = profile.with_cuts(bytes);
    }
    Ok(Some(profile))
}

/// The address behind an `http://host:port` URL.
async fn upstream(url: &str) -> Result<SocketAddr> {
    let Some(rest) = url.strip_prefix("http://") else {
        bail!("--link cần địa chỉ http:// / --link needs an http:// server URL, got {url}");
    };
    let host = rest.split('/').next().unwrap_or_default();
    tokio::net::lookup_host(host).await?.next().with_context(|| format!("cannot resolve {host}"))
}

/// One phone's (or the baseline's) link: an in-process proxy, and the task making `--cut-at` cuts.
#[derive(Debug)]
struct Link {
    proxy: Arc<Proxy>,
    cutter: Option<tokio::task::JoinHandle<()>>,
    measured_from: StatsSnapshot,
}

impl Link {
    async fn start(upstream: SocketAddr, profile: Profile) -> Result<Link> {
        let proxy = Proxy::start("127.0.0.1:0", upstream, profile).await?;
        Ok(Link { proxy: Arc::new(proxy), cutter: None, measured_from: StatsSnapshot::default() })
    }

    fn url(&self) -> String {
        format!("http://{}", self.proxy.addr())
    }

    /// Counts from now, and starts cutting at `cut_at` seconds from now.
    fn measure(&mut self, cut_at: &[f64]) {
        self.measured_from = self.proxy.stats().snapshot();
        let mut at: Vec<Duration> = cut_at.iter().filter_map(|s| Duration::try_from_secs_f64(*s).ok()).collect();
        if at.is_empty() {
            return;
        }
        at.sort();
        let proxy = Arc::clone(&self.proxy);
        let start = tokio::time::Instant::now();
        self.cutter = Some(tokio::spawn(async move {
            for t in at {
                tokio::time::sleep_until(start + t).await;
                proxy.cut_all();
            }
        }));
    }

    /// What crossed the link since [`Link::measure`].
    fn finish(&mut self) -> StatsSnapshot {
        if let Some(cutter) = self.cutter.take() {
            cutter.abort();
        }
        self.proxy.stats().snapshot().since(self.measured_from)
    }
}

/// Our HTTP transport, tallying every push and its answer across rounds (a failed round's
/// report is lost, so the engine's own counts miss what came before the failure).
#[derive(Debug)]
struct Counted {
    inner: HttpTransport,
    tally: Mutex<Tally>,
    /// The link, and every how many pushes it loses the answer (0: never).
    lose_acks: Option<(Arc<Proxy>, u64)>,
}

#[derive(Debug, Default)]
struct Tally {
    pushed: HashSet<u64>,
    pushes: u64,
    requests: u64,
    events_pushed: u64,
    events_resent: u64,
    bytes_resent: u64,
    duplicates: u64,
    rejected: u64,
    pull_pages: u64,
    events_pulled: u64,
}

impl Counted {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Transport for Counted {
    async fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let pushes = {
            let mut t = self.tally();
            t.pushes += 1;
            t.pushes
        };
        if let Some((proxy, every)) = &self.lose_acks
            && *every > 0
            && pushes % every == 0
        {
            proxy.drop_next_answer();
        }
        let before = self.inner.counts().up.load(Ordering::Relaxed);
        let result = self.inner.push(request).await;
        let body = self.inner.counts().up.load(Ordering::Relaxed).saturating_sub(before);
        let mut t = self.tally();
        t.requests += 1;
        let n = request.events.len() as u64;
        let resent = request.events.iter().filter(|e| !t.pushed.insert(e.seq)).count() as u64;
        t.events_pushed += n;
        t.events_resent += resent;
        t.bytes_resent += body * resent / n.max(1);
        if let Ok(response) = &result {
            t.duplicates += response.results.iter().filter(|r| r.status == EventStatus::Duplicate).count() as u64;
            t.rejected += response.results.iter().filter(|r| r.status == EventStatus::Rejected).count() as u64;
        }
        result
    }

    async fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let result = self.inner.pull(request).await;
        let mut t = self.tally();
        t.requests += 1;
        if let Ok(page) = &result {
            t.pull_pages += 1;
            t.events_pulled += page.events.len() as u64;
        }
        result
    }
}

/// Sync rounds until one completes, retrying transient failures.
async fn sync_until_done(
    store: &Mutex<DeviceStore>,
    transport: &Counted,
    sizer: &mut BatchSizer,
    failed_rounds: &mut u64,
    max_failed_rounds: u32,
) -> Result<()> {
    loop {
        match sync_once_with_progress(store, transport, sizer, |_| {}).await {
            Ok(_) => return Ok(()),
            Err(SyncError::Transport(e)) if e.is_transient() => {
                *failed_rounds += 1;
                if *failed_rounds > u64::from(max_failed_rounds) {
                    bail!("gave up after {failed_rounds} failed rounds: {e}");
                }
            }
            Err(e) => bail!("{e}"),
        }
    }
}

async fn one_device(cli: &Cli, index: usize, code: &str, dir: &tempfile::TempDir) -> Result<Totals> {
    let server = cli.server.clone().context("--server")?;
    let mut link = match profile(cli)? {
        Some(profile) => Some(Link::start(upstream(&server).await?, profile).await?),
        None => None,
    };
    let url = link.as_ref().map_or_else(|| server.clone(), Link::url);
    let mut store = DeviceStore::open(&dir.path().join(format!("phone-{index}.sqlite")))?;
    // enrollment is set-up, not what is measured: straight to the server, never cut
    let enroll = HttpTransport::new(&server)?;
    let response = enroll.enroll(code, &format!("sim phone {index}")).await?;
    let enrollment = store.save_enrollment(&url, &response)?;
    let hamlets: Vec<String> = store.hamlets()?.into_iter().map(|p| p.code).collect();
    if hamlets.is_empty() {
        bail!("the device's scope has no hamlets");
    }
    let households = made_up_households(cli.seed.wrapping_add(index as u64 * 7919), cli.visits, &hamlets)?;
    let transport = Counted {
        inner: HttpTransport::new(&url)?.with_token(&enrollment.token),
        tally: Mutex::new(Tally::default()),
        lose_acks: link.as_ref().map(|l| (Arc::clone(&l.proxy), cli.lose_ack_every)),
    };
    let mut sizer = BatchSizer::default();
    let mut totals = Totals {
        mode: "gocua",
        devices: 1,
        households: households.len() as u64,
        visits: cli.visits as u64,
        ..Totals::default()
    };
    let store = Mutex::new(store);
    let per_sync = if cli.sync_every == 0 { households.len().max(1) } else { cli.sync_every };
    let (mut record_time, mut sync_time) = (Duration::ZERO, Duration::ZERO);
    let mut clock = FieldClock::new(cli.seed.wrapping_add(index as u64), households.len());
    // a phone that records nothing (`--visits 0`) still syncs once: a new phone's first download
    let groups: Vec<&[HouseholdVisit]> =
        if households.is_empty() { vec![&[]] } else { households.chunks(per_sync).collect() };
    for (i, group) in groups.into_iter().enumerate() {
        let recording = Instant::now();
        {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            for h in group {
                totals.events_sent += record_household(&mut store, h, &mut clock)? as u64;
            }
        }
        record_time += recording.elapsed();
        if i == 0
            && let Some(link) = link.as_mut()
        {
            link.measure(&cli.cut_at);
        }
        let started = Instant::now();
        sync_until_done(&store, &transport, &mut sizer, &mut totals.failed_rounds, cli.max_failed_rounds)
            .await
            .with_context(|| format!("phone {index}"))?;
        sync_time += started.elapsed();
    }
    totals.record_seconds = record_time.as_secs_f64();
    totals.sync_seconds = sync_time.as_secs_f64();
    totals.wire(link.as_mut().map(Link::finish));
    // what the failed rounds got acknowledged before they broke is no longer in the outbox
    let unsent = store.lock().unwrap_or_else(PoisonError::into_inner).unsent_count()?;
    totals.events_acknowledged = totals.events_sent - unsent;
    let tally = transport.tally();
    totals.requests = tally.requests;
    totals.events_pushed = tally.events_pushed;
    totals.events_resent = tally.events_resent;
    totals.bytes_resent = tally.bytes_resent;
    totals.duplicates = tally.duplicates;
    totals.rejected = tally.rejected;
    totals.pull_pages = tally.pull_pages;
    totals.events_pulled = tally.events_pulled;
    totals.bytes_up = transport.inner.counts().up.load(Ordering::Relaxed);
    totals.bytes_down = transport.inner.counts().down.load(Ordering::Relaxed);
    Ok(totals)
}

/// The same made-up visits as phone 0 records, sent as OpenRosa submissions to an in-process
/// receiver through the same link.
async fn baseline(cli: &Cli, kind: Baseline) -> Result<Totals> {
    if cli.devices != 1 {
        bail!("--baseline chỉ chạy một máy / --baseline plays one phone: use --devices 1");
    }
    let households = made_up_households(cli.seed, cli.visits, &cli.hamlets)?;
    let instances: Vec<openrosa::Instance> = match kind {
        Baseline::OpenrosaHousehold => households.iter().map(openrosa::household_instance).collect(),
        Baseline::OpenrosaVisit => households.iter().flat_map(openrosa::visit_instances).collect(),
    };
    let receiver = openrosa::Receiver::start().await?;
    let mut link = match profile(cli)? {
        Some(profile) => Some(Link::start(receiver.addr(), profile).await?),
        None => None,
    };
    let url = link.as_ref().map_or_else(|| format!("http://{}", receiver.addr()), Link::url);
    if let Some(link) = link.as_mut() {
        link.measure(&cli.cut_at);
    }
    let sent = openrosa::submit_all(&url, &instances, cli.max_failed_rounds).await?;
    let mut totals = Totals {
        mode: kind.name(),
        devices: 1,
        households: households.len() as u64,
        visits: cli.visits as u64,
        events_sent: instances.len() as u64,
        events_acknowledged: sent.acknowledged,
        duplicates: receiver.duplicates(),
        rejected: sent.refused,
        failed_rounds: sent.failed_attempts,
        requests: sent.requests,
        events_pushed: instances.len() as u64 + sent.resent,
        events_resent: sent.resent,
        bytes_resent: sent.bytes_resent,
        sync_seconds: sent.seconds,
        bytes_up: sent.bytes_up,
        bytes_down: sent.bytes_down,
        ..Totals::default()
    };
    totals.wire(link.as_mut().map(Link::finish));
    if receiver.stored() != instances.len() as u64 {
        bail!("the receiver stored {} of {} submissions", receiver.stored(), instances.len());
    }
    Ok(totals)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    let mut totals = match cli.baseline {
        Some(kind) => baseline(&cli, kind).await?,
        None => {
            // the store's driver may block (PostgreSQL's synchronous client): off the async threads
            let codes = tokio::task::block_in_place(|| codes(&cli))?;
            let dir = tempfile::tempdir()?;
            let mut tasks = Vec::new();
            for (i, code) in codes.iter().enumerate() {
                tasks.push(one_device(&cli, i, code, &dir));
            }
            let mut totals = Totals { mode: "gocua", ..Totals::default() };
            // the phones run concurrently on one task, like phones sharing one tower
            for result in futures::future::join_all(tasks).await {
                totals.add(result?);
            }
            totals
        }
    };
    totals.seconds = started.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string(&totals)?);
    Ok(())
}
