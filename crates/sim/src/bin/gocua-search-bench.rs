//! `gocua-search-bench`: times the device store's household search on a large made-up scope.
//!
//! It fills a real device store (a temp SQLite file, enrolled offline) with N households of four
//! made-up residents each and a visit for about 60 % of the residents, then times a mix of the
//! searches the home screen sends (`DeviceStore::households`): names typed a few letters at a
//! time, full names, a hamlet, each status filter and the empty first page. It prints p50, p95,
//! p99 and max, overall and per kind of query; its last output line is one JSON object.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Parser, ValueEnum};
use gocua_core::event::Payload;
use gocua_core::fixtures::{self, Rng};
use gocua_core::funnel::FunnelState;
use gocua_core::store::cipher::DbKey;
use gocua_core::store::{DeviceStore, HouseholdQuery, HouseholdSummary, StatusFilter};
use gocua_core::sync::protocol::{PullResponse, PulledEvent};
use gocua_core::text::fold;
use serde::Serialize;
use sha2::Digest;
use uuid::Uuid;

/// Residents per made-up household.
const RESIDENTS_PER_HOUSEHOLD: usize = 4;
/// Share of residents with a visit, in percent.
const VISITED_PERCENT: u64 = 60;
/// Share of the visits that plan a return visit, in percent.
const FOLLOW_UP_PERCENT: u64 = 25;
/// Reasons the made-up visits give (those a volunteer may record).
const REASONS: [&str; 5] = ["absent_unreachable", "no_smartphone", "refused", "abroad", "moved_away"];
/// Events per transaction when filling through pull pages.
const PULL_PAGE: usize = 2_000;

#[derive(Debug, Parser)]
#[command(name = "gocua-search-bench", about = "Đo tốc độ tìm hộ / time the household search")]
struct Cli {
    /// Made-up households (four residents each).
    #[arg(long, default_value_t = 12_500)]
    households: usize,
    /// Searches to time.
    #[arg(long, default_value_t = 500)]
    queries: usize,
    /// Seed of the made-up data and of the query mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How the store is filled: one `record` transaction per event (as the volunteer's own
    /// phone does), or `pull` pages of other phones' events (as a phone downloading its scope).
    #[arg(long, value_enum, default_value_t = Fill::Record)]
    fill: Fill,
    /// Keep the store in this file instead of a temp one; a file already filled by an earlier
    /// run is searched as it is (no fill), so search changes can be timed on the same data.
    #[arg(long)]
    database: Option<PathBuf>,
    /// Also check every answer against the search as it was before the household_search table
    /// (the joins of every household with its residents), untimed.
    #[arg(long)]
    verify: bool,
    /// Before searching, rebuild the projection once from the event log (what a reset's last
    /// pull page does) and time it: the write cost of keeping the search table in step.
    #[arg(long)]
    replay: bool,
    /// Before searching, fold every acknowledged event into the retention baseline once and time
    /// it: the app's worst purge (the first one, a month after the scope came down). The searches
    /// then run on the purged store, and `--verify` checks their answers did not change.
    #[arg(long)]
    purge: bool,
    /// Keep the store encrypted (SQLCipher, as the app does) under a key made from `--seed`: a
    /// bench-only key, so a kept `--database` can be opened again by the next run.
    #[arg(long)]
    encrypted: bool,
}

/// Opens the bench's store, plain or encrypted as asked.
fn open_store(path: &Path, cli: &Cli) -> Result<DeviceStore> {
    let store = if cli.encrypted {
        let digest = sha2::Sha256::digest(format!("gocua-search-bench key {}", cli.seed).as_bytes());
        DeviceStore::open_encrypted(path, &DbKey::from_bytes(digest.into()))
    } else {
        DeviceStore::open(path)
    };
    store.with_context(|| format!("cannot open {}", path.display()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Fill {
    Record,
    Pull,
}

impl Fill {
    fn label(self) -> &'static str {
        match self {
            Fill::Record => "record",
            Fill::Pull => "pull",
        }
    }
}

/// What the fill left in the store.
#[derive(Debug, Default)]
struct Filled {
    households: usize,
    residents: usize,
    visits: usize,
    /// Some residents' names, for the text queries.
    names: Vec<String>,
    /// Hamlet codes.
    hamlets: Vec<String>,
}

/// The kinds of search the bench mixes, with how often each is sent (weights).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Empty,
    Prefix,
    Words,
    FullName,
    NoMatch,
    Hamlet,
    HamletText,
    Unvisited,
    State,
    CannotActivate,
    FollowUpDue,
    Done,
}

impl Kind {
    const MIX: [(Kind, u64); 12] = [
        (Kind::Empty, 10),
        (Kind::Prefix, 25),
        (Kind::Words, 15),
        (Kind::FullName, 10),
        (Kind::NoMatch, 5),
        (Kind::Hamlet, 8),
        (Kind::HamletText, 7),
        (Kind::Unvisited, 4),
        (Kind::State, 4),
        (Kind::CannotActivate, 4),
        (Kind::FollowUpDue, 4),
        (Kind::Done, 4),
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Empty => "empty (first page)",
            Kind::Prefix => "1-3 letters",
            Kind::Words => "partial words",
            Kind::FullName => "full name",
            Kind::NoMatch => "no match",
            Kind::Hamlet => "hamlet",
            Kind::HamletText => "hamlet + letters",
            Kind::Unvisited => "status unvisited",
            Kind::State => "status state",
            Kind::CannotActivate => "status cannot_activate",
            Kind::FollowUpDue => "status follow_up_due",
            Kind::Done => "status done",
        }
    }

    fn pick(rng: &mut Rng) -> Kind {
        let total: u64 = Self::MIX.iter().map(|(_, w)| w).sum();
        let mut roll = rng.below(total);
        for (kind, weight) in Self::MIX {
            if roll < weight {
                return kind;
            }
            roll -= weight;
        }
        Kind::Empty
    }
}

/// p50/p95/p99/max of some timings, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
struct Summary {
    count: usize,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Summary {
    fn of(times: &[Duration]) -> Summary {
        let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        Summary {
            count: ms.len(),
            p50_ms: percentile(&ms, 0.50),
            p95_ms: percentile(&ms, 0.95),
            p99_ms: percentile(&ms, 0.99),
            max_ms: ms.last().copied().unwrap_or(0.0),
        }
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The last output line.
#[derive(Debug, Serialize)]
struct Totals {
    households: usize,
    residents: usize,
    visits: usize,
    queries: usize,
    fill: &'static str,
    encrypted: bool,
    fill_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purge_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purged_events: Option<u64>,
    database_bytes: u64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    per_kind: BTreeMap<&'static str, Summary>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if cli.households == 0 || cli.queries == 0 {
        bail!("--households và --queries phải lớn hơn 0 / --households and --queries must be above 0");
    }
    let dir = tempfile::tempdir().context("no temp dir")?;
    let path = cli.database.clone().unwrap_or_else(|| dir.path().join("device.sqlite"));
    let mut store = open_store(&path, &cli)?;
    let (filled, fill_seconds, fill_label) = fill_or_reuse(&mut store, &cli)?;
    println!(
        "fill ({fill_label}): {} households, {} residents, {} visits in {fill_seconds:.1} s ({})",
        filled.households,
        filled.residents,
        filled.visits,
        path.display()
    );
    let replay_seconds = if cli.replay { Some(replay(&mut store)?) } else { None };
    let purged = if cli.purge { Some(purge(&mut store)?) } else { None };
    // a phone opens its store once and then searches: start from a fresh connection, as it does
    drop(store);
    let store = open_store(&path, &cli).context("cannot reopen the device store")?;

    let timings = run_queries(&store, &filled, &cli)?;
    let all: Vec<Duration> = timings.values().flatten().copied().collect();
    let overall = Summary::of(&all);
    let per_kind: BTreeMap<Kind, Summary> = timings.iter().map(|(k, t)| (*k, Summary::of(t))).collect();
    print_table(&overall, &per_kind);

    let totals = Totals {
        households: filled.households,
        residents: filled.residents,
        visits: filled.visits,
        queries: all.len(),
        fill: fill_label,
        encrypted: cli.encrypted,
        fill_seconds: round1(fill_seconds),
        replay_seconds: replay_seconds.map(round1),
        purge_seconds: purged.map(|(seconds, _)| round1(seconds)),
        purged_events: purged.map(|(_, events)| events),
        database_bytes: database_size(&path),
        p50_ms: round3(overall.p50_ms),
        p95_ms: round3(overall.p95_ms),
        p99_ms: round3(overall.p99_ms),
        max_ms: round3(overall.max_ms),
        per_kind: per_kind.into_iter().map(|(k, s)| (k.name(), rounded(s))).collect(),
    };
    println!("{}", serde_json::to_string(&totals)?);
    Ok(())
}

/// Enrolls and fills a new store (what it holds, seconds, how); a store an earlier run filled
/// is taken as it is.
fn fill_or_reuse(store: &mut DeviceStore, cli: &Cli) -> Result<(Filled, f64, &'static str)> {
    if store.enrollment()?.is_some() {
        return Ok((already_filled(store)?, 0.0, "reused"));
    }
    let started = Instant::now();
    let response = fixtures::enroll_response(store);
    store.save_enrollment("http://127.0.0.1:9/", &response).context("cannot enroll offline")?;
    let filled = fill(store, cli)?;
    Ok((filled, started.elapsed().as_secs_f64(), cli.fill.label()))
}

fn round1(seconds: f64) -> f64 {
    (seconds * 10.0).round() / 10.0
}

fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn rounded(s: Summary) -> Summary {
    Summary {
        count: s.count,
        p50_ms: round3(s.p50_ms),
        p95_ms: round3(s.p95_ms),
        p99_ms: round3(s.p99_ms),
        max_ms: round3(s.max_ms),
    }
}

/// The database file plus its write-ahead log.
fn database_size(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), PathBuf::from(wal)].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
}

/// Rebuilds the projection from the whole event log, as the last page of a reset does, and
/// returns how long that took in seconds.
fn replay(store: &mut DeviceStore) -> Result<f64> {
    let pulled: i64 =
        store.connection().query_row("SELECT count(*) FROM events WHERE origin = 'pulled'", [], |r| r.get(0))?;
    if pulled > 0 {
        bail!("--replay cần dữ liệu ghi bằng --fill record / --replay needs a store filled with --fill record");
    }
    let started = Instant::now();
    store.begin_reset("search-bench-replay")?;
    let last = PullResponse { epoch: "search-bench-replay".into(), ..PullResponse::default() };
    store.apply_pull_page(&last).context("the replay failed")?;
    let seconds = started.elapsed().as_secs_f64();
    println!("replay of the event log: {seconds:.1} s");
    Ok(seconds)
}

/// Folds every acknowledged event into the retention baseline (a cut a day from now): seconds,
/// and how many events left.
fn purge(store: &mut DeviceStore) -> Result<(f64, u64)> {
    let before = store.event_count()?;
    let started = Instant::now();
    let purged = store.purge_acknowledged(chrono::Utc::now() + chrono::Duration::days(1))?;
    let seconds = started.elapsed().as_secs_f64();
    println!("retention purge: {purged} of {before} events in {seconds:.1} s");
    if purged == 0 {
        bail!("nothing was purged: fill with --fill pull (acknowledged events) / nothing to purge");
    }
    Ok((seconds, purged))
}

/// What an earlier run left in the store at `--database`.
fn already_filled(store: &DeviceStore) -> Result<Filled> {
    let conn = store.connection();
    let count = |sql: &str| -> Result<usize> { Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as usize) };
    let mut stmt = conn.prepare("SELECT full_name FROM residents WHERE rowid % 20 = 0")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    Ok(Filled {
        households: count("SELECT count(*) FROM households")?,
        residents: count("SELECT count(*) FROM residents")?,
        visits: count("SELECT count(*) FROM visits")?,
        names,
        hamlets: store.hamlets()?.into_iter().map(|p| p.code).collect(),
    })
}

/// Makes the made-up payloads and stores them as `--fill` says.
fn fill(store: &mut DeviceStore, cli: &Cli) -> Result<Filled> {
    let hamlets: Vec<String> = store.hamlets()?.into_iter().map(|p| p.code).collect();
    if hamlets.is_empty() {
        bail!("the enrolled scope has no hamlets");
    }
    let mut rng = Rng::new(cli.seed);
    let mut filled = Filled { hamlets: hamlets.clone(), ..Filled::default() };
    let mut sink = Sink::new(cli.fill);
    for i in 0..cli.households {
        let (_, residents, payloads) =
            fixtures::household_payloads(&mut rng, &hamlets[i % hamlets.len()], RESIDENTS_PER_HOUSEHOLD);
        filled.households += 1;
        filled.residents += residents.len();
        for payload in payloads {
            remember_name(&mut filled, &payload, &mut rng);
            sink.push(store, payload)?;
        }
        for resident in residents {
            if rng.below(100) < VISITED_PERCENT {
                sink.push(store, visit(&mut rng, resident))?;
                filled.visits += 1;
            }
        }
        if (i + 1) % 2_500 == 0 {
            eprintln!("  … {} households", i + 1);
        }
    }
    sink.flush(store)?;
    Ok(filled)
}

/// Keeps one resident name in 20 for the text queries.
fn remember_name(filled: &mut Filled, payload: &Payload, rng: &mut Rng) {
    if let Payload::ResidentAdded(r) = payload
        && rng.below(20) == 0
    {
        filled.names.push(r.fields.full_name.clone());
    }
}

/// A made-up visit; a quarter of those not activated plan a return visit in Oct–Nov 2026.
fn visit(rng: &mut Rng, resident: Uuid) -> Payload {
    let mut payload = fixtures::visit_payload(rng, resident, &REASONS);
    if let Payload::VisitRecorded(v) = &mut payload
        && !v.status.is_activated()
        && rng.below(100) < FOLLOW_UP_PERCENT
    {
        // 1 October to 30 November
        let day = chrono::Days::new(rng.below(61));
        v.follow_up = NaiveDate::from_ymd_opt(2026, 10, 1).and_then(|d| d.checked_add_days(day));
    }
    payload
}

/// Where the fill's events go: `record` one at a time, or pull pages from another device.
struct Sink {
    fill: Fill,
    other_device: Uuid,
    seq: u64,
    page: Vec<PulledEvent>,
}

impl Sink {
    fn new(fill: Fill) -> Self {
        Sink { fill, other_device: Uuid::now_v7(), seq: 0, page: Vec::new() }
    }

    fn push(&mut self, store: &mut DeviceStore, payload: Payload) -> Result<()> {
        if self.fill == Fill::Record {
            store.record(payload).context("record refused a made-up event")?;
            return Ok(());
        }
        self.seq += 1;
        let event = fixtures::event(self.other_device, self.other_device, self.seq, payload);
        self.page.push(PulledEvent { server_seq: self.seq, event });
        if self.page.len() >= PULL_PAGE {
            self.flush(store)?;
        }
        Ok(())
    }

    fn flush(&mut self, store: &mut DeviceStore) -> Result<()> {
        if self.page.is_empty() {
            return Ok(());
        }
        let page = PullResponse {
            events: std::mem::take(&mut self.page),
            cursor: self.seq,
            has_more: false,
            epoch: "search-bench".into(),
            ..PullResponse::default()
        };
        let applied = store.apply_pull_page(&page).context("a pull page was refused")?;
        if applied != page.events.len() {
            bail!("only {applied} of {} pulled events applied", page.events.len());
        }
        Ok(())
    }
}

/// Runs `--queries` searches of the mix and times each.
fn run_queries(store: &DeviceStore, filled: &Filled, cli: &Cli) -> Result<BTreeMap<Kind, Vec<Duration>>> {
    let mut rng = Rng::new(cli.seed ^ 0x005E_A2C4);
    let mut timings: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    for _ in 0..cli.queries {
        let kind = Kind::pick(&mut rng);
        let query = make_query(kind, filled, &mut rng);
        let started = Instant::now();
        let found = store.households(&query).with_context(|| format!("search {query:?} failed"))?;
        let elapsed = started.elapsed();
        if cli.verify {
            verify(store, &query, &found)?;
        }
        timings.entry(kind).or_default().push(elapsed);
    }
    if cli.verify {
        println!("verified: every answer equals the reference search's");
    }
    Ok(timings)
}

/// One listed household as compared by `--verify`: id, residents, visited, activated.
type Listed = (String, u32, u32, u32);

/// Fails unless `found` is what the reference search answers to `query`.
fn verify(store: &DeviceStore, query: &HouseholdQuery, found: &[HouseholdSummary]) -> Result<()> {
    let expected = reference(store, query)?;
    let got: Vec<Listed> =
        found.iter().map(|s| (s.household.id.to_string(), s.residents, s.visited, s.activated)).collect();
    if got != expected {
        bail!("search {query:?} answered {} households, the reference {}: they differ", got.len(), expected.len());
    }
    Ok(())
}

/// The household search as it was written before `migrations/device/0004_search.sql`: every
/// household joined with its residents, filtered by EXISTS subqueries, grouped and sorted.
fn reference(store: &DeviceStore, query: &HouseholdQuery) -> Result<Vec<Listed>> {
    let activated = gocua_core::sql::activated_states();
    let mut sql = format!(
        "SELECT h.id, count(r.id), count(r.status), sum(CASE WHEN r.status IN ({activated}) THEN 1 ELSE 0 END)
         FROM households h LEFT JOIN residents r ON r.household_id = h.id
         WHERE h.removed IS NULL"
    );
    let mut args: Vec<String> = Vec::new();
    for word in fold(&query.text).split(' ').filter(|w| !w.is_empty()) {
        let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        args.push(format!("%{escaped}%"));
        let n = args.len();
        sql.push_str(&format!(
            " AND (h.search_key LIKE ?{n} ESCAPE '\\' OR EXISTS (SELECT 1 FROM residents x
               WHERE x.household_id = h.id AND x.search_key LIKE ?{n} ESCAPE '\\'))"
        ));
    }
    if let Some(hamlet) = &query.hamlet_code {
        args.push(hamlet.clone());
        sql.push_str(&format!(" AND h.hamlet_code = ?{}", args.len()));
    }
    let exists = |condition: &str| {
        format!(" AND EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id AND {condition})")
    };
    match query.status {
        None => {}
        Some(StatusFilter::Unvisited) => sql.push_str(&exists("x.status IS NULL")),
        Some(StatusFilter::State(state)) => {
            args.push(state.code().to_owned());
            sql.push_str(&exists(&format!("x.status = ?{}", args.len())));
        }
        Some(StatusFilter::CannotActivate) => sql.push_str(&exists("x.reason_code IS NOT NULL")),
        Some(StatusFilter::FollowUpDue) => {
            args.push(query.today.context("the bench always says today")?.to_string());
            sql.push_str(&exists(&format!("x.follow_up <= ?{}", args.len())));
        }
        Some(StatusFilter::Done) => {
            sql.push_str(&exists("1"));
            sql.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id
                    AND (x.follow_up IS NOT NULL OR (x.reason_code IS NULL AND (x.status IS NULL
                         OR x.status NOT IN ({activated})))))"
            ));
        }
    }
    args.push(query.limit.unwrap_or(200).to_string());
    sql.push_str(&format!(" GROUP BY h.id ORDER BY h.hamlet_code, h.search_key, h.id LIMIT ?{}", args.len()));
    let mut stmt = store.connection().prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get::<_, Option<u32>>(3)?.unwrap_or(0)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The volunteer's date for the follow-up filter.
fn today() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 11, 1)
}

fn make_query(kind: Kind, filled: &Filled, rng: &mut Rng) -> HouseholdQuery {
    let base = HouseholdQuery { today: today(), ..HouseholdQuery::default() };
    let status = |filter| HouseholdQuery { status: Some(filter), ..base.clone() };
    match kind {
        Kind::Empty => base,
        Kind::Prefix => HouseholdQuery { text: prefix(filled, rng), ..base },
        Kind::Words => HouseholdQuery { text: partial_words(filled, rng), ..base },
        Kind::FullName => HouseholdQuery { text: a_name(filled, rng), ..base },
        Kind::NoMatch => HouseholdQuery { text: (*rng.pick(&["xyz", "qqq", "nguyen zz"])).into(), ..base },
        Kind::Hamlet => HouseholdQuery { hamlet_code: Some(rng.pick(&filled.hamlets).clone()), ..base },
        Kind::HamletText => {
            HouseholdQuery { hamlet_code: Some(rng.pick(&filled.hamlets).clone()), text: prefix(filled, rng), ..base }
        }
        Kind::Unvisited => status(StatusFilter::Unvisited),
        Kind::State => status(StatusFilter::State(*rng.pick(&FunnelState::ALL))),
        Kind::CannotActivate => status(StatusFilter::CannotActivate),
        Kind::FollowUpDue => status(StatusFilter::FollowUpDue),
        Kind::Done => status(StatusFilter::Done),
    }
}

fn a_name(filled: &Filled, rng: &mut Rng) -> String {
    if filled.names.is_empty() { "Nguyễn Văn An".to_owned() } else { rng.pick(&filled.names).clone() }
}

/// The first 1–3 letters of one word of a name, without diacritics, as typed.
fn prefix(filled: &Filled, rng: &mut Rng) -> String {
    let folded = fold(&a_name(filled, rng));
    let words: Vec<&str> = folded.split(' ').collect();
    let word = *rng.pick(&words);
    let len = 1 + rng.below(3) as usize;
    word.chars().take(len).collect()
}

/// A name typed part way: whole words then the start of the next ("nguyen v", "lo thi", "tuan").
fn partial_words(filled: &Filled, rng: &mut Rng) -> String {
    let folded = fold(&a_name(filled, rng));
    let words: Vec<&str> = folded.split(' ').collect();
    match rng.below(3) {
        0 => {
            let next: String = words.get(1).map(|w| w.chars().take(1).collect()).unwrap_or_default();
            format!("{} {next}", words[0])
        }
        1 => words.iter().take(2).copied().collect::<Vec<_>>().join(" "),
        _ => words.last().copied().unwrap_or_default().to_owned(),
    }
}

fn print_table(overall: &Summary, per_kind: &BTreeMap<Kind, Summary>) {
    println!("{:<24} {:>6} {:>9} {:>9} {:>9} {:>9}", "kind", "n", "p50 ms", "p95 ms", "p99 ms", "max ms");
    let row = |name: &str, s: &Summary| {
        println!("{name:<24} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3}", s.count, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms);
    };
    for (kind, summary) in per_kind {
        row(kind.name(), summary);
    }
    row("all", overall);
}
