//! The review queue: households and people an edit flagged (two edits from one version: a
//! parallel update, or a conflict where the later arrival won), and visits recorded on a phone
//! whose clock the server clamped, for a police officer or team leader to look at and settle
//! with `review_resolved.v1`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DeviceStore;
use crate::error::Error;
use crate::model::Review;

/// One flagged record.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// The household or person.
    pub record_id: Uuid,
    /// Its household (itself for a household).
    pub household_id: Uuid,
    /// A person (else a household or a visit).
    pub is_person: bool,
    /// A visit (its person's name is the title).
    pub is_visit: bool,
    /// The person a person's or a visit's item is about (to open).
    pub resident_id: Option<Uuid>,
    /// A visit's time by the recording phone's clock (the wrong one), RFC 3339.
    pub recorded_at: Option<String>,
    /// The person's name, or the household's head.
    pub title: String,
    /// The household's head and address.
    pub household: String,
    /// Hamlet code.
    pub hamlet_code: String,
    /// Why it is flagged.
    pub review: Review,
    /// Its version now (what a resolution names as seen).
    pub version: u32,
}

impl DeviceStore {
    /// Every household, person and visit flagged for review (not removed), by hamlet and name.
    pub fn review_queue(&self) -> Result<Vec<ReviewItem>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT h.id, h.id, 0, h.head_name, h.head_name || ', ' || h.address, h.hamlet_code, h.review, h.version,
                    h.search_key, NULL, NULL
             FROM households h WHERE h.review IS NOT NULL AND h.removed IS NULL
             UNION ALL
             SELECT r.id, h.id, 1, r.full_name, h.head_name || ', ' || h.address, h.hamlet_code, r.review, r.version,
                    r.search_key, r.id, NULL
             FROM residents r JOIN households h ON h.id = r.household_id
             WHERE r.review IS NOT NULL AND r.removed IS NULL AND h.removed IS NULL
             UNION ALL
             SELECT v.id, h.id, 2, r.full_name, h.head_name || ', ' || h.address, h.hamlet_code, v.review, 0,
                    r.search_key, r.id, v.device_time
             FROM visits v JOIN residents r ON r.id = v.resident_id JOIN households h ON h.id = r.household_id
             WHERE v.review IS NOT NULL AND r.removed IS NULL AND h.removed IS NULL
             ORDER BY 6, 9, 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u8>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, u32>(7)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
            ))
        })?;
        let id = |s: &str| Uuid::parse_str(s).map_err(|_| Error::invalid_input(format!("unreadable id {s}")));
        let mut out = Vec::new();
        for row in rows {
            let (record, household, kind, title, place, hamlet_code, review, version, resident, recorded_at) = row?;
            out.push(ReviewItem {
                record_id: id(&record)?,
                household_id: id(&household)?,
                is_person: kind == 1,
                is_visit: kind == 2,
                resident_id: resident.as_deref().map(id).transpose()?,
                recorded_at,
                title,
                household: place,
                hamlet_code,
                review: Review::from_code(&review)
                    .ok_or_else(|| Error::invalid_input(format!("unknown review {review}")))?,
                version,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::event::{HouseholdCreated, HouseholdPatch, Payload, ReviewResolved};
    use crate::fixtures;
    use crate::model::Review;
    use crate::store::DeviceStore;
    use crate::sync::protocol::Role;

    #[test]
    fn a_flagged_household_is_queued_until_settled_and_a_later_change_keeps_it_queued() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut response = fixtures::enroll_response(&store);
        response.user.role = Role::TeamLeader;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let h = Uuid::now_v7();
        store
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id: h,
                hamlet_code: "03445-01".into(),
                address: "Số 1".into(),
                head_name: "Lò Văn Chủ".into(),
            }))
            .unwrap();
        let patch = |address: &str| {
            Payload::HouseholdPatched(HouseholdPatch {
                household_id: h,
                base_version: 1,
                address: Some(address.into()),
                head_name: None,
            })
        };
        store.record(patch("Số 2")).unwrap();
        store.record(patch("Số 3")).unwrap(); // the same field from the same version: a conflict
        let queue = store.review_queue().unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!((queue[0].record_id, queue[0].review, queue[0].is_person), (h, Review::Conflict, false));
        let seen = queue[0].version;

        // settled as seen at an older version: the record changed since, so it stays queued
        let resolve = |base_version| {
            Payload::ReviewResolved(ReviewResolved {
                record_id: h,
                base_version,
                resolution: "kept".into(),
                resident_id: None,
            })
        };
        store.record(resolve(seen - 1)).unwrap();
        assert_eq!(store.review_queue().unwrap().len(), 1);
        store.record(resolve(seen)).unwrap();
        assert!(store.review_queue().unwrap().is_empty());
        let bad = Payload::ReviewResolved(ReviewResolved {
            record_id: h,
            base_version: seen,
            resolution: "x".into(),
            resident_id: None,
        });
        assert!(store.record(bad).is_err());
    }

    #[test]
    fn a_pulled_visit_under_a_wrong_clock_stays_queued_through_a_purge_until_settled() {
        use crate::event::Event;
        use crate::sync::protocol::{ClampedEvent, Flag, PullResponse, PulledEvent};
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut response = fixtures::enroll_response(&store);
        response.user.role = Role::TeamLeader;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let (phone, author) = (Uuid::now_v7(), Uuid::now_v7());
        let mut rng = fixtures::Rng::new(5);
        let (_, residents, mut payloads) = fixtures::household_payloads(&mut rng, "03445-01", 1);
        payloads.push(fixtures::visit_payload(&mut rng, residents[0], &[]));
        let Some(Payload::VisitRecorded(visit)) = payloads.last().cloned() else { unreachable!() };
        let events: Vec<PulledEvent> = payloads
            .into_iter()
            .zip(1u64..)
            .map(|(payload, seq)| PulledEvent {
                server_seq: seq,
                event: Event {
                    id: crate::ids::event_id(phone, seq),
                    device_id: phone,
                    seq,
                    author,
                    device_time: chrono::Utc::now(),
                    payload,
                },
            })
            .collect();
        let page = PullResponse {
            events,
            cursor: 3,
            epoch: "e1".into(),
            clamped: vec![ClampedEvent { server_seq: 3, flag: Flag::ClockBehind }],
            ..PullResponse::default()
        };
        store.apply_pull_page(&page).unwrap();
        let queue = store.review_queue().unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(
            (queue[0].record_id, queue[0].review, queue[0].is_visit),
            (visit.visit_id, Review::ClockBehind, true)
        );
        assert_eq!(queue[0].resident_id, Some(residents[0]));

        // folded into the retention baseline, it keeps its flag
        assert_eq!(store.purge_acknowledged(chrono::Utc::now() + chrono::Duration::days(1)).unwrap(), 3);
        assert_eq!(store.review_queue().unwrap().len(), 1);

        store
            .record(Payload::ReviewResolved(ReviewResolved {
                record_id: visit.visit_id,
                base_version: 0,
                resolution: "kept".into(),
                resident_id: Some(residents[0]),
            }))
            .unwrap();
        assert!(store.review_queue().unwrap().is_empty());
        // an unknown record is still refused
        let unknown = Payload::ReviewResolved(ReviewResolved {
            record_id: Uuid::now_v7(),
            base_version: 0,
            resolution: "kept".into(),
            resident_id: None,
        });
        assert!(store.record(unknown).is_err());
    }
}
