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
use crate::funnel::FunnelState;
use crate::spotcheck::{CheckOutcome, Claim, draw};

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
                    v.device_time, i.author, CASE WHEN r.checked_visit = i.visit_id THEN r.claim_check END
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
            ))
        })?;
        let mut items = Vec::new();
        for row in rows {
            let (resident, full_name, birth_year, cccd, hamlet_code, visit, status, at, author, outcome) = row?;
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
            });
        }
        let claims = self.claims()?;
        let me = self.require_enrollment()?;
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
