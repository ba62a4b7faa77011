//! Dashboard accounts and sessions, the rules (no HTTP): a password set by an admin command for
//! a police user (Argon2id, never a default), sign-in with a lockout after repeated failures that
//! holds in the database (across restarts and servers), and sessions that end when idle and at
//! an absolute limit, kept only by the hash of their token.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use gocua_core::sync::protocol::Role;
use gocua_server_store::{Store, StoreError, UserRow, WebAccountRow, WebSessionRow, run_read, run_write};
use uuid::Uuid;

use crate::audit;
use crate::auth::{hash_secret, new_token};
use crate::domain::Error;

/// A session unused this long ends.
pub const IDLE: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, used or not.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// A session's last use is written at most this often (each write is a serialized transaction).
pub const TOUCH_EVERY: Duration = Duration::seconds(60);
/// Failed sign-ins before the account waits; each further one doubles the wait.
pub const LOCK_AFTER: u32 = 5;
/// The longest wait.
pub const LONGEST_WAIT: Duration = Duration::hours(1);
/// The shortest password an admin may set.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The hash of a random password nobody has, checked when the login is unknown, so an unknown
/// login takes as long as a wrong password (timing does not tell which logins exist).
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(new_token().as_bytes(), &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Who may use the dashboard: the police (commune, province), within their places.
pub fn may_use(role: Role) -> bool {
    matches!(role, Role::CommunePolice | Role::ProvincePolice)
}

/// A login as typed, in the one spelling it is kept in.
pub fn normal_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// Sets (or replaces) the dashboard password of police user `user` with login `login`; their
/// open sessions end. The password is never stored, only its Argon2id hash.
pub fn set_password(store: &dyn Store, user: Uuid, login: &str, password: &str) -> Result<(), Error> {
    let login = normal_login(login);
    if login.is_empty() || login.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            "tên đăng nhập không được trống hay có dấu cách / the login may not be empty or hold spaces",
        ));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(format!(
            "mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự / the password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .map_err(|e| Error::invalid(format!("không băm được mật khẩu / cannot hash the password: {e}")))?
        .to_string();
    run_write(store, |tx| {
        let found =
            tx.user(user)?.ok_or_else(|| Error::NotFound(format!("không có người dùng {user} / no user {user}")))?;
        if !may_use(found.role) {
            return Err(Error::Forbidden(
                "chỉ công an xã, công an tỉnh dùng bảng điều khiển / only the police use the dashboard".into(),
            ));
        }
        if let Some(other) = tx.web_account_by_login(&login)?.filter(|a| a.user_id != user) {
            return Err(Error::invalid(format!(
                "tên đăng nhập {login} đã có người dùng / the login {login} is taken (user {})",
                other.user_id
            )));
        }
        let now = Utc::now();
        tx.put_web_account(&WebAccountRow {
            user_id: user,
            login: login.clone(),
            password_hash: hash.clone(),
            failed_sign_ins: 0,
            locked_until: None,
            changed_at: now,
        })?;
        tx.delete_web_sessions_of(user)?;
        audit::append(
            tx,
            &audit::Entry::at_command_line("set_dashboard_password", serde_json::json!({ "user": user })),
        )?;
        Ok(())
    })
}

/// Why a sign-in was refused.
#[derive(Debug)]
pub enum Refused {
    /// Unknown login or wrong password (one answer for both).
    Wrong,
    /// Too many failures: wait this many seconds.
    Locked(u64),
    /// The user may not use the dashboard.
    Forbidden,
    /// The store failed.
    Store(Error),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(Error::Store(e))
    }
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Refused::Store(e)
    }
}

/// A new session: its token (for the cookie only), its row, its user.
#[derive(Debug)]
pub struct SignedIn {
    /// The cookie's value.
    pub token: String,
    /// The session.
    pub session: WebSessionRow,
    /// Who.
    pub user: UserRow,
}

/// Signs `login` in with `password` at `now` (slow on purpose: run it on a blocking thread).
pub fn sign_in(store: &dyn Store, login: &str, password: &str, now: DateTime<Utc>) -> Result<SignedIn, Refused> {
    let login = normal_login(login);
    let account = run_read(store, |tx| tx.web_account_by_login(&login))?;
    let Some(account) = account else {
        let _ = verify(&DUMMY_HASH, password);
        return Err(Refused::Wrong);
    };
    if let Some(until) = account.locked_until.filter(|u| *u > now) {
        return Err(Refused::Locked((until - now).num_seconds().max(1) as u64));
    }
    if !verify(&account.password_hash, password) {
        let failed = account.failed_sign_ins + 1;
        let locked_until = (failed >= LOCK_AFTER).then(|| {
            let doublings = (failed - LOCK_AFTER).min(12);
            now + Duration::minutes(1_i64 << doublings).min(LONGEST_WAIT)
        });
        run_write(store, |tx| {
            tx.set_sign_in_failures(account.user_id, failed, locked_until)?;
            let detail = serde_json::json!({ "user": account.user_id, "failed": failed });
            audit::append(
                tx,
                &audit::Entry {
                    actor_user: Some(account.user_id),
                    actor_device: None,
                    action: "dashboard_sign_in_failed",
                    detail,
                },
            )
        })?;
        return Err(Refused::Wrong);
    }
    let token = new_token();
    let session = WebSessionRow {
        token_hash: hash_secret(&token),
        user_id: account.user_id,
        csrf: new_token(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + IDLE,
    };
    let user = run_write(store, |tx| {
        let user = tx.user(account.user_id)?.ok_or(Refused::Wrong)?;
        if !may_use(user.role) {
            return Err(Refused::Forbidden);
        }
        tx.set_sign_in_failures(account.user_id, 0, None)?;
        tx.insert_web_session(&session)?;
        let detail = serde_json::json!({ "user": user.id });
        audit::append(
            tx,
            &audit::Entry { actor_user: Some(user.id), actor_device: None, action: "dashboard_sign_in", detail },
        )?;
        Ok(user)
    })?;
    Ok(SignedIn { token, session, user })
}

fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// The live session of cookie token `token` at `now` and its user (`None`: unknown, ended, or
/// the user may no longer use the dashboard); its last use is written at most once a minute.
pub fn session(store: &dyn Store, token: &str, now: DateTime<Utc>) -> Result<Option<(WebSessionRow, UserRow)>, Error> {
    let hash = hash_secret(token);
    let found = run_read(store, |tx| {
        let Some(session) = tx.web_session(&hash)? else { return Ok::<_, Error>(None) };
        let user = tx.user(session.user_id)?;
        Ok(user.map(|u| (session, u)))
    })?;
    let Some((mut session, user)) = found else { return Ok(None) };
    let ended = session.expires_at <= now || session.created_at + ABSOLUTE <= now || !may_use(user.role);
    if ended {
        run_write(store, |tx| tx.delete_web_session(&hash))?;
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY {
        session.last_seen_at = now;
        session.expires_at = (now + IDLE).min(session.created_at + ABSOLUTE);
        run_write(store, |tx| tx.touch_web_session(&hash, session.last_seen_at, session.expires_at))?;
    }
    Ok(Some((session, user)))
}

/// Ends the session of cookie token `token`.
pub fn sign_out(store: &dyn Store, token: &str) -> Result<(), Error> {
    let hash = hash_secret(token);
    Ok(run_write(store, |tx| tx.delete_web_session(&hash))?)
}
