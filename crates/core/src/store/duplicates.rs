//! Likely duplicates, found while a person is being added on the spot: someone this device holds
//! with the same CCCD anywhere in its scope, or with the same name and birth year in the same
//! hamlet. A warning the volunteer may pass over, never a refusal (two people may share a name).

use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DeviceStore;
use crate::error::Error;
use crate::text::fold;

/// Someone already held who may be the person being added.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateHint {
    /// The person held.
    pub resident_id: Uuid,
    /// Their household.
    pub household_id: Uuid,
    /// Their name.
    pub full_name: String,
    /// Their birth year.
    pub birth_year: i32,
    /// Their hamlet.
    pub hamlet_code: String,
    /// Their household's head.
    pub head_name: String,
    /// The same CCCD (else: the same name and birth year in the hamlet).
    pub same_cccd: bool,
}

impl DeviceStore {
    /// People held (not removed) who may be the one being added to `household_id`: the same
    /// `cccd` anywhere, or the same name (accents and case aside) and birth year in its hamlet.
    /// A masked CCCD (another volunteer's, on a phone that does not see them) matches nothing.
    /// At most 10, same CCCD first.
    pub fn likely_duplicates(
        &self,
        household_id: Uuid,
        full_name: &str,
        birth_year: i32,
        cccd: Option<&str>,
    ) -> Result<Vec<DuplicateHint>, Error> {
        let cccd: Option<String> =
            cccd.map(|c| c.chars().filter(|ch| !ch.is_whitespace()).collect()).filter(|c: &String| !c.is_empty());
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.household_id, r.full_name, r.birth_year, h.hamlet_code, h.head_name,
                    coalesce(r.cccd = ?3, 0) AS same_cccd
             FROM residents r JOIN households h ON h.id = r.household_id
             WHERE r.removed IS NULL AND h.removed IS NULL
               AND ((?3 IS NOT NULL AND r.cccd = ?3)
                    OR (h.hamlet_code = (SELECT hamlet_code FROM households WHERE id = ?1)
                        AND r.search_key = ?2 AND r.birth_year = ?4))
             ORDER BY same_cccd DESC, r.search_key, r.id
             LIMIT 10",
        )?;
        let rows = stmt.query_map(params![household_id.to_string(), fold(full_name), cccd, birth_year], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i32>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })?;
        let id = |s: &str| Uuid::parse_str(s).map_err(|_| Error::invalid_input(format!("unreadable id {s}")));
        let mut out = Vec::new();
        for row in rows {
            let (resident, household, full_name, birth_year, hamlet_code, head_name, same_cccd) = row?;
            out.push(DuplicateHint {
                resident_id: id(&resident)?,
                household_id: id(&household)?,
                full_name,
                birth_year,
                hamlet_code,
                head_name,
                same_cccd,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::event::{HouseholdCreated, Payload, ResidentAdded, ResidentFields};
    use crate::fixtures;
    use crate::model::Sex;
    use crate::store::DeviceStore;
    use uuid::Uuid;

    fn household(store: &mut DeviceStore, hamlet: &str) -> Uuid {
        let id = Uuid::now_v7();
        store
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id: id,
                hamlet_code: hamlet.into(),
                address: "Số 1".into(),
                head_name: "Lò Văn Chủ".into(),
            }))
            .unwrap();
        id
    }

    fn person(store: &mut DeviceStore, household: Uuid, name: &str, year: i32, cccd: Option<&str>) -> Uuid {
        let id = Uuid::now_v7();
        let fields = ResidentFields {
            full_name: name.into(),
            birth_year: year,
            sex: Sex::Female,
            cccd: cccd.map(Into::into),
            phone: None,
        };
        store
            .record(Payload::ResidentAdded(ResidentAdded { resident_id: id, household_id: household, fields }))
            .unwrap();
        id
    }

    #[test]
    fn the_same_cccd_anywhere_or_the_same_name_and_year_in_the_hamlet_is_a_likely_duplicate() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let response = fixtures::enroll_response(&store);
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let (here, there) = (household(&mut store, "03445-01"), household(&mut store, "03445-02"));
        let lan = person(&mut store, here, "Lò Thị Lan", 1990, Some("011190000123"));
        let elsewhere = person(&mut store, there, "Giàng Thị Mai", 1985, Some("011185000456"));
        let new_home = household(&mut store, "03445-01");

        let hints = store.likely_duplicates(new_home, "LO THI LAN", 1990, None).unwrap();
        assert_eq!(
            hints.iter().map(|h| (h.resident_id, h.same_cccd)).collect::<Vec<_>>(),
            [(lan, false)],
            "accents aside"
        );
        assert!(store.likely_duplicates(new_home, "Lò Thị Lan", 1991, None).unwrap().is_empty(), "another year");
        let hints = store.likely_duplicates(new_home, "Ai Khác", 2000, Some(" 0111 8500 0456 ")).unwrap();
        assert_eq!(hints.iter().map(|h| (h.resident_id, h.same_cccd)).collect::<Vec<_>>(), [(elsewhere, true)]);
        assert_eq!(hints[0].hamlet_code, "03445-02");
        assert!(store.likely_duplicates(new_home, "Giàng Thị Mai", 1985, None).unwrap().is_empty(), "another hamlet");
    }
}
