//! `/api/v1/office/…`: the office's server commands for police devices (`crate::office`): the
//! people of the officer's places with their devices, a new person with a one-time code, a new
//! code, a device revoked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use gocua_core::sync::office::{EnrollmentCode, NewPerson, NewPersonResponse, NewRole, OfficePeople, OfficePerson};
use gocua_core::sync::protocol::ErrorBody;
use serde::Serialize;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthDevice;
use crate::error::ApiError;

/// The people working in the officer's places, with their devices.
#[utoipa::path(
    get,
    path = "/api/v1/office/people",
    tag = "office",
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Những người thuộc địa bàn / the people of the officer's places", body = OfficePeople),
        (status = 401, description = "Thiếu hoặc sai mã thiết bị / no valid token", body = ErrorBody),
        (status = 403, description = "Chỉ công an / police only", body = ErrorBody),
        (status = 429, description = "Quá nhiều yêu cầu / over the request budget (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
pub async fn people(State(state): State<AppState>, device: AuthDevice) -> Result<Json<OfficePeople>, ApiError> {
    state.limits.device(device.device_id)?;
    Ok(Json(state.blocking(move |store| crate::office::people(store, &device)).await?))
}

/// Adds a volunteer or team leader of the officer's places, with a first one-time code.
#[utoipa::path(
    post,
    path = "/api/v1/office/people",
    tag = "office",
    security(("device_token" = [])),
    request_body(content = NewPerson, description = "Tên, vai trò, địa bàn / name, role and places"),
    responses(
        (status = 200, description = "Người mới và mã kích hoạt / the person and their code", body = NewPersonResponse),
        (status = 400, description = "Yêu cầu không hợp lệ / invalid request", body = ErrorBody),
        (status = 401, description = "Thiếu hoặc sai mã thiết bị / no valid token", body = ErrorBody),
        (status = 403, description = "Chỉ công an, trong địa bàn / police only, inside their places", body = ErrorBody),
        (status = 429, description = "Quá nhiều yêu cầu / over the request budget (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
pub async fn add_person(
    State(state): State<AppState>,
    device: AuthDevice,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<NewPersonResponse>, ApiError> {
    state.limits.device(device.device_id)?;
    let new: NewPerson = super::json_body(&headers, body)?;
    Ok(Json(state.blocking(move |store| crate::office::add_person(store, &device, &new)).await?))
}

/// A new one-time code for a person of the officer's places.
#[utoipa::path(
    post,
    path = "/api/v1/office/people/{id}/code",
    tag = "office",
    security(("device_token" = [])),
    params(("id" = Uuid, Path, description = "The person")),
    responses(
        (status = 200, description = "Mã kích hoạt mới / a new code", body = EnrollmentCode),
        (status = 401, description = "Thiếu hoặc sai mã thiết bị / no valid token", body = ErrorBody),
        (status = 403, description = "Chỉ công an, trong địa bàn / police only, inside their places", body = ErrorBody),
        (status = 429, description = "Quá nhiều yêu cầu / over the request budget (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
pub async fn new_code(
    State(state): State<AppState>,
    device: AuthDevice,
    Path(id): Path<Uuid>,
) -> Result<Json<EnrollmentCode>, ApiError> {
    state.limits.device(device.device_id)?;
    Ok(Json(state.blocking(move |store| crate::office::new_code(store, &device, id)).await?))
}

/// Makes a volunteer of the officer's places a team leader, or a team leader a volunteer.
#[utoipa::path(
    post,
    path = "/api/v1/office/people/{id}/role",
    tag = "office",
    security(("device_token" = [])),
    params(("id" = Uuid, Path, description = "The person")),
    request_body(content = NewRole, description = "Vai trò mới / the new role"),
    responses(
        (status = 200, description = "Đã đổi vai trò / the role changed", body = OfficePerson),
        (status = 400, description = "Vai trò không hợp lệ / not a role the office gives", body = ErrorBody),
        (status = 401, description = "Thiếu hoặc sai mã thiết bị / no valid token", body = ErrorBody),
        (status = 403, description = "Chỉ công an, trong địa bàn / police only, inside their places", body = ErrorBody),
        (status = 429, description = "Quá nhiều yêu cầu / over the request budget (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
pub async fn set_role(
    State(state): State<AppState>,
    device: AuthDevice,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<OfficePerson>, ApiError> {
    state.limits.device(device.device_id)?;
    let new: NewRole = super::json_body(&headers, body)?;
    Ok(Json(state.blocking(move |store| crate::office::set_role(store, &device, id, new.role)).await?))
}

/// What revoking answered.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// Whether this call revoked it (false: it was already).
    pub revoked: bool,
}

/// Revokes a device of a person of the officer's places: it wipes its data at its next contact.
#[utoipa::path(
    post,
    path = "/api/v1/office/devices/{id}/revoke",
    tag = "office",
    security(("device_token" = [])),
    params(("id" = Uuid, Path, description = "The device")),
    responses(
        (status = 200, description = "Đã thu hồi / revoked", body = Revoked),
        (status = 401, description = "Thiếu hoặc sai mã thiết bị / no valid token", body = ErrorBody),
        (status = 403, description = "Chỉ công an, trong địa bàn / police only, inside their places", body = ErrorBody),
        (status = 429, description = "Quá nhiều yêu cầu / over the request budget (`Retry-After`)", body = ErrorBody),
        (status = 503, description = "Tạm thời chưa sẵn sàng / briefly unavailable (`Retry-After`)", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    device: AuthDevice,
    Path(id): Path<Uuid>,
) -> Result<Json<Revoked>, ApiError> {
    state.limits.device(device.device_id)?;
    let revoked = state.blocking(move |store| crate::office::revoke(store, &device, id)).await?;
    Ok(Json(Revoked { revoked }))
}
