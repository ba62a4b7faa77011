//! Plans the import of a list and prints the counts, the time taken and the peak memory.
//!
//! ```text
//! cargo run --release -p gocua-import --example plan_file -- FILE [--hamlets N] [--record DB [--push SERVER --code CODE]]
//! cargo run --release -p gocua-import --example plan_file -- --generate ROWS [--csv] --out FILE
//! cargo run --release -p gocua-import --example plan_file -- --list-hamlets [--hamlets N]
//! ```
//!
//! `--generate` writes a made-up list (feature `testdata`, on for examples) with a few planted
//! errors; reading it back in a second run measures the import alone. The hamlets a file is
//! checked against are those of the generator (`--hamlets`, default 12; `--list-hamlets` prints
//! them as `CODE<TAB>NAME` lines). `--record DB` goes on as the office app does: it opens (or
//! makes) the encrypted device store `DB` enrolled in commune 03445 with those hamlets, plans
//! against the hamlets and people it holds, turns the plan into events (`events_for`) and
//! records them with a row of its import log in one transaction (`DeviceStore::record_import`).
//!
//! With `--push SERVER --code CODE` the store is enrolled for real: the one-time code of a
//! commune-police user of 03445 is redeemed at `SERVER`, whose commune must hold the generator's
//! hamlets (`gocua-server admin add-place`). After recording, the sync engine (`sync_once` over
//! `HttpTransport`) pushes until the outbox is empty, waiting whenever the server's per-device
//! budget answers 429. Prints no cell.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gocua_core::places::{Place, PlaceLevel};
use gocua_core::sql::projection::SqlView;
use gocua_core::store::DeviceStore;
use gocua_core::store::cipher::DbKey;
use gocua_core::sync::engine::{SyncError, sync_once};
use gocua_http_client::HttpTransport;
use gocua_import::testdata::{CURRENT_YEAR, GenFormat, GenSpec, Plant, PlantKind, generate};
use gocua_import::{Known, KnownHamlet, KnownResident, PlanOptions, detect_columns, events_for, plan, read_table};
use tokio::runtime::Runtime;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let hamlets: usize = value("--hamlets").map_or(Ok(12), |v| v.parse())?;
    if let Some(rows) = value("--generate") {
        let out = value("--out").ok_or("--out FILE is needed with --generate")?;
        let format = if args.iter().any(|a| a == "--csv") { GenFormat::Csv } else { GenFormat::Xlsx };
        let planted = PlantKind::ALL.iter().map(|k| Plant::seeded(*k)).collect();
        let spec = GenSpec { rows: rows.parse()?, hamlets, planted, format, ..GenSpec::new(0, 2023) };
        let start = Instant::now();
        let generated = generate(&spec)?;
        std::fs::write(&out, &generated.bytes)?;
        println!(
            "generated {} rows ({} bytes) in {:.2} s; expected issues {}; peak RSS {:.0} MB",
            generated.rows,
            generated.bytes.len(),
            start.elapsed().as_secs_f64(),
            generated.expected.len(),
            peak_rss_mb().unwrap_or(0.0)
        );
        return Ok(());
    }
    let mut known = generate(&GenSpec { hamlets, ..GenSpec::new(1, 1) })?.known;
    if args.iter().any(|a| a == "--list-hamlets") {
        known.hamlets.iter().for_each(|h| println!("{}\t{}", h.code, h.name));
        return Ok(());
    }
    let path = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a)
        .ok_or("usage: plan_file FILE [--record DB [--push SERVER --code CODE]] | --generate ROWS --out FILE")?;
    let push = match (value("--push"), value("--code")) {
        (Some(server), Some(code)) => Some((server, code)),
        (None, None) => None,
        _ => return Err("--push SERVER and --code CODE go together".into()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut store = match value("--record") {
        Some(db) => Some(office_store(std::path::Path::new(&db), &known, push.as_ref(), &runtime)?),
        None if push.is_some() => return Err("--push needs --record DB".into()),
        None => None,
    };
    let bytes = std::fs::read(path)?;
    let start = Instant::now();
    let mut options = PlanOptions::new(CURRENT_YEAR);
    if let Some(store) = &store {
        (known, options.key_namespace) = known_in(store)?;
    }
    let table = read_table(&bytes, path)?;
    let read = start.elapsed().as_secs_f64();
    let map = detect_columns(&table)?;
    let planned = plan(&table, &map, &known, &options, None)?;
    let planned_at = start.elapsed().as_secs_f64();
    let c = &planned.report.counts;
    println!(
        "rows read {}, blank {}, not a person {}, left out {}; people {}, households {}; errors {}, warnings {}, repairs {}",
        c.rows_read,
        c.rows_blank,
        c.rows_not_person,
        c.rows_left_out,
        c.people_planned,
        c.households_planned,
        c.errors,
        c.warnings,
        c.repairs
    );
    println!(
        "read {read:.2} s, read + detect + plan {planned_at:.2} s, peak RSS {:.0} MB",
        peak_rss_mb().unwrap_or(0.0)
    );
    let Some(mut store) = store.take() else { return Ok(()) };
    let events = events_for(&planned, &SqlView::new(store.connection()))?;
    let counted = start.elapsed().as_secs_f64();
    let k = &events.counts;
    println!(
        "events {} (households created {}, updated {}; people created {}, updated {}; unchanged {}; skipped {})",
        events.payloads.len(),
        k.households_created,
        k.households_updated,
        k.people_created,
        k.people_updated,
        k.unchanged,
        k.skipped_removed
    );
    if !events.payloads.is_empty() {
        let summary = serde_json::to_string(&events.counts)?;
        let undo = serde_json::to_string(&events.undo)?;
        let file_name =
            std::path::Path::new(path).file_name().map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        store.record_import(&file_name, events.payloads, &summary, &undo)?;
    }
    let total = start.elapsed().as_secs_f64();
    println!(
        "events_for {:.2} s, record_import {:.2} s; from reading the file to recorded: {total:.2} s, peak RSS {:.0} MB",
        counted - planned_at,
        total - counted,
        peak_rss_mb().unwrap_or(0.0)
    );
    if let Some((server, _)) = &push {
        push_all(store, server, &runtime)?;
    }
    Ok(())
}

/// The office's device store at `path`, encrypted under a key kept beside it (a benchmark's
/// stand-in for the OS key store). A new one is enrolled at `push`'s server with its code, or
/// else as if in commune 03445 with `known`'s hamlets.
fn office_store(
    path: &std::path::Path,
    known: &Known,
    push: Option<&(String, String)>,
    rt: &Runtime,
) -> Result<DeviceStore> {
    let key_path = path.with_extension("key");
    let key = match std::fs::read_to_string(&key_path) {
        Ok(hex) => DbKey::from_hex(hex.trim())?,
        Err(_) => {
            let key = DbKey::generate();
            std::fs::write(&key_path, key.to_hex())?;
            key
        }
    };
    let mut store = DeviceStore::open_encrypted(path, &key)?;
    if store.enrollment()?.is_some() {
        return Ok(store);
    }
    if let Some((server, code)) = push {
        let signing_key = store.enrollment_key()?;
        let response = rt.block_on(HttpTransport::new(server)?.enroll_with_key(code, "office", Some(&signing_key)))?;
        store.save_enrollment(server, &response)?;
        return Ok(store);
    }
    let mut places: Vec<Place> = gocua_core::fixtures::demo_places().into_iter().take(2).collect();
    places.extend(known.hamlets.iter().map(|h| Place {
        code: h.code.clone(),
        name: h.name.clone(),
        level: PlaceLevel::Hamlet,
        division_type: "thôn".into(),
        parent_code: Some("03445".into()),
    }));
    let response =
        gocua_core::sync::protocol::EnrollResponse { places, ..gocua_core::fixtures::enroll_response(&store) };
    store.save_enrollment("http://127.0.0.1:9/", &response)?;
    Ok(store)
}

/// What the planner is told, as the app's `import::prepare` gathers it: the store's hamlets
/// and the people it holds, and the commune's code as the keys' namespace.
fn known_in(store: &DeviceStore) -> Result<(Known, String)> {
    let places = store.hamlets()?;
    let communes: BTreeSet<&str> = places.iter().filter_map(|p| p.parent_code.as_deref()).collect();
    let namespace = if communes.len() == 1 { communes.first().copied().unwrap_or_default() } else { "" }.to_owned();
    let hamlets = places.iter().map(|p| KnownHamlet { code: p.code.clone(), name: p.name.clone() }).collect();
    Ok((Known { hamlets, residents: KnownResident::all_in(&store.projection()?) }, namespace))
}

/// Syncs `store` with its server until its outbox is empty, as the app's worker does; a 429
/// (the device's request budget spent) waits a quarter of a second, a token's refill.
fn push_all(store: DeviceStore, server: &str, rt: &Runtime) -> Result<()> {
    let token = store.enrollment()?.ok_or("the store is not enrolled")?.token;
    let transport = HttpTransport::new(server)?.with_token(&token);
    let to_send = store.unsent_count()?;
    let store = Mutex::new(store);
    let start = Instant::now();
    let mut waits = 0;
    loop {
        match rt.block_on(sync_once(&store, &transport)) {
            Ok(_) => break,
            Err(SyncError::Transport(e)) if e.is_rate_limited() => {
                waits += 1;
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let left = store.lock().map_err(|_| "store lock poisoned")?.unsent_count()?;
    let counts = transport.counts();
    println!(
        "pushed {} events to {server} in {:.2} s ({waits} waits for the server's budget; body bytes up {}, down {}); {left} left unsent",
        to_send - left,
        start.elapsed().as_secs_f64(),
        counts.up.load(std::sync::atomic::Ordering::Relaxed),
        counts.down.load(std::sync::atomic::Ordering::Relaxed),
    );
    if left > 0 { Err(format!("{left} events left unsent").into()) } else { Ok(()) }
}
