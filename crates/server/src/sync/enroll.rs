//! Enrollment: a one-time code becomes a device bound to a user, a role and a scope.

use chrono::{DateTime, Utc};
use gocua_core::bundle::DevicePublicKey;
use gocua_core::places::Place;
use gocua_core::sql::catalog;
use gocua_core::sync::protocol::{EnrollRequest, EnrollResponse, Role, SCHEMA_VERSION, UserInfo};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::auth::{hash_secret, new_token, normalize_code};
use crate::error::ApiError;

/// Redeems a code: creates the device, marks the code used, returns the token once.
pub fn enroll(conn: &mut Connection, request: &EnrollRequest) -> Result<EnrollResponse, ApiError> {
    if request.schema_version > SCHEMA_VERSION {
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("Ứng dụng mới hơn máy chủ (schema {}) / the app is newer than the server", request.schema_version),
        ));
    }
    let device_name = request.device_name.trim();
    if device_name.is_empty() || device_name.chars().count() > 80 {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Tên thiết bị phải có từ 1 đến 80 ký tự / The device name must be 1 to 80 characters",
        ));
    }
    let signing_key = request
        .signing_key
        .as_deref()
        .map(|key| DevicePublicKey::parse(key).map(|k| k.to_base64()))
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    let code_hash = hash_secret(&normalize_code(&request.code));
    let tx = conn.transaction()?;
    let row = tx
        .query_row(
            "SELECT c.user_id, c.expires_at, c.used_at, u.name, u.role, u.scope_code
             FROM enrollment_codes c JOIN users u ON u.id = c.user_id WHERE c.code_hash = ?1",
            [&code_hash],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?;
    let invalid = || {
        ApiError::unauthorized(
            "invalid_code",
            "Mã đăng ký không đúng, đã dùng hoặc đã hết hạn / The enrollment code is wrong, used or expired",
        )
    };
    let (user_id, expires_at, used_at, user_name, role, scope_code) = row.ok_or_else(invalid)?;
    let expired = DateTime::parse_from_rfc3339(&expires_at).map_err(ApiError::internal)? < Utc::now();
    if used_at.is_some() || expired {
        return Err(invalid());
    }
    let device_id = Uuid::now_v7();
    let token = new_token();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at, app_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            device_id.to_string(),
            user_id,
            device_name,
            hash_secret(&token),
            now.to_rfc3339(),
            request.app_version
        ],
    )?;
    tx.execute(
        "UPDATE enrollment_codes SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
        params![code_hash, now.to_rfc3339(), device_id.to_string()],
    )?;
    if signing_key.is_some() {
        tx.execute("UPDATE devices SET signing_key = ?2 WHERE id = ?1", params![device_id.to_string(), signing_key])?;
    }
    let server_key = crate::bundle::current_key(&tx)?.public_key().to_base64();
    let role = Role::from_code(&role).ok_or_else(|| ApiError::internal(format!("unknown role {role}")))?;
    let (scope, places) = scope_places(&tx, &scope_code)?;
    let province = places.first().map(|p| p.code.clone()).unwrap_or_default();
    let reasons = catalog::reasons(&tx)?.for_province(&province).all().to_vec();
    // a new device may now read its scope's households
    crate::audit::append(
        &tx,
        &crate::audit::Entry {
            actor_user: user_id.parse().ok(),
            actor_device: Some(device_id),
            action: "enroll",
            detail: serde_json::json!({ "scope": scope_code }),
        },
    )?;
    tx.commit()?;
    Ok(EnrollResponse {
        device_id,
        token,
        user: UserInfo { id: user_id.parse().map_err(ApiError::internal)?, name: user_name, role },
        scope,
        places,
        reasons,
        server_time: now,
        server_key: Some(server_key),
    })
}

/// A scope and the places a device needs for it: its ancestors (province first) and every place
/// under it, parents before children.
pub fn scope_places(conn: &Connection, scope_code: &str) -> Result<(Place, Vec<Place>), ApiError> {
    let lineage = catalog::lineage(conn, scope_code)?;
    let scope = lineage.last().cloned().ok_or_else(|| ApiError::internal("user scope is not a place"))?;
    let mut places: Vec<Place> = lineage;
    let mut stack = vec![scope.code.clone()];
    while let Some(code) = stack.pop() {
        for child in catalog::children(conn, &code)? {
            stack.push(child.code.clone());
            places.push(child);
        }
    }
    Ok((scope, places))
}
