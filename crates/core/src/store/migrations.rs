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

/// The device's own migrations, applied after [`COMMON`].
const DEVICE: [&str; 10] = [
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
];

/// The full, ordered list for the device store.
pub fn device() -> Migrations<'static> {
    Migrations::new(COMMON.iter().chain(DEVICE.iter()).map(|sql| M::up(sql)).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_migrations_are_valid() {
        super::device().validate().unwrap();
    }
}
