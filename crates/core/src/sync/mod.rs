//! Sync: the wire protocol shared with the server, and the device's sync engine.

pub mod dcz;
pub mod engine;
pub mod office;
pub mod protocol;
pub mod status;
pub mod wire;
