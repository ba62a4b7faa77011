//! Which backend the server runs on: `--database` (and `--read-database`) parsed and opened. The
//! only place above the seam that names the backends.

use std::path::PathBuf;
use std::sync::Arc;

use gocua_server_postgres::PgStore;
use gocua_server_sqlite::SqliteStore;
use gocua_server_store::{Store, StoreError};

/// Where the server keeps its data, parsed from `--database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (created on first start): a path, or `sqlite://path`.
    Sqlite(PathBuf),
    /// A PostgreSQL database: `postgres://…` or `postgresql://…`.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a path, `sqlite://path` or `postgres://…`; refuses another scheme.
    pub fn parse(input: &str) -> Result<Self, String> {
        if let Some(path) = input.strip_prefix("sqlite://") {
            return Ok(DatabaseUrl::Sqlite(path.into()));
        }
        if input.starts_with("postgres://") || input.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(input.to_owned()));
        }
        if input.contains("://") {
            return Err(format!(
                "không hiểu địa chỉ cơ sở dữ liệu (dùng đường dẫn tệp SQLite hoặc postgres://…) / unknown database \
                 URL scheme (use a SQLite file path or postgres://…): {input}"
            ));
        }
        Ok(DatabaseUrl::Sqlite(input.into()))
    }
}

/// Opens the store `database` names (migrating it), with reads that may go to `read_database`
/// (a PostgreSQL hot standby of the same primary).
pub fn open(database: &str, read_database: Option<&str>) -> Result<Arc<dyn Store>, String> {
    let failed = |e: StoreError| format!("không mở được cơ sở dữ liệu / cannot open the database: {e}");
    match (DatabaseUrl::parse(database)?, read_database) {
        (DatabaseUrl::Sqlite(path), None) => Ok(Arc::new(SqliteStore::open(&path).map_err(failed)?)),
        (DatabaseUrl::Sqlite(_), Some(_)) => Err("--read-database chỉ dùng với PostgreSQL / --read-database needs a \
                                                  PostgreSQL --database"
            .into()),
        (DatabaseUrl::Postgres(url), replica) => {
            if let Some(replica) = replica
                && !matches!(DatabaseUrl::parse(replica)?, DatabaseUrl::Postgres(_))
            {
                return Err("--read-database phải là postgres://… / --read-database must be a postgres:// URL".into());
            }
            Ok(Arc::new(PgStore::open(&url, replica).map_err(failed)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(DatabaseUrl::parse("/tmp/x.sqlite").unwrap(), DatabaseUrl::Sqlite("/tmp/x.sqlite".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x").unwrap(), DatabaseUrl::Sqlite("/tmp/x".into()));
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").unwrap(), DatabaseUrl::Postgres("postgres://u@h/db".into()));
        assert!(DatabaseUrl::parse("mysql://h").unwrap_err().contains("mysql://h"));
        assert!(open("/tmp/x.sqlite", Some("postgres://h/db")).unwrap_err().contains("PostgreSQL"));
    }
}
