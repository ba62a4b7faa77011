//! Undoing a whole import: what it created is removed (tombstones with the reason
//! `import_undone`, so a visit recorded meanwhile is kept), and each field it changed goes back
//! to the value before, unless someone changed that field again since (theirs is kept). It
//! travels as ordinary events, so the server and every phone holding the records apply it.

use gocua_core::Error;
use gocua_core::event::{HouseholdPatch, HouseholdRemoved, IMPORT_UNDONE, Payload, ResidentPatch, ResidentRemoved};
use gocua_core::model::{Household, Resident, Sex};
use gocua_core::reducer::StateView;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What undoing one import takes: the records it created, and every field it changed with the
/// values before and after. Kept by the office device that recorded the import (it holds
/// personal data: the values before).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoRecord {
    /// Households the import created.
    #[serde(default)]
    pub households_created: Vec<Uuid>,
    /// People the import created.
    #[serde(default)]
    pub people_created: Vec<Uuid>,
    /// Households whose address or head the import changed.
    #[serde(default)]
    pub households_changed: Vec<HouseholdChange>,
    /// People whose fields the import changed.
    #[serde(default)]
    pub people_changed: Vec<ResidentChange>,
}

impl std::fmt::Debug for UndoRecord {
    // Personal data: only the counts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UndoRecord")
            .field("households_created", &self.households_created.len())
            .field("people_created", &self.people_created.len())
            .field("households_changed", &self.households_changed.len())
            .field("people_changed", &self.people_changed.len())
            .finish()
    }
}

/// A field's value before an import changed it, and the value the import set.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed<T> {
    /// Before the import.
    pub before: T,
    /// What the import set.
    pub after: T,
}

/// The fields an import changed on one household.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdChange {
    /// The household.
    pub id: Uuid,
    /// Its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Changed<String>>,
    /// Its head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_name: Option<Changed<String>>,
}

/// The fields an import changed on one person.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentChange {
    /// The person.
    pub id: Uuid,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<Changed<String>>,
    /// Birth year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<Changed<i32>>,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Changed<Sex>>,
    /// CCCD (an import never clears one: `before` may be none, `after` is not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cccd: Option<Changed<Option<String>>>,
    /// Phone (likewise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Changed<Option<String>>>,
}

impl<T> std::fmt::Debug for Changed<T> {
    // Personal data: the values are left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Changed { .. }")
    }
}

impl std::fmt::Debug for HouseholdChange {
    // Personal data: only the id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HouseholdChange").field("id", &self.id).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ResidentChange {
    // Personal data: only the id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResidentChange").field("id", &self.id).finish_non_exhaustive()
    }
}

fn changed<T: Clone>(before: &T, after: Option<&T>) -> Option<Changed<T>> {
    after.map(|after| Changed { before: before.clone(), after: after.clone() })
}

impl HouseholdChange {
    /// What `patch` changes on `held`.
    pub fn between(held: &Household, patch: &HouseholdPatch) -> Self {
        HouseholdChange {
            id: held.id,
            address: changed(&held.address, patch.address.as_ref()),
            head_name: changed(&held.head_name, patch.head_name.as_ref()),
        }
    }
}

impl ResidentChange {
    /// What `patch` changes on `held`.
    pub fn between(held: &Resident, patch: &ResidentPatch) -> Self {
        ResidentChange {
            id: held.id,
            full_name: changed(&held.full_name, patch.full_name.as_ref()),
            birth_year: changed(&held.birth_year, patch.birth_year.as_ref()),
            sex: changed(&held.sex, patch.sex.as_ref()),
            cccd: changed(&held.cccd, patch.cccd.clone().map(Some).as_ref()),
            phone: changed(&held.phone, patch.phone.clone().map(Some).as_ref()),
        }
    }
}

/// What undoing an import does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoCounts {
    /// Households the import created, now removed.
    pub households_removed: usize,
    /// People the import created, now removed.
    pub people_removed: usize,
    /// Households and people whose fields go back to the values before the import.
    pub records_restored: usize,
    /// Fields someone changed again after the import: their value is kept.
    pub fields_kept: usize,
    /// Records already removed (by hand, or by an undo recorded elsewhere).
    pub already_gone: usize,
}

/// The events that undo an import, in order, and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoEvents {
    /// The payloads, for `DeviceStore::record_all`.
    pub payloads: Vec<Payload>,
    /// What they do.
    pub counts: UndoCounts,
}

/// The events that undo the import `record` describes, against the store seen through `view`.
/// Nothing when it was undone already: undoing twice changes nothing.
pub fn undo_events(record: &UndoRecord, view: &impl StateView) -> Result<UndoEvents, Error> {
    let mut out = UndoEvents { payloads: Vec::new(), counts: UndoCounts::default() };
    for &id in &record.people_created {
        match view.resident(id)? {
            Some(r) if r.removed.is_none() => {
                out.counts.people_removed += 1;
                out.payloads
                    .push(Payload::ResidentRemoved(ResidentRemoved { resident_id: id, reason: IMPORT_UNDONE.into() }));
            }
            _ => out.counts.already_gone += 1,
        }
    }
    for &id in &record.households_created {
        match view.household(id)? {
            Some(h) if h.removed.is_none() => {
                out.counts.households_removed += 1;
                out.payloads.push(Payload::HouseholdRemoved(HouseholdRemoved {
                    household_id: id,
                    reason: IMPORT_UNDONE.into(),
                }));
            }
            _ => out.counts.already_gone += 1,
        }
    }
    for change in &record.households_changed {
        let Some(held) = view.household(change.id)?.filter(|h| h.removed.is_none()) else {
            out.counts.already_gone += 1;
            continue;
        };
        let mut patch =
            HouseholdPatch { household_id: held.id, base_version: held.version, ..HouseholdPatch::default() };
        patch.address = restore(&held.address, change.address.as_ref(), &mut out.counts);
        patch.head_name = restore(&held.head_name, change.head_name.as_ref(), &mut out.counts);
        if patch.address.is_some() || patch.head_name.is_some() {
            out.counts.records_restored += 1;
            out.payloads.push(Payload::HouseholdPatched(patch));
        }
    }
    for change in &record.people_changed {
        let Some(held) = view.resident(change.id)?.filter(|r| r.removed.is_none()) else {
            out.counts.already_gone += 1;
            continue;
        };
        let mut patch = ResidentPatch { resident_id: held.id, base_version: held.version, ..ResidentPatch::default() };
        let counts = &mut out.counts;
        patch.full_name = restore(&held.full_name, change.full_name.as_ref(), counts);
        patch.birth_year = restore(&held.birth_year, change.birth_year.as_ref(), counts);
        patch.sex = restore(&held.sex, change.sex.as_ref(), counts);
        // "" clears a CCCD or phone the import added where there was none
        patch.cccd = restore(&held.cccd, change.cccd.as_ref(), counts).map(Option::unwrap_or_default);
        patch.phone = restore(&held.phone, change.phone.as_ref(), counts).map(Option::unwrap_or_default);
        if patch != (ResidentPatch { resident_id: held.id, base_version: held.version, ..ResidentPatch::default() }) {
            out.counts.records_restored += 1;
            out.payloads.push(Payload::ResidentPatched(patch));
        }
    }
    Ok(out)
}

/// The value before, when the field still holds what the import set; else none (someone changed
/// it since: theirs is kept).
fn restore<T: Clone + PartialEq>(now: &T, change: Option<&Changed<T>>, counts: &mut UndoCounts) -> Option<T> {
    let change = change?;
    if *now == change.after {
        Some(change.before.clone())
    } else {
        counts.fields_kept += 1;
        None
    }
}
