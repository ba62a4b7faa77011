//! The embedded SQLite backend of the server's storage seam (ARCHITECTURE.md, "Backends"): one
//! file, one connection behind a mutex (SQLite has one writer anyway), used from blocking
//! threads. The default: a commune's whole campaign fits in one file on the office's machine.

mod audit;
mod bundles;
mod catalog;
mod devices;
mod erasures;
mod events;
mod projection;
mod report;
mod users;
mod web;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gocua_core::sql;
use gocua_core::store::migrations::{
    COMMON, COMMON_MERGE, COMMON_OFFICE, COMMON_REVIEW, COMMON_VISIT_POSITION, COMMON_VISIT_REVIEW, COMMON_VISIT_STEPS,
    COMMON_WITHHELD_REASON,
};
use gocua_server_store::{BackendInfo, BackupInfo, Events, Meta, Readiness, Store, StoreError, StoreResult, TxFn};
use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{M, Migrations};

const SERVER: [&str; 19] = [
    include_str!("../../../migrations/server/sqlite/0001_server.sql"),
    COMMON_REVIEW,
    include_str!("../../../migrations/server/sqlite/0002_flags_epoch.sql"),
    include_str!("../../../migrations/server/sqlite/0003_keys.sql"),
    include_str!("../../../migrations/server/sqlite/0004_former_scopes.sql"),
    COMMON_VISIT_STEPS,
    include_str!("../../../migrations/server/sqlite/0005_audit.sql"),
    COMMON_WITHHELD_REASON,
    include_str!("../../../migrations/server/sqlite/0006_erasures.sql"),
    include_str!("../../../migrations/server/sqlite/0007_user_scopes.sql"),
    COMMON_OFFICE,
    include_str!("../../../migrations/server/sqlite/0008_revocation_probe.sql"),
    include_str!("../../../migrations/server/sqlite/0009_device_unsent.sql"),
    COMMON_MERGE,
    COMMON_VISIT_POSITION,
    COMMON_VISIT_REVIEW,
    include_str!("../../../migrations/server/sqlite/0010_household_paths.sql"),
    include_str!("../../../migrations/server/sqlite/0011_dashboard.sql"),
    include_str!("../../../migrations/server/sqlite/0012_report_counters.sql"),
];

/// The server's migration list: the common files, then the server's own.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(COMMON.iter().chain(SERVER.iter()).map(|sql| M::up(sql)).collect())
}

fn migration_count() -> u32 {
    (COMMON.len() + SERVER.len()) as u32
}

/// A driver error as the seam's: a locked or unopenable file is "try later", the rest a failure.
pub(crate) fn db_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => match e {
            rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
                StoreError::Corrupt(e.to_string())
            }
            other => StoreError::Failed(other.to_string()),
        },
    }
}

pub(crate) fn core_error(e: gocua_core::Error) -> StoreError {
    match e {
        gocua_core::Error::Db(e) => db_error(e),
        other => StoreError::Failed(other.to_string()),
    }
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings it up to date.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut conn = Connection::open(path).map_err(db_error)?;
        sql::configure(&conn).map_err(db_error)?;
        // a large sort or index build spills to a temporary file instead of the heap (the
        // bundled SQLite keeps temporaries in memory unless told); the device store keeps them
        // in memory, where SQLCipher's pages stay encrypted
        conn.pragma_update(None, "temp_store", "FILE").map_err(db_error)?;
        migrations().to_latest(&mut conn).map_err(|e| StoreError::Failed(format!("migration: {e}")))?;
        Ok(SqliteStore { conn: Mutex::new(conn), path: path.to_owned() })
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> StoreResult<SqliteStore> {
        SqliteStore::open(Path::new(":memory:"))
    }

    fn with_conn<R>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<R>) -> StoreResult<R> {
        let mut guard = self.conn.lock().map_err(|_| StoreError::Failed("the database mutex is poisoned".into()))?;
        f(&mut guard)
    }

    fn run(&self, behavior: TransactionBehavior, f: &mut TxFn<'_>) -> StoreResult<()> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(behavior).map_err(db_error)?;
            f(&mut SqliteTx { tx: &tx })?;
            tx.commit().map_err(db_error)
        })
    }
}

/// One transaction, as the seam's `Tx`.
pub(crate) struct SqliteTx<'c> {
    pub(crate) tx: &'c rusqlite::Transaction<'c>,
}

impl Store for SqliteStore {
    fn write_tx(&self, f: &mut TxFn<'_>) -> StoreResult<()> {
        // IMMEDIATE: take the write lock first, so reads inside see what the write builds on
        self.run(TransactionBehavior::Immediate, f)
    }

    fn read_tx(&self, f: &mut TxFn<'_>) -> StoreResult<()> {
        self.run(TransactionBehavior::Deferred, f)
    }

    fn describe(&self) -> BackendInfo {
        BackendInfo { kind: "sqlite", location: self.path.display().to_string(), replica: false }
    }

    fn readiness(&self) -> StoreResult<Readiness> {
        let applied: u32 =
            self.with_conn(|conn| conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db_error))?;
        Ok(Readiness {
            migrations_expected: migration_count(),
            migrations_applied: applied,
            replica_lag: None,
            replica_error: None,
        })
    }

    fn scrub_after_erasure(&self) -> StoreResult<Vec<String>> {
        // the rewritten values must not linger in the write-ahead log either (the freed pages
        // were zeroed by secure_delete)
        let busy: i64 = self
            .with_conn(|conn| conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).map_err(db_error))?;
        Ok(if busy != 0 {
            vec![
                "nhật ký ghi (WAL) chưa được làm trống vì máy chủ đang đọc; chạy lại lệnh sau / the write-ahead \
                  log could not be emptied while the server was reading; run this again later"
                    .into(),
            ]
        } else {
            vec![]
        })
    }

    fn backup(&self, to: &Path) -> StoreResult<BackupInfo> {
        if to.exists() {
            return Err(StoreError::Unsupported(format!(
                "tệp {} đã có, không ghi đè / {} exists; a backup never overwrites a file",
                to.display(),
                to.display()
            )));
        }
        self.with_conn(|conn| {
            let mut copy = Connection::open(to).map_err(db_error)?;
            {
                let backup = rusqlite::backup::Backup::new(conn, &mut copy).map_err(db_error)?;
                // 256 pages a step, no pause: the server's writers wait only for one step
                backup.run_to_completion(256, std::time::Duration::ZERO, None).map_err(db_error)?;
            }
            // the copy is another database to the phones: put back in place of the live one, it
            // answers their cursors `reset`, and they send again whatever it lacks
            let epoch = gocua_server_store::new_epoch();
            let tx = copy.transaction().map_err(db_error)?;
            let last = {
                let mut copy_tx = SqliteTx { tx: &tx };
                copy_tx.set_epoch(&epoch)?;
                copy_tx.last_server_seq()?
            };
            tx.commit().map_err(db_error)?;
            drop(copy);
            let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
            Ok(BackupInfo { bytes, last_server_seq: last, epoch })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    #[test]
    fn server_migrations_are_valid() {
        migrations().validate().unwrap();
    }

    /// `0010_household_paths` moves the records stored under a hamlet's path to their
    /// household's, whatever names the household (its id, a person's, a merge's kept person, a
    /// review's record), and leaves an assignment, a campaign and a person it does not know alone.
    #[test]
    fn records_stored_before_move_under_their_household() {
        let mut conn = Connection::open_in_memory().unwrap();
        sql::configure(&conn).unwrap();
        let all = migrations();
        // every migration before 0010 (later ones follow it)
        let at = SERVER.iter().position(|sql| sql.starts_with("-- Issue 14: a household may be assigned")).unwrap();
        let before = COMMON.len() + at;
        all.to_version(&mut conn, before).unwrap();
        let (h, r) = ("00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000b1");
        conn.execute_batch(&format!(
            "INSERT INTO places (code, name, level, division_type, parent_code) VALUES
                ('12', 'T', 'province', 'tỉnh', NULL), ('03445', 'X', 'commune', 'xã', '12'),
                ('03445-01', 'B', 'hamlet', 'bản', '03445');
             INSERT INTO users (id, name, role, scope_code, created_at) VALUES ('u', 'U', 'volunteer', '03445-01', 't');
             INSERT INTO user_scopes (user_id, place_code) VALUES ('u', '03445-01');
             INSERT INTO devices (id, user_id, name, token_hash, enrolled_at) VALUES ('d', 'u', 'p', 'x', 't');
             INSERT INTO households (id, hamlet_code, address, head_name, version, search_key)
                VALUES ('{h}', '03445-01', 'a', 'n', 1, 'k');
             INSERT INTO residents (id, household_id, full_name, birth_year, sex, version, search_key)
                VALUES ('{r}', '{h}', 'n', 1990, 'female', 1, 'k');
             INSERT INTO erasures (resident_id, place_path, at_seq, erased_at, erased_by)
                VALUES ('{r}', '/12/03445/03445-01/', 0, 't', 'x');"
        ))
        .unwrap();
        let events = [
            ("household_created.v1", format!(r#"{{"household_id":"{h}"}}"#), Some("/12/03445/03445-01/")),
            ("visit_recorded.v1", format!(r#"{{"resident_id":"{r}"}}"#), Some("/12/03445/03445-01/")),
            ("residents_merged.v1", format!(r#"{{"kept":"{r}"}}"#), Some("/12/03445/03445-01/")),
            ("review_resolved.v1", format!(r#"{{"record_id":"{h}"}}"#), Some("/12/03445/03445-01/")),
            ("assignment_set.v1", r#"{"user_id":"u"}"#.to_owned(), Some("/12/03445/")),
            ("campaign_set.v1", r#"{"place":"03445"}"#.to_owned(), Some("/12/03445/")),
            (
                "visit_recorded.v1",
                r#"{"resident_id":"00000000-0000-0000-0000-00000000ffff"}"#.to_owned(),
                Some("/12/03445/03445-01/"),
            ),
        ];
        for (i, (kind, payload, path)) in events.iter().enumerate() {
            conn.execute(
                "INSERT INTO events (id, device_id, seq, author, device_time, received_at, type, payload, place_path, status)
                 VALUES (?1, 'd', ?2, 'u', 't', 't', ?3, ?4, ?5, 'applied')",
                params![format!("e{i}"), i + 1, kind, payload, path],
            )
            .unwrap();
        }
        all.to_latest(&mut conn).unwrap();
        let paths: Vec<Option<String>> = conn
            .prepare("SELECT place_path FROM events ORDER BY server_seq")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let moved = Some(format!("/12/03445/03445-01/{h}/"));
        let expected = [moved.clone(), moved.clone(), moved.clone(), moved.clone()]
            .into_iter()
            .chain(["/12/03445/", "/12/03445/", "/12/03445/03445-01/"].map(|p| Some(p.to_owned())))
            .collect::<Vec<_>>();
        assert_eq!(paths, expected);
        let erased: String = conn.query_row("SELECT place_path FROM erasures", [], |row| row.get(0)).unwrap();
        assert_eq!(Some(erased), moved, "an erasure reaches a phone given the household alone");
        // a scope may now hold a household's id
        conn.execute("INSERT INTO user_scopes (user_id, place_code) VALUES ('u', ?1)", [h]).unwrap();
    }
}
