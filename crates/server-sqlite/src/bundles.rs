//! The bundle sealing keys and the import audit.

use gocua_server_store::{BundleImportEnd, BundleImportRow, BundleImportStart, Bundles, ServerKeyRow, StoreResult};
use rusqlite::{OptionalExtension, params};

use crate::users::{time, uuid};
use crate::{SqliteTx, db_error};

impl Bundles for SqliteTx<'_> {
    fn server_key(&mut self, fingerprint: Option<&str>) -> StoreResult<Option<Vec<u8>>> {
        self.tx
            .query_row(
                "SELECT secret_key FROM server_keys WHERE CASE WHEN ?1 IS NULL THEN id = 1 ELSE fingerprint = ?1 END",
                [fingerprint],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_error)
    }

    fn insert_server_key_if_absent(&mut self, key: &ServerKeyRow) -> StoreResult<()> {
        // OR IGNORE: another process (the server and an admin command) may have made it meanwhile
        self.tx
            .execute(
                "INSERT OR IGNORE INTO server_keys (id, fingerprint, public_key, secret_key, created_at)
                 VALUES (1, ?1, ?2, ?3, ?4)",
                params![key.fingerprint, key.public_key, key.secret_key, key.created_at.to_rfc3339()],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn start_bundle_import(&mut self, row: &BundleImportStart) -> StoreResult<i64> {
        self.tx
            .execute(
                "INSERT INTO bundle_imports (sha256, device_id, events, imported_by, started_at, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'started')",
                params![
                    row.sha256,
                    row.device_id.map(|d| d.to_string()),
                    row.events,
                    row.imported_by,
                    row.started_at.to_rfc3339()
                ],
            )
            .map_err(db_error)?;
        Ok(self.tx.last_insert_rowid())
    }

    fn finish_bundle_import(&mut self, id: i64, row: &BundleImportEnd) -> StoreResult<()> {
        self.tx
            .execute(
                "UPDATE bundle_imports SET applied = ?2, flagged = ?3, duplicates = ?4, rejected = ?5, first_seq = ?6,
                     last_seq = ?7, finished_at = ?8, outcome = ?9, reason = ?10
                 WHERE id = ?1",
                params![
                    id,
                    row.applied,
                    row.flagged,
                    row.duplicates,
                    row.rejected,
                    row.seqs.map(|(first, _)| first),
                    row.seqs.map(|(_, last)| last),
                    row.finished_at.to_rfc3339(),
                    row.outcome,
                    row.reason
                ],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn bundle_imports(&mut self) -> StoreResult<Vec<BundleImportRow>> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT id, sha256, device_id, events, imported_by, started_at, outcome, reason,
                        applied, flagged, duplicates, rejected
                 FROM bundle_imports ORDER BY id",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<u64>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    (r.get::<_, u64>(8)?, r.get::<_, u64>(9)?, r.get::<_, u64>(10)?, r.get::<_, u64>(11)?),
                ))
            })
            .map_err(db_error)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sha256, device_id, events, imported_by, started_at, outcome, reason, counts) =
                row.map_err(db_error)?;
            out.push(BundleImportRow {
                id,
                start: BundleImportStart {
                    sha256,
                    device_id: device_id.as_deref().map(uuid).transpose()?,
                    events,
                    imported_by,
                    started_at: time(&started_at)?,
                },
                outcome,
                reason,
                counts,
            });
        }
        Ok(out)
    }
}
