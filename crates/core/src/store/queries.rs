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
    /// Skip this many first (the list's next page as the volunteer scrolls).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub offset: Option<u32>,
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
        // One walk of household_search (migrations/device/0004_search.sql) in list order that
        // stops at the limit; only the page's households are then read.
        /// Residents, visited and activated residents, from household_search's `statuses`.
        fn counts(statuses: &str) -> (u32, u32, u32) {
            let states: Vec<&str> = statuses.split('|').filter(|t| !t.is_empty()).collect();
            let visited = states.iter().filter(|t| **t != "-").count();
            let activated =
                states.iter().filter(|t| FunnelState::from_code(t).is_some_and(|s| s.is_activated())).count();
            let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            (count(states.len()), count(visited), count(activated))
        }
        let mut page = String::from(
            "SELECT s.household_id, s.statuses, s.hamlet_code, s.sort_key FROM household_search s WHERE 1 = 1",
        );
        let mut args: Vec<String> = Vec::new();
        for word in fold(&query.text).split(' ').filter(|w| !w.is_empty()) {
            args.push(like_pattern(word));
            let n = args.len();
            // `names` holds each resident's key after a newline, which no folded word contains
            page.push_str(&format!(" AND (s.sort_key LIKE ?{n} ESCAPE '\\' OR s.names LIKE ?{n} ESCAPE '\\')"));
        }
        if let Some(hamlet) = &query.hamlet_code {
            args.push(hamlet.clone());
            page.push_str(&format!(" AND s.hamlet_code = ?{}", args.len()));
        }
        match query.status {
            None => {}
            Some(StatusFilter::Unvisited) => page.push_str(" AND instr(s.statuses, '|-|') > 0"),
            Some(StatusFilter::State(state)) => {
                args.push(format!("|{}|", state.code()));
                page.push_str(&format!(" AND instr(s.statuses, ?{}) > 0", args.len()));
            }
            Some(StatusFilter::CannotActivate) => page.push_str(" AND s.reasons > 0"),
            Some(StatusFilter::FollowUpDue) => {
                args.push(query.today.unwrap_or_else(vietnam_today).to_string());
                page.push_str(&format!(" AND s.next_follow_up <= ?{}", args.len()));
            }
            Some(StatusFilter::Done) => {
                // someone lives there, no return visit is planned, and everyone without a reason
                // is activated: removing the activated states leaves nothing of open_statuses
                let settled = FunnelState::ALL
                    .into_iter()
                    .filter(|s| s.is_activated())
                    .fold("s.open_statuses".to_owned(), |acc, s| format!("replace({acc}, '|{}|', '')", s.code()));
                page.push_str(&format!(
                    " AND s.statuses <> '' AND s.next_follow_up IS NULL AND instr(s.open_statuses, '|-|') = 0
                      AND {settled} = ''"
                ));
            }
        }
        args.push(query.limit.unwrap_or(200).to_string());
        args.push(query.offset.unwrap_or(0).to_string());
        page.push_str(&format!(
            " ORDER BY s.hamlet_code, s.sort_key, s.household_id LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        ));
        let sql = format!(
            "SELECT h.id, h.hamlet_code, h.address, h.head_name, h.members, h.smartphones,
                    h.has_internet_computer, h.version, h.review, h.field_versions, h.removed, p.statuses
             FROM ({page}) p JOIN households h ON h.id = p.household_id
             WHERE h.removed IS NULL
             ORDER BY p.hamlet_code, p.sort_key, p.household_id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |row| {
            let (residents, visited, activated) = counts(&row.get::<_, String>(11)?);
            Ok(HouseholdSummary { household: projection::household_from_row(row)?, residents, visited, activated })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A household's residents, by name.
    pub fn residents_of(&self, household_id: Uuid) -> Result<Vec<Resident>, Error> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM residents WHERE household_id = ?1 AND removed IS NULL ORDER BY search_key, id",
            projection::RESIDENT_COLUMNS
        ))?;
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

    /// A resident with their visits, newest first; without the visits' positions, which only
    /// the office's spot-check shows (a phone holds its own visits' positions, but shows none).
    pub fn resident_detail(&self, resident_id: Uuid) -> Result<ResidentDetail, Error> {
        let resident = SqlView::new(&self.conn)
            .resident(resident_id)?
            .ok_or_else(|| Error::NotFound { what: "resident", id: resident_id.to_string() })?;
        let mut visits = projection::visits_of(&self.conn, resident_id)?;
        for visit in &mut visits {
            visit.position = None;
        }
        Ok(ResidentDetail { visits, resident })
    }

    /// The hamlets under the device's scope.
    pub fn hamlets(&self) -> Result<Vec<Place>, Error> {
        let scope = self.require_enrollment()?.scope;
        let mut out = Vec::new();
        // a phone scoped to hamlets works in those hamlets
        for code in scope.codes() {
            if let Some(place) = catalog::place(&self.conn, code)?
                && place.level == crate::places::PlaceLevel::Hamlet
            {
                out.push(place);
            }
        }
        let mut stack: Vec<String> = scope.codes().to_vec();
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
