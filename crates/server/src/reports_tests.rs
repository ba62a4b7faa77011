//! The report's counters against an independent count (`gocua_core::report::oracle`) after every
//! push of random field and office work through the push rule, on the backend under test:
//! households and people listed, surveyed, visited on random days by two authors, referred,
//! spot-checked, merged, removed one by one and by household, an import undone.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use gocua_core::event::{
    ClaimChecked, Event, HouseholdRemoved, HouseholdSurveyed, IMPORT_UNDONE, Payload, ResidentRemoved, ResidentsMerged,
};
use gocua_core::fixtures::{self, Rng};
use gocua_core::funnel::VisitAction;
use gocua_core::report::oracle;
use gocua_core::report::{DayRange, Facts};
use gocua_core::scope::Scope;
use gocua_core::spotcheck::CheckOutcome;
use gocua_core::sync::protocol::{APP_VERSION, EventStatus, PushRequest, Role, SCHEMA_VERSION};
use gocua_server_store::{Store, run_read, run_write};
use uuid::Uuid;

use crate::auth::AuthDevice;
use crate::test_store;

const HAMLETS: [&str; 4] = ["03445-01", "03445-02", "03445-03", "03445-04"];
const REASONS: [&str; 4] = ["absent_unreachable", "not_eligible", "refused", "no_smartphone"];

/// A device pushing events at chosen times.
struct Phone {
    device: AuthDevice,
    seq: u64,
}

impl Phone {
    fn push(&mut self, store: &dyn Store, batch: Vec<(Payload, DateTime<Utc>)>) -> (usize, usize) {
        let events = batch
            .into_iter()
            .map(|(payload, device_time)| {
                self.seq += 1;
                Event {
                    id: Uuid::now_v7(),
                    device_id: self.device.device_id,
                    seq: self.seq,
                    author: self.device.user_id,
                    device_time,
                    payload,
                }
            })
            .collect();
        let request =
            PushRequest { schema_version: SCHEMA_VERSION, app_version: APP_VERSION.to_owned(), events, queued: None };
        let response = crate::sync::push::push(store, &self.device, &request).unwrap();
        assert_eq!(response.expected_seq, None);
        let applied = response.results.iter().filter(|r| r.status != EventStatus::Rejected).count();
        (applied, response.results.len() - applied)
    }
}

/// What the test has recorded so far, to aim the next events at.
#[derive(Default)]
struct Known {
    households: Vec<Uuid>,
    residents: Vec<Uuid>,
    /// (resident, visit, activated)
    visits: Vec<(Uuid, Uuid, bool)>,
}

fn counters_and_oracle(store: &dyn Store, range: &DayRange) -> (Facts, Facts) {
    let hamlets: Vec<String> = HAMLETS.iter().map(|h| (*h).to_owned()).collect();
    run_read(store, |tx| {
        let counted = oracle::normalized(&tx.report_facts(&hamlets, range)?);
        let expected = oracle::facts_of(&tx.dump_projection()?, &hamlets, range);
        Ok::<_, crate::domain::Error>((counted, expected))
    })
    .unwrap()
}

/// One random event against what is known, at a random time in the first ten days of
/// November 2026 (so days split at Vietnam's midnight).
fn random_event(rng: &mut Rng, known: &mut Known) -> Vec<Payload> {
    let pick = |rng: &mut Rng, ids: &[Uuid]| (!ids.is_empty()).then(|| *rng.pick(ids));
    match rng.below(20) {
        0..=3 => {
            let hamlet = *rng.pick(&HAMLETS);
            let size = 1 + rng.below(4) as usize;
            let (household, residents, payloads) = fixtures::household_payloads(rng, hamlet, size);
            known.households.push(household);
            known.residents.extend(residents);
            payloads
        }
        4..=5 => pick(rng, &known.households)
            .map(|household_id| {
                let members = 1 + rng.below(6) as u32;
                vec![Payload::HouseholdSurveyed(HouseholdSurveyed {
                    household_id,
                    members,
                    smartphones: rng.below(u64::from(members) + 1) as u32,
                    has_internet_computer: rng.below(2) == 0,
                })]
            })
            .unwrap_or_default(),
        6..=13 => pick(rng, &known.residents)
            .map(|resident_id| {
                let Payload::VisitRecorded(mut visit) = fixtures::visit_payload(rng, resident_id, &REASONS) else {
                    unreachable!("a visit")
                };
                if rng.below(4) == 0 && !visit.status.is_activated() {
                    visit.action = Some(VisitAction::ReferredLevel2);
                }
                known.visits.push((resident_id, visit.visit_id, visit.status.is_activated()));
                vec![Payload::VisitRecorded(visit)]
            })
            .unwrap_or_default(),
        14 => {
            let activated: Vec<(Uuid, Uuid)> =
                known.visits.iter().filter(|v| v.2).map(|&(resident, visit, _)| (resident, visit)).collect();
            if activated.is_empty() {
                return Vec::new();
            }
            let (resident_id, visit_id) = *rng.pick(&activated);
            let outcome = *rng.pick(&[CheckOutcome::Confirmed, CheckOutcome::Confirmed, CheckOutcome::Wrong]);
            vec![Payload::ClaimChecked(ClaimChecked { resident_id, visit_id, outcome })]
        }
        15..=16 => match (pick(rng, &known.residents), pick(rng, &known.residents)) {
            (Some(kept), Some(merged)) if kept != merged => {
                vec![Payload::ResidentsMerged(ResidentsMerged { kept, merged })]
            }
            _ => Vec::new(),
        },
        17 => pick(rng, &known.residents)
            .map(|resident_id| {
                let reason = (*rng.pick(&["duplicate", IMPORT_UNDONE])).to_owned();
                vec![Payload::ResidentRemoved(ResidentRemoved { resident_id, reason })]
            })
            .unwrap_or_default(),
        _ => pick(rng, &known.households)
            .filter(|_| rng.below(2) == 0)
            .map(|household_id| {
                let reason = (*rng.pick(&["moved_away", IMPORT_UNDONE])).to_owned();
                vec![Payload::HouseholdRemoved(HouseholdRemoved { household_id, reason })]
            })
            .unwrap_or_default(),
    }
}

/// Two officers of the demo commune, each with a phone.
fn phones(store: &dyn Store) -> Vec<Phone> {
    crate::admin::seed_demo(store).unwrap();
    let commune = Scope::single("03445");
    ["Công an xã A", "Công an xã B"]
        .into_iter()
        .map(|name| {
            let user = crate::admin::add_user(store, name, Role::CommunePolice, &commune).unwrap();
            Phone { device: crate::district::server_side_device(store, user, "office").unwrap(), seq: 0 }
        })
        .collect()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// Random work in pushes of 1 to 12 events from either phone; `after_each` is called after
/// every push with a random range of days. Answers (applied, rejected).
fn random_work(
    store: &dyn Store,
    phones: &mut [Phone],
    seeds: std::ops::RangeInclusive<u64>,
    mut after_each: impl FnMut(u64, usize, DayRange),
) -> (usize, usize) {
    let (mut applied, mut rejected) = (0, 0);
    for seed in seeds {
        let mut rng = Rng::new(seed);
        let mut known = Known::default();
        for push in 0..25 {
            let phone = &mut phones[rng.below(2) as usize];
            let mut batch = Vec::new();
            for _ in 0..1 + rng.below(12) {
                let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
                    + Duration::minutes(rng.below(10 * 24 * 60) as i64);
                batch.extend(random_event(&mut rng, &mut known).into_iter().map(|p| (p, at)));
            }
            let (a, r) = phone.push(store, batch);
            (applied, rejected) = (applied + a, rejected + r);
            let from = day(1 + rng.below(6) as u32);
            after_each(seed, push, DayRange::new(from, from + Duration::days(rng.below(4) as i64)).unwrap());
        }
    }
    (applied, rejected)
}

#[test]
fn the_counters_equal_a_count_of_the_projection_after_every_push() {
    let store = test_store::store();
    let store = &*store;
    let mut phones = phones(store);
    let whole = DayRange::new(day(1), day(30)).unwrap();
    // the demo households were pushed too
    let (counted, expected) = counters_and_oracle(store, &whole);
    assert!(!expected.states.is_empty());
    assert_eq!(counted, expected, "before any push");
    // every third push the counters are folded, as a serving server does every few seconds:
    // the report is exact with what the writes appended folded or not
    let mut folded = 0;
    let (applied, rejected) = random_work(store, &mut phones, 1..=4, |seed, push, range| {
        for range in [whole, range] {
            let (counted, expected) = counters_and_oracle(store, &range);
            assert_eq!(counted, expected, "seed {seed}, push {push}, days {range:?}");
        }
        if push % 3 == 2 {
            folded += run_write(store, |tx| tx.fold_counts()).unwrap();
            let (counted, expected) = counters_and_oracle(store, &range);
            assert_eq!(counted, expected, "seed {seed}, push {push}, days {range:?}, folded");
        }
    });
    match store.describe().kind {
        "postgres" => assert!(folded > 100, "PostgreSQL's pushes append and the fold moves them: {folded} rows"),
        _ => assert_eq!(folded, 0, "SQLite updates its counters in place"),
    }
    // the work was real: most events applied, every kind of change among them
    let (counted, _) = counters_and_oracle(store, &whole);
    assert!(applied > 400 && rejected < applied / 2, "{applied} applied, {rejected} rejected");
    assert!(counted.flows.iter().any(|f| f.activated > 0) && counted.flows.iter().any(|f| f.referred > 0));
    assert!(counted.states.iter().any(|s| s.confirmed));
    let p = run_read(store, |tx| tx.dump_projection()).unwrap();
    assert!(p.residents.values().any(|r| r.merged_into.is_some()), "a merge applied");
    assert!(p.residents.values().any(|r| r.removed.as_deref() == Some(IMPORT_UNDONE)), "an import undone");
    assert!(p.households.values().any(|h| h.removed.is_some()), "a household removed");
}

/// The statements of a `0012_report_counters` migration that fill the counters from the
/// projection, after emptying them and running `also`.
fn backfill(migration: &str, also: &str) -> String {
    let start = migration.find("INSERT INTO report_states").expect("the backfill");
    let end = migration.find("-- the campaign sets").expect("the index after it");
    format!(
        "DELETE FROM report_states; DELETE FROM report_households; DELETE FROM report_flows;\n{also}{}",
        &migration[start..end]
    )
}

#[test]
fn the_migrations_backfill_counts_what_the_pushes_counted() {
    let whole = DayRange::new(day(1), day(30)).unwrap();
    let check = |store: &dyn Store, refill: &dyn Fn()| {
        let mut phones = phones(store);
        random_work(store, &mut phones, 5..=6, |_, _, _| {});
        let (pushed, expected) = counters_and_oracle(store, &whole);
        assert_eq!(pushed, expected);
        refill();
        let (filled, expected) = counters_and_oracle(store, &whole);
        assert!(filled.flows.len() > 20, "{} flows", filled.flows.len());
        assert_eq!(filled, expected, "the backfill's counters");
    };
    match std::env::var("GOCUA_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let database = gocua_server_postgres::testing::TestDatabase::new();
            let store = gocua_server_postgres::PgStore::open(database.url(), None).unwrap();
            // with what the pushes appended and no fold moved yet (0013_report_deltas)
            let sql = backfill(
                include_str!("../../../migrations/server/postgres/0012_report_counters.sql"),
                "DELETE FROM report_state_deltas; DELETE FROM report_household_deltas; DELETE FROM report_flow_deltas;\n",
            );
            check(&store, &|| database.client().batch_execute(&sql).unwrap());
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("server.sqlite");
            let store = gocua_server_sqlite::SqliteStore::open(&path).unwrap();
            let sql = backfill(include_str!("../../../migrations/server/sqlite/0012_report_counters.sql"), "");
            check(&store, &|| rusqlite::Connection::open(&path).unwrap().execute_batch(&sql).unwrap());
        }
    }
}

#[test]
fn a_report_has_a_row_for_each_team_leader_over_the_hamlets_they_lead() {
    let store = test_store::store();
    let store = &*store;
    let mut phones = phones(store);
    random_work(store, &mut phones, 7..=7, |_, _, _| {});
    let two = Scope::new(["03445-01", "03445-02"]).unwrap();
    let leader = crate::admin::add_user(store, "Tổ trưởng Lò Văn An", Role::TeamLeader, &two).unwrap();
    let province = crate::admin::add_user(store, "Tổ trưởng cả tỉnh", Role::TeamLeader, &Scope::single("12")).unwrap();
    crate::admin::add_user(store, "Tình nguyện viên", Role::Volunteer, &two).unwrap();
    let request = crate::reports::ReportRequest {
        place: "03445".into(),
        range: Some(DayRange::new(day(1), day(30)).unwrap()),
        campaign: None,
        today: day(30),
    };
    let report = crate::reports::report(store, &request).unwrap().report;
    let teams: Vec<(Uuid, &str, u32)> = report.teams.iter().map(|t| (t.leader, t.name.as_str(), t.hamlets)).collect();
    assert_eq!(teams, [(leader, "Tổ trưởng Lò Văn An", 2), (province, "Tổ trưởng cả tỉnh", 4)]);
    let mut expected = gocua_core::report::Tally::default();
    for row in report.rows.iter().filter(|r| two.codes().contains(&r.place.code)) {
        expected.add(&row.tally);
    }
    assert!(expected.residents > 0);
    assert_eq!(report.teams[0].tally, expected);
    assert_eq!(report.teams[1].tally, report.total.tally);
    // a hamlet's report: only the teams that lead it
    let hamlet = crate::reports::ReportRequest { place: "03445-03".into(), ..request };
    let teams: Vec<Uuid> =
        crate::reports::report(store, &hamlet).unwrap().report.teams.iter().map(|t| t.leader).collect();
    assert_eq!(teams, [province]);
}

#[test]
fn a_serving_server_folds_what_the_pushes_appended_until_it_stops() {
    let (store, database) = test_store::shared_store();
    let mut phones = phones(&*store);
    let whole = DayRange::new(day(1), day(30)).unwrap();
    random_work(&*store, &mut phones, 8..=8, |_, _, _| {});
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // its first fold runs at once; it stops when the server does
    let shared = std::sync::Arc::clone(&store);
    runtime.block_on(async move {
        crate::reports::keep_counters(shared, tokio::time::sleep(std::time::Duration::from_millis(500))).await;
    });
    assert_eq!(run_write(&*store, |tx| tx.fold_counts()).unwrap(), 0, "nothing was left to fold");
    let (counted, expected) = counters_and_oracle(&*store, &whole);
    assert_eq!(counted, expected);
    // and there was something to fold: PostgreSQL's pushes append, SQLite's update in place
    random_work(&*store, &mut phones, 9..=9, |_, _, _| {});
    let appended = run_write(&*store, |tx| tx.fold_counts()).unwrap();
    match store.describe().kind {
        "postgres" => assert!(appended > 10, "{appended} counter rows moved"),
        _ => assert_eq!(appended, 0),
    }
    drop(store);
    drop(database);
}
