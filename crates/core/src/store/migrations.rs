//! The device's migration list, and the common files the server's list also starts with.

use rusqlite_migration::{M, Migrations};

/// Migrations both the device and the server apply first, in order.
pub const COMMON: [&str; 2] = [
    include_str!("../../../../migrations/common/0001_places_reasons.sql"),
    include_str!("../../../../migrations/common/0002_projection.sql"),
];

/// The device's own migrations, applied after [`COMMON`].
const DEVICE: [&str; 1] = [include_str!("../../../../migrations/device/0001_device.sql")];

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
