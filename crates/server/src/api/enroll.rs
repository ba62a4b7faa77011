//! `POST /api/v1/enroll`: trade a one-time code for a device token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use gocua_core::sync::protocol::{EnrollRequest, EnrollResponse, ErrorBody};

use crate::AppState;
use crate::error::ApiError;

/// Enrolls a device.
#[utoipa::path(
    post,
    path = "/api/v1/enroll",
    tag = "sync",
    request_body(content = EnrollRequest, description = "Mã dùng một lần / a one-time code and the device's name"),
    responses(
        (
            status = 200,
            description = "Đã đăng ký / enrolled: the device's token (shown once) and its scope",
            body = EnrollResponse
        ),
        (status = 400, description = "Yêu cầu không hợp lệ / invalid request", body = ErrorBody),
        (
            status = 401,
            description = "Mã sai, đã dùng hoặc hết hạn / the code is wrong, used or expired",
            body = ErrorBody
        ),
        (status = 429, description = "Quá nhiều lần thử / too many attempts (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
pub async fn enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EnrollResponse>, ApiError> {
    state.limits.enrollment()?;
    let request: EnrollRequest = super::json_body(&headers, body)?;
    let response = match state.blocking(move |store| crate::sync::enroll::enroll(store, &request)).await {
        Ok(response) => response,
        Err(e) => {
            if e.status.is_client_error() {
                state.limits.enrollment_failed();
            }
            return Err(e);
        }
    };
    tracing::info!(device = %response.device_id, role = response.user.role.code(), scope = %response.scope.code, "device enrolled");
    Ok(Json(response))
}
