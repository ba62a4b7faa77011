//! Scoped pull: applied events of other devices under a place, after a cursor, in pages,
//! masked for roles that do not see CCCD numbers and police-only reasons (`gocua_core::privacy`).

use crate::sync::enroll::ScopePlaces;
use gocua_core::privacy;
use gocua_core::sync::protocol::{ClampedEvent, MAX_PULL_LIMIT, PullResponse, PulledEvent, ResetReason, Role};
use gocua_server_store::{EventQuery, Store, Tx, place_path, run_read, run_replica_read};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthDevice;
use crate::domain::Error;

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
    /// The role the device believes its user has (`volunteer`, …); an unknown code is ignored.
    pub role: Option<String>,
    /// The digest of the reason catalog the device holds; the province's catalog comes back
    /// when it differs.
    pub reasons: Option<String>,
}

/// One page after `cursor` under `place` (default: the device's scope), which must lie inside
/// the device's scope; the device's own events only when it asks (`own`: it purged old ones,
/// then had to download everything again). A cursor of another database (`epoch` differs, or it
/// points past this database's last event: restored from a backup) answers `reset` instead.
///
/// The page is read on a replica when there is one. A replica shows a prefix of the primary's
/// `server_seq` order (writers commit in that order), so a lagging one returns fewer events,
/// never a gap; a cursor past the replica's last event is asked of the primary, which alone can
/// tell a lagging replica from a restored database. A page with events is audited on the
/// primary.
pub fn pull(store: &dyn Store, device: &AuthDevice, query: &PullQuery) -> Result<PullResponse, Error> {
    let (page, on_replica) = run_replica_read(store, |tx| read_page(tx, device, query))?;
    let page = match page {
        Page::Behind if on_replica => run_read(store, |tx| read_page(tx, device, query))?,
        page => page,
    };
    let response = match page {
        Page::Ready(response) => *response,
        Page::Behind => reset(store, None)?,
    };
    if let (Some(first), Some(last)) = (response.events.first(), response.events.last()) {
        // a page of the scope's records was read: which ones, by whom
        let entry = crate::audit::Entry {
            actor_user: Some(device.user_id),
            actor_device: Some(device.device_id),
            action: "pull",
            detail: serde_json::json!({
                "events": response.events.len(),
                "server_seq": [first.server_seq, last.server_seq],
                "place": query.place.clone().unwrap_or_else(|| device.scope.scope().key()),
            }),
        };
        crate::audit::append_now(store, &entry)?;
    }
    Ok(response)
}

/// A page, or the word that the cursor lies past this database's last event.
enum Page {
    Ready(Box<PullResponse>),
    Behind,
}

fn reset(store: &dyn Store, scope: Option<ScopePlaces>) -> Result<PullResponse, Error> {
    let epoch = run_read(store, |tx| tx.epoch().map_err(Error::from))?;
    Ok(reset_answer(epoch, scope))
}

fn reset_answer(epoch: String, scope: Option<ScopePlaces>) -> PullResponse {
    let reason = if scope.is_some() { ResetReason::ScopeChanged } else { ResetReason::OtherEpoch };
    let (scopes, places) = match scope {
        Some(ScopePlaces { scopes, places }) => (scopes, places),
        None => (vec![], vec![]),
    };
    PullResponse {
        events: vec![],
        cursor: 0,
        has_more: true,
        reset: Some(reason),
        epoch,
        scope: scopes.first().cloned(),
        scopes,
        places,
        people: vec![],
        erased: vec![],
        role: None,
        reasons: vec![],
        clamped: vec![],
    }
}

/// The places strictly above any of `paths` and not under another of them: `/01/03445/03445-01/`
/// has `/01/` and `/01/03445/`.
fn ancestors(paths: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for path in paths {
        let mut end = 1; // past the leading '/'
        while let Some(next) = path[end..].find('/') {
            end += next + 1;
            let above = &path[..end];
            if above.len() < path.len() && !paths.iter().any(|p| above.starts_with(p.as_str())) {
                out.push(above.to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn read_page(tx: &mut dyn Tx, device: &AuthDevice, query: &PullQuery) -> Result<Page, Error> {
    let (cursor, place, own) = (query.cursor, query.place.as_deref(), query.own);
    let (device_epoch, device_scope) = (query.epoch.as_deref(), query.scope.as_deref());
    let limit = query.limit.unwrap_or(MAX_PULL_LIMIT).clamp(1, MAX_PULL_LIMIT);
    let epoch = tx.epoch()?;
    let scope = device.scope.scope();
    // the office or an administrator changed the user's role: the phone takes the new one on;
    // one that saw everything and no longer does (or the other way) downloads its scope again,
    // having dropped what the old role let it hold
    let believed = query.role.as_deref().and_then(Role::from_code);
    let new_role = believed.filter(|r| *r != device.role).map(|_| device.role);
    if believed.is_some_and(|r| privacy::sees_everything(r) != privacy::sees_everything(device.role)) {
        let answer =
            PullResponse { reset: Some(ResetReason::RoleChanged), role: new_role, ..reset_answer(epoch, None) };
        return Ok(Page::Ready(Box::new(answer)));
    }
    if device_scope.is_some_and(|s| !s.is_empty() && s != scope.key()) {
        // reassigned: what left the scope must leave the phone, and the new scope's history
        // lies before any cursor the phone has
        let places = super::enroll::scope_places(tx, scope)?;
        return Ok(Page::Ready(Box::new(reset_answer(epoch, Some(places)))));
    }
    let last = tx.last_server_seq()?;
    let foreign_epoch = device_epoch.is_some_and(|e| !e.is_empty() && e != epoch);
    if cursor > 0 && foreign_epoch {
        return Ok(Page::Ready(Box::new(reset_answer(epoch, None))));
    }
    if cursor > last {
        return Ok(Page::Behind);
    }
    let paths: Vec<String> = match place {
        None => device.scope.paths().to_vec(),
        Some(code) => {
            let path = place_path(tx, code)?
                .ok_or_else(|| Error::NotFound(format!("Không có địa bàn {code} / unknown place {code}")))?;
            if !device.scope.contains_path(&path) {
                return Err(Error::Forbidden(format!(
                    "Địa bàn {code} nằm ngoài phạm vi của thiết bị / place {code} is outside the device's scope"
                )));
            }
            vec![path]
        }
    };
    let rows = tx.applied_events(&EventQuery {
        after: cursor,
        limit,
        paths: &paths,
        device: device.device_id,
        include_own: own,
    })?;
    // IMPORTANT: full CCCD numbers and police-only reasons leave the server for police roles only
    let reasons = if privacy::sees_everything(device.role) { None } else { Some(tx.reasons()?) };
    let mut events = Vec::with_capacity(rows.len());
    for (server_seq, mut event) in rows {
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
    let next = events.last().map_or(cursor, |e| e.server_seq).max(seen).max(cursor);
    // campaigns set above the phone's own places (its commune's, its province's) come with them:
    // a volunteer's phone shows the quota it was given, offline
    let above = ancestors(&paths);
    let campaigns = tx.campaign_events_at(&above, cursor, next)?;
    if !campaigns.is_empty() {
        let mine = |e: &gocua_core::event::Event| !own && e.device_id == device.device_id;
        events.extend(
            campaigns
                .into_iter()
                .filter(|(_, e)| !mine(e))
                .map(|(server_seq, event)| PulledEvent { server_seq, event }),
        );
        events.sort_by_key(|e| e.server_seq);
        events.dedup_by_key(|e| e.server_seq);
    }
    let mut authors: Vec<Uuid> = events.iter().map(|e| e.event.author).collect();
    authors.sort();
    authors.dedup();
    let people = tx.user_infos(&authors)?;
    let erased = tx.erased_since(&paths, cursor)?;
    // visits recorded under a wrong clock: the office's review queue lists them
    let on_page: Vec<u64> = events.iter().map(|e| e.server_seq).collect();
    let clamped =
        tx.clock_flagged(&on_page)?.into_iter().map(|(server_seq, flag)| ClampedEvent { server_seq, flag }).collect();
    // a province that added a reason, or made one need a note: the phone learns it here
    let reasons = match query.reasons.as_deref() {
        Some(held) => {
            let province = device.scope.paths().first().and_then(|p| p.split('/').nth(1)).unwrap_or_default();
            let catalog = tx.reasons()?.for_province(province);
            if catalog.digest() == held { vec![] } else { catalog.all().to_vec() }
        }
        None => vec![],
    };
    Ok(Page::Ready(Box::new(PullResponse {
        events,
        cursor: next,
        has_more,
        reset: None,
        epoch,
        scope: None,
        scopes: vec![],
        places: vec![],
        people,
        erased,
        role: new_role,
        reasons,
        clamped,
    })))
}
