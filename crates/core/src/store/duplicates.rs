//! Likely duplicates: while a person is being added on the spot, someone this device holds with
//! the same CCCD anywhere in its scope, or with the same name and birth year in the same hamlet
//! (a warning the volunteer may pass over, never a refusal: two people may share a name); and
//! for the office, every such pair it holds, to merge (`residents_merged.v1`) or to mark as two
//! people.

use std::collections::{BTreeMap, HashSet};

use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DeviceStore;
use crate::error::Error;
use crate::funnel::FunnelState;
use crate::model::Sex;
use crate::reducer::StateView;
use crate::sql::projection::SqlView;
use crate::text::fold;

/// The most pairs [`DeviceStore::duplicate_pairs`] returns.
pub const MAX_PAIRS: usize = 500;

/// One of two records that may be one person, as the office sees it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairSide {
    /// The record.
    pub resident_id: Uuid,
    /// Name.
    pub full_name: String,
    /// Birth year.
    pub birth_year: i32,
    /// Sex.
    pub sex: Sex,
    /// CCCD (the office is police: unmasked).
    pub cccd: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Their household's head and address.
    pub head_name: String,
    /// Address.
    pub address: String,
    /// Hamlet code.
    pub hamlet_code: String,
    /// Furthest state reached.
    pub status: Option<FunnelState>,
    /// Visits recorded.
    pub visit_count: u32,
    /// Brought by one of this device's imports (not undone), rather than typed.
    pub imported: bool,
}

/// Two records that may be one person. `a` is the one to keep, by default: the imported one
/// (the police list is the reference), else the one with a CCCD, else the one with more visits.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatePair {
    /// The record suggested to keep.
    pub a: PairSide,
    /// The record suggested to merge into it.
    pub b: PairSide,
    /// The same CCCD (else: the same name and birth year in one hamlet).
    pub same_cccd: bool,
    /// Both in one hamlet: only then can they be merged.
    pub same_hamlet: bool,
}

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

impl DeviceStore {
    /// Every pair of people held (not removed) that may be one person: the same CCCD anywhere,
    /// or the same name (accents and case aside) and birth year in one hamlet; pairs marked as
    /// two people left out. Same CCCD first; at most [`MAX_PAIRS`].
    pub fn duplicate_pairs(&self) -> Result<Vec<DuplicatePair>, Error> {
        let live = "FROM residents r JOIN households h ON h.id = r.household_id
                    WHERE r.removed IS NULL AND h.removed IS NULL";
        let groups = |sql: &str| -> Result<Vec<Vec<String>>, Error> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for ids in rows {
                let mut ids: Vec<String> = ids?.split(',').map(str::to_owned).collect();
                ids.sort();
                out.push(ids);
            }
            Ok(out)
        };
        let by_cccd = groups(&format!(
            "SELECT group_concat(r.id) {live} AND r.cccd IS NOT NULL AND instr(r.cccd, '*') = 0
             GROUP BY r.cccd HAVING count(*) > 1"
        ))?;
        let by_name = groups(&format!(
            "SELECT group_concat(r.id) {live} GROUP BY h.hamlet_code, r.search_key, r.birth_year HAVING count(*) > 1"
        ))?;
        let mut dismissed = HashSet::new();
        let mut stmt = self.conn.prepare("SELECT a, b FROM not_duplicates")?;
        for pair in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            dismissed.insert(pair?);
        }
        // (smaller id, larger id) -> same CCCD
        let mut pairs: BTreeMap<(String, String), bool> = BTreeMap::new();
        for (same_cccd, groups) in [(true, by_cccd), (false, by_name)] {
            for ids in groups {
                for (i, a) in ids.iter().enumerate() {
                    for b in &ids[i + 1..] {
                        let key = (a.clone(), b.clone());
                        if !dismissed.contains(&key) {
                            *pairs.entry(key).or_default() |= same_cccd;
                        }
                    }
                }
            }
        }
        let imported = self.imported_people()?;
        let view = SqlView::new(&self.conn);
        let side = |id: &str| -> Result<PairSide, Error> {
            let id = Uuid::parse_str(id).map_err(|_| Error::invalid_input(format!("unreadable id {id}")))?;
            let r = view.resident(id)?.ok_or_else(|| Error::NotFound { what: "resident", id: id.to_string() })?;
            let h = view
                .household(r.household_id)?
                .ok_or_else(|| Error::NotFound { what: "household", id: r.household_id.to_string() })?;
            Ok(PairSide {
                imported: imported.contains(&r.id),
                resident_id: r.id,
                full_name: r.full_name,
                birth_year: r.birth_year,
                sex: r.sex,
                cccd: r.cccd,
                phone: r.phone,
                head_name: h.head_name,
                address: h.address,
                hamlet_code: h.hamlet_code,
                status: r.status,
                visit_count: r.visit_count,
            })
        };
        let mut out = Vec::new();
        for ((a, b), same_cccd) in pairs {
            let (a, b) = (side(&a)?, side(&b)?);
            let rank = |s: &PairSide| (s.imported, s.cccd.is_some(), s.visit_count);
            let (a, b) = if rank(&b) > rank(&a) { (b, a) } else { (a, b) };
            let same_hamlet = a.hamlet_code == b.hamlet_code;
            out.push(DuplicatePair { a, b, same_cccd, same_hamlet });
        }
        out.sort_by(|x, y| {
            (!x.same_cccd, &x.a.hamlet_code, fold(&x.a.full_name)).cmp(&(
                !y.same_cccd,
                &y.a.hamlet_code,
                fold(&y.a.full_name),
            ))
        });
        out.truncate(MAX_PAIRS);
        Ok(out)
    }

    /// Marks two records as two different people: the pair is no longer shown (on this device).
    pub fn mark_not_duplicates(&mut self, one: Uuid, other: Uuid) -> Result<(), Error> {
        let (a, b) = if one < other { (one, other) } else { (other, one) };
        self.conn.execute(
            "INSERT OR IGNORE INTO not_duplicates (a, b) VALUES (?1, ?2)",
            params![a.to_string(), b.to_string()],
        )?;
        Ok(())
    }

    /// The people this device's imports brought and did not undo.
    fn imported_people(&self) -> Result<HashSet<Uuid>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT p.value FROM imports i, json_each(i.undo, '$.people_created') p WHERE i.undone_at IS NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = HashSet::new();
        for id in rows {
            out.extend(Uuid::parse_str(&id?).ok());
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

    #[test]
    fn the_office_sees_each_pair_once_the_imported_record_first_and_can_mark_two_people() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut response = fixtures::enroll_response(&store);
        response.user.role = crate::sync::protocol::Role::CommunePolice;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let (typed_home, other_home) = (household(&mut store, "03445-01"), household(&mut store, "03445-02"));
        let typed = person(&mut store, typed_home, "Lò Thị Lan", 1990, None);
        let namesake = person(&mut store, typed_home, "Hà Văn Sơn", 1970, None);
        let namesake_too = person(&mut store, typed_home, "HA VAN SON", 1970, None);
        let moved = person(&mut store, other_home, "Giàng Thị Mai", 1985, Some("011185000456"));
        // an import brings Lan with her CCCD, in another household of her hamlet, and Mai again
        let listed_home = Uuid::now_v7();
        let (listed_lan, listed_mai) = (Uuid::now_v7(), Uuid::now_v7());
        let fields = |name: &str, year, cccd: &str| ResidentFields {
            full_name: name.into(),
            birth_year: year,
            sex: Sex::Female,
            cccd: Some(cccd.into()),
            phone: None,
        };
        let payloads = vec![
            Payload::HouseholdCreated(HouseholdCreated {
                household_id: listed_home,
                hamlet_code: "03445-01".into(),
                address: "Số 7".into(),
                head_name: "Lò Văn Chủ".into(),
            }),
            Payload::ResidentAdded(ResidentAdded {
                resident_id: listed_lan,
                household_id: listed_home,
                fields: fields("Lò Thị Lan", 1990, "011190000123"),
            }),
            Payload::ResidentAdded(ResidentAdded {
                resident_id: listed_mai,
                household_id: listed_home,
                fields: fields("Giang Thi Mai", 1985, "011185000456"),
            }),
        ];
        let undo = serde_json::json!({
            "households_created": [listed_home],
            "people_created": [listed_lan, listed_mai],
        });
        store.record_import("danh-sach.csv", payloads, "{}", &undo.to_string()).unwrap();

        let pairs = store.duplicate_pairs().unwrap();
        let shown: Vec<_> =
            pairs.iter().map(|p| (p.a.resident_id, p.b.resident_id, p.same_cccd, p.same_hamlet)).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert_eq!(shown[0], (listed_mai, moved, true, false), "same CCCD first, even across hamlets");
        assert!(shown.contains(&(listed_lan, typed, false, true)), "the imported record is the one to keep");
        let pair = |x: Uuid, y: Uuid| shown.iter().any(|s| (s.0 == x && s.1 == y) || (s.0 == y && s.1 == x));
        assert!(pair(namesake, namesake_too));
        assert!(pairs.iter().all(|p| p.a.imported || !p.b.imported));
        assert!(pairs.iter().find(|p| p.a.resident_id == listed_lan).is_some_and(|p| p.a.imported && !p.b.imported));

        store.mark_not_duplicates(namesake_too, namesake).unwrap();
        store
            .record(Payload::ResidentsMerged(crate::event::ResidentsMerged { kept: listed_lan, merged: typed }))
            .unwrap();
        let left: Vec<_> =
            store.duplicate_pairs().unwrap().iter().map(|p| (p.a.resident_id, p.b.resident_id)).collect();
        assert_eq!(left, [(listed_mai, moved)], "merged and marked pairs are gone");
    }
}
