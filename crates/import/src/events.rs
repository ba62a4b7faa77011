//! From a plan to the events that record it, against what the store already holds: households
//! and people it does not hold are created under ids derived from their keys, those it holds
//! with other values are patched, the rest are left alone. So the same file twice records
//! nothing, and a corrected file records only its corrections.
//!
//! The importer only adds what a list knows: a CCCD or phone the list leaves empty never clears
//! one typed in the field, and a person already held keeps their household.

use std::collections::HashMap;

use gocua_core::Error;
use gocua_core::event::{HouseholdCreated, HouseholdPatch, Payload, ResidentAdded, ResidentPatch};
use gocua_core::reducer::StateView;
use serde::{Deserialize, Serialize};

use crate::plan::{ImportedPerson, Plan};

/// What recording a plan takes, and what it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Households new to the store.
    pub households_created: usize,
    /// Households held with another address or head.
    pub households_updated: usize,
    /// People new to the store.
    pub people_created: usize,
    /// People held with other values.
    pub people_updated: usize,
    /// Households and people held exactly as the list says.
    pub unchanged: usize,
    /// People of households that were removed since an earlier import (a duplicate, moved
    /// away, or an undone import): not brought back.
    pub skipped_removed: usize,
}

/// The events that record a plan, in order (a household before its people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportEvents {
    /// The payloads, for `DeviceStore::record_all`.
    pub payloads: Vec<Payload>,
    /// What they do.
    pub counts: ImportCounts,
}

/// The events that bring the store seen through `view` up to `plan`.
pub fn events_for(plan: &Plan, view: &impl StateView) -> Result<ImportEvents, Error> {
    let mut people: HashMap<&str, Vec<&ImportedPerson>> = HashMap::new();
    for person in &plan.people {
        people.entry(person.household_key.as_str()).or_default().push(person);
    }
    let mut payloads = Vec::new();
    let mut counts = ImportCounts::default();
    for household in &plan.households {
        let id = household.id();
        let members = people.remove(household.key.as_str()).unwrap_or_default();
        match view.household(id)? {
            None => {
                counts.households_created += 1;
                payloads.push(Payload::HouseholdCreated(HouseholdCreated {
                    household_id: id,
                    hamlet_code: household.hamlet_code.clone(),
                    address: household.address.clone(),
                    head_name: household.head_name.clone(),
                }));
            }
            Some(held) if held.removed.is_some() => {
                counts.skipped_removed += members.len();
                continue;
            }
            Some(held) => {
                let patch = HouseholdPatch {
                    household_id: id,
                    base_version: held.version,
                    address: (held.address != household.address).then(|| household.address.clone()),
                    head_name: (held.head_name != household.head_name).then(|| household.head_name.clone()),
                };
                if patch.address.is_some() || patch.head_name.is_some() {
                    counts.households_updated += 1;
                    payloads.push(Payload::HouseholdPatched(patch));
                } else {
                    counts.unchanged += 1;
                }
            }
        }
        for person in members {
            person_events(person, view, &mut payloads, &mut counts)?;
        }
    }
    Ok(ImportEvents { payloads, counts })
}

fn person_events(
    person: &ImportedPerson,
    view: &impl StateView,
    payloads: &mut Vec<Payload>,
    counts: &mut ImportCounts,
) -> Result<(), Error> {
    let id = person.id();
    let Some(held) = view.resident(id)? else {
        counts.people_created += 1;
        payloads.push(Payload::ResidentAdded(ResidentAdded {
            resident_id: id,
            household_id: person.household_id(),
            fields: person.fields.clone(),
        }));
        return Ok(());
    };
    let wanted = &person.fields;
    let differs = |held: &Option<String>, wanted: &Option<String>| wanted.is_some() && held != wanted;
    let patch = ResidentPatch {
        resident_id: id,
        base_version: held.version,
        full_name: (held.full_name != wanted.full_name).then(|| wanted.full_name.clone()),
        birth_year: (held.birth_year != wanted.birth_year).then_some(wanted.birth_year),
        sex: (held.sex != wanted.sex).then_some(wanted.sex),
        cccd: differs(&held.cccd, &wanted.cccd).then(|| wanted.cccd.clone()).flatten(),
        phone: differs(&held.phone, &wanted.phone).then(|| wanted.phone.clone()).flatten(),
    };
    if patch == (ResidentPatch { resident_id: id, base_version: held.version, ..ResidentPatch::default() }) {
        counts.unchanged += 1;
    } else {
        counts.people_updated += 1;
        payloads.push(Payload::ResidentPatched(patch));
    }
    Ok(())
}
