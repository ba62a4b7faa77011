//! What the server's rules answer when they refuse: backend-neutral and free of HTTP. Handlers
//! map it to a status (`error::ApiError`), the command line prints its message.

use gocua_server_store::StoreError;

/// A refusal or failure of a rule (push ingest, pull, enrollment, an officer's command).
/// Messages are Vietnamese, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request breaks a rule; `kind` is the stable code clients see.
    #[error("{message}")]
    Invalid {
        /// Stable code (`invalid_request`, `unsupported_schema`, …).
        kind: &'static str,
        /// For people.
        message: String,
    },
    /// No valid credential: unknown token or code, a used or expired code, a revoked device.
    #[error("{message}")]
    Unauthenticated {
        /// Stable code (`unauthorized`, `invalid_code`, `revoked`).
        kind: &'static str,
        /// For people.
        message: String,
    },
    /// The role or the scope does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// An unknown place, user, device or resident.
    #[error("{0}")]
    NotFound(String),
    /// More than one request may carry.
    #[error("{0}")]
    TooLarge(String),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl Error {
    /// An invalid request of kind `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid { kind: "invalid_request", message: message.into() }
    }

    /// A field that breaks a rule (`gocua_core::validate`), said in both languages.
    pub fn field(error: gocua_core::validate::FieldError) -> Self {
        Error::invalid(format!("{} / {}", error.message_vi, error.message_en))
    }

    /// The stable code of this error (for audits and callers).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Invalid { kind, .. } | Error::Unauthenticated { kind, .. } => kind,
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::TooLarge(_) => "payload_too_large",
            Error::Store(StoreError::Unavailable(_)) => "unavailable",
            Error::Store(_) => "internal",
        }
    }

    /// Whether the fault is the server's (a retry may succeed), not the request's.
    pub fn is_server_fault(&self) -> bool {
        matches!(self, Error::Store(_))
    }
}

impl From<gocua_core::Error> for Error {
    fn from(e: gocua_core::Error) -> Self {
        match e {
            gocua_core::Error::Invalid(_) | gocua_core::Error::InvalidInput(_) => Error::invalid(e.to_string()),
            gocua_core::Error::NotFound { .. } => Error::NotFound(e.to_string()),
            // a report's file, not the database: said as it is
            gocua_core::Error::Export(_) => Error::Invalid { kind: "export_failed", message: e.to_string() },
            other => Error::Store(StoreError::Failed(other.to_string())),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Store(StoreError::Corrupt(e.to_string()))
    }
}
