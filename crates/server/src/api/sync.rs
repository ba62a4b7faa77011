//! `POST /api/v1/sync/push` and `GET /api/v1/sync/pull`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use gocua_core::sync::dcz;
use gocua_core::sync::protocol::{ErrorBody, PullResponse, PushRequest, PushResponse};
use gocua_core::sync::wire::PullBody;

use crate::AppState;
use crate::auth::AuthDevice;
use crate::error::ApiError;
use crate::sync::MIN_PULL_SCHEMA;

/// What an app too old for a page is told.
const UPDATE_THE_APP: &str = "Ứng dụng đã cũ, hãy cập nhật để tải dữ liệu mới (dữ liệu chưa gửi vẫn được nhận) / \
     Update the app to download new data (unsent data is still accepted)";

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
        ("limit" = Option<u32>, Query, description = "Page size (default and at most 2,000)"),
        ("place" = Option<String>, Query, description = "A place inside the device's scope (default: all of it)"),
        ("epoch" = Option<String>, Query, description = "The database the cursor came from (`PullResponse::epoch`)"),
        ("scope" = Option<String>, Query, description = "The scope the device believes it has (its key)"),
        ("own" = Option<bool>, Query, description = "Include the device's own events"),
        ("gocua-schema-version" = Option<u32>, Header, description = "The app's sync schema version"),
        (
            "available-dictionary" = Option<String>, Header,
            description = "RFC 9842: the compression dictionary the app holds (`:base64 SHA-256:`); with `dcz` in \
                           `Accept-Encoding` the page is answered `Content-Encoding: dcz`"
        ),
    ),
    responses(
        (
            status = 200,
            description = "Một trang / one page, or `reset` when the epoch or the scope changed: in runs \
                           (`PullBody`) for apps of schema 5 on, else every event in full (`PullResponse`)",
            content(
                (PullBody = "application/json"),
                (PullResponse = "application/json"),
            )
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
) -> Result<Response, ApiError> {
    crate::policy::require(&device, crate::policy::Action::Pull)?;
    state.limits.device(device.device_id)?;
    let schema = headers.get(SCHEMA_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u32>().ok());
    if schema.is_some_and(|s| s < MIN_PULL_SCHEMA) {
        return Err(ApiError::upgrade_required(UPDATE_THE_APP));
    }
    let page = state.blocking(move |store| crate::sync::pull::pull(store, &device, &query)).await?;
    if let Some(schema) = schema
        && page.events.iter().any(|e| e.event.payload.schema() > schema)
    {
        // the app would skip what it cannot read, and keep records that were removed
        return Err(ApiError::upgrade_required(UPDATE_THE_APP));
    }
    let form = PageForm::asked(&headers, schema);
    tokio::task::spawn_blocking(move || form.answer(page)).await.map_err(ApiError::internal)?
}

/// How a pull page travels, by what the app said it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageForm {
    /// Every event in full (`PullResponse`): apps before schema 5, and requests naming none.
    Full,
    /// In runs (`PullBody`), compressed by the router's layer when the app accepts zstd.
    Runs,
    /// In runs, `dcz` with the dictionary the app named: the fewest bytes on a 2G link.
    RunsDcz(&'static [u8]),
}

impl PageForm {
    fn asked(headers: &HeaderMap, schema: Option<u32>) -> Self {
        if schema.is_none_or(|s| s < 5) {
            return PageForm::Full;
        }
        let dictionary =
            headers.get(dcz::AVAILABLE_DICTIONARY).and_then(|v| v.to_str().ok()).and_then(dcz::dictionary_named);
        let accepts_dcz =
            || headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(dcz::accepted);
        match dictionary {
            Some(dictionary) if accepts_dcz() => PageForm::RunsDcz(dictionary),
            _ => PageForm::Runs,
        }
    }

    /// The page as an HTTP answer (compressing runs a few milliseconds of CPU: a blocking task).
    fn answer(self, page: PullResponse) -> Result<Response, ApiError> {
        let dictionary = match self {
            PageForm::Full => return Ok(Json(page).into_response()),
            PageForm::Runs => return Ok(Json(PullBody::from(page)).into_response()),
            PageForm::RunsDcz(dictionary) => dictionary,
        };
        let json = serde_json::to_vec(&PullBody::from(page)).map_err(ApiError::internal)?;
        let packed = dcz::encode_with(&json, dictionary, dcz::PULL_LEVEL).map_err(ApiError::internal)?;
        let headers = [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_ENCODING, dcz::CONTENT_ENCODING),
            (header::VARY, "accept-encoding, available-dictionary"),
        ];
        Ok((headers, packed).into_response())
    }
}
