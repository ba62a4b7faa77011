//! Scoped pull: applied events of other devices under a place, after a cursor, in pages,
//! masked for roles that do not see CCCD numbers and police-only reasons (`gocua_core::privacy`).

use std::str::FromStr;

use chrono::DateTime;
use gocua_core::event::Event;
use gocua_core::privacy;
use gocua_core::sql::catalog;
use gocua_core::sync::protocol::{MAX_PULL_LIMIT, PullResponse, PulledEvent, ResetReason, Role, UserInfo};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthDevice;
use crate::error::ApiError;

/// This database's identity, which cursors are tied to.
pub fn epoch(conn: &Connection) -> Result<String, ApiError> {
    Ok(conn.query_row("SELECT value FROM server_meta WHERE key = 'epoch'", [], |r| r.get(0))?)
}

/// What a device asks a pull for (the query string of `GET /api/v1/sync/pull`).
#[derive(Debug, Deserialize)]
pub struct PullQuery {
    /// The last `server_seq` the device holds.
    #[serde(default)]
    pub cursor: u64,
    /// Page size.
    pub limit: Option<u32>,
    /// A place inside the device's scope (default: the whole scope).
    pub place: Option<String>,
    /// The server database the cursor came from (see `PullResponse::epoch`).
    pub epoch: Option<String>,
    /// The scope the device believes it has.
    pub scope: Option<String>,
    /// Include the device's own events (a reset after the phone purged old ones).
    #[serde(default)]
    pub own: bool,
}

/// One page after `cursor` under `place` (default: the device's scope), which must lie inside
/// the device's scope; the device's own events only when it asks (`own`: it purged old ones,
/// then had to download everything again). A cursor of another database (`epoch` differs, or it points past this
/// database's last event: restored from a backup) answers `reset` instead.
pub fn pull(conn: &Connection, device: &AuthDevice, query: &PullQuery) -> Result<PullResponse, ApiError> {
    let (cursor, place, own) = (query.cursor, query.place.as_deref(), query.own);
    let (device_epoch, device_scope) = (query.epoch.as_deref(), query.scope.as_deref());
    let limit = query.limit.unwrap_or(MAX_PULL_LIMIT).clamp(1, MAX_PULL_LIMIT);
    let epoch = epoch(conn)?;
    if device_scope.is_some_and(|s| !s.is_empty() && s != device.scope_code) {
        // reassigned: what left the scope must leave the phone, and the new scope's history
        // lies before any cursor the phone has
        let (scope, places) = super::enroll::scope_places(conn, &device.scope_code)?;
        return Ok(PullResponse {
            events: vec![],
            cursor: 0,
            has_more: true,
            reset: Some(ResetReason::ScopeChanged),
            epoch,
            scope: Some(scope),
            places,
            people: vec![],
            erased: vec![],
        });
    }
    let last: u64 = conn.query_row("SELECT coalesce(max(server_seq), 0) FROM events", [], |r| r.get(0))?;
    let foreign_epoch = device_epoch.is_some_and(|e| !e.is_empty() && e != epoch);
    if cursor > 0 && (foreign_epoch || cursor > last) {
        return Ok(PullResponse {
            events: vec![],
            cursor: 0,
            has_more: true,
            reset: Some(ResetReason::OtherEpoch),
            epoch,
            scope: None,
            places: vec![],
            people: vec![],
            erased: vec![],
        });
    }
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
         WHERE status = 'applied' AND server_seq > ?1 AND (?5 OR device_id != ?2) AND instr(place_path, ?3) > 0
         ORDER BY server_seq LIMIT ?4",
    )?;
    let rows =
        stmt.query_map(params![cursor, device.device_id.to_string(), format!("/{scope_code}/"), limit, own], |r| {
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
    // IMPORTANT: full CCCD numbers and police-only reasons leave the server for police roles only
    let reasons = if privacy::sees_everything(device.role) { None } else { Some(catalog::reasons(conn)?) };
    let mut events = Vec::new();
    for row in rows {
        let (server_seq, id, device_id, seq, author, device_time, payload) = row?;
        let mut event = Event {
            id: Uuid::from_str(&id).map_err(ApiError::internal)?,
            device_id: Uuid::from_str(&device_id).map_err(ApiError::internal)?,
            seq,
            author: Uuid::from_str(&author).map_err(ApiError::internal)?,
            device_time: DateTime::parse_from_rfc3339(&device_time).map_err(ApiError::internal)?.to_utc(),
            payload: serde_json::from_str(&payload)?,
        };
        if let Some(reasons) = &reasons {
            privacy::mask_payload(&mut event.payload, |code| reasons.get(code).is_some_and(|r| r.police_only));
        }
        events.push(PulledEvent { server_seq, event });
    }
    let has_more = events.len() == limit as usize;
    // a page that is not full has seen everything up to `last`: the cursor moves there even
    // past events not for this device (its own, other places'), so a phone whose hamlet is
    // quiet still learns how far the server's order goes (its retention purge needs that)
    let seen = if has_more { 0 } else { last };
    let cursor = events.last().map_or(cursor, |e| e.server_seq).max(seen).max(cursor);
    let people = authors(conn, &events)?;
    let erased = crate::resident_rights::erased_since(conn, &path, query.cursor)?;
    Ok(PullResponse { events, cursor, has_more, reset: None, epoch, scope: None, places: vec![], people, erased })
}

/// The users who wrote `events`, once each.
fn authors(conn: &Connection, events: &[PulledEvent]) -> Result<Vec<UserInfo>, ApiError> {
    let ids: std::collections::BTreeSet<String> = events.iter().map(|e| e.event.author.to_string()).collect();
    let mut stmt = conn.prepare_cached("SELECT name, role FROM users WHERE id = ?1")?;
    let mut people = Vec::with_capacity(ids.len());
    for id in ids {
        let row: Option<(String, String)> = stmt.query_row([&id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((name, role)) = row {
            let role = Role::from_code(&role).ok_or_else(|| ApiError::internal(format!("role {role}")))?;
            people.push(UserInfo { id: Uuid::from_str(&id).map_err(ApiError::internal)?, name, role });
        }
    }
    Ok(people)
}
