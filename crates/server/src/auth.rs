//! Secrets and who is calling: enrollment codes, device tokens (stored only as hashes), and the
//! `AuthDevice` extractor that every sync handler takes.

use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gocua_core::sync::protocol::Role;
use rand::Rng;
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::AppState;
use crate::error::ApiError;

/// Letters and digits that cannot be confused when read aloud or off a screen.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A fresh one-time enrollment code, shown as `XXXX-XXXX` (40 bits).
pub fn new_enrollment_code() -> String {
    let mut rng = rand::rng();
    let chars: String = (0..8).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The canonical form of a typed code: upper case, without spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A fresh device token: 256 random bits, URL-safe base64.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a secret, hex: what the database keeps instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The device behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct AuthDevice {
    /// Device id.
    pub device_id: Uuid,
    /// Its user.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// The place the device may see and change.
    pub scope_code: String,
    /// The scope's `/…/code/` path.
    pub scope_path: String,
    /// Paths of places the user worked in before a reassignment (see `admin::set_scope`).
    pub former_paths: Vec<String>,
}

impl AuthDevice {
    /// Whether a record at `path` may be pushed: inside the scope, or inside a former one (it
    /// was recorded while the user worked there).
    pub fn may_push_at(&self, path: &str) -> bool {
        std::iter::once(&self.scope_path).chain(&self.former_paths).any(|scope| path.starts_with(scope.as_str()))
    }
}

/// A device row as the server knows it: who it acts for, and its state.
#[derive(Debug, Clone)]
pub struct DeviceRecord {
    /// Identity, role and scope.
    pub auth: AuthDevice,
    /// Revoked by the police: it may not sync or import.
    pub revoked: bool,
    /// Its bundle signing key (base64 ed25519), if it enrolled with one.
    pub signing_key: Option<String>,
}

/// Which column finds a device.
#[derive(Debug, Clone, Copy)]
pub enum DeviceKey<'a> {
    /// The SHA-256 of its bearer token.
    TokenHash(&'a str),
    /// Its id.
    Id(Uuid),
}

/// Loads a device with its user's role and scope; `None` if unknown.
pub fn load_device(conn: &Connection, key: DeviceKey<'_>) -> Result<Option<DeviceRecord>, ApiError> {
    let (column, value) = match key {
        DeviceKey::TokenHash(hash) => ("d.token_hash", hash.to_owned()),
        DeviceKey::Id(id) => ("d.id", id.to_string()),
    };
    let row = conn
        .prepare_cached(&format!(
            "SELECT d.id, d.user_id, u.role, u.scope_code, d.revoked_at IS NOT NULL, d.signing_key
             FROM devices d JOIN users u ON u.id = d.user_id WHERE {column} = ?1"
        ))?
        .query_row([value], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    let Some((device_id, user_id, role, scope_code, revoked, signing_key)) = row else {
        return Ok(None);
    };
    let scope_path = gocua_core::sql::catalog::place_path(conn, &scope_code)?
        .ok_or_else(|| ApiError::internal(format!("scope {scope_code} of a device is not a known place")))?;
    let auth = AuthDevice {
        device_id: Uuid::from_str(&device_id).map_err(ApiError::internal)?,
        former_paths: former_paths(conn, &user_id)?,
        user_id: Uuid::from_str(&user_id).map_err(ApiError::internal)?,
        role: Role::from_code(&role).ok_or_else(|| ApiError::internal(format!("unknown role {role}")))?,
        scope_code,
        scope_path,
    };
    Ok(Some(DeviceRecord { auth, revoked, signing_key }))
}

/// Looks a token up; `None` if unknown. A revoked device is an error of its own kind.
pub fn device_for_token(conn: &Connection, token: &str) -> Result<Option<AuthDevice>, ApiError> {
    match load_device(conn, DeviceKey::TokenHash(&hash_secret(token)))? {
        Some(record) if record.revoked => {
            Err(ApiError::unauthorized("revoked", "Thiết bị này đã bị thu hồi / This device has been revoked"))
        }
        record => Ok(record.map(|r| r.auth)),
    }
}

/// The paths of the places a user worked in before a reassignment.
pub fn former_paths(conn: &Connection, user_id: &str) -> Result<Vec<String>, ApiError> {
    let mut paths = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT scope_code FROM former_scopes WHERE user_id = ?1")?;
    for code in stmt.query_map([user_id], |r| r.get::<_, String>(0))? {
        if let Some(path) = gocua_core::sql::catalog::place_path(conn, &code?)? {
            paths.push(path);
        }
    }
    Ok(paths)
}

impl FromRequestParts<AppState> for AuthDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "unauthorized",
                    "Thiếu mã thiết bị (Authorization: Bearer …) / Missing device token",
                )
            })?
            .to_owned();
        state
            .db
            .call(move |conn| device_for_token(conn, &token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("unauthorized", "Mã thiết bị không hợp lệ / Unknown device token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_normalize() {
        let code = new_enrollment_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(normalize_code(&code).bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_eq!(normalize_code(" abcd-efgh "), "ABCDEFGH");
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), a);
    }
}
