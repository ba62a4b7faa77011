//! From a plan to the events that record it, against what the store already holds: households
//! and people it does not hold are created under ids derived from their keys, those it holds
//! with other values are patched, the rest are left alone. So the same file twice records
//! nothing, and a corrected file records only its corrections.
//!
//! The importer only adds what a list knows: a CCCD or phone the list leaves empty never clears
//! one typed in the field, and a person already held keeps their household.
//!
//! Alongside, an [`UndoRecord`] notes what the import created and each field it changed with
//! the value before, so the whole import can be undone ([`crate::undo`]). A row whose record an
//! undone import left as a tombstone (`import_undone`) is created again under its next
//! generation's id (`ids::imported_id_at`).

use std::collections::HashMap;

use gocua_core::Error;
use gocua_core::event::{HouseholdCreated, HouseholdPatch, IMPORT_UNDONE, Payload, ResidentAdded, ResidentPatch};
use gocua_core::ids::{ImportedKind, MAX_IMPORT_GENERATIONS, imported_id_at};
use gocua_core::reducer::StateView;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::plan::{ImportedPerson, Plan};
use crate::undo::{HouseholdChange, ResidentChange, UndoRecord};

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
    /// What undoing them takes.
    pub undo: UndoRecord,
}

/// The id a row's record has now, and the record if it is held and not removed by an undone
/// import: generation after generation (`ids::imported_id_at`), past the tombstones of undone
/// imports.
fn current<T>(
    kind: ImportedKind,
    key: &str,
    get: impl Fn(Uuid) -> Result<Option<T>, Error>,
    undone: impl Fn(&T) -> bool,
) -> Result<(Uuid, Option<T>), Error> {
    for generation in 0..MAX_IMPORT_GENERATIONS {
        let id = imported_id_at(kind, key, generation);
        match get(id)? {
            Some(held) if undone(&held) => continue,
            held => return Ok((id, held)),
        }
    }
    Err(Error::invalid_input(format!(
        "Dòng này đã được nhập rồi hoàn tác quá {MAX_IMPORT_GENERATIONS} lần / this row was imported and undone \
         more than {MAX_IMPORT_GENERATIONS} times"
    )))
}

/// The events that bring the store seen through `view` up to `plan`.
pub fn events_for(plan: &Plan, view: &impl StateView) -> Result<ImportEvents, Error> {
    let mut people: HashMap<&str, Vec<&ImportedPerson>> = HashMap::new();
    for person in &plan.people {
        people.entry(person.household_key.as_str()).or_default().push(person);
    }
    let mut out = ImportEvents { payloads: Vec::new(), counts: ImportCounts::default(), undo: UndoRecord::default() };
    let undone = |reason: &Option<String>| reason.as_deref() == Some(IMPORT_UNDONE);
    for household in &plan.households {
        let (id, held) = current(
            ImportedKind::Household,
            &household.key,
            |id| view.household(id),
            |h: &gocua_core::model::Household| undone(&h.removed),
        )?;
        let members = people.remove(household.key.as_str()).unwrap_or_default();
        match held {
            None => {
                out.counts.households_created += 1;
                out.undo.households_created.push(id);
                out.payloads.push(Payload::HouseholdCreated(HouseholdCreated {
                    household_id: id,
                    hamlet_code: household.hamlet_code.clone(),
                    address: household.address.clone(),
                    head_name: household.head_name.clone(),
                }));
            }
            Some(held) if held.removed.is_some() => {
                out.counts.skipped_removed += members.len();
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
                    out.counts.households_updated += 1;
                    out.undo.households_changed.push(HouseholdChange::between(&held, &patch));
                    out.payloads.push(Payload::HouseholdPatched(patch));
                } else {
                    out.counts.unchanged += 1;
                }
            }
        }
        for person in members {
            person_events(person, id, view, &mut out)?;
        }
    }
    Ok(out)
}

fn person_events(
    person: &ImportedPerson,
    household_id: Uuid,
    view: &impl StateView,
    out: &mut ImportEvents,
) -> Result<(), Error> {
    let (id, held) = current(
        ImportedKind::Resident,
        &person.key,
        |id| view.resident(id),
        |r: &gocua_core::model::Resident| r.removed.as_deref() == Some(IMPORT_UNDONE),
    )?;
    let Some(held) = held else {
        out.counts.people_created += 1;
        out.undo.people_created.push(id);
        out.payloads.push(Payload::ResidentAdded(ResidentAdded {
            resident_id: id,
            household_id,
            fields: person.fields.clone(),
        }));
        return Ok(());
    };
    if held.removed.is_some() {
        out.counts.skipped_removed += 1;
        return Ok(());
    }
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
        out.counts.unchanged += 1;
    } else {
        out.counts.people_updated += 1;
        out.undo.people_changed.push(ResidentChange::between(&held, &patch));
        out.payloads.push(Payload::ResidentPatched(patch));
    }
    Ok(())
}
