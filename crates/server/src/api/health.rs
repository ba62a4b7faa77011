//! `GET /api/v1/health`: the server is up and its database answers.

use axum::Json;
use axum::extract::State;
use gocua_core::sync::protocol::{APP_VERSION, SCHEMA_VERSION};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

/// Answers `{status, version, schema_version}` once a query succeeds.
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.blocking(|store| Ok(gocua_server_store::run_read(store, |tx| tx.epoch())?)).await?;
    Ok(Json(json!({ "status": "ok", "version": APP_VERSION, "schema_version": SCHEMA_VERSION })))
}
