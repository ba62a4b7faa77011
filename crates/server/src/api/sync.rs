//! `POST /api/v1/sync/push` and `GET /api/v1/sync/pull`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use gocua_core::sync::protocol::{PullResponse, PushRequest, PushResponse};

use crate::AppState;
use crate::auth::AuthDevice;
use crate::error::ApiError;
use crate::sync::MIN_PULL_SCHEMA;

/// The header every request carries with the app's schema version.
pub const SCHEMA_HEADER: &str = "gocua-schema-version";

/// Applies a batch of the device's events.
pub async fn push(
    State(state): State<AppState>,
    device: AuthDevice,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    crate::policy::require(&device, crate::policy::Action::Push)?;
    state.limits.device(device.device_id)?;
    let request: PushRequest = super::json_body(&headers, body)?;
    let (device_id, schema, handled) = (device.device_id, request.schema_version, request.events.len());
    let response = state.blocking(move |store| crate::sync::push::push(store, &device, &request)).await?;
    tracing::info!(device = %device_id, handled, last_seq = response.last_seq, "push");
    // apps from schema 3 on read applied events as runs; older ones need every result
    Ok(Json(if schema >= 3 { response.compacted() } else { response }))
}

pub use crate::sync::pull::PullQuery;

/// Returns one page of the device's scope.
pub async fn pull(
    State(state): State<AppState>,
    device: AuthDevice,
    headers: HeaderMap,
    Query(query): Query<PullQuery>,
) -> Result<Json<PullResponse>, ApiError> {
    crate::policy::require(&device, crate::policy::Action::Pull)?;
    state.limits.device(device.device_id)?;
    let schema = headers.get(SCHEMA_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u32>().ok());
    if schema.is_some_and(|s| s < MIN_PULL_SCHEMA) {
        return Err(ApiError::upgrade_required(
            "Ứng dụng đã cũ, hãy cập nhật để tải dữ liệu mới (dữ liệu chưa gửi vẫn được nhận) / \
             Update the app to download new data (unsent data is still accepted)",
        ));
    }
    let response = state.blocking(move |store| crate::sync::pull::pull(store, &device, &query)).await?;
    Ok(Json(response))
}
