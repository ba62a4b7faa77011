//! The server's storage seam (ARCHITECTURE.md, "The storage seam"): every SQL statement of the
//! server lives below these traits, in one crate per backend (`gocua-server-sqlite`,
//! `gocua-server-postgres`). Above them, the server's rules are backend-neutral and never see a
//! driver type.
//!
//! A [`Store`] runs closures in transactions over a [`Tx`], the statements grouped by aggregate
//! ([`Catalog`], [`Users`], [`Devices`], [`Events`], [`ProjectionRows`], [`Erasures`], [`Audit`],
//! [`Bundles`], [`Meta`], [`WebAccounts`]). Write transactions on one database are serialized (one writer at a
//! time, across every server process on it), so `server_seq` order is commit order: a reader
//! never sees event N+1 before event N, and the audit hash chain stays one chain.

pub mod rows;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gocua_core::event::Payload;
use gocua_core::model::{Household, Resident, Review, Visit};
use gocua_core::places::Place;
use gocua_core::reasons::{Reason, ReasonCatalog};
use gocua_core::reducer::Projection;
use gocua_core::report::lists::ListRow;
use gocua_core::report::{DayRange, Facts};
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::{Flag, Role, UserInfo};
use uuid::Uuid;

pub use rows::*;

/// A storage failure. Rules above the seam turn `Unavailable` into "try again later" (503).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached now (connection refused or lost, restarting, pool
    /// exhausted): the same request may succeed later, and nothing of it was committed.
    #[error("cơ sở dữ liệu tạm thời không truy cập được / the database is unavailable: {0}")]
    Unavailable(String),
    /// A value in the database could not be read back (a bug or a damaged row).
    #[error("dữ liệu trong cơ sở dữ liệu không đọc được / unreadable stored data: {0}")]
    Corrupt(String),
    /// Any other database error (the detail is for the log, never for a client).
    #[error("lỗi cơ sở dữ liệu / database error: {0}")]
    Failed(String),
    /// The closure given to a transaction failed with an error of its own; the transaction was
    /// rolled back. [`run_write`] and [`run_read`] hand back that error instead.
    #[error("transaction rolled back")]
    RolledBack,
    /// The operation makes no sense on this backend (e.g. `backup` of a PostgreSQL database).
    #[error("{0}")]
    Unsupported(String),
}

impl From<gocua_core::Error> for StoreError {
    fn from(e: gocua_core::Error) -> Self {
        StoreError::Failed(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// A result of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// The closure a transaction runs: `Ok` commits, `Err` rolls back.
pub type TxFn<'a> = dyn FnMut(&mut dyn Tx) -> StoreResult<()> + 'a;

/// A database the server runs on.
pub trait Store: Send + Sync + fmt::Debug {
    /// Runs `f` in a write transaction on the primary. Write transactions are serialized across
    /// every process on the database; `f` may run again when the backend retries a transaction
    /// that failed for a transient reason before anything was committed.
    fn write_tx(&self, f: &mut TxFn<'_>) -> StoreResult<()>;

    /// Runs `f` in a read-only transaction with one consistent snapshot, on the primary.
    fn read_tx(&self, f: &mut TxFn<'_>) -> StoreResult<()>;

    /// Runs `f` like [`Store::read_tx`], on a read replica when one is configured (it may lag
    /// behind the primary, but always shows a prefix of its `server_seq` order), or else on the
    /// primary. Returns whether a replica served it.
    fn replica_read_tx(&self, f: &mut TxFn<'_>) -> StoreResult<bool> {
        self.read_tx(f).map(|()| false)
    }

    /// Which backend this is and where (a path or a URL without its password).
    fn describe(&self) -> BackendInfo;

    /// Whether the database answers, its migrations are current, and how far a replica lags.
    fn readiness(&self) -> StoreResult<Readiness>;

    /// After an erasure committed: makes the rewritten values unreachable in what the backend
    /// keeps beside its tables (SQLite: empties the write-ahead log; PostgreSQL: vacuums the
    /// rewritten tables). Returns what could not be done, for the officer.
    fn scrub_after_erasure(&self) -> StoreResult<Vec<String>>;

    /// Copies the live database to `to` without stopping the server (SQLite's online backup).
    /// The copy carries a new epoch ([`Meta::set_epoch`]): restored, it is another database to
    /// the phones, which then download their scope again and send back what it lacks.
    fn backup(&self, to: &Path) -> StoreResult<BackupInfo>;
}

/// Which backend a store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendInfo {
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    /// A file path, or a URL with its password removed.
    pub location: String,
    /// Whether reads may go to a replica.
    pub replica: bool,
}

/// What `/api/v1/ready` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The schema version (number of migrations) this build expects.
    pub migrations_expected: u32,
    /// The schema version the database is at.
    pub migrations_applied: u32,
    /// How far the replica's replay lags behind (None: no replica, or it could not tell).
    pub replica_lag: Option<Duration>,
    /// Why the replica could not be asked, if it could not.
    pub replica_error: Option<String>,
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Bytes written.
    pub bytes: u64,
    /// The last `server_seq` in the copy.
    pub last_server_seq: u64,
    /// The copy's epoch (a new one: the live database keeps its own).
    pub epoch: String,
}

/// Runs `f` in a write transaction and returns its value, or its own error (rolled back).
pub fn run_write<R, E: From<StoreError>>(
    store: &dyn Store,
    mut f: impl FnMut(&mut dyn Tx) -> Result<R, E>,
) -> Result<R, E> {
    let mut outcome: Option<Result<R, E>> = None;
    let result = store.write_tx(&mut |tx| {
        let r = f(tx);
        let failed = r.is_err();
        outcome = Some(r);
        if failed { Err(StoreError::RolledBack) } else { Ok(()) }
    });
    finish(outcome, result)
}

/// Runs `f` in a read transaction on the primary and returns its value or its own error.
pub fn run_read<R, E: From<StoreError>>(
    store: &dyn Store,
    mut f: impl FnMut(&mut dyn Tx) -> Result<R, E>,
) -> Result<R, E> {
    let mut outcome: Option<Result<R, E>> = None;
    let result = store.read_tx(&mut |tx| {
        let r = f(tx);
        let failed = r.is_err();
        outcome = Some(r);
        if failed { Err(StoreError::RolledBack) } else { Ok(()) }
    });
    finish(outcome, result)
}

/// Like [`run_read`] on a replica when there is one; also says whether a replica served it.
pub fn run_replica_read<R, E: From<StoreError>>(
    store: &dyn Store,
    mut f: impl FnMut(&mut dyn Tx) -> Result<R, E>,
) -> Result<(R, bool), E> {
    let mut outcome: Option<Result<R, E>> = None;
    let result = store.replica_read_tx(&mut |tx| {
        let r = f(tx);
        let failed = r.is_err();
        outcome = Some(r);
        if failed { Err(StoreError::RolledBack) } else { Ok(()) }
    });
    match (outcome, result) {
        (Some(Err(e)), _) => Err(e),
        (_, Err(e)) => Err(e.into()),
        (Some(Ok(v)), Ok(replica)) => Ok((v, replica)),
        (None, Ok(_)) => Err(StoreError::Failed("the transaction never ran".into()).into()),
    }
}

fn finish<R, E: From<StoreError>>(outcome: Option<Result<R, E>>, result: StoreResult<()>) -> Result<R, E> {
    match (outcome, result) {
        (Some(Err(e)), _) => Err(e),
        (_, Err(e)) => Err(e.into()),
        (Some(Ok(v)), Ok(())) => Ok(v),
        (None, Ok(())) => Err(StoreError::Failed("the transaction never ran".into()).into()),
    }
}

/// Every statement the server runs, inside one transaction.
pub trait Tx:
    Catalog + Users + Devices + Auth + Events + ProjectionRows + Erasures + Audit + Bundles + Meta + WebAccounts
{
}

impl<T: Catalog + Users + Devices + Auth + Events + ProjectionRows + Erasures + Audit + Bundles + Meta + WebAccounts> Tx
    for T
{
}

/// What authenticating a request reads, which every request pays: read at once where each
/// statement is a round trip.
pub trait Auth {
    /// A device with its user and the places the user worked in before
    /// ([`Users::former_places`]); `None` for an unknown device.
    fn device_holder(&mut self, key: DeviceKey<'_>) -> StoreResult<Option<DeviceHolder>>;
}

/// A device, its user, and the user's former places.
#[derive(Debug, Clone)]
pub struct DeviceHolder {
    /// The device.
    pub device: DeviceRow,
    /// Its user.
    pub user: UserRow,
    /// Places the user worked in before a reassignment.
    pub former_places: Vec<String>,
}

/// Places and cannot-activate reasons.
pub trait Catalog {
    /// A place by code.
    fn place(&mut self, code: &str) -> StoreResult<Option<Place>>;
    /// The place and its ancestors, root first; empty if the code is unknown. A backend whose
    /// every statement is a round trip reads it in one.
    fn lineage(&mut self, code: &str) -> StoreResult<Vec<Place>> {
        gocua_core::places::lineage_with(code, |c| self.place(c), looped)
    }
    /// The places `codes` name and all their ancestors, each once, in no set order (unknown
    /// codes are left out): what a batch about several hamlets needs, in one go.
    fn lineages(&mut self, codes: &[String]) -> StoreResult<Vec<Place>> {
        let mut found: Vec<Place> = Vec::new();
        for code in codes {
            for place in self.lineage(code)? {
                if !found.iter().any(|p| p.code == place.code) {
                    found.push(place);
                }
            }
        }
        Ok(found)
    }
    /// Places by code (unknown codes are left out).
    fn places(&mut self, codes: &[String]) -> StoreResult<Vec<Place>>;
    /// The direct children of a place, by name then code.
    fn children(&mut self, code: &str) -> StoreResult<Vec<Place>>;
    /// Inserts or updates places; parents come before children (or exist already).
    fn upsert_places(&mut self, places: &[Place]) -> StoreResult<usize>;
    /// Every reason.
    fn reasons(&mut self) -> StoreResult<ReasonCatalog>;
    /// Inserts or replaces reasons.
    fn upsert_reasons(&mut self, reasons: &[Reason]) -> StoreResult<()>;
}

/// Users, their scopes, and one-time enrollment codes.
pub trait Users {
    /// Inserts a user.
    fn insert_user(&mut self, user: &UserRow) -> StoreResult<()>;
    /// A user by id.
    fn user(&mut self, id: Uuid) -> StoreResult<Option<UserRow>>;
    /// The first user (by creation) with this name and scope (the demo seed finds its own).
    fn user_named(&mut self, name: &str, scope: &Scope) -> StoreResult<Option<UserRow>>;
    /// Names and roles of these users (unknown ids are left out).
    fn user_infos(&mut self, ids: &[Uuid]) -> StoreResult<Vec<UserInfo>>;
    /// The users with any of these places in their scope, or a household of one of them given
    /// on its own (each once, by id).
    fn users_in(&mut self, codes: &[String]) -> StoreResult<Vec<UserRow>>;
    /// The users of `role` with any of these places in their scope (each once, by id): a
    /// report's team leaders, without reading the thousands of volunteers beside them.
    fn users_of_role_in(&mut self, role: Role, codes: &[String]) -> StoreResult<Vec<UserRow>>;
    /// Replaces a user's scope.
    fn set_user_scope(&mut self, id: Uuid, scope: &Scope) -> StoreResult<()>;
    /// Replaces a user's role.
    fn set_user_role(&mut self, id: Uuid, role: Role) -> StoreResult<()>;
    /// Remembers places a user worked in before a reassignment (kept once per place).
    fn add_former_places(&mut self, id: Uuid, codes: &[String], until: DateTime<Utc>) -> StoreResult<()>;
    /// The places a user worked in before.
    fn former_places(&mut self, id: Uuid) -> StoreResult<Vec<String>>;
    /// Stores a one-time code (by its hash).
    fn insert_code(&mut self, code: &CodeRow) -> StoreResult<()>;
    /// A code by its hash.
    fn code(&mut self, code_hash: &str) -> StoreResult<Option<CodeRow>>;
    /// Marks a code used by a device; false if it was used already.
    fn use_code(&mut self, code_hash: &str, at: DateTime<Utc>, device: Uuid) -> StoreResult<bool>;
}

/// Enrolled devices.
pub trait Devices {
    /// Inserts a device.
    fn insert_device(&mut self, device: &DeviceRow) -> StoreResult<()>;
    /// A device by id or by its token's hash.
    fn device(&mut self, key: DeviceKey<'_>) -> StoreResult<Option<DeviceRow>>;
    /// Devices of a user (or all), newest first.
    fn devices(&mut self, user: Option<Uuid>) -> StoreResult<Vec<DeviceRow>>;
    /// Marks a device revoked at `at` unless it was; returns whether this call revoked it.
    fn revoke_device(&mut self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    /// After a push: the device's last sequence number, when it was seen, its app version.
    fn record_push(&mut self, id: Uuid, last_seq: u64, seen_at: DateTime<Utc>, app_version: &str) -> StoreResult<()>;
    /// How many events a device still held unsent after its last push, as it reported.
    fn record_unsent(&mut self, id: Uuid, unsent: u64) -> StoreResult<()>;
    /// The last reported unsent counts of these devices (devices that never reported are left
    /// out).
    fn unsent_counts(&mut self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, u64)>>;
    /// Files the SHA-256 (hex) of a device's revocation probe, replacing any: the second secret
    /// its app keeps outside its encrypted database to ask, while locked, whether it was revoked.
    fn set_probe_hash(&mut self, id: Uuid, probe_hash: &str) -> StoreResult<()>;
    /// A device's probe hash and revocation time; `None` for an unknown device.
    fn probe_status(&mut self, id: Uuid) -> StoreResult<Option<ProbeRow>>;
}

/// The event log: every event received, applied or rejected, in `server_seq` order.
pub trait Events {
    /// The highest `server_seq` stored (0 when none).
    fn last_server_seq(&mut self) -> StoreResult<u64>;
    /// What the server stored for these event ids (ids not stored are left out).
    fn stored_outcomes(&mut self, ids: &[Uuid]) -> StoreResult<Vec<StoredOutcome>>;
    /// Stores events; each carries the `server_seq` the caller assigned (the next free ones, in
    /// order: the caller holds the write transaction).
    fn insert_events(&mut self, events: &[NewEvent<'_>]) -> StoreResult<()>;
    /// Applied events after `after` under any of `paths` (place path prefixes), in `server_seq`
    /// order, at most `limit`; without `device`'s own unless `include_own`.
    fn applied_events(&mut self, query: &EventQuery<'_>) -> StoreResult<Vec<(u64, gocua_core::event::Event)>>;
    /// Applied campaign sets (`campaign_set.v1`) placed exactly at one of `paths`, with
    /// `after < server_seq <= upto`, in `server_seq` order: those above a phone's own places,
    /// which its pull carries too, and those a report follows. An index holds them apart, so
    /// this never reads the rest of the log.
    fn campaign_events_at(
        &mut self,
        paths: &[String],
        after: u64,
        upto: u64,
    ) -> StoreResult<Vec<(u64, gocua_core::event::Event)>>;
    /// Of these events (a pull page's, by `server_seq`), those whose device clock was clamped,
    /// with the clock flag (`clock_ahead`, `clock_behind`), in `server_seq` order. Looked up by
    /// key: a page's events may lie far apart in the server's order.
    fn clock_flagged(&mut self, server_seqs: &[u64]) -> StoreResult<Vec<(u64, Flag)>>;
    /// Events whose payload mentions `id` (a resident's or a household's), oldest first.
    fn events_mentioning(&mut self, id: Uuid) -> StoreResult<Vec<MentioningEvent>>;
    /// Replaces the payload of a stored event (an erasure's rewrite).
    fn rewrite_payload(&mut self, server_seq: u64, payload: &Payload) -> StoreResult<()>;
    /// How many events have this status (`applied` or `rejected`).
    fn count_events(&mut self, status: &str) -> StoreResult<u64>;
}

/// The projection the reducer writes: households, residents, visits.
pub trait ProjectionRows {
    /// Households by id (unknown ids are left out).
    fn households(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Household>>;
    /// Residents by id (unknown ids are left out).
    fn residents(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Resident>>;
    /// Which of these visit ids are taken.
    fn visits_existing(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>>;
    /// A resident's visits, newest first.
    fn visits_of(&mut self, resident: Uuid) -> StoreResult<Vec<Visit>>;
    /// Inserts or replaces households.
    fn put_households(&mut self, households: &[Household]) -> StoreResult<()>;
    /// Inserts or replaces residents.
    fn put_residents(&mut self, residents: &[Resident]) -> StoreResult<()>;
    /// Inserts visits.
    fn add_visits(&mut self, visits: &[Visit]) -> StoreResult<()>;
    /// Sets or clears visits' reviews (a wrong clock; a resolution), after `add_visits`.
    fn set_visit_reviews(&mut self, reviews: &[(Uuid, Option<Review>)]) -> StoreResult<()>;
    /// Moves every visit of each `from` resident to its `to` (merges, in order).
    fn move_visits(&mut self, moves: &[(Uuid, Uuid)]) -> StoreResult<()>;
    /// Takes off ([`Share::Remove`]) or adds back ([`Share::Add`]) the share of the report's
    /// counters held by these households and residents, and by every resident of these
    /// households, as their rows stand now. A write calls it with `Remove` before it changes
    /// any of them and with `Add` after, so the counters `report_facts` reads follow every
    /// change without a rebuild.
    fn recount(&mut self, households: &[Uuid], residents: &[Uuid], share: Share) -> StoreResult<()>;
    /// Adds `delta` to the report's counters (what a push changed, worked out from the rows
    /// it holds, for the records whose share it can tell without the database).
    fn add_counts(&mut self, delta: &CountDelta) -> StoreResult<()>;
    /// After a write: for each of these people (listed before and after, in the hamlet given),
    /// moves their first activation's count from the one they had without the visits `added`
    /// to the one they have now (a new visit may be earlier than the stored first one).
    fn recount_firsts(&mut self, people: &[(Uuid, String)], added: &[Uuid]) -> StoreResult<()>;
    /// Folds what the writes appended to the report's counters into the counters' own rows,
    /// where a backend appends (PostgreSQL: a row per push, not an update of a hot row); returns
    /// how many counter rows it moved. A backend that updates in place (SQLite) has nothing to
    /// fold. Reports are exact either way: this only keeps what they read small.
    fn fold_counts(&mut self) -> StoreResult<u64>;
    /// The whole projection (tests and checks compare it).
    fn dump_projection(&mut self) -> StoreResult<Projection>;
    /// The projection's part in these hamlets: their households, those households' residents
    /// and their visits (what a list imported into a commune is checked against).
    fn projection_in(&mut self, hamlets: &[String]) -> StoreResult<Projection>;
    /// What a report of these hamlets over `range` is built from (`gocua_core::report::Facts`):
    /// listed people by state, households, and first activations, visits and referrals by day
    /// and author, each grouped by hamlet; with the names of those authors. Read from counters
    /// the writes keep ([`ProjectionRows::add_counts`], [`ProjectionRows::recount`]), so it costs
    /// about the same for a province of two million people as for a hamlet.
    fn report_facts(&mut self, hamlets: &[String], range: &DayRange) -> StoreResult<Facts>;
    /// The listed people of one hamlet for the named lists (`gocua_core::report::lists`), by
    /// household (head's name) then birth year, each with their first activation.
    fn list_rows(&mut self, hamlet: &str) -> StoreResult<Vec<ListRow>>;
}

/// Residents erased on request.
pub trait Erasures {
    /// Which of these residents were erased.
    fn erased_among(&mut self, residents: &[Uuid]) -> StoreResult<Vec<Uuid>>;
    /// A resident's erasure, if they were erased.
    fn erasure(&mut self, resident: Uuid) -> StoreResult<Option<ErasureRow>>;
    /// Inserts or replaces (keeping the resident) an erasure.
    fn put_erasure(&mut self, row: &ErasureRow) -> StoreResult<()>;
    /// Residents erased under any of `paths` at or after `since_seq`, by id.
    fn erased_since(&mut self, paths: &[String], since_seq: u64) -> StoreResult<Vec<Uuid>>;
    /// Removes the erased person's values from the projection: their resident row's name (set
    /// to `erased_name`, its search key folded from it), CCCD and phone; their visits' notes;
    /// and the head name of their household when it is one of `names`.
    fn redact_projection(
        &mut self,
        resident: Uuid,
        household: Uuid,
        names: &[String],
        erased_name: &str,
    ) -> StoreResult<()>;
}

/// The append-only, hash-chained audit log (the chain is computed above the seam).
pub trait Audit {
    /// The last row's sequence number and hash.
    fn audit_head(&mut self) -> StoreResult<Option<(i64, String)>>;
    /// Appends a row.
    fn insert_audit(&mut self, row: &AuditRow) -> StoreResult<()>;
    /// Rows after `after_seq`, in order, at most `limit`.
    fn audit_rows(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRow>>;
}

/// The keys sneakernet bundles are sealed to, and the import audit.
pub trait Bundles {
    /// The secret key with this fingerprint, or the current one (`None`).
    fn server_key(&mut self, fingerprint: Option<&str>) -> StoreResult<Option<Vec<u8>>>;
    /// Stores the current key unless one exists (another process may have made it).
    fn insert_server_key_if_absent(&mut self, key: &ServerKeyRow) -> StoreResult<()>;
    /// Starts an import's audit row; returns its id.
    fn start_bundle_import(&mut self, row: &BundleImportStart) -> StoreResult<i64>;
    /// Completes an import's audit row.
    fn finish_bundle_import(&mut self, id: i64, row: &BundleImportEnd) -> StoreResult<()>;
    /// Every import row (tests and the officer read them).
    fn bundle_imports(&mut self) -> StoreResult<Vec<BundleImportRow>>;
}

/// The district dashboard's accounts and sessions (`gocua-server`'s `dashboard::account`).
pub trait WebAccounts {
    /// The account with this login (lowercase).
    fn web_account_by_login(&mut self, login: &str) -> StoreResult<Option<WebAccountRow>>;
    /// Sets a user's account (login, password hash, failures), replacing any.
    fn put_web_account(&mut self, account: &WebAccountRow) -> StoreResult<()>;
    /// Counts failed sign-ins and sets the wait before the next.
    fn set_sign_in_failures(&mut self, user: Uuid, failed: u32, locked_until: Option<DateTime<Utc>>)
    -> StoreResult<()>;
    /// Files a new session.
    fn insert_web_session(&mut self, session: &WebSessionRow) -> StoreResult<()>;
    /// The session of this token hash.
    fn web_session(&mut self, token_hash: &str) -> StoreResult<Option<WebSessionRow>>;
    /// Notes a session's use and its new end.
    fn touch_web_session(&mut self, token_hash: &str, seen: DateTime<Utc>, expires: DateTime<Utc>) -> StoreResult<()>;
    /// Ends a session.
    fn delete_web_session(&mut self, token_hash: &str) -> StoreResult<()>;
    /// Ends every session of a user (a new password).
    fn delete_web_sessions_of(&mut self, user: Uuid) -> StoreResult<()>;
}

/// The database's own facts.
pub trait Meta {
    /// This database's identity, which pull cursors are tied to (a restored or new database
    /// has another).
    fn epoch(&mut self) -> StoreResult<String>;
    /// Replaces this database's identity: a database restored from a backup must not pass for
    /// the one it was copied from, or a phone whose cursor lies inside the restored order would
    /// skip what came after and never send again what the restore lost (see [`new_epoch`]).
    fn set_epoch(&mut self, epoch: &str) -> StoreResult<()>;
}

/// A fresh random epoch (32 hex digits, as the migrations make them).
pub fn new_epoch() -> String {
    Uuid::new_v4().simple().to_string()
}

/// The `/root/…/code/` path of a place (`gocua_core::places::path_of`).
pub fn place_path(tx: &mut dyn Tx, code: &str) -> StoreResult<Option<String>> {
    Ok(gocua_core::places::path_of(&lineage(tx, code)?))
}

/// The place and its ancestors, root first; empty if the code is unknown. A household assigned
/// on its own (`gocua_core::places::household_of`) ends its hamlet's lineage.
pub fn lineage(tx: &mut dyn Tx, code: &str) -> StoreResult<Vec<Place>> {
    let Some(id) = gocua_core::places::household_of(code) else {
        return tx.lineage(code);
    };
    let Some(household) = tx.households(&[id])?.pop() else {
        return Ok(vec![]);
    };
    let mut chain = tx.lineage(&household.hamlet_code)?;
    if !chain.is_empty() {
        chain.push(gocua_core::places::household_place(id, &household.hamlet_code, &household.address));
    }
    Ok(chain)
}

/// The error of a place tree that loops (a lineage longer than any real one) at `code`.
pub fn looped(code: &str) -> StoreError {
    StoreError::Corrupt(format!("the place tree loops at {code}"))
}
