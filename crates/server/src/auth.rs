//! Secrets and who is calling: enrollment codes, device tokens (stored only as hashes), and the
//! `AuthDevice` extractor that every sync handler takes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gocua_core::scope::{Scope, ScopePaths};
use gocua_core::sync::protocol::Role;
use gocua_server_store::{DeviceHolder, DeviceKey, Store, StoreError, Tx, place_path, run_read};
use rand::Rng;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::AppState;
use crate::domain::Error;
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
    /// The places the device may see and change, with their paths.
    pub scope: ScopePaths,
    /// Paths of places the user worked in before a reassignment (see `admin::set_scope`).
    pub former_paths: Vec<String>,
}

impl AuthDevice {
    /// Whether a record at `path` may be pushed: inside the scope, or inside a former one (it
    /// was recorded while the user worked there).
    pub fn may_push_at(&self, path: &str) -> bool {
        self.scope.contains_path(path) || self.former_paths.iter().any(|scope| path.starts_with(scope.as_str()))
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

/// The paths of a scope's places; a place that is no longer known is a stored-data fault.
pub fn scope_paths(tx: &mut dyn Tx, scope: &Scope) -> Result<ScopePaths, Error> {
    let mut paths = Vec::with_capacity(scope.codes().len());
    for code in scope.codes() {
        paths
            .push(place_path(tx, code)?.ok_or_else(|| {
                StoreError::Corrupt(format!("the scope place {code} of a user is not a known place"))
            })?);
    }
    Ok(ScopePaths::new(scope.clone(), paths)?)
}

/// Loads a device with its user's role and scope; `None` if unknown.
pub fn load_device(tx: &mut dyn Tx, key: DeviceKey<'_>) -> Result<Option<DeviceRecord>, Error> {
    let Some(DeviceHolder { device, user, former_places }) = tx.device_holder(key)? else { return Ok(None) };
    let mut former_paths = Vec::new();
    for code in former_places {
        former_paths.extend(place_path(tx, &code)?);
    }
    let auth = AuthDevice {
        device_id: device.id,
        user_id: user.id,
        role: user.role,
        scope: scope_paths(tx, &user.scope)?,
        former_paths,
    };
    Ok(Some(DeviceRecord { auth, revoked: device.revoked_at.is_some(), signing_key: device.signing_key }))
}

/// Looks a token up; `None` if unknown. A revoked device is an error of its own kind.
pub fn device_for_token(store: &dyn Store, token: &str) -> Result<Option<AuthDevice>, Error> {
    let hash = hash_secret(token);
    match run_read(store, |tx| load_device(tx, DeviceKey::TokenHash(&hash)))? {
        Some(record) if record.revoked => Err(Error::Unauthenticated {
            kind: "revoked",
            message: "Thiết bị này đã bị thu hồi / This device has been revoked".into(),
        }),
        record => Ok(record.map(|r| r.auth)),
    }
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
            .blocking(move |store| device_for_token(store, &token))
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
