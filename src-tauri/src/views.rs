//! Shapes the app's commands return that exist only for the UI.

use chrono::{DateTime, Utc};
use gocua_core::store::Enrollment;
use gocua_core::sync::engine::SyncProgress;
use gocua_core::sync::protocol::Role;
use serde::Serialize;

/// Who this device is, without the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct EnrollmentView {
    /// Server address.
    pub server_url: String,
    /// User name.
    pub user_name: String,
    /// Role.
    pub role: Role,
    /// The scope's place codes, comma-separated.
    pub scope_code: String,
    /// The scope's place names, comma-separated.
    pub scope_name: String,
}

impl EnrollmentView {
    /// Builds the view; the scope's name comes from the device's places.
    pub fn new(e: &Enrollment, scope_name: String) -> Self {
        EnrollmentView {
            server_url: e.server_url.clone(),
            user_name: e.user_name.clone(),
            role: e.role,
            scope_code: e.scope.key(),
            scope_name,
        }
    }
}

/// What the first screen needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct AppInfo {
    /// The enrollment, if any.
    pub enrollment: Option<EnrollmentView>,
    /// A server address to pre-fill on the enrollment screen.
    pub default_server_url: Option<String>,
    /// App version.
    pub version: String,
    /// Training mode: the open database is the trainer's sandbox of made-up data.
    pub sandbox: bool,
    /// The server revoked this device and its data was erased (said on the enrollment screen).
    pub wiped: bool,
    /// The app lock.
    pub lock: LockView,
    /// Records already acknowledged by the server leave the phone after this many days.
    pub retention_days: u32,
}

/// The app lock, as the UI needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LockView {
    /// A PIN is set (an enrolled device without one is asked to set it).
    pub has_pin: bool,
    /// Locked: the database is closed until the PIN is entered.
    pub locked: bool,
    /// Lock after this many seconds without a touch or a key.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub idle_seconds: u64,
}

/// What the sync worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Not enrolled yet: nothing to sync.
    NotEnrolled,
    /// Waiting for the next round.
    Idle,
    /// A round is running.
    Syncing,
    /// The server could not be reached; retrying with backoff.
    Offline,
    /// The server refused (e.g. revoked, forbidden, upgrade required).
    Refused,
    /// Training mode: the sandbox never syncs.
    Sandbox,
}

/// The sync bar's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SyncView {
    /// What the worker is doing.
    pub phase: SyncPhase,
    /// Local records not yet acknowledged.
    pub unsent: u64,
    /// Local records the server rejected.
    pub rejected: u64,
    /// Last complete sync.
    pub last_success: Option<DateTime<Utc>>,
    /// Progress of the running round.
    pub progress: Option<SyncProgress>,
    /// The last error, Vietnamese then English.
    pub message: Option<String>,
    /// Seconds until the next automatic try.
    pub next_retry_secs: Option<u64>,
}

/// A sneakernet bundle written to disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct BundleExport {
    /// Where the file is.
    pub path: String,
    /// How many records it carries.
    pub events: u64,
}
