//! The reducer's projection (the SQL is core's, shared with the device store).

use gocua_core::model::{Household, Resident, Review, Visit};
use gocua_core::reducer::{Change, Projection, StateView};
use gocua_core::sql::projection::{self, SqlView};

use gocua_core::report::lists::ListRow;
use gocua_core::report::{DayRange, Facts};
use gocua_server_store::{CountDelta, ProjectionRows, Share, StoreResult};
use uuid::Uuid;

use crate::{SqliteTx, core_error};

impl ProjectionRows for SqliteTx<'_> {
    fn households(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Household>> {
        let view = SqlView::new(self.tx);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(view.household(*id).map_err(core_error)?);
        }
        Ok(out)
    }

    fn residents(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Resident>> {
        let view = SqlView::new(self.tx);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(view.resident(*id).map_err(core_error)?);
        }
        Ok(out)
    }

    fn visits_existing(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        let view = SqlView::new(self.tx);
        let mut out = Vec::new();
        for id in ids {
            if view.visit_exists(*id).map_err(core_error)? {
                out.push(*id);
            }
        }
        Ok(out)
    }

    fn visits_of(&mut self, resident: Uuid) -> StoreResult<Vec<Visit>> {
        projection::visits_of(self.tx, resident).map_err(core_error)
    }

    fn put_households(&mut self, households: &[Household]) -> StoreResult<()> {
        let changes: Vec<Change> = households.iter().cloned().map(Change::PutHousehold).collect();
        projection::apply_changes(self.tx, &changes).map_err(core_error)
    }

    fn put_residents(&mut self, residents: &[Resident]) -> StoreResult<()> {
        let changes: Vec<Change> = residents.iter().cloned().map(Change::PutResident).collect();
        projection::apply_changes(self.tx, &changes).map_err(core_error)
    }

    fn add_visits(&mut self, visits: &[Visit]) -> StoreResult<()> {
        let changes: Vec<Change> = visits.iter().cloned().map(Change::AddVisit).collect();
        projection::apply_changes(self.tx, &changes).map_err(core_error)
    }

    fn set_visit_reviews(&mut self, reviews: &[(Uuid, Option<Review>)]) -> StoreResult<()> {
        let changes: Vec<Change> =
            reviews.iter().map(|&(visit_id, review)| Change::VisitReview { visit_id, review }).collect();
        projection::apply_changes(self.tx, &changes).map_err(core_error)
    }

    fn move_visits(&mut self, moves: &[(Uuid, Uuid)]) -> StoreResult<()> {
        let changes: Vec<Change> = moves.iter().map(|&(from, to)| Change::MoveVisits { from, to }).collect();
        projection::apply_changes(self.tx, &changes).map_err(core_error)
    }

    fn recount(&mut self, households: &[Uuid], residents: &[Uuid], share: Share) -> StoreResult<()> {
        crate::report::recount(self.tx, households, residents, share)
    }

    fn add_counts(&mut self, delta: &CountDelta) -> StoreResult<()> {
        crate::report::add_counts(self.tx, delta)
    }

    fn recount_firsts(&mut self, people: &[(Uuid, String)], added: &[Uuid]) -> StoreResult<()> {
        crate::report::recount_firsts(self.tx, people, added)
    }

    fn fold_counts(&mut self) -> StoreResult<u64> {
        Ok(0) // SQLite's one writer updates the counters' rows in place
    }

    fn dump_projection(&mut self) -> StoreResult<Projection> {
        projection::dump(self.tx).map_err(core_error)
    }

    fn projection_in(&mut self, hamlets: &[String]) -> StoreResult<Projection> {
        projection::dump_in(self.tx, hamlets).map_err(core_error)
    }

    fn list_rows(&mut self, hamlet: &str) -> StoreResult<Vec<ListRow>> {
        gocua_core::sql::report::list_rows(self.tx, hamlet).map_err(core_error)
    }

    fn report_facts(&mut self, hamlets: &[String], range: &DayRange) -> StoreResult<Facts> {
        crate::report::facts(self.tx, hamlets, range)
    }
}
