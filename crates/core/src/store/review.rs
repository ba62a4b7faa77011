//! The review queue: households and people an edit flagged (two edits from one version: a
//! parallel update, or a conflict where the later arrival won), for a police officer or team
//! leader to look at and settle with `review_resolved.v1`.

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
    /// A person (else a household).
    pub is_person: bool,
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
    /// Every household and person flagged for review (not removed), by hamlet and name.
    pub fn review_queue(&self) -> Result<Vec<ReviewItem>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT h.id, h.id, 0, h.head_name, h.head_name || ', ' || h.address, h.hamlet_code, h.review, h.version,
                    h.search_key
             FROM households h WHERE h.review IS NOT NULL AND h.removed IS NULL
             UNION ALL
             SELECT r.id, h.id, 1, r.full_name, h.head_name || ', ' || h.address, h.hamlet_code, r.review, r.version,
                    r.search_key
             FROM residents r JOIN households h ON h.id = r.household_id
             WHERE r.review IS NOT NULL AND r.removed IS NULL AND h.removed IS NULL
             ORDER BY 6, 9, 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, u32>(7)?,
            ))
        })?;
        let id = |s: &str| Uuid::parse_str(s).map_err(|_| Error::invalid_input(format!("unreadable id {s}")));
        let mut out = Vec::new();
        for row in rows {
            let (record, household, is_person, title, place, hamlet_code, review, version) = row?;
            out.push(ReviewItem {
                record_id: id(&record)?,
                household_id: id(&household)?,
                is_person,
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
            Payload::ReviewResolved(ReviewResolved { record_id: h, base_version, resolution: "kept".into() })
        };
        store.record(resolve(seen - 1)).unwrap();
        assert_eq!(store.review_queue().unwrap().len(), 1);
        store.record(resolve(seen)).unwrap();
        assert!(store.review_queue().unwrap().is_empty());
        let bad = Payload::ReviewResolved(ReviewResolved { record_id: h, base_version: seen, resolution: "x".into() });
        assert!(store.record(bad).is_err());
    }
}
