//! Read-side queries of the device store: household search, residents, visits, catalog.

use chrono::NaiveDate;
use rusqlite::params_from_iter;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DeviceStore;
use crate::error::Error;
use crate::forms::{HouseholdDetail, ResidentDetail};
use crate::funnel::FunnelState;
use crate::model::{Household, Resident};
use crate::places::Place;
use crate::reasons::ReasonCatalog;
use crate::reducer::StateView;
use crate::sql::projection::SqlView;
use crate::sql::{catalog, projection};
use crate::text::fold;

/// Which households to list, by the state of their residents.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "state")]
pub enum StatusFilter {
    /// Someone in the household has not been visited yet.
    Unvisited,
    /// Someone in the household is at this funnel state.
    State(FunnelState),
    /// Someone in the household has a cannot-activate reason.
    CannotActivate,
    /// Someone in the household is due a return visit: their follow-up date is today
    /// ([`HouseholdQuery::today`]) or earlier.
    FollowUpDue,
    /// Everyone in the household is settled: activated, or classified with a reason, and no
    /// return visit is planned.
    Done,
}

/// A household search.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdQuery {
    /// Words matched, diacritic- and case-insensitively, against the head's name, the address
    /// and every resident's name.
    pub text: String,
    /// Only this hamlet.
    pub hamlet_code: Option<String>,
    /// Only households with someone in this state.
    pub status: Option<StatusFilter>,
    /// At most this many (default 200).
    pub limit: Option<u32>,
    /// The volunteer's date, for [`StatusFilter::FollowUpDue`] (default: today in Vietnam,
    /// UTC+7).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub today: Option<NaiveDate>,
}

/// Today's date in Vietnam (UTC+7, no daylight saving), for when the app does not say.
pub fn vietnam_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// A household with counts for the list screen.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSummary {
    /// The household.
    pub household: Household,
    /// Residents recorded.
    pub residents: u32,
    /// Residents visited at least once.
    pub visited: u32,
    /// Residents whose account is activated.
    pub activated: u32,
}

fn like_pattern(word: &str) -> String {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl DeviceStore {
    /// Searches households (see [`HouseholdQuery`]), ordered by hamlet then head's name.
    pub fn households(&self, query: &HouseholdQuery) -> Result<Vec<HouseholdSummary>, Error> {
        let activated: Vec<String> =
            FunnelState::ALL.into_iter().filter(|s| s.is_activated()).map(|s| format!("'{}'", s.code())).collect();
        let mut sql = format!(
            "SELECT h.id, h.hamlet_code, h.address, h.head_name, h.members, h.smartphones,
                    h.has_internet_computer, h.version, h.review, h.field_versions, h.removed,
                    count(r.id), count(r.status), sum(CASE WHEN r.status IN ({}) THEN 1 ELSE 0 END)
             FROM households h LEFT JOIN residents r ON r.household_id = h.id
             WHERE h.removed IS NULL",
            activated.join(", ")
        );
        let mut args: Vec<String> = Vec::new();
        for word in fold(&query.text).split(' ').filter(|w| !w.is_empty()) {
            args.push(like_pattern(word));
            let n = args.len();
            sql.push_str(&format!(
                " AND (h.search_key LIKE ?{n} ESCAPE '\\' OR EXISTS (SELECT 1 FROM residents x
                   WHERE x.household_id = h.id AND x.search_key LIKE ?{n} ESCAPE '\\'))"
            ));
        }
        if let Some(hamlet) = &query.hamlet_code {
            args.push(hamlet.clone());
            sql.push_str(&format!(" AND h.hamlet_code = ?{}", args.len()));
        }
        match query.status {
            None => {}
            Some(StatusFilter::Unvisited) => {
                sql.push_str(" AND EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id AND x.status IS NULL)")
            }
            Some(StatusFilter::State(state)) => {
                args.push(state.code().to_owned());
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id AND x.status = ?{})",
                    args.len()
                ));
            }
            Some(StatusFilter::CannotActivate) => sql.push_str(
                " AND EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id AND x.reason_code IS NOT NULL)",
            ),
            Some(StatusFilter::FollowUpDue) => {
                args.push(query.today.unwrap_or_else(vietnam_today).to_string());
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id AND x.follow_up <= ?{})",
                    args.len()
                ));
            }
            Some(StatusFilter::Done) => sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id)
                  AND NOT EXISTS (SELECT 1 FROM residents x WHERE x.household_id = h.id
                    AND (x.follow_up IS NOT NULL OR (x.reason_code IS NULL AND (x.status IS NULL
                         OR x.status NOT IN ({})))))",
                activated.join(", ")
            )),
        }
        args.push(query.limit.unwrap_or(200).to_string());
        sql.push_str(&format!(" GROUP BY h.id ORDER BY h.hamlet_code, h.search_key, h.id LIMIT ?{}", args.len()));
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |row| {
            Ok(HouseholdSummary {
                household: projection::household_from_row(row)?,
                residents: row.get(11)?,
                visited: row.get(12)?,
                activated: row.get::<_, Option<u32>>(13)?.unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A household's residents, by name.
    pub fn residents_of(&self, household_id: Uuid) -> Result<Vec<Resident>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, household_id, full_name, birth_year, sex, cccd, phone, version, review,
                    status, reason_code, follow_up, deciding_visit, visit_count, field_versions
             FROM residents WHERE household_id = ?1 ORDER BY search_key, id",
        )?;
        let rows = stmt.query_map([household_id.to_string()], projection::resident_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A household with its residents.
    pub fn household_detail(&self, household_id: Uuid) -> Result<HouseholdDetail, Error> {
        let view = SqlView::new(&self.conn);
        let household = view
            .household(household_id)?
            .ok_or_else(|| Error::NotFound { what: "household", id: household_id.to_string() })?;
        let hamlet_name = catalog::place(&self.conn, &household.hamlet_code)?.map(|p| p.name).unwrap_or_default();
        Ok(HouseholdDetail { residents: self.residents_of(household_id)?, household, hamlet_name })
    }

    /// A resident with their visits, newest first.
    pub fn resident_detail(&self, resident_id: Uuid) -> Result<ResidentDetail, Error> {
        let resident = SqlView::new(&self.conn)
            .resident(resident_id)?
            .ok_or_else(|| Error::NotFound { what: "resident", id: resident_id.to_string() })?;
        Ok(ResidentDetail { visits: projection::visits_of(&self.conn, resident_id)?, resident })
    }

    /// The hamlets under the device's scope.
    pub fn hamlets(&self) -> Result<Vec<Place>, Error> {
        let scope = self.require_enrollment()?.scope_code;
        let mut out = Vec::new();
        // a phone scoped to one hamlet works in that hamlet
        if let Some(place) = catalog::place(&self.conn, &scope)?
            && place.level == crate::places::PlaceLevel::Hamlet
        {
            out.push(place);
        }
        let mut stack = vec![scope];
        while let Some(code) = stack.pop() {
            for child in catalog::children(&self.conn, &code)? {
                stack.push(child.code.clone());
                if child.level == crate::places::PlaceLevel::Hamlet {
                    out.push(child);
                }
            }
        }
        out.sort_by(|a, b| (&a.name, &a.code).cmp(&(&b.name, &b.code)));
        Ok(out)
    }

    /// The reason catalog the device holds.
    pub fn reasons(&self) -> Result<ReasonCatalog, Error> {
        catalog::reasons(&self.conn)
    }
}
