//! HTTP handlers under `/api/v1/`, one module per resource; each a few lines over `sync`.

pub mod enroll;
pub mod health;
pub mod sync;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Reads a (possibly zstd-decompressed) JSON body with errors that say what was wrong.
pub fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(inner) if inner.to_string().contains("length limit") => ApiError::too_large(
            format!("Dữ liệu gửi lên quá lớn (tối đa {} byte sau giải nén) / body too large", crate::MAX_BODY_BYTES),
        ),
        other => ApiError::bad_request(
            "invalid_request",
            format!("Không đọc được dữ liệu gửi lên / could not read the body: {other}"),
        ),
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("JSON không hợp lệ / invalid JSON: {e}")))
}
