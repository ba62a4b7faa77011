//! Users, their scopes (a set of places) and former places, and one-time codes.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::{Role, UserInfo};
use gocua_server_store::{CodeRow, StoreError, StoreResult, UserRow, Users};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::{SqliteTx, db_error};

pub(crate) fn time(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).map_err(|_| StoreError::Corrupt(format!("time {text}")))
}

pub(crate) fn opt_time(text: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    text.as_deref().map(time).transpose()
}

pub(crate) fn uuid(text: &str) -> StoreResult<Uuid> {
    Uuid::from_str(text).map_err(|_| StoreError::Corrupt(format!("uuid {text}")))
}

fn role(code: &str) -> StoreResult<Role> {
    Role::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("role {code}")))
}

impl SqliteTx<'_> {
    fn scope_of(&self, user: &str) -> StoreResult<Scope> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT place_code FROM user_scopes WHERE user_id = ?1 ORDER BY place_code")
            .map_err(db_error)?;
        let codes: Vec<String> =
            stmt.query_map([user], |r| r.get(0)).map_err(db_error)?.collect::<Result<_, _>>().map_err(db_error)?;
        Scope::new(codes).map_err(|_| StoreError::Corrupt(format!("user {user} has no scope")))
    }

    fn user_where(&self, clause: &str, params: &[&dyn rusqlite::ToSql]) -> StoreResult<Option<UserRow>> {
        let row: Option<(String, String, String, String)> = self
            .tx
            .prepare_cached(&format!("SELECT id, name, role, created_at FROM users WHERE {clause}"))
            .map_err(db_error)?
            .query_row(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()
            .map_err(db_error)?;
        let Some((id, name, role_code, created_at)) = row else { return Ok(None) };
        Ok(Some(UserRow {
            id: uuid(&id)?,
            name,
            role: role(&role_code)?,
            scope: self.scope_of(&id)?,
            created_at: time(&created_at)?,
        }))
    }

    fn write_scope(&self, id: &str, scope: &Scope) -> StoreResult<()> {
        self.tx.execute("DELETE FROM user_scopes WHERE user_id = ?1", [id]).map_err(db_error)?;
        let mut stmt = self
            .tx
            .prepare_cached("INSERT INTO user_scopes (user_id, place_code) VALUES (?1, ?2)")
            .map_err(db_error)?;
        for code in scope.codes() {
            stmt.execute(params![id, code]).map_err(db_error)?;
        }
        // the legacy column (see migrations/server/sqlite/0007_user_scopes.sql)
        self.tx
            .execute("UPDATE users SET scope_code = ?2 WHERE id = ?1", params![id, self.legacy_scope_code(scope)?])
            .map_err(db_error)?;
        Ok(())
    }

    /// What the legacy `users.scope_code` (a foreign key to `places`) holds: the scope's first
    /// place of the catalog, or the hamlet of its first household given on its own.
    fn legacy_scope_code(&self, scope: &Scope) -> StoreResult<String> {
        if let Some(code) = scope.codes().iter().find(|c| gocua_core::places::household_of(c).is_none()) {
            return Ok(code.clone());
        }
        self.tx
            .query_row("SELECT hamlet_code FROM households WHERE id = ?1", [scope.first()], |r| r.get(0))
            .map_err(db_error)
    }
}

impl Users for SqliteTx<'_> {
    fn insert_user(&mut self, user: &UserRow) -> StoreResult<()> {
        let id = user.id.to_string();
        self.tx
            .execute(
                "INSERT INTO users (id, name, role, scope_code, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id,
                    user.name,
                    user.role.code(),
                    self.legacy_scope_code(&user.scope)?,
                    user.created_at.to_rfc3339()
                ],
            )
            .map_err(db_error)?;
        self.write_scope(&id, &user.scope)
    }

    fn user(&mut self, id: Uuid) -> StoreResult<Option<UserRow>> {
        self.user_where("id = ?1", &[&id.to_string()])
    }

    fn user_named(&mut self, name: &str, scope: &Scope) -> StoreResult<Option<UserRow>> {
        let mut stmt =
            self.tx.prepare_cached("SELECT id FROM users WHERE name = ?1 ORDER BY created_at, id").map_err(db_error)?;
        let ids: Vec<String> =
            stmt.query_map([name], |r| r.get(0)).map_err(db_error)?.collect::<Result<_, _>>().map_err(db_error)?;
        for id in ids {
            if &self.scope_of(&id)? == scope {
                return self.user_where("id = ?1", &[&id]);
            }
        }
        Ok(None)
    }

    fn user_infos(&mut self, ids: &[Uuid]) -> StoreResult<Vec<UserInfo>> {
        let mut stmt = self.tx.prepare_cached("SELECT name, role FROM users WHERE id = ?1").map_err(db_error)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<(String, String)> =
                stmt.query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(db_error)?;
            if let Some((name, role_code)) = row {
                out.push(UserInfo { id: *id, name, role: role(&role_code)? });
            }
        }
        Ok(out)
    }

    fn users_in(&mut self, codes: &[String]) -> StoreResult<Vec<UserRow>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT user_id FROM user_scopes WHERE place_code = ?1
                 UNION SELECT s.user_id FROM user_scopes s JOIN households h ON h.id = s.place_code
                 WHERE h.hamlet_code = ?1",
            )
            .map_err(db_error)?;
        let mut ids = std::collections::BTreeSet::new();
        for code in codes {
            let found = stmt.query_map([code], |r| r.get::<_, String>(0)).map_err(db_error)?;
            for id in found {
                ids.insert(id.map_err(db_error)?);
            }
        }
        drop(stmt);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.user_where("id = ?1", &[&id])?);
        }
        Ok(out)
    }

    fn users_of_role_in(&mut self, role: Role, codes: &[String]) -> StoreResult<Vec<UserRow>> {
        let codes = serde_json::to_string(codes)?;
        let ids: Vec<String> = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT u.id FROM users u JOIN user_scopes s ON s.user_id = u.id
                 WHERE u.role = ?1 AND s.place_code IN (SELECT value FROM json_each(?2)) ORDER BY u.id",
            )
            .map_err(db_error)?
            .query_map(params![role.code(), codes], |r| r.get(0))
            .map_err(db_error)?
            .collect::<Result<_, _>>()
            .map_err(db_error)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.user_where("id = ?1", &[&id])?);
        }
        Ok(out)
    }

    fn set_user_scope(&mut self, id: Uuid, scope: &Scope) -> StoreResult<()> {
        self.write_scope(&id.to_string(), scope)
    }

    fn set_user_role(&mut self, id: Uuid, role: Role) -> StoreResult<()> {
        self.tx
            .execute("UPDATE users SET role = ?2 WHERE id = ?1", params![id.to_string(), role.code()])
            .map_err(db_error)?;
        Ok(())
    }

    fn add_former_places(&mut self, id: Uuid, codes: &[String], until: DateTime<Utc>) -> StoreResult<()> {
        let mut stmt = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO former_scopes (user_id, scope_code, until) VALUES (?1, ?2, ?3)")
            .map_err(db_error)?;
        for code in codes {
            stmt.execute(params![id.to_string(), code, until.to_rfc3339()]).map_err(db_error)?;
        }
        Ok(())
    }

    fn former_places(&mut self, id: Uuid) -> StoreResult<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT scope_code FROM former_scopes WHERE user_id = ?1 ORDER BY scope_code")
            .map_err(db_error)?;
        let rows = stmt.query_map([id.to_string()], |r| r.get(0)).map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }

    fn insert_code(&mut self, code: &CodeRow) -> StoreResult<()> {
        self.tx
            .execute(
                "INSERT INTO enrollment_codes (code_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    code.code_hash,
                    code.user_id.to_string(),
                    code.created_at.to_rfc3339(),
                    code.expires_at.to_rfc3339()
                ],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn code(&mut self, code_hash: &str) -> StoreResult<Option<CodeRow>> {
        let row: Option<(String, String, String, Option<String>)> = self
            .tx
            .prepare_cached(
                "SELECT user_id, created_at, expires_at, used_at FROM enrollment_codes WHERE code_hash = ?1",
            )
            .map_err(db_error)?
            .query_row([code_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()
            .map_err(db_error)?;
        let Some((user_id, created_at, expires_at, used_at)) = row else { return Ok(None) };
        Ok(Some(CodeRow {
            code_hash: code_hash.to_owned(),
            user_id: uuid(&user_id)?,
            created_at: time(&created_at)?,
            expires_at: time(&expires_at)?,
            used_at: opt_time(used_at)?,
        }))
    }

    fn use_code(&mut self, code_hash: &str, at: DateTime<Utc>, device: Uuid) -> StoreResult<bool> {
        let n = self
            .tx
            .execute(
                "UPDATE enrollment_codes SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1 AND used_at IS NULL",
                params![code_hash, at.to_rfc3339(), device.to_string()],
            )
            .map_err(db_error)?;
        Ok(n == 1)
    }
}
