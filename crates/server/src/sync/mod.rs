//! Server side of sync protocol v1: enrollment, push ingest, scoped pull, and the revocation
//! check a locked app makes, on one connection.

pub mod batch;
pub mod counters;
pub mod enroll;
pub mod pull;
pub mod push;
pub mod status;

/// The oldest event schema the server still accepts pushes of (old phones' unsent data is never
/// stranded).
pub const MIN_PUSH_SCHEMA: u32 = 1;
/// The oldest schema the server still serves pulls to; older apps are told to upgrade: schema 1
/// apps cannot read patch edits and tombstones, and apps before schema 4 would drop the masked
/// records of non-police roles as invalid and never forget an erased resident.
pub const MIN_PULL_SCHEMA: u32 = 4;
/// Hard cap on events per push (clients send at most `MAX_PUSH_EVENTS`).
pub const MAX_EVENTS_PER_REQUEST: usize = 500;
