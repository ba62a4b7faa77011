//! Residents erased on request, and the projection rows their values leave.

use gocua_core::text::fold;
use gocua_server_store::{ErasureRow, Erasures, StoreResult};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::users::{time, uuid};
use crate::{SqliteTx, db_error};

impl Erasures for SqliteTx<'_> {
    fn erased_among(&mut self, residents: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        let mut stmt = self.tx.prepare_cached("SELECT 1 FROM erasures WHERE resident_id = ?1").map_err(db_error)?;
        let mut out = Vec::new();
        for id in residents {
            if stmt.query_row([id.to_string()], |_| Ok(())).optional().map_err(db_error)?.is_some() {
                out.push(*id);
            }
        }
        Ok(out)
    }

    fn erasure(&mut self, resident: Uuid) -> StoreResult<Option<ErasureRow>> {
        let row: Option<(String, u64, String, String)> = self
            .tx
            .query_row(
                "SELECT place_path, at_seq, erased_at, erased_by FROM erasures WHERE resident_id = ?1",
                [resident.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(db_error)?;
        let Some((place_path, at_seq, erased_at, erased_by)) = row else { return Ok(None) };
        Ok(Some(ErasureRow { resident_id: resident, place_path, at_seq, erased_at: time(&erased_at)?, erased_by }))
    }

    fn put_erasure(&mut self, row: &ErasureRow) -> StoreResult<()> {
        self.tx
            .execute(
                "INSERT INTO erasures (resident_id, place_path, at_seq, erased_at, erased_by) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (resident_id) DO UPDATE SET at_seq = excluded.at_seq, erased_at = excluded.erased_at,
                                                        erased_by = excluded.erased_by",
                params![
                    row.resident_id.to_string(),
                    row.place_path,
                    row.at_seq,
                    row.erased_at.to_rfc3339(),
                    row.erased_by
                ],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn erased_since(&mut self, paths: &[String], since_seq: u64) -> StoreResult<Vec<Uuid>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT resident_id FROM erasures WHERE at_seq >= ?1 AND substr(place_path, 1, length(?2)) = ?2",
            )
            .map_err(db_error)?;
        let mut out = std::collections::BTreeSet::new();
        for path in paths {
            let rows = stmt.query_map(params![since_seq, path], |r| r.get::<_, String>(0)).map_err(db_error)?;
            for id in rows {
                out.insert(uuid(&id.map_err(db_error)?)?);
            }
        }
        Ok(out.into_iter().collect())
    }

    fn redact_projection(
        &mut self,
        resident: Uuid,
        household: Uuid,
        names: &[String],
        erased_name: &str,
    ) -> StoreResult<()> {
        let id = resident.to_string();
        self.tx
            .execute(
                "UPDATE residents SET full_name = ?2, cccd = NULL, phone = NULL, search_key = ?3 WHERE id = ?1",
                params![id, erased_name, fold(erased_name)],
            )
            .map_err(db_error)?;
        self.tx
            .execute(
                "UPDATE visits SET note = NULL, lat_e6 = NULL, lon_e6 = NULL, accuracy_m = NULL WHERE resident_id = ?1",
                [&id],
            )
            .map_err(db_error)?;
        let head: Option<(String, String)> = self
            .tx
            .query_row("SELECT head_name, address FROM households WHERE id = ?1", [household.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db_error)?;
        if let Some((head, address)) = head
            && names.contains(&head)
        {
            self.tx
                .execute(
                    "UPDATE households SET head_name = ?2, search_key = ?3 WHERE id = ?1",
                    params![household.to_string(), erased_name, fold(&format!("{erased_name} {address}"))],
                )
                .map_err(db_error)?;
        }
        Ok(())
    }
}
