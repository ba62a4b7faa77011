//! The office's and team leader's report (`crate::report`) from what this device holds: the
//! same facts and the same builder as the server's, over the device's projection.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::DeviceStore;
use crate::error::Error;
use crate::report::lists::{self, Cells, ListKind, ListSink};
use crate::report::{self, DayRange, Report, TeamScope, Units};
use crate::sql::catalog;
use crate::sync::protocol::Role;

impl DeviceStore {
    /// The report of `place` (a commune, a hamlet, or any place this device knows) over `range`,
    /// following campaign `campaign` when given (its window is then the range).
    pub fn report(&self, place: &str, range: DayRange, campaign: Option<Uuid>) -> Result<Report, Error> {
        let found = catalog::place(&self.conn, place)?
            .ok_or_else(|| Error::NotFound { what: "place", id: place.to_owned() })?;
        let units = Units::walk(found, |code| catalog::children(&self.conn, code))?;
        let campaign = match campaign {
            None => None,
            Some(id) => Some(
                self.campaigns()?
                    .into_iter()
                    .find(|c| c.campaign_id == id)
                    .ok_or_else(|| Error::NotFound { what: "campaign", id: id.to_string() })?,
            ),
        };
        let range = match &campaign {
            Some(c) => DayRange::new(c.starts, c.ends)?,
            None => range,
        };
        let mut facts = crate::sql::report::facts(&self.conn, &units.hamlets(), &range)?;
        facts.names = self.people_names()?;
        facts.teams = self.teams(&units, place)?;
        Ok(report::build(&units, &facts, &self.reasons()?, range, campaign.as_ref()))
    }

    /// Writes the list `kind` of `place`'s people to `sink` (police-only fields for the police
    /// only), calling `progress(hamlets done, hamlets)` after each hamlet; returns how many
    /// people it holds.
    pub fn export_list(
        &self,
        place: &str,
        kind: ListKind,
        police: bool,
        sink: Box<dyn ListSink + '_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<u32, Error> {
        let found = catalog::place(&self.conn, place)?
            .ok_or_else(|| Error::NotFound { what: "place", id: place.to_owned() })?;
        let units = Units::walk(found, |code| catalog::children(&self.conn, code))?;
        let names = self.people_names()?;
        let reasons = self.reasons()?;
        let hamlet_names: BTreeMap<String, String> = units
            .hamlets()
            .into_iter()
            .filter_map(|code| catalog::place(&self.conn, &code).ok().flatten().map(|p| (code, p.name)))
            .collect();
        let name_of = |id: Uuid| names.get(&id).cloned().unwrap_or_default();
        let hamlet_of = |code: &str| hamlet_names.get(code).cloned().unwrap_or_else(|| code.to_owned());
        let cells = Cells::new(&reasons, &name_of, &hamlet_of, police);
        let hamlets = units.hamlets();
        let mut done = 0;
        let rows = |hamlet: &str| {
            let rows = crate::sql::report::list_rows(&self.conn, hamlet);
            done += 1;
            progress(done, hamlets.len());
            rows
        };
        lists::write_list(kind, &hamlets, rows, &cells, sink)
    }

    /// The teams ("tổ công tác") under the report's place as this device knows them: each team
    /// leader a pull page named, with the counted hamlets of the places assigned to them. The
    /// server's report finds the same teams from its users' scopes.
    fn teams(&self, units: &Units, place: &str) -> Result<Vec<TeamScope>, Error> {
        let above: Vec<String> = catalog::lineage(&self.conn, place)?.into_iter().map(|p| p.code).collect();
        let mut stmt = self.conn.prepare("SELECT id FROM people WHERE role = ?1")?;
        let leaders: BTreeSet<String> =
            stmt.query_map([Role::TeamLeader.code()], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(self
            .assignments()?
            .into_iter()
            .filter(|a| leaders.contains(&a.user_id.to_string()))
            .filter_map(|a| {
                let hamlets = units.hamlets_in(&a.places, &above);
                (!hamlets.is_empty()).then_some(TeamScope { leader: a.user_id, hamlets })
            })
            .collect())
    }

    /// The names of the volunteers and leaders this device heard of.
    fn people_names(&self) -> Result<BTreeMap<Uuid, String>, Error> {
        let mut stmt = self.conn.prepare("SELECT id, name FROM people")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, name) = row?;
            if let Ok(id) = Uuid::parse_str(&id) {
                out.insert(id, name);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
