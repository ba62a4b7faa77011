//! Test support: a fresh store on the backend `GOCUA_TEST_BACKEND` names (`sqlite`, the
//! default, in memory; or `postgres`, a new database in a private test cluster), so the rules'
//! own tests run on both backends as the story suite does.

use std::ops::Deref;

use gocua_server_postgres::testing::TestDatabase;
use gocua_server_sqlite::SqliteStore;
use gocua_server_store::Store;

/// A store for one test, and the PostgreSQL database behind it (dropped after the store).
pub struct TestStore {
    store: Option<Box<dyn Store>>,
    database: Option<TestDatabase>,
}

/// A fresh, empty store on the backend under test.
pub fn store() -> TestStore {
    match std::env::var("GOCUA_TEST_BACKEND").as_deref() {
        Err(_) | Ok("sqlite") => {
            TestStore { store: Some(Box::new(SqliteStore::open_in_memory().expect("in-memory store"))), database: None }
        }
        Ok("postgres") => {
            let database = TestDatabase::new();
            let store = gocua_server_postgres::PgStore::open(database.url(), None).expect("open the test database");
            TestStore { store: Some(Box::new(store)), database: Some(database) }
        }
        Ok(other) => panic!("GOCUA_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// A fresh store on the backend under test that tasks can share, and the PostgreSQL database
/// behind it (drop the store first).
pub fn shared_store() -> (std::sync::Arc<dyn Store>, Option<TestDatabase>) {
    let mut test = store();
    (std::sync::Arc::from(test.store.take().expect("a store")), test.database.take())
}

impl Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        self.store.as_deref().expect("the store lives until drop")
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // the pool's connections close before the database is dropped
        drop(self.store.take());
        drop(self.database.take());
    }
}
