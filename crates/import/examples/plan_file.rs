//! Plans the import of a list and prints the counts, the time taken and the peak memory.
//!
//! ```text
//! cargo run --release -p gocua-import --example plan_file -- FILE [--hamlets N] [--record DB]
//! cargo run --release -p gocua-import --example plan_file -- --generate ROWS [--csv] --out FILE
//! ```
//!
//! `--generate` writes a made-up list (feature `testdata`, on for examples) with a few planted
//! errors; reading it back in a second run measures the import alone. The hamlets a file is
//! checked against are those of the generator (`--hamlets`, default 12). `--record DB` goes on
//! as the office app does: it opens (or makes) the encrypted device store `DB` enrolled in
//! commune 03445 with those hamlets, plans against the people it holds, turns the plan into
//! events (`events_for`) and records them in one transaction (`DeviceStore::record_all`).
//! Prints no cell.

use std::time::Instant;

use gocua_core::places::{Place, PlaceLevel};
use gocua_core::sql::projection::SqlView;
use gocua_core::store::DeviceStore;
use gocua_core::store::cipher::DbKey;
use gocua_import::testdata::{CURRENT_YEAR, GenFormat, GenSpec, Plant, PlantKind, generate};
use gocua_import::{Known, KnownResident, PlanOptions, detect_columns, events_for, plan, read_table};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let path =
        args.iter().find(|a| !a.starts_with("--")).ok_or("usage: plan_file FILE | --generate ROWS --out FILE")?;
    let mut known = generate(&GenSpec { hamlets, ..GenSpec::new(1, 1) })?.known;
    let mut store = match value("--record") {
        Some(db) => Some(office_store(std::path::Path::new(&db), &known)?),
        None => None,
    };
    let bytes = std::fs::read(path)?;
    let start = Instant::now();
    if let Some(store) = &store {
        known.residents = held_residents(store)?;
    }
    let table = read_table(&bytes, path)?;
    let read = start.elapsed().as_secs_f64();
    let map = detect_columns(&table)?;
    let planned = plan(&table, &map, &known, &PlanOptions::new(CURRENT_YEAR), None)?;
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
    if let Some(store) = &mut store {
        let events = events_for(&planned, &SqlView::new(store.connection()))?;
        let counted = start.elapsed().as_secs_f64();
        store.record_all(events.payloads.clone(), chrono::Utc::now())?;
        let total = start.elapsed().as_secs_f64();
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
        println!(
            "events_for {:.2} s, record_all {:.2} s; from reading the file to recorded: {total:.2} s, peak RSS {:.0} MB",
            counted - planned_at,
            total - counted,
            peak_rss_mb().unwrap_or(0.0)
        );
    }
    Ok(())
}

/// The office's device store at `path`, encrypted under a key kept beside it (a benchmark's
/// stand-in for the OS key store), enrolled in commune 03445 with `known`'s hamlets.
fn office_store(path: &std::path::Path, known: &Known) -> Result<DeviceStore, Box<dyn std::error::Error>> {
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
    if store.enrollment()?.is_none() {
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
    }
    Ok(store)
}

/// The people the store holds, as the planner is told them.
fn held_residents(store: &DeviceStore) -> Result<Vec<KnownResident>, Box<dyn std::error::Error>> {
    Ok(KnownResident::all_in(&store.projection()?))
}
