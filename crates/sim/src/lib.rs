//! What the simulator's binaries share: the made-up households a volunteer visits, the field's
//! spacing of device times, and those households recorded as the app records them, either into a
//! real device store (`gocua-sim`) or straight into the events a store would hold
//! (`gocua-load`, which needs hundreds of thousands of them before it starts timing).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use gocua_core::event::{Event, HouseholdCreated, Payload, ResidentAdded, VisitRecorded};
use gocua_core::fixtures::{self, Rng};
use gocua_core::ids;
use gocua_core::store::DeviceStore;
use uuid::Uuid;

/// One made-up household as the simulator records it: the household, its four residents, and
/// the visit outcomes recorded (one per resident; fewer in the last household when the visit
/// count is not a multiple of four).
#[derive(Debug, Clone)]
pub struct HouseholdVisit {
    /// `household_created.v1`.
    pub household: HouseholdCreated,
    /// `resident_added.v1`, four of them.
    pub residents: Vec<ResidentAdded>,
    /// `visit_recorded.v1`, in resident order.
    pub visits: Vec<VisitRecorded>,
}

/// The made-up households for `visits` visits from `seed`, spread over `hamlets` in turn.
pub fn made_up_households(seed: u64, visits: usize, hamlets: &[String]) -> Result<Vec<HouseholdVisit>> {
    if hamlets.is_empty() {
        bail!("không có thôn/bản / no hamlets");
    }
    let mut rng = Rng::new(seed);
    let mut out: Vec<HouseholdVisit> = Vec::new();
    let mut done = 0;
    while done < visits {
        let (_, ids, payloads) = fixtures::household_payloads(&mut rng, &hamlets[out.len() % hamlets.len()], 4);
        let (mut household, mut residents) = (None, Vec::new());
        for p in payloads {
            match p {
                Payload::HouseholdCreated(h) => household = Some(h),
                Payload::ResidentAdded(r) => residents.push(r),
                other => bail!("unexpected fixture payload {}", other.type_name()),
            }
        }
        let mut recorded = Vec::new();
        for r in ids.into_iter().take(visits - done) {
            match fixtures::visit_payload(&mut rng, r, &["absent_unreachable", "no_smartphone", "refused"]) {
                Payload::VisitRecorded(v) => recorded.push(v),
                other => bail!("unexpected fixture payload {}", other.type_name()),
            }
            done += 1;
        }
        out.push(HouseholdVisit { household: household.context("no household_created")?, residents, visits: recorded });
    }
    Ok(out)
}

/// Device times spaced as a volunteer's day spaces them (made-up gaps: 3–8 minutes before a
/// household, 30–120 s before each step inside it), ending before the server's clock.
#[derive(Debug)]
pub struct FieldClock {
    rng: Rng,
    at: DateTime<Utc>,
}

impl FieldClock {
    /// A clock for `households` households, starting early enough to end before now.
    pub fn new(seed: u64, households: usize) -> Self {
        let longest_household = 480 + 8 * 120;
        let start = Utc::now().timestamp() - households as i64 * longest_household;
        FieldClock { rng: Rng::new(seed), at: DateTime::from_timestamp(start, 0).unwrap_or_else(Utc::now) }
    }

    /// The time `least` to `least + spread` seconds after the last one.
    pub fn after(&mut self, least: u64, spread: u64) -> DateTime<Utc> {
        self.at += chrono::Duration::seconds((least + self.rng.below(spread)) as i64);
        self.at
    }

    /// Before a household.
    fn household(&mut self) -> DateTime<Utc> {
        self.after(180, 300)
    }

    /// Before each step inside a household.
    fn step(&mut self) -> DateTime<Utc> {
        self.after(30, 90)
    }
}

/// Records one household as the app does (ids from the phone's counter, one event per step);
/// returns the number of events.
pub fn record_household(store: &mut DeviceStore, h: &HouseholdVisit, clock: &mut FieldClock) -> Result<usize> {
    let household_id = store.new_record_id()?;
    let created = HouseholdCreated { household_id, ..h.household.clone() };
    store.record_at(Payload::HouseholdCreated(created), clock.household())?;
    let mut ids = HashMap::new();
    for r in &h.residents {
        let resident_id = store.new_record_id()?;
        ids.insert(r.resident_id, resident_id);
        let added = ResidentAdded { resident_id, household_id, ..r.clone() };
        store.record_at(Payload::ResidentAdded(added), clock.step())?;
    }
    for v in &h.visits {
        let resident_id = *ids.get(&v.resident_id).context("a visit of a resident not in the household")?;
        let visit = VisitRecorded { visit_id: store.new_record_id()?, resident_id, ..v.clone() };
        store.record_at(Payload::VisitRecorded(visit), clock.step())?;
    }
    Ok(1 + h.residents.len() + h.visits.len())
}

/// A phone recording offline without a store: the events [`record_household`] leaves in a
/// device store's outbox (event ids derived from the device and the sequence, record ids from
/// the device and its counter, the enrolled user as author), made in memory.
#[derive(Debug)]
pub struct OfflinePhone {
    device_id: Uuid,
    author: Uuid,
    last_seq: u64,
    record_counter: u64,
    clock: FieldClock,
}

impl OfflinePhone {
    /// A phone enrolled as `device_id` for `author`, nothing recorded yet.
    pub fn new(device_id: Uuid, author: Uuid, clock: FieldClock) -> Self {
        OfflinePhone { device_id, author, last_seq: 0, record_counter: 0, clock }
    }

    fn record_id(&mut self) -> Uuid {
        self.record_counter += 1;
        ids::record_id(self.device_id, self.record_counter)
    }

    fn event(&self, seq: u64, device_time: DateTime<Utc>, payload: Payload) -> Event {
        Event {
            id: ids::event_id(self.device_id, seq),
            device_id: self.device_id,
            seq,
            author: self.author,
            device_time,
            payload,
        }
    }

    /// Records one household as [`record_household`] does, and returns its events grouped by
    /// resident visit: the first group holds the household, its first resident and that
    /// resident's visit, each later one a resident and its visit (residents without a visit join
    /// the last group). Recording order, ids and device times are [`record_household`]'s; with
    /// `visit_by_visit` the sequence numbers follow the groups (what a tool that sends one
    /// submission per visit would number), else the recording order.
    pub fn household(&mut self, h: &HouseholdVisit, visit_by_visit: bool) -> Result<Vec<Vec<Event>>> {
        let household_id = self.record_id();
        let created = Payload::HouseholdCreated(HouseholdCreated { household_id, ..h.household.clone() });
        let mut recorded = vec![(created, self.clock.household())];
        let mut ids = HashMap::new();
        for r in &h.residents {
            let resident_id = self.record_id();
            ids.insert(r.resident_id, resident_id);
            let added = ResidentAdded { resident_id, household_id, ..r.clone() };
            recorded.push((Payload::ResidentAdded(added), self.clock.step()));
        }
        for v in &h.visits {
            let resident_id = *ids.get(&v.resident_id).context("a visit of a resident not in the household")?;
            let visit = VisitRecorded { visit_id: self.record_id(), resident_id, ..v.clone() };
            recorded.push((Payload::VisitRecorded(visit), self.clock.step()));
        }
        let first_seq = self.last_seq + 1;
        self.last_seq += recorded.len() as u64;
        if !visit_by_visit {
            let events = (first_seq..).zip(recorded).map(|(seq, (payload, at))| self.event(seq, at, payload));
            return Ok(vec![events.collect()]);
        }
        // recorded: household, residents, visits; grouped: household + resident 1 + visit 1,
        // resident 2 + visit 2, …
        let residents = h.residents.len();
        let mut order: Vec<(usize, usize)> = vec![(0, 0)]; // (group, index in `recorded`)
        for i in 0..residents {
            let group = i.min(h.visits.len().saturating_sub(1));
            order.push((group, 1 + i));
            if i < h.visits.len() {
                order.push((group, 1 + residents + i));
            }
        }
        let mut recorded: Vec<Option<(Payload, DateTime<Utc>)>> = recorded.into_iter().map(Some).collect();
        let mut groups: Vec<Vec<Event>> = vec![Vec::new(); h.visits.len().max(1)];
        for (seq, (group, index)) in (first_seq..).zip(order) {
            let (payload, at) = recorded[index].take().context("an event recorded twice")?;
            groups[group].push(self.event(seq, at, payload));
        }
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gocua_core::sync::protocol::MAX_PUSH_BYTES;

    fn enrolled_store(dir: &tempfile::TempDir) -> DeviceStore {
        let mut store = DeviceStore::open(&dir.path().join("phone.sqlite")).unwrap();
        let response = fixtures::enroll_response(&store);
        store.save_enrollment("http://127.0.0.1:9", &response).unwrap();
        store
    }

    #[test]
    fn an_offline_phone_makes_the_events_a_device_store_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = enrolled_store(&dir);
        let hamlets: Vec<String> = store.hamlets().unwrap().into_iter().map(|p| p.code).collect();
        let households = made_up_households(5, 10, &hamlets).unwrap();
        let enrollment = store.enrollment().unwrap().unwrap();
        let mut clock = FieldClock::new(9, households.len());
        let start = clock.at;
        for h in &households {
            record_household(&mut store, h, &mut clock).unwrap();
        }
        let stored = store.outbox_batch(1000, MAX_PUSH_BYTES).unwrap();

        let mut clock = FieldClock::new(9, households.len());
        clock.at = start;
        let mut phone = OfflinePhone::new(enrollment.device_id, enrollment.user_id, clock);
        let mut made = Vec::new();
        for h in &households {
            made.extend(phone.household(h, false).unwrap().into_iter().flatten());
        }
        assert_eq!(made.len(), 1 + 4 + 4 + 1 + 4 + 4 + 1 + 4 + 2);
        assert_eq!(made, stored);
    }

    #[test]
    fn visit_by_visit_holds_the_same_events_one_resident_visit_a_group() {
        let hamlets = vec!["03445-01".to_owned()];
        let households = made_up_households(5, 6, &hamlets).unwrap();
        let (device, author) = (Uuid::now_v7(), Uuid::now_v7());
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let phone = |visit_by_visit| {
            let mut phone = OfflinePhone::new(device, author, FieldClock { rng: Rng::new(1), at });
            households.iter().map(|h| phone.household(h, visit_by_visit).unwrap()).collect::<Vec<_>>()
        };
        let (grouped, whole) = (phone(true), phone(false));
        let sizes: Vec<Vec<usize>> = grouped.iter().map(|g| g.iter().map(Vec::len).collect()).collect();
        // 4 visits in the first household; 2 in the second, whose last group takes the
        // residents without a visit
        assert_eq!(sizes, [vec![3, 2, 2, 2], vec![3, 4]]);
        let seqs: Vec<u64> = grouped.iter().flatten().flatten().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=16).collect::<Vec<_>>(), "sequence numbers follow the groups");
        let payloads = |households: &[Vec<Vec<Event>>]| {
            let mut p: Vec<String> =
                households.iter().flatten().flatten().map(|e| serde_json::to_string(&e.payload).unwrap()).collect();
            p.sort();
            p
        };
        assert_eq!(payloads(&grouped), payloads(&whole), "the same records either way");
    }
}
