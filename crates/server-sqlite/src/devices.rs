//! Enrolled devices.

use chrono::{DateTime, Utc};
use gocua_server_store::{Auth, DeviceHolder, DeviceKey, DeviceRow, Devices, ProbeRow, StoreError, StoreResult, Users};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::users::{opt_time, time, uuid};
use crate::{SqliteTx, db_error};

const COLUMNS: &str =
    "id, user_id, name, token_hash, enrolled_at, last_seen_at, last_seq, app_version, revoked_at, signing_key";

type Raw =
    (String, String, String, String, String, Option<String>, u64, Option<String>, Option<String>, Option<String>);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn row(raw: Raw) -> StoreResult<DeviceRow> {
    let (id, user_id, name, token_hash, enrolled_at, last_seen_at, last_seq, app_version, revoked_at, signing_key) =
        raw;
    Ok(DeviceRow {
        id: uuid(&id)?,
        user_id: uuid(&user_id)?,
        name,
        token_hash,
        enrolled_at: time(&enrolled_at)?,
        last_seen_at: opt_time(last_seen_at)?,
        last_seq,
        app_version,
        revoked_at: opt_time(revoked_at)?,
        signing_key,
    })
}

impl Auth for SqliteTx<'_> {
    fn device_holder(&mut self, key: DeviceKey<'_>) -> StoreResult<Option<DeviceHolder>> {
        // in-process: three statements cost no more than one
        let Some(device) = self.device(key)? else { return Ok(None) };
        let user = self
            .user(device.user_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("the user of device {} is missing", device.id)))?;
        let former_places = self.former_places(user.id)?;
        Ok(Some(DeviceHolder { device, user, former_places }))
    }
}

impl Devices for SqliteTx<'_> {
    fn insert_device(&mut self, d: &DeviceRow) -> StoreResult<()> {
        self.tx
            .execute(
                &format!("INSERT INTO devices ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    d.id.to_string(),
                    d.user_id.to_string(),
                    d.name,
                    d.token_hash,
                    d.enrolled_at.to_rfc3339(),
                    d.last_seen_at.map(|t| t.to_rfc3339()),
                    d.last_seq,
                    d.app_version,
                    d.revoked_at.map(|t| t.to_rfc3339()),
                    d.signing_key,
                ],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn device(&mut self, key: DeviceKey<'_>) -> StoreResult<Option<DeviceRow>> {
        let (column, value) = match key {
            DeviceKey::TokenHash(hash) => ("token_hash", hash.to_owned()),
            DeviceKey::Id(id) => ("id", id.to_string()),
        };
        let found = self
            .tx
            .prepare_cached(&format!("SELECT {COLUMNS} FROM devices WHERE {column} = ?1"))
            .map_err(db_error)?
            .query_row([value], raw)
            .optional()
            .map_err(db_error)?;
        found.map(row).transpose()
    }

    fn devices(&mut self, user: Option<Uuid>) -> StoreResult<Vec<DeviceRow>> {
        let mut stmt = self
            .tx
            .prepare(&format!(
                "SELECT {COLUMNS} FROM devices WHERE ?1 IS NULL OR user_id = ?1 ORDER BY enrolled_at DESC, id"
            ))
            .map_err(db_error)?;
        let rows = stmt.query_map([user.map(|u| u.to_string())], raw).map_err(db_error)?;
        rows.map(|r| r.map_err(db_error).and_then(row)).collect()
    }

    fn revoke_device(&mut self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        let n = self
            .tx
            .execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id.to_string(), at.to_rfc3339()],
            )
            .map_err(db_error)?;
        Ok(n == 1)
    }

    fn record_push(&mut self, id: Uuid, last_seq: u64, seen_at: DateTime<Utc>, app_version: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE devices SET last_seq = ?2, last_seen_at = ?3, app_version = ?4 WHERE id = ?1")
            .map_err(db_error)?
            .execute(params![id.to_string(), last_seq, seen_at.to_rfc3339(), app_version])
            .map_err(db_error)?;
        Ok(())
    }

    fn record_unsent(&mut self, id: Uuid, unsent: u64) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE devices SET unsent = ?2 WHERE id = ?1")
            .map_err(db_error)?
            .execute(params![id.to_string(), unsent])
            .map_err(db_error)?;
        Ok(())
    }

    fn unsent_counts(&mut self, ids: &[Uuid]) -> StoreResult<Vec<(Uuid, u64)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT unsent FROM devices WHERE id = ?1 AND unsent IS NOT NULL")
            .map_err(db_error)?;
        let mut out = Vec::new();
        for id in ids {
            let found: Option<u64> = stmt.query_row([id.to_string()], |r| r.get(0)).optional().map_err(db_error)?;
            out.extend(found.map(|n| (*id, n)));
        }
        Ok(out)
    }

    fn set_probe_hash(&mut self, id: Uuid, probe_hash: &str) -> StoreResult<()> {
        self.tx
            .execute("UPDATE devices SET probe_hash = ?2 WHERE id = ?1", params![id.to_string(), probe_hash])
            .map_err(db_error)?;
        Ok(())
    }

    fn probe_status(&mut self, id: Uuid) -> StoreResult<Option<ProbeRow>> {
        let found = self
            .tx
            .prepare_cached("SELECT probe_hash, revoked_at FROM devices WHERE id = ?1")
            .map_err(db_error)?
            .query_row([id.to_string()], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?)))
            .optional()
            .map_err(db_error)?;
        found.map(|(probe_hash, revoked_at)| Ok(ProbeRow { probe_hash, revoked_at: opt_time(revoked_at)? })).transpose()
    }
}
