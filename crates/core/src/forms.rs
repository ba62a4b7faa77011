//! What a person fills in on the device, turned into events by the store (ids made here).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::event::{
    GeoPosition, HouseholdCreated, HouseholdSurveyed, Payload, ResidentAdded, ResidentFields, VisitRecorded,
};
use crate::funnel::{ChecklistStep, FunnelState, VisitAction};
use crate::model::{Household, Resident, Visit};
use crate::store::DeviceStore;

/// The "new household" form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewHousehold {
    /// Hamlet code.
    pub hamlet_code: String,
    /// Address.
    pub address: String,
    /// Head of household.
    pub head_name: String,
}

/// The "new resident" form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewResident {
    /// The household.
    pub household_id: Uuid,
    /// The person's details.
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub fields: ResidentFields,
}

/// The "visit outcome" form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewVisit {
    /// The person.
    pub resident_id: Uuid,
    /// Funnel state reached.
    pub status: FunnelState,
    /// Cannot-activate reason, when not activated.
    pub reason_code: Option<String>,
    /// What the volunteer did.
    pub action: Option<VisitAction>,
    /// When to come back.
    pub follow_up: Option<NaiveDate>,
    /// The guidance checklist's steps done (the status must not contradict them).
    #[serde(default)]
    pub steps: Vec<ChecklistStep>,
    /// Note.
    pub note: Option<String>,
    /// Where the phone was, when the volunteer asked for it to be recorded (never required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub position: Option<GeoPosition>,
}

/// A household with its residents, for the household screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct HouseholdDetail {
    /// The household.
    pub household: Household,
    /// Its hamlet's name.
    pub hamlet_name: String,
    /// Its residents, by name.
    pub residents: Vec<Resident>,
}

/// A resident with their visits, for the resident screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ResidentDetail {
    /// The person.
    pub resident: Resident,
    /// Their visits, newest first.
    pub visits: Vec<Visit>,
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl DeviceStore {
    /// Creates a household; returns its id.
    pub fn create_household(&mut self, form: NewHousehold) -> Result<Uuid, Error> {
        let household_id = self.new_record_id()?;
        self.record(Payload::HouseholdCreated(HouseholdCreated {
            household_id,
            hamlet_code: form.hamlet_code,
            address: form.address,
            head_name: form.head_name,
        }))?;
        Ok(household_id)
    }

    /// Records a household's survey answers.
    pub fn survey_household(&mut self, survey: HouseholdSurveyed) -> Result<(), Error> {
        self.record(Payload::HouseholdSurveyed(survey)).map(|_| ())
    }

    /// Adds a person to a household; returns their id.
    pub fn add_resident(&mut self, form: NewResident) -> Result<Uuid, Error> {
        let resident_id = self.new_record_id()?;
        self.record(Payload::ResidentAdded(ResidentAdded {
            resident_id,
            household_id: form.household_id,
            fields: ResidentFields {
                cccd: blank_to_none(form.fields.cccd),
                phone: blank_to_none(form.fields.phone),
                ..form.fields
            },
        }))?;
        Ok(resident_id)
    }

    /// Records a visit outcome; returns the visit's id.
    pub fn record_visit(&mut self, form: NewVisit) -> Result<Uuid, Error> {
        let visit_id = self.new_record_id()?;
        self.record(Payload::VisitRecorded(VisitRecorded {
            steps: form.steps,
            visit_id,
            resident_id: form.resident_id,
            status: form.status,
            reason_code: blank_to_none(form.reason_code),
            action: form.action,
            follow_up: form.follow_up,
            note: blank_to_none(form.note),
            position: form.position,
        }))?;
        Ok(visit_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn enrolled() -> DeviceStore {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let response = fixtures::enroll_response(&store);
        store.save_enrollment("http://127.0.0.1:9", &response).unwrap();
        store
    }

    #[test]
    fn forms_become_events_and_blank_optionals_are_dropped() {
        let mut store = enrolled();
        let household_id = store
            .create_household(NewHousehold {
                hamlet_code: "03445-03".into(),
                address: "Bản Mường Tè".into(),
                head_name: "Vũ Minh Khánh".into(),
            })
            .unwrap();
        let resident_id = store
            .add_resident(NewResident {
                household_id,
                fields: ResidentFields {
                    full_name: "Vũ Minh Khánh".into(),
                    birth_year: 1980,
                    sex: crate::model::Sex::Male,
                    cccd: Some("  ".into()),
                    phone: Some("+84 912 345 678".into()),
                },
            })
            .unwrap();
        store
            .record_visit(NewVisit {
                steps: Vec::new(),
                resident_id,
                status: FunnelState::ApprovedNotActivated,
                reason_code: Some("no_smartphone".into()),
                action: Some(VisitAction::ReferredLevel2),
                follow_up: NaiveDate::from_ymd_opt(2026, 12, 1),
                note: Some(" ".into()),
                position: None,
            })
            .unwrap();
        let detail = store.household_detail(household_id).unwrap();
        assert_eq!(detail.hamlet_name, "Bản Mường Tè");
        let resident = &detail.residents[0];
        assert_eq!((resident.cccd.as_deref(), resident.phone.as_deref()), (None, Some("0912345678")));
        let visits = store.resident_detail(resident_id).unwrap().visits;
        assert_eq!(visits.len(), 1);
        assert_eq!(visits[0].note, None);
        assert_eq!(visits[0].action, Some(VisitAction::ReferredLevel2));
        assert_eq!(store.unsent_count().unwrap(), 3);
        let missing = store.household_detail(Uuid::now_v7()).unwrap_err();
        assert!(matches!(missing, Error::NotFound { what: "household", .. }), "{missing}");
    }
}
