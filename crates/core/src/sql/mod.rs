//! SQL shared by the device store and the server: catalog tables and the reducer's projection.

pub mod catalog;
pub mod projection;
pub mod report;

use rusqlite::Connection;

use crate::funnel::FunnelState;

/// The activated states as an SQL list (`'activated_level1', …`) for `status IN (…)`: only
/// successful activations count toward quotas.
pub fn activated_states() -> String {
    let codes: Vec<String> =
        FunnelState::ALL.into_iter().filter(|s| s.is_activated()).map(|s| format!("'{}'", s.code())).collect();
    codes.join(", ")
}

/// Each person's first activation as a subquery of `(resident_id, author, at)`: the activated
/// visit with the earliest device time, the lowest visit id among equal times (as the server's
/// counters and PostgreSQL pick it). A person counts once, on that day and for that author,
/// toward quotas and the team's view.
pub fn first_activations() -> String {
    format!(
        "SELECT resident_id, author, device_time AS at FROM (
             SELECT resident_id, author, device_time,
                    row_number() OVER (PARTITION BY resident_id ORDER BY device_time, id) AS k
             FROM visits WHERE status IN ({})) WHERE k = 1",
        activated_states()
    )
}

/// Per-connection settings: WAL, `synchronous=FULL` (a confirmed write survives power loss),
/// foreign keys on, and a busy timeout so a second connection waits instead of failing.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // deleted and rewritten personal values (erasures, retention) are zeroed, not left in free space
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}
