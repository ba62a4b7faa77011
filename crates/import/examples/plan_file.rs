//! Plans the import of a list and prints the counts, the time taken and the peak memory.
//!
//! ```text
//! cargo run --release -p gocua-import --example plan_file -- FILE [--hamlets N]
//! cargo run --release -p gocua-import --example plan_file -- --generate ROWS [--csv] --out FILE
//! ```
//!
//! `--generate` writes a made-up list (feature `testdata`, on for examples) with a few planted
//! errors; reading it back in a second run measures the import alone. The hamlets a file is
//! checked against are those of the generator (`--hamlets`, default 12). Prints no cell.

use std::time::Instant;

use gocua_import::testdata::{CURRENT_YEAR, GenFormat, GenSpec, Plant, PlantKind, generate};
use gocua_import::{PlanOptions, detect_columns, plan, read_table};

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
    let known = generate(&GenSpec { hamlets, ..GenSpec::new(1, 1) })?.known;
    let bytes = std::fs::read(path)?;
    let start = Instant::now();
    let table = read_table(&bytes, path)?;
    let read = start.elapsed().as_secs_f64();
    let map = detect_columns(&table)?;
    let planned = plan(&table, &map, &known, &PlanOptions::new(CURRENT_YEAR), None)?;
    let total = start.elapsed().as_secs_f64();
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
        "read {:.2} s, read + detect + plan {:.2} s, peak RSS {:.0} MB",
        read,
        total,
        peak_rss_mb().unwrap_or(0.0)
    );
    Ok(())
}
