//! Pooled connections with a per-connection cache of prepared statements, and the mapping of
//! driver errors onto [`StoreError`].

use std::collections::HashMap;

use gocua_server_store::StoreError;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

/// Connects pooled clients. r2d2 asks [`Manager::has_broken`] when a connection comes back: a
/// closed one (server restarted, connection lost) or one we marked broken (a transaction that
/// did not end cleanly) is dropped instead of pooled.
#[derive(Clone)]
pub(crate) struct Manager {
    pub(crate) config: postgres::Config,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the config holds the password: never print it
        f.debug_struct("Manager").field("dbname", &self.config.get_dbname()).finish_non_exhaustive()
    }
}

/// A client and the statements it has prepared (a prepared statement saves the parse and plan
/// round trip of an unprepared query on every later use).
pub(crate) struct PgConn {
    pub(crate) client: OwnedClient,
    statements: HashMap<&'static str, Statement>,
    /// Set when the connection is in an unknown state (a transaction neither committed nor
    /// rolled back): the pool drops it.
    pub(crate) broken: bool,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn").field("statements", &self.statements.len()).field("broken", &self.broken).finish()
    }
}

/// A synchronous client that may be dropped anywhere. The `postgres` client runs a runtime of
/// its own, and dropping a runtime on a thread that is driving async tasks panics; the last
/// store handle, and with it the pools, is often dropped on such a thread (a server's main task,
/// an async test). So the client is closed on a thread of its own, and waited for, so that the
/// connection is gone when the drop returns (a test then drops its database).
pub(crate) struct OwnedClient(Option<Client>);

impl OwnedClient {
    pub(crate) fn new(client: Client) -> OwnedClient {
        OwnedClient(Some(client))
    }
}

impl std::ops::Deref for OwnedClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.0.as_ref().expect("a client is only taken by drop")
    }
}

impl std::ops::DerefMut for OwnedClient {
    fn deref_mut(&mut self) -> &mut Client {
        self.0.as_mut().expect("a client is only taken by drop")
    }
}

impl Drop for OwnedClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            // a panic while closing (none is known) must not become a panic in a destructor
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl PgConn {
    /// The prepared statement for `sql`, preparing it on first use.
    pub(crate) fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql)?;
        self.statements.insert(sql, stmt.clone());
        Ok(stmt)
    }

    /// Runs a cached statement and returns its rows.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let stmt = self.statement(sql)?;
        self.client.query(&stmt, params)
    }

    /// Runs a cached statement and returns the number of rows it changed.
    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let stmt = self.statement(sql)?;
        self.client.execute(&stmt, params)
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        let client = OwnedClient::new(self.config.connect(NoTls)?);
        Ok(PgConn { client, statements: HashMap::new(), broken: false })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// Logs the pool's failures to open connections (no personal data: connection errors only).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogErrors;

impl r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, error: postgres::Error) {
        tracing::warn!(error = %error, "PostgreSQL: could not open a pooled connection");
    }
}

/// Whether the error says the connection is gone or the server cannot serve now (restarting,
/// shutting down, out of connections): the same work may succeed on another connection later.
pub(crate) fn is_unavailable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        return code.code().starts_with("08") // connection exception
            || *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CRASH_SHUTDOWN
            || *code == SqlState::CANNOT_CONNECT_NOW
            || *code == SqlState::TOO_MANY_CONNECTIONS
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || code.code() == "57P04"; // database dropped
    }
    if e.as_db_error().is_some() {
        return false;
    }
    // the driver's own kinds without a database error: I/O, connect, timeout, closed
    let text = e.to_string();
    text.starts_with("error communicating with the server")
        || text.starts_with("error connecting to server")
        || text.starts_with("timeout waiting for server")
        || text.starts_with("connection closed")
}

/// The store's error for a driver error. The text carries the server's message (which names
/// tables and constraints, never a stored value: the driver does not echo parameters).
pub(crate) fn store_error(e: &postgres::Error) -> StoreError {
    let text = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    if is_unavailable(e) {
        StoreError::Unavailable(text)
    } else if text.starts_with("error deserializing column") {
        StoreError::Corrupt(match std::error::Error::source(e) {
            Some(source) => format!("{text}: {source}"),
            None => text,
        })
    } else {
        StoreError::Failed(text)
    }
}
