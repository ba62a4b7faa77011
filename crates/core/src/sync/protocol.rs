//! Wire types of sync protocol v1 (DESIGN.md), shared by the device and the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::Event;
use crate::places::Place;
use crate::reasons::Reason;
use crate::validate::FieldError;

/// The schema version of events and sync messages this build speaks. Schema 2 added patch edits
/// (`*_edited.v2`), tombstones (`household_removed.v1`), the `flagged` status and pull resets;
/// schema 3 the compact push (`wire`, derived ids, `dcz` bodies) and compact push answers;
/// schema 4 masked CCCD numbers and the `withheld` reason in pulls of non-police roles
/// (`crate::privacy`), erasures (`PullResponse::erased`) and own-event pulls (`own`); schema 5
/// pull pages in runs (`wire::PullBody`), `dcz`-compressed when the app names its dictionary;
/// schema 6 people's tombstones (`resident_removed.v1`) and the undo of an import (the removal
/// reason `import_undone`), which an older app cannot apply: the server tells it to update when
/// a page would hold one; schema 7 the merge of two records of one person
/// (`residents_merged.v1`).
pub const SCHEMA_VERSION: u32 = 7;
/// The version of this build, sent with every request.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The most events a device sends in one push.
pub const MAX_PUSH_EVENTS: usize = 100;
/// The most serialized bytes of events a device puts in one push (before compression).
pub const MAX_PUSH_BYTES: usize = 256 * 1024;
/// The default and largest page a pull returns: a first download over EDGE pays a 0.4 s round
/// trip per page, and a page of 2,000 events is about 40 kB on the wire (BENCHMARKS.md, issue 13).
pub const MAX_PULL_LIMIT: u32 = 2_000;

/// Who may do what, fixed at enrollment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Tình nguyện viên: Đoàn Thanh niên / Hội Phụ nữ volunteer.
    Volunteer,
    /// Tổ trưởng: team leader.
    TeamLeader,
    /// Công an xã: commune police.
    CommunePolice,
    /// Công an tỉnh: province police.
    ProvincePolice,
    /// Giảng viên: trainer (sandbox data only).
    Trainer,
    /// Quản trị: administrator.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] =
        [Role::Volunteer, Role::TeamLeader, Role::CommunePolice, Role::ProvincePolice, Role::Trainer, Role::Admin];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Volunteer => "volunteer",
            Role::TeamLeader => "team_leader",
            Role::CommunePolice => "commune_police",
            Role::ProvincePolice => "province_police",
            Role::Trainer => "trainer",
            Role::Admin => "admin",
        }
    }
    /// Parses [`Role::code`].
    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }
    /// Police roles see sensitive reasons and full CCCD numbers.
    pub fn is_police(self) -> bool {
        matches!(self, Role::CommunePolice | Role::ProvincePolice)
    }
}

/// `POST /api/v1/enroll`: trade a one-time code for a device token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time code the commune police gave out.
    pub code: String,
    /// A name for the device ("Điện thoại của Lan").
    pub device_name: String,
    /// Schema version of the app.
    pub schema_version: u32,
    /// App version.
    pub app_version: String,
    /// The device's ed25519 public key (base64) that signs its sneakernet bundles; older apps
    /// send none and cannot export bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

/// The enrolled user.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// User id (events' author).
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// Answer to a successful enrollment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The device's id, stamped on all its events.
    pub device_id: Uuid,
    /// The bearer token (shown once; the server keeps only its hash).
    pub token: String,
    /// The user the device acts for.
    pub user: UserInfo,
    /// The first place of the device's scope (the only one of a one-place scope): what apps
    /// that knew one place only read.
    pub scope: Place,
    /// Every place of the scope (a volunteer given two hamlets, a team leader a team's
    /// hamlets). Servers before scope sets send none: the scope is then `scope` alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Place>,
    /// The scope places' ancestors and every place under them, parents before children.
    pub places: Vec<Place>,
    /// The reasons valid in the scope's province.
    pub reasons: Vec<Reason>,
    /// The server's clock.
    pub server_time: DateTime<Utc>,
    /// The server's X25519 public key (base64) that sneakernet bundles are sealed to; older
    /// servers send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_key: Option<String>,
    /// A second secret, apart from the token, that the app keeps outside its encrypted database
    /// (in the OS key store) to ask `POST /api/v1/device/status` whether the device was revoked
    /// while the app is locked and the token unreachable (`super::status`). Shown once; the
    /// server keeps only its hash. Older servers send none, and older apps ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_probe: Option<String>,
}

/// `POST /api/v1/sync/push`. On the wire the envelope the events share is said once
/// (`super::wire::PushBody`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "super::wire::PushBody", into = "super::wire::PushBody")]
pub struct PushRequest {
    /// Schema version of the events.
    pub schema_version: u32,
    /// App version.
    pub app_version: String,
    /// Events in sequence order, all of the pushing device.
    pub events: Vec<Event>,
    /// How many events the device had queued when it sent this push, this push's included (an
    /// additive field, schema 6): the office sees how much a phone still holds unsent.
    pub queued: Option<u64>,
}

/// What the server did with one pushed event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored and reduced now.
    Applied,
    /// Already had it (at or below the device's last sequence): acknowledged, not applied again.
    Duplicate,
    /// Permanently invalid: recorded as rejected, and the sequence advanced past it.
    Rejected,
    /// Stored and reduced now, and flagged for a person's review (see the result's `flags`).
    Flagged,
}

/// Why an applied event was flagged.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// An edit from an old version changed fields nobody else changed: both edits apply.
    ParallelUpdate,
    /// An edit from an old version changed a field someone else changed: arrival order won.
    Conflict,
    /// The device's clock was ahead of the server's: its time was clamped for reports.
    ClockAhead,
    /// The device's clock was before the campaigns began: its time was clamped for reports.
    ClockBehind,
}

/// The answer for one event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    /// The event's sequence number.
    pub seq: u64,
    /// The event's id (left out inside an [`AppliedRun`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Uuid>,
    /// Outcome.
    pub status: EventStatus,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Why it was flagged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// Its place in the server's order (applied, flagged and duplicate events), which the
    /// device replays its log by when edits interleave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_seq: Option<u64>,
}

/// Consecutive events that were simply applied, said in three numbers on the wire
/// (`[first_seq, count, first_server_seq]`): events `first_seq…` got `first_server_seq…`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedRun(pub u64, pub u64, pub u64);

/// Answer to a push.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per event handled, in order; events after a gap are not handled. In a compact
    /// answer (schema 3) only those not in `applied`.
    pub results: Vec<EventResult>,
    /// In a compact answer, the plainly applied events (no flags, consecutive server order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<AppliedRun>,
    /// The device's last sequence the server now holds.
    pub last_seq: u64,
    /// Set when the batch skipped a sequence number: the one the server expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
}

impl PushResponse {
    /// The same answer with plainly applied events folded into runs: a batch of 100 applied
    /// events is answered in a few bytes instead of 100 results.
    pub fn compacted(mut self) -> Self {
        let mut rest = Vec::new();
        for result in self.results.drain(..) {
            let plain = result.status == EventStatus::Applied && result.flags.is_empty() && result.errors.is_empty();
            match (plain, result.server_seq, self.applied.last_mut()) {
                (true, Some(server_seq), Some(AppliedRun(first, count, first_server)))
                    if *first + *count == result.seq && *first_server + *count == server_seq =>
                {
                    *count += 1;
                }
                (true, Some(server_seq), _) => self.applied.push(AppliedRun(result.seq, 1, server_seq)),
                _ => rest.push(result),
            }
        }
        self.results = rest;
        self
    }

    /// Every result, runs unfolded, in sequence order (ids are left out of unfolded runs).
    pub fn all_results(&self) -> Vec<EventResult> {
        let mut all: Vec<EventResult> = self
            .applied
            .iter()
            .flat_map(|&AppliedRun(first, count, first_server)| {
                (0..count).map(move |i| EventResult {
                    seq: first + i,
                    event_id: None,
                    status: EventStatus::Applied,
                    errors: vec![],
                    flags: vec![],
                    server_seq: Some(first_server + i),
                })
            })
            .chain(self.results.iter().cloned())
            .collect();
        all.sort_by_key(|r| r.seq);
        all
    }
}

/// One event in a pull page, with its place in the server's order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledEvent {
    /// The server's arrival order.
    pub server_seq: u64,
    /// The event.
    pub event: Event,
}

/// Answer to `GET /api/v1/sync/pull?cursor=…&limit=…`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Applied events in the device's scope after the cursor, by other devices.
    pub events: Vec<PulledEvent>,
    /// The cursor to ask with next time.
    pub cursor: u64,
    /// More pages wait.
    pub has_more: bool,
    /// Set when the device must drop what it pulled and download its scope again from cursor 0
    /// (its unsent events are kept and replayed on top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<ResetReason>,
    /// The server database's identity: a cursor only means something against the same one.
    #[serde(default)]
    pub epoch: String,
    /// With `reset: scope_changed`: the first place of the device's new scope…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Place>,
    /// …every place of it (see [`EnrollResponse::scopes`])…
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Place>,
    /// …and its places (ancestors, then everything under it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<Place>,
    /// Who wrote this page's events (name and role), so a team leader's phone can say who did
    /// what ("rõ người"). Volunteers' names only: nothing about the people they visit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<UserInfo>,
    /// Residents of the scope erased on request since the phone's cursor (ids only): the phone
    /// removes their personal values from everything it holds (`gocua_core::erasure`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<Uuid>,
    /// The user's role, when the pull named another (the office or an administrator changed
    /// it): the phone takes it on. With `reset: role_changed` it must also drop what the old
    /// role let it hold (full CCCD numbers, police-only reasons) and download its scope again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The reasons valid in the device's province, when the catalog the pull named
    /// ([`PullRequest::reasons`]) is not the server's any more (a province added a reason, or
    /// made one need a note): the phone takes them on and refuses what the server would.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// This page's events whose device clock the server clamped (`clock_ahead`,
    /// `clock_behind`): their visits await a look in the office's review queue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clamped: Vec<ClampedEvent>,
}

/// An event of a pull page recorded on a phone with a wrong clock.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClampedEvent {
    /// The event's place in the server's order.
    pub server_seq: u64,
    /// `clock_ahead` or `clock_behind`.
    pub flag: Flag,
}

impl Flag {
    /// The review a visit recorded under this flag awaits (the clock flags only).
    pub fn clock_review(self) -> Option<crate::model::Review> {
        match self {
            Flag::ClockAhead => Some(crate::model::Review::ClockAhead),
            Flag::ClockBehind => Some(crate::model::Review::ClockBehind),
            Flag::ParallelUpdate | Flag::Conflict => None,
        }
    }

    /// The clock flag among an event's stored flags (the JSON array kept with it on the server
    /// and on devices), if any; unreadable flags hold none. The one reader of that column.
    pub fn clock_among(stored: &str) -> Option<Flag> {
        let flags: Vec<Flag> = serde_json::from_str(stored).ok()?;
        flags.into_iter().find(|f| f.clock_review().is_some())
    }
}

/// The scope an answer gives: every place of `scopes`, or `scope` alone from a server that
/// sends no `scopes`.
fn scope_of(first: Option<&Place>, all: &[Place]) -> Option<crate::scope::Scope> {
    if all.is_empty() {
        first.map(|p| crate::scope::Scope::single(p.code.clone()))
    } else {
        crate::scope::Scope::new(all.iter().map(|p| p.code.clone())).ok()
    }
}

impl EnrollResponse {
    /// The device's scope: every place it was given.
    pub fn scope_set(&self) -> crate::scope::Scope {
        scope_of(Some(&self.scope), &self.scopes)
            .unwrap_or_else(|| crate::scope::Scope::single(self.scope.code.clone()))
    }
}

impl PullResponse {
    /// With `reset: scope_changed`, the device's new scope.
    pub fn new_scope(&self) -> Option<crate::scope::Scope> {
        scope_of(self.scope.as_ref(), &self.scopes)
    }
}

/// What a device asks a pull for (`GET /api/v1/sync/pull?cursor=…&limit=…&epoch=…&scope=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The server database the cursor came from ("" before the first pull).
    pub epoch: String,
    /// The last `server_seq` the device holds.
    pub cursor: u64,
    /// Page size.
    pub limit: u32,
    /// The scope the device believes it has; the server answers `reset` when it changed.
    pub scope: String,
    /// Include this device's own events (`&own=true`): a reset after a retention purge, when
    /// the phone's older records are on the server only. Older servers ignore it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own: bool,
    /// The role the device believes its user has (`&role=`); the server answers `role` when it
    /// changed. Older servers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The digest of the reason catalog the device was last given
    /// (`ReasonCatalog::digest`, "" when it does not know; `&reasons=`). Older servers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<String>,
}

/// Why a pull answered `reset`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// The cursor belongs to another server database (restored from a backup, or replaced).
    OtherEpoch,
    /// The device's scope changed: places left it or joined it.
    ScopeChanged,
    /// The user's role changed between one that sees everything (the police) and one that does
    /// not (asked only by a pull that named its role, so older apps never meet it).
    RoleChanged,
}

/// The body of every error answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable kind: `invalid_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `payload_too_large`, `unsupported_encoding`, `upgrade_required`, `internal`.
    pub kind: String,
    /// What was wrong, for people.
    pub message: String,
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_clock_flag_is_read_from_stored_flags() {
        assert_eq!(Flag::clock_among(r#"["parallel_update","clock_ahead"]"#), Some(Flag::ClockAhead));
        assert_eq!(Flag::clock_among(r#"["clock_behind"]"#), Some(Flag::ClockBehind));
        assert_eq!(Flag::clock_among(r#"["conflict"]"#), None);
        assert_eq!(Flag::clock_among("not json"), None);
    }
    use super::*;
    use crate::places::PlaceLevel;

    fn hamlet(code: &str) -> Place {
        Place {
            code: code.into(),
            name: format!("Bản {code}"),
            level: PlaceLevel::Hamlet,
            parent_code: Some("03445".into()),
            division_type: "bản".into(),
        }
    }

    #[test]
    fn a_scope_of_several_places_and_one_from_an_older_server() {
        let mut page = PullResponse { scope: Some(hamlet("03445-02")), ..PullResponse::default() };
        assert_eq!(page.new_scope().unwrap().key(), "03445-02", "an older server: `scope` alone");
        page.scopes = vec![hamlet("03445-02"), hamlet("03445-01")];
        assert_eq!(page.new_scope().unwrap().key(), "03445-01,03445-02");
        let json = serde_json::to_value(&page).unwrap();
        let back: PullResponse = serde_json::from_value(json).unwrap();
        assert_eq!(back.new_scope(), page.new_scope());
        assert_eq!(PullResponse::default().new_scope(), None, "no reset, no scope");
    }
}
