//! The report's counters on SQLite (`0012_report_counters`): kept by every write through
//! `recount`, read by `facts`. A counter row is what `gocua_core::sql::report::facts` groups by
//! (hamlet, state, reason, spot-check; hamlet; hamlet, day, author), so the report reads a few
//! rows per hamlet and day however many people and visits lie under them.

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use gocua_core::funnel::FunnelState;
use gocua_core::report::{DayRange, Facts, FlowCount, HouseholdCount, StateCount};
use gocua_server_store::{CountDelta, Share, StoreError, StoreResult};

use crate::db_error;

/// The residents whose share is moved: those named (`?2`) and those of the households named
/// (`?1`), both JSON arrays.
const TOUCHED: &str = "SELECT value FROM json_each(?2)
     UNION SELECT id FROM residents WHERE household_id IN (SELECT value FROM json_each(?1))";

/// A listed person of a listed household (`r`, `h`).
const LISTED: &str = "r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL";

/// Vietnam's day of a stored time: the migration spells the same shift out.
const SHIFT: &str = "'+420 minutes'";

/// Moves the counters by `share` of these households, these residents and every resident of
/// these households, as their rows stand now.
pub fn recount(tx: &Transaction<'_>, households: &[Uuid], residents: &[Uuid], share: Share) -> StoreResult<()> {
    let h = serde_json::to_string(households)?;
    let r = serde_json::to_string(residents)?;
    let sign = share.sign();
    tx.prepare_cached(&format!(
        "INSERT INTO report_states (hamlet_code, status, reason_code, confirmed, n)
         SELECT h.hamlet_code, coalesce(r.status, ''), coalesce(r.reason_code, ''),
                coalesce(r.claim_check = 'confirmed', 0), ?3 * count(*)
         FROM residents r JOIN households h ON h.id = r.household_id
         WHERE r.id IN ({TOUCHED}) AND {LISTED}
         GROUP BY 1, 2, 3, 4
         ON CONFLICT DO UPDATE SET n = n + excluded.n"
    ))
    .map_err(db_error)?
    .execute(params![h, r, sign])
    .map_err(db_error)?;
    if !households.is_empty() {
        tx.prepare_cached(
            "INSERT INTO report_households (hamlet_code, listed, surveyed, members, smartphones, with_computer)
             SELECT hamlet_code, ?2 * count(*), ?2 * count(members), ?2 * coalesce(sum(members), 0),
                    ?2 * coalesce(sum(smartphones), 0), ?2 * coalesce(sum(has_internet_computer), 0)
             FROM households WHERE id IN (SELECT value FROM json_each(?1)) AND removed IS NULL
             GROUP BY 1
             ON CONFLICT DO UPDATE SET listed = listed + excluded.listed, surveyed = surveyed + excluded.surveyed,
                 members = members + excluded.members, smartphones = smartphones + excluded.smartphones,
                 with_computer = with_computer + excluded.with_computer",
        )
        .map_err(db_error)?
        .execute(params![h, sign])
        .map_err(db_error)?;
    }
    let activated = gocua_core::sql::activated_states();
    tx.prepare_cached(&format!(
        "INSERT INTO report_flows (hamlet_code, day, author, activated, visits, referred)
         SELECT hamlet_code, day, author, ?3 * sum(a), ?3 * sum(v), ?3 * sum(rf) FROM (
             SELECT h.hamlet_code, date(v.device_time, {SHIFT}) AS day, v.author, 0 AS a, 1 AS v,
                    coalesce(v.action = 'referred_level2', 0) AS rf
             FROM visits v JOIN residents r ON r.id = v.resident_id JOIN households h ON h.id = r.household_id
             WHERE v.resident_id IN ({TOUCHED}) AND {LISTED}
             UNION ALL
             SELECT h.hamlet_code, date(f.device_time, {SHIFT}), f.author, 1, 0, 0
             FROM (SELECT resident_id, author, device_time,
                          row_number() OVER (PARTITION BY resident_id ORDER BY device_time, id) AS k
                   FROM visits WHERE resident_id IN ({TOUCHED}) AND status IN ({activated})) f
             JOIN residents r ON r.id = f.resident_id JOIN households h ON h.id = r.household_id
             WHERE f.k = 1 AND {LISTED})
         GROUP BY 1, 2, 3
         ON CONFLICT DO UPDATE SET activated = activated + excluded.activated, visits = visits + excluded.visits,
             referred = referred + excluded.referred"
    ))
    .map_err(db_error)?
    .execute(params![h, r, sign])
    .map_err(db_error)?;
    Ok(())
}

/// Adds `delta` to the counters, a prepared upsert per row.
pub fn add_counts(tx: &Transaction<'_>, delta: &CountDelta) -> StoreResult<()> {
    if !delta.states.is_empty() {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO report_states (hamlet_code, status, reason_code, confirmed, n) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO UPDATE SET n = n + excluded.n",
            )
            .map_err(db_error)?;
        for (hamlet, status, reason, confirmed, n) in &delta.states {
            stmt.execute(params![hamlet, status, reason, confirmed, n]).map_err(db_error)?;
        }
    }
    if !delta.households.is_empty() {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO report_households (hamlet_code, listed, surveyed, members, smartphones, with_computer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT DO UPDATE SET listed = listed + excluded.listed, surveyed = surveyed + excluded.surveyed,
                     members = members + excluded.members, smartphones = smartphones + excluded.smartphones,
                     with_computer = with_computer + excluded.with_computer",
            )
            .map_err(db_error)?;
        for (hamlet, [listed, surveyed, members, smartphones, computer]) in &delta.households {
            stmt.execute(params![hamlet, listed, surveyed, members, smartphones, computer]).map_err(db_error)?;
        }
    }
    if !delta.flows.is_empty() {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO report_flows (hamlet_code, day, author, activated, visits, referred)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT DO UPDATE SET activated = activated + excluded.activated,
                     visits = visits + excluded.visits, referred = referred + excluded.referred",
            )
            .map_err(db_error)?;
        for (hamlet, day, author, [activated, visits, referred]) in &delta.flows {
            stmt.execute(params![hamlet, day.to_string(), author.to_string(), activated, visits, referred])
                .map_err(db_error)?;
        }
    }
    Ok(())
}

/// Moves each person's first-activation count from their first activation without the visits
/// `added` to the one they have now: two key probes of their visits each.
pub fn recount_firsts(tx: &Transaction<'_>, people: &[(Uuid, String)], added: &[Uuid]) -> StoreResult<()> {
    let activated = gocua_core::sql::activated_states();
    let added = serde_json::to_string(added)?;
    let mut stmt = tx
        .prepare_cached(&format!(
            "SELECT id, author, device_time FROM visits WHERE resident_id = ?1 AND status IN ({activated})
               AND (?2 IS NULL OR id NOT IN (SELECT value FROM json_each(?2)))
             ORDER BY device_time, id LIMIT 1"
        ))
        .map_err(db_error)?;
    let mut first = |resident: &Uuid, without: Option<&str>| -> StoreResult<Option<(String, Uuid, NaiveDate)>> {
        let row = stmt
            .query_row(params![resident.to_string(), without], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .optional()
            .map_err(db_error)?;
        row.map(|(visit, author, at)| {
            let at = chrono::DateTime::parse_from_rfc3339(&at).map_err(|_| corrupt(format!("time {at}")))?.to_utc();
            let author = Uuid::parse_str(&author).map_err(|_| corrupt(format!("author {author}")))?;
            Ok((visit, author, gocua_core::report::local_day(at)))
        })
        .transpose()
    };
    let mut delta = CountDelta::default();
    for (resident, hamlet) in people {
        let (before, now) = (first(resident, Some(&added))?, first(resident, None)?);
        if before.as_ref().map(|f| &f.0) == now.as_ref().map(|f| &f.0) {
            continue;
        }
        for (found, n) in [(before, -1), (now, 1)] {
            if let Some((_, author, day)) = found {
                delta.flows.push((hamlet.clone(), day, author, [n, 0, 0]));
            }
        }
    }
    add_counts(tx, &delta)
}

/// The counters of `hamlets` over `range`, with the names of the authors.
pub fn facts(tx: &Transaction<'_>, hamlets: &[String], range: &DayRange) -> StoreResult<Facts> {
    let hamlets = serde_json::to_string(hamlets)?;
    let mut facts = Facts::default();
    let mut stmt = tx
        .prepare_cached(
            "SELECT hamlet_code, status, reason_code, confirmed, n FROM report_states
             WHERE hamlet_code IN (SELECT value FROM json_each(?1)) AND n <> 0",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map([&hamlets], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(db_error)?;
    for row in rows {
        let (hamlet, status, reason, confirmed, n) = row.map_err(db_error)?;
        let status = match status.as_str() {
            "" => None,
            code => Some(FunnelState::from_code(code).ok_or_else(|| corrupt(format!("state {code}")))?),
        };
        let reason = Some(reason).filter(|r| !r.is_empty());
        facts.states.push(StateCount { hamlet, status, reason, confirmed, n: count(n)? });
    }

    let mut stmt = tx
        .prepare_cached(
            "SELECT hamlet_code, listed, surveyed, members, smartphones, with_computer FROM report_households
             WHERE hamlet_code IN (SELECT value FROM json_each(?1)) AND listed <> 0",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map([&hamlets], |r| {
            Ok((r.get::<_, String>(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, i64>(5)?]))
        })
        .map_err(db_error)?;
    for row in rows {
        let (hamlet, [listed, surveyed, members, smartphones, with_computer]) = row.map_err(db_error)?;
        facts.households.push(HouseholdCount {
            hamlet,
            listed: count(listed)?,
            surveyed: count(surveyed)?,
            members: count(members)?,
            smartphones: count(smartphones)?,
            with_computer: count(with_computer)?,
        });
    }

    let mut stmt = tx
        .prepare_cached(
            "SELECT hamlet_code, day, author, activated, visits, referred FROM report_flows
             WHERE hamlet_code IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3
               AND (activated <> 0 OR visits <> 0 OR referred <> 0)",
        )
        .map_err(db_error)?;
    let (from, until) = (range.from.to_string(), range.until.to_string());
    let rows = stmt
        .query_map(params![hamlets, from, until], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                [r.get(3)?, r.get(4)?, r.get::<_, i64>(5)?],
            ))
        })
        .map_err(db_error)?;
    for row in rows {
        let (hamlet, day, author, [activated, visits, referred]) = row.map_err(db_error)?;
        facts.flows.push(FlowCount {
            hamlet,
            day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| corrupt(format!("day {day}")))?,
            author: Uuid::parse_str(&author).map_err(|_| corrupt(format!("author {author}")))?,
            activated: count(activated)?,
            visits: count(visits)?,
            referred: count(referred)?,
        });
    }

    let authors: std::collections::BTreeSet<String> = facts.flows.iter().map(|f| f.author.to_string()).collect();
    let authors = serde_json::to_string(&authors)?;
    let mut stmt = tx
        .prepare_cached("SELECT id, name FROM users WHERE id IN (SELECT value FROM json_each(?1))")
        .map_err(db_error)?;
    let rows =
        stmt.query_map([&authors], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(db_error)?;
    for row in rows {
        let (id, name) = row.map_err(db_error)?;
        facts.names.insert(Uuid::parse_str(&id).map_err(|_| corrupt(format!("user id {id}")))?, name);
    }
    Ok(facts)
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(format!("report counters: {what}"))
}

/// A counter as a count: a negative one is a write that was not counted.
fn count(n: i64) -> StoreResult<u32> {
    u32::try_from(n).map_err(|_| corrupt(format!("count {n} out of range")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shift_is_the_reports_offset() {
        // the migration's backfill spells the same shift out
        assert_eq!(super::SHIFT, format!("'{:+} minutes'", gocua_core::report::REPORT_UTC_OFFSET_MINUTES));
        let migration = include_str!("../../../migrations/server/sqlite/0012_report_counters.sql");
        assert_eq!(migration.matches(super::SHIFT).count(), 2);
        assert!(migration.contains(&gocua_core::sql::activated_states()));
    }
}
