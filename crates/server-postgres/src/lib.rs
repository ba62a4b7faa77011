//! The PostgreSQL backend of the server's storage seam (ARCHITECTURE.md, "Backends").
//!
//! [`PgStore`] implements [`gocua_server_store::Store`] over `tokio_postgres` connections, each
//! driven by a small runtime of its own (`conn`; the server's rules and the reducer are
//! synchronous and run on blocking threads, as with SQLite), in r2d2 pools: one for the
//! primary, one for an optional read replica.
//!
//! - **Write transactions are serialized across every process on the database**: each begins
//!   with `pg_advisory_xact_lock` on one key, so `server_seq` order (assigned by the caller
//!   inside the transaction) is commit order, the audit hash chain stays one chain, and a device
//!   pushing to two servers at once has each event applied once.
//! - **Read transactions** are `REPEATABLE READ READ ONLY`: one snapshot for the whole closure.
//! - **Statements** are prepared once per connection and cached, and pipelined: `BEGIN` goes
//!   with the first statement, writes nobody reads an answer of wait for the next read or the
//!   `COMMIT` (`PgTx::defer`). The bulk ones (events, the projection's rows, lookups by many
//!   ids) are one statement per call over arrays (`unnest`), never one per row. Lookups by many keys probe the key once per key (`by_keys!` in `tx`),
//!   never trusting a cached plan of `key = ANY($1)` made while the table was small. A place's
//!   ancestors come in one recursive query.
//! - **Failures**: a lost connection, a restarting server or an exhausted pool is
//!   [`StoreError::Unavailable`]; a pooled connection found dead at its first contact (the
//!   server restarted while it idled) is replaced and what was waiting sent again, unless it
//!   carried the `COMMIT`, so a restart of PostgreSQL needs no restart of the server.
//! - **Schema**: the server's own runner applies `migrations/server/postgres/*.sql` in order
//!   (`schema_migrations`), under an advisory lock.

mod conn;
mod migrate;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gocua_server_store::{BackendInfo, BackupInfo, Readiness, Store, StoreError, StoreResult, TxFn};
use r2d2::{Pool, PooledConnection};

use crate::conn::{LogErrors, Manager, is_unavailable, store_error};
use crate::tx::PgTx;

/// The advisory lock every write transaction takes ("gocuawri"): one writer at a time.
const WRITE_LOCK: i64 = 0x676f_6375_6177_7269;

const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(7453285264119001705)";
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// The tables an erasure rewrites (what [`Store::scrub_after_erasure`] vacuums).
const ERASURE_TABLES: [&str; 4] = ["events", "residents", "visits", "households"];

/// Pool sizes and time limits of a [`PgStore`].
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections to the primary, at most.
    pub primary_pool: u32,
    /// Connections to the replica, at most.
    pub replica_pool: u32,
    /// How long a transaction waits for a free pooled connection (or a new one) before it
    /// fails with [`StoreError::Unavailable`].
    pub checkout_timeout: Duration,
    /// How long a read waits for the replica before it goes to the primary instead.
    pub replica_checkout_timeout: Duration,
    /// After the replica failed, how long reads go straight to the primary before it is tried
    /// again.
    pub replica_retry_after: Duration,
    /// The time limit of each attempt to open a connection (unless the URL sets
    /// `connect_timeout`).
    pub connect_timeout: Duration,
    /// After an erasure, tables up to this size (with their TOAST and indexes) get
    /// `VACUUM FULL`, which rewrites them and so leaves no old row version in their files, but
    /// locks each one (no read, no write) while it does; larger ones a plain `VACUUM`, which
    /// locks nothing but may leave old versions' bytes in the free space of their pages (see
    /// [`Store::scrub_after_erasure`]).
    pub scrub_full_max_bytes: u64,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            primary_pool: 10,
            replica_pool: 10,
            checkout_timeout: Duration::from_secs(10),
            replica_checkout_timeout: Duration::from_secs(2),
            replica_retry_after: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            // a rewrite of this much takes seconds: a commune's or a district's database
            scrub_full_max_bytes: 256 << 20,
        }
    }
}

/// A server database on PostgreSQL: a primary, and optionally a streaming replica for reads.
pub struct PgStore {
    primary: Pool<Manager>,
    /// Round trips to the primary (see [`PgStore::round_trips`]).
    round_trips: Arc<AtomicU64>,
    replica: Option<Replica>,
    location: String,
    options: PgOptions,
}

struct Replica {
    pool: Pool<Manager>,
    location: String,
    /// Reads skip the replica until then (it failed lately).
    down_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .field("replica", &self.replica.as_ref().map(|r| &r.location))
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the primary (and the replica, when given), and brings the primary's schema
    /// up to date. A replica that cannot be reached now does not stop the server: reads go to
    /// the primary until it answers.
    pub fn open(primary_url: &str, replica_url: Option<&str>) -> StoreResult<PgStore> {
        PgStore::open_with(primary_url, replica_url, PgOptions::default())
    }

    /// [`PgStore::open`] with other pool sizes and time limits.
    pub fn open_with(primary_url: &str, replica_url: Option<&str>, options: PgOptions) -> StoreResult<PgStore> {
        let primary_config = config(primary_url, &options)?;
        let mut client = conn::PgConn::open(&primary_config, Arc::default()).map_err(|e| store_error(&e))?;
        migrate::run(&mut client)?;
        drop(client);
        let round_trips = Arc::new(AtomicU64::new(0));
        let primary = pool(options.primary_pool, options.checkout_timeout)
            .build(Manager { config: primary_config, round_trips: Arc::clone(&round_trips) })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let replica = match replica_url {
            None => None,
            Some(url) => Some(Replica {
                pool: pool(options.replica_pool, options.replica_checkout_timeout)
                    .build_unchecked(Manager { config: config(url, &options)?, round_trips: Arc::default() }),
                location: redact_url(url),
                down_until: Mutex::new(None),
            }),
        };
        Ok(PgStore { primary, round_trips, replica, location: redact_url(primary_url), options })
    }

    /// A connection of `pool` inside a transaction begun with `begin` (sent with the
    /// transaction's first statement). A pooled connection found dead then (the server
    /// restarted since it was last used) is replaced by a new one (`PgConn`): nothing ran on
    /// it yet.
    fn begin(
        &self,
        pool: &Pool<Manager>,
        begin: &'static str,
        timeout: Duration,
    ) -> StoreResult<Active<PooledConnection<Manager>>> {
        let mut conn = pool
            .get_timeout(timeout)
            .map_err(|e| StoreError::Unavailable(format!("no database connection within {timeout:?}: {e}")))?;
        conn.begin(begin);
        Ok(Active { conn, done: false })
    }

    /// Round trips to the primary so far, over every pooled connection: each a wait for the
    /// server's answers (several statements may share one; preparing a statement on a
    /// connection for the first time is one of its own). For tests and benchmarks.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn replica_usable(&self, replica: &Replica) -> bool {
        let until = replica.down_until.lock().map(|g| *g).unwrap_or(None);
        until.is_none_or(|t| Instant::now() >= t)
    }

    fn replica_failed(&self, replica: &Replica, error: &StoreError) {
        if let Ok(mut until) = replica.down_until.lock() {
            *until = Some(Instant::now() + self.options.replica_retry_after);
        }
        // the error is the driver's or the server's message about the connection: no data
        tracing::warn!(replica = %replica.location, error = %error, "PostgreSQL replica unavailable: reading from the primary");
    }
}

fn pool(size: u32, timeout: Duration) -> r2d2::Builder<Manager> {
    Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(1))
        // a dead connection is found when a transaction begins on it (see `PgStore::begin`),
        // without a round trip on every checkout
        .test_on_check_out(false)
        .connection_timeout(timeout)
        .error_handler(Box::new(LogErrors))
}

fn config(url: &str, options: &PgOptions) -> StoreResult<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Failed(format!("địa chỉ PostgreSQL không hợp lệ / invalid PostgreSQL URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(options.connect_timeout);
    }
    if config.get_application_name().is_none() {
        config.application_name("gocua-server");
    }
    if config.get_options().is_none() {
        // the server's NOTICEs ("already exists, skipping" at every start) are not news
        config.options("-c client_min_messages=warning");
    }
    Ok(config)
}

/// A URL (or `key=value` connection string) without its password.
pub fn redact_url(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let (scheme, rest) = url.split_at(scheme_end + 3);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rfind('@') {
            Some(at) => {
                let (userinfo, host) = authority.split_at(at);
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{user}{host}")
            }
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<&str> = query.split('&').filter(|kv| !kv.starts_with("password=")).collect();
                if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) }
            }
            None => tail.to_owned(),
        };
        format!("{scheme}{authority}{tail}")
    } else {
        url.split_whitespace().filter(|kv| !kv.starts_with("password=")).collect::<Vec<_>>().join(" ")
    }
}

/// A connection inside a transaction. Dropped before it ended (a panic in the closure), the
/// connection is marked broken so the pool closes it and the server rolls the transaction back.
struct Active<C: std::ops::DerefMut<Target = conn::PgConn>> {
    conn: C,
    done: bool,
}

impl<C: std::ops::DerefMut<Target = conn::PgConn>> Drop for Active<C> {
    fn drop(&mut self) {
        if !self.done {
            self.conn.broken = true;
        }
    }
}

impl<C: std::ops::DerefMut<Target = conn::PgConn>> Active<C> {
    /// Runs `f` and commits, or rolls back on any error (the closure's own, or a statement's
    /// that the closure did not pass on: PostgreSQL aborted the transaction then).
    fn run(self, f: &mut TxFn<'_>) -> StoreResult<()> {
        self.run_noting_loss(f).0
    }

    /// [`Active::run`], and the error of a statement that found the connection lost, if one did.
    fn run_noting_loss(mut self, f: &mut TxFn<'_>) -> (StoreResult<()>, Option<StoreError>) {
        let mut tx = PgTx::new(&mut self.conn);
        let outcome = f(&mut tx);
        let failed = tx.failed.take();
        let lost = failed.clone().filter(|e| matches!(e, StoreError::Unavailable(_)));
        let result = match (outcome, failed) {
            (Ok(()), None) => match self.conn.end(true) {
                Ok(()) => Ok(()),
                Err(e) => {
                    self.conn.broken = true;
                    Err(store_error(&e))
                }
            },
            (Ok(()), Some(error)) | (Err(error), _) => {
                if self.conn.end(false).is_err() {
                    self.conn.broken = true;
                }
                Err(error)
            }
        };
        self.done = true;
        (result, lost)
    }
}

impl Store for PgStore {
    fn write_tx(&self, f: &mut TxFn<'_>) -> StoreResult<()> {
        debug_assert!(BEGIN_WRITE.ends_with(&format!("({WRITE_LOCK})")));
        self.begin(&self.primary, BEGIN_WRITE, self.options.checkout_timeout)?.run(f)
    }

    fn read_tx(&self, f: &mut TxFn<'_>) -> StoreResult<()> {
        self.begin(&self.primary, BEGIN_READ, self.options.checkout_timeout)?.run(f)
    }

    fn replica_read_tx(&self, f: &mut TxFn<'_>) -> StoreResult<bool> {
        if let Some(replica) = &self.replica
            && self.replica_usable(replica)
        {
            match self.begin(&replica.pool, BEGIN_READ, self.options.replica_checkout_timeout) {
                Ok(active) => {
                    let (result, lost) = active.run_noting_loss(f);
                    match (result, lost) {
                        // the replica went away in the middle: read again on the primary
                        (Err(_), Some(error)) => self.replica_failed(replica, &error),
                        (result, _) => return result.map(|()| true),
                    }
                }
                Err(error @ StoreError::Unavailable(_)) => self.replica_failed(replica, &error),
                Err(error) => return Err(error),
            }
        }
        self.read_tx(f).map(|()| false)
    }

    fn describe(&self) -> BackendInfo {
        BackendInfo { kind: "postgres", location: self.location.clone(), replica: self.replica.is_some() }
    }

    fn readiness(&self) -> StoreResult<Readiness> {
        let mut conn =
            self.primary.get().map_err(|e| StoreError::Unavailable(format!("no database connection: {e}")))?;
        conn.checked_out();
        let applied = match conn.query("SELECT count(*) FROM schema_migrations", &[]) {
            Ok(rows) => rows.first().map_or(0, |row| row.get::<_, i64>(0)),
            Err(e) => {
                conn.broken = is_unavailable(&e);
                return Err(store_error(&e));
            }
        };
        drop(conn);
        let (replica_lag, replica_error) = match &self.replica {
            None => (None, None),
            Some(replica) => match replica_lag(replica, self.options.replica_checkout_timeout) {
                Ok(lag) => (lag, None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        Ok(Readiness {
            migrations_expected: migrate::MIGRATIONS.len() as u32,
            migrations_applied: u32::try_from(applied).unwrap_or(u32::MAX),
            replica_lag,
            replica_error,
        })
    }

    /// What PostgreSQL keeps of a rewritten value, found by experiment (tests/scrub.rs scans the
    /// cluster's files for sentinel values): an `UPDATE` leaves the old row version in the table
    /// file; a plain `VACUUM` removes it from the page, but the page's free space keeps the old
    /// bytes unless live rows slid over them (6 of 40 rewritten events kept theirs); `VACUUM
    /// FULL` writes the table anew and truncates the old file at commit: no table, TOAST or
    /// index file holds the value after it. The write-ahead log always does, until its
    /// segments are recycled and overwritten.
    ///
    /// So: `VACUUM FULL` of each erasure table up to [`PgOptions::scrub_full_max_bytes`] (it
    /// locks the table while it rewrites it: at a province's size, minutes without pushes or
    /// pulls), a plain `VACUUM` of larger ones, a `CHECKPOINT` when allowed (so the vacuumed
    /// pages reach the files now), and the list of what remains.
    fn scrub_after_erasure(&self) -> StoreResult<Vec<String>> {
        let mut conn = self
            .primary
            .get_timeout(self.options.checkout_timeout)
            .map_err(|e| StoreError::Unavailable(format!("no database connection: {e}")))?;
        conn.checked_out();
        let run = |conn: &mut PooledConnection<Manager>, sql: &str| -> StoreResult<()> {
            conn.batch_execute(sql).map_err(|e| {
                conn.broken = is_unavailable(&e);
                store_error(&e)
            })
        };
        let mut full = Vec::new();
        let mut plain = Vec::new();
        for table in ERASURE_TABLES {
            let size: i64 = match conn.query("SELECT pg_total_relation_size($1::text::regclass)", &[&table]) {
                Ok(rows) => rows.first().map_or(0, |row| row.get(0)),
                Err(e) => {
                    conn.broken = is_unavailable(&e);
                    return Err(store_error(&e));
                }
            };
            if u64::try_from(size).unwrap_or(u64::MAX) <= self.options.scrub_full_max_bytes {
                full.push(table);
            } else {
                plain.push(table);
            }
        }
        // VACUUM cannot run in a transaction block: each one a statement of its own
        if !full.is_empty() {
            run(&mut conn, &format!("VACUUM (FULL) {}", full.join(", ")))?;
        }
        if !plain.is_empty() {
            run(&mut conn, &format!("VACUUM {}", plain.join(", ")))?;
        }
        let mut remains = Vec::new();
        if !plain.is_empty() {
            let tables = plain.join(", ");
            remains.push(format!(
                "PostgreSQL: bảng {tables} quá lớn để VACUUM FULL khi đang phục vụ; một phần giá trị cũ có thể còn trong \
                 chỗ trống của các trang dữ liệu cho tới khi bị ghi đè. Chạy `VACUUM FULL {tables}` vào giờ bảo trì \
                 (khoá các bảng trong lúc chạy) / the tables {tables} are too large to VACUUM FULL while serving: some \
                 old values may stay in the free space of their pages until overwritten. Run `VACUUM FULL {tables}` \
                 in a maintenance window (it locks the tables while it runs)"
            ));
        }
        if conn.batch_execute("CHECKPOINT").is_err() {
            // not a superuser (nor pg_checkpoint): the next checkpoint writes the pages
            remains.push(
                "PostgreSQL: các trang đã dọn được ghi xuống tệp ở lần checkpoint kế tiếp (tối đa checkpoint_timeout) / \
                 the cleaned pages reach the table files at the next checkpoint (within checkpoint_timeout)"
                    .to_owned(),
            );
        }
        remains.push(
            "PostgreSQL: giá trị cũ còn trong các tệp WAL (pg_wal) cho tới khi chúng được tái sử dụng và ghi đè / the \
             old values remain in the write-ahead log (pg_wal) until its segments are recycled and overwritten"
                .to_owned(),
        );
        remains.push(
            "PostgreSQL: giá trị cũ còn trong WAL đã lưu trữ (archive_command) và trong bản sao lưu (pg_dump, \
             pg_basebackup) làm trước khi xoá; hãy thay chúng / the old values remain in archived WAL and in backups \
             (pg_dump, pg_basebackup) made before the erasure: replace them"
                .to_owned(),
        );
        if let Some(replica) = &self.replica {
            remains.push(format!(
                "PostgreSQL: bản sao {} dọn theo qua WAL nhưng còn giữ các tệp WAL cũ của nó / the replica {} replays \
                 this cleaning but keeps its own copy of the old WAL until recycled",
                replica.location, replica.location
            ));
        }
        Ok(remains)
    }

    fn backup(&self, _to: &Path) -> StoreResult<BackupInfo> {
        Err(StoreError::Unsupported(
            "Cơ sở dữ liệu PostgreSQL được sao lưu bằng công cụ của PostgreSQL: `pg_dump -Fc -f gocua.dump <URL>`; \
             sau khi khôi phục bằng pg_restore, chạy `gocua-server admin new-epoch` (xem README) / a PostgreSQL \
             database is backed up with PostgreSQL's own tools: `pg_dump -Fc -f gocua.dump <URL>`; after a \
             pg_restore, run `gocua-server admin new-epoch` (see the README)"
                .into(),
        ))
    }
}

fn replica_lag(replica: &Replica, timeout: Duration) -> StoreResult<Option<Duration>> {
    let mut conn = replica
        .pool
        .get_timeout(timeout)
        .map_err(|e| StoreError::Unavailable(format!("no replica connection: {e}")))?;
    conn.checked_out();
    let rows = conn.query(
        "SELECT CASE
                    WHEN NOT pg_is_in_recovery() THEN 0::float8
                    WHEN pg_last_wal_receive_lsn() IS NOT NULL
                         AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
                    ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
                END",
        &[],
    );
    match rows {
        Ok(rows) => {
            let seconds: Option<f64> = rows.first().and_then(|row| row.get(0));
            Ok(seconds.map(|s| Duration::from_secs_f64(s.max(0.0))))
        }
        Err(e) => {
            conn.broken = is_unavailable(&e);
            Err(store_error(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact_url("postgres://gocua:s3cret@db:5432/gocua"), "postgres://gocua@db:5432/gocua");
        assert_eq!(redact_url("postgresql://u@h/db?sslmode=require"), "postgresql://u@h/db?sslmode=require");
        assert_eq!(redact_url("postgres://u@h/db?password=x&sslmode=require"), "postgres://u@h/db?sslmode=require");
        assert_eq!(redact_url("postgres://h/db?password=x"), "postgres://h/db");
        assert_eq!(redact_url("host=h user=u password=x dbname=d"), "host=h user=u dbname=d");
    }

    #[test]
    fn the_write_lock_key_is_the_one_begun_with() {
        assert!(BEGIN_WRITE.ends_with(&format!("({WRITE_LOCK})")));
    }

    #[test]
    fn the_migrations_are_numbered_in_order() {
        for (i, (name, _)) in migrate::MIGRATIONS.iter().enumerate() {
            assert!(name.starts_with(&format!("{:04}_", i + 1)), "{name}");
        }
    }
}
