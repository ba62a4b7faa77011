//! `POST /api/v1/sync/push` and `GET /api/v1/sync/pull`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use gocua_core::sync::protocol::{ErrorBody, PullResponse, PushRequest, PushResponse};

use crate::AppState;
use crate::auth::AuthDevice;
use crate::error::ApiError;
use crate::sync::MIN_PULL_SCHEMA;

/// The header every request carries with the app's schema version.
pub const SCHEMA_HEADER: &str = "gocua-schema-version";

/// Applies a batch of the device's events.
#[utoipa::path(
    post,
    path = "/api/v1/sync/push",
    tag = "sync",
    security(("device_token" = [])),
    params(("gocua-schema-version" = Option<u32>, Header, description = "The app's sync schema version")),
    request_body(
        content = gocua_core::sync::wire::PushBody,
        description = "Sự kiện theo thứ tự / the device's events in sequence order (at most 100); JSON, or \
                       zstd/dcz-compressed with `Content-Encoding`"
    ),
    responses(
        (status = 200, description = "Kết quả từng sự kiện / one outcome per event handled (schema 3+: plainly \
                                      applied events folded into `applied` runs)", body = PushResponse),
        (status = 400, description = "Yêu cầu không hợp lệ / invalid request", body = ErrorBody),
        (
            status = 401,
            description = "Thiếu hoặc sai mã thiết bị, hoặc thiết bị bị thu hồi / no valid token, or a revoked device",
            body = ErrorBody
        ),
        (
            status = 403,
            description = "Ngoài phạm vi hoặc vai trò không được gửi / outside the scope, or the role may not push",
            body = ErrorBody
        ),
        (status = 413, description = "Quá lớn / too large", body = ErrorBody),
        (status = 415, description = "Kiểu nén không đọc được / unsupported content encoding", body = ErrorBody),
        (status = 429, description = "Quá nhiều yêu cầu / over the request budget (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
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
    state.metrics.push_results(&response.results);
    tracing::info!(device = %device_id, handled, last_seq = response.last_seq, "push");
    // apps from schema 3 on read applied events as runs; older ones need every result
    Ok(Json(if schema >= 3 { response.compacted() } else { response }))
}

pub use crate::sync::pull::PullQuery;

/// Returns one page of the device's scope.
#[utoipa::path(
    get,
    path = "/api/v1/sync/pull",
    tag = "sync",
    security(("device_token" = [])),
    params(
        ("cursor" = Option<u64>, Query, description = "The last `server_seq` the device holds (default 0)"),
        ("limit" = Option<u32>, Query, description = "Page size (default and at most 500)"),
        ("place" = Option<String>, Query, description = "A place inside the device's scope (default: all of it)"),
        ("epoch" = Option<String>, Query, description = "The database the cursor came from (`PullResponse::epoch`)"),
        ("scope" = Option<String>, Query, description = "The scope the device believes it has (its key)"),
        ("own" = Option<bool>, Query, description = "Include the device's own events"),
        ("gocua-schema-version" = Option<u32>, Header, description = "The app's sync schema version"),
    ),
    responses(
        (
            status = 200,
            description = "Một trang / one page, or `reset` when the epoch or the scope changed",
            body = PullResponse
        ),
        (status = 400, description = "Yêu cầu không hợp lệ / invalid request", body = ErrorBody),
        (status = 401, description = "Thiếu hoặc sai mã thiết bị / no valid token", body = ErrorBody),
        (status = 403, description = "Ngoài phạm vi / outside the scope", body = ErrorBody),
        (status = 426, description = "Ứng dụng cần cập nhật / the app must be updated", body = ErrorBody),
        (status = 429, description = "Quá nhiều yêu cầu / over the request budget (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
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
