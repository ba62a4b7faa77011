//! The report over a real device store against an independent count of its projection: random
//! households, people, surveys, visits on random days (some referring to level 2), removals.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::event::{HouseholdSurveyed, Payload, ResidentRemoved, VisitRecorded};
use crate::fixtures::{self, Rng};
use crate::funnel::{FunnelState, VisitAction};
use crate::model::Resident;
use crate::report::{NOT_COUNTED_REASONS, Tally};

const REASONS: [&str; 5] = ["absent_unreachable", "not_eligible", "refused", "abroad", "deceased"];

fn enrolled() -> DeviceStore {
    let mut store = DeviceStore::open_in_memory().unwrap();
    store.save_enrollment("http://127.0.0.1:9/", &fixtures::enroll_response(&store)).unwrap();
    store
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// Random field work over ten days of November 2026, at random hours (so days split at
/// Vietnam's midnight, 17:00 UTC).
fn field_work(store: &mut DeviceStore, seed: u64, households: usize) {
    let mut rng = Rng::new(seed);
    let hamlets = ["03445-01", "03445-02", "03445-03"];
    let at = |rng: &mut Rng| -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::minutes(rng.below(10 * 24 * 60) as i64)
    };
    for i in 0..households {
        let (household_id, ids, payloads) = fixtures::household_payloads(&mut rng, hamlets[i % hamlets.len()], 3);
        let t = at(&mut rng);
        store.record_all(payloads, t).unwrap();
        if rng.below(3) > 0 {
            let members = 1 + rng.below(6) as u32;
            let survey = HouseholdSurveyed {
                household_id,
                members,
                smartphones: rng.below(u64::from(members) + 1) as u32,
                has_internet_computer: rng.below(2) == 0,
            };
            store.record_at(Payload::HouseholdSurveyed(survey), t).unwrap();
        }
        for resident_id in ids {
            for _ in 0..rng.below(3) {
                let Payload::VisitRecorded(mut visit) = fixtures::visit_payload(&mut rng, resident_id, &REASONS) else {
                    unreachable!()
                };
                if rng.below(4) == 0 && !visit.status.is_activated() {
                    visit.action = Some(VisitAction::ReferredLevel2);
                }
                let t = at(&mut rng);
                store.record_at(Payload::VisitRecorded(VisitRecorded { ..visit }), t).unwrap();
            }
            if rng.below(12) == 0 {
                let removed = ResidentRemoved { resident_id, reason: "duplicate".into() };
                store.record(Payload::ResidentRemoved(removed)).unwrap();
            }
        }
    }
}

/// The count the report must equal, straight from the projection's rows (no SQL).
fn count(store: &DeviceStore, hamlet: &str, range: &DayRange) -> Tally {
    let p = store.projection().unwrap();
    let reasons = store.reasons().unwrap();
    let (start, end) = range.bounds();
    let listed = |r: &&Resident| {
        r.removed.is_none()
            && r.merged_into.is_none()
            && p.households.get(&r.household_id).is_some_and(|h| h.removed.is_none() && h.hamlet_code == hamlet)
    };
    let mut t = Tally::default();
    for h in p.households.values().filter(|h| h.removed.is_none() && h.hamlet_code == hamlet) {
        t.households += 1;
        if let Some(m) = h.members {
            t.households_surveyed += 1;
            t.members += m;
        }
        t.smartphone_owners += h.smartphones.unwrap_or(0);
        t.households_with_computer += u32::from(h.has_internet_computer == Some(true));
    }
    for r in p.residents.values().filter(listed) {
        t.residents += 1;
        match r.status {
            None => t.not_visited += 1,
            Some(FunnelState::ActivatedLevel1) => t.activated_level1 += 1,
            Some(FunnelState::ActivatedLevel2) => t.activated_level2 += 1,
            Some(FunnelState::UsedPortal) => t.used_portal += 1,
            Some(FunnelState::NotRegistered) => t.not_registered += 1,
            Some(FunnelState::NoChipCccd) => t.no_chip_cccd += 1,
            Some(FunnelState::RegisteredPending) => t.registered_pending += 1,
            Some(FunnelState::ApprovedNotActivated) => t.approved_not_activated += 1,
        }
        let activated = r.status.is_some_and(FunnelState::is_activated);
        if let Some(reason) = r.reason_code.as_ref().filter(|_| !activated) {
            *t.by_reason.entry(reason.clone()).or_default() += 1;
            if reasons.get(reason).unwrap().can_activate_later {
                t.can_activate_later += 1;
            } else {
                t.cannot_activate_yet += 1;
            }
            t.not_counted += u32::from(NOT_COUNTED_REASONS.contains(&reason.as_str()));
        }
        let visits: Vec<_> = p.visits.values().filter(|v| v.resident_id == r.id).collect();
        let in_range = |t: &DateTime<Utc>| *t >= start && *t < end;
        for v in &visits {
            if in_range(&v.device_time) {
                t.visits_in_range += 1;
                t.referred_level2 += u32::from(v.action == Some(VisitAction::ReferredLevel2));
            }
        }
        let first = visits.iter().filter(|v| v.status.is_activated()).map(|v| v.device_time).min();
        t.activated_in_range += u32::from(first.is_some_and(|f| in_range(&f)));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn the_report_equals_a_count_of_the_projection(seed in any::<u64>(), households in 1usize..40, from in 1u32..8, len in 0u32..4) {
        let mut store = enrolled();
        field_work(&mut store, seed, households);
        let range = DayRange::new(day(from), day(from + len)).unwrap();
        let report = store.report("03445", range, None).unwrap();
        let mut total = Tally::default();
        for hamlet in ["03445-01", "03445-02", "03445-03", "03445-04"] {
            let row = report.rows.iter().find(|r| r.place.code == hamlet).unwrap();
            let expected = count(&store, hamlet, &range);
            prop_assert_eq!(&row.tally, &expected, "hamlet {}", hamlet);
            total.add(&expected);
        }
        prop_assert_eq!(&report.total.tally, &total);
        // the SQL's rows, first activations' authors and days included, are the oracle's
        let hamlets: Vec<String> = ["03445-01", "03445-02", "03445-03", "03445-04"].map(String::from).to_vec();
        let facts = crate::sql::report::facts(&store.conn, &hamlets, &range).unwrap();
        let expected = crate::report::oracle::facts_of(&store.projection().unwrap(), &hamlets, &range);
        prop_assert_eq!(crate::report::oracle::normalized(&facts), expected);
        let by_day: u32 = report.days.iter().map(|d| d.activated).sum();
        let by_person: u32 = report.people.iter().map(|p| p.visits).sum();
        prop_assert_eq!((by_day, by_person), (total.activated_in_range, total.visits_in_range));
    }
}

#[test]
fn a_campaign_report_follows_the_campaign_window_and_an_unknown_one_is_named() {
    let mut store = enrolled();
    field_work(&mut store, 7, 12);
    let range = DayRange::new(day(1), day(30)).unwrap();
    let err = store.report("03445", range, Some(Uuid::from_u128(5))).unwrap_err();
    assert!(err.to_string().contains("không tìm thấy"), "{err}");
    let err = store.report("nowhere", range, None).unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    let all = store.report("03445", range, None).unwrap();
    assert!(all.total.tally.visits_in_range > 0);
    assert_eq!(all.days.len(), 30);
}

#[test]
fn a_team_leader_assigned_hamlets_gets_a_team_row_summing_them_and_no_one_else_does() {
    let mut store = DeviceStore::open_in_memory().unwrap();
    let mut enrollment = fixtures::enroll_response(&store);
    enrollment.user.role = crate::sync::protocol::Role::CommunePolice;
    store.save_enrollment("http://127.0.0.1:9/", &enrollment).unwrap();
    field_work(&mut store, 11, 18);
    let (leader, volunteer, elsewhere) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for (id, name, role) in [
        (leader, "Giàng A Páo", "team_leader"),
        (volunteer, "Lò Văn Sơn", "volunteer"),
        (elsewhere, "Vàng Thị Mai", "team_leader"),
    ] {
        store
            .conn
            .execute("INSERT INTO people (id, name, role) VALUES (?1, ?2, ?3)", (id.to_string(), name, role))
            .unwrap();
    }
    let assign = |store: &mut DeviceStore, user_id: Uuid, places: &[&str]| {
        let places = places.iter().map(|p| (*p).to_owned()).collect();
        store.record(Payload::AssignmentSet(crate::event::AssignmentSet { user_id, places })).unwrap();
    };
    assign(&mut store, leader, &["03445-01", "03445-02"]);
    assign(&mut store, volunteer, &["03445-03"]);
    assign(&mut store, elsewhere, &["03445-03"]);
    let range = DayRange::new(day(1), day(30)).unwrap();

    let report = store.report("03445", range, None).unwrap();
    let names: Vec<&str> = report.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Giàng A Páo", "Vàng Thị Mai"], "team leaders only, by name");
    let mut two = count(&store, "03445-01", &range);
    two.add(&count(&store, "03445-02", &range));
    assert_eq!(report.teams[0].tally, two);
    assert_eq!(report.teams[0].hamlets, 2);
    assert_eq!(report.teams[1].tally, count(&store, "03445-03", &range));

    // a hamlet's report holds only the teams working in it
    let one = store.report("03445-03", range, None).unwrap();
    let names: Vec<&str> = one.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Vàng Thị Mai"]);
}
