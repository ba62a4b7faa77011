//! Current-state records derived from events: households, residents and their visits.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::funnel::{ChecklistStep, FunnelState, VisitAction};

/// A person's sex as recorded (and as encoded in the CCCD number).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Nam.
    Male,
    /// Nữ.
    Female,
}

impl Sex {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    /// Parses [`Sex::code`].
    pub fn from_code(code: &str) -> Option<Sex> {
        match code {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            _ => None,
        }
    }
    /// Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            Sex::Male => "Nam",
            Sex::Female => "Nữ",
        }
    }
    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// Why a record waits for a person's review.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Two edits from the same version changed different fields: both applied.
    ParallelUpdate,
    /// Two edits from the same version changed the same field: the later arrival won.
    Conflict,
    /// A visit recorded on a phone whose clock was ahead of the server's: the server counted it
    /// at its arrival instead.
    ClockAhead,
    /// A visit recorded on a phone whose clock was before the campaigns began (reset to 1970):
    /// the server counted it at its arrival instead.
    ClockBehind,
}

impl Review {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Review::ParallelUpdate => "parallel_update",
            Review::Conflict => "conflict",
            Review::ClockAhead => "clock_ahead",
            Review::ClockBehind => "clock_behind",
        }
    }
    /// Parses [`Review::code`].
    pub fn from_code(code: &str) -> Option<Review> {
        [Review::ParallelUpdate, Review::Conflict, Review::ClockAhead, Review::ClockBehind]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// A household (hộ): the survey unit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    /// Stable id chosen by the device that created it.
    pub id: Uuid,
    /// The hamlet (thôn, bản, ấp, tổ dân phố) it belongs to.
    pub hamlet_code: String,
    /// Address as written locally.
    pub address: String,
    /// Name of the head of household (chủ hộ).
    pub head_name: String,
    /// Number of members, once surveyed.
    pub members: Option<u32>,
    /// How many members own a smartphone, once surveyed.
    pub smartphones: Option<u32>,
    /// Whether the household has an internet-connected computer, once surveyed.
    pub has_internet_computer: Option<bool>,
    /// Bumped by every change of the descriptive fields; edits name the version they saw.
    pub version: u32,
    /// Set when two edits were based on the same version: a person should review it.
    pub review: Option<Review>,
    /// The version that last changed each descriptive field (to tell a conflict from a
    /// parallel update).
    pub field_versions: BTreeMap<String, u32>,
    /// Set by a tombstone: why the household was removed.
    pub removed: Option<String>,
}

/// A resident (nhân khẩu) and where they stand in the funnel.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    /// Stable id chosen by the device that added the person.
    pub id: Uuid,
    /// Their household.
    pub household_id: Uuid,
    /// Full name.
    pub full_name: String,
    /// Birth year.
    pub birth_year: i32,
    /// Sex.
    pub sex: Sex,
    /// 12-digit CCCD number, if known.
    pub cccd: Option<String>,
    /// Phone number in domestic form, if known.
    pub phone: Option<String>,
    /// Bumped by every edit of the fields above.
    pub version: u32,
    /// Set when two edits were based on the same version.
    pub review: Option<Review>,
    /// The version that last changed each field above.
    pub field_versions: BTreeMap<String, u32>,
    /// The funnel state of the deciding visit; `None` until visited.
    pub status: Option<FunnelState>,
    /// The cannot-activate reason of the deciding visit.
    pub reason_code: Option<String>,
    /// The follow-up date of the deciding visit.
    pub follow_up: Option<NaiveDate>,
    /// The deciding visit: the one with the furthest funnel state, ties broken by the larger id.
    pub deciding_visit: Option<Uuid>,
    /// How many visits were recorded for this person.
    pub visit_count: u32,
    /// Set by a tombstone (`resident_removed.v1`): why the person was removed.
    #[serde(default)]
    pub removed: Option<String>,
    /// What a spot-check found (`claim_checked.v1`), about the visit [`Resident::checked_visit`].
    #[serde(default)]
    pub claim_check: Option<crate::spotcheck::CheckOutcome>,
    /// The visit the spot-check checked: the finding holds while it is still the deciding visit.
    #[serde(default)]
    pub checked_visit: Option<Uuid>,
    /// Set by a merge (`residents_merged.v1`, with `removed = "merged"`): the record this one
    /// became part of. A visit recorded on this one later lands there.
    #[serde(default)]
    pub merged_into: Option<Uuid>,
}

/// Who works where: the places the office gave a user (`assignment_set.v1`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The volunteer or team leader.
    pub user_id: Uuid,
    /// Their places' codes, sorted.
    pub places: Vec<String>,
    /// The officer who assigned them.
    pub assigned_by: Uuid,
}

/// One recorded visit outcome for one person. Visits are only ever appended.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// Stable id.
    pub id: Uuid,
    /// The person visited.
    pub resident_id: Uuid,
    /// Funnel state reached.
    pub status: FunnelState,
    /// Cannot-activate reason, when not activated.
    pub reason_code: Option<String>,
    /// What the volunteer did.
    pub action: Option<VisitAction>,
    /// When to go back.
    pub follow_up: Option<NaiveDate>,
    /// The guidance checklist's steps done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<ChecklistStep>,
    /// Free-text note.
    pub note: Option<String>,
    /// Where the recording phone was, when it said (police only: `privacy::mask_payload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<crate::event::GeoPosition>,
    /// Why it awaits a look in the review queue: the recording phone's clock was wrong (the
    /// server's flag, carried by the pull); cleared by `review_resolved.v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    /// Who recorded it.
    pub author: Uuid,
    /// On which device.
    pub device_id: Uuid,
    /// The device's clock when recorded (kept for audit, never for ordering).
    pub device_time: DateTime<Utc>,
}
