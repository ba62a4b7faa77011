//! The facts counted record by record from a projection held in memory, without SQL: the
//! independent count the stores' queries and the server's counters are tested against.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{DayRange, Facts, FlowCount, HouseholdCount, StateCount, local_day};
use crate::funnel::VisitAction;
use crate::reducer::Projection;
use crate::spotcheck::CheckOutcome;

/// (hamlet, state code, reason, confirmed).
type StateKey = (String, Option<&'static str>, Option<String>, bool);

/// The facts of `hamlets` over `range` in `p`, as [`normalized`] orders them. A person's first
/// activation is their activated visit with the earliest device time, the lowest visit id among
/// equal times.
pub fn facts_of(p: &Projection, hamlets: &[String], range: &DayRange) -> Facts {
    let counted = |code: &str| hamlets.iter().any(|h| h == code);
    let mut raw = Facts::default();
    for h in p.households.values().filter(|h| h.removed.is_none() && counted(&h.hamlet_code)) {
        raw.households.push(HouseholdCount {
            hamlet: h.hamlet_code.clone(),
            listed: 1,
            surveyed: u32::from(h.members.is_some()),
            members: h.members.unwrap_or(0),
            smartphones: h.smartphones.unwrap_or(0),
            with_computer: u32::from(h.has_internet_computer == Some(true)),
        });
    }
    let mut visits_of: BTreeMap<Uuid, Vec<&crate::model::Visit>> = BTreeMap::new();
    for v in p.visits.values() {
        visits_of.entry(v.resident_id).or_default().push(v);
    }
    let in_range = |t: DateTime<Utc>| range.from <= local_day(t) && local_day(t) <= range.until;
    for r in p.residents.values().filter(|r| r.removed.is_none() && r.merged_into.is_none()) {
        let Some(h) = p.households.get(&r.household_id).filter(|h| h.removed.is_none() && counted(&h.hamlet_code))
        else {
            continue;
        };
        let hamlet = h.hamlet_code.clone();
        raw.states.push(StateCount {
            hamlet: hamlet.clone(),
            status: r.status,
            reason: r.reason_code.clone(),
            confirmed: r.claim_check == Some(CheckOutcome::Confirmed),
            n: 1,
        });
        let visits = visits_of.get(&r.id).map(Vec::as_slice).unwrap_or_default();
        let flow = |t: DateTime<Utc>, author: Uuid| FlowCount {
            hamlet: hamlet.clone(),
            day: local_day(t),
            author,
            activated: 0,
            visits: 0,
            referred: 0,
        };
        for v in visits.iter().filter(|v| in_range(v.device_time)) {
            let referred = u32::from(v.action == Some(VisitAction::ReferredLevel2));
            raw.flows.push(FlowCount { visits: 1, referred, ..flow(v.device_time, v.author) });
        }
        let first = visits.iter().filter(|v| v.status.is_activated()).min_by_key(|v| (v.device_time, v.id));
        if let Some(first) = first.filter(|v| in_range(v.device_time)) {
            raw.flows.push(FlowCount { activated: 1, ..flow(first.device_time, first.author) });
        }
    }
    normalized(&raw)
}

/// `facts` in the oracle's order, summed by key, without all-zero rows or names: what a store
/// answered, made comparable with [`facts_of`].
pub fn normalized(facts: &Facts) -> Facts {
    let mut states: BTreeMap<StateKey, u32> = BTreeMap::new();
    for s in &facts.states {
        *states.entry((s.hamlet.clone(), s.status.map(|s| s.code()), s.reason.clone(), s.confirmed)).or_default() +=
            s.n;
    }
    let mut households: BTreeMap<String, HouseholdCount> = BTreeMap::new();
    for h in &facts.households {
        let c = households
            .entry(h.hamlet.clone())
            .or_insert_with(|| HouseholdCount { hamlet: h.hamlet.clone(), ..HouseholdCount::default() });
        c.listed += h.listed;
        c.surveyed += h.surveyed;
        c.members += h.members;
        c.smartphones += h.smartphones;
        c.with_computer += h.with_computer;
    }
    let mut flows: BTreeMap<(String, NaiveDate, Uuid), (u32, u32, u32)> = BTreeMap::new();
    for f in &facts.flows {
        let e = flows.entry((f.hamlet.clone(), f.day, f.author)).or_default();
        e.0 += f.activated;
        e.1 += f.visits;
        e.2 += f.referred;
    }
    Facts {
        states: states
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((hamlet, status, reason, confirmed), n)| StateCount {
                hamlet,
                status: status.and_then(crate::funnel::FunnelState::from_code),
                reason,
                confirmed,
                n,
            })
            .collect(),
        households: households.into_values().filter(|h| h.listed > 0).collect(),
        flows: flows
            .into_iter()
            .filter(|(_, n)| *n != (0, 0, 0))
            .map(|((hamlet, day, author), (activated, visits, referred))| FlowCount {
                hamlet,
                day,
                author,
                activated,
                visits,
                referred,
            })
            .collect(),
        names: BTreeMap::new(),
        teams: Vec::new(),
    }
}
