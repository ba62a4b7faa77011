//! `POST /api/v1/device/status`: a locked app asks, with its revocation probe instead of its
//! token, whether its device was revoked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use gocua_core::sync::protocol::ErrorBody;
use gocua_core::sync::status::{DeviceState, DeviceStatusRequest, DeviceStatusResponse};

use crate::AppState;
use crate::error::ApiError;

/// Answers whether a device is active or revoked.
#[utoipa::path(
    post,
    path = "/api/v1/device/status",
    tag = "sync",
    request_body(
        content = DeviceStatusRequest,
        description = "Mã thiết bị và mã kiểm tra thu hồi / the device's id and the revocation probe its \
                       enrollment answered (the app asks while locked, without its token)"
    ),
    responses(
        (
            status = 200,
            description = "Trạng thái thiết bị / the device's state, and nothing else",
            body = DeviceStatusResponse
        ),
        (status = 400, description = "Yêu cầu không hợp lệ / invalid request", body = ErrorBody),
        (
            status = 401,
            description = "Thiết bị hoặc mã kiểm tra không đúng / unknown device or wrong probe",
            body = ErrorBody
        ),
        (status = 429, description = "Quá nhiều lần thử / too many attempts (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DeviceStatusResponse>, ApiError> {
    // wrong probes share one budget, as wrong enrollment codes do; a right one costs only its
    // device's own budget
    state.limits.probe()?;
    let request: DeviceStatusRequest = match super::json_body(&headers, body) {
        Ok(request) => request,
        Err(e) => {
            state.limits.probe_failed();
            return Err(e);
        }
    };
    let device = request.device_id;
    let status = match state.blocking(move |store| crate::sync::status::device_status(store, &request)).await {
        Ok(status) => status,
        Err(e) => {
            if e.status.is_client_error() {
                state.limits.probe_failed();
            }
            return Err(e);
        }
    };
    state.limits.device(device)?;
    if status == DeviceState::Revoked {
        tracing::info!(%device, "a revoked device asked its status");
    }
    Ok(Json(DeviceStatusResponse { status }))
}
