//! What a person fills in on the device, turned into events by the store (ids made here).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::event::{HouseholdCreated, HouseholdSurveyed, Payload, ResidentAdded, ResidentFields, VisitRecorded};
use crate::funnel::{FunnelState, VisitAction};
use crate::model::{Household, Resident, Sex, Visit};
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
    /// Note.
    pub note: Option<String>,
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
        let household_id = Uuid::now_v7();
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
        let resident_id = Uuid::now_v7();
        self.record(Payload::ResidentAdded(ResidentAdded {
            resident_id,
            household_id: form.household_id,
            fields: ResidentFields {
                full_name: form.full_name,
                birth_year: form.birth_year,
                sex: form.sex,
                cccd: blank_to_none(form.cccd),
                phone: blank_to_none(form.phone),
            },
        }))?;
        Ok(resident_id)
    }

    /// Records a visit outcome; returns the visit's id.
    pub fn record_visit(&mut self, form: NewVisit) -> Result<Uuid, Error> {
        let visit_id = Uuid::now_v7();
        self.record(Payload::VisitRecorded(VisitRecorded {
            visit_id,
            resident_id: form.resident_id,
            status: form.status,
            reason_code: blank_to_none(form.reason_code),
            action: form.action,
            follow_up: form.follow_up,
            note: blank_to_none(form.note),
        }))?;
        Ok(visit_id)
    }
}
