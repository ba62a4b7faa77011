//! Wire types of the office's server commands (`/api/v1/office/…`): the people of an officer's
//! places with their devices, a new volunteer or team leader with a one-time enrollment code, a
//! new code, a device revoked. These need the server (it mints the codes and holds the devices);
//! what the office decides about the records (imports, assignments) travels as events instead.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::sync::protocol::Role;

/// One enrolled device of a person, as the office sees it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeDevice {
    /// The device.
    pub id: Uuid,
    /// The name given at enrollment.
    pub name: String,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it last sent records.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The app version it last spoke with.
    pub app_version: Option<String>,
    /// Records it still held unsent after its last push, as it reported them.
    pub unsent: Option<u64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A person of the officer's places.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficePerson {
    /// The user.
    pub id: Uuid,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The places they work in (codes, sorted).
    pub places: Vec<String>,
    /// Their devices, newest first.
    pub devices: Vec<OfficeDevice>,
}

/// `GET /api/v1/office/people`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficePeople {
    /// Everyone working in the officer's places, by name.
    pub people: Vec<OfficePerson>,
}

/// `POST /api/v1/office/people`: a new volunteer or team leader.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerson {
    /// Their name.
    pub name: String,
    /// `volunteer` or `team_leader`.
    pub role: Role,
    /// The places they work in (inside the officer's).
    pub places: Vec<String>,
}

/// `POST /api/v1/office/people/{id}/role`: a volunteer made team leader, or back.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRole {
    /// `volunteer` or `team_leader`.
    pub role: Role,
}

/// A one-time enrollment code, shown once (as text and as a QR code).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentCode {
    /// Whom it enrolls a device for.
    pub user_id: Uuid,
    /// The code, as the person types it.
    pub code: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for EnrollmentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a live code enrolls a device: never in a log line
        f.debug_struct("EnrollmentCode").field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

/// The answer to `POST /api/v1/office/people`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPersonResponse {
    /// The person.
    pub person: OfficePerson,
    /// Their first enrollment code.
    pub code: EnrollmentCode,
}

/// How long an office's enrollment code works: three days, time to meet the volunteer.
pub const OFFICE_CODE_HOURS: i64 = 72;
