//! The report's facts (`crate::report::Facts`) from a SQLite projection: the device store's and
//! the SQLite server's. Grouped in SQL by hamlet, state, day and author, so what crosses into Rust
//! is a few rows per hamlet, not one per person; and the people of one hamlet for the named lists.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::projection::{bad, opt_status_at, opt_uuid_at, uuid_at};
use crate::error::Error;
use crate::funnel::FunnelState;
use crate::model::Sex;
use crate::report::lists::ListRow;
use crate::report::{DayRange, Facts, FlowCount, HouseholdCount, REPORT_UTC_OFFSET_MINUTES, StateCount};
use crate::spotcheck::CheckOutcome;

/// People and households counted: listed ones (not removed, not merged away) in the hamlets of
/// `?1` (a JSON array).
const LISTED: &str = "FROM residents r JOIN households h ON h.id = r.household_id
     WHERE h.hamlet_code IN (SELECT value FROM json_each(?1))
       AND r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL";

/// The facts of `hamlets` over `range`.
pub fn facts(conn: &Connection, hamlets: &[String], range: &DayRange) -> Result<Facts, Error> {
    let hamlets = serde_json::to_string(hamlets)?;
    let (start, end) = range.bounds_text();
    let mut facts = Facts::default();

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT h.hamlet_code, r.status, r.reason_code, coalesce(r.claim_check = 'confirmed', 0), count(*) {LISTED}
         GROUP BY 1, 2, 3, 4"
    ))?;
    let rows = stmt.query_map([&hamlets], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get(2)?, r.get::<_, bool>(3)?, r.get(4)?))
    })?;
    for row in rows {
        let (hamlet, status, reason, confirmed, n) = row?;
        let status = match status {
            None => None,
            Some(code) => Some(
                FunnelState::from_code(&code).ok_or_else(|| Error::invalid_input(format!("unknown state {code}")))?,
            ),
        };
        facts.states.push(StateCount { hamlet, status, reason, confirmed, n });
    }

    let mut stmt = conn.prepare_cached(
        "SELECT hamlet_code, count(*), count(members), coalesce(sum(members), 0), coalesce(sum(smartphones), 0),
                coalesce(sum(has_internet_computer), 0)
         FROM households WHERE hamlet_code IN (SELECT value FROM json_each(?1)) AND removed IS NULL
         GROUP BY 1",
    )?;
    let rows = stmt.query_map([&hamlets], |r| {
        Ok(HouseholdCount {
            hamlet: r.get(0)?,
            listed: r.get(1)?,
            surveyed: r.get(2)?,
            members: r.get(3)?,
            smartphones: r.get(4)?,
            with_computer: r.get(5)?,
        })
    })?;
    for row in rows {
        facts.households.push(row?);
    }

    let shift = format!("'{:+} minutes'", REPORT_UTC_OFFSET_MINUTES);
    let firsts = super::first_activations();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT h.hamlet_code, date(f.at, {shift}), f.author, count(*), 0, 0
         FROM ({firsts}) f JOIN residents r ON r.id = f.resident_id JOIN households h ON h.id = r.household_id
         WHERE h.hamlet_code IN (SELECT value FROM json_each(?1))
           AND r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL
           AND f.at >= ?2 AND f.at < ?3
         GROUP BY 1, 2, 3"
    ))?;
    facts.flows.extend(flows(&mut stmt, &hamlets, &start, &end)?);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT h.hamlet_code, date(v.device_time, {shift}), v.author, 0, count(*),
                coalesce(sum(v.action = 'referred_level2'), 0)
         FROM visits v JOIN residents r ON r.id = v.resident_id JOIN households h ON h.id = r.household_id
         WHERE h.hamlet_code IN (SELECT value FROM json_each(?1))
           AND r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL
           AND v.device_time >= ?2 AND v.device_time < ?3
         GROUP BY 1, 2, 3"
    ))?;
    facts.flows.extend(flows(&mut stmt, &hamlets, &start, &end)?);
    Ok(facts)
}

/// Rows of `(hamlet, day, author, activated, visits, referred)`.
fn flows(
    stmt: &mut rusqlite::CachedStatement<'_>,
    hamlets: &str,
    start: &str,
    end: &str,
) -> Result<Vec<FlowCount>, Error> {
    let rows = stmt.query_map(params![hamlets, start, end], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (hamlet, day, author, activated, visits, referred) = row?;
        let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|_| Error::invalid_input(format!("unreadable day {day}")))?;
        let author =
            Uuid::parse_str(&author).map_err(|_| Error::invalid_input(format!("unreadable author {author}")))?;
        out.push(FlowCount { hamlet, day, author, activated, visits, referred });
    }
    Ok(out)
}

/// The listed people of one hamlet for the named lists, by household (head's name) then
/// birth year, each with their first activation, if any.
pub fn list_rows(conn: &Connection, hamlet: &str) -> Result<Vec<ListRow>, Error> {
    let activated = super::activated_states();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT r.id, r.full_name, r.birth_year, r.sex, r.cccd, r.phone, h.head_name, h.address, h.hamlet_code,
                r.status, r.reason_code, r.claim_check, f.at, f.author
         FROM residents r JOIN households h ON h.id = r.household_id
         LEFT JOIN (SELECT v.resident_id, v.author, min(v.device_time) AS at
                    FROM visits v JOIN residents r2 ON r2.id = v.resident_id
                    JOIN households h2 ON h2.id = r2.household_id
                    WHERE h2.hamlet_code = ?1 AND v.status IN ({activated}) GROUP BY v.resident_id) f
           ON f.resident_id = r.id
         WHERE h.hamlet_code = ?1 AND r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL
         ORDER BY h.head_name, h.id, r.birth_year, r.full_name, r.id"
    ))?;
    let rows = stmt.query_map([hamlet], |r| {
        let sex: String = r.get(3)?;
        let check: Option<String> = r.get(11)?;
        let at: Option<String> = r.get(12)?;
        Ok(ListRow {
            resident_id: uuid_at(r, 0)?,
            full_name: r.get(1)?,
            birth_year: r.get(2)?,
            sex: Sex::from_code(&sex).ok_or_else(|| bad(3, "sex", &sex))?,
            cccd: r.get(4)?,
            phone: r.get(5)?,
            head_name: r.get(6)?,
            address: r.get(7)?,
            hamlet_code: r.get(8)?,
            status: opt_status_at(r, 9)?,
            reason_code: r.get(10)?,
            claim_check: match check {
                Some(code) => Some(CheckOutcome::from_code(&code).ok_or_else(|| bad(11, "check outcome", &code))?),
                None => None,
            },
            activated_at: match at {
                Some(t) => Some(DateTime::parse_from_rfc3339(&t).map_err(|_| bad(12, "time", &t))?.with_timezone(&Utc)),
                None => None,
            },
            activated_by: opt_uuid_at(r, 13)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
