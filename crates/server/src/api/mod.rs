//! HTTP handlers under `/api/v1/`, one module per resource, each a few lines over the rules;
//! the route list (`routes`), its OpenAPI document, per-request observation and the metrics.

pub mod device;
pub mod enroll;
pub mod health;
pub mod metrics;
pub mod observe;
pub mod office;
pub mod openapi;
pub mod ready;
pub mod routes;
pub mod sync;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use gocua_core::sync::dcz::{self, DczError};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Reads a JSON body with errors that say what was wrong. A `zstd` body arrives already
/// unpacked (tower-http); a `dcz` one (dictionary zstd, what the app pushes) is unpacked here,
/// with the same limit on its unpacked size.
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(inner) if inner.to_string().contains("length limit") => ApiError::too_large(
            format!("Dữ liệu gửi lên quá lớn (tối đa {} byte sau giải nén) / body too large", crate::MAX_BODY_BYTES),
        ),
        other => ApiError::bad_request(
            "invalid_request",
            format!("Không đọc được dữ liệu gửi lên / could not read the body: {other}"),
        ),
    })?;
    let too_large = || {
        ApiError::too_large(format!(
            "Dữ liệu gửi lên quá lớn (tối đa {} byte sau giải nén) / body too large",
            crate::MAX_BODY_BYTES
        ))
    };
    let bytes = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim()) {
        None | Some("identity") => bytes,
        Some(dcz::CONTENT_ENCODING) => match dcz::decode(&bytes, crate::MAX_BODY_BYTES) {
            Ok(unpacked) => Bytes::from(unpacked),
            Err(DczError::TooLarge(_)) => return Err(too_large()),
            Err(e) => return Err(ApiError::bad_request("invalid_request", e.to_string())),
        },
        Some(other) => {
            return Err(ApiError::unsupported_encoding(format!(
                "Không đọc được kiểu nén {other} (nhận zstd, dcz) / unsupported content encoding {other} \
                 (zstd and dcz are accepted)"
            )));
        }
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("JSON không hợp lệ / invalid JSON: {e}")))
}
