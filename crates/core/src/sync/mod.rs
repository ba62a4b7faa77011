//! Sync: the wire protocol shared with the server, and the device's sync engine.

pub mod engine;
pub mod protocol;
