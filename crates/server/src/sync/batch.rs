//! The reducer's view of the database during one push: what the batch touches is read in a few
//! set queries up front, the reducer's changes are kept in memory (later events of the batch see
//! earlier ones), and written back in bulk at the end. Reads the prefetch missed fall through
//! to the transaction, so the outcome is exactly that of reducing one event at a time.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use gocua_core::Error as CoreError;
use gocua_core::event::{Event, Payload};
use gocua_core::model::{Household, Resident, Visit};
use gocua_core::places::Place;
use gocua_core::reasons::{Reason, ReasonCatalog};
use gocua_core::reducer::{Change, StateView};
use gocua_server_store::{Share, StoreError, StoreResult, StoredOutcome, Tx};

use super::counters::{Batch, Counting};
use uuid::Uuid;

/// A write transaction with the batch's state cached over it.
pub struct BatchView<'t> {
    tx: RefCell<&'t mut dyn Tx>,
    households: RefCell<HashMap<Uuid, Option<Household>>>,
    residents: RefCell<HashMap<Uuid, Option<Resident>>>,
    visits: RefCell<HashMap<Uuid, bool>>,
    places: RefCell<HashMap<String, Option<Place>>>,
    reasons: ReasonCatalog,
    outcomes: HashMap<Uuid, StoredOutcome>,
    erased: HashSet<Uuid>,
    // the first store failure a read of the reducer met (the reducer sees only core errors)
    failure: RefCell<Option<StoreError>>,
    // written at the end, in the order first changed
    changed: HashSet<Uuid>,
    // each changed record as the batch first read it (`None`: it created it)
    households_before: HashMap<Uuid, Option<Household>>,
    residents_before: HashMap<Uuid, Option<Resident>>,
    put_households: Vec<Uuid>,
    put_residents: Vec<Uuid>,
    new_visits: Vec<Visit>,
    moved_visits: Vec<(Uuid, Uuid)>,
    visit_reviews: Vec<(Uuid, Option<gocua_core::model::Review>)>,
}

impl std::fmt::Debug for BatchView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchView").field("households", &self.households.borrow().len()).finish_non_exhaustive()
    }
}

/// The ids an event's payload names: (households, residents, visits).
fn ids_of(payload: &Payload) -> (Option<Uuid>, Option<Uuid>, Option<Uuid>) {
    match payload {
        Payload::HouseholdCreated(p) => (Some(p.household_id), None, None),
        Payload::HouseholdSurveyed(p) => (Some(p.household_id), None, None),
        Payload::HouseholdEdited(p) => (Some(p.household_id), None, None),
        Payload::HouseholdPatched(p) => (Some(p.household_id), None, None),
        Payload::HouseholdRemoved(p) => (Some(p.household_id), None, None),
        Payload::ResidentAdded(p) => (Some(p.household_id), Some(p.resident_id), None),
        Payload::ResidentEdited(p) => (None, Some(p.resident_id), None),
        Payload::ResidentPatched(p) => (None, Some(p.resident_id), None),
        Payload::ResidentRemoved(p) => (None, Some(p.resident_id), None),
        Payload::AssignmentSet(_) => (None, None, None),
        Payload::ClaimChecked(p) => (None, Some(p.resident_id), Some(p.visit_id)),
        Payload::ResidentsMerged(p) => (None, Some(p.kept), None),
        Payload::CampaignSet(_) => (None, None, None),
        // a household, a person or a visit (recorded with a wrong clock)
        Payload::ReviewResolved(p) => {
            (Some(p.record_id), Some(p.resident_id.unwrap_or(p.record_id)), Some(p.record_id))
        }
        Payload::VisitRecorded(p) => (None, Some(p.resident_id), Some(p.visit_id)),
    }
}

impl<'t> BatchView<'t> {
    /// Reads what `events` touch: their stored outcomes, households, residents (and their
    /// households), visit ids, erasures, and the reason catalog.
    pub fn prefetch(tx: &'t mut dyn Tx, events: &[&Event]) -> StoreResult<BatchView<'t>> {
        let (mut household_ids, mut resident_ids, mut visit_ids) = (Vec::new(), Vec::new(), Vec::new());
        for event in events {
            let (h, r, v) = ids_of(&event.payload);
            household_ids.extend(h);
            resident_ids.extend(r);
            visit_ids.extend(v);
        }
        for ids in [&mut household_ids, &mut resident_ids, &mut visit_ids] {
            ids.sort();
            ids.dedup();
        }
        let event_ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let outcomes = tx.stored_outcomes(&event_ids)?.into_iter().map(|o| (o.id, o)).collect();
        let mut residents: HashMap<Uuid, Option<Resident>> = resident_ids.iter().map(|id| (*id, None)).collect();
        for r in tx.residents(&resident_ids)? {
            if !household_ids.contains(&r.household_id) {
                household_ids.push(r.household_id);
            }
            residents.insert(r.id, Some(r));
        }
        let mut households: HashMap<Uuid, Option<Household>> = household_ids.iter().map(|id| (*id, None)).collect();
        for h in tx.households(&household_ids)? {
            households.insert(h.id, Some(h));
        }
        let mut visits: HashMap<Uuid, bool> = visit_ids.iter().map(|id| (*id, false)).collect();
        for id in tx.visits_existing(&visit_ids)? {
            visits.insert(id, true);
        }
        // the hamlets the batch records in, and the households' it refers to, with their
        // ancestors: every place path the batch needs, in one read
        let mut hamlets: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.payload {
                Payload::HouseholdCreated(p) => Some(p.hamlet_code.clone()),
                _ => None,
            })
            .chain(households.values().flatten().map(|h| h.hamlet_code.clone()))
            .collect();
        hamlets.sort();
        hamlets.dedup();
        let places = tx.lineages(&hamlets)?.into_iter().map(|p| (p.code.clone(), Some(p))).collect();
        let erased = tx.erased_among(&resident_ids)?.into_iter().collect();
        let reasons = tx.reasons()?;
        Ok(BatchView {
            tx: RefCell::new(tx),
            households: RefCell::new(households),
            residents: RefCell::new(residents),
            visits: RefCell::new(visits),
            places: RefCell::new(places),
            reasons,
            outcomes,
            erased,
            failure: RefCell::new(None),
            changed: HashSet::new(),
            households_before: HashMap::new(),
            residents_before: HashMap::new(),
            put_households: Vec::new(),
            put_residents: Vec::new(),
            new_visits: Vec::new(),
            moved_visits: Vec::new(),
            visit_reviews: Vec::new(),
        })
    }

    fn failed(&self, e: StoreError) -> CoreError {
        let message = format!("store: {e}");
        self.failure.borrow_mut().get_or_insert(e);
        CoreError::invalid_input(message)
    }

    /// The store failure behind a reducer's error, if a read failed (it must end the push
    /// instead of rejecting the event).
    pub fn take_failure(&self) -> Option<StoreError> {
        self.failure.borrow_mut().take()
    }

    /// The transaction under the view, for statements of its own.
    pub fn tx(&self) -> std::cell::RefMut<'_, &'t mut dyn Tx> {
        self.tx.borrow_mut()
    }

    /// The reason catalog.
    pub fn reasons(&self) -> &ReasonCatalog {
        &self.reasons
    }

    /// What the server stored earlier for this event id, if anything.
    pub fn stored(&self, id: Uuid) -> Option<&StoredOutcome> {
        self.outcomes.get(&id)
    }

    /// Whether this resident was erased on request.
    pub fn is_erased(&self, resident: Uuid) -> bool {
        self.erased.contains(&resident)
    }

    /// The `/…/code/` path of a place, through the cached catalog (a place not met yet is read
    /// with its ancestors in one go).
    pub fn place_path(&self, code: &str) -> Result<Option<String>, CoreError> {
        if let Some(id) = gocua_core::places::household_of(code) {
            return self.household_path(id);
        }
        if !self.places.borrow().contains_key(code) {
            let lineage = self.tx.borrow_mut().lineage(code).map_err(|e| self.failed(e))?;
            let mut places = self.places.borrow_mut();
            places.entry(code.to_owned()).or_insert(None); // unknown, unless found below
            for place in lineage {
                places.insert(place.code.clone(), Some(place));
            }
        }
        let lineage = gocua_core::places::lineage_with(
            code,
            |c| self.place(c),
            |c| CoreError::invalid_input(format!("place tree loops at {c}")),
        )?;
        Ok(gocua_core::places::path_of(&lineage))
    }

    /// The path of a household's records (`gocua_core::places::household_path`), as the batch
    /// sees it (one created earlier in the batch included).
    pub fn household_path(&self, id: Uuid) -> Result<Option<String>, CoreError> {
        match self.household(id)? {
            Some(household) => self.hamlet_household_path(&household.hamlet_code, id),
            None => Ok(None),
        }
    }

    /// The path of household `id` in hamlet `hamlet`.
    pub fn hamlet_household_path(&self, hamlet: &str, id: Uuid) -> Result<Option<String>, CoreError> {
        Ok(self.place_path(hamlet)?.map(|path| gocua_core::places::household_path(&path, id)))
    }

    /// Keeps the reducer's changes for the flush; later events of the batch see them.
    pub fn apply(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::PutHousehold(h) => {
                    let before = self.households.get_mut().insert(h.id, Some(h.clone()));
                    if self.changed.insert(h.id) {
                        self.put_households.push(h.id);
                        // a row never read stays unknown: the database recounts it
                        if let Some(before) = before {
                            self.households_before.insert(h.id, before);
                        }
                    }
                }
                Change::PutResident(r) => {
                    let before = self.residents.get_mut().insert(r.id, Some(r.clone()));
                    if self.changed.insert(r.id) {
                        self.put_residents.push(r.id);
                        if let Some(before) = before {
                            self.residents_before.insert(r.id, before);
                        }
                    }
                }
                Change::AddVisit(v) => {
                    self.visits.get_mut().insert(v.id, true);
                    self.new_visits.push(v.clone());
                }
                Change::MoveVisits { from, to } => self.moved_visits.push((*from, *to)),
                Change::VisitReview { visit_id, review } => self.visit_reviews.push((*visit_id, *review)),
                // applied to the user's scope after the flush (`push::ingest`)
                // a campaign is read from the events (`pull`, above a phone's own places)
                Change::PutAssignment(_) | Change::PutCampaign(_) | Change::Flagged(_) => {}
            }
        }
    }

    /// Writes the batch's changes: households, then residents, then visits (each refers to the
    /// one before), then the visits merges move; the report's counters follow them
    /// (`super::counters`).
    pub fn flush(self) -> StoreResult<&'t mut dyn Tx> {
        let households = self.households.into_inner();
        let residents = self.residents.into_inner();
        let tx = self.tx.into_inner();
        let put_h: Vec<Household> =
            self.put_households.iter().filter_map(|id| households.get(id).cloned().flatten()).collect();
        let put_r: Vec<Resident> =
            self.put_residents.iter().filter_map(|id| residents.get(id).cloned().flatten()).collect();
        // the report's counters: what the batch's rows tell is added after the writes; the
        // rest the database takes off before them and counts again after
        let counting = Counting::plan(&Batch {
            households_before: &self.households_before,
            residents_before: &self.residents_before,
            households: &households,
            residents: &residents,
            put_households: &put_h,
            put_residents: &put_r,
            new_visits: &self.new_visits,
            moved_visits: &self.moved_visits,
        });
        // what the batch created holds no share yet; everything else may
        let created = |id: &Uuid| {
            matches!(self.households_before.get(id), Some(None)) || matches!(self.residents_before.get(id), Some(None))
        };
        let held = |ids: &[Uuid]| -> Vec<Uuid> { ids.iter().copied().filter(|id| !created(id)).collect() };
        let (held_households, held_residents) = (held(&counting.recount_households), held(&counting.recount_residents));
        if !held_households.is_empty() || !held_residents.is_empty() {
            tx.recount(&held_households, &held_residents, Share::Remove)?;
        }
        if !put_h.is_empty() {
            tx.put_households(&put_h)?;
        }
        if !put_r.is_empty() {
            tx.put_residents(&put_r)?;
        }
        if !self.new_visits.is_empty() {
            tx.add_visits(&self.new_visits)?;
        }
        if !self.moved_visits.is_empty() {
            tx.move_visits(&self.moved_visits)?;
        }
        if !self.visit_reviews.is_empty() {
            tx.set_visit_reviews(&self.visit_reviews)?;
        }
        if !counting.recount_households.is_empty() || !counting.recount_residents.is_empty() {
            tx.recount(&counting.recount_households, &counting.recount_residents, Share::Add)?;
        }
        if !counting.recount_firsts.is_empty() {
            tx.recount_firsts(&counting.recount_firsts, &counting.added)?;
        }
        let delta = counting.delta();
        if !delta.is_empty() {
            tx.add_counts(&delta)?;
        }
        Ok(tx)
    }
}

impl StateView for BatchView<'_> {
    fn household(&self, id: Uuid) -> Result<Option<Household>, CoreError> {
        if let Some(cached) = self.households.borrow().get(&id) {
            return Ok(cached.clone());
        }
        let found = self.tx.borrow_mut().households(&[id]).map_err(|e| self.failed(e))?.pop();
        self.households.borrow_mut().insert(id, found.clone());
        Ok(found)
    }

    fn resident(&self, id: Uuid) -> Result<Option<Resident>, CoreError> {
        if let Some(cached) = self.residents.borrow().get(&id) {
            return Ok(cached.clone());
        }
        let found = self.tx.borrow_mut().residents(&[id]).map_err(|e| self.failed(e))?.pop();
        self.residents.borrow_mut().insert(id, found.clone());
        Ok(found)
    }

    fn visit_exists(&self, id: Uuid) -> Result<bool, CoreError> {
        if let Some(cached) = self.visits.borrow().get(&id) {
            return Ok(*cached);
        }
        let found = !self.tx.borrow_mut().visits_existing(&[id]).map_err(|e| self.failed(e))?.is_empty();
        self.visits.borrow_mut().insert(id, found);
        Ok(found)
    }

    fn place(&self, code: &str) -> Result<Option<Place>, CoreError> {
        if let Some(cached) = self.places.borrow().get(code) {
            return Ok(cached.clone());
        }
        let found = self.tx.borrow_mut().place(code).map_err(|e| self.failed(e))?;
        self.places.borrow_mut().insert(code.to_owned(), found.clone());
        Ok(found)
    }

    fn reason(&self, code: &str) -> Result<Option<Reason>, CoreError> {
        Ok(self.reasons.get(code).cloned())
    }
}
