//! The rows the server trades with its store: plain data, no driver types.

use chrono::{DateTime, Utc};
use gocua_core::event::Event;
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::Role;
use uuid::Uuid;

/// A dashboard account (`web_accounts`): a user's login and password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebAccountRow {
    /// The user it signs in as.
    pub user_id: Uuid,
    /// The login (lowercase).
    pub login: String,
    /// The password's Argon2id PHC string.
    pub password_hash: String,
    /// Failed sign-ins since the last good one.
    pub failed_sign_ins: u32,
    /// No sign-in before this.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the password was set.
    pub changed_at: DateTime<Utc>,
}

/// A dashboard session (`web_sessions`): only the hash of its cookie's token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSessionRow {
    /// SHA-256 (hex) of the cookie's token.
    pub token_hash: String,
    /// Who.
    pub user_id: Uuid,
    /// The token the page sends back with every change.
    pub csrf: String,
    /// Signed in at.
    pub created_at: DateTime<Utc>,
    /// Last used at (written at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// Ends at, unless used before.
    pub expires_at: DateTime<Utc>,
}

/// A user: who acts, with which role, over which places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The places they may see and change.
    pub scope: Scope,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// A one-time enrollment code (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    /// SHA-256 (hex) of the normalized code.
    pub code_hash: String,
    /// The user it enrolls a device for.
    pub user_id: Uuid,
    /// When issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used, if it was.
    pub used_at: Option<DateTime<Utc>>,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Id.
    pub id: Uuid,
    /// Its user.
    pub user_id: Uuid,
    /// The name given at enrollment.
    pub name: String,
    /// SHA-256 (hex) of its bearer token.
    pub token_hash: String,
    /// When enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it last pushed.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The last sequence number of its events the server handled.
    pub last_seq: u64,
    /// The app version it last spoke with.
    pub app_version: Option<String>,
    /// When revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Its bundle signing key (base64 ed25519), if it enrolled with one.
    pub signing_key: Option<String>,
}

/// What answering a device's revocation probe reads (`Devices::probe_status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRow {
    /// SHA-256 (hex) of the probe given at enrollment; `None` for a device enrolled before
    /// probes existed.
    pub probe_hash: Option<String>,
    /// When revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// How a device is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKey<'a> {
    /// By the SHA-256 of its bearer token.
    TokenHash(&'a str),
    /// By id.
    Id(Uuid),
}

/// What became of a stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredStatus {
    /// Applied to the projection.
    Applied,
    /// Rejected as permanently invalid, with its field errors (JSON array).
    Rejected(Option<String>),
}

/// An event id the server has seen, and what it did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    /// The event id.
    pub id: Uuid,
    /// Its place in the server's order.
    pub server_seq: u64,
    /// Applied or rejected.
    pub status: StoredStatus,
}

/// An event to store, with what the server adds to it.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The server's order (assigned by the caller inside the write transaction).
    pub server_seq: u64,
    /// The event as it will be kept (an erased resident's values already removed).
    pub event: &'a Event,
    /// `/province/commune/hamlet/` of the household it is about, when known.
    pub place_path: Option<String>,
    /// Applied or rejected (with errors).
    pub status: StoredStatus,
    /// Why an applied event was flagged (JSON array of flags), if it was.
    pub flags: Option<String>,
    /// The time reports use (the device's clock, clamped to the server's).
    pub effective_time: DateTime<Utc>,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
}

/// Which applied events a pull page reads.
#[derive(Debug, Clone, Copy)]
pub struct EventQuery<'a> {
    /// After this `server_seq`.
    pub after: u64,
    /// At most this many.
    pub limit: u32,
    /// Under any of these place paths (prefixes).
    pub paths: &'a [String],
    /// The pulling device.
    pub device: Uuid,
    /// Include the device's own events.
    pub include_own: bool,
}

/// An event that mentions someone, with who recorded it (a resident's data export).
#[derive(Debug, Clone, PartialEq)]
pub struct MentioningEvent {
    /// Its place in the server's order.
    pub server_seq: u64,
    /// Payload type name.
    pub type_name: String,
    /// The payload as stored.
    pub payload: gocua_core::event::Payload,
    /// The device's clock when recorded.
    pub device_time: DateTime<Utc>,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// `applied` or `rejected`.
    pub status: String,
    /// The author's name ("" when unknown).
    pub author_name: String,
    /// The device's name ("" when unknown).
    pub device_name: String,
}

/// A resident erased on request: no personal value, only where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRow {
    /// The resident.
    pub resident_id: Uuid,
    /// Their household's place path at erasure time.
    pub place_path: String,
    /// The server's last `server_seq` at erasure time.
    pub at_seq: u64,
    /// When.
    pub erased_at: DateTime<Utc>,
    /// Who carried it out (as given to the command).
    pub erased_by: String,
}

/// One row of the audit log (the hash chain is computed above the seam).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (RFC 3339, exactly as hashed).
    pub at: String,
    /// The user who acted.
    pub actor_user: Option<String>,
    /// The device it came from.
    pub actor_device: Option<String>,
    /// What was done.
    pub action: String,
    /// Which records (JSON text, exactly as hashed).
    pub detail: String,
    /// The previous row's hash.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

/// The server's bundle sealing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyRow {
    /// Hex fingerprint of the public key.
    pub fingerprint: String,
    /// Base64 public key.
    pub public_key: String,
    /// The 32 secret bytes (never leave the database).
    pub secret_key: Vec<u8>,
    /// When made.
    pub created_at: DateTime<Utc>,
}

/// The start of a bundle import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleImportStart {
    /// Hex SHA-256 of the file.
    pub sha256: String,
    /// The device its header claims.
    pub device_id: Option<Uuid>,
    /// Events its header claims.
    pub events: Option<u64>,
    /// Who imports it.
    pub imported_by: String,
    /// When.
    pub started_at: DateTime<Utc>,
}

/// The end of a bundle import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleImportEnd {
    /// Applied (including flagged).
    pub applied: u64,
    /// Flagged.
    pub flagged: u64,
    /// Already known.
    pub duplicates: u64,
    /// Rejected.
    pub rejected: u64,
    /// First and last sequence numbers in the bundle.
    pub seqs: Option<(u64, u64)>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// `imported` or `refused`.
    pub outcome: &'static str,
    /// A stable reason code when refused.
    pub reason: Option<String>,
}

/// A bundle import as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleImportRow {
    /// Row id.
    pub id: i64,
    /// The start.
    pub start: BundleImportStart,
    /// Counts and outcome (`started` rows have the outcome `started` and zero counts).
    pub outcome: String,
    /// Reason code.
    pub reason: Option<String>,
    /// Applied, flagged, duplicates, rejected.
    pub counts: (u64, u64, u64, u64),
}

/// Which way [`crate::ProjectionRows::recount`] moves the report's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Take the records' share off (before they change).
    Remove,
    /// Add it (after they changed).
    Add,
}

impl Share {
    /// `-1` or `1`, what each count is multiplied by.
    pub fn sign(self) -> i64 {
        match self {
            Share::Remove => -1,
            Share::Add => 1,
        }
    }
}

/// Changes to the report's counters, each a signed amount added to its row (rows that sum to
/// nothing are left out by whoever builds it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountDelta {
    /// People: (hamlet, state code or "", reason code or "", confirmed, change).
    pub states: Vec<(String, String, String, bool, i64)>,
    /// Households: (hamlet, [listed, surveyed, members, smartphones, with a computer]).
    pub households: Vec<(String, [i64; 5])>,
    /// Flows: (hamlet, day, author, [first activations, visits, referrals]).
    pub flows: Vec<(String, chrono::NaiveDate, Uuid, [i64; 3])>,
}

impl CountDelta {
    /// Nothing to add.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty() && self.households.is_empty() && self.flows.is_empty()
    }
}
