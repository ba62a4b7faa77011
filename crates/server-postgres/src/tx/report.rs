//! The report's counters on PostgreSQL (`0012_report_counters`, `0013_report_deltas`). A write
//! never updates a counter's row: `recount`, `add_counts` and `recount_firsts` append their
//! changes to the delta tables, in the write's pipeline (no round trip of their own), and
//! `fold_counts` moves them into the counters' rows every few seconds. `counted_facts` reads
//! both, so a report is exact whether or not the fold has run; it costs a few thousand rows
//! whatever lies under a province.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use gocua_core::funnel::FunnelState;
use gocua_core::report::{DayRange, Facts, FlowCount, HouseholdCount, REPORT_UTC_OFFSET_MINUTES, StateCount};
use gocua_server_store::{CountDelta, Share, StoreResult};
use uuid::Uuid;

use super::{PgTx, funnel, get, to_u32};

/// The residents whose share is moved (`touched`): those named (`$2`) and those of the
/// households named (`$1`); and of those, the listed ones with their hamlet (`listed`). One
/// key probe each, as `by_keys!` explains.
macro_rules! touched {
    ($rest:literal) => {
        concat!(
            "WITH touched AS (
                 SELECT DISTINCT key FROM unnest($2::uuid[]) AS k(key)
                 UNION
                 SELECT r.id FROM (SELECT DISTINCT unnest($1::uuid[])) AS k(key)
                 CROSS JOIN LATERAL (SELECT id FROM residents WHERE household_id = k.key) AS r),
             listed AS (
                 SELECT r.id, r.status, r.reason_code, r.claim_check, h.hamlet_code
                 FROM touched t
                 CROSS JOIN LATERAL (SELECT * FROM residents WHERE id = t.key LIMIT 1) AS r
                 CROSS JOIN LATERAL (SELECT * FROM households WHERE id = r.household_id LIMIT 1) AS h
                 WHERE r.removed IS NULL AND r.merged_into IS NULL AND h.removed IS NULL) ",
            $rest
        )
    };
}

impl PgTx<'_> {
    /// Moves the counters by `share` of these households, these residents and every resident
    /// of these households, as their rows stand when the pipeline reaches it.
    pub(super) fn recount_counters(
        &mut self,
        households: &[Uuid],
        residents: &[Uuid],
        share: Share,
    ) -> StoreResult<()> {
        let (h, r, sign) = (households.to_vec(), residents.to_vec(), share.sign());
        self.defer(
            touched!(
                "INSERT INTO report_state_deltas (hamlet_code, status, reason_code, confirmed, n)
                 SELECT hamlet_code, coalesce(status, ''), coalesce(reason_code, ''),
                        coalesce(claim_check = 'confirmed', false), $3::bigint * count(*)
                 FROM listed GROUP BY 1, 2, 3, 4"
            ),
            owned![h.clone(), r.clone(), sign],
        )?;
        if !households.is_empty() {
            self.defer(
                "INSERT INTO report_household_deltas (hamlet_code, listed, surveyed, members, smartphones, with_computer)
                 SELECT h.hamlet_code, $2::bigint * count(*), $2::bigint * count(h.members),
                        $2::bigint * coalesce(sum(h.members), 0), $2::bigint * coalesce(sum(h.smartphones), 0),
                        $2::bigint * count(*) FILTER (WHERE h.has_internet_computer)
                 FROM (SELECT DISTINCT unnest($1::uuid[])) AS k(key)
                 CROSS JOIN LATERAL (SELECT * FROM households WHERE id = k.key LIMIT 1) AS h
                 WHERE h.removed IS NULL
                 GROUP BY 1",
                owned![h.clone(), sign],
            )?;
        }
        let activated: Vec<&'static str> =
            FunnelState::ALL.into_iter().filter(|s| s.is_activated()).map(FunnelState::code).collect();
        self.defer(
            touched!(
                ", visited AS (
                     SELECT v.resident_id, v.id, v.status, v.action, v.author, v.device_time, l.hamlet_code
                     FROM listed l CROSS JOIN LATERAL (SELECT * FROM visits WHERE resident_id = l.id) AS v),
                 flows AS (
                     SELECT hamlet_code, device_time, author, 0 AS a, 1 AS n,
                            coalesce(action = 'referred_level2', false)::int AS rf
                     FROM visited
                     UNION ALL
                     SELECT hamlet_code, device_time, author, 1, 0, 0
                     FROM (SELECT DISTINCT ON (resident_id) hamlet_code, device_time, author FROM visited
                           WHERE status = ANY($5::text[]) ORDER BY resident_id, device_time, id) AS f)
                 INSERT INTO report_flow_deltas (hamlet_code, day, author, activated, visits, referred)
                 SELECT hamlet_code, (device_time AT TIME ZONE 'UTC' + make_interval(mins => $4))::date, author,
                        $3::bigint * sum(a), $3::bigint * sum(n), $3::bigint * sum(rf)
                 FROM flows GROUP BY 1, 2, 3"
            ),
            owned![h, r, sign, REPORT_UTC_OFFSET_MINUTES, activated],
        )?;
        Ok(())
    }

    /// Appends `delta` to the counters' deltas: one statement (a data-modifying part per
    /// table), in the write's pipeline.
    pub(super) fn add_to_counters(&mut self, delta: &CountDelta) -> StoreResult<()> {
        let states = &delta.states;
        let homes = &delta.households;
        let flows = &delta.flows;
        let home = |i: usize| -> Vec<i64> { homes.iter().map(|(_, c)| c[i]).collect() };
        let flow = |i: usize| -> Vec<i64> { flows.iter().map(|f| f.3[i]).collect() };
        self.defer(
            "WITH s AS (
                 INSERT INTO report_state_deltas (hamlet_code, status, reason_code, confirmed, n)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[])),
             h AS (
                 INSERT INTO report_household_deltas (hamlet_code, listed, surveyed, members, smartphones, with_computer)
                 SELECT * FROM unnest($6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],
                                      $11::bigint[]))
             INSERT INTO report_flow_deltas (hamlet_code, day, author, activated, visits, referred)
             SELECT * FROM unnest($12::text[], $13::date[], $14::uuid[], $15::bigint[], $16::bigint[], $17::bigint[])",
            owned![
                states.iter().map(|s| s.0.clone()).collect::<Vec<String>>(),
                states.iter().map(|s| s.1.clone()).collect::<Vec<String>>(),
                states.iter().map(|s| s.2.clone()).collect::<Vec<String>>(),
                states.iter().map(|s| s.3).collect::<Vec<bool>>(),
                states.iter().map(|s| s.4).collect::<Vec<i64>>(),
                homes.iter().map(|h| h.0.clone()).collect::<Vec<String>>(),
                home(0),
                home(1),
                home(2),
                home(3),
                home(4),
                flows.iter().map(|f| f.0.clone()).collect::<Vec<String>>(),
                flows.iter().map(|f| f.1).collect::<Vec<chrono::NaiveDate>>(),
                flows.iter().map(|f| f.2).collect::<Vec<Uuid>>(),
                flow(0),
                flow(1),
                flow(2),
            ],
        )
    }

    /// Moves each person's first-activation count from their first activation without the
    /// visits `added` to the one they have now, in the write's pipeline.
    pub(super) fn recount_first_activations(&mut self, people: &[(Uuid, String)], added: &[Uuid]) -> StoreResult<()> {
        if people.is_empty() {
            return Ok(());
        }
        let activated: Vec<&'static str> =
            FunnelState::ALL.into_iter().filter(|s| s.is_activated()).map(FunnelState::code).collect();
        let ids: Vec<Uuid> = people.iter().map(|p| p.0).collect();
        let hamlets: Vec<String> = people.iter().map(|p| p.1.clone()).collect();
        self.defer(
            "WITH c AS (SELECT DISTINCT resident, hamlet FROM unnest($1::uuid[], $2::text[]) AS c(resident, hamlet)),
             before AS (
                 SELECT c.hamlet, f.* FROM c CROSS JOIN LATERAL (
                     SELECT id, author, device_time FROM visits
                     WHERE resident_id = c.resident AND status = ANY($4::text[]) AND NOT (id = ANY($3::uuid[]))
                     ORDER BY device_time, id LIMIT 1) AS f),
             now AS (
                 SELECT c.hamlet, f.* FROM c CROSS JOIN LATERAL (
                     SELECT id, author, device_time FROM visits
                     WHERE resident_id = c.resident AND status = ANY($4::text[])
                     ORDER BY device_time, id LIMIT 1) AS f),
             moved AS (
                 SELECT hamlet, device_time, author, -1 AS n FROM before WHERE id NOT IN (SELECT id FROM now)
                 UNION ALL
                 SELECT hamlet, device_time, author, 1 FROM now WHERE id NOT IN (SELECT id FROM before))
             INSERT INTO report_flow_deltas (hamlet_code, day, author, activated, visits, referred)
             SELECT hamlet, (device_time AT TIME ZONE 'UTC' + make_interval(mins => $5))::date, author, sum(n), 0, 0
             FROM moved GROUP BY 1, 2, 3",
            owned![ids, hamlets, added.to_vec(), activated, REPORT_UTC_OFFSET_MINUTES],
        )
    }

    /// Moves every delta the writes appended into the counters' rows (per table, one `DELETE …
    /// RETURNING` grouped into one upsert) and returns how many counter rows it changed. Under the write lock like every write,
    /// so no push runs meanwhile; a report reading during it sees the deltas or the rows.
    pub(super) fn fold_deltas(&mut self) -> StoreResult<u64> {
        let states = self.execute(
            "WITH gone AS (DELETE FROM report_state_deltas RETURNING *)
             INSERT INTO report_states (hamlet_code, status, reason_code, confirmed, n)
             SELECT hamlet_code, status, reason_code, confirmed, sum(n) FROM gone GROUP BY 1, 2, 3, 4
             ON CONFLICT (hamlet_code, status, reason_code, confirmed)
             DO UPDATE SET n = report_states.n + excluded.n",
            &[],
        )?;
        let households = self.execute(
            "WITH gone AS (DELETE FROM report_household_deltas RETURNING *)
             INSERT INTO report_households (hamlet_code, listed, surveyed, members, smartphones, with_computer)
             SELECT hamlet_code, sum(listed), sum(surveyed), sum(members), sum(smartphones), sum(with_computer)
             FROM gone GROUP BY 1
             ON CONFLICT (hamlet_code) DO UPDATE SET listed = report_households.listed + excluded.listed,
                 surveyed = report_households.surveyed + excluded.surveyed,
                 members = report_households.members + excluded.members,
                 smartphones = report_households.smartphones + excluded.smartphones,
                 with_computer = report_households.with_computer + excluded.with_computer",
            &[],
        )?;
        let flows = self.execute(
            "WITH gone AS (DELETE FROM report_flow_deltas RETURNING *)
             INSERT INTO report_flows (hamlet_code, day, author, activated, visits, referred)
             SELECT hamlet_code, day, author, sum(activated), sum(visits), sum(referred) FROM gone GROUP BY 1, 2, 3
             ON CONFLICT (hamlet_code, day, author) DO UPDATE SET
                 activated = report_flows.activated + excluded.activated,
                 visits = report_flows.visits + excluded.visits,
                 referred = report_flows.referred + excluded.referred",
            &[],
        )?;
        Ok(states + households + flows)
    }

    /// The counters of `hamlets` over `range` plus the deltas not folded yet, with the names
    /// of the authors. The counters' rows are read as they are and the (few) deltas grouped,
    /// then added here: grouping the province's 89,000 flow rows in SQL to add an empty delta
    /// table doubled the report's time.
    pub(super) fn counted_facts(&mut self, hamlets: &[String], range: &DayRange) -> StoreResult<Facts> {
        let mut facts = Facts::default();
        let state = |row: &postgres::Row| -> StoreResult<(StateKey, [i64; 1])> {
            Ok(((get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?), [get(row, 4)?]))
        };
        let rows = self.query(
            "SELECT hamlet_code, status, reason_code, confirmed, n FROM report_states
             WHERE hamlet_code = ANY($1::text[]) AND n <> 0",
            &[&hamlets],
        )?;
        let deltas = self.query(
            "SELECT hamlet_code, status, reason_code, confirmed, sum(n)::bigint FROM report_state_deltas
             WHERE hamlet_code = ANY($1::text[]) GROUP BY 1, 2, 3, 4",
            &[&hamlets],
        )?;
        let rows = rows.iter().map(state).collect::<StoreResult<Vec<_>>>()?;
        let deltas = deltas.iter().map(state).collect::<StoreResult<Vec<_>>>()?;
        for ((hamlet, status, reason, confirmed), [n]) in with_deltas(rows, deltas) {
            facts.states.push(StateCount {
                hamlet,
                status: Some(status).filter(|s| !s.is_empty()).as_deref().map(funnel).transpose()?,
                reason: Some(reason).filter(|r| !r.is_empty()),
                confirmed,
                n: to_u32(n)?,
            });
        }

        let home = |row: &postgres::Row| -> StoreResult<(String, [i64; 5])> {
            Ok((get(row, 0)?, [get(row, 1)?, get(row, 2)?, get(row, 3)?, get(row, 4)?, get(row, 5)?]))
        };
        let rows = self.query(
            "SELECT hamlet_code, listed, surveyed, members, smartphones, with_computer FROM report_households
             WHERE hamlet_code = ANY($1::text[]) AND listed <> 0",
            &[&hamlets],
        )?;
        let deltas = self.query(
            "SELECT hamlet_code, sum(listed)::bigint, sum(surveyed)::bigint, sum(members)::bigint,
                    sum(smartphones)::bigint, sum(with_computer)::bigint
             FROM report_household_deltas WHERE hamlet_code = ANY($1::text[]) GROUP BY 1",
            &[&hamlets],
        )?;
        let rows = rows.iter().map(home).collect::<StoreResult<Vec<_>>>()?;
        let deltas = deltas.iter().map(home).collect::<StoreResult<Vec<_>>>()?;
        for (hamlet, [listed, surveyed, members, smartphones, with_computer]) in with_deltas(rows, deltas) {
            facts.households.push(HouseholdCount {
                hamlet,
                listed: to_u32(listed)?,
                surveyed: to_u32(surveyed)?,
                members: to_u32(members)?,
                smartphones: to_u32(smartphones)?,
                with_computer: to_u32(with_computer)?,
            });
        }

        let flow = |row: &postgres::Row| -> StoreResult<(FlowKey, [i64; 3])> {
            Ok(((get(row, 0)?, get(row, 1)?, get(row, 2)?), [get(row, 3)?, get(row, 4)?, get(row, 5)?]))
        };
        let rows = self.query(
            "SELECT hamlet_code, day, author, activated, visits, referred FROM report_flows
             WHERE hamlet_code = ANY($1::text[]) AND day BETWEEN $2 AND $3
               AND (activated <> 0 OR visits <> 0 OR referred <> 0)",
            &[&hamlets, &range.from, &range.until],
        )?;
        let deltas = self.query(
            "SELECT hamlet_code, day, author, sum(activated)::bigint, sum(visits)::bigint, sum(referred)::bigint
             FROM report_flow_deltas WHERE hamlet_code = ANY($1::text[]) AND day BETWEEN $2 AND $3
             GROUP BY 1, 2, 3",
            &[&hamlets, &range.from, &range.until],
        )?;
        let rows = rows.iter().map(flow).collect::<StoreResult<Vec<_>>>()?;
        let deltas = deltas.iter().map(flow).collect::<StoreResult<Vec<_>>>()?;
        for ((hamlet, day, author), [activated, visits, referred]) in with_deltas(rows, deltas) {
            facts.flows.push(FlowCount {
                hamlet,
                day,
                author,
                activated: to_u32(activated)?,
                visits: to_u32(visits)?,
                referred: to_u32(referred)?,
            });
        }

        let authors: Vec<Uuid> = facts.flows.iter().map(|f| f.author).collect::<BTreeSet<_>>().into_iter().collect();
        for row in self.query("SELECT id, name FROM users WHERE id = ANY($1::uuid[])", &[&authors])? {
            facts.names.insert(get(&row, 0)?, get(&row, 1)?);
        }
        Ok(facts)
    }
}

/// A `report_states` key: hamlet, status, reason, confirmed ('' for none).
type StateKey = (String, String, String, bool);
/// A `report_flows` key: hamlet, day, author.
type FlowKey = (String, chrono::NaiveDate, Uuid);

/// Counter rows with the deltas (grouped: one per key) added to the row of the same key; a
/// delta without a row becomes one. What ends all zero is dropped.
fn with_deltas<K: Eq + Hash, const N: usize>(
    rows: Vec<(K, [i64; N])>,
    deltas: Vec<(K, [i64; N])>,
) -> Vec<(K, [i64; N])> {
    if deltas.is_empty() {
        return rows;
    }
    let mut pending: HashMap<K, [i64; N]> = deltas.into_iter().collect();
    let mut all: Vec<(K, [i64; N])> = rows
        .into_iter()
        .map(|(key, mut counts)| {
            if let Some(delta) = pending.remove(&key) {
                counts.iter_mut().zip(delta).for_each(|(c, d)| *c += d);
            }
            (key, counts)
        })
        .collect();
    all.extend(pending);
    all.retain(|(_, counts)| counts.iter().any(|c| *c != 0));
    all
}
