//! The core crate's error type: variants a caller can act on.

use crate::validate::FieldError;

/// Errors of the domain core and the device store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke one or more field rules; nothing was stored.
    #[error("dữ liệu không hợp lệ / invalid input: {}", join(.0))]
    Invalid(Vec<FieldError>),
    /// One of several actions recorded together broke field rules; none was stored.
    #[error("bản ghi thứ {} không hợp lệ / record {} is invalid: {}", .index + 1, .index + 1, join(.errors))]
    InvalidAt {
        /// Its place among the actions (0-based).
        index: usize,
        /// What was wrong with it.
        errors: Vec<FieldError>,
    },
    /// A file or message could not be read as the expected format.
    #[error("{0}")]
    InvalidInput(String),
    /// A referenced record does not exist.
    #[error("không tìm thấy / not found: {what} {id}")]
    NotFound {
        /// Kind of record.
        what: &'static str,
        /// Its id or code.
        id: String,
    },
    /// The device has not been enrolled yet.
    #[error("thiết bị chưa được đăng ký với máy chủ / this device is not enrolled")]
    NotEnrolled,
    /// Re-enrolling would strand events the server has not acknowledged.
    #[error("còn {count} bản ghi chưa gửi: hãy đồng bộ trước / {count} records are unsent: sync first")]
    UnsentData {
        /// How many.
        count: u64,
    },
    /// The store is a trainer's sandbox: its data never leaves it and nothing real enters it.
    #[error("dữ liệu tập huấn không bao giờ được đồng bộ hay gửi đi / training data never syncs or leaves the device")]
    Sandbox,
    /// The database key does not open the device store (or the file is not a database).
    #[error("khoá không mở được cơ sở dữ liệu của máy / the key does not open this device's database")]
    WrongKey,
    /// The device store could not be read or written.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// A stored JSON payload could not be (de)serialized.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A report's file could not be written (`crate::report::appendix`).
    #[error("không ghi được tệp báo cáo / the report file could not be written: {0}")]
    Export(String),
    /// A sneakernet bundle could not be made or opened.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
}

impl Error {
    /// A single field error.
    pub fn field(error: FieldError) -> Self {
        Error::Invalid(vec![error])
    }
    /// A file- or message-level input error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
