//! `POST /api/v1/enroll`: trade a one-time code for a device token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use gocua_core::sync::protocol::{EnrollRequest, EnrollResponse};

use crate::AppState;
use crate::error::ApiError;

/// Enrolls a device.
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
