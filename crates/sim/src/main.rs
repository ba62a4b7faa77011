//! `gocua-sim`: plays N phones, each enrolling, recording M visits offline (households of four
//! made-up residents, one visit each) and syncing, against a real server. The last line of its
//! output is one JSON object with the totals.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use gocua_core::fixtures::{self, Rng};
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{BatchSizer, SyncError, sync_once_with_progress};
use gocua_core::sync::protocol::Role;
use gocua_http_client::HttpTransport;
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(name = "gocua-sim", version, about = "Mô phỏng nhiều điện thoại / simulate many phones")]
struct Cli {
    /// The server's base URL (or a gocua-linksim in front of it).
    #[arg(long)]
    server: String,
    /// How many phones.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Visits each phone records.
    #[arg(long, default_value_t = 100)]
    visits: usize,
    /// Seed of the made-up data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One-time codes to enroll with, comma-separated (one per device).
    #[arg(long, value_delimiter = ',')]
    codes: Vec<String>,
    /// Or: the server's SQLite file, to create volunteers and codes through the admin path.
    #[arg(long)]
    admin_database: Option<PathBuf>,
    /// The commune the created volunteers work in (with --admin-database).
    #[arg(long, default_value = "03445")]
    commune: String,
    /// Give up after this many failed sync rounds per device.
    #[arg(long, default_value_t = 1000)]
    max_failed_rounds: u32,
}

/// The totals printed as the last line.
#[derive(Debug, Default, Serialize)]
struct Totals {
    devices: usize,
    events_sent: u64,
    events_acknowledged: u64,
    duplicates: u64,
    rejected: u64,
    failed_rounds: u64,
    /// Seconds spent syncing (the longest phone), after every phone recorded offline.
    sync_seconds: f64,
    bytes_up: u64,
    bytes_down: u64,
    seconds: f64,
}

fn codes(cli: &Cli) -> Result<Vec<String>> {
    if let Some(db) = &cli.admin_database {
        let conn = gocua_server::db::open_sqlite(db).with_context(|| format!("cannot open {}", db.display()))?;
        let hamlets = gocua_core::sql::catalog::children(&conn, &cli.commune)?;
        if hamlets.is_empty() {
            bail!("xã {} chưa có thôn/bản / commune {} has no hamlets: add some first", cli.commune, cli.commune);
        }
        return (0..cli.devices)
            .map(|i| {
                let user = gocua_server::admin::add_user(&conn, &format!("Sim {i}"), Role::Volunteer, &cli.commune)?;
                Ok(gocua_server::admin::create_code(&conn, user, 24)?)
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

async fn one_device(cli: &Cli, index: usize, code: &str, dir: &tempfile::TempDir) -> Result<Totals> {
    let mut store = DeviceStore::open(&dir.path().join(format!("phone-{index}.sqlite")))?;
    let enroll = HttpTransport::new(&cli.server)?;
    let response = enroll.enroll(code, &format!("sim phone {index}")).await?;
    let enrollment = store.save_enrollment(&cli.server, &response)?;
    let hamlets: Vec<String> = store.hamlets()?.into_iter().map(|p| p.code).collect();
    if hamlets.is_empty() {
        bail!("the device's scope has no hamlets");
    }
    let mut rng = Rng::new(cli.seed.wrapping_add(index as u64 * 7919));
    let mut visits = 0;
    let mut h = 0;
    while visits < cli.visits {
        let (_, residents, payloads) = fixtures::household_payloads(&mut rng, &hamlets[h % hamlets.len()], 4);
        h += 1;
        for p in payloads {
            store.record(p)?;
        }
        for r in residents.into_iter().take(cli.visits - visits) {
            store.record(fixtures::visit_payload(&mut rng, r, &["absent_unreachable", "no_smartphone", "refused"]))?;
            visits += 1;
        }
    }
    let events_sent = store.unsent_count()?;
    let store = Mutex::new(store);
    let sync_started = Instant::now();
    let transport = HttpTransport::new(&cli.server)?.with_token(&enrollment.token);
    let mut sizer = BatchSizer::default();
    let mut totals = Totals { devices: 1, events_sent, ..Totals::default() };
    loop {
        match sync_once_with_progress(&store, &transport, &mut sizer, |_| {}).await {
            Ok(report) => {
                totals.events_acknowledged += report.applied + report.duplicates + report.rejected;
                totals.duplicates += report.duplicates;
                totals.rejected += report.rejected;
                break;
            }
            Err(SyncError::Transport(e)) if e.is_transient() => {
                totals.failed_rounds += 1;
                if totals.failed_rounds > u64::from(cli.max_failed_rounds) {
                    bail!("phone {index}: gave up after {} failed rounds: {e}", totals.failed_rounds);
                }
            }
            Err(e) => bail!("phone {index}: {e}"),
        }
    }
    // what the failed rounds got acknowledged before they broke is no longer in the outbox
    let unsent = store.lock().map_err(|_| anyhow::anyhow!("lock"))?.unsent_count()?;
    totals.events_acknowledged = events_sent - unsent;
    totals.sync_seconds = sync_started.elapsed().as_secs_f64();
    totals.bytes_up = transport.counts().up.load(Ordering::Relaxed);
    totals.bytes_down = transport.counts().down.load(Ordering::Relaxed);
    Ok(totals)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let codes = codes(&cli)?;
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        tasks.push(one_device(&cli, i, code, &dir));
    }
    let mut totals = Totals::default();
    // the phones run concurrently on one task, like phones sharing one tower
    for result in futures::future::join_all(tasks).await {
        let t = result?;
        totals.devices += t.devices;
        totals.events_sent += t.events_sent;
        totals.events_acknowledged += t.events_acknowledged;
        totals.duplicates += t.duplicates;
        totals.rejected += t.rejected;
        totals.failed_rounds += t.failed_rounds;
        totals.sync_seconds = totals.sync_seconds.max(t.sync_seconds);
        totals.bytes_up += t.bytes_up;
        totals.bytes_down += t.bytes_down;
    }
    totals.seconds = started.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string(&totals)?);
    Ok(())
}
