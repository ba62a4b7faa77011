//! The audit log: append-only and hash-chained. Every read or change of personal data (a push,
//! a pull page, an officer's action) adds a row saying who, from which device, when, and which
//! records (as ids, counts and `server_seq` ranges: never a personal value).

use chrono::Utc;
use gocua_server_store::{AuditRow, Store, StoreError, StoreResult, Tx, run_read, run_write};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One thing done to personal data.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The user who did it (`None`: an officer at the server's command line).
    pub actor_user: Option<Uuid>,
    /// The device it came from.
    pub actor_device: Option<Uuid>,
    /// What was done: `push`, `pull`, `revoke_device`, `set_scope`, `import_bundle` …
    pub action: &'static str,
    /// Which records, as ids, counts and ranges; never names, CCCD numbers or notes.
    pub detail: Value,
}

impl Entry {
    /// An entry for what an officer did at the server's command line (no user, no device).
    pub fn at_command_line(action: &'static str, detail: Value) -> Self {
        Entry { actor_user: None, actor_device: None, action, detail }
    }
}

/// The hash of a row: SHA-256 over its fields and the previous row's hash, one per line.
fn row_hash(
    seq: i64,
    at: &str,
    user: Option<&str>,
    device: Option<&str>,
    action: &str,
    detail: &str,
    prev: &str,
) -> String {
    let text = format!("{seq}\n{at}\n{}\n{}\n{action}\n{detail}\n{prev}", user.unwrap_or(""), device.unwrap_or(""));
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Appends `entry` inside the caller's write transaction (so the row commits with the change
/// it records, or not at all). Write transactions are serialized by every backend, so the chain
/// stays one chain with several servers. Returns the row's sequence number.
pub fn append(tx: &mut dyn Tx, entry: &Entry) -> StoreResult<i64> {
    let (seq, prev) = match tx.audit_head()? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let at = Utc::now().to_rfc3339();
    let user = entry.actor_user.map(|u| u.to_string());
    let device = entry.actor_device.map(|d| d.to_string());
    let detail = entry.detail.to_string();
    let hash = row_hash(seq, &at, user.as_deref(), device.as_deref(), entry.action, &detail, &prev);
    tx.insert_audit(&AuditRow {
        seq,
        at,
        actor_user: user,
        actor_device: device,
        action: entry.action.to_owned(),
        detail,
        prev_hash: prev,
        hash,
    })?;
    Ok(seq)
}

/// Appends `entry` in a write transaction of its own (for reads, which change nothing else).
pub fn append_now(store: &dyn Store, entry: &Entry) -> StoreResult<i64> {
    run_write(store, |tx| append(tx, entry))
}

/// A chain that checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Rows checked.
    pub entries: u64,
    /// The last row's hash (write it down: a log cut short after it shows up against it).
    pub head: String,
}

/// Where the chain broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// A row's hash does not match its contents.
    #[error("nhật ký kiểm tra bị sửa ở dòng {0} / the audit log was altered at entry {0}")]
    Altered(i64),
    /// A row does not point at the row before it (removed or inserted rows).
    #[error("nhật ký kiểm tra bị đứt ở dòng {0} / the audit log chain is broken at entry {0}")]
    Unlinked(i64),
    /// The database could not be read.
    #[error("không đọc được nhật ký kiểm tra / cannot read the audit log: {0}")]
    Unreadable(String),
}

/// Rows read per query while verifying.
const VERIFY_PAGE: u32 = 5_000;

/// Walks the whole chain from the first row, in one read snapshot.
pub fn verify(store: &dyn Store) -> Result<Verified, Broken> {
    let walked = run_read(store, |tx| -> Result<Result<Verified, Broken>, StoreError> {
        let (mut expected_seq, mut prev, mut entries) = (1i64, GENESIS.to_owned(), 0u64);
        loop {
            let rows = tx.audit_rows(expected_seq - 1, VERIFY_PAGE)?;
            if rows.is_empty() {
                return Ok(Ok(Verified { entries, head: prev }));
            }
            for row in rows {
                if row.seq != expected_seq || row.prev_hash != prev {
                    return Ok(Err(Broken::Unlinked(row.seq)));
                }
                let hash = row_hash(
                    row.seq,
                    &row.at,
                    row.actor_user.as_deref(),
                    row.actor_device.as_deref(),
                    &row.action,
                    &row.detail,
                    &row.prev_hash,
                );
                if hash != row.hash {
                    return Ok(Err(Broken::Altered(row.seq)));
                }
                prev = row.hash;
                expected_seq += 1;
                entries += 1;
            }
        }
    });
    walked.map_err(|e| Broken::Unreadable(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use gocua_server_sqlite::SqliteStore;
    use serde_json::json;

    use super::*;

    fn entry(action: &'static str, n: u64) -> Entry {
        Entry {
            actor_user: Some(Uuid::now_v7()),
            actor_device: Some(Uuid::now_v7()),
            action,
            detail: json!({ "events": n }),
        }
    }

    /// SQLite's file, edited behind the server's back (the story suite's security test does the
    /// same on both backends through the database).
    #[test]
    fn an_untouched_chain_verifies_and_each_kind_of_tampering_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(verify(&store).unwrap(), Verified { entries: 0, head: GENESIS.into() });
        for n in 1..=5 {
            append_now(&store, &entry("push", n)).unwrap();
        }
        let good = verify(&store).unwrap();
        assert_eq!(good.entries, 5);

        // the database itself refuses edits and deletions
        let conn = rusqlite::Connection::open(&path).unwrap();
        let err = conn.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 2", []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(conn.execute("DELETE FROM audit_log WHERE seq = 5", []).is_err());

        // someone with the file drops the guards: a changed row is caught …
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;").unwrap();
        conn.execute("UPDATE audit_log SET detail = '{\"events\":0}' WHERE seq = 3", []).unwrap();
        assert_eq!(verify(&store), Err(Broken::Altered(3)));
        conn.execute("UPDATE audit_log SET detail = '{\"events\":3}' WHERE seq = 3", []).unwrap();
        assert_eq!(verify(&store).unwrap(), good, "put back, it verifies again");
        // … so is a removed row, and a re-hashed row no longer links to the next one
        conn.execute("DELETE FROM audit_log WHERE seq = 2", []).unwrap();
        assert_eq!(verify(&store), Err(Broken::Unlinked(3)));
    }

    #[test]
    fn a_write_that_rolls_back_leaves_no_audit_row() {
        let store = crate::test_store::store();
        let store = &*store;
        let failed: Result<(), crate::domain::Error> = run_write(store, |tx| {
            append(tx, &entry("push", 1))?;
            Err(crate::domain::Error::invalid("the change this row records failed"))
        });
        assert!(failed.is_err());
        assert_eq!(verify(store).unwrap().entries, 0);
    }
}
