//! `GET /api/v1/health`: the process is alive and answers HTTP. It never touches the database
//! (a liveness probe that restarts a healthy server because PostgreSQL is down only makes things
//! worse); `GET /api/v1/ready` (`api::ready`) says whether it can serve.

use axum::Json;
use gocua_core::sync::protocol::{APP_VERSION, SCHEMA_VERSION};
use serde::Serialize;

/// What `GET /api/v1/health` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// The sync schema version it speaks.
    pub schema_version: u32,
}

/// Answers `{status: "ok", version, schema_version}` while the process runs.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "operations",
    responses((status = 200, description = "Tiến trình đang chạy / the process is alive", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok", version: APP_VERSION, schema_version: SCHEMA_VERSION })
}
