//! Wire types of `POST /api/v1/device/status`: the revocation check a locked app makes with
//! its revocation probe (`EnrollResponse::revocation_probe`), without its database or token.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The path of the check, under the server's base URL.
pub const DEVICE_STATUS_PATH: &str = "/api/v1/device/status";

/// `POST /api/v1/device/status`: is this device still enrolled?
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatusRequest {
    /// The device's id (from its enrollment).
    pub device_id: Uuid,
    /// The revocation probe its enrollment answered.
    pub probe: String,
}

impl std::fmt::Debug for DeviceStatusRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the probe is a secret: never in a log line
        f.debug_struct("DeviceStatusRequest").field("device_id", &self.device_id).finish_non_exhaustive()
    }
}

/// Whether a device may still sync.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Enrolled and not revoked.
    Active,
    /// Revoked by the police: the app wipes its data and key.
    Revoked,
}

/// The answer: the device's state and nothing else.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatusResponse {
    /// `active` or `revoked`.
    pub status: DeviceState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_one_word_and_the_probe_stays_out_of_debug_output() {
        let revoked = DeviceStatusResponse { status: DeviceState::Revoked };
        assert_eq!(serde_json::to_string(&revoked).unwrap(), r#"{"status":"revoked"}"#);
        let active: DeviceStatusResponse = serde_json::from_str(r#"{"status":"active"}"#).unwrap();
        assert_eq!(active.status, DeviceState::Active);
        let request = DeviceStatusRequest { device_id: Uuid::nil(), probe: "s3cret-probe".into() };
        assert!(!format!("{request:?}").contains("s3cret"));
    }
}
