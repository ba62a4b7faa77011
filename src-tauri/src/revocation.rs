//! A locked phone still learns it was revoked, and wipes: the check that needs no database key.
//!
//! While the app is locked its database is closed, and the device token and server address in
//! it are out of reach, so the sync worker cannot learn of a revocation. At enrollment the
//! server also gives a revocation probe, a second secret that only answers "active" or
//! "revoked" (`POST /api/v1/device/status`). The app files it, with the server's address and
//! the device's id, in the OS key store beside the PIN record ([`probe_name`]); while locked, a
//! task asks every [`check_interval`] and, on "revoked", wipes as the worker does
//! ([`crate::state::wipe_and_unlock`]). An unreachable server is asked again next time, and a
//! device enrolled before probes existed has none: it learns at its next sync, as before.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gocua_core::sync::engine::TransportError;
use gocua_core::sync::protocol::EnrollResponse;
use gocua_core::sync::status::DeviceState;
use gocua_http_client::HttpTransport;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::keyvault::{KeyVault, VaultError, probe_name};
use crate::state::AppState;

/// The default time between two checks of a locked app.
pub const DEFAULT_CHECK_SECONDS: u64 = 5 * 60;

/// Time between two checks while locked: `GOCUA_REVOCATION_CHECK_SECS`, else five minutes (a
/// request of a few hundred bytes; a phone that sits locked all day spends little on it).
pub fn check_interval() -> Duration {
    let secs = std::env::var("GOCUA_REVOCATION_CHECK_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_CHECK_SECONDS);
    Duration::from_secs(secs)
}

/// What the key store keeps for the check.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRecord {
    /// The server the device enrolled with.
    pub server_url: String,
    /// The device's id.
    pub device_id: Uuid,
    /// The probe (a secret: only the server's hash of it matches).
    pub probe: String,
}

impl std::fmt::Debug for ProbeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeRecord").field("device_id", &self.device_id).finish_non_exhaustive()
    }
}

impl ProbeRecord {
    /// The record of an enrollment, if the server gave a probe (older servers give none).
    pub fn of(server_url: &str, response: &EnrollResponse) -> Option<Self> {
        let probe = response.revocation_probe.clone().filter(|p| !p.is_empty())?;
        Some(ProbeRecord { server_url: server_url.to_owned(), device_id: response.device_id, probe })
    }
}

/// The probe record of the database at `path`, if its enrollment gave one.
pub fn load_probe(vault: &dyn KeyVault, path: &Path) -> Result<Option<ProbeRecord>, VaultError> {
    match vault.load_text(&probe_name(path))? {
        Some(text) => serde_json::from_str(&text).map(Some).map_err(|_| VaultError::Damaged),
        None => Ok(None),
    }
}

/// Files the probe record of the database at `path`, replacing any.
pub fn save_probe(vault: &dyn KeyVault, path: &Path, record: &ProbeRecord) -> Result<(), VaultError> {
    let text = Zeroizing::new(serde_json::to_string(record).map_err(|_| VaultError::Damaged)?);
    vault.store_text(&probe_name(path), &text)
}

/// Files the probe of a new enrollment, or forgets any left from an earlier one when the server
/// gave none: a probe must never speak for another device than the database's.
pub fn file_probe(vault: &dyn KeyVault, path: &Path, record: Option<ProbeRecord>) -> Result<(), VaultError> {
    match record {
        Some(record) => save_probe(vault, path, &record),
        None => delete_probe(vault, path),
    }
}

/// Forgets the probe with the database (`state::wipe_real_store`).
pub fn delete_probe(vault: &dyn KeyVault, path: &Path) -> Result<(), VaultError> {
    vault.delete(&probe_name(path))
}

/// What a check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The app is unlocked: the sync worker learns of a revocation itself.
    Unlocked,
    /// No probe was filed (enrolled before probes, by an older server, or not enrolled).
    NoProbe,
    /// The server says the device is active.
    Active,
    /// The server could not be asked, or did not recognise the probe: asked again later.
    Unanswered,
    /// Revoked: the data, its key, the PIN and the probe are gone.
    Wiped,
    /// Revoked, but wiping failed (tried again at the next check).
    WipeFailed(String),
}

/// Asks the server (over HTTP) whether the probe's device is still enrolled.
pub async fn ask_server(record: ProbeRecord) -> Result<DeviceState, TransportError> {
    HttpTransport::new(&record.server_url)?.device_status(record.device_id, &record.probe).await
}

/// One check: while locked, with a probe filed, asks `ask` and wipes on "revoked".
pub async fn check_once<F, Fut>(state: &AppState, ask: F) -> Checked
where
    F: FnOnce(ProbeRecord) -> Fut,
    Fut: Future<Output = Result<DeviceState, TransportError>>,
{
    if !state.lock.is_locked() {
        return Checked::Unlocked;
    }
    let (vault, paths) = (Arc::clone(&state.vault), Arc::clone(&state.paths));
    // the OS key store may block (D-Bus on Linux): off the async threads
    let record = tauri::async_runtime::spawn_blocking(move || load_probe(vault.as_ref(), &paths.real)).await;
    let record = match record {
        Ok(Ok(Some(record))) => record,
        Ok(Ok(None)) => return Checked::NoProbe,
        Ok(Err(e)) => {
            eprintln!("gocua-app: revocation check: {e}");
            return Checked::Unanswered;
        }
        Err(e) => {
            eprintln!("gocua-app: revocation check: {e}");
            return Checked::Unanswered;
        }
    };
    match ask(record).await {
        Ok(DeviceState::Active) => Checked::Active,
        Ok(DeviceState::Revoked) => wipe(state).await,
        // offline, 401, 429, 5xx: quietly, until the next check
        Err(_) => Checked::Unanswered,
    }
}

async fn wipe(state: &AppState) -> Checked {
    let s = state.clone();
    let wiped = tauri::async_runtime::spawn_blocking(move || {
        crate::state::wipe_and_unlock(&s.store, &s.paths, s.vault.as_ref(), &s.lock)
    })
    .await;
    match wiped {
        Ok(Ok(())) => {
            state.sync.mark_wiped();
            // the worker's next round finds the new, empty database
            state.sync.nudge();
            Checked::Wiped
        }
        Ok(Err(e)) => Checked::WipeFailed(e.to_string()),
        Err(e) => Checked::WipeFailed(e.to_string()),
    }
}

/// Starts the check on the async runtime: at once, then every `interval`, for the app's life.
pub fn spawn(state: AppState, interval: Duration) {
    tauri::async_runtime::spawn(async move {
        loop {
            match check_once(&state, ask_server).await {
                Checked::Wiped => eprintln!("gocua-app: {}", crate::worker::WIPED_MESSAGE),
                Checked::WipeFailed(e) => eprintln!("gocua-app: {}: {e}", crate::worker::WIPE_FAILED_MESSAGE),
                _ => {}
            }
            tokio::time::sleep(interval).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use gocua_core::fixtures;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use gocua_core::store::DeviceStore;

    use super::*;
    use crate::applock::{self, PinRecord};
    use crate::keyvault::{MemoryVault, key_name, pin_name};

    /// An enrolled app with a PIN and a probe filed, holding the sentinel household, unlocked.
    fn enrolled_app(dir: &Path, server_url: &str) -> (AppState, Uuid) {
        let state = crate::state::test_state(dir);
        let response = {
            let mut store = state.store.lock().unwrap();
            let response = EnrollResponse {
                revocation_probe: Some("probe-of-this-phone".into()),
                ..fixtures::enroll_response(&store)
            };
            store.save_enrollment(server_url, &response).unwrap();
            fixtures::record_sentinel_household(&mut store);
            response
        };
        let (vault, real) = (state.vault.as_ref(), &state.paths.real);
        save_probe(vault, real, &ProbeRecord::of(server_url, &response).unwrap()).unwrap();
        applock::save_record(vault, real, &PinRecord::new("246810").unwrap()).unwrap();
        state.lock.set_has_pin(true);
        (state, response.device_id)
    }

    /// A one-shot HTTP server that answers every request with `status` and `body`, and hands
    /// back the requests it read.
    async fn stub_server(status: u16, body: &'static str) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen, heard) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // headers, then the body its content-length announces
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    let done = text.split_once("\r\n\r\n").is_some_and(|(head, rest)| {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        rest.len() >= length
                    });
                    if n == 0 || done {
                        break;
                    }
                }
                let _ = seen.send(String::from_utf8_lossy(&request).to_string());
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (url, heard)
    }

    #[tokio::test]
    async fn a_locked_app_told_revoked_wipes_its_database_key_pin_and_probe() {
        let dir = tempfile::tempdir().unwrap();
        let (url, mut heard) = stub_server(200, r#"{"status":"revoked"}"#).await;
        let (state, device_id) = enrolled_app(dir.path(), &url);
        let real = state.paths.real.clone();
        let key_before = state.vault.load_text(&key_name(&real)).unwrap().unwrap().to_string();
        let bytes_before = std::fs::metadata(&real).unwrap().len();
        assert!(bytes_before > 0);

        // unlocked, the worker's rounds do this job: nothing is asked
        assert_eq!(check_once(&state, ask_server).await, Checked::Unlocked);
        state.lock_now().await.unwrap();
        assert!(state.lock.is_locked());

        assert_eq!(check_once(&state, ask_server).await, Checked::Wiped);
        let request = heard.recv().await.unwrap();
        assert!(request.starts_with("POST /api/v1/device/status "), "{request}");
        assert!(request.contains(&device_id.to_string()) && request.contains("probe-of-this-phone"), "{request}");
        assert!(!request.to_ascii_lowercase().contains("authorization"), "no token is sent: {request}");

        // the old key, PIN record and probe are gone; the file is a new, empty database
        let key_after = state.vault.load_text(&key_name(&real)).unwrap().unwrap().to_string();
        assert_ne!(key_after, key_before, "a new key: a copy of the old file stays unreadable");
        assert_eq!(state.vault.load_text(&pin_name(&real)).unwrap(), None);
        assert_eq!(load_probe(state.vault.as_ref(), &real).unwrap(), None);
        assert!(!state.lock.is_locked() && !state.lock.has_pin(), "back at the enrollment screen");
        let (enrollment, residents) =
            state.with_store(|s| Ok((s.enrollment()?, s.projection()?.residents))).await.unwrap();
        assert!(enrollment.is_none() && residents.is_empty());
        let file = std::fs::read(&real).unwrap();
        let sentinel = fixtures::SENTINEL_NAME.as_bytes();
        assert!(!file.windows(sentinel.len()).any(|w| w == sentinel));
        assert!(
            DeviceStore::open_encrypted(&real, &gocua_core::store::cipher::DbKey::from_hex(&key_before).unwrap())
                .is_err()
        );
        let status = state.sync.status();
        assert!(status.wiped && status.message.as_deref() == Some(crate::worker::WIPED_MESSAGE));

        // nothing is left to ask with
        state.lock_now().await.unwrap();
        assert_eq!(check_once(&state, ask_server).await, Checked::Unlocked, "no PIN: the app does not lock");
    }

    #[tokio::test]
    async fn active_unreachable_or_refused_leaves_everything_and_no_probe_asks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (active, _) = stub_server(200, r#"{"status":"active"}"#).await;
        let (refused, _) = stub_server(401, r#"{"kind":"unauthorized","message":"x"}"#).await;
        // a port nobody listens on
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        for (i, (url, expected)) in
            [(active, Checked::Active), (refused, Checked::Unanswered), (closed, Checked::Unanswered)]
                .into_iter()
                .enumerate()
        {
            let (state, _) = enrolled_app(&dir.path().join(i.to_string()), &url);
            state.lock_now().await.unwrap();
            assert_eq!(check_once(&state, ask_server).await, expected, "{url}");
            assert!(state.lock.is_locked() && state.lock.has_pin(), "{url}");
            assert!(load_probe(state.vault.as_ref(), &state.paths.real).unwrap().is_some());
            assert!(state.vault.load_text(&pin_name(&state.paths.real)).unwrap().is_some());
            assert!(!state.sync.status().wiped);
            state.reopen_after_unlock().await.unwrap();
            let enrolled = state.with_store(|s| s.enrollment()).await.unwrap();
            assert!(enrolled.is_some(), "the data is intact: {url}");
        }

        // enrolled before probes: nothing to ask with, today's behaviour
        let (state, _) = enrolled_app(&dir.path().join("old"), "http://127.0.0.1:9");
        delete_probe(state.vault.as_ref(), &state.paths.real).unwrap();
        state.lock_now().await.unwrap();
        let asked = std::sync::atomic::AtomicBool::new(false);
        let checked = check_once(&state, |_| {
            asked.store(true, std::sync::atomic::Ordering::SeqCst);
            async { Ok(DeviceState::Revoked) }
        })
        .await;
        assert_eq!(checked, Checked::NoProbe);
        assert!(!asked.into_inner() && state.lock.is_locked());
    }

    #[test]
    fn the_record_keeps_server_device_and_probe_hides_the_probe_and_follows_each_enrollment() {
        let store = DeviceStore::open_in_memory().unwrap();
        let old_server = fixtures::enroll_response(&store);
        assert_eq!(ProbeRecord::of("http://x", &old_server), None, "an older server gives no probe");
        let new = EnrollResponse { revocation_probe: Some("s3cret".into()), ..old_server.clone() };
        let record = ProbeRecord::of("http://x", &new).unwrap();
        assert_eq!((record.server_url.as_str(), record.device_id), ("http://x", new.device_id));
        assert!(!format!("{record:?}").contains("s3cret"));
        let vault = MemoryVault::default();
        let path = Path::new("/tmp/gocua-probe-test/gocua.sqlite");
        save_probe(&vault, path, &record).unwrap();
        assert_eq!(load_probe(&vault, path).unwrap(), Some(record.clone()));
        assert!(vault.load_text(&probe_name(path)).unwrap().is_some());
        delete_probe(&vault, path).unwrap();
        assert_eq!(load_probe(&vault, path).unwrap(), None);

        // a new enrollment replaces the probe; one from a server without probes leaves none
        // behind that could speak for the earlier device
        file_probe(&vault, path, Some(record.clone())).unwrap();
        let again = EnrollResponse { revocation_probe: Some("other".into()), ..new.clone() };
        file_probe(&vault, path, ProbeRecord::of("http://y", &again)).unwrap();
        assert_eq!(
            load_probe(&vault, path).unwrap().map(|r| (r.server_url, r.probe)),
            Some(("http://y".into(), "other".into()))
        );
        file_probe(&vault, path, ProbeRecord::of("http://y", &old_server)).unwrap();
        assert_eq!(load_probe(&vault, path).unwrap(), None);
    }
}
