//! The compact JSON of a push (schema 3): what every event of a batch shares is said once.
//!
//! A device's events all carry its device id and its user, and their ids follow from the device
//! and the sequence number ([`crate::ids::event_id`]). The wire form therefore puts `device_id`
//! and `author` once on the batch and leaves an event's `id` out when it is the derived one.
//! Older apps send every field on every event, which reads the same way: a field on an event
//! wins over the batch's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::protocol::PushRequest;
use crate::event::{Event, Payload};
use crate::ids;

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
        PushBody { schema_version: request.schema_version, app_version: request.app_version, device_id, author, events }
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
        Ok(PushRequest { schema_version: body.schema_version, app_version: body.app_version, events })
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
        let request = PushRequest { schema_version: 3, app_version: "0.1.0".into(), events: batch(device, author) };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["device_id"], device.to_string());
        assert_eq!(json["author"], author.to_string());
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
        let request = PushRequest { schema_version: 3, app_version: "0.1.0".into(), events };
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
}
