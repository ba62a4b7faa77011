//! `gocua-province`: a made-up province at the size of issue 15 in a server database, and the
//! in-process timing of its reports.
//!
//! `seed` fills a server database (SQLite path or `postgres://` URL, through `gocua_server::db`
//! and the storage seam) with a province: the real province and communes of the 2025 list
//! (`admin import-places`), HAMLETS made-up hamlets per commune (`admin::add_place`), a province
//! police officer and VOLUNTEERS volunteers per hamlet (`admin::add_user`, each with a server-side
//! device), one `campaign_set` at the province with quotas (recorded as the officer's through
//! `district::record`), and households of four made-up residents (`gocua_core::fixtures`) with
//! three or four visits each, recorded over the DAYS days before today and pushed through the
//! server's own push rule (`gocua_server::sync::push::push`, in-process, batches of 100 events,
//! as each volunteer's phone would send them), so the projection is the reducer's. The events of
//! one phone are numbered in the order of their device times, as the app numbers them.
//!
//! `time-report` opens the same database once and builds a report with
//! `gocua_server::reports::report` several times (the appendix too, into memory), printing each
//! time and the median; with `--breakdown` it also times the report's parts inside one read
//! transaction: the place tree, the campaign lookup, the facts (`Tx::report_facts`) and `build`.
//!
//! The last line of each command's output is one JSON object.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clap::{Parser, Subcommand};
use gocua_core::event::{
    CampaignSet, Event, HouseholdCreated, Payload, Quota, QuotaHolder, ResidentAdded, VisitRecorded,
};
use gocua_core::fixtures::{self, Rng};
use gocua_core::funnel::{FunnelState, VisitAction};
use gocua_core::ids;
use gocua_core::model::Sex;
use gocua_core::places::{Place, PlaceLevel};
use gocua_core::report::{self, DayRange, REPORT_UTC_OFFSET_MINUTES, Units};
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::{APP_VERSION, EventStatus, MAX_PUSH_EVENTS, PushRequest, Role, SCHEMA_VERSION};
use gocua_server::auth::AuthDevice;
use gocua_server::{admin, district, reports};
use gocua_server_store::{Store, run_read, run_write};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(name = "gocua-province", version, about = "Một tỉnh giả lập / a made-up province for the reports")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fill an empty server database with a made-up province, through the push rule.
    Seed(SeedArgs),
    /// Build a report in-process several times and print the times.
    TimeReport(TimeArgs),
}

#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// The server's database: a SQLite file path or a postgres:// URL (migrated on open).
    #[arg(long)]
    database: String,
    /// The province's code in the 2025 list (15: Lào Cai, 99 communes).
    #[arg(long, default_value = "15")]
    province: String,
    /// Only the first N of its communes (by code); default all.
    #[arg(long)]
    communes: Option<usize>,
    /// Made-up hamlets per commune.
    #[arg(long, default_value_t = 10)]
    hamlets: usize,
    /// Volunteers (each with one phone) per hamlet.
    #[arg(long, default_value_t = 3)]
    volunteers: usize,
    /// Residents in the province (households of four).
    #[arg(long, default_value_t = 2_000_000)]
    residents: u64,
    /// Days of fieldwork, ending yesterday (Vietnam's calendar); the campaign starts on the first.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Threads pushing phones' events at once (each one phone at a time).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seed of the made-up data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop taking new phones after this many minutes (the phones under way finish): the
    /// province is then smaller than asked, and the output says how much was recorded.
    #[arg(long)]
    max_minutes: Option<f64>,
    /// Stop taking new phones, as with --max-minutes, when the file system holding --disk has
    /// less than this many GB free (the machine's disk is shared).
    #[arg(long, requires = "disk")]
    min_free_gb: Option<f64>,
    /// A path on the file system the database grows on (for --min-free-gb).
    #[arg(long)]
    disk: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TimeArgs {
    /// The server's database: a SQLite file path or a postgres:// URL.
    #[arg(long)]
    database: String,
    /// The place's code.
    #[arg(long)]
    place: String,
    /// Follow this campaign.
    #[arg(long)]
    campaign: Option<Uuid>,
    /// How many times.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also write the appendix XLSX (into memory) each time, timed apart.
    #[arg(long)]
    xlsx: bool,
    /// Also time the report's parts inside one read transaction.
    #[arg(long)]
    breakdown: bool,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Seed(args) => seed(&args),
        Command::TimeReport(args) => time_report(&args),
    }
}

fn open(database: &str) -> Result<std::sync::Arc<dyn Store>> {
    gocua_server::db::open(database, None).map_err(anyhow::Error::msg)
}

/// Today in Vietnam, as the server's commands take it.
fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::minutes(REPORT_UTC_OFFSET_MINUTES.into())).date_naive()
}

// --- the people's paths through the funnel -------------------------------------------------------

/// One visit's outcome: state, reason, what the volunteer did.
type Step = (FunnelState, Option<&'static str>, Option<VisitAction>);

/// The visits of one made-up person, 3 or 4 of them, each state at least the one before (the
/// field's order), equal states with the same reason (so the deciding visit is unambiguous). About
/// 62 % end activated; the rest end with a reason, without a chip CCCD, or under way.
fn path(rng: &mut Rng) -> Vec<Step> {
    use FunnelState::*;
    use VisitAction::*;
    let four = rng.below(4) > 0;
    let roll = rng.below(1000);
    let same = |state: FunnelState, reason: &'static str| vec![(state, Some(reason), None); 4];
    let mut steps: Vec<Step> = match roll {
        // activated at level 1 (38 %)
        0..380 => vec![
            (NotRegistered, None, Some(InstalledApp)),
            (RegisteredPending, None, Some(GuidedLevel1)),
            (ApprovedNotActivated, None, None),
            (ActivatedLevel1, None, Some(GuidedActivation)),
        ],
        // at level 2, at the police (15 %)
        380..530 => vec![
            (NotRegistered, None, Some(ReferredLevel2)),
            (NotRegistered, None, None),
            (RegisteredPending, None, None),
            (ActivatedLevel2, None, None),
        ],
        // activated and logged into the portal (9 %)
        530..620 => vec![
            (RegisteredPending, None, Some(GuidedLevel1)),
            (ApprovedNotActivated, None, None),
            (ActivatedLevel1, None, Some(GuidedActivation)),
            (UsedPortal, None, Some(GuidedPortal)),
        ],
        620..700 => same(NotRegistered, "absent_unreachable"),
        700..740 => same(NotRegistered, "refused"),
        740..770 => same(NotRegistered, "not_eligible"),
        770..780 => same(NotRegistered, "deceased"),
        780..790 => same(NotRegistered, "moved_away"),
        790..805 => same(NotRegistered, "abroad"),
        805..865 => same(NotRegistered, "no_smartphone"),
        865..890 => {
            let mut s = same(RegisteredPending, "needs_phone_update");
            s[0] = (NotRegistered, None, Some(InstalledApp));
            s
        }
        890..905 => {
            let mut s = same(ApprovedNotActivated, "needs_unlock");
            s[0] = (NotRegistered, None, Some(InstalledApp));
            s[1] = (RegisteredPending, None, Some(GuidedLevel1));
            s
        }
        905..940 => vec![(NoChipCccd, None, None); 4],
        // under way, no reason (6 %)
        _ => {
            let last = if rng.below(2) == 0 { RegisteredPending } else { ApprovedNotActivated };
            vec![
                (NotRegistered, None, Some(InstalledApp)),
                (RegisteredPending, None, Some(GuidedLevel1)),
                (last, None, None),
                (last, None, None),
            ]
        }
    };
    if !four {
        // three visits: the second drops out (the last, deciding one stays)
        steps.remove(1);
    }
    steps
}

// --- one phone's month ---------------------------------------------------------------------------

/// A volunteer and the households they record.
#[derive(Debug, Clone)]
struct Phone {
    device: AuthDevice,
    hamlet: String,
    households: u64,
    seed: u64,
}

/// What one phone recorded, before ids and times: a household's first visit (the household,
/// its residents, one visit each) or a later visit of one resident.
#[derive(Debug)]
enum Work {
    First(usize),
    Again { household: usize, resident: usize, visit: usize },
}

/// A made-up household: its payloads (ids to be given) and its people's paths and visit days.
#[derive(Debug)]
struct Home {
    household: HouseholdCreated,
    residents: Vec<ResidentAdded>,
    paths: Vec<Vec<Step>>,
}

/// The local midnight (UTC+7) that starts `day`, as a UTC instant.
fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc() - chrono::Duration::minutes(REPORT_UTC_OFFSET_MINUTES.into())
}

/// Every event of one phone's month, in recording order: ids from the phone's counters, device
/// times in the field's day (from 07:00 local), sequence numbers in that order.
fn phone_events(phone: &Phone, first_day: NaiveDate, days: u32) -> Result<Vec<Event>> {
    let mut rng = Rng::new(phone.seed);
    let days = days.max(2) as usize;
    // households are first visited in the first 60 % of the days, later visits follow 1–5 days apart
    let first_days = (days * 3 / 5).max(1) as u64;
    let mut homes = Vec::new();
    let mut per_day: Vec<Vec<Work>> = (0..days).map(|_| Vec::new()).collect();
    for h in 0..phone.households as usize {
        let (_, _, payloads) = fixtures::household_payloads(&mut rng, &phone.hamlet, 4);
        let (mut household, mut residents) = (None, Vec::new());
        for p in payloads {
            match p {
                Payload::HouseholdCreated(x) => household = Some(x),
                Payload::ResidentAdded(x) => residents.push(x),
                other => bail!("unexpected fixture payload {}", other.type_name()),
            }
        }
        let day0 = rng.below(first_days) as usize;
        per_day[day0].push(Work::First(h));
        let mut paths = Vec::new();
        for r in 0..residents.len() {
            let steps = path(&mut rng);
            let mut day = day0;
            for visit in 1..steps.len() {
                day = (day + 1 + rng.below(5) as usize).min(days - 1);
                per_day[day].push(Work::Again { household: h, resident: r, visit });
            }
            paths.push(steps);
        }
        homes.push(Home { household: household.context("no household_created")?, residents, paths });
    }

    let device = phone.device.device_id;
    let mut counter = 0u64;
    let mut next_id = || {
        counter += 1;
        ids::record_id(device, counter)
    };
    // record ids given at the first visit: (household id, its residents' ids)
    let mut given: Vec<Option<(Uuid, Vec<Uuid>)>> = (0..homes.len()).map(|_| None).collect();
    let mut recorded: Vec<(DateTime<Utc>, Payload)> = Vec::new();
    let work_day = 11 * 3600u64; // 07:00–18:00
    for (d, mut work) in per_day.into_iter().enumerate() {
        // a day's households and revisits in a made-up order, a revisit never before the first visit
        // (which is on an earlier day)
        for i in (1..work.len()).rev() {
            work.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let firsts = work.iter().filter(|w| matches!(w, Work::First(_))).count() as u64;
        let inside = firsts * 9 * 60; // a household's nine steps, a minute each
        let gap = (work_day.saturating_sub(inside) / (work.len() as u64).max(1)).max(30);
        let day = first_day + chrono::Duration::days(d as i64);
        let mut at = local_midnight(day) + chrono::Duration::hours(7);
        let mut after = |least: u64, spread: u64, at: &mut DateTime<Utc>| {
            *at += chrono::Duration::seconds((least + rng.below(spread.max(1))) as i64);
            *at
        };
        for w in work {
            match w {
                Work::First(h) => {
                    let home = &homes[h];
                    let household_id = next_id();
                    let created = HouseholdCreated { household_id, ..home.household.clone() };
                    recorded.push((after(gap / 2, gap, &mut at), Payload::HouseholdCreated(created)));
                    let mut people = Vec::new();
                    for r in &home.residents {
                        let resident_id = next_id();
                        people.push(resident_id);
                        let added = ResidentAdded { resident_id, household_id, ..r.clone() };
                        recorded.push((after(30, 60, &mut at), Payload::ResidentAdded(added)));
                    }
                    for (r, resident_id) in people.iter().enumerate() {
                        let visit = visit_payload(next_id(), *resident_id, home.paths[r][0]);
                        recorded.push((after(30, 60, &mut at), visit));
                    }
                    given[h] = Some((household_id, people));
                }
                Work::Again { household, resident, visit } => {
                    let (_, people) = given[household].as_ref().context("a revisit before the first visit")?;
                    let step = homes[household].paths[resident][visit];
                    let payload = visit_payload(next_id(), people[resident], step);
                    recorded.push((after(gap / 2, gap, &mut at), payload));
                }
            }
        }
    }
    Ok(recorded
        .into_iter()
        .enumerate()
        .map(|(i, (device_time, payload))| {
            let seq = i as u64 + 1;
            Event {
                id: ids::event_id(device, seq),
                device_id: device,
                seq,
                author: phone.device.user_id,
                device_time,
                payload,
            }
        })
        .collect())
}

fn visit_payload(visit_id: Uuid, resident_id: Uuid, (status, reason, action): Step) -> Payload {
    Payload::VisitRecorded(VisitRecorded {
        visit_id,
        resident_id,
        status,
        reason_code: reason.map(str::to_owned),
        action,
        follow_up: None,
        steps: Vec::new(),
        note: None,
        position: None,
    })
}

// --- seeding -------------------------------------------------------------------------------------

/// What the seeding recorded, counted from the push answers.
#[derive(Debug, Default)]
struct Counters {
    events: AtomicU64,
    households: AtomicU64,
    residents: AtomicU64,
    visits: AtomicU64,
    flagged: AtomicU64,
    pushes: AtomicU64,
    phones_done: AtomicUsize,
}

#[derive(Debug, Serialize)]
struct SeedReport {
    database_kind: &'static str,
    province: String,
    province_name: String,
    communes: usize,
    hamlets: usize,
    volunteers: usize,
    phones_done: usize,
    households: u64,
    residents: u64,
    visits: u64,
    events: u64,
    flagged: u64,
    pushes: u64,
    campaign: Uuid,
    campaign_starts: NaiveDate,
    campaign_ends: NaiveDate,
    police_user: Uuid,
    sample_commune: String,
    sample_hamlet: String,
    setup_seconds: f64,
    push_seconds: f64,
    events_per_second: f64,
    complete: bool,
    /// Stopped early because the disk was filling up (--min-free-gb).
    stopped_for_disk: bool,
}

fn seed(args: &SeedArgs) -> Result<()> {
    if args.hamlets == 0 || args.volunteers == 0 || args.threads == 0 || args.residents < 4 {
        bail!("--hamlets, --volunteers, --threads must be above 0 and --residents at least 4");
    }
    let started = Instant::now();
    let store = open(&args.database)?;
    let store = &*store;
    let held = run_read(store, |tx| tx.count_events("applied"))?;
    if held > 0 {
        bail!("the database already holds {held} applied events: seed an empty one");
    }
    let imported = admin::import_admin_units(store, admin::ADMIN_UNITS_2025)?;
    let province = run_read(store, |tx| tx.place(&args.province))?
        .filter(|p| p.level == PlaceLevel::Province)
        .with_context(|| format!("no province {}", args.province))?;
    let mut communes: Vec<Place> = run_read(store, |tx| tx.children(&province.code))?
        .into_iter()
        .filter(|p| p.level == PlaceLevel::Commune)
        .collect();
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    communes.truncate(args.communes.unwrap_or(usize::MAX));
    if communes.is_empty() {
        bail!("province {} has no communes", province.code);
    }
    eprintln!(
        "gocua-province: {imported} places imported; {} ({}): {} communes × {} hamlets × {} volunteers",
        province.name,
        province.code,
        communes.len(),
        args.hamlets,
        args.volunteers
    );

    // hamlets, then volunteers and their phones, hamlet by hamlet
    let mut rng = Rng::new(args.seed ^ 0x5eed);
    let mut hamlets: Vec<(String, String)> = Vec::new(); // (commune, hamlet)
    for commune in &communes {
        for i in 1..=args.hamlets {
            let code = format!("{}-{i:02}", commune.code);
            admin::add_place(
                store,
                &Place {
                    code: code.clone(),
                    name: format!("Thôn {i}"),
                    level: PlaceLevel::Hamlet,
                    division_type: "thôn".into(),
                    parent_code: Some(commune.code.clone()),
                },
            )?;
            hamlets.push((commune.code.clone(), code));
        }
    }
    let police =
        admin::add_user(store, "Công an tỉnh (thử nghiệm)", Role::ProvincePolice, &Scope::single(&province.code))?;
    // households per hamlet, the remainder to the first ones; each hamlet's split among its volunteers
    let households_total = args.residents / 4;
    let per_hamlet = |i: usize| {
        households_total / hamlets.len() as u64 + u64::from((i as u64) < households_total % hamlets.len() as u64)
    };
    let mut phones: Vec<Phone> = Vec::new();
    // ordered so that consecutive phones are in different communes: a run stopped early has
    // recorded some of every commune
    let mut order: Vec<(usize, usize)> = Vec::new(); // (volunteer number in its hamlet, hamlet index)
    for v in 0..args.volunteers {
        for h in 0..args.hamlets {
            for c in 0..communes.len() {
                order.push((v, c * args.hamlets + h));
            }
        }
    }
    let mut hamlet_quotas: Vec<Quota> = Vec::new();
    for (h, (_, code)) in hamlets.iter().enumerate() {
        // a hamlet's quota: 70 % of its residents
        hamlet_quotas.push(Quota {
            holder: QuotaHolder::Place(code.clone()),
            total: Some(((per_hamlet(h) * 4 * 7 / 10) as u32).max(1)),
            per_day: None,
        });
    }
    for (n, &(v, h)) in order.iter().enumerate() {
        let (commune, hamlet) = &hamlets[h];
        let sex = if rng.below(2) == 0 { Sex::Male } else { Sex::Female };
        let name = fixtures::name(&mut rng, sex);
        let user = admin::add_user(store, &name, Role::Volunteer, &Scope::single(commune))?;
        let device = district::server_side_device(store, user, "Điện thoại thử nghiệm")?;
        let share =
            per_hamlet(h) / args.volunteers as u64 + u64::from((v as u64) < per_hamlet(h) % args.volunteers as u64);
        phones.push(Phone {
            device,
            hamlet: hamlet.clone(),
            households: share,
            seed: args.seed.wrapping_mul(1_000_003) + n as u64,
        });
        if (n + 1) % 500 == 0 {
            eprintln!("gocua-province: {} volunteers made ({:.0} s)", n + 1, started.elapsed().as_secs_f64());
        }
    }

    // the campaign: the province's target, each hamlet's quota, and as many volunteers' as fit
    let first_day = today() - chrono::Duration::days(i64::from(args.days));
    let mut quotas = hamlet_quotas;
    let room = gocua_core::reducer::MAX_QUOTAS.saturating_sub(quotas.len());
    for phone in phones.iter().take(room) {
        let quota = ((phone.households * 4 * 7 / 10) as u32).max(1);
        quotas.push(Quota { holder: QuotaHolder::User(phone.device.user_id), total: Some(quota), per_day: None });
    }
    let campaign = CampaignSet {
        campaign_id: Uuid::now_v7(),
        name: "Cao điểm 60 ngày kích hoạt định danh điện tử (thử nghiệm)".into(),
        place: province.code.clone(),
        starts: first_day,
        ends: first_day + chrono::Duration::days(59),
        target: Some(((households_total * 4 * 7 / 10) as u32).max(1)),
        per_official: Some(200),
        quotas,
    };
    let recorded = district::record(store, police, vec![Payload::CampaignSet(campaign.clone())])?;
    if recorded.applied != 1 {
        bail!("the campaign was not applied: {:?}", recorded.rejected);
    }
    let setup_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "gocua-province: {} hamlets, {} volunteers, campaign {} set in {setup_seconds:.1} s; pushing with {} threads…",
        hamlets.len(),
        phones.len(),
        campaign.campaign_id,
        args.threads
    );

    let counters = Counters::default();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let deadline = args.max_minutes.map(|m| Instant::now() + Duration::from_secs_f64(m * 60.0));
    let low_disk = AtomicBool::new(false);
    let pushing = Instant::now();
    let expected_events = args.residents / 4 * (1 + 4 + 15); // about 4 + 4 × 3.75 visits a household
    let running = AtomicUsize::new(args.threads);
    std::thread::scope(|scope| {
        for _ in 0..args.threads {
            scope.spawn(|| {
                loop {
                    if stop.load(Ordering::Relaxed)
                        || low_disk.load(Ordering::Relaxed)
                        || deadline.is_some_and(|d| Instant::now() >= d)
                    {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(phone) = phones.get(i) else { break };
                    if let Err(e) = push_phone(store, phone, first_day, args.days, &counters) {
                        stop.store(true, Ordering::Relaxed);
                        failure.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                        break;
                    }
                    counters.phones_done.fetch_add(1, Ordering::Relaxed);
                }
                running.fetch_sub(1, Ordering::Relaxed);
            });
        }
        // progress every 30 s, until every pushing thread is done
        scope.spawn(|| {
            let (mut last, mut checked) = (Instant::now(), Instant::now());
            while running.load(Ordering::Relaxed) > 0 {
                std::thread::sleep(Duration::from_millis(200));
                if let (Some(min), Some(disk)) = (args.min_free_gb, &args.disk)
                    && checked.elapsed() >= Duration::from_secs(5)
                    && !low_disk.load(Ordering::Relaxed)
                {
                    checked = Instant::now();
                    if let Some(free) = free_gb(disk)
                        && free < min
                    {
                        low_disk.store(true, Ordering::Relaxed);
                        eprintln!("gocua-province: only {free:.1} GB free on {}: no new phones", disk.display());
                    }
                }
                if last.elapsed() < Duration::from_secs(30) {
                    continue;
                }
                last = Instant::now();
                let events = counters.events.load(Ordering::Relaxed);
                let secs = pushing.elapsed().as_secs_f64();
                let rate = events as f64 / secs.max(1e-9);
                let eta = expected_events.saturating_sub(events) as f64 / rate.max(1.0);
                eprintln!(
                    "gocua-province: {events} events ({} residents, {} phones of {}) in {secs:.0} s: {rate:.0} \
                     events/s, about {eta:.0} s to go",
                    counters.residents.load(Ordering::Relaxed),
                    counters.phones_done.load(Ordering::Relaxed),
                    phones.len()
                );
            }
        });
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let push_seconds = pushing.elapsed().as_secs_f64();
    let events = counters.events.load(Ordering::Relaxed);
    let phones_done = counters.phones_done.load(Ordering::Relaxed);
    let sample_hamlet = format!("{}-01", communes[0].code);
    let report = SeedReport {
        database_kind: store.describe().kind,
        province: province.code.clone(),
        province_name: province.name.clone(),
        communes: communes.len(),
        hamlets: hamlets.len(),
        volunteers: phones.len(),
        phones_done,
        households: counters.households.load(Ordering::Relaxed),
        residents: counters.residents.load(Ordering::Relaxed),
        visits: counters.visits.load(Ordering::Relaxed),
        events,
        flagged: counters.flagged.load(Ordering::Relaxed),
        pushes: counters.pushes.load(Ordering::Relaxed),
        campaign: campaign.campaign_id,
        campaign_starts: campaign.starts,
        campaign_ends: campaign.ends,
        police_user: police,
        sample_commune: communes[0].code.clone(),
        sample_hamlet,
        setup_seconds,
        push_seconds,
        events_per_second: events as f64 / push_seconds.max(1e-9),
        complete: phones_done == phones.len(),
        stopped_for_disk: low_disk.load(Ordering::Relaxed),
    };
    eprintln!(
        "gocua-province: {} households, {} residents, {} visits = {events} events (+ 1 campaign) from {phones_done} of {} \
         phones in {push_seconds:.0} s ({:.0} events/s); total {:.0} s{}",
        report.households,
        report.residents,
        report.visits,
        phones.len(),
        report.events_per_second,
        started.elapsed().as_secs_f64(),
        if report.complete { "" } else { " — STOPPED EARLY: smaller than asked" }
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// GB free on the file system holding `path` (`df`), if it can tell.
fn free_gb(path: &std::path::Path) -> Option<f64> {
    let out = std::process::Command::new("df").args(["-B1", "--output=avail"]).arg(path).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let bytes: f64 = text.lines().nth(1)?.trim().parse().ok()?;
    Some(bytes / 1e9)
}

/// Pushes one phone's month in batches of `MAX_PUSH_EVENTS`, as its sync would; every event must
/// be applied (or flagged).
fn push_phone(store: &dyn Store, phone: &Phone, first_day: NaiveDate, days: u32, counters: &Counters) -> Result<()> {
    let events = phone_events(phone, first_day, days)?;
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let batch: Vec<Event> = events.by_ref().take(MAX_PUSH_EVENTS).collect();
        let (mut households, mut residents, mut visits) = (0, 0, 0);
        for e in &batch {
            match e.payload {
                Payload::HouseholdCreated(_) => households += 1,
                Payload::ResidentAdded(_) => residents += 1,
                Payload::VisitRecorded(_) => visits += 1,
                _ => {}
            }
        }
        let last_seq = batch.last().map_or(0, |e| e.seq);
        let count = batch.len() as u64;
        let request = PushRequest {
            schema_version: SCHEMA_VERSION,
            app_version: APP_VERSION.to_owned(),
            events: batch,
            queued: None,
        };
        let answer = gocua_server::sync::push::push(store, &phone.device, &request)
            .map_err(|e| anyhow::anyhow!("push of phone {}: {e}", phone.device.device_id))?;
        let mut applied = 0u64;
        for r in &answer.results {
            match r.status {
                EventStatus::Applied => applied += 1,
                EventStatus::Flagged => {
                    applied += 1;
                    counters.flagged.fetch_add(1, Ordering::Relaxed);
                }
                EventStatus::Rejected | EventStatus::Duplicate => {
                    let why: Vec<String> = r.errors.iter().map(|e| format!("{}: {}", e.field, e.message_en)).collect();
                    bail!("event {} of phone {} was {:?}: {}", r.seq, phone.device.device_id, r.status, why.join("; "));
                }
            }
        }
        if applied != count || answer.last_seq != last_seq || answer.expected_seq.is_some() {
            bail!("a push of {count} events answered {applied} applied, last_seq {}", answer.last_seq);
        }
        counters.events.fetch_add(count, Ordering::Relaxed);
        counters.households.fetch_add(households, Ordering::Relaxed);
        counters.residents.fetch_add(residents, Ordering::Relaxed);
        counters.visits.fetch_add(visits, Ordering::Relaxed);
        counters.pushes.fetch_add(1, Ordering::Relaxed);
    }
    // what a serving server does every few seconds (`reports::keep_counters`): PostgreSQL's
    // pushes appended their counter changes, and the report would read them all unfolded
    run_write(store, |tx| tx.fold_counts())?;
    Ok(())
}

// --- timing --------------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct TimeReport {
    place: String,
    runs: usize,
    report_ms: Vec<f64>,
    report_median_ms: f64,
    xlsx_ms: Vec<f64>,
    xlsx_median_ms: Option<f64>,
    xlsx_bytes: Option<usize>,
    /// Median milliseconds of each part (with `--breakdown`).
    parts_median_ms: BTreeMap<&'static str, f64>,
    residents: u32,
    activated: u32,
    rows: usize,
    people: usize,
    open_ms: f64,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn time_report(args: &TimeArgs) -> Result<()> {
    let opening = Instant::now();
    let store = open(&args.database)?;
    let store = &*store;
    let open_ms = ms(opening.elapsed());
    let request =
        reports::ReportRequest { place: args.place.clone(), range: None, campaign: args.campaign, today: today() };
    let (mut report_ms, mut xlsx_ms) = (Vec::new(), Vec::new());
    let mut parts: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut last = None;
    let mut xlsx_bytes = None;
    for run in 1..=args.runs {
        let t = Instant::now();
        let built = reports::report(store, &request)?;
        report_ms.push(ms(t.elapsed()));
        let mut line = format!("run {run}: report {:.1} ms", report_ms[run - 1]);
        if args.xlsx {
            let t = Instant::now();
            let mut out = Vec::new();
            report::appendix::write(&built.report, &built.reasons, &mut out)?;
            xlsx_ms.push(ms(t.elapsed()));
            xlsx_bytes = Some(out.len());
            line += &format!(", appendix {:.1} ms ({} bytes)", xlsx_ms[run - 1], out.len());
        }
        if args.breakdown {
            for (part, took) in breakdown(store, &request)? {
                parts.entry(part).or_default().push(took);
                line += &format!(", {part} {took:.1} ms");
            }
        }
        eprintln!("gocua-province: {line}");
        last = Some(built);
    }
    let built = last.context("--runs must be at least 1")?;
    let result = TimeReport {
        place: args.place.clone(),
        runs: args.runs,
        report_median_ms: median(&report_ms),
        report_ms,
        xlsx_median_ms: args.xlsx.then(|| median(&xlsx_ms)),
        xlsx_ms,
        xlsx_bytes,
        parts_median_ms: parts.iter().map(|(k, v)| (*k, median(v))).collect(),
        residents: built.report.total.tally.residents,
        activated: built.report.total.tally.activated(),
        rows: built.report.rows.len(),
        people: built.report.people.len(),
        open_ms,
    };
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}

/// The report's parts as `reports::report` does them, timed, inside one read transaction.
fn breakdown(store: &dyn Store, request: &reports::ReportRequest) -> Result<Vec<(&'static str, f64)>> {
    let mut times = Vec::new();
    run_read(store, |tx| {
        let t = Instant::now();
        let place = tx.place(&request.place)?.context("no such place")?;
        let lineage = tx.lineage(&place.code)?;
        let units = Units::walk(place, |code| tx.children(code))?;
        times.push(("places", ms(t.elapsed())));

        let t = Instant::now();
        let campaigns = reports::campaigns_in(tx, &lineage)?;
        // as `reports::report` picks it: the one asked for, else the one running today
        let campaign = match request.campaign {
            Some(id) => campaigns.into_iter().find(|c| c.campaign_id == id),
            None => campaigns
                .into_iter()
                .filter(|c| c.starts <= request.today && request.today <= c.ends)
                .max_by_key(|c| c.starts),
        };
        times.push(("campaign_lookup", ms(t.elapsed())));
        let range = match &campaign {
            Some(c) => DayRange::new(c.starts, c.ends)?,
            None => DayRange::new(request.today - chrono::Duration::days(6), request.today)?,
        };

        let t = Instant::now();
        let facts = tx.report_facts(&units.hamlets(), &range)?;
        times.push(("facts", ms(t.elapsed())));

        let t = Instant::now();
        let reasons = tx.reasons()?;
        let built = report::build(&units, &facts, &reasons, range, campaign.as_ref());
        times.push(("build", ms(t.elapsed())));
        std::hint::black_box(built);
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(times)
}
