//! Places and reasons (the SQL is core's, shared with the device store).

use gocua_core::places::Place;
use gocua_core::reasons::{Reason, ReasonCatalog};
use gocua_core::sql::catalog;
use gocua_server_store::{Catalog, StoreResult};

use crate::{SqliteTx, core_error};

impl Catalog for SqliteTx<'_> {
    fn place(&mut self, code: &str) -> StoreResult<Option<Place>> {
        catalog::place(self.tx, code).map_err(core_error)
    }

    fn places(&mut self, codes: &[String]) -> StoreResult<Vec<Place>> {
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            out.extend(catalog::place(self.tx, code).map_err(core_error)?);
        }
        Ok(out)
    }

    fn children(&mut self, code: &str) -> StoreResult<Vec<Place>> {
        catalog::children(self.tx, code).map_err(core_error)
    }

    fn upsert_places(&mut self, places: &[Place]) -> StoreResult<usize> {
        catalog::upsert_places(self.tx, places).map_err(core_error)
    }

    fn reasons(&mut self) -> StoreResult<ReasonCatalog> {
        catalog::reasons(self.tx).map_err(core_error)
    }

    fn upsert_reasons(&mut self, reasons: &[Reason]) -> StoreResult<()> {
        catalog::upsert_reasons(self.tx, reasons).map_err(core_error)
    }
}
