//! Pooled connections: a pipeline of statements per connection, its cache of prepared
//! statements, and the mapping of driver errors onto [`StoreError`].
//!
//! A statement whose answer the caller does not need (a write that returns nothing) waits in the
//! connection's pipeline and travels with the next statement that needs an answer, or with the
//! COMMIT: several statements, one round trip. The transaction's BEGIN waits the same way.

use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use gocua_server_store::StoreError;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Row, Statement};
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{AsyncMessage, Client, Connection, NoTls, Socket};

/// Connects pooled clients. r2d2 asks [`Manager::has_broken`] when a connection comes back: a
/// closed one (server restarted, connection lost) or one we marked broken (a transaction that
/// did not end cleanly) is dropped instead of pooled.
#[derive(Clone)]
pub(crate) struct Manager {
    pub(crate) config: tokio_postgres::Config,
    /// Round trips to the server over every connection of the pool (see [`PgConn::send`]).
    pub(crate) round_trips: Arc<AtomicU64>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the config holds the password: never print it
        f.debug_struct("Manager").field("dbname", &self.config.get_dbname()).finish_non_exhaustive()
    }
}

/// A parameter a statement owns: it waits in the pipeline after the caller's values are gone.
pub(crate) type OwnedParam = Box<dyn ToSql + Sync + Send>;

/// A statement waiting in the pipeline.
enum Waiting {
    /// A simple-protocol statement without parameters (the transaction's BEGIN).
    Simple(&'static str),
    /// A prepared statement whose answer nobody reads but whose error ends the transaction.
    Execute(&'static str, Vec<OwnedParam>),
}

/// The statement that sends the pipeline, and whose answer the caller waits for.
enum Sending<'p> {
    Query(&'static str, &'p [&'p (dyn ToSql + Sync)]),
    Execute(&'static str, &'p [&'p (dyn ToSql + Sync)]),
    Simple(&'p str),
}

/// What one statement answered.
enum Answer {
    Rows(Vec<Row>),
    Count(u64),
    Done,
}

/// A client and the statements it has prepared (a prepared statement saves the parse and plan
/// round trip of an unprepared query on every later use), and the statements waiting to be sent.
pub(crate) struct PgConn {
    link: Link,
    config: tokio_postgres::Config,
    round_trips: Arc<AtomicU64>,
    statements: HashMap<&'static str, Statement>,
    waiting: Vec<Waiting>,
    /// Whether the transaction's BEGIN went out: until it did, ending the transaction costs
    /// nothing.
    begun: bool,
    /// Nothing has reached the server since the connection left the pool. A connection found
    /// dead then (the server restarted while it sat in the pool) is replaced by a new one and
    /// the same statements sent again: none of them ran.
    untried: bool,
    /// Set when the connection is in an unknown state (a transaction neither committed nor
    /// rolled back): the pool drops it.
    pub(crate) broken: bool,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn")
            .field("statements", &self.statements.len())
            .field("waiting", &self.waiting.len())
            .field("broken", &self.broken)
            .finish()
    }
}

/// One open connection: the client, the task that reads and writes its socket, and the
/// single-threaded runtime both run on, which turns only while a statement is awaited (the
/// server's rules run on blocking threads, as with SQLite). Dropping a runtime on a thread that
/// is driving async tasks panics, and the last store handle, and with it the pools, is often
/// dropped on such a thread (a server's main task, an async test): so a link is closed on a
/// thread of its own, and waited for, so that the connection is gone when the drop returns (a
/// test then drops its database).
struct Link(Option<LinkParts>);

struct LinkParts {
    runtime: tokio::runtime::Runtime,
    client: Client,
    /// `None` once the connection ended (closed by the server, or failed): the client's
    /// statements then fail at once as closed.
    connection: Option<Connection<Socket, NoTlsStream>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(parts) = self.0.take() {
            // a panic while closing (none is known) must not become a panic in a destructor
            let _ = std::thread::spawn(move || drop(parts)).join();
        }
    }
}

impl Link {
    fn connect(config: &tokio_postgres::Config) -> Result<Link, postgres::Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            // as the synchronous `postgres` client does: only a process out of threads or
            // descriptors fails here
            .expect("a single-threaded runtime starts");
        let (client, connection) = runtime.block_on(config.connect(NoTls))?;
        Ok(Link(Some(LinkParts { runtime, client, connection: Some(connection) })))
    }

    fn parts(&mut self) -> &mut LinkParts {
        self.0.as_mut().expect("a link is only taken by drop")
    }

    fn is_closed(&self) -> bool {
        self.0.as_ref().is_none_or(|p| p.client.is_closed())
    }
}

impl LinkParts {
    /// Runs `future` to its end while the connection's task reads and writes the socket.
    fn block_on<F: Future>(
        runtime: &tokio::runtime::Runtime,
        connection: &mut Option<Connection<Socket, NoTlsStream>>,
        future: F,
    ) -> Result<F::Output, postgres::Error> {
        let mut future = pin!(future);
        runtime.block_on(std::future::poll_fn(|cx| {
            while let Some(conn) = connection.as_mut() {
                match conn.poll_message(cx) {
                    Poll::Ready(Some(Ok(AsyncMessage::Notice(notice)))) => {
                        // the code only: a message may quote a value
                        tracing::warn!(code = notice.code().code(), "PostgreSQL notice");
                    }
                    Poll::Ready(Some(Ok(_))) => {}
                    Poll::Ready(Some(Err(e))) => {
                        // dropping the connection fails every statement still waiting for it
                        *connection = None;
                        return Poll::Ready(Err(e));
                    }
                    Poll::Ready(None) => *connection = None,
                    Poll::Pending => break,
                }
            }
            future.as_mut().poll(cx).map(Ok)
        }))
    }
}

impl PgConn {
    pub(crate) fn open(
        config: &tokio_postgres::Config,
        round_trips: Arc<AtomicU64>,
    ) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            link: Link::connect(config)?,
            config: config.clone(),
            round_trips,
            statements: HashMap::new(),
            waiting: Vec::new(),
            begun: false,
            untried: false,
            broken: false,
        })
    }

    /// Begins a transaction with `begin` (simple-protocol statements): it is sent with the
    /// transaction's first statement.
    pub(crate) fn begin(&mut self, begin: &'static str) {
        debug_assert!(self.waiting.is_empty(), "a transaction begins on an idle connection");
        self.waiting.clear();
        self.waiting.push(Waiting::Simple(begin));
        self.begun = false;
        self.untried = true;
    }

    /// Ends the transaction with COMMIT (`commit`) or ROLLBACK, sending what still waits before
    /// a COMMIT. A transaction that sent nothing ends without a round trip.
    pub(crate) fn end(&mut self, commit: bool) -> Result<(), postgres::Error> {
        let writes_waiting = self.waiting.iter().any(|w| matches!(w, Waiting::Execute(..)));
        let something_to_send = self.begun || (commit && writes_waiting);
        if !something_to_send {
            // nothing reached the server, and nothing is to: nothing to commit or roll back
            self.waiting.clear();
            return Ok(());
        }
        if commit {
            self.send(Sending::Simple("COMMIT")).map(|_| ())
        } else {
            self.waiting.clear();
            self.send(Sending::Simple("ROLLBACK")).map(|_| ())
        }
    }

    /// Notes that the connection just left the pool for statements outside a transaction: if
    /// the first finds it dead, a new connection replaces it.
    pub(crate) fn checked_out(&mut self) {
        self.untried = true;
    }

    /// Puts a statement in the pipeline: it is sent with the next one that needs an answer.
    pub(crate) fn defer(&mut self, sql: &'static str, params: Vec<OwnedParam>) {
        self.waiting.push(Waiting::Execute(sql, params));
    }

    /// Runs a cached statement (after what waits) and returns its rows.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        match self.send(Sending::Query(sql, params))? {
            Answer::Rows(rows) => Ok(rows),
            _ => unreachable!("a query answers rows"),
        }
    }

    /// Runs a cached statement (after what waits) and returns the number of rows it changed.
    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        match self.send(Sending::Execute(sql, params))? {
            Answer::Count(n) => Ok(n),
            _ => unreachable!("an execute answers a count"),
        }
    }

    /// Runs simple-protocol statements outside a transaction (maintenance: VACUUM, CHECKPOINT).
    pub(crate) fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.send(Sending::Simple(sql)).map(|_| ())
    }

    /// Sends what waits and then `last`, in one round trip (plus one per statement not yet
    /// prepared on this connection), and returns `last`'s answer. The first error among them
    /// is the answer: PostgreSQL aborted the transaction there.
    fn send(&mut self, last: Sending<'_>) -> Result<Answer, postgres::Error> {
        let ends_transaction = matches!(last, Sending::Simple("COMMIT"));
        loop {
            let result = self.try_send(&last);
            match result {
                // the connection died in the pool: nothing ran; a COMMIT is never sent twice
                Err(e) if self.untried && !ends_transaction && is_unavailable(&e) && self.link.is_closed() => {
                    self.untried = false;
                    self.statements.clear();
                    self.link = Link::connect(&self.config)?;
                }
                result => {
                    self.untried = false;
                    if self.waiting.iter().any(|w| matches!(w, Waiting::Simple(_))) {
                        self.begun = true;
                    }
                    self.waiting.clear();
                    if matches!(last, Sending::Simple("COMMIT" | "ROLLBACK")) {
                        self.begun = false;
                    }
                    return result;
                }
            }
        }
    }

    fn try_send(&mut self, last: &Sending<'_>) -> Result<Answer, postgres::Error> {
        // prepare what this connection has not prepared yet (a round trip each, once)
        let mut names: Vec<&'static str> = self
            .waiting
            .iter()
            .filter_map(|w| match w {
                Waiting::Execute(sql, _) => Some(*sql),
                Waiting::Simple(_) => None,
            })
            .collect();
        if let Sending::Query(sql, _) | Sending::Execute(sql, _) = last {
            names.push(sql);
        }
        for sql in names {
            if !self.statements.contains_key(sql) {
                self.round_trips.fetch_add(1, Ordering::Relaxed);
                let parts = self.link.parts();
                let statement = LinkParts::block_on(&parts.runtime, &mut parts.connection, parts.client.prepare(sql))??;
                self.statements.insert(sql, statement);
            }
        }
        let statements = &self.statements;
        let LinkParts { runtime, client, connection } = self.link.parts();
        let client = &*client;
        type Sent<'f> = Pin<Box<dyn Future<Output = Result<Answer, postgres::Error>> + 'f>>;
        let mut sent: Vec<Sent<'_>> = Vec::with_capacity(self.waiting.len() + 1);
        for waiting in &self.waiting {
            sent.push(match waiting {
                Waiting::Simple(sql) => Box::pin(async move { client.batch_execute(sql).await.map(|()| Answer::Done) }),
                Waiting::Execute(sql, params) => {
                    let statement = &statements[sql];
                    Box::pin(async move {
                        let params = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync));
                        client.execute_raw(statement, params).await.map(Answer::Count)
                    })
                }
            });
        }
        sent.push(match *last {
            Sending::Query(sql, params) => {
                let statement = &statements[sql];
                Box::pin(async move { client.query(statement, params).await.map(Answer::Rows) })
            }
            Sending::Execute(sql, params) => {
                let statement = &statements[sql];
                Box::pin(async move { client.execute(statement, params).await.map(Answer::Count) })
            }
            Sending::Simple(sql) => Box::pin(async move { client.batch_execute(sql).await.map(|()| Answer::Done) }),
        });
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let answers = LinkParts::block_on(runtime, connection, in_order(sent))?;
        let mut last_answer = None;
        for answer in answers {
            last_answer = Some(answer?);
        }
        Ok(last_answer.expect("the last statement answers"))
    }
}

/// Awaits `futures` together, polling them in order, so that their requests go out in that
/// order (a statement's request is sent when its future is first polled).
async fn in_order<T>(futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("every future finished")).collect()
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        PgConn::open(&self.config, Arc::clone(&self.round_trips))
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.batch_execute("")
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || !conn.waiting.is_empty() || conn.begun || conn.link.is_closed()
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
