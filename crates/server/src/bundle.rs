//! Sneakernet bundle import: the server's sealing key, and `import`, which opens a device's bundle
//! and feeds its events through the same ingest as a push, audited in `bundle_imports`.
//!
//! Ingest is `sync::push::push` itself, in batches of at most `MAX_PUSH_EVENTS` with the device's
//! own `AuthDevice`, so sequence numbers, duplicates, rejections and scope behave exactly as if
//! the phone had pushed the same events in the same batches: a replayed bundle is all duplicates,
//! and an event outside the device's scope refuses its batch (earlier batches stay applied, as
//! they would have after earlier pushes).

use std::fmt;

use chrono::Utc;
use gocua_core::bundle::{self, BundleError, DevicePublicKey, Header, ServerKey};
use gocua_core::sync::protocol::{EventStatus, MAX_PUSH_EVENTS, PushRequest};
use gocua_server_store::{
    BundleImportEnd, BundleImportStart, DeviceKey, ServerKeyRow, Store, StoreError, StoreResult, Tx, run_write,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::load_device;
use crate::domain::Error;

/// The server's current sealing key, made on first use (an enrollment or an import).
pub fn current_key(tx: &mut dyn Tx) -> StoreResult<ServerKey> {
    if let Some(key) = stored_key(tx, None)? {
        return Ok(key);
    }
    let key = ServerKey::generate();
    let public = key.public_key();
    tx.insert_server_key_if_absent(&ServerKeyRow {
        fingerprint: public.fingerprint(),
        public_key: public.to_base64(),
        secret_key: key.secret_bytes().to_vec(),
        created_at: Utc::now(),
    })?;
    stored_key(tx, None)?.ok_or_else(|| StoreError::Failed("the server key was not stored".into()))
}

/// The key with this fingerprint, or the current one when `fingerprint` is `None`.
fn stored_key(tx: &mut dyn Tx, fingerprint: Option<&str>) -> StoreResult<Option<ServerKey>> {
    tx.server_key(fingerprint)?
        .map(|s| ServerKey::from_secret_bytes(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// What an import did, by event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Newly applied (including flagged).
    pub applied: u64,
    /// Applied and flagged for review.
    pub flagged: u64,
    /// Already on the server.
    pub duplicates: u64,
    /// Rejected as permanently invalid (the sequence advanced past them, as in a push).
    pub rejected: u64,
}

/// A successful import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Hex SHA-256 of the file.
    pub sha256: String,
    /// The device that made the bundle.
    pub device_id: Uuid,
    /// Events in the bundle.
    pub events: u64,
    /// What became of them.
    pub counts: ImportCounts,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        let (flag_vi, flag_en) = if c.flagged > 0 {
            (format!(", {} cần xem lại", c.flagged), format!(", {} flagged", c.flagged))
        } else {
            (String::new(), String::new())
        };
        write!(
            f,
            "Đã nhập gói {sha} của thiết bị {device}: {n} bản ghi — {a} mới, {d} đã có, {r} bị từ chối{flag_vi} / \
             imported bundle {sha} of device {device}: {n} events — {a} applied, {d} duplicates, {r} rejected{flag_en}",
            sha = &self.sha256[..12],
            device = self.device_id,
            n = self.events,
            a = c.applied,
            d = c.duplicates,
            r = c.rejected,
        )
    }
}

/// Why an import was refused. Messages are Vietnamese, then English.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The bundle could not be opened or verified; nothing was applied.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The ingest refused a batch, as it would have refused the push (e.g. `forbidden`: an event
    /// outside the device's scope); earlier batches stay applied.
    #[error("{message}{}", earlier(.counts))]
    Refused {
        /// The push error's kind.
        kind: &'static str,
        /// The push error's message.
        message: String,
        /// What earlier batches did.
        counts: ImportCounts,
    },
    /// The server lacks earlier events of the device than the bundle holds.
    #[error(
        "Máy chủ còn thiếu bản ghi số {expected} của thiết bị, gói không có: hãy để thiết bị đồng bộ hoặc xuất lại gói / \
         the server lacks the device's event {expected}, which the bundle does not hold: let the device sync or export again{}",
        earlier(.counts)
    )]
    Gap {
        /// The sequence number the server expects next.
        expected: u64,
        /// What earlier batches did.
        counts: ImportCounts,
    },
    /// The server failed (detail in the log).
    #[error("{0}")]
    Internal(String),
}

fn earlier(counts: &ImportCounts) -> String {
    let done = counts.applied + counts.duplicates + counts.rejected;
    if done == 0 {
        " — không có bản ghi nào được nhập / nothing was imported".into()
    } else {
        format!(" — {done} bản ghi của các lô trước đã được xử lý / {done} events of earlier batches were processed")
    }
}

impl ImportError {
    /// A stable code for the audit and callers.
    pub fn kind(&self) -> &'static str {
        match self {
            ImportError::Bundle(e) => e.kind(),
            ImportError::Refused { kind, .. } => kind,
            ImportError::Gap { .. } => "gap",
            ImportError::Internal(_) => "internal",
        }
    }

    fn from_push(e: Error, counts: ImportCounts) -> Self {
        if e.is_server_fault() {
            ImportError::Internal(e.to_string())
        } else {
            ImportError::Refused { kind: e.kind(), message: e.to_string(), counts }
        }
    }
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Internal(e.to_string())
    }
}

impl From<Error> for ImportError {
    fn from(e: Error) -> Self {
        ImportError::from_push(e, ImportCounts::default())
    }
}

/// Imports a bundle file's bytes: opens and verifies it, then ingests its events as the device's
/// pushes would be. Every attempt, accepted or refused, leaves one row in `bundle_imports`
/// (hash, device, counts, `imported_by`, times, outcome, reason code: no personal values).
pub fn import(store: &dyn Store, bytes: &[u8], imported_by: &str) -> Result<ImportSummary, ImportError> {
    let imported_by: String = match imported_by.trim() {
        "" => "unknown".into(),
        by => by.chars().take(100).collect(),
    };
    let sha256 = hex::encode(Sha256::digest(bytes));
    let claimed = bundle::read_header(bytes).ok();
    let start = BundleImportStart {
        sha256: sha256.clone(),
        device_id: claimed.as_ref().map(|h| h.device_id),
        events: claimed.as_ref().map(|h| h.events),
        imported_by,
        started_at: Utc::now(),
    };
    let audit_id = run_write(store, |tx| tx.start_bundle_import(&start))?;
    let mut counts = ImportCounts::default();
    let mut seqs = None;
    let outcome = ingest(store, bytes, &mut counts, &mut seqs);
    let end = BundleImportEnd {
        applied: counts.applied,
        flagged: counts.flagged,
        duplicates: counts.duplicates,
        rejected: counts.rejected,
        seqs,
        finished_at: Utc::now(),
        outcome: if outcome.is_ok() { "imported" } else { "refused" },
        reason: outcome.as_ref().err().map(|e| e.kind().to_owned()),
    };
    run_write(store, |tx| tx.finish_bundle_import(audit_id, &end))?;
    let header = outcome?;
    Ok(ImportSummary { sha256, device_id: header.device_id, events: header.events, counts })
}

fn ingest(
    store: &dyn Store,
    bytes: &[u8],
    counts: &mut ImportCounts,
    seqs: &mut Option<(u64, u64)>,
) -> Result<Header, ImportError> {
    let header = bundle::read_header(bytes)?;
    let (key, device) = run_write(store, |tx| -> Result<_, ImportError> {
        let key = match stored_key(tx, Some(&header.server_key))? {
            Some(key) => key,
            None => {
                let ours = current_key(tx)?.public_key().fingerprint();
                return Err(BundleError::OtherServer { bundle: header.server_key.clone(), server: ours }.into());
            }
        };
        Ok((key, load_device(tx, DeviceKey::Id(header.device_id))?))
    })?;
    let opened = bundle::open(bytes, &key, |id| match &device {
        Some(d) if d.auth.device_id == id => {
            if d.revoked {
                return Err(BundleError::DeviceRevoked(id));
            }
            DevicePublicKey::parse(d.signing_key.as_deref().ok_or(BundleError::NoDeviceKey(id))?)
        }
        _ => Err(BundleError::UnknownDevice(id)),
    })?;
    let Some(device) = device else { return Err(BundleError::UnknownDevice(header.device_id).into()) };
    // a bundle speaks for its device: it may carry only what that device could push
    crate::policy::require(&device.auth, crate::policy::Action::Push)
        .map_err(|e| ImportError::from_push(e, *counts))?;
    *seqs = opened.events.iter().map(|e| e.seq).min().zip(opened.events.iter().map(|e| e.seq).max());
    for batch in opened.events.chunks(MAX_PUSH_EVENTS) {
        let request = PushRequest {
            schema_version: opened.schema_version,
            app_version: opened.app_version.clone(),
            events: batch.to_vec(),
            // a file from the office says nothing of what the phone holds now
            queued: None,
        };
        let response =
            crate::sync::push::push(store, &device.auth, &request).map_err(|e| ImportError::from_push(e, *counts))?;
        for result in &response.results {
            match result.status {
                EventStatus::Applied => counts.applied += 1,
                EventStatus::Flagged => {
                    counts.applied += 1;
                    counts.flagged += 1;
                }
                EventStatus::Duplicate => counts.duplicates += 1,
                EventStatus::Rejected => counts.rejected += 1,
            }
        }
        if let Some(expected) = response.expected_seq {
            return Err(ImportError::Gap { expected, counts: *counts });
        }
    }
    Ok(opened.header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store;

    #[test]
    fn the_server_key_is_made_once_and_kept() {
        let store = test_store::store();
        let store = &*store;
        let first = run_write(store, |tx| current_key(tx)).unwrap();
        let again = run_write(store, |tx| current_key(tx)).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        let fingerprint = first.public_key().fingerprint();
        let found = run_write(store, |tx| stored_key(tx, Some(&fingerprint))).unwrap().unwrap();
        assert_eq!(found.public_key(), first.public_key());
        assert!(run_write(store, |tx| stored_key(tx, Some("00"))).unwrap().is_none());
    }

    #[test]
    fn a_file_that_is_not_a_bundle_is_refused_and_audited() {
        let store = test_store::store();
        let store = &*store;
        let err = import(store, b"hello", "  ").unwrap_err();
        assert_eq!(err.kind(), "not_a_bundle");
        let rows = gocua_server_store::run_read(store, |tx| tx.bundle_imports()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].outcome.as_str(),
                rows[0].reason.as_deref(),
                rows[0].start.imported_by.as_str(),
                rows[0].start.device_id
            ),
            ("refused", Some("not_a_bundle"), "unknown", None)
        );
    }
}
