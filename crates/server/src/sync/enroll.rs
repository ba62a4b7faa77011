//! Enrollment: a one-time code becomes a device bound to a user, a role and a scope.

use chrono::Utc;
use gocua_core::bundle::DevicePublicKey;
use gocua_core::places::Place;
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::{EnrollRequest, EnrollResponse, SCHEMA_VERSION, UserInfo};
use gocua_server_store::{DeviceRow, Store, StoreError, Tx, lineage, run_write};
use uuid::Uuid;

use crate::auth::{hash_secret, new_token, normalize_code};
use crate::domain::Error;

fn invalid_code() -> Error {
    Error::Unauthenticated {
        kind: "invalid_code",
        message: "Mã đăng ký không đúng, đã dùng hoặc đã hết hạn / The enrollment code is wrong, used or expired"
            .into(),
    }
}

/// Redeems a code: creates the device, marks the code used, returns the token once.
pub fn enroll(store: &dyn Store, request: &EnrollRequest) -> Result<EnrollResponse, Error> {
    if request.schema_version > SCHEMA_VERSION {
        return Err(Error::invalid(format!(
            "Ứng dụng mới hơn máy chủ (schema {}) / the app is newer than the server",
            request.schema_version
        )));
    }
    let device_name =
        gocua_core::validate::text_line("device_name", ("Tên thiết bị", "device name"), &request.device_name)
            .map_err(Error::field)?;
    let device_name = device_name.as_str();
    if device_name.is_empty() || device_name.chars().count() > 80 {
        return Err(Error::invalid(
            "Tên thiết bị phải có từ 1 đến 80 ký tự / The device name must be 1 to 80 characters",
        ));
    }
    let signing_key = request
        .signing_key
        .as_deref()
        .map(|key| DevicePublicKey::parse(key).map(|k| k.to_base64()))
        .transpose()
        .map_err(|e| Error::invalid(e.to_string()))?;
    let code_hash = hash_secret(&normalize_code(&request.code));
    run_write(store, |tx| {
        let code = tx.code(&code_hash)?.ok_or_else(invalid_code)?;
        let now = Utc::now();
        if code.used_at.is_some() || code.expires_at < now {
            return Err(invalid_code());
        }
        let user = tx
            .user(code.user_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("the user of a code ({}) is missing", code.user_id)))?;
        let device_id = Uuid::now_v7();
        let token = new_token();
        tx.insert_device(&DeviceRow {
            id: device_id,
            user_id: user.id,
            name: device_name.to_owned(),
            token_hash: hash_secret(&token),
            enrolled_at: now,
            last_seen_at: None,
            last_seq: 0,
            app_version: Some(request.app_version.clone()),
            revoked_at: None,
            signing_key: signing_key.clone(),
        })?;
        // a second secret, kept by the app outside its encrypted database: a locked phone asks
        // with it whether it was revoked (`sync::status`)
        let revocation_probe = new_token();
        tx.set_probe_hash(device_id, &hash_secret(&revocation_probe))?;
        if !tx.use_code(&code_hash, now, device_id)? {
            // another server redeemed it in the meantime (write transactions are serialized, so
            // this cannot happen; refuse rather than bind two devices to one code)
            return Err(invalid_code());
        }
        let server_key = crate::bundle::current_key(tx)?.public_key().to_base64();
        let ScopePlaces { scopes, places } = scope_places(tx, &user.scope)?;
        let province = places.first().map(|p| p.code.clone()).unwrap_or_default();
        let reasons = tx.reasons()?.for_province(&province).all().to_vec();
        // a new device may now read its scope's households
        crate::audit::append(
            tx,
            &crate::audit::Entry {
                actor_user: Some(user.id),
                actor_device: Some(device_id),
                action: "enroll",
                detail: serde_json::json!({ "scope": user.scope.key() }),
            },
        )?;
        Ok(EnrollResponse {
            device_id,
            token,
            user: UserInfo { id: user.id, name: user.name.clone(), role: user.role },
            scope: scopes[0].clone(),
            scopes,
            places,
            reasons,
            server_time: now,
            server_key: Some(server_key),
            revocation_probe: Some(revocation_probe),
        })
    })
}

/// What a device is told of its scope: the scope's places, and the places it needs for them.
#[derive(Debug, Clone)]
pub struct ScopePlaces {
    /// Each place of the scope, in the scope's order (the first is what one-place apps read).
    pub scopes: Vec<Place>,
    /// Each scope place's ancestors (province first) and every place under it, parents before
    /// children, once each.
    pub places: Vec<Place>,
}

/// The [`ScopePlaces`] of `scope`.
pub fn scope_places(tx: &mut dyn Tx, scope: &Scope) -> Result<ScopePlaces, Error> {
    let mut places: Vec<Place> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut scopes = Vec::new();
    for code in scope.codes() {
        let chain = lineage(tx, code)?;
        let place = chain.last().cloned().ok_or_else(|| StoreError::Corrupt(format!("scope {code} is not a place")))?;
        scopes.push(place.clone());
        for p in chain {
            // a household given on its own is a scope's place, not the catalog's
            if p.level != gocua_core::places::PlaceLevel::Household && seen.insert(p.code.clone()) {
                places.push(p);
            }
        }
        let mut stack = vec![place.code.clone()];
        while let Some(code) = stack.pop() {
            for child in tx.children(&code)? {
                stack.push(child.code.clone());
                if seen.insert(child.code.clone()) {
                    places.push(child);
                }
            }
        }
    }
    if scopes.is_empty() {
        return Err(StoreError::Corrupt("an empty scope".into()).into());
    }
    Ok(ScopePlaces { scopes, places })
}
