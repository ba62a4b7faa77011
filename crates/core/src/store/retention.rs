//! Retention: events the server acknowledged leave the phone once their acknowledgement is older
//! than the retention period; what they made stays.
//!
//! An event ages from when the phone learned that the server has it (`events.acknowledged_at`:
//! the push answer for its own, the pull page for others'), by the phone's clock, never from
//! when it was recorded: a record made 40 days offline stays 30 days after it reached the
//! server, so a server restored from a backup older than that can still get it back. After such
//! a restore (a reset that is not a scope change) every own event the phone holds is queued
//! again (`DeviceStore::begin_reset`), and a queued event is never purged.
//!
//! The projection is rebuilt from the event log whenever the server's order demands it
//! (`replay_log`), so purged events cannot simply vanish: they are first folded into a
//! baseline (`base_households`, `base_residents`, `base_visits`, `base_assignments`,
//! `base_campaigns`, the
//! projection's own columns)
//! that every replay starts from. The fold runs on copies in TEMP tables, so a purge never
//! rewrites what the phone shows. Only a prefix of the server's order is ever folded, and only
//! up to the pull cursor, so nothing that arrives later can belong before it. A reset (another
//! server database, or a new scope) drops the baseline and downloads everything again, this
//! phone's own events included (`pull_own`), since a purged own event is on the server only.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{DeviceStore, META_PULL_CURSOR, META_REPLAY_AFTER_PULL, get_meta, set_meta};
use crate::error::Error;
use crate::reducer::{ReduceError, reduce};
use crate::sql::projection::{self, SqlView};

/// Days an acknowledged event stays on the phone unless configured otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// The last `server_seq` folded into the baseline.
const META_PURGED_THROUGH: &str = "purged_through";
/// The highest own sequence number purged, per device id (`seq_floor:<id>`): new events of
/// that device number on from above it; a re-enrolled phone is a new device and starts at 1.
const META_SEQ_FLOOR: &str = "seq_floor";
/// Set while a reset re-downloads the scope with this phone's own events.
pub(super) const META_PULL_OWN: &str = "pull_own";

/// The projection's tables, parents first.
const PROJECTION: [&str; 5] = ["households", "residents", "visits", "assignments", "campaigns"];

/// A projection table's key column.
fn key_of(table: &str) -> &'static str {
    if table == "assignments" { "user_id" } else { "id" }
}

/// Copies the baseline into the projection, which the caller has just cleared.
pub(super) fn restore_baseline(tx: &Transaction<'_>) -> Result<(), Error> {
    for table in PROJECTION {
        tx.execute(&format!("INSERT INTO {table} SELECT * FROM base_{table}"), [])?;
    }
    Ok(())
}

/// A reset begins: forgets the baseline and, when there was one, asks the next pulls for this
/// phone's own events too.
pub(super) fn drop_baseline(tx: &Transaction<'_>) -> Result<(), Error> {
    if get_meta(tx, META_PURGED_THROUGH)?.is_none() {
        return Ok(());
    }
    for table in PROJECTION.iter().rev() {
        tx.execute(&format!("DELETE FROM base_{table}"), [])?;
    }
    tx.execute("DELETE FROM sync_meta WHERE key = ?1", [META_PURGED_THROUGH])?;
    set_meta(tx, META_PULL_OWN, "1")
}

/// Own events up to `seq` leave the log while the server keeps them: the next sequence number
/// of `device` stays above it.
pub(super) fn raise_seq_floor(tx: &Transaction<'_>, device: uuid::Uuid, seq: u64) -> Result<(), Error> {
    if seq > seq_floor(tx, device)? {
        set_meta(tx, &format!("{META_SEQ_FLOOR}:{device}"), &seq.to_string())?;
    }
    Ok(())
}

/// The next sequence number of `device` may not be at or below this (0 when none was purged).
pub(super) fn seq_floor(tx: &Transaction<'_>, device: uuid::Uuid) -> Result<u64, Error> {
    Ok(get_meta(tx, &format!("{META_SEQ_FLOOR}:{device}"))?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

impl DeviceStore {
    /// Removes the events acknowledged before `before` (by when the phone learned the server
    /// has them, not by when they were recorded; a prefix of the server's order, up to the pull
    /// cursor), folding what they made into the baseline. What the phone shows does not change.
    /// Returns how many events left. Nothing happens in the sandbox or while a reset is under way.
    pub fn purge_acknowledged(&mut self, before: DateTime<Utc>) -> Result<u64, Error> {
        if self.is_sandbox()? {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        if get_meta(&tx, META_REPLAY_AFTER_PULL)?.is_some() {
            return Ok(0);
        }
        let number = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let done = number(get_meta(&tx, META_PURGED_THROUGH)?);
        let cursor = number(get_meta(&tx, META_PULL_CURSOR)?);
        let mut through = done;
        {
            let mut stmt = tx.prepare(
                "SELECT server_seq, sync_state, acknowledged_at FROM events
                 WHERE server_seq > ?1 AND server_seq <= ?2 AND sync_state != 'rejected'
                 ORDER BY server_seq",
            )?;
            let mut rows = stmt.query(params![done, cursor])?;
            while let Some(row) = rows.next()? {
                let (server_seq, state, time): (u64, String, Option<String>) = (row.get(0)?, row.get(1)?, row.get(2)?);
                // an acknowledgement of unknown time is never old: nothing leaves before its due
                let old = time
                    .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                    .is_some_and(|t| t.with_timezone(&Utc) < before);
                if state != "acknowledged" || !old {
                    break;
                }
                through = server_seq;
            }
        }
        if through == done {
            return Ok(0);
        }
        // the baseline, moved forward over the events that leave, in TEMP tables that shadow the
        // projection's names while they exist: the reducer reads and writes them, and the live
        // projection (what the phone shows, and its search index) is not touched at all
        for table in PROJECTION {
            tx.execute_batch(&format!(
                "CREATE TEMP TABLE {table} AS SELECT * FROM main.base_{table};
                 CREATE UNIQUE INDEX temp.{table}_by_id ON {table}({key});",
                key = key_of(table)
            ))?;
        }
        let events = super::events_with_clock(
            &tx,
            "SELECT payload, id, device_id, seq, author, device_time, flags FROM events
             WHERE server_seq > ?1 AND server_seq <= ?2 AND sync_state = 'acknowledged' ORDER BY server_seq",
            params![done, through],
        )?;
        for (event, clock) in &events {
            match reduce(&SqlView::new(&tx), event) {
                Ok(changes) => projection::apply_changes(&tx, &crate::reducer::with_clock(changes, *clock))?,
                Err(ReduceError::Rejected(_)) => {}
                Err(ReduceError::Store(e)) => return Err(e),
            }
        }
        for table in PROJECTION.iter().rev() {
            tx.execute(&format!("DELETE FROM main.base_{table}"), [])?;
        }
        for table in PROJECTION {
            tx.execute_batch(&format!(
                "INSERT INTO main.base_{table} SELECT * FROM temp.{table}; DROP TABLE temp.{table};"
            ))?;
        }
        let own: Option<(String, Option<u64>)> = tx
            .query_row(
                "SELECT n.device_id, (SELECT max(e.seq) FROM events e
                                      WHERE e.device_id = n.device_id AND e.server_seq > ?1 AND e.server_seq <= ?2
                                        AND e.sync_state = 'acknowledged')
                 FROM enrollment n",
                params![done, through],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((device, Some(max))) = own
            && let Ok(device) = device.parse::<uuid::Uuid>()
            && max > seq_floor(&tx, device)?
        {
            set_meta(&tx, &format!("{META_SEQ_FLOOR}:{device}"), &max.to_string())?;
        }
        let purged = tx.execute(
            "DELETE FROM events WHERE server_seq > ?1 AND server_seq <= ?2 AND sync_state = 'acknowledged'",
            params![done, through],
        )?;
        set_meta(&tx, META_PURGED_THROUGH, &through.to_string())?;
        tx.commit()?;
        Ok(purged as u64)
    }

    /// Whether the next pulls should bring this phone's own events too (a reset after a purge).
    pub fn pulls_own_events(&self) -> Result<bool, Error> {
        Ok(get_meta(&self.conn, META_PULL_OWN)?.is_some())
    }

    /// How many events the phone holds (for retention reports and tests).
    pub fn event_count(&self) -> Result<u64, Error> {
        Ok(self.conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)
    }
}
