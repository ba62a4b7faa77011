//! The server's SQLite database: opening, migrations, and running blocking work off the runtime.

use std::path::Path;
use std::sync::{Arc, Mutex};

use gocua_core::sql;
use gocua_core::store::migrations::{COMMON, COMMON_REVIEW, COMMON_VISIT_STEPS, COMMON_WITHHELD_REASON};
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::ApiError;

const SERVER: [&str; 9] = [
    include_str!("../../../migrations/server/sqlite/0001_server.sql"),
    COMMON_REVIEW,
    include_str!("../../../migrations/server/sqlite/0002_flags_epoch.sql"),
    include_str!("../../../migrations/server/sqlite/0003_keys.sql"),
    include_str!("../../../migrations/server/sqlite/0004_former_scopes.sql"),
    COMMON_VISIT_STEPS,
    include_str!("../../../migrations/server/sqlite/0005_audit.sql"),
    COMMON_WITHHELD_REASON,
    include_str!("../../../migrations/server/sqlite/0006_erasures.sql"),
];

/// The server's migration list: the common files, then the server's own.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(COMMON.iter().chain(SERVER.iter()).map(|sql| M::up(sql)).collect())
}

/// Where the server keeps its data, parsed from `--database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (created on first start).
    Sqlite(std::path::PathBuf),
}

impl DatabaseUrl {
    /// Parses a path, `sqlite://path`, or refuses a URL this build cannot serve.
    pub fn parse(input: &str) -> Result<Self, String> {
        if let Some(path) = input.strip_prefix("sqlite://") {
            return Ok(DatabaseUrl::Sqlite(path.into()));
        }
        if input.starts_with("postgres://") || input.starts_with("postgresql://") {
            return Err("PostgreSQL chưa được hỗ trợ trong bản này; dùng một tệp SQLite / \
                        PostgreSQL is not supported by this build yet; use a SQLite file path"
                .into());
        }
        if input.contains("://") {
            return Err(format!("không hiểu địa chỉ cơ sở dữ liệu / unknown database URL scheme: {input}"));
        }
        Ok(DatabaseUrl::Sqlite(input.into()))
    }
}

/// Opens (creating if needed) a SQLite database and brings it up to date.
pub fn open_sqlite(path: &Path) -> Result<Connection, gocua_core::Error> {
    let mut conn = Connection::open(path)?;
    sql::configure(&conn)?;
    migrations().to_latest(&mut conn)?;
    Ok(conn)
}

/// The shared connection. SQLite serializes writers anyway; one connection behind a mutex,
/// used only inside `spawn_blocking`, keeps the runtime's threads free.
#[derive(Debug, Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Wraps an open connection.
    pub fn new(conn: Connection) -> Self {
        Db { conn: Arc::new(Mutex::new(conn)) }
    }

    /// Runs `f` on the connection in a blocking thread.
    pub async fn call<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, ApiError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| ApiError::internal("database mutex poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(ApiError::internal)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn database_urls() {
        assert_eq!(DatabaseUrl::parse("/tmp/x.sqlite").unwrap(), DatabaseUrl::Sqlite("/tmp/x.sqlite".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x").unwrap(), DatabaseUrl::Sqlite("/tmp/x".into()));
        assert!(DatabaseUrl::parse("postgres://u@h/db").unwrap_err().contains("PostgreSQL"));
        assert!(DatabaseUrl::parse("mysql://h").unwrap_err().contains("mysql://h"));
    }
}
