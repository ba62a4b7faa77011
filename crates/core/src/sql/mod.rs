//! SQL shared by the device store and the server: catalog tables and the reducer's projection.

pub mod catalog;
pub mod projection;

use rusqlite::Connection;

/// Per-connection settings: WAL, `synchronous=FULL` (a confirmed write survives power loss),
/// foreign keys on, and a busy timeout so a second connection waits instead of failing.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}
