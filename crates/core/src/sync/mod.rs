//! Sync: the wire protocol shared with the server, and the device's sync engine.

pub mod dcz;
pub mod engine;
pub mod protocol;
pub mod wire;
