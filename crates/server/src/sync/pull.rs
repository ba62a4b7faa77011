//! Scoped pull: applied events of other devices under a place, after a cursor, in pages.

use std::str::FromStr;

use chrono::DateTime;
use gocua_core::event::Event;
use gocua_core::sql::catalog;
use gocua_core::sync::protocol::{MAX_PULL_LIMIT, PullResponse, PulledEvent};
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::auth::AuthDevice;
use crate::error::ApiError;

/// One page after `cursor` under `place` (default: the device's scope), which must lie inside
/// the device's scope.
pub fn pull(
    conn: &Connection,
    device: &AuthDevice,
    cursor: u64,
    limit: u32,
    place: Option<&str>,
) -> Result<PullResponse, ApiError> {
    let limit = limit.clamp(1, MAX_PULL_LIMIT);
    let path = match place {
        None => device.scope_path.clone(),
        Some(code) => {
            let path = catalog::place_path(conn, code)?
                .ok_or_else(|| ApiError::not_found(format!("Không có địa bàn {code} / unknown place {code}")))?;
            if !path.contains(&format!("/{}/", device.scope_code)) {
                return Err(ApiError::forbidden(format!(
                    "Địa bàn {code} nằm ngoài phạm vi của thiết bị / place {code} is outside the device's scope"
                )));
            }
            path
        }
    };
    let scope_code = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
    let mut stmt = conn.prepare_cached(
        "SELECT server_seq, id, device_id, seq, author, device_time, payload FROM events
         WHERE status = 'applied' AND server_seq > ?1 AND device_id != ?2 AND instr(place_path, ?3) > 0
         ORDER BY server_seq LIMIT ?4",
    )?;
    let rows =
        stmt.query_map(params![cursor, device.device_id.to_string(), format!("/{scope_code}/"), limit], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
    let mut events = Vec::new();
    for row in rows {
        let (server_seq, id, device_id, seq, author, device_time, payload) = row?;
        let event = Event {
            id: Uuid::from_str(&id).map_err(ApiError::internal)?,
            device_id: Uuid::from_str(&device_id).map_err(ApiError::internal)?,
            seq,
            author: Uuid::from_str(&author).map_err(ApiError::internal)?,
            device_time: DateTime::parse_from_rfc3339(&device_time).map_err(ApiError::internal)?.to_utc(),
            payload: serde_json::from_str(&payload)?,
        };
        events.push(PulledEvent { server_seq, event });
    }
    let has_more = events.len() == limit as usize;
    let cursor = events.last().map_or(cursor, |e| e.server_seq);
    Ok(PullResponse { events, cursor, has_more })
}
