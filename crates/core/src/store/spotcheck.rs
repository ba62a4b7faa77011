//! The office's spot-check on the device: the claimed activations it holds, a drawn sample kept
//! as drawn (`spot_checks`, `spot_check_items`), and the sample with what was found so far and
//! the confirmation rate of each volunteer. The findings themselves are events
//! (`claim_checked.v1`), recorded offline and synced like any other.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DeviceStore;
use crate::error::Error;
use crate::event::GeoPosition;
use crate::funnel::FunnelState;
use crate::spotcheck::{CheckOutcome, Claim, draw};
use crate::sql::projection;

/// One drawn claim, with what the officer needs to find the person and what was found.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleItem {
    /// The person.
    pub resident_id: Uuid,
    /// Their name.
    pub full_name: String,
    /// Their birth year.
    pub birth_year: i32,
    /// Their CCCD, if known (the office is police: unmasked).
    pub cccd: Option<String>,
    /// Their hamlet.
    pub hamlet_code: String,
    /// The claim: the visit that said activated.
    pub visit_id: Uuid,
    /// The state it claimed.
    pub claimed: FunnelState,
    /// When, by the phone's clock.
    pub claimed_at: DateTime<Utc>,
    /// Who claimed it.
    pub author: Uuid,
    /// What the check found, once recorded (about this visit).
    pub outcome: Option<CheckOutcome>,
    /// Where the claiming phone was, when it said (police only: other phones never hold it).
    pub position: Option<GeoPosition>,
}

/// One volunteer's part of the sample.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorRate {
    /// The volunteer.
    pub author: Uuid,
    /// Their name ("" when no pull page named them yet).
    pub name: String,
    /// Their claims in the campaign (what the sample was drawn from).
    pub claims: u32,
    /// Drawn.
    pub drawn: u32,
    /// Checked so far.
    pub checked: u32,
    /// Confirmed.
    pub confirmed: u32,
}

/// A drawn sample and where its checking stands.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotCheckView {
    /// The sample.
    pub id: Uuid,
    /// The share drawn of each volunteer's claims.
    pub percent: u32,
    /// The draw's seed (the same claims and seed give the same sample).
    pub seed: String,
    /// When drawn.
    pub drawn_at: DateTime<Utc>,
    /// The drawn claims, by volunteer.
    pub items: Vec<SampleItem>,
    /// Each volunteer's part, by name.
    pub authors: Vec<AuthorRate>,
}

fn uuid(s: &str) -> Result<Uuid, Error> {
    Uuid::from_str(s).map_err(|_| Error::invalid_input(format!("unreadable id {s}")))
}

impl DeviceStore {
    /// The claimed activations this device holds: people not removed, in households not
    /// removed, whose deciding visit says activated, with who recorded it.
    pub fn claims(&self) -> Result<Vec<Claim>, Error> {
        let activated = crate::sql::activated_states();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.id, v.id, v.author FROM residents r
             JOIN households h ON h.id = r.household_id
             JOIN visits v ON v.id = r.deciding_visit
             WHERE r.removed IS NULL AND h.removed IS NULL AND r.status IN ({activated})
             ORDER BY v.id"
        ))?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (resident, visit, author) = row?;
            out.push(Claim { resident_id: uuid(&resident)?, visit_id: uuid(&visit)?, author: uuid(&author)? });
        }
        Ok(out)
    }

    /// Draws a new sample of `percent` of each volunteer's claims with a fresh seed, and keeps
    /// it as drawn. Police only: the findings are police events.
    pub fn draw_spot_check(&mut self, percent: u32) -> Result<Uuid, Error> {
        let enrollment = self.require_enrollment()?;
        if !enrollment.role.is_police() {
            return Err(Error::invalid_input(
                "Chỉ công an được rút mẫu kiểm tra xác suất / only the police draw spot-check samples",
            ));
        }
        if !(1..=100).contains(&percent) {
            return Err(Error::invalid_input("Tỉ lệ từ 1 đến 100% / the rate is 1 to 100 %"));
        }
        let claims = self.claims()?;
        let id = Uuid::now_v7();
        let seed = Uuid::new_v4().to_string();
        let sample = draw(&claims, percent, &seed);
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO spot_checks (id, seed, percent, drawn_at, drawn_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id.to_string(), seed, percent, Utc::now().to_rfc3339(), enrollment.user_id.to_string()],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO spot_check_items (sample_id, resident_id, visit_id, author) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for claim in &sample {
                insert.execute(params![
                    id.to_string(),
                    claim.resident_id.to_string(),
                    claim.visit_id.to_string(),
                    claim.author.to_string()
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// The latest drawn sample, with what was found so far; `None` before the first draw.
    pub fn spot_check(&self) -> Result<Option<SpotCheckView>, Error> {
        let head: Option<(String, String, u32, String)> = self
            .conn
            .query_row(
                "SELECT id, seed, percent, drawn_at FROM spot_checks ORDER BY drawn_at DESC, id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((id, seed, percent, drawn_at)) = head else { return Ok(None) };
        let mut stmt = self.conn.prepare(
            "SELECT i.resident_id, r.full_name, r.birth_year, r.cccd, h.hamlet_code, i.visit_id, v.status,
                    v.device_time, i.author, CASE WHEN r.checked_visit = i.visit_id THEN r.claim_check END,
                    v.lat_e6, v.lon_e6, v.accuracy_m
             FROM spot_check_items i
             JOIN residents r ON r.id = i.resident_id
             JOIN households h ON h.id = r.household_id
             JOIN visits v ON v.id = i.visit_id
             WHERE i.sample_id = ?1
             ORDER BY i.author, h.hamlet_code, r.search_key, i.visit_id",
        )?;
        let rows = stmt.query_map([&id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i32>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, Option<String>>(9)?,
                projection::position_at(r, 10)?,
            ))
        })?;
        let me = self.require_enrollment()?;
        // IMPORTANT: a visit's position is shown to the police only
        let police = me.role.is_police();
        let mut items = Vec::new();
        for row in rows {
            let (resident, full_name, birth_year, cccd, hamlet_code, visit, status, at, author, outcome, position) =
                row?;
            items.push(SampleItem {
                resident_id: uuid(&resident)?,
                full_name,
                birth_year,
                cccd,
                hamlet_code,
                visit_id: uuid(&visit)?,
                claimed: FunnelState::from_code(&status)
                    .ok_or_else(|| Error::invalid_input(format!("unreadable state {status}")))?,
                claimed_at: DateTime::parse_from_rfc3339(&at)
                    .map_err(|_| Error::invalid_input(format!("unreadable time {at}")))?
                    .with_timezone(&Utc),
                author: uuid(&author)?,
                outcome: outcome.as_deref().and_then(CheckOutcome::from_code),
                position: position.filter(|_| police),
            });
        }
        let claims = self.claims()?;
        let mut authors: Vec<AuthorRate> = Vec::new();
        for item in &items {
            let at = match authors.iter().position(|a| a.author == item.author) {
                Some(at) => at,
                None => {
                    let name = if item.author == me.user_id {
                        me.user_name.clone()
                    } else {
                        self.conn
                            .query_row("SELECT name FROM people WHERE id = ?1", [item.author.to_string()], |r| r.get(0))
                            .optional()?
                            .unwrap_or_default()
                    };
                    let claims = claims.iter().filter(|c| c.author == item.author).count() as u32;
                    authors.push(AuthorRate { author: item.author, name, claims, drawn: 0, checked: 0, confirmed: 0 });
                    authors.len() - 1
                }
            };
            let rate = &mut authors[at];
            rate.drawn += 1;
            rate.checked += u32::from(item.outcome.is_some());
            rate.confirmed += u32::from(item.outcome == Some(CheckOutcome::Confirmed));
        }
        authors.sort_by(|a, b| (&a.name, a.author).cmp(&(&b.name, b.author)));
        Ok(Some(SpotCheckView {
            id: uuid(&id)?,
            percent,
            seed,
            drawn_at: DateTime::parse_from_rfc3339(&drawn_at)
                .map_err(|_| Error::invalid_input(format!("unreadable time {drawn_at}")))?
                .with_timezone(&Utc),
            items,
            authors,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{self, Rng};
    use crate::forms::NewVisit;
    use crate::sync::protocol::{EventResult, EventStatus, PullResponse, PushResponse, Role};

    const HERE: GeoPosition = GeoPosition { lat_e6: 21_028_500, lon_e6: 105_854_200, accuracy_m: 15 };

    fn enrolled(role: Role) -> DeviceStore {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut response = fixtures::enroll_response(&store);
        response.user.role = role;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        store
    }

    /// Records a household of `people` in 03445-01; returns their ids.
    fn people(store: &mut DeviceStore, rng: &mut Rng, people: usize) -> Vec<Uuid> {
        let (_, residents, payloads) = fixtures::household_payloads(rng, "03445-01", people);
        for p in payloads {
            store.record(p).unwrap();
        }
        residents
    }

    fn activated(resident_id: Uuid, position: Option<GeoPosition>) -> NewVisit {
        NewVisit {
            resident_id,
            status: FunnelState::ActivatedLevel1,
            reason_code: None,
            action: None,
            follow_up: None,
            steps: vec![],
            note: None,
            position,
        }
    }

    #[test]
    fn a_claims_position_shows_on_the_police_spot_check_and_nowhere_else() {
        let mut office = enrolled(Role::CommunePolice);
        let mut rng = Rng::new(41);
        let residents = people(&mut office, &mut rng, 2);
        let with = office.record_visit(activated(residents[0], Some(HERE))).unwrap();
        let without = office.record_visit(activated(residents[1], None)).unwrap();

        // a position off the globe is refused by field, and nothing is stored
        let events = office.event_count().unwrap();
        let wrong = GeoPosition { lat_e6: 90_000_001, ..HERE };
        let Err(Error::Invalid(errors)) = office.record_visit(activated(residents[0], Some(wrong))) else {
            panic!("a latitude past the pole is refused")
        };
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("position", "latitude_out_of_range"));
        assert_eq!(office.event_count().unwrap(), events);

        let held = office.projection().unwrap();
        assert_eq!((held.visits[&with].position, held.visits[&without].position), (Some(HERE), None), "stored");
        let detail = office.resident_detail(residents[0]).unwrap();
        assert_eq!(detail.visits.len(), 1);
        assert_eq!(detail.visits[0].position, None, "the resident screen shows no position");

        office.draw_spot_check(100).unwrap();
        let view = office.spot_check().unwrap().unwrap();
        let position_of = |visit: Uuid| view.items.iter().find(|i| i.visit_id == visit).unwrap().position;
        assert_eq!((position_of(with), position_of(without)), (Some(HERE), None));
    }

    #[test]
    fn a_phone_that_is_not_the_polices_never_lists_a_position() {
        // a volunteer's phone holds the positions of its own visits; a sample it somehow held
        // (only the police draw one) would still show none of them
        let mut phone = enrolled(Role::Volunteer);
        let mut rng = Rng::new(42);
        let resident = people(&mut phone, &mut rng, 1)[0];
        let visit = phone.record_visit(activated(resident, Some(HERE))).unwrap();
        assert_eq!(phone.projection().unwrap().visits[&visit].position, Some(HERE));
        assert!(phone.draw_spot_check(100).is_err(), "only the police draw");
        let me = phone.require_enrollment().unwrap().user_id.to_string();
        phone
            .conn
            .execute_batch(&format!(
                "INSERT INTO spot_checks (id, seed, percent, drawn_at, drawn_by)
                 VALUES ('{sample}', 's', 100, '2026-12-01T00:00:00Z', '{me}');
                 INSERT INTO spot_check_items (sample_id, resident_id, visit_id, author)
                 VALUES ('{sample}', '{resident}', '{visit}', '{me}');",
                sample = Uuid::now_v7(),
            ))
            .unwrap();
        let view = phone.spot_check().unwrap().unwrap();
        assert_eq!(view.items.len(), 1);
        assert_eq!(view.items[0].position, None);
    }

    #[test]
    fn a_position_survives_the_retention_baseline_and_a_replay() {
        let mut office = enrolled(Role::CommunePolice);
        let mut rng = Rng::new(43);
        let residents = people(&mut office, &mut rng, 2);
        let visit = office.record_visit(activated(residents[0], Some(HERE))).unwrap();
        // the server has them all (in its order 1, 2, …) and this phone has pulled that far
        let acknowledge = |store: &mut DeviceStore, status: EventStatus, first: Option<u64>| {
            let batch = store.outbox_batch(1000, usize::MAX).unwrap();
            let results = batch
                .iter()
                .enumerate()
                .map(|(i, e)| EventResult {
                    seq: e.seq,
                    event_id: Some(e.id),
                    status,
                    errors: vec![],
                    flags: vec![],
                    server_seq: first.map(|f| f + i as u64),
                })
                .collect();
            let response = PushResponse {
                last_seq: batch.last().map_or(0, |e| e.seq),
                results,
                applied: vec![],
                expected_seq: None,
            };
            store.apply_push_response(&response).unwrap();
            batch.len() as u64
        };
        let sent = acknowledge(&mut office, EventStatus::Applied, Some(1));
        let page = PullResponse { cursor: sent, epoch: "e1".into(), ..Default::default() };
        office.apply_pull_page(&page).unwrap();
        assert_eq!(office.purge_acknowledged(chrono::Utc::now()).unwrap(), sent, "everything is in the baseline");
        assert_eq!(office.event_count().unwrap(), 0);

        // a later visit the server rejects makes the phone replay from the baseline
        office.record_visit(activated(residents[1], None)).unwrap();
        acknowledge(&mut office, EventStatus::Rejected, None);
        let held = office.projection().unwrap();
        assert_eq!(held.visits.len(), 1, "the rejected visit is gone, the purged one replayed");
        assert_eq!(held.visits[&visit].position, Some(HERE), "its position came back from the baseline");
    }
}
