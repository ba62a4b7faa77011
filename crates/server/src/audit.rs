//! The audit log: append-only and hash-chained. Every read or change of personal data (a push,
//! a pull page, an officer's action) adds a row saying who, from which device, when, and which
//! records (as ids, counts and `server_seq` ranges: never a personal value).

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
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
/// it records, or not at all). Returns the row's sequence number.
pub fn append(tx: &Connection, entry: &Entry) -> rusqlite::Result<i64> {
    let last: Option<(i64, String)> = tx
        .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let at = Utc::now().to_rfc3339();
    let user = entry.actor_user.map(|u| u.to_string());
    let device = entry.actor_device.map(|d| d.to_string());
    let detail = entry.detail.to_string();
    let hash = row_hash(seq, &at, user.as_deref(), device.as_deref(), entry.action, &detail, &prev);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor_user, actor_device, action, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![seq, at, user, device, entry.action, detail, prev, hash],
    )?;
    Ok(seq)
}

/// Appends `entry` in a transaction of its own (for reads, which change nothing else).
pub fn append_now(conn: &mut Connection, entry: &Entry) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seq = append(&tx, entry)?;
    tx.commit()?;
    Ok(seq)
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

/// Walks the whole chain from the first row.
pub fn verify(conn: &Connection) -> Result<Verified, Broken> {
    let unreadable = |e: rusqlite::Error| Broken::Unreadable(e.to_string());
    let mut stmt = conn
        .prepare(
            "SELECT seq, at, actor_user, actor_device, action, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .map_err(unreadable)?;
    let mut rows = stmt.query([]).map_err(unreadable)?;
    let (mut expected_seq, mut prev, mut entries) = (1i64, GENESIS.to_owned(), 0u64);
    while let Some(row) = rows.next().map_err(unreadable)? {
        let get_text = |i: usize| row.get::<_, String>(i).map_err(unreadable);
        let seq: i64 = row.get(0).map_err(unreadable)?;
        let (at, action, detail, prev_hash, hash) =
            (get_text(1)?, get_text(4)?, get_text(5)?, get_text(6)?, get_text(7)?);
        let user: Option<String> = row.get(2).map_err(unreadable)?;
        let device: Option<String> = row.get(3).map_err(unreadable)?;
        if seq != expected_seq || prev_hash != prev {
            return Err(Broken::Unlinked(seq));
        }
        if row_hash(seq, &at, user.as_deref(), device.as_deref(), &action, &detail, &prev_hash) != hash {
            return Err(Broken::Altered(seq));
        }
        prev = hash;
        expected_seq += 1;
        entries += 1;
    }
    Ok(Verified { entries, head: prev })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrations().to_latest(&mut conn).unwrap();
        conn
    }

    fn entry(action: &'static str, n: u64) -> Entry {
        Entry {
            actor_user: Some(Uuid::now_v7()),
            actor_device: Some(Uuid::now_v7()),
            action,
            detail: json!({ "events": n }),
        }
    }

    #[test]
    fn an_untouched_chain_verifies_and_each_kind_of_tampering_breaks_it() {
        let mut conn = db();
        assert_eq!(verify(&conn).unwrap(), Verified { entries: 0, head: GENESIS.into() });
        for n in 1..=5 {
            append_now(&mut conn, &entry("push", n)).unwrap();
        }
        let good = verify(&conn).unwrap();
        assert_eq!(good.entries, 5);

        // the database itself refuses edits and deletions
        let err = conn.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 2", []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(conn.execute("DELETE FROM audit_log WHERE seq = 5", []).is_err());

        // someone with the file drops the guards: a changed row is caught …
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;").unwrap();
        conn.execute("UPDATE audit_log SET detail = '{\"events\":0}' WHERE seq = 3", []).unwrap();
        assert_eq!(verify(&conn), Err(Broken::Altered(3)));
        conn.execute("UPDATE audit_log SET detail = '{\"events\":3}' WHERE seq = 3", []).unwrap();
        assert_eq!(verify(&conn).unwrap(), good, "put back, it verifies again");
        // … so is a removed row, and a re-hashed row no longer links to the next one
        conn.execute("DELETE FROM audit_log WHERE seq = 2", []).unwrap();
        assert_eq!(verify(&conn), Err(Broken::Unlinked(3)));
    }

    #[test]
    fn a_write_that_rolls_back_leaves_no_audit_row() {
        let mut conn = db();
        {
            let tx = conn.transaction().unwrap();
            append(&tx, &entry("push", 1)).unwrap();
            // dropped without commit
        }
        assert_eq!(verify(&conn).unwrap().entries, 0);
    }
}
