//! The one HTTP error type: every failure answers JSON `{kind, message}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gocua_core::sync::protocol::ErrorBody;
use gocua_server_store::StoreError;

/// An error answer. 4xx say exactly what was wrong; 5xx say little and log the detail.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable kind.
    pub kind: &'static str,
    /// Message for people, Vietnamese first.
    pub message: String,
    /// Seconds to wait before trying again (a 429's `Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// 400 with a kind.
    pub fn bad_request(kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, kind, message: message.into(), retry_after: None }
    }
    /// 401.
    pub fn unauthorized(kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::UNAUTHORIZED, kind, message: message.into(), retry_after: None }
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::FORBIDDEN, kind: "forbidden", message: message.into(), retry_after: None }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, kind: "not_found", message: message.into(), retry_after: None }
    }
    /// 413.
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            kind: "payload_too_large",
            message: message.into(),
            retry_after: None,
        }
    }
    /// 415: a body compressed in a way the server cannot read.
    pub fn unsupported_encoding(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            kind: "unsupported_encoding",
            message: message.into(),
            retry_after: None,
        }
    }
    /// 429: over the request budget; `Retry-After` says when to come back.
    pub fn too_many_requests(retry_after: u64, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: "too_many_requests",
            message: message.into(),
            retry_after: Some(retry_after),
        }
    }
    /// 426: the app must be upgraded before this request can be served.
    pub fn upgrade_required(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UPGRADE_REQUIRED,
            kind: "upgrade_required",
            message: message.into(),
            retry_after: None,
        }
    }
    /// 503: the database cannot be reached now; the detail goes to the log. The app retries.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(%detail, "database unavailable");
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "unavailable",
            message: "Máy chủ tạm thời chưa sẵn sàng, vui lòng thử lại sau / The server is briefly unavailable, \
                      please try again later"
                .into(),
            retry_after: Some(5),
        }
    }
    /// 500; the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "internal",
            message: "Lỗi máy chủ, vui lòng thử lại sau / Server error, please try again later".into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody { kind: self.kind.to_owned(), message: self.message })).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}

impl From<crate::domain::Error> for ApiError {
    fn from(e: crate::domain::Error) -> Self {
        use crate::domain::Error as E;
        match e {
            E::Invalid { kind, message } => ApiError::bad_request(kind, message),
            E::Unauthenticated { kind, message } => ApiError::unauthorized(kind, message),
            E::Forbidden(message) => ApiError::forbidden(message),
            E::NotFound(message) => ApiError::not_found(message),
            E::TooLarge(message) => ApiError::too_large(message),
            E::Store(StoreError::Unavailable(detail)) => ApiError::unavailable(detail),
            E::Store(other) => ApiError::internal(other),
        }
    }
}
