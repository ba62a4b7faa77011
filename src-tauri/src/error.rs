//! The one error the UI sees: `{kind, message, fields}`, so TypeScript can switch on `kind`.

use gocua_core::sync::engine::TransportError;
use gocua_core::validate::FieldError;
use serde::Serialize;

/// What went wrong, in a shape the UI can act on. Messages are Vietnamese first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[error("{kind}: {message}")]
pub struct CommandError {
    /// `invalid` (see `fields`), `not_enrolled`, `not_found`, `unsent_data`, `offline`,
    /// `refused`, `internal`.
    pub kind: String,
    /// For people, Vietnamese then English.
    pub message: String,
    /// Field-level problems, for `invalid`.
    pub fields: Vec<FieldError>,
}

impl CommandError {
    /// An error without field details.
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        CommandError { kind: kind.to_owned(), message: message.into(), fields: Vec::new() }
    }
}

impl From<gocua_core::Error> for CommandError {
    fn from(e: gocua_core::Error) -> Self {
        use gocua_core::Error as E;
        match e {
            E::Invalid(fields) => CommandError {
                kind: "invalid".into(),
                message: "Dữ liệu chưa hợp lệ / Some fields need fixing".into(),
                fields,
            },
            E::InvalidAt { index, errors } => CommandError {
                kind: "invalid".into(),
                message: format!("Bản ghi thứ {} chưa hợp lệ / Record {} needs fixing", index + 1, index + 1),
                fields: errors,
            },
            E::NotEnrolled => CommandError::new("not_enrolled", e.to_string()),
            E::NotFound { .. } => CommandError::new("not_found", e.to_string()),
            E::UnsentData { .. } => CommandError::new("unsent_data", e.to_string()),
            E::InvalidInput(_) => CommandError::new("invalid", e.to_string()),
            E::Sandbox => CommandError::new("sandbox", e.to_string()),
            other => CommandError::new("internal", format!("Lỗi bộ nhớ máy / Device storage error: {other}")),
        }
    }
}

impl From<TransportError> for CommandError {
    fn from(e: TransportError) -> Self {
        match &e {
            TransportError::Offline(_) => CommandError::new("offline", e.to_string()),
            TransportError::Refused { message, .. } => CommandError::new("refused", message.clone()),
            TransportError::Protocol(_) => CommandError::new("internal", e.to_string()),
        }
    }
}
