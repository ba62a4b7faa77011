//! The report builder: roll-up through the place tree, rates, quotas, ranking, the range.

use chrono::NaiveDate;

use super::*;
use crate::event::Quota;
use crate::fixtures::demo_places;
use crate::places::PlaceLevel;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn reasons() -> ReasonCatalog {
    let store = crate::store::DeviceStore::open_in_memory().unwrap();
    crate::sql::catalog::reasons(store.connection()).unwrap()
}

/// The commune of the demo places with its four hamlets as rows.
fn commune() -> Units {
    let places = demo_places();
    Units::walk(places[1].clone(), |code| {
        Ok::<_, ()>(places.iter().filter(|p| p.parent_code.as_deref() == Some(code)).cloned().collect())
    })
    .unwrap()
}

fn state(hamlet: &str, status: Option<FunnelState>, reason: Option<&str>, confirmed: bool, n: u32) -> StateCount {
    StateCount { hamlet: hamlet.into(), status, reason: reason.map(str::to_owned), confirmed, n }
}

fn flow(hamlet: &str, d: u32, author: Uuid, activated: u32, visits: u32) -> FlowCount {
    FlowCount { hamlet: hamlet.into(), day: day(d), author, activated, visits, referred: 0 }
}

#[test]
fn the_province_walk_puts_every_hamlet_under_its_commune() {
    let places = demo_places();
    let units = Units::walk(places[0].clone(), |code| {
        Ok::<_, ()>(places.iter().filter(|p| p.parent_code.as_deref() == Some(code)).cloned().collect())
    })
    .unwrap();
    assert_eq!(units.rows.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), ["03445"]);
    assert_eq!(units.hamlets(), ["03445-01", "03445-02", "03445-03", "03445-04"]);
    assert!(units.hamlet_row.values().all(|row| row == "03445"));
}

#[test]
fn states_roll_up_to_rows_and_the_total_with_rates_and_reasons() {
    let units = commune();
    let facts = Facts {
        states: vec![
            state("03445-01", Some(FunnelState::ActivatedLevel1), None, true, 3),
            state("03445-01", Some(FunnelState::ActivatedLevel2), None, false, 1),
            state("03445-01", Some(FunnelState::NotRegistered), Some("absent_unreachable"), false, 2),
            state("03445-01", Some(FunnelState::NotRegistered), Some("not_eligible"), false, 2),
            state("03445-02", None, None, false, 5),
            state("03445-02", Some(FunnelState::UsedPortal), None, false, 1),
            state("03445-02", Some(FunnelState::NoChipCccd), Some("in_prison"), false, 4),
            // a reason left on an activated person is not a reason they are not activated
            state("03445-02", Some(FunnelState::ActivatedLevel1), Some("refused"), false, 1),
            // a hamlet outside the report is left out
            state("99999-01", Some(FunnelState::ActivatedLevel1), None, false, 50),
        ],
        households: vec![HouseholdCount {
            hamlet: "03445-01".into(),
            listed: 4,
            surveyed: 3,
            members: 11,
            smartphones: 6,
            with_computer: 1,
        }],
        ..Facts::default()
    };
    let r = build(&units, &facts, &reasons(), DayRange::new(day(1), day(7)).unwrap(), None);
    let h1 = &r.rows[0];
    assert_eq!(h1.place.code, "03445-01");
    assert_eq!((h1.tally.residents, h1.tally.activated(), h1.tally.confirmed), (8, 4, 3));
    assert_eq!((h1.tally.not_counted, h1.tally.eligible()), (2, 6));
    assert_eq!(h1.rate, Some(4.0 / 6.0));
    assert_eq!(
        (h1.tally.reason("absent_unreachable"), h1.tally.can_activate_later, h1.tally.cannot_activate_yet),
        (2, 2, 2)
    );
    assert_eq!((h1.tally.households, h1.tally.households_surveyed, h1.tally.members), (4, 3, 11));
    let h2 = &r.rows[1];
    assert_eq!((h2.tally.not_visited, h2.tally.used_portal, h2.tally.activated()), (5, 1, 2));
    assert_eq!((h2.tally.reason("in_prison"), h2.tally.reason("refused"), h2.tally.cannot_activate_yet), (4, 0, 4));
    assert_eq!(h2.rate, Some(2.0 / 11.0));
    // hamlets with nothing still get their row, with no rate
    assert_eq!(r.rows.len(), 4);
    assert_eq!((r.rows[2].tally.residents, r.rows[2].rate), (0, None));
    assert_eq!(r.total.place.code, "03445");
    assert_eq!((r.total.tally.residents, r.total.tally.activated(), r.total.tally.eligible()), (19, 6, 17));
    assert_eq!(r.total.rank, 0);
    assert_eq!(r.rows.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3, 3]);
}

#[test]
fn flows_count_inside_the_range_by_day_and_by_person_with_quotas() {
    let units = commune();
    let (lan, minh) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let facts = Facts {
        flows: vec![
            flow("03445-01", 2, lan, 3, 5),
            flow("03445-01", 3, minh, 1, 2),
            flow("03445-02", 3, lan, 2, 2),
            flow("03445-02", 9, lan, 7, 7), // after the range
        ],
        names: [(lan, "Lò Thị Lan".to_owned())].into(),
        ..Facts::default()
    };
    let campaign = CampaignSet {
        campaign_id: Uuid::from_u128(9),
        name: "Cao điểm".into(),
        place: "03445".into(),
        starts: day(1),
        ends: day(7),
        target: None,
        per_official: None,
        quotas: vec![
            Quota { holder: QuotaHolder::Place("03445-01".into()), total: Some(8), per_day: None },
            Quota { holder: QuotaHolder::Place("03445-02".into()), total: Some(4), per_day: None },
            Quota { holder: QuotaHolder::User(lan), total: Some(10), per_day: Some(2) },
        ],
    };
    let r = build(&units, &facts, &reasons(), DayRange::new(day(1), day(7)).unwrap(), Some(&campaign));
    assert_eq!(r.rows[0].tally.activated_in_range, 4);
    assert_eq!((r.rows[0].quota, r.rows[0].progress), (Some(8), Some(0.5)));
    assert_eq!((r.rows[1].quota, r.rows[1].progress), (Some(4), Some(0.5)));
    assert_eq!((r.rows[2].quota, r.rows[2].progress), (None, None));
    assert_eq!((r.total.tally.activated_in_range, r.total.tally.visits_in_range), (6, 9));
    assert_eq!((r.total.quota, r.total.progress), (Some(12), Some(0.5)));
    assert_eq!(r.days.len(), 7);
    assert_eq!((r.days[1].activated, r.days[2].activated, r.days[2].visits), (3, 3, 4));
    assert_eq!(r.people.len(), 2);
    assert_eq!((r.people[0].name.as_str(), r.people[0].activated, r.people[0].quota), ("Lò Thị Lan", 5, Some(10)));
    assert_eq!((r.people[0].rank, r.people[1].rank, r.people[1].name.as_str()), (1, 2, ""));

    // the campaign's own target wins for its place
    let targeted = CampaignSet { target: Some(30), ..campaign };
    let r = build(&units, &facts, &reasons(), DayRange::new(day(1), day(7)).unwrap(), Some(&targeted));
    assert_eq!((r.total.quota, r.total.progress), (Some(30), Some(6.0 / 30.0)));
}

#[test]
fn a_hamlet_report_is_its_own_total_and_has_no_rows() {
    let hamlet = demo_places().into_iter().find(|p| p.level == PlaceLevel::Hamlet).unwrap();
    let units = Units::walk(hamlet, |_| Ok::<_, ()>(Vec::new())).unwrap();
    let facts = Facts {
        states: vec![state("03445-01", Some(FunnelState::ActivatedLevel2), None, false, 2)],
        ..Facts::default()
    };
    let r = build(&units, &facts, &reasons(), DayRange::new(day(1), day(1)).unwrap(), None);
    assert!(r.rows.is_empty());
    assert_eq!(r.total.tally.activated_level2, 2);
}

#[test]
fn a_range_ending_before_it_starts_is_refused_and_days_are_vietnam_days() {
    assert!(DayRange::new(day(5), day(4)).unwrap_err().to_string().contains("trước ngày bắt đầu"));
    let (start, end) = DayRange::new(day(5), day(6)).unwrap().bounds_text();
    assert_eq!((start.as_str(), end.as_str()), ("2026-11-04T17:00:00.000000Z", "2026-11-06T17:00:00.000000Z"));
}

#[test]
fn teams_sum_the_hamlets_their_leaders_lead_with_the_leaders_quota() {
    let units = commune();
    let (an, binh) = (Uuid::from_u128(11), Uuid::from_u128(12));
    // a leader of two hamlets; a leader of the whole commune (given above the report's place)
    let two = units.hamlets_in(&["03445-01".into(), "03445-02".into(), "99999-01".into()], &["12".into()]);
    assert_eq!(two, ["03445-01", "03445-02"]);
    let all = units.hamlets_in(&["12".into()], &["12".into()]);
    assert_eq!(all.len(), 4);
    assert!(units.hamlets_in(&["13".into()], &["12".into()]).is_empty());
    let facts = Facts {
        states: vec![
            state("03445-01", Some(FunnelState::ActivatedLevel1), None, false, 3),
            state("03445-02", Some(FunnelState::NotRegistered), None, false, 3),
            state("03445-03", Some(FunnelState::ActivatedLevel2), None, false, 4),
        ],
        flows: vec![flow("03445-01", 2, an, 3, 3), flow("03445-03", 2, binh, 4, 4)],
        names: [(an, "Tổ trưởng An".to_owned()), (binh, "Tổ trưởng Bình".to_owned())].into(),
        teams: vec![TeamScope { leader: an, hamlets: two }, TeamScope { leader: binh, hamlets: all }],
        ..Facts::default()
    };
    let campaign = CampaignSet {
        campaign_id: Uuid::from_u128(9),
        name: "Cao điểm".into(),
        place: "03445".into(),
        starts: day(1),
        ends: day(7),
        target: None,
        per_official: None,
        quotas: vec![Quota { holder: QuotaHolder::User(an), total: Some(6), per_day: None }],
    };
    let r = build(&units, &facts, &reasons(), DayRange::new(day(1), day(7)).unwrap(), Some(&campaign));
    let names: Vec<&str> = r.teams.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Tổ trưởng An", "Tổ trưởng Bình"]);
    let (a, b) = (&r.teams[0], &r.teams[1]);
    assert_eq!((a.hamlets, a.tally.residents, a.tally.activated(), a.tally.activated_in_range), (2, 6, 3, 3));
    assert_eq!((a.rate, a.quota, a.progress), (Some(0.5), Some(6), Some(0.5)));
    assert_eq!((b.hamlets, b.tally.residents, b.tally.activated_in_range), (4, 10, 7));
    assert_eq!((b.rate, b.quota), (Some(0.7), None));
    assert_eq!((a.rank, b.rank), (2, 1));
    assert_eq!(b.tally, r.total.tally, "a team of every hamlet is the total");

    // the appendix has a sheet of them, read back as a reader of the file would
    use calamine::{Data, Reader, Xlsx};
    let mut bytes = Vec::new();
    appendix::write(&r, &reasons(), std::io::Cursor::new(&mut bytes)).unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range(appendix::SHEET_TEAMS).unwrap();
    let row = |i: u32| -> Vec<Data> {
        (0..11).map(|c| sheet.get_value((appendix::HEADER_ROWS + i, c)).cloned().unwrap_or(Data::Empty)).collect()
    };
    assert_eq!(row(0)[1], Data::String("Tổ trưởng An".into()));
    assert_eq!(&row(0)[2..8], &[2.0, 6.0, 6.0, 3.0, 3.0, 6.0].map(Data::Float));
    assert_eq!((&row(0)[8], &row(0)[9], &row(0)[10]), (&Data::Float(0.5), &Data::Float(0.5), &Data::Float(2.0)));
    assert_eq!((&row(1)[1], &row(1)[7]), (&Data::String("Tổ trưởng Bình".into()), &Data::Empty));
    // without teams, no such sheet
    let none = build(&units, &Facts { teams: Vec::new(), ..facts }, &reasons(), r.range, None);
    let mut bytes = Vec::new();
    appendix::write(&none, &reasons(), std::io::Cursor::new(&mut bytes)).unwrap();
    let book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert!(!book.sheet_names().iter().any(|n| n == appendix::SHEET_TEAMS));
}
