//! The schema's own runner: numbered files from `migrations/server/postgres/`, each applied once
//! in a transaction of its own and recorded in `schema_migrations`, the whole run under a
//! session advisory lock so that servers starting together do not race.

use crate::conn::{PgConn, store_error};
use gocua_server_store::{StoreError, StoreResult};

/// The migrations, in order; version N is the N-th file. A landed file is never edited: add the
/// next number.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_catalog_projection", include_str!("../../../migrations/server/postgres/0001_catalog_projection.sql")),
    ("0002_server", include_str!("../../../migrations/server/postgres/0002_server.sql")),
    (
        "0003_events_device_unchecked",
        include_str!("../../../migrations/server/postgres/0003_events_device_unchecked.sql"),
    ),
    ("0004_office", include_str!("../../../migrations/server/postgres/0004_office.sql")),
    ("0005_revocation_probe", include_str!("../../../migrations/server/postgres/0005_revocation_probe.sql")),
    ("0006_device_unsent", include_str!("../../../migrations/server/postgres/0006_device_unsent.sql")),
    ("0007_merge", include_str!("../../../migrations/server/postgres/0007_merge.sql")),
    ("0008_visit_position", include_str!("../../../migrations/server/postgres/0008_visit_position.sql")),
    ("0009_visit_review", include_str!("../../../migrations/server/postgres/0009_visit_review.sql")),
    ("0010_household_paths", include_str!("../../../migrations/server/postgres/0010_household_paths.sql")),
    ("0011_dashboard", include_str!("../../../migrations/server/postgres/0011_dashboard.sql")),
    ("0012_report_counters", include_str!("../../../migrations/server/postgres/0012_report_counters.sql")),
    ("0013_report_deltas", include_str!("../../../migrations/server/postgres/0013_report_deltas.sql")),
];

/// The advisory lock key of a migration run ("gocuamig").
const MIGRATION_LOCK: i64 = 0x676f_6375_616d_6967;

/// Brings the database up to date; returns the number of migrations it applied now.
pub(crate) fn run(client: &mut PgConn) -> StoreResult<u32> {
    let pg = |e: postgres::Error| store_error(&e);
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).map_err(pg)?;
    let outcome = apply(client);
    // the session lock also ends with the connection, which the caller closes
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).map_err(pg);
    let applied = outcome?;
    unlocked?;
    Ok(applied)
}

fn apply(client: &mut PgConn) -> StoreResult<u32> {
    let pg = |e: postgres::Error| store_error(&e);
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .map_err(pg)?;
    let done: Vec<i32> =
        client.query("SELECT version FROM schema_migrations", &[]).map_err(pg)?.iter().map(|r| r.get(0)).collect();
    if let Some(newest) = done.iter().max()
        && *newest as usize > MIGRATIONS.len()
    {
        tracing::warn!(
            database = newest,
            build = MIGRATIONS.len(),
            "PostgreSQL: the database's schema is newer than this build's"
        );
    }
    let mut applied = 0;
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        if done.contains(&version) {
            continue;
        }
        client.begin("BEGIN");
        let applied_now = client
            .batch_execute(sql)
            .map_err(|e| StoreError::Failed(format!("migration {version} ({name}) failed: {}", store_error(&e))))
            .and_then(|()| {
                client
                    .execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[&version, name])
                    .map_err(pg)
            });
        if let Err(e) = applied_now {
            // the connection is closed by the caller; a failed rollback changes nothing then
            let _ = client.end(false);
            return Err(e);
        }
        client.end(true).map_err(pg)?;
        tracing::info!(version, name, "PostgreSQL: migration applied");
        applied += 1;
    }
    Ok(applied)
}
