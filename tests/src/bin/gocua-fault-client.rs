//! `gocua-fault-client`: a throw-away phone process for the SIGKILL fault tests. It opens an
//! enrolled device store, records made-up events, then syncs until the outbox is empty, retrying
//! while the server is down. It is built to be killed at any instant: every step it takes is one
//! SQLite transaction, so a kill may only ever lose work that was never committed.
//!
//! ```text
//! gocua-fault-client --db PHONE.sqlite --events N --seed S [--batch K] [--known-visits V] [--give-up-secs T]
//! ```
//!
//! Output, one line each, flushed as it goes (the test reads how far the process got):
//! `started`, `recorded N`, `acked SENT/TO_SEND` after each push answer, `pulled PAGES` after
//! each pull page, and last `synced applied=… duplicates=… rejected=… pulled=… resets=…
//! failed_rounds=… unsent=0`. Exit status 0 on success, 1 on a permanent error, 2 when the
//! server stayed unreachable for `--give-up-secs`, 64 on bad arguments.
//!
//! `--batch K` (default 100) sends at most K events per push and asks for at most K per pull
//! page; `--known-visits V` first records V visits to residents the device already knows.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gocua_core::event::{HouseholdSurveyed, Payload};
use gocua_core::fixtures::{self, Rng};
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{
    BatchSizer, SyncError, SyncProgress, SyncReport, Transport, TransportError, sync_once_with_progress,
};
use gocua_core::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};
use gocua_http_client::HttpTransport;

/// Reason codes the made-up visits use (both exist in every province's default list).
const REASONS: [&str; 2] = ["refused", "absent_unreachable"];

/// Residents per made-up household.
const RESIDENTS: usize = 3;

#[derive(Debug)]
struct Args {
    db: PathBuf,
    events: usize,
    seed: u64,
    batch: usize,
    known_visits: usize,
    give_up: Duration,
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("gocua-fault-client: {problem}");
    eprintln!(
        "usage: gocua-fault-client --db PATH --events N --seed S [--batch K] [--known-visits V] [--give-up-secs T]"
    );
    ExitCode::from(64)
}

fn parse_args() -> Result<Args, String> {
    let mut db = None;
    let mut events = None;
    let mut seed = None;
    let mut batch = 100;
    let mut known_visits = 0;
    let mut give_up = 60;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|_| format!("{flag}: not a number: {value}"));
        match flag.as_str() {
            "--db" => db = Some(PathBuf::from(&value)),
            "--events" => events = Some(number()? as usize),
            "--seed" => seed = Some(number()?),
            "--batch" => batch = (number()? as usize).max(1),
            "--known-visits" => known_visits = number()? as usize,
            "--give-up-secs" => give_up = number()?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(Args {
        db: db.ok_or("--db is required")?,
        events: events.ok_or("--events is required")?,
        seed: seed.ok_or("--seed is required")?,
        batch,
        known_visits,
        give_up: Duration::from_secs(give_up),
    })
}

/// Records exactly `args.events` made-up events: first up to `known_visits` visits to residents
/// the device already knows (its own or pulled from other devices), then whole households
/// (created, residents, surveyed, a visit per resident) alternating between the scope's
/// hamlets, cut off at the count. Each record is its own transaction.
fn record(store: &mut DeviceStore, args: &Args) -> Result<usize, gocua_core::error::Error> {
    let mut rng = Rng::new(args.seed);
    let mut recorded = 0;
    if args.known_visits > 0 && args.events > 0 {
        let known: Vec<_> = store.projection()?.residents.into_keys().collect();
        if !known.is_empty() {
            for _ in 0..args.known_visits.min(args.events) {
                let resident = *rng.pick(&known);
                store.record(fixtures::visit_payload(&mut rng, resident, &REASONS))?;
                recorded += 1;
            }
        }
    }
    let hamlets: Vec<String> = store.hamlets()?.into_iter().map(|p| p.code).collect();
    if hamlets.is_empty() {
        return Err(gocua_core::error::Error::invalid_input("the device's scope has no hamlets"));
    }
    let mut h = 0;
    while recorded < args.events {
        let (household_id, residents, mut payloads) =
            fixtures::household_payloads(&mut rng, &hamlets[h % hamlets.len()], RESIDENTS);
        h += 1;
        payloads.push(Payload::HouseholdSurveyed(HouseholdSurveyed {
            household_id,
            members: RESIDENTS as u32,
            smartphones: rng.below(RESIDENTS as u64 + 1) as u32,
            has_internet_computer: rng.below(4) == 0,
        }));
        for resident in residents {
            payloads.push(fixtures::visit_payload(&mut rng, resident, &REASONS));
        }
        for payload in payloads.into_iter().take(args.events - recorded) {
            store.record(payload)?;
            recorded += 1;
        }
    }
    Ok(recorded)
}

/// The HTTP transport with at most `cap` events per push: the server answers for those, the
/// rest stay in the outbox for the next request. A round then takes many small requests, so a
/// kill has many places to land between a server's commit and the device's.
#[derive(Debug)]
struct Capped {
    inner: HttpTransport,
    cap: usize,
}

impl Transport for Capped {
    async fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        if request.events.len() <= self.cap {
            return self.inner.push(request).await;
        }
        let mut request = request.clone();
        request.events.truncate(self.cap);
        self.inner.push(&request).await
    }

    async fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let capped = PullRequest { limit: request.limit.min(self.cap as u32), ..request.clone() };
        self.inner.pull(&capped).await
    }
}

fn add(total: &mut SyncReport, round: &SyncReport) {
    total.push_requests += round.push_requests;
    total.applied += round.applied;
    total.duplicates += round.duplicates;
    total.rejected += round.rejected;
    total.pull_pages += round.pull_pages;
    total.pulled += round.pulled;
    total.resets += round.resets;
}

async fn run(args: &Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut store = DeviceStore::open(&args.db)?;
    let enrollment = store.enrollment()?.ok_or("the device store is not enrolled")?;
    println!("started");
    let recorded = record(&mut store, args)?;
    println!("recorded {recorded}");

    let store = Mutex::new(store);
    let transport =
        Capped { inner: HttpTransport::new(&enrollment.server_url)?.with_token(&enrollment.token), cap: args.batch };
    let mut sizer = BatchSizer::default();
    let mut total = SyncReport::default();
    let mut failed_rounds = 0u64;
    let mut unreachable_since: Option<Instant> = None;
    loop {
        let progress = |p: SyncProgress| {
            if p.pages == 0 {
                println!("acked {}/{}", p.sent, p.to_send);
            } else {
                println!("pulled {}", p.pages);
            }
        };
        match sync_once_with_progress(&store, &transport, &mut sizer, progress).await {
            Ok(report) => {
                add(&mut total, &report);
                unreachable_since = None;
                let unsent = store.lock().map_err(|_| "store lock poisoned")?.unsent_count()?;
                if unsent == 0 {
                    println!(
                        "synced applied={} duplicates={} rejected={} pulled={} resets={} failed_rounds={failed_rounds} \
                         unsent=0",
                        total.applied, total.duplicates, total.rejected, total.pulled, total.resets
                    );
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Err(SyncError::Transport(e)) if e.is_transient() => {
                failed_rounds += 1;
                let since = *unreachable_since.get_or_insert_with(Instant::now);
                if since.elapsed() > args.give_up {
                    eprintln!("gocua-fault-client: giving up after {failed_rounds} failed rounds: {e}");
                    return Ok(ExitCode::from(2));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => return usage(&problem),
    };
    match run(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gocua-fault-client: {e}");
            ExitCode::FAILURE
        }
    }
}
