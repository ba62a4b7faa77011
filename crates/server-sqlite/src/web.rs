//! The dashboard's accounts and sessions (`web_accounts`, `web_sessions`, migration 0011).

use chrono::{DateTime, Utc};
use gocua_server_store::{StoreResult, WebAccountRow, WebAccounts, WebSessionRow};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::users::{opt_time, time, uuid};
use crate::{SqliteTx, db_error};

impl WebAccounts for SqliteTx<'_> {
    fn web_account_by_login(&mut self, login: &str) -> StoreResult<Option<WebAccountRow>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT user_id, login, password_hash, failed_sign_ins, locked_until, changed_at
                 FROM web_accounts WHERE login = ?1",
            )
            .map_err(db_error)?
            .query_row([login], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .optional()
            .map_err(db_error)?;
        let Some((user_id, login, password_hash, failed_sign_ins, locked_until, changed_at)) = row else {
            return Ok(None);
        };
        Ok(Some(WebAccountRow {
            user_id: uuid(&user_id)?,
            login,
            password_hash,
            failed_sign_ins,
            locked_until: opt_time(locked_until)?,
            changed_at: time(&changed_at)?,
        }))
    }

    fn put_web_account(&mut self, account: &WebAccountRow) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO web_accounts (user_id, login, password_hash, failed_sign_ins, locked_until, changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (user_id) DO UPDATE SET login = excluded.login, password_hash = excluded.password_hash,
                   failed_sign_ins = excluded.failed_sign_ins, locked_until = excluded.locked_until,
                   changed_at = excluded.changed_at",
            )
            .map_err(db_error)?
            .execute(params![
                account.user_id.to_string(),
                account.login,
                account.password_hash,
                account.failed_sign_ins,
                account.locked_until.map(|t| t.to_rfc3339()),
                account.changed_at.to_rfc3339(),
            ])
            .map_err(db_error)?;
        Ok(())
    }

    fn set_sign_in_failures(
        &mut self,
        user: Uuid,
        failed: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE web_accounts SET failed_sign_ins = ?2, locked_until = ?3 WHERE user_id = ?1")
            .map_err(db_error)?
            .execute(params![user.to_string(), failed, locked_until.map(|t| t.to_rfc3339())])
            .map_err(db_error)?;
        Ok(())
    }

    fn insert_web_session(&mut self, s: &WebSessionRow) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db_error)?
            .execute(params![
                s.token_hash,
                s.user_id.to_string(),
                s.csrf,
                s.created_at.to_rfc3339(),
                s.last_seen_at.to_rfc3339(),
                s.expires_at.to_rfc3339(),
            ])
            .map_err(db_error)?;
        Ok(())
    }

    fn web_session(&mut self, token_hash: &str) -> StoreResult<Option<WebSessionRow>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT token_hash, user_id, csrf, created_at, last_seen_at, expires_at FROM web_sessions
                 WHERE token_hash = ?1",
            )
            .map_err(db_error)?
            .query_row([token_hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .optional()
            .map_err(db_error)?;
        let Some((token_hash, user_id, csrf, created_at, last_seen_at, expires_at)) = row else { return Ok(None) };
        Ok(Some(WebSessionRow {
            token_hash,
            user_id: uuid(&user_id)?,
            csrf,
            created_at: time(&created_at)?,
            last_seen_at: time(&last_seen_at)?,
            expires_at: time(&expires_at)?,
        }))
    }

    fn touch_web_session(&mut self, token_hash: &str, seen: DateTime<Utc>, expires: DateTime<Utc>) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE web_sessions SET last_seen_at = ?2, expires_at = ?3 WHERE token_hash = ?1")
            .map_err(db_error)?
            .execute(params![token_hash, seen.to_rfc3339(), expires.to_rfc3339()])
            .map_err(db_error)?;
        Ok(())
    }

    fn delete_web_session(&mut self, token_hash: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached("DELETE FROM web_sessions WHERE token_hash = ?1")
            .map_err(db_error)?
            .execute([token_hash])
            .map_err(db_error)?;
        Ok(())
    }

    fn delete_web_sessions_of(&mut self, user: Uuid) -> StoreResult<()> {
        self.tx
            .prepare_cached("DELETE FROM web_sessions WHERE user_id = ?1")
            .map_err(db_error)?
            .execute([user.to_string()])
            .map_err(db_error)?;
        Ok(())
    }
}
