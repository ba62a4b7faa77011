//! The event log.

use chrono::{DateTime, Utc};
use gocua_core::event::{CAMPAIGN_SET, Event, Payload};
use gocua_core::sync::protocol::Flag;
use gocua_server_store::{
    EventQuery, Events, MentioningEvent, NewEvent, StoreError, StoreResult, StoredOutcome, StoredStatus,
};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::users::{time, uuid};
use crate::{SqliteTx, db_error};

fn micros(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn payload(json: &str) -> StoreResult<Payload> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("payload: {e}")))
}

impl Events for SqliteTx<'_> {
    fn last_server_seq(&mut self) -> StoreResult<u64> {
        self.tx.query_row("SELECT coalesce(max(server_seq), 0) FROM events", [], |r| r.get(0)).map_err(db_error)
    }

    fn stored_outcomes(&mut self, ids: &[Uuid]) -> StoreResult<Vec<StoredOutcome>> {
        let mut stmt =
            self.tx.prepare_cached("SELECT server_seq, status, errors FROM events WHERE id = ?1").map_err(db_error)?;
        let mut out = Vec::new();
        for id in ids {
            let row: Option<(u64, String, Option<String>)> = stmt
                .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(db_error)?;
            if let Some((server_seq, status, errors)) = row {
                let status = if status == "rejected" { StoredStatus::Rejected(errors) } else { StoredStatus::Applied };
                out.push(StoredOutcome { id: *id, server_seq, status });
            }
        }
        Ok(out)
    }

    fn insert_events(&mut self, events: &[NewEvent<'_>]) -> StoreResult<()> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO events (server_seq, id, device_id, seq, author, device_time, received_at, type, payload,
                                     place_path, status, errors, flags, effective_time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .map_err(db_error)?;
        for e in events {
            let (status, errors) = match &e.status {
                StoredStatus::Applied => ("applied", None),
                StoredStatus::Rejected(errors) => ("rejected", errors.as_deref()),
            };
            stmt.execute(params![
                e.server_seq,
                e.event.id.to_string(),
                e.event.device_id.to_string(),
                e.event.seq,
                e.event.author.to_string(),
                micros(e.event.device_time),
                micros(e.received_at),
                e.event.payload.type_name(),
                serde_json::to_string(&e.event.payload)?,
                e.place_path,
                status,
                errors,
                e.flags,
                micros(e.effective_time),
            ])
            .map_err(db_error)?;
        }
        Ok(())
    }

    fn applied_events(&mut self, q: &EventQuery<'_>) -> StoreResult<Vec<(u64, Event)>> {
        if q.paths.is_empty() {
            return Ok(vec![]);
        }
        // one prefix test per scope place: substr(place_path, 1, len) = prefix
        let tests: Vec<String> =
            (0..q.paths.len()).map(|i| format!("substr(place_path, 1, length(?{}))= ?{}", i + 5, i + 5)).collect();
        let sql = format!(
            "SELECT server_seq, id, device_id, seq, author, device_time, payload FROM events
             WHERE status = 'applied' AND server_seq > ?1 AND (?4 OR device_id != ?2) AND ({})
             ORDER BY server_seq LIMIT ?3",
            tests.join(" OR ")
        );
        let mut stmt = self.tx.prepare_cached(&sql).map_err(db_error)?;
        let mut params: Vec<Box<dyn rusqlite::ToSql>> =
            vec![Box::new(q.after), Box::new(q.device.to_string()), Box::new(q.limit), Box::new(q.include_own)];
        for p in q.paths {
            params.push(Box::new(p.clone()));
        }
        event_rows(&mut stmt, rusqlite::params_from_iter(params.iter()))
    }

    fn clock_flagged(&mut self, server_seqs: &[u64]) -> StoreResult<Vec<(u64, Flag)>> {
        let mut out = Vec::new();
        // a page is at most MAX_PULL_LIMIT events: well under SQLite's bound on parameters
        for chunk in server_seqs.chunks(2_000) {
            let places: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "SELECT server_seq, flags FROM events
                 WHERE server_seq IN ({}) AND status = 'applied' AND flags LIKE '%clock_%'",
                places.join(", ")
            );
            let mut stmt = self.tx.prepare(&sql).map_err(db_error)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(chunk.iter()), |r| {
                    Ok((r.get::<_, u64>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db_error)?;
            for row in rows {
                let (server_seq, flags) = row.map_err(db_error)?;
                out.extend(Flag::clock_among(&flags).map(|f| (server_seq, f)));
            }
        }
        out.sort_by_key(|(server_seq, _)| *server_seq);
        Ok(out)
    }

    fn campaign_events_at(&mut self, paths: &[String], after: u64, upto: u64) -> StoreResult<Vec<(u64, Event)>> {
        if paths.is_empty() || upto <= after {
            return Ok(vec![]);
        }
        let places: Vec<String> = (0..paths.len()).map(|i| format!("?{}", i + 3)).collect();
        // the partial index `events_campaigns` (0012), named: without statistics the planner
        // took a scan of the whole log for two places or more (2.3 s at 10 million events)
        let sql = format!(
            "SELECT server_seq, id, device_id, seq, author, device_time, payload
             FROM events INDEXED BY events_campaigns
             WHERE status = 'applied' AND type = '{CAMPAIGN_SET}' AND server_seq > ?1 AND server_seq <= ?2
               AND place_path IN ({})
             ORDER BY server_seq",
            places.join(", ")
        );
        let mut stmt = self.tx.prepare_cached(&sql).map_err(db_error)?;
        let mut params: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(after), Box::new(upto)];
        for p in paths {
            params.push(Box::new(p.clone()));
        }
        event_rows(&mut stmt, rusqlite::params_from_iter(params.iter()))
    }

    fn events_mentioning(&mut self, id: Uuid) -> StoreResult<Vec<MentioningEvent>> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT e.server_seq, e.type, e.device_time, e.received_at, e.status, e.payload,
                        coalesce(u.name, ''), coalesce(d.name, '')
                 FROM events e LEFT JOIN users u ON u.id = e.author LEFT JOIN devices d ON d.id = e.device_id
                 WHERE instr(e.payload, ?1) > 0 ORDER BY e.server_seq",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([id.to_string()], |r| {
                Ok((
                    r.get::<_, u64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(db_error)?;
        let mut out = Vec::new();
        for row in rows {
            let (server_seq, type_name, device_time, received_at, status, json, author_name, device_name) =
                row.map_err(db_error)?;
            out.push(MentioningEvent {
                server_seq,
                type_name,
                payload: payload(&json)?,
                device_time: time(&device_time)?,
                received_at: time(&received_at)?,
                status,
                author_name,
                device_name,
            });
        }
        Ok(out)
    }

    fn rewrite_payload(&mut self, server_seq: u64, payload: &Payload) -> StoreResult<()> {
        self.tx
            .execute(
                "UPDATE events SET payload = ?2 WHERE server_seq = ?1",
                params![server_seq, serde_json::to_string(payload)?],
            )
            .map_err(db_error)?;
        Ok(())
    }

    fn count_events(&mut self, status: &str) -> StoreResult<u64> {
        self.tx.query_row("SELECT count(*) FROM events WHERE status = ?1", [status], |r| r.get(0)).map_err(db_error)
    }
}

/// Reads `(server_seq, id, device_id, seq, author, device_time, payload)` rows as events.
fn event_rows(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<(u64, Event)>> {
    let rows = stmt
        .query_map(params, |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(db_error)?;
    let mut out = Vec::new();
    for row in rows {
        let (server_seq, id, device_id, seq, author, device_time, json) = row.map_err(db_error)?;
        out.push((
            server_seq,
            Event {
                id: uuid(&id)?,
                device_id: uuid(&device_id)?,
                seq,
                author: uuid(&author)?,
                device_time: time(&device_time)?,
                payload: payload(&json)?,
            },
        ));
    }
    Ok(out)
}
