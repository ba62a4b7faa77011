//! The Tauri 2 shell of the field app. Until the app issue lands this crate only proves the
//! dependency direction: it wires `gocua-core` and adds nothing of its own.

/// The schema version the app will speak, re-exported so the shell and core cannot drift.
pub const SCHEMA_VERSION: u32 = gocua_core::sync::protocol::SCHEMA_VERSION;
