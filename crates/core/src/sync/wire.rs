//! The compact JSON of a push (schema 3) and of a pull page (schema 5): what events share is
//! said once.
//!
//! A device's events all carry its device id and its user, and their ids follow from the device
//! and the sequence number ([`crate::ids::event_id`]). The push's wire form therefore puts
//! `device_id` and `author` once on the batch and leaves an event's `id` out when it is the
//! derived one. Older apps send every field on every event, which reads the same way: a field on
//! an event wins over the batch's. A pull page ([`PullBody`]) does the same per run of one
//! device's consecutive events, and leaves out a `server_seq` that follows the one before.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::protocol::{PullResponse, PulledEvent, PushRequest, ResetReason, UserInfo};
use crate::event::{Event, Payload};
use crate::ids;
use crate::places::Place;

/// A push request as JSON.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushBody {
    schema_version: u32,
    app_version: String,
    /// The device of every event that names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_id: Option<Uuid>,
    /// The author of every event that names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<Uuid>,
    events: Vec<WireEvent>,
    /// Events queued on the device when it sent this push (`PushRequest::queued`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queued: Option<u64>,
}

/// An event as JSON: the envelope fields are left out when the batch says them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_id: Option<Uuid>,
    seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<Uuid>,
    device_time: DateTime<Utc>,
    /// What happened: an object whose `type` names the payload and its version (DESIGN.md).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    payload: Payload,
}

/// Why a push body's events could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sự kiện số {seq} thiếu {field} / event {seq} has no {field}")]
pub struct MissingField {
    seq: u64,
    field: &'static str,
}

impl From<PushRequest> for PushBody {
    fn from(request: PushRequest) -> Self {
        let first = request.events.first();
        let device_id = first.map(|e| e.device_id);
        let author = first.map(|e| e.author);
        let events = request
            .events
            .into_iter()
            .map(|e| WireEvent {
                id: (Some(e.device_id) != device_id || e.id != ids::event_id(e.device_id, e.seq)).then_some(e.id),
                device_id: (Some(e.device_id) != device_id).then_some(e.device_id),
                seq: e.seq,
                author: (Some(e.author) != author).then_some(e.author),
                device_time: e.device_time,
                payload: e.payload,
            })
            .collect();
        PushBody {
            schema_version: request.schema_version,
            app_version: request.app_version,
            device_id,
            author,
            events,
            queued: request.queued,
        }
    }
}

impl TryFrom<PushBody> for PushRequest {
    type Error = MissingField;

    fn try_from(body: PushBody) -> Result<Self, Self::Error> {
        let events = body
            .events
            .into_iter()
            .map(|e| {
                let missing = |field| MissingField { seq: e.seq, field };
                let device_id = e.device_id.or(body.device_id).ok_or_else(|| missing("device_id"))?;
                let author = e.author.or(body.author).ok_or_else(|| missing("author"))?;
                Ok(Event {
                    id: e.id.unwrap_or_else(|| ids::event_id(device_id, e.seq)),
                    device_id,
                    seq: e.seq,
                    author,
                    device_time: e.device_time,
                    payload: e.payload,
                })
            })
            .collect::<Result<_, MissingField>>()?;
        Ok(PushRequest {
            schema_version: body.schema_version,
            app_version: body.app_version,
            events,
            queued: body.queued,
        })
    }
}

/// A pull page as JSON from schema 5 on: the events of [`PullResponse`] as runs, each run the
/// consecutive events of one device and author with that envelope said once. The other fields
/// are [`PullResponse`]'s.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullBody {
    /// The page's events in the server's order.
    runs: Vec<PullRun>,
    cursor: u64,
    has_more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reset: Option<ResetReason>,
    #[serde(default)]
    epoch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<Place>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scopes: Vec<Place>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    places: Vec<Place>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    people: Vec<UserInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    erased: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<crate::sync::protocol::Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    reasons: Vec<crate::reasons::Reason>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    clamped: Vec<crate::sync::protocol::ClampedEvent>,
}

/// Consecutive events of a pull page by one device and author.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PullRun {
    device_id: Uuid,
    author: Uuid,
    /// The first event's place in the server's order.
    server_seq: u64,
    events: Vec<RunEvent>,
}

/// An event of a run: its id only when it is not the derived one, its `server_seq` only when it
/// is not one past the event before.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    server_seq: Option<u64>,
    seq: u64,
    device_time: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    payload: Payload,
}

impl From<PullResponse> for PullBody {
    fn from(page: PullResponse) -> Self {
        let mut runs: Vec<PullRun> = Vec::new();
        let mut previous = 0;
        for PulledEvent { server_seq, event } in page.events {
            let id = (event.id != ids::event_id(event.device_id, event.seq)).then_some(event.id);
            let mut wire = RunEvent {
                id,
                server_seq: None,
                seq: event.seq,
                device_time: event.device_time,
                payload: event.payload,
            };
            match runs.last_mut() {
                Some(run) if run.device_id == event.device_id && run.author == event.author => {
                    wire.server_seq = (server_seq != previous + 1).then_some(server_seq);
                    run.events.push(wire);
                }
                _ => runs.push(PullRun {
                    device_id: event.device_id,
                    author: event.author,
                    server_seq,
                    events: vec![wire],
                }),
            }
            previous = server_seq;
        }
        PullBody {
            runs,
            cursor: page.cursor,
            has_more: page.has_more,
            reset: page.reset,
            epoch: page.epoch,
            scope: page.scope,
            scopes: page.scopes,
            places: page.places,
            people: page.people,
            erased: page.erased,
            role: page.role,
            reasons: page.reasons,
            clamped: page.clamped,
        }
    }
}

impl From<PullBody> for PullResponse {
    fn from(body: PullBody) -> Self {
        let mut events = Vec::with_capacity(body.runs.iter().map(|r| r.events.len()).sum());
        for run in body.runs {
            let mut server_seq = run.server_seq;
            for (i, e) in run.events.into_iter().enumerate() {
                if i > 0 {
                    server_seq = e.server_seq.unwrap_or(server_seq + 1);
                }
                let event = Event {
                    id: e.id.unwrap_or_else(|| ids::event_id(run.device_id, e.seq)),
                    device_id: run.device_id,
                    seq: e.seq,
                    author: run.author,
                    device_time: e.device_time,
                    payload: e.payload,
                };
                events.push(PulledEvent { server_seq, event });
            }
        }
        PullResponse {
            events,
            cursor: body.cursor,
            has_more: body.has_more,
            reset: body.reset,
            epoch: body.epoch,
            scope: body.scope,
            scopes: body.scopes,
            places: body.places,
            people: body.people,
            erased: body.erased,
            role: body.role,
            reasons: body.reasons,
            clamped: body.clamped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, Rng};

    fn batch(device: Uuid, author: Uuid) -> Vec<Event> {
        let (_, _, payloads) = fixtures::household_payloads(&mut Rng::new(3), "03445-01", 2);
        payloads
            .into_iter()
            .zip(1..)
            .map(|(payload, seq)| Event {
                id: ids::event_id(device, seq),
                ..fixtures::event(device, author, seq, payload)
            })
            .collect()
    }

    #[test]
    fn a_device_batch_says_its_envelope_once_and_reads_back_the_same() {
        let (device, author) = (Uuid::now_v7(), Uuid::now_v7());
        let request = PushRequest {
            schema_version: 3,
            app_version: "0.1.0".into(),
            events: batch(device, author),
            queued: Some(7),
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["device_id"], device.to_string());
        assert_eq!(json["author"], author.to_string());
        assert_eq!(json["queued"], 7);
        for event in json["events"].as_array().unwrap() {
            let mut keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["device_time", "payload", "seq"], "{event}");
        }
        assert_eq!(serde_json::from_value::<PushRequest>(json).unwrap(), request);
    }

    #[test]
    fn ids_that_are_not_derived_and_foreign_envelopes_travel_in_full() {
        let (device, author) = (Uuid::now_v7(), Uuid::now_v7());
        let mut events = batch(device, author);
        events[1].id = Uuid::now_v7(); // recorded before schema 3
        events[2].device_id = Uuid::now_v7(); // the server refuses it, but it must see it
        events[2].author = Uuid::now_v7();
        let request = PushRequest { schema_version: 3, app_version: "0.1.0".into(), events, queued: None };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["events"][1]["id"], request.events[1].id.to_string());
        assert_eq!(json["events"][2]["device_id"], request.events[2].device_id.to_string());
        assert_eq!(serde_json::from_value::<PushRequest>(json).unwrap(), request);
    }

    #[test]
    fn an_old_app_s_full_events_read_as_they_are_and_a_bare_event_is_refused() {
        let (device, author) = (Uuid::now_v7(), Uuid::now_v7());
        let events: Vec<Event> = batch(device, author).into_iter().map(|e| Event { id: Uuid::now_v7(), ..e }).collect();
        let old = serde_json::json!({"schema_version": 2, "app_version": "0.0.9", "events": events});
        let read: PushRequest = serde_json::from_value(old).unwrap();
        assert_eq!(read.events, events);

        let bare = serde_json::json!({"schema_version": 3, "app_version": "0.1.0",
            "events": [{"seq": 1, "device_time": "2026-10-01T08:00:00Z", "payload": events[0].payload}]});
        let error = serde_json::from_value::<PushRequest>(bare).unwrap_err().to_string();
        assert!(error.contains("event 1 has no device_id"), "{error}");
    }

    fn pulled(events: Vec<Event>, first_server_seq: u64) -> Vec<PulledEvent> {
        events
            .into_iter()
            .zip(first_server_seq..)
            .map(|(event, server_seq)| PulledEvent { server_seq, event })
            .collect()
    }

    #[test]
    fn a_pull_page_says_each_run_s_envelope_once_and_reads_back_the_same() {
        let (a, b, author) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut events = pulled(batch(a, author), 10);
        events.extend(pulled(batch(b, author), 20)); // a gap in the server's order: other places
        events[1].event.id = Uuid::now_v7(); // recorded before schema 3
        events.extend(pulled(batch(a, author), 40));
        let page = PullResponse {
            events,
            cursor: 45,
            has_more: true,
            epoch: "e1".into(),
            erased: vec![Uuid::now_v7()],
            ..PullResponse::default()
        };
        let json = serde_json::to_value(PullBody::from(page.clone())).unwrap();
        let runs = json["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 3, "{json}");
        assert_eq!((runs[0]["server_seq"].as_u64(), runs[1]["server_seq"].as_u64()), (Some(10), Some(20)));
        let first_run = runs[0]["events"].as_array().unwrap();
        assert_eq!(first_run[1]["id"], page.events[1].event.id.to_string());
        let mut keys: Vec<&str> = first_run[2].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["device_time", "payload", "seq"], "{}", first_run[2]);
        let back: PullResponse = serde_json::from_value::<PullBody>(json).unwrap().into();
        assert_eq!(back, page);
    }

    #[test]
    fn gaps_inside_a_run_and_a_reset_page_read_back_the_same() {
        let (device, author) = (Uuid::now_v7(), Uuid::now_v7());
        let mut events = pulled(batch(device, author), 5);
        events[1].server_seq = 9; // one device's events with another place's between them
        events[2].server_seq = 10;
        let page = PullResponse { events, cursor: 10, epoch: "e1".into(), ..PullResponse::default() };
        let json = serde_json::to_value(PullBody::from(page.clone())).unwrap();
        assert_eq!(json["runs"][0]["events"][1]["server_seq"], 9, "{json}");
        assert!(json["runs"][0]["events"][2].get("server_seq").is_none(), "{json}");
        assert_eq!(PullResponse::from(serde_json::from_value::<PullBody>(json).unwrap()), page);

        let reset = PullResponse {
            reset: Some(ResetReason::OtherEpoch),
            has_more: true,
            epoch: "e2".into(),
            ..PullResponse::default()
        };
        let json = serde_json::to_value(PullBody::from(reset.clone())).unwrap();
        assert_eq!(json["reset"], "other_epoch");
        assert_eq!(PullResponse::from(serde_json::from_value::<PullBody>(json).unwrap()), reset);

        let demoted = PullResponse {
            reset: Some(ResetReason::RoleChanged),
            role: Some(crate::sync::protocol::Role::Volunteer),
            ..reset
        };
        let json = serde_json::to_value(PullBody::from(demoted.clone())).unwrap();
        assert_eq!((json["reset"].as_str(), json["role"].as_str()), (Some("role_changed"), Some("volunteer")));
        assert_eq!(PullResponse::from(serde_json::from_value::<PullBody>(json).unwrap()), demoted);
    }
}
