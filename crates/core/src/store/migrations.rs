//! The device's migration list, and the common files the server's list also starts with.

use rusqlite_migration::{M, Migrations};

/// Migrations both the device and the server apply first, in order.
pub const COMMON: [&str; 2] = [
    include_str!("../../../../migrations/common/0001_places_reasons.sql"),
    include_str!("../../../../migrations/common/0002_projection.sql"),
];

/// Schema 2's projection change, shared by both sides; each list applies it after its own first
/// file, so databases made before it keep their migration numbering.
pub const COMMON_REVIEW: &str = include_str!("../../../../migrations/common/0003_review.sql");

/// The guidance checklist's steps on visits (issue 5), shared by both sides, applied last.
pub const COMMON_VISIT_STEPS: &str = include_str!("../../../../migrations/common/0004_visit_steps.sql");

/// The reason non-police phones see in place of a police-only one (issue 6), shared, applied last.
pub const COMMON_WITHHELD_REASON: &str = include_str!("../../../../migrations/common/0005_withheld_reason.sql");

/// Schema 6 (the office, issue 14): removed people and spot-check findings, shared, applied last.
pub const COMMON_OFFICE: &str = include_str!("../../../../migrations/common/0006_office.sql");

/// Schema 7: a merged person's record points at the one kept, shared, applied last.
pub const COMMON_MERGE: &str = include_str!("../../../../migrations/common/0007_merge.sql");

/// A visit's position (the phone's, when it said; police only; additive, schema 7 still), shared,
/// applied last.
pub const COMMON_VISIT_POSITION: &str = include_str!("../../../../migrations/common/0008_visit_position.sql");

/// A visit's review (a wrong clock), shared, applied last.
pub const COMMON_VISIT_REVIEW: &str = include_str!("../../../../migrations/common/0009_visit_review.sql");

/// When the phone learned that the server has an event, which retention ages it by (issue 6).
const ACKNOWLEDGED_AT: &str = include_str!("../../../../migrations/device/0008_acknowledged_at.sql");

/// The device's own migrations, applied after [`COMMON`].
const DEVICE: [&str; 22] = [
    include_str!("../../../../migrations/device/0001_device.sql"),
    COMMON_REVIEW,
    include_str!("../../../../migrations/device/0002_server_order.sql"),
    include_str!("../../../../migrations/device/0003_keys.sql"),
    include_str!("../../../../migrations/device/0004_search.sql"),
    include_str!("../../../../migrations/device/0005_people.sql"),
    COMMON_VISIT_STEPS,
    include_str!("../../../../migrations/device/0006_drafts.sql"),
    COMMON_WITHHELD_REASON,
    include_str!("../../../../migrations/device/0007_retention.sql"),
    ACKNOWLEDGED_AT,
    COMMON_OFFICE,
    include_str!("../../../../migrations/device/0009_office.sql"),
    include_str!("../../../../migrations/device/0010_rejected.sql"),
    COMMON_MERGE,
    include_str!("../../../../migrations/device/0011_merge.sql"),
    include_str!("../../../../migrations/device/0012_campaigns.sql"),
    include_str!("../../../../migrations/device/0013_import_layouts.sql"),
    COMMON_VISIT_POSITION,
    include_str!("../../../../migrations/device/0014_visit_position.sql"),
    COMMON_VISIT_REVIEW,
    include_str!("../../../../migrations/device/0015_visit_review.sql"),
];

/// The full, ordered list for the device store.
pub fn device() -> Migrations<'static> {
    Migrations::new(COMMON.iter().chain(DEVICE.iter()).map(|sql| M::up(sql)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_migrations_are_valid() {
        super::device().validate().unwrap();
    }

    #[test]
    fn events_acknowledged_before_the_column_existed_age_from_the_upgrade() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let before = COMMON.len() + DEVICE.iter().position(|m| *m == ACKNOWLEDGED_AT).unwrap();
        device().to_version(&mut conn, before).unwrap();
        conn.execute_batch(
            "INSERT INTO events (id, device_id, seq, author, device_time, type, payload, origin, sync_state, server_seq)
             VALUES ('a', 'd', 1, 'u', '2020-01-01T00:00:00Z', 't', '{}', 'local', 'acknowledged', 1),
                    ('b', 'd', 2, 'u', '2020-01-01T00:00:00Z', 't', '{}', 'local', 'unsent', NULL),
                    ('c', 'd', 3, 'u', '2020-01-01T00:00:00Z', 't', '{}', 'local', 'rejected', NULL)",
        )
        .unwrap();
        let started = chrono::Utc::now() - chrono::Duration::milliseconds(1);
        device().to_latest(&mut conn).unwrap();
        let mut stmt = conn.prepare("SELECT acknowledged_at FROM events ORDER BY seq").unwrap();
        let stamps: Vec<Option<String>> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        let when = chrono::DateTime::parse_from_rfc3339(stamps[0].as_deref().unwrap()).unwrap();
        assert!(when >= started && when <= chrono::Utc::now(), "the upgrade's time, not the recording's: {when}");
        assert_eq!(stamps[1..], [None, None], "only acknowledged events are stamped");
    }
}
