//! The audit log's rows (append-only: the schema's triggers refuse edits) and the database's
//! own facts.

use gocua_server_store::{Audit, AuditRow, Meta, StoreError, StoreResult};
use rusqlite::{OptionalExtension, params};

use crate::{SqliteTx, db_error};

impl Audit for SqliteTx<'_> {
    fn audit_head(&mut self) -> StoreResult<Option<(i64, String)>> {
        self.tx
            .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_error)
    }

    fn insert_audit(&mut self, row: &AuditRow) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO audit_log (seq, at, actor_user, actor_device, action, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(db_error)?
            .execute(params![
                row.seq,
                row.at,
                row.actor_user,
                row.actor_device,
                row.action,
                row.detail,
                row.prev_hash,
                row.hash
            ])
            .map_err(db_error)?;
        Ok(())
    }

    fn audit_rows(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<AuditRow>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT seq, at, actor_user, actor_device, action, detail, prev_hash, hash FROM audit_log
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map(params![after_seq, limit], |r| {
                Ok(AuditRow {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor_user: r.get(2)?,
                    actor_device: r.get(3)?,
                    action: r.get(4)?,
                    detail: r.get(5)?,
                    prev_hash: r.get(6)?,
                    hash: r.get(7)?,
                })
            })
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }
}

impl Meta for SqliteTx<'_> {
    fn epoch(&mut self) -> StoreResult<String> {
        self.tx.query_row("SELECT value FROM server_meta WHERE key = 'epoch'", [], |r| r.get(0)).map_err(db_error)
    }

    fn set_epoch(&mut self, epoch: &str) -> StoreResult<()> {
        let changed =
            self.tx.execute("UPDATE server_meta SET value = ?1 WHERE key = 'epoch'", [epoch]).map_err(db_error)?;
        if changed != 1 {
            return Err(StoreError::Corrupt("the database has no epoch".into()));
        }
        Ok(())
    }
}
