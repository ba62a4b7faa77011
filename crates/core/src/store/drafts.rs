//! Drafts of forms being filled in, kept in the device store so an app the phone ended while in
//! the background reopens with what was typed. A draft is the UI's own JSON, opaque here.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::DeviceStore;
use crate::error::Error;

/// The largest draft kept (a form, not a file).
pub const MAX_DRAFT_BYTES: usize = 16 * 1024;

impl DeviceStore {
    /// Saves (replaces) the draft under `key`.
    pub fn save_draft(&mut self, key: &str, value: &str) -> Result<(), Error> {
        if key.is_empty() || key.len() > 200 {
            return Err(Error::invalid_input("draft key must be 1–200 bytes"));
        }
        if value.len() > MAX_DRAFT_BYTES {
            return Err(Error::invalid_input(format!("a draft is at most {MAX_DRAFT_BYTES} bytes")));
        }
        self.conn.execute(
            "INSERT OR REPLACE INTO drafts (key, value, saved_at) VALUES (?1, ?2, ?3)",
            params![key, value, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// The draft under `key`, if any.
    pub fn draft(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.conn.query_row("SELECT value FROM drafts WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Forgets the draft under `key` (the form was saved or abandoned).
    pub fn clear_draft(&mut self, key: &str) -> Result<(), Error> {
        self.conn.execute("DELETE FROM drafts WHERE key = ?1", [key])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_survives_closing_the_file_and_is_gone_once_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phone.sqlite");
        let mut store = DeviceStore::open(&path).unwrap();
        store.save_draft("visit:r1", r#"{"note":"Vắng nhà"}"#).unwrap();
        store.save_draft("visit:r1", r#"{"note":"Vắng nhà, hẹn chiều"}"#).unwrap();
        drop(store);
        let mut store = DeviceStore::open(&path).unwrap();
        assert_eq!(store.draft("visit:r1").unwrap().as_deref(), Some(r#"{"note":"Vắng nhà, hẹn chiều"}"#));
        store.clear_draft("visit:r1").unwrap();
        assert_eq!(store.draft("visit:r1").unwrap(), None);
        assert!(store.save_draft("big", &"x".repeat(MAX_DRAFT_BYTES + 1)).is_err());
        assert!(store.save_draft("", "{}").is_err());
    }
}
