//! The report's counters moved by one push (ARCHITECTURE.md, "Reports"). What the push holds in
//! memory tells most changes exactly: a person's state before and after, a household's numbers,
//! a visit's day and author, so those are worked out here and added in one upsert per counter
//! table. What it cannot tell alone (a household or person leaving or re-entering the lists, a
//! merge moving visits, a record whose earlier row it never read) the database recounts
//! (`Tx::recount`, before and after the writes).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use gocua_core::funnel::VisitAction;
use gocua_core::model::{Household, Resident, Visit};
use gocua_core::report::local_day;
use gocua_core::spotcheck::CheckOutcome;
use gocua_server_store::CountDelta;
use uuid::Uuid;

/// What a push's writes do to the counters, as far as its rows tell.
#[derive(Debug)]
pub struct Counting {
    delta: Delta,
    /// People already stored with a new activated visit, and their hamlet: the database weighs
    /// it against their first activation (`Tx::recount_firsts`).
    pub recount_firsts: Vec<(Uuid, String)>,
    /// The visits the push adds.
    pub added: Vec<Uuid>,
    /// Households the database recounts (their people too).
    pub recount_households: Vec<Uuid>,
    /// People the database recounts.
    pub recount_residents: Vec<Uuid>,
}

/// The push's records: each as it was before (`None`: created by the push; no entry: never
/// read, so unknown) and after.
#[derive(Debug)]
pub struct Batch<'b> {
    /// Households changed, before.
    pub households_before: &'b HashMap<Uuid, Option<Household>>,
    /// People changed, before.
    pub residents_before: &'b HashMap<Uuid, Option<Resident>>,
    /// Households as the batch leaves them (and those it only read).
    pub households: &'b HashMap<Uuid, Option<Household>>,
    /// People as the batch leaves them (and those it only read).
    pub residents: &'b HashMap<Uuid, Option<Resident>>,
    /// Households written.
    pub put_households: &'b [Household],
    /// People written.
    pub put_residents: &'b [Resident],
    /// Visits added.
    pub new_visits: &'b [Visit],
    /// Merges' moves of visits, (from, to).
    pub moved_visits: &'b [(Uuid, Uuid)],
}

fn on_list(r: &Resident) -> bool {
    r.removed.is_none() && r.merged_into.is_none()
}

impl Counting {
    /// Sorts the push's records into those counted here and those the database recounts.
    pub fn plan(b: &Batch<'_>) -> Counting {
        let mut delta = Delta::default();
        let mut recount_households = BTreeSet::new();
        for after in b.put_households {
            match b.households_before.get(&after.id) {
                Some(before)
                    if before.as_ref().is_none_or(|h| {
                        h.removed.is_some() == after.removed.is_some() && h.hamlet_code == after.hamlet_code
                    }) =>
                {
                    if let Some(before) = before.as_ref().filter(|h| h.removed.is_none()) {
                        delta.household(before, -1);
                    }
                    if after.removed.is_none() {
                        delta.household(after, 1);
                    }
                }
                // it leaves or re-enters the lists (with its people), or its row was never read
                _ => {
                    recount_households.insert(after.id);
                }
            }
        }

        let moved: HashSet<Uuid> = b.moved_visits.iter().flat_map(|&(from, to)| [from, to]).collect();
        let mut visits_of: BTreeMap<Uuid, Vec<&Visit>> = BTreeMap::new();
        for v in b.new_visits {
            visits_of.entry(v.resident_id).or_default().push(v);
        }
        let changed: HashSet<Uuid> = b.put_residents.iter().map(|r| r.id).collect();
        let touched: BTreeSet<Uuid> =
            changed.iter().copied().chain(visits_of.keys().copied()).chain(moved.iter().copied()).collect();
        let mut recount_residents = BTreeSet::new();
        let mut recount_firsts = Vec::new();
        for id in touched {
            let after = b.residents.get(&id).cloned().flatten();
            let before = if changed.contains(&id) {
                b.residents_before.get(&id).cloned()
            } else {
                Some(after.clone()) // visited, not changed
            };
            let household = after.as_ref().and_then(|r| b.households.get(&r.household_id).cloned().flatten());
            let (Some(after), Some(before), Some(household)) = (after, before, household) else {
                recount_residents.insert(id);
                continue;
            };
            if recount_households.contains(&household.id) {
                continue; // its household's recount counts it
            }
            let same_listing =
                before.as_ref().is_none_or(|r| r.household_id == after.household_id && on_list(r) == on_list(&after));
            if moved.contains(&id) || !same_listing {
                recount_residents.insert(id);
                continue;
            }
            if !on_list(&after) || household.removed.is_some() {
                continue; // off the lists before and after: never counted
            }
            let hamlet = &household.hamlet_code;
            if let Some(before) = &before {
                delta.state(hamlet, before, -1);
            }
            delta.state(hamlet, &after, 1);
            let visits = visits_of.get(&id).map(Vec::as_slice).unwrap_or_default();
            for v in visits {
                delta.visit(hamlet, v);
            }
            let first = visits.iter().filter(|v| v.status.is_activated()).min_by_key(|v| order(v.device_time, v.id));
            match (first, &before) {
                (Some(_), Some(_)) => recount_firsts.push((id, hamlet.clone())),
                (Some(first), None) => delta.first(hamlet, first.device_time, first.author, 1),
                (None, _) => {}
            }
        }
        Counting {
            delta,
            recount_firsts,
            added: b.new_visits.iter().map(|v| v.id).collect(),
            recount_households: recount_households.into_iter().collect(),
            recount_residents: recount_residents.into_iter().collect(),
        }
    }

    /// The changes worked out here.
    pub fn delta(self) -> CountDelta {
        self.delta.rows()
    }
}

/// Order of visits for "first": device time at the microsecond both databases keep, then id.
fn order(at: DateTime<Utc>, id: Uuid) -> (i64, Uuid) {
    (at.timestamp_micros(), id)
}

/// Changes by counter row.
#[derive(Debug, Default)]
struct Delta {
    states: BTreeMap<(String, String, String, bool), i64>,
    households: BTreeMap<String, [i64; 5]>,
    flows: BTreeMap<(String, NaiveDate, Uuid), [i64; 3]>,
}

impl Delta {
    fn state(&mut self, hamlet: &str, r: &Resident, sign: i64) {
        let key = (
            hamlet.to_owned(),
            r.status.map(|s| s.code().to_owned()).unwrap_or_default(),
            r.reason_code.clone().unwrap_or_default(),
            r.claim_check == Some(CheckOutcome::Confirmed),
        );
        *self.states.entry(key).or_default() += sign;
    }

    fn household(&mut self, h: &Household, sign: i64) {
        let c = self.households.entry(h.hamlet_code.clone()).or_default();
        let values = [
            1,
            i64::from(h.members.is_some()),
            i64::from(h.members.unwrap_or(0)),
            i64::from(h.smartphones.unwrap_or(0)),
            i64::from(h.has_internet_computer == Some(true)),
        ];
        for (c, v) in c.iter_mut().zip(values) {
            *c += sign * v;
        }
    }

    fn visit(&mut self, hamlet: &str, v: &Visit) {
        let c = self.flows.entry((hamlet.to_owned(), local_day(v.device_time), v.author)).or_default();
        c[1] += 1;
        c[2] += i64::from(v.action == Some(VisitAction::ReferredLevel2));
    }

    fn first(&mut self, hamlet: &str, at: DateTime<Utc>, author: Uuid, sign: i64) {
        self.flows.entry((hamlet.to_owned(), local_day(at), author)).or_default()[0] += sign;
    }

    fn rows(self) -> CountDelta {
        CountDelta {
            states: self
                .states
                .into_iter()
                .filter(|(_, n)| *n != 0)
                .map(|((hamlet, status, reason, confirmed), n)| (hamlet, status, reason, confirmed, n))
                .collect(),
            households: self.households.into_iter().filter(|(_, c)| *c != [0; 5]).collect(),
            flows: self
                .flows
                .into_iter()
                .filter(|(_, c)| *c != [0; 3])
                .map(|((hamlet, day, author), c)| (hamlet, day, author, c))
                .collect(),
        }
    }
}
