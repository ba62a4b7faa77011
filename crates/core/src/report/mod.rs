//! Reports the police send ("Phụ lục thống kê"): what a place's households and people came to,
//! unit by unit, for a date range or a campaign. One module for the office app and the server:
//! a store answers [`Facts`] (counts per hamlet, per day and per author, on its own backend) and
//! [`build`] turns them into the report, the same way everywhere.
//!
//! Definitions (the seeds' words, DOMAIN.md "Quotas, people and reports"):
//! - A person or household is *listed* while not removed and not merged into another record;
//!   only listed people count.
//! - *Activated* is a state at level 1, level 2, or having used the public-service portal;
//!   *confirmed* is an activation a spot-check confirmed in the national system.
//! - *Eligible* is every listed person but those whose reason says they are not to be counted
//!   ([`NOT_COUNTED_REASONS`]: not eligible, deceased, moved away): "danh sách công dân không đủ
//!   điều kiện (tính tỷ lệ)". The rate is activated / eligible.
//! - States (the funnel, reasons, households) are as of now; flows (first activations, visits,
//!   referrals to level 2) are those in the range, by the local day (UTC+7) of the phone's
//!   clamped clock. A person's activation counts once, on the day and for the author of their
//!   first successful one.

pub mod appendix;
pub mod lists;
pub mod oracle;
pub mod web;

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{CampaignSet, QuotaHolder};
use crate::funnel::FunnelState;
use crate::places::Place;
use crate::reasons::ReasonCatalog;

/// Vietnam's clock (ICT, no daylight saving): report days are its calendar days.
pub const REPORT_UTC_OFFSET_MINUTES: i32 = 7 * 60;

/// Reasons that take a person out of the eligible count (and so out of the rate's denominator).
pub const NOT_COUNTED_REASONS: [&str; 3] = ["not_eligible", "deceased", "moved_away"];

/// The reason of "không có mặt" (absent).
pub const ABSENT_REASON: &str = "absent_unreachable";
/// The reason of "không đủ điều kiện" (not eligible).
pub const NOT_ELIGIBLE_REASON: &str = "not_eligible";
/// The reason of "từ chối" (refused).
pub const REFUSED_REASON: &str = "refused";

/// The days a report covers, both inclusive (local days).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRange {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub until: NaiveDate,
}

impl DayRange {
    /// The range, or an error in Vietnamese first when it ends before it starts.
    pub fn new(from: NaiveDate, until: NaiveDate) -> Result<DayRange, crate::Error> {
        if until < from {
            return Err(crate::Error::invalid_input(format!(
                "ngày kết thúc {until} trước ngày bắt đầu {from} / the range ends before it starts"
            )));
        }
        Ok(DayRange { from, until })
    }

    /// The instants it spans, `[start, end)` in UTC.
    pub fn bounds(&self) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
        let offset = Duration::minutes(REPORT_UTC_OFFSET_MINUTES.into());
        let start = self.from.and_time(NaiveTime::MIN).and_utc() - offset;
        let end = self.until.and_time(NaiveTime::MIN).and_utc() + Duration::days(1) - offset;
        (start, end)
    }

    /// The same bounds as the device and server SQLite store times (RFC 3339, microseconds, `Z`).
    pub fn bounds_text(&self) -> (String, String) {
        let (start, end) = self.bounds();
        let fmt = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        (fmt(start), fmt(end))
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(move |d| *d <= self.until)
    }
}

/// Vietnam's calendar day of a time: the day a flow counts on.
pub fn local_day(t: chrono::DateTime<Utc>) -> NaiveDate {
    (t + Duration::minutes(REPORT_UTC_OFFSET_MINUTES.into())).date_naive()
}

/// Listed people of a hamlet in one state: a row of a `GROUP BY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    /// Hamlet code.
    pub hamlet: String,
    /// Their state (`None`: not visited yet).
    pub status: Option<FunnelState>,
    /// Their reason code, if any.
    pub reason: Option<String>,
    /// A spot-check confirmed their activation.
    pub confirmed: bool,
    /// How many.
    pub n: u32,
}

/// A hamlet's listed households.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdCount {
    /// Hamlet code.
    pub hamlet: String,
    /// Listed households.
    pub listed: u32,
    /// Of those, surveyed (members counted).
    pub surveyed: u32,
    /// Members of the surveyed households.
    pub members: u32,
    /// Of those, owning a smartphone.
    pub smartphones: u32,
    /// Households with an internet-connected computer.
    pub with_computer: u32,
}

/// What happened in a hamlet on a day by one author (of listed people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowCount {
    /// Hamlet code.
    pub hamlet: String,
    /// Local day.
    pub day: NaiveDate,
    /// The user who recorded it.
    pub author: Uuid,
    /// First successful activations.
    pub activated: u32,
    /// Visits recorded.
    pub visits: u32,
    /// Visits that referred the person to level 2 at the police.
    pub referred: u32,
}

/// What a store answers for a set of hamlets and a range: the only input of [`build`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// People by state, per hamlet.
    pub states: Vec<StateCount>,
    /// Households, per hamlet.
    pub households: Vec<HouseholdCount>,
    /// Flows in the range, per hamlet, day and author (rows may repeat a key: they add up).
    pub flows: Vec<FlowCount>,
    /// Names of the authors (and team leaders) the store knows.
    pub names: BTreeMap<Uuid, String>,
    /// The teams working under the report's place (none where the store does not know them).
    pub teams: Vec<TeamScope>,
}

/// A team ("tổ công tác"): a team leader and the report's hamlets in their places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamScope {
    /// The team leader.
    pub leader: Uuid,
    /// The hamlets they lead, of those the report counts.
    pub hamlets: Vec<String>,
}

/// The numbers of one unit (a row of the appendix).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Listed households.
    pub households: u32,
    /// Households surveyed (members, smartphones and computer recorded).
    pub households_surveyed: u32,
    /// Members of the surveyed households.
    pub members: u32,
    /// Of those, owning a smartphone.
    pub smartphone_owners: u32,
    /// Households with an internet-connected computer.
    pub households_with_computer: u32,
    /// Listed people.
    pub residents: u32,
    /// Not visited yet (no state recorded).
    pub not_visited: u32,
    /// No chip CCCD yet.
    pub no_chip_cccd: u32,
    /// Has a CCCD, never registered.
    pub not_registered: u32,
    /// Registered, waiting for approval.
    pub registered_pending: u32,
    /// Approved, not activated.
    pub approved_not_activated: u32,
    /// Activated at level 1 (claimed).
    pub activated_level1: u32,
    /// Activated at level 2 (claimed).
    pub activated_level2: u32,
    /// Activated and used the public-service portal.
    pub used_portal: u32,
    /// Activations a spot-check confirmed.
    pub confirmed: u32,
    /// Not activated, with a reason that can be overcome later ("có thể kích hoạt").
    pub can_activate_later: u32,
    /// Not activated, with a reason that cannot be overcome yet ("chưa thể kích hoạt").
    pub cannot_activate_yet: u32,
    /// Not activated, per reason code.
    pub by_reason: BTreeMap<String, u32>,
    /// Out of the eligible count (reasons of [`NOT_COUNTED_REASONS`]).
    pub not_counted: u32,
    /// First activations in the range.
    pub activated_in_range: u32,
    /// Visits in the range.
    pub visits_in_range: u32,
    /// Referrals to level 2 in the range.
    pub referred_level2: u32,
}

impl Tally {
    /// Activated people (level 1, level 2, portal).
    pub fn activated(&self) -> u32 {
        self.activated_level1 + self.activated_level2 + self.used_portal
    }

    /// People counted for the rate.
    pub fn eligible(&self) -> u32 {
        self.residents - self.not_counted
    }

    /// Activated / eligible, `None` with nobody eligible.
    pub fn rate(&self) -> Option<f64> {
        (self.eligible() > 0).then(|| f64::from(self.activated()) / f64::from(self.eligible()))
    }

    /// People not activated for this reason.
    pub fn reason(&self, code: &str) -> u32 {
        self.by_reason.get(code).copied().unwrap_or(0)
    }

    /// Adds `other`'s numbers to these (a row's hamlets, a team's).
    pub fn add(&mut self, other: &Tally) {
        let Tally {
            households,
            households_surveyed,
            members,
            smartphone_owners,
            households_with_computer,
            residents,
            not_visited,
            no_chip_cccd,
            not_registered,
            registered_pending,
            approved_not_activated,
            activated_level1,
            activated_level2,
            used_portal,
            confirmed,
            can_activate_later,
            cannot_activate_yet,
            by_reason,
            not_counted,
            activated_in_range,
            visits_in_range,
            referred_level2,
        } = other;
        self.households += households;
        self.households_surveyed += households_surveyed;
        self.members += members;
        self.smartphone_owners += smartphone_owners;
        self.households_with_computer += households_with_computer;
        self.residents += residents;
        self.not_visited += not_visited;
        self.no_chip_cccd += no_chip_cccd;
        self.not_registered += not_registered;
        self.registered_pending += registered_pending;
        self.approved_not_activated += approved_not_activated;
        self.activated_level1 += activated_level1;
        self.activated_level2 += activated_level2;
        self.used_portal += used_portal;
        self.confirmed += confirmed;
        self.can_activate_later += can_activate_later;
        self.cannot_activate_yet += cannot_activate_yet;
        for (code, n) in by_reason {
            *self.by_reason.entry(code.clone()).or_default() += n;
        }
        self.not_counted += not_counted;
        self.activated_in_range += activated_in_range;
        self.visits_in_range += visits_in_range;
        self.referred_level2 += referred_level2;
    }

    fn add_state(&mut self, row: &StateCount, reasons: &ReasonCatalog) {
        let n = row.n;
        self.residents += n;
        match row.status {
            None => self.not_visited += n,
            Some(FunnelState::NoChipCccd) => self.no_chip_cccd += n,
            Some(FunnelState::NotRegistered) => self.not_registered += n,
            Some(FunnelState::RegisteredPending) => self.registered_pending += n,
            Some(FunnelState::ApprovedNotActivated) => self.approved_not_activated += n,
            Some(FunnelState::ActivatedLevel1) => self.activated_level1 += n,
            Some(FunnelState::ActivatedLevel2) => self.activated_level2 += n,
            Some(FunnelState::UsedPortal) => self.used_portal += n,
        }
        let activated = row.status.is_some_and(FunnelState::is_activated);
        if activated && row.confirmed {
            self.confirmed += n;
        }
        if let Some(code) = row.reason.as_deref().filter(|_| !activated) {
            *self.by_reason.entry(code.to_owned()).or_default() += n;
            // a reason the catalog no longer knows counts as one that can be overcome
            if reasons.get(code).is_none_or(|r| r.can_activate_later) {
                self.can_activate_later += n;
            } else {
                self.cannot_activate_yet += n;
            }
            if NOT_COUNTED_REASONS.contains(&code) {
                self.not_counted += n;
            }
        }
    }
}

/// One unit's row: a place below the report's, or the report's place itself (the total).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRow {
    /// The place.
    pub place: Place,
    /// Its numbers.
    pub tally: Tally,
    /// Activated / eligible.
    pub rate: Option<f64>,
    /// The campaign's quota for it (its own, or its places' summed).
    pub quota: Option<u32>,
    /// First activations in the range / quota.
    pub progress: Option<f64>,
    /// Place in the emulation ranking (1 = highest rate; ties share a rank); 0 for the total.
    pub rank: u32,
}

/// One day of the trend.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayPoint {
    /// The day.
    pub day: NaiveDate,
    /// First activations.
    pub activated: u32,
    /// Visits.
    pub visits: u32,
}

/// One person's work in the range.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRow {
    /// The user.
    pub user_id: Uuid,
    /// Their name ("" when unknown here).
    pub name: String,
    /// People they activated for the first time.
    pub activated: u32,
    /// Visits they recorded.
    pub visits: u32,
    /// Referrals to level 2.
    pub referred: u32,
    /// Their quota in the campaign, if any.
    pub quota: Option<u32>,
    /// Activated / quota.
    pub progress: Option<f64>,
    /// Place in the ranking by activations (1 = most).
    pub rank: u32,
}

/// One team's numbers: the hamlets its leader leads, summed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRow {
    /// The team leader.
    pub leader: Uuid,
    /// Their name ("" when unknown here).
    pub name: String,
    /// How many of the report's hamlets the team covers.
    pub hamlets: u32,
    /// Its numbers.
    pub tally: Tally,
    /// Activated / eligible.
    pub rate: Option<f64>,
    /// The leader's quota in the campaign (their team's), if any.
    pub quota: Option<u32>,
    /// First activations in the range / quota.
    pub progress: Option<f64>,
    /// Place in the emulation ranking by rate (1 = highest).
    pub rank: u32,
}

/// A report.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The days it covers.
    pub range: DayRange,
    /// The campaign it follows, if any.
    pub campaign: Option<CampaignSet>,
    /// One row per place just below the report's, ranked; by name.
    pub rows: Vec<UnitRow>,
    /// The report's place with every number summed.
    pub total: UnitRow,
    /// Day by day.
    pub days: Vec<DayPoint>,
    /// Person by person, most activations first.
    pub people: Vec<PersonRow>,
    /// Team by team ("theo tổ"), ranked by rate; by name.
    pub teams: Vec<TeamRow>,
}

/// The place a report is about and how its hamlets roll up.
#[derive(Debug, Clone)]
pub struct Units {
    /// The report's place.
    pub place: Place,
    /// Its rows: the places just below it (none for a hamlet).
    pub rows: Vec<Place>,
    /// Each hamlet under the place with the row it counts in (itself for a hamlet report).
    pub hamlet_row: BTreeMap<String, String>,
}

impl Units {
    /// Walks the tree below `place` with `children` (a catalog's direct children).
    pub fn walk<E>(place: Place, mut children: impl FnMut(&str) -> Result<Vec<Place>, E>) -> Result<Units, E> {
        use crate::places::PlaceLevel;
        let mut hamlet_row = BTreeMap::new();
        if place.level == PlaceLevel::Hamlet {
            hamlet_row.insert(place.code.clone(), place.code.clone());
            return Ok(Units { place, rows: Vec::new(), hamlet_row });
        }
        let rows: Vec<Place> =
            children(&place.code)?.into_iter().filter(|p| p.level != PlaceLevel::Household).collect();
        for row in &rows {
            let mut stack = vec![row.clone()];
            while let Some(p) = stack.pop() {
                if p.level == PlaceLevel::Hamlet {
                    hamlet_row.insert(p.code.clone(), row.code.clone());
                } else {
                    stack.extend(children(&p.code)?);
                }
            }
        }
        Ok(Units { place, rows, hamlet_row })
    }

    /// Every hamlet counted, sorted.
    pub fn hamlets(&self) -> Vec<String> {
        self.hamlet_row.keys().cloned().collect()
    }

    /// The hamlets counted that lie in any of `places`: a hamlet itself, its row, the report's
    /// place, or one of `above` (the codes of the places above the report's).
    pub fn hamlets_in(&self, places: &[String], above: &[String]) -> Vec<String> {
        let holds = |code: &str| places.iter().any(|p| p == code);
        let whole = holds(&self.place.code) || above.iter().any(|a| holds(a));
        self.hamlet_row.iter().filter(|(h, row)| whole || holds(h) || holds(row)).map(|(h, _)| h.clone()).collect()
    }
}

/// Builds the report of `units` from a store's `facts` over `range`, with the quotas of
/// `campaign` when one is followed.
pub fn build(
    units: &Units,
    facts: &Facts,
    reasons: &ReasonCatalog,
    range: DayRange,
    campaign: Option<&CampaignSet>,
) -> Report {
    // tallies by hamlet first: rows and teams are sums of them
    let mut per_hamlet: BTreeMap<&str, Tally> = BTreeMap::new();
    let counted = |hamlet: &str| units.hamlet_row.contains_key(hamlet);
    for s in facts.states.iter().filter(|s| counted(&s.hamlet)) {
        per_hamlet.entry(&s.hamlet).or_default().add_state(s, reasons);
    }
    for h in &facts.households {
        if counted(&h.hamlet) {
            let t = per_hamlet.entry(&h.hamlet).or_default();
            t.households += h.listed;
            t.households_surveyed += h.surveyed;
            t.members += h.members;
            t.smartphone_owners += h.smartphones;
            t.households_with_computer += h.with_computer;
        }
    }
    let mut days: BTreeMap<NaiveDate, DayPoint> =
        range.days().map(|day| (day, DayPoint { day, activated: 0, visits: 0 })).collect();
    let mut people: BTreeMap<Uuid, (u32, u32, u32)> = BTreeMap::new();
    for f in facts.flows.iter().filter(|f| range.from <= f.day && f.day <= range.until && counted(&f.hamlet)) {
        let t = per_hamlet.entry(&f.hamlet).or_default();
        t.activated_in_range += f.activated;
        t.visits_in_range += f.visits;
        t.referred_level2 += f.referred;
        if let Some(d) = days.get_mut(&f.day) {
            d.activated += f.activated;
            d.visits += f.visits;
        }
        let p = people.entry(f.author).or_default();
        p.0 += f.activated;
        p.1 += f.visits;
        p.2 += f.referred;
    }

    let mut per_row: BTreeMap<&str, Tally> = BTreeMap::new();
    for (hamlet, t) in &per_hamlet {
        per_row.entry(units.hamlet_row[*hamlet].as_str()).or_default().add(t);
    }
    let quota_of = |place: &Place| campaign.and_then(|c| unit_quota(c, place, units));
    let unit_row = |place: &Place, tally: Tally| {
        let quota = quota_of(place);
        UnitRow {
            rate: tally.rate(),
            progress: quota.filter(|q| *q > 0).map(|q| f64::from(tally.activated_in_range) / f64::from(q)),
            quota,
            place: place.clone(),
            tally,
            rank: 0,
        }
    };
    let mut rows: Vec<UnitRow> =
        units.rows.iter().map(|p| unit_row(p, per_row.get(p.code.as_str()).cloned().unwrap_or_default())).collect();
    let mut total_tally = Tally::default();
    for t in per_row.values() {
        total_tally.add(t);
    }
    let total = unit_row(&units.place, total_tally);
    rank_by(&mut rows, |r| r.rate.unwrap_or(-1.0), |r, rank| r.rank = rank);

    let mut people: Vec<PersonRow> = people
        .into_iter()
        .map(|(user_id, (activated, visits, referred))| {
            let quota = user_quota(campaign, user_id);
            PersonRow {
                user_id,
                name: facts.names.get(&user_id).cloned().unwrap_or_default(),
                activated,
                visits,
                referred,
                progress: quota.filter(|q| *q > 0).map(|q| f64::from(activated) / f64::from(q)),
                quota,
                rank: 0,
            }
        })
        .collect();
    people.sort_by(|a, b| b.activated.cmp(&a.activated).then(a.name.cmp(&b.name)).then(a.user_id.cmp(&b.user_id)));
    rank_by(&mut people, |p| f64::from(p.activated), |p, rank| p.rank = rank);

    let mut teams: Vec<TeamRow> = facts
        .teams
        .iter()
        .map(|team| {
            let mut tally = Tally::default();
            for hamlet in &team.hamlets {
                if let Some(t) = per_hamlet.get(hamlet.as_str()) {
                    tally.add(t);
                }
            }
            let quota = user_quota(campaign, team.leader);
            TeamRow {
                leader: team.leader,
                name: facts.names.get(&team.leader).cloned().unwrap_or_default(),
                hamlets: team.hamlets.len() as u32,
                rate: tally.rate(),
                progress: quota.filter(|q| *q > 0).map(|q| f64::from(tally.activated_in_range) / f64::from(q)),
                quota,
                tally,
                rank: 0,
            }
        })
        .collect();
    teams.sort_by(|a, b| a.name.cmp(&b.name).then(a.leader.cmp(&b.leader)));
    rank_by(&mut teams, |t| t.rate.unwrap_or(-1.0), |t, rank| t.rank = rank);

    Report { range, campaign: campaign.cloned(), rows, total, days: days.into_values().collect(), people, teams }
}

/// A user's quota for the whole campaign (a volunteer's, or a team leader's for their team).
fn user_quota(campaign: Option<&CampaignSet>, user: Uuid) -> Option<u32> {
    campaign.and_then(|c| c.quotas.iter().find(|q| q.holder == QuotaHolder::User(user)).and_then(|q| q.total))
}

/// Standard competition ranking ("1224") by `key`, highest first; the order of `items` stays.
fn rank_by<T>(items: &mut [T], key: impl Fn(&T) -> f64, mut set: impl FnMut(&mut T, u32)) {
    let keys: Vec<f64> = items.iter().map(&key).collect();
    for (i, item) in items.iter_mut().enumerate() {
        let higher = keys.iter().filter(|k| **k > keys[i]).count();
        set(item, higher as u32 + 1);
    }
}

/// A place's quota in a campaign: the campaign's target when it is the campaign's place, its
/// own quota when it has one, else the sum of the quotas of the places below it.
fn unit_quota(campaign: &CampaignSet, place: &Place, units: &Units) -> Option<u32> {
    if campaign.place == place.code && campaign.target.is_some() {
        return campaign.target;
    }
    let place_quota = |code: &str| {
        campaign.quotas.iter().find(|q| q.holder == QuotaHolder::Place(code.to_owned())).and_then(|q| q.total)
    };
    if let Some(own) = place_quota(&place.code) {
        return Some(own);
    }
    let below: Vec<u32> = if place.code == units.place.code {
        units.rows.iter().filter_map(|p| unit_quota(campaign, p, units)).collect()
    } else {
        units
            .hamlet_row
            .iter()
            .filter(|(h, row)| **row == place.code && **h != place.code)
            .filter_map(|(h, _)| place_quota(h))
            .collect()
    };
    (!below.is_empty()).then(|| below.iter().sum())
}

#[cfg(test)]
mod tests;
