//! Immutable events: every user action, with a versioned payload. Names are never reused.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::funnel::{ChecklistStep, FunnelState, VisitAction};
use crate::model::Sex;

/// One fact recorded on one device. Never edited; corrections are new events.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7, made on the device.
    pub id: Uuid,
    /// The enrolled device that recorded it.
    pub device_id: Uuid,
    /// Per-device sequence number: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// The user who recorded it.
    pub author: Uuid,
    /// The device's clock at the time (audit only; clocks are not trusted for ordering).
    pub device_time: DateTime<Utc>,
    /// What happened: an object whose `type` names the payload and its version
    /// (`household_created.v1`, `resident_edited.v2`, `visit_recorded.v1`, …; DESIGN.md).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Payload,
}

/// What an event says happened. The `type` tag carries the payload version: a changed meaning
/// gets a new name (`….v2`), and old names stay readable forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Payload {
    /// A household was found and created.
    #[serde(rename = "household_created.v1")]
    HouseholdCreated(HouseholdCreated),
    /// A household's survey answers were recorded.
    #[serde(rename = "household_surveyed.v1")]
    HouseholdSurveyed(HouseholdSurveyed),
    /// A household's address or head was corrected.
    #[serde(rename = "household_edited.v1")]
    HouseholdEdited(HouseholdEdited),
    /// A person was added to a household.
    #[serde(rename = "resident_added.v1")]
    ResidentAdded(ResidentAdded),
    /// A person's descriptive fields were corrected.
    #[serde(rename = "resident_edited.v1")]
    ResidentEdited(ResidentEdited),
    /// A visit outcome was recorded for a person.
    #[serde(rename = "visit_recorded.v1")]
    VisitRecorded(VisitRecorded),
    /// Some of a household's descriptive fields were corrected (schema 2).
    #[serde(rename = "household_edited.v2")]
    HouseholdPatched(HouseholdPatch),
    /// Some of a person's descriptive fields were corrected (schema 2).
    #[serde(rename = "resident_edited.v2")]
    ResidentPatched(ResidentPatch),
    /// A household was removed (a duplicate, or it no longer exists): a tombstone (schema 2).
    #[serde(rename = "household_removed.v1")]
    HouseholdRemoved(HouseholdRemoved),
    /// A person was removed (a duplicate, moved away, or brought by an import since undone): a
    /// tombstone (schema 6).
    #[serde(rename = "resident_removed.v1")]
    ResidentRemoved(ResidentRemoved),
    /// The office gave a volunteer or team leader the places they work in (schema 6).
    #[serde(rename = "assignment_set.v1")]
    AssignmentSet(AssignmentSet),
    /// The police checked a claimed activation in the national system (schema 6).
    #[serde(rename = "claim_checked.v1")]
    ClaimChecked(ClaimChecked),
    /// Two records of one person were found and made one (schema 7).
    #[serde(rename = "residents_merged.v1")]
    ResidentsMerged(ResidentsMerged),
    /// The office set a campaign's window, targets and quotas (schema 7).
    #[serde(rename = "campaign_set.v1")]
    CampaignSet(CampaignSet),
    /// A person looked at a record flagged for review and settled it (schema 7).
    #[serde(rename = "review_resolved.v1")]
    ReviewResolved(ReviewResolved),
}

impl Payload {
    /// The versioned type name, as on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Payload::HouseholdCreated(_) => "household_created.v1",
            Payload::HouseholdSurveyed(_) => "household_surveyed.v1",
            Payload::HouseholdEdited(_) => "household_edited.v1",
            Payload::ResidentAdded(_) => "resident_added.v1",
            Payload::ResidentEdited(_) => "resident_edited.v1",
            Payload::VisitRecorded(_) => "visit_recorded.v1",
            Payload::HouseholdPatched(_) => "household_edited.v2",
            Payload::ResidentPatched(_) => "resident_edited.v2",
            Payload::HouseholdRemoved(_) => "household_removed.v1",
            Payload::ResidentRemoved(_) => "resident_removed.v1",
            Payload::AssignmentSet(_) => "assignment_set.v1",
            Payload::ClaimChecked(_) => "claim_checked.v1",
            Payload::ResidentsMerged(_) => "residents_merged.v1",
            Payload::CampaignSet(_) => CAMPAIGN_SET,
            Payload::ReviewResolved(_) => "review_resolved.v1",
        }
    }

    /// The lowest sync schema that knows this payload.
    pub fn schema(&self) -> u32 {
        match self {
            Payload::ResidentsMerged(_) | Payload::CampaignSet(_) | Payload::ReviewResolved(_) => 7,
            Payload::ResidentRemoved(_) | Payload::AssignmentSet(_) | Payload::ClaimChecked(_) => 6,
            Payload::HouseholdRemoved(p) if p.reason == IMPORT_UNDONE => 6,
            Payload::HouseholdPatched(_) | Payload::ResidentPatched(_) | Payload::HouseholdRemoved(_) => 2,
            _ => 1,
        }
    }

    /// Whether the order of this event against others on the same record changes the result
    /// (last-writer fields). Visits and creations commute; these do not.
    pub fn order_sensitive(&self) -> bool {
        matches!(
            self,
            Payload::HouseholdSurveyed(_)
                | Payload::HouseholdEdited(_)
                | Payload::ResidentEdited(_)
                | Payload::HouseholdPatched(_)
                | Payload::ResidentPatched(_)
                | Payload::HouseholdRemoved(_)
                | Payload::ResidentRemoved(_)
                | Payload::AssignmentSet(_)
                | Payload::ClaimChecked(_)
                | Payload::ResidentsMerged(_)
                | Payload::CampaignSet(_)
                | Payload::ReviewResolved(_)
        )
    }

    /// The household, resident or (for an assignment) user the event changes; for a merge, the
    /// person kept; for a campaign, the campaign.
    pub fn record_id(&self) -> Uuid {
        match self {
            Payload::AssignmentSet(p) => p.user_id,
            Payload::HouseholdCreated(p) => p.household_id,
            Payload::HouseholdSurveyed(p) => p.household_id,
            Payload::HouseholdEdited(p) => p.household_id,
            Payload::HouseholdPatched(p) => p.household_id,
            Payload::HouseholdRemoved(p) => p.household_id,
            Payload::ResidentAdded(p) => p.resident_id,
            Payload::ResidentEdited(p) => p.resident_id,
            Payload::ResidentPatched(p) => p.resident_id,
            Payload::ResidentRemoved(p) => p.resident_id,
            Payload::ClaimChecked(p) => p.resident_id,
            Payload::ResidentsMerged(p) => p.kept,
            Payload::CampaignSet(p) => p.campaign_id,
            Payload::ReviewResolved(p) => p.record_id,
            Payload::VisitRecorded(p) => p.resident_id,
        }
    }
}

/// `household_created.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdCreated {
    /// New household id (UUIDv7 from the device).
    pub household_id: Uuid,
    /// Its hamlet.
    pub hamlet_code: String,
    /// Address.
    pub address: String,
    /// Head of household.
    pub head_name: String,
}

/// `household_surveyed.v1`: the survey of seed 000 ("theo từng hộ").
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSurveyed {
    /// The household.
    pub household_id: Uuid,
    /// Number of members.
    pub members: u32,
    /// Members owning a smartphone.
    pub smartphones: u32,
    /// An internet-connected computer in the household.
    pub has_internet_computer: bool,
}

/// `household_edited.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdEdited {
    /// The household.
    pub household_id: Uuid,
    /// The version the editor saw.
    pub base_version: u32,
    /// New address.
    pub address: String,
    /// New head of household.
    pub head_name: String,
}

/// `household_edited.v2`: only the fields the editor changed, and the version they saw. Two edits
/// from the same version that change different fields both apply ("parallel update"); the same
/// field changed twice keeps the later arrival and is flagged ("conflict").
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdPatch {
    /// The household.
    pub household_id: Uuid,
    /// The version the editor saw.
    pub base_version: u32,
    /// New address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// New head of household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_name: Option<String>,
}

/// `resident_edited.v2`: only the fields the editor changed. An empty `cccd` or `phone` clears it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentPatch {
    /// The person.
    pub resident_id: Uuid,
    /// The version the editor saw.
    pub base_version: u32,
    /// New full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// New birth year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<i32>,
    /// New sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// New CCCD number ("" clears it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cccd: Option<String>,
    /// New phone ("" clears it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `household_removed.v1`: a tombstone. The household stays in the projection, marked removed,
/// so a visit recorded offline meanwhile is still kept.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdRemoved {
    /// The household.
    pub household_id: Uuid,
    /// Why: one of [`REMOVAL_REASONS`].
    pub reason: String,
}

/// Why a household or a person may be removed. `import_undone` (schema 6) is the office's undo
/// of a whole import: what the import brought is removed, and a later import of the same rows
/// brings them back as new records (`gocua_import`).
pub const REMOVAL_REASONS: [&str; 4] = ["duplicate", "moved_away", "not_found", IMPORT_UNDONE];

/// The removal reason of an undone import.
pub const IMPORT_UNDONE: &str = "import_undone";

/// `resident_removed.v1`: a tombstone. The person stays in the projection, marked removed, so a
/// visit recorded offline meanwhile is still kept; lists and counts leave them out.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentRemoved {
    /// The person.
    pub resident_id: Uuid,
    /// Why: one of [`REMOVAL_REASONS`].
    pub reason: String,
}

/// `assignment_set.v1`: the office gives a volunteer or team leader the places they work in
/// (hamlets, or the whole commune), replacing the places they had. The server applies it to the
/// user's scope, so their phones pull the new places and hand in the old ones (ARCHITECTURE.md,
/// "Scope"); the office's devices keep it to show who works where. The latest recorded wins.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentSet {
    /// The volunteer or team leader.
    pub user_id: Uuid,
    /// Their places' codes.
    pub places: Vec<String>,
}

/// `claim_checked.v1`: a spot-check's finding on one claimed activation (`crate::spotcheck`).
/// The person keeps it with the visit it checked; a later check of the same claim replaces it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimChecked {
    /// The person.
    pub resident_id: Uuid,
    /// The visit whose claim was checked.
    pub visit_id: Uuid,
    /// What the officer found.
    pub outcome: crate::spotcheck::CheckOutcome,
}

/// `residents_merged.v1`: two records of the same person (typically one typed on the spot and
/// one an import brought) become one. The kept record takes the other's visits, its furthest
/// outcome and the CCCD or phone it lacked; the other becomes a tombstone (`removed = "merged"`)
/// that points at the kept one, so a visit recorded on it later, by a phone that had not heard
/// of the merge, lands on the kept person. Both must be in the same hamlet (every phone that
/// holds one holds the other).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentsMerged {
    /// The record that stays.
    pub kept: Uuid,
    /// The record merged into it.
    pub merged: Uuid,
}

/// What a merged record's `removed` says.
pub const MERGED: &str = "merged";

/// `campaign_set.v1`: a peak campaign ("đợt cao điểm") as the office plans it, whole: its window,
/// what the place must reach, the rule that every official guides at least so many citizens
/// ("hướng dẫn tối thiểu 10 người dân … có PL danh sách hướng dẫn"), and the quotas it gives
/// hamlets, teams and volunteers. The latest recorded replaces the campaign. Only successfully
/// activated accounts count toward any of them. Every phone under the place pulls it (the
/// server sends it with the events of the phone's own places), so it shows its quota offline.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSet {
    /// The campaign (UUIDv7 made by the office when first set).
    pub campaign_id: Uuid,
    /// Its name ("Cao điểm 60 ngày").
    pub name: String,
    /// The place it runs in (a commune, or a district or province).
    pub place: String,
    /// First day.
    pub starts: NaiveDate,
    /// Last day (inclusive).
    pub ends: NaiveDate,
    /// Activations the place must reach in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<u32>,
    /// Citizens every official must guide to a successful activation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_official: Option<u32>,
    /// Quotas of hamlets, teams and volunteers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotas: Vec<Quota>,
}

/// `review_resolved.v1`: a police officer or team leader looked at a household or person
/// flagged for review (a parallel update, or a conflict where the later edit won) as it was at
/// `base_version`, and settled it: kept as it is, or corrected by the edit recorded with it. The
/// flag clears unless the record changed again since, which keeps it in the queue.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewResolved {
    /// The household, person or visit.
    pub record_id: Uuid,
    /// The version the reviewer saw (0 for a visit, which never changes).
    pub base_version: u32,
    /// How: `kept` (as it is) or `corrected` (by an edit recorded just before).
    pub resolution: String,
    /// For a visit, its person: where the event belongs (an additive field; older readers
    /// ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<Uuid>,
}

/// The resolutions of a review.
pub const REVIEW_RESOLUTIONS: [&str; 2] = ["kept", "corrected"];

/// The type name of [`CampaignSet`] (the server looks for it above a phone's places).
pub const CAMPAIGN_SET: &str = "campaign_set.v1";

/// Whom a quota is given to.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaHolder {
    /// A hamlet: activations of its residents.
    Place(String),
    /// A volunteer (activations they recorded) or a team leader (their team: activations in
    /// the places they lead).
    User(Uuid),
}

/// One quota of a campaign: a total for the window, a number a day, or both.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Whom it is given to.
    pub holder: QuotaHolder,
    /// Activations in the whole window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
    /// Activations a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u32>,
}

/// The descriptive fields of a person.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentFields {
    /// Full name.
    pub full_name: String,
    /// Birth year.
    pub birth_year: i32,
    /// Sex.
    pub sex: Sex,
    /// CCCD number, if known.
    pub cccd: Option<String>,
    /// Phone, if known.
    pub phone: Option<String>,
}

/// `resident_added.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentAdded {
    /// New person id.
    pub resident_id: Uuid,
    /// Their household.
    pub household_id: Uuid,
    /// Their details.
    #[serde(flatten)]
    pub fields: ResidentFields,
}

/// `resident_edited.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentEdited {
    /// The person.
    pub resident_id: Uuid,
    /// The version the editor saw.
    pub base_version: u32,
    /// The corrected details (all of them).
    #[serde(flatten)]
    pub fields: ResidentFields,
}

/// `visit_recorded.v1`: the outcome of one visit for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRecorded {
    /// New visit id.
    pub visit_id: Uuid,
    /// The person.
    pub resident_id: Uuid,
    /// Funnel state reached.
    pub status: FunnelState,
    /// Cannot-activate reason code (from the reason catalog), when not activated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// What the volunteer did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<VisitAction>,
    /// When to come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<NaiveDate>,
    /// The guidance checklist's steps done during the visit (an additive field: older readers
    /// ignore it; the status must not contradict it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<ChecklistStep>,
    /// Free-text note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the phone was when the visit was recorded, if the volunteer let it say (an additive
    /// field: older readers ignore it). Never required; only the police see it (`privacy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<GeoPosition>,
}

/// A phone's position for a spot-check: whole numbers, so values compare exactly and every
/// device and database stores the same ones.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoPosition {
    /// Latitude in millionths of a degree (−90 000 000 ..= 90 000 000).
    pub lat_e6: i32,
    /// Longitude in millionths of a degree (−180 000 000 ..= 180 000 000).
    pub lon_e6: i32,
    /// How far off it may be, in metres (1 ..= 100 000), as the phone reported it.
    pub accuracy_m: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_tag_carries_the_version_and_matches_type_name() {
        let p = Payload::HouseholdSurveyed(HouseholdSurveyed {
            household_id: Uuid::nil(),
            members: 4,
            smartphones: 2,
            has_internet_computer: false,
        });
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "household_surveyed.v1");
        assert_eq!(json["type"], p.type_name());
        assert_eq!(serde_json::from_value::<Payload>(json).unwrap(), p);
    }

    fn visit(position: Option<GeoPosition>) -> Payload {
        Payload::VisitRecorded(VisitRecorded {
            visit_id: Uuid::from_u128(7),
            resident_id: Uuid::from_u128(8),
            status: FunnelState::ActivatedLevel1,
            reason_code: None,
            action: None,
            follow_up: None,
            steps: vec![],
            note: None,
            position,
        })
    }

    #[test]
    fn a_visits_position_is_additive() {
        let here = GeoPosition { lat_e6: 21_028_500, lon_e6: -105_854_200, accuracy_m: 15 };
        let json = serde_json::to_value(visit(Some(here))).unwrap();
        assert_eq!(json["type"], "visit_recorded.v1", "the same version: older readers ignore the field");
        assert_eq!(
            json["position"],
            serde_json::json!({ "lat_e6": 21_028_500, "lon_e6": -105_854_200, "accuracy_m": 15 })
        );
        assert_eq!(serde_json::from_value::<Payload>(json).unwrap(), visit(Some(here)));

        let without = serde_json::to_value(visit(None)).unwrap();
        assert!(without.get("position").is_none(), "no position, no field: {without}");
        assert_eq!(serde_json::from_value::<Payload>(without).unwrap(), visit(None));

        // a visit written before the field existed reads as one without a position
        let old = r#"{"type":"visit_recorded.v1","visit_id":"00000000-0000-0000-0000-000000000007",
            "resident_id":"00000000-0000-0000-0000-000000000008","status":"activated_level1"}"#;
        assert_eq!(serde_json::from_str::<Payload>(old).unwrap(), visit(None));
        // and an explicit null is none too
        let null = old.replace(r#""status""#, r#""position":null,"status""#);
        assert_eq!(serde_json::from_str::<Payload>(&null).unwrap(), visit(None));
    }

    #[test]
    fn unknown_payload_names_are_refused() {
        let err = serde_json::from_str::<Payload>(r#"{"type":"household_created.v9"}"#).unwrap_err();
        assert!(err.to_string().contains("household_created.v9"), "{err}");
    }
}
