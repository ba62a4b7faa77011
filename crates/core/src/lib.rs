//! Gõ Cửa domain core: shared by the field app (through `src-tauri`) and the server.
//!
//! Nothing here depends on Tauri, axum or reqwest: the app and the server are shells around it.

pub mod bundle;
pub mod erasure;
pub mod error;
pub mod event;
pub mod fixtures;
pub mod forms;
pub mod funnel;
pub mod ids;
pub mod model;
pub mod places;
pub mod privacy;
pub mod reasons;
pub mod reducer;
pub mod report;
pub mod scope;
pub mod spotcheck;
pub mod sql;
pub mod store;
pub mod sync;
pub mod text;
pub mod validate;

pub use error::Error;
