//! A resident's erasure on request (Decree 13/2023/NĐ-CP, the right to deletion): their name,
//! CCCD number and phone, and the notes and positions of their visits, leave every event and every
//! projection row that held them, on the server and on each phone.
//!
//! What stays is what counts without naming anyone: the record itself (with its id), the
//! birth year and sex, and the visits' states, reasons and dates, so the campaign's totals do
//! not change. A household whose head had one of the resident's names loses that name too.
//! The same functions run on both sides: the server rewrites its log and projection at once,
//! and a phone does so when a pull page says the resident was erased (`PullResponse::erased`).

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::error::Error;
use crate::event::Payload;
use crate::reducer::StateView;
use crate::sql::projection::SqlView;
use crate::text::fold;

/// What an erased person's name becomes.
pub const ERASED_NAME: &str = "Đã xoá theo yêu cầu";

/// The person being erased: who they are and which names they were known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The resident.
    pub resident_id: Uuid,
    /// Their household.
    pub household_id: Uuid,
    /// Every name they had in the log or the projection.
    pub names: BTreeSet<String>,
}

/// Removes the erased person's values from one payload; returns whether it changed.
pub fn redact(payload: &mut Payload, erasure: &Erasure) -> bool {
    let erased_name = |name: &mut String| {
        if erasure.names.contains(name.as_str()) {
            *name = ERASED_NAME.to_owned();
            true
        } else {
            false
        }
    };
    match payload {
        Payload::ResidentAdded(p) if p.resident_id == erasure.resident_id => {
            p.fields.full_name = ERASED_NAME.to_owned();
            p.fields.cccd = None;
            p.fields.phone = None;
            true
        }
        Payload::ResidentEdited(p) if p.resident_id == erasure.resident_id => {
            p.fields.full_name = ERASED_NAME.to_owned();
            p.fields.cccd = None;
            p.fields.phone = None;
            true
        }
        Payload::ResidentPatched(p) if p.resident_id == erasure.resident_id => {
            let mut changed = false;
            if p.full_name.is_some() {
                p.full_name = Some(ERASED_NAME.to_owned());
                changed = true;
            }
            for value in [&mut p.cccd, &mut p.phone] {
                if value.as_deref().is_some_and(|v| !v.is_empty()) {
                    *value = Some(String::new());
                    changed = true;
                }
            }
            changed
        }
        Payload::VisitRecorded(p) if p.resident_id == erasure.resident_id => {
            // where they were met is about them too
            let had_position = p.position.take().is_some();
            p.note.take().is_some() || had_position
        }
        Payload::HouseholdCreated(p) if p.household_id == erasure.household_id => erased_name(&mut p.head_name),
        Payload::HouseholdEdited(p) if p.household_id == erasure.household_id => erased_name(&mut p.head_name),
        Payload::HouseholdPatched(p) if p.household_id == erasure.household_id => {
            p.head_name.as_mut().is_some_and(erased_name)
        }
        _ => false,
    }
}

/// Who `resident_id` is in this database's log (`events` with a JSON `payload` column) and
/// projection; `None` when neither knows them.
pub fn erasure_of(conn: &Connection, resident_id: Uuid) -> Result<Option<Erasure>, Error> {
    let mut names = BTreeSet::new();
    let mut household_id = SqlView::new(conn).resident(resident_id)?.map(|r| {
        names.insert(r.full_name);
        r.household_id
    });
    for payload in payloads_mentioning(conn, resident_id)? {
        let (_, payload) = payload;
        match payload {
            Payload::ResidentAdded(p) if p.resident_id == resident_id => {
                household_id.get_or_insert(p.household_id);
                names.insert(p.fields.full_name);
            }
            Payload::ResidentEdited(p) if p.resident_id == resident_id => {
                names.insert(p.fields.full_name);
            }
            Payload::ResidentPatched(p) if p.resident_id == resident_id => {
                names.extend(p.full_name);
            }
            _ => {}
        }
    }
    names.remove(ERASED_NAME);
    Ok(household_id.map(|household_id| Erasure { resident_id, household_id, names }))
}

/// Events whose payload mentions `id` (a resident's or household's), with their row ids.
fn payloads_mentioning(conn: &Connection, id: Uuid) -> Result<Vec<(String, Payload)>, Error> {
    let mut stmt = conn.prepare("SELECT id, payload FROM events WHERE instr(payload, ?1) > 0")?;
    let rows = stmt.query_map([id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (event_id, json) = row?;
        out.push((event_id, serde_json::from_str(&json)?));
    }
    Ok(out)
}

/// Rewrites every event of the log that holds the erased person's values; returns how many.
pub fn redact_log(conn: &Connection, erasure: &Erasure) -> Result<usize, Error> {
    let mut changed = 0;
    for id in [erasure.resident_id, erasure.household_id] {
        for (event_id, mut payload) in payloads_mentioning(conn, id)? {
            if redact(&mut payload, erasure) {
                conn.execute(
                    "UPDATE events SET payload = ?2 WHERE id = ?1",
                    params![event_id, serde_json::to_string(&payload)?],
                )?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// Removes the erased person's values from projection rows, in `households`, `residents` and
/// `visits` (`prefix` "") or the retention baseline's copies of them (`prefix` "base_"). The
/// device's search index follows through its update triggers.
pub fn redact_rows(conn: &Connection, erasure: &Erasure, prefix: &str) -> Result<(), Error> {
    let resident = erasure.resident_id.to_string();
    conn.execute(
        &format!(
            "UPDATE {prefix}residents SET full_name = ?2, cccd = NULL, phone = NULL, search_key = ?3 WHERE id = ?1"
        ),
        params![resident, ERASED_NAME, fold(ERASED_NAME)],
    )?;
    conn.execute(
        &format!(
            "UPDATE {prefix}visits SET note = NULL, lat_e6 = NULL, lon_e6 = NULL, accuracy_m = NULL WHERE resident_id = ?1"
        ),
        [&resident],
    )?;
    let household: Option<(String, String)> = conn
        .query_row(
            &format!("SELECT head_name, address FROM {prefix}households WHERE id = ?1"),
            [erasure.household_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((head, address)) = household
        && erasure.names.contains(&head)
    {
        conn.execute(
            &format!("UPDATE {prefix}households SET head_name = ?2, search_key = ?3 WHERE id = ?1"),
            params![erasure.household_id.to_string(), ERASED_NAME, fold(&format!("{ERASED_NAME} {address}"))],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{HouseholdCreated, ResidentAdded, ResidentFields, ResidentPatch, VisitRecorded};
    use crate::funnel::FunnelState;
    use crate::model::Sex;

    fn erasure() -> Erasure {
        Erasure {
            resident_id: Uuid::from_u128(1),
            household_id: Uuid::from_u128(2),
            names: ["Vi Thị Sentinel".to_owned()].into(),
        }
    }

    #[test]
    fn only_the_erased_person_s_values_leave_a_payload() {
        let e = erasure();
        let mut added = Payload::ResidentAdded(ResidentAdded {
            resident_id: e.resident_id,
            household_id: e.household_id,
            fields: ResidentFields {
                full_name: "Vi Thị Sentinel".into(),
                birth_year: 1988,
                sex: Sex::Female,
                cccd: Some("038188654321".into()),
                phone: Some("0987650321".into()),
            },
        });
        assert!(redact(&mut added, &e));
        let json = serde_json::to_string(&added).unwrap();
        for gone in ["Sentinel", "038188654321", "0987650321"] {
            assert!(!json.contains(gone), "{json}");
        }
        assert!(json.contains("1988"), "the birth year stays for the totals");

        let mut head = Payload::HouseholdCreated(HouseholdCreated {
            household_id: e.household_id,
            hamlet_code: "03445-01".into(),
            address: "Bản Nậm Củm".into(),
            head_name: "Vi Thị Sentinel".into(),
        });
        assert!(redact(&mut head, &e));
        let mut other_head = Payload::HouseholdCreated(HouseholdCreated {
            household_id: e.household_id,
            hamlet_code: "03445-01".into(),
            address: "Bản Nậm Củm".into(),
            head_name: "Lò Văn Phóng".into(),
        });
        assert!(!redact(&mut other_head, &e), "another head's name stays");

        let mut patch = Payload::ResidentPatched(ResidentPatch {
            resident_id: e.resident_id,
            cccd: Some("038188654321".into()),
            ..Default::default()
        });
        assert!(redact(&mut patch, &e));
        assert!(matches!(&patch, Payload::ResidentPatched(p) if p.cccd.as_deref() == Some("")));

        let visit = |resident_id| {
            Payload::VisitRecorded(VisitRecorded {
                visit_id: Uuid::from_u128(9),
                resident_id,
                status: FunnelState::NotRegistered,
                reason_code: Some("refused".into()),
                action: None,
                follow_up: None,
                steps: vec![],
                note: Some("nói chuyện với con gái".into()),
                position: None,
            })
        };
        let mut mine = visit(e.resident_id);
        assert!(redact(&mut mine, &e));
        assert!(matches!(&mine, Payload::VisitRecorded(v) if v.note.is_none() && v.reason_code.is_some()));
        let mut neighbour = visit(Uuid::from_u128(3));
        assert!(!redact(&mut neighbour, &e), "a neighbour's visit is not touched");
        // a visit with no note but a position: the position goes
        let mut placed = visit(e.resident_id);
        if let Payload::VisitRecorded(v) = &mut placed {
            v.note = None;
            v.position = Some(crate::event::GeoPosition { lat_e6: 22_345_678, lon_e6: 102_876_543, accuracy_m: 15 });
        }
        assert!(redact(&mut placed, &e));
        assert!(matches!(&placed, Payload::VisitRecorded(v) if v.position.is_none()));
    }
}
