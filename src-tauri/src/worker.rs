//! The background sync worker: a task that syncs at start-up, on a timer, on "sync now" and
//! after local writes, with capped, jittered backoff while the server cannot be reached.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{
    BatchSizer, SyncError, SyncProgress, SyncReport, TransportError, sync_once_with_progress,
};
use gocua_http_client::HttpTransport;
use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::views::SyncPhase;

/// Timings of the worker.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Time between rounds while all is well.
    pub interval: Duration,
    /// First retry delay after a failure.
    pub base_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Acknowledged events leave the phone after this many days (see `store::retention`).
    pub retention_days: u32,
}

/// Days acknowledged events stay on the phone: `GOCUA_RETENTION_DAYS`, else 30.
pub fn retention_days() -> u32 {
    std::env::var("GOCUA_RETENTION_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(gocua_core::store::retention::DEFAULT_RETENTION_DAYS)
}

/// How often, at most, the worker folds old acknowledged events away.
const PURGE_EVERY: Duration = Duration::from_secs(60 * 60);

impl WorkerConfig {
    /// 60 s rounds, backoff 5 s doubling to 5 min, 30 days' retention; `GOCUA_SYNC_INTERVAL_SECS`,
    /// `GOCUA_SYNC_MAX_BACKOFF_SECS` and `GOCUA_RETENTION_DAYS` override (tests use short ones).
    pub fn from_env() -> Self {
        let secs = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(Duration::from_secs(default), Duration::from_secs)
        };
        let max_backoff = secs("GOCUA_SYNC_MAX_BACKOFF_SECS", 300).max(Duration::from_secs(1));
        WorkerConfig {
            interval: secs("GOCUA_SYNC_INTERVAL_SECS", 60).max(Duration::from_secs(1)),
            base_backoff: Duration::from_secs(5).min(max_backoff),
            max_backoff,
            retention_days: retention_days(),
        }
    }

    /// The delay before retry number `failures` (1-based), with ±20 % jitter so a commune's
    /// phones do not all retry at once.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exp = self.base_backoff.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
        let capped = exp.min(self.max_backoff);
        let jitter = rand::rng().random_range(0.8..1.2);
        capped.mul_f64(jitter).min(self.max_backoff)
    }
}

/// What the worker last did, for the sync bar.
#[derive(Debug, Clone)]
pub struct WorkerStatus {
    /// Phase.
    pub phase: SyncPhase,
    /// Progress of the running round.
    pub progress: Option<SyncProgress>,
    /// The last error.
    pub message: Option<String>,
    /// When the next automatic round starts.
    pub next_round: Option<Instant>,
    /// The server revoked this device and its data was wiped (until the app restarts).
    pub wiped: bool,
}

/// What the worker does when the server says the device is revoked: wipe its data and key.
pub type OnRevoked = Arc<dyn Fn() -> Result<(), gocua_core::Error> + Send + Sync>;

/// Said once a revoked device has wiped its data.
pub const WIPED_MESSAGE: &str = "Máy chủ đã thu hồi thiết bị này; dữ liệu trên máy đã được xoá / The server revoked \
     this device; its data has been erased";

/// Said when a revoked device could not wipe its data (it tries again next round).
pub const WIPE_FAILED_MESSAGE: &str = "Máy chủ đã thu hồi thiết bị này nhưng chưa xoá được dữ liệu / The server revoked this device but erasing its data failed";

enum Command {
    SyncNow,
}

/// Talks to the worker.
#[derive(Debug, Clone)]
pub struct SyncHandle {
    tx: mpsc::UnboundedSender<Command>,
    status: Arc<Mutex<WorkerStatus>>,
}

impl SyncHandle {
    /// Asks for a round now (a no-op if one is running; it will see the new data).
    pub fn nudge(&self) {
        let _ = self.tx.send(Command::SyncNow);
    }

    /// Notes that this device's data was wiped after a revocation learned without a sync round
    /// (the locked app's check, `revocation`): the enrollment screen says why.
    pub fn mark_wiped(&self) {
        set(&self.status, |s| {
            s.phase = SyncPhase::NotEnrolled;
            s.message = Some(WIPED_MESSAGE.into());
            s.wiped = true;
        });
    }

    /// A handle with no worker behind it (tests of what is built on the state).
    #[cfg(test)]
    pub fn detached() -> Self {
        let (tx, _) = mpsc::unbounded_channel();
        let status =
            WorkerStatus { phase: SyncPhase::Idle, progress: None, message: None, next_round: None, wiped: false };
        SyncHandle { tx, status: Arc::new(Mutex::new(status)) }
    }

    /// The worker's status.
    pub fn status(&self) -> WorkerStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or(WorkerStatus {
            phase: SyncPhase::Idle,
            progress: None,
            message: None,
            next_round: None,
            wiped: false,
        })
    }
}

/// Starts the worker on the async runtime; it runs a first round at once.
pub fn spawn(store: Arc<Mutex<DeviceStore>>, config: WorkerConfig, on_revoked: OnRevoked) -> SyncHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let status = Arc::new(Mutex::new(WorkerStatus {
        phase: SyncPhase::Idle,
        progress: None,
        message: None,
        next_round: Some(Instant::now()),
        wiped: false,
    }));
    tauri::async_runtime::spawn(run(store, rx, Arc::clone(&status), config, on_revoked));
    SyncHandle { tx, status }
}

fn set(status: &Mutex<WorkerStatus>, f: impl FnOnce(&mut WorkerStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

async fn run(
    store: Arc<Mutex<DeviceStore>>,
    mut rx: mpsc::UnboundedReceiver<Command>,
    status: Arc<Mutex<WorkerStatus>>,
    config: WorkerConfig,
    on_revoked: OnRevoked,
) {
    let mut failures = 0u32;
    let mut sizer = BatchSizer::default();
    let mut next = Instant::now();
    let mut last_purge: Option<Instant> = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            command = rx.recv() => match command {
                Some(Command::SyncNow) => {}
                None => return,
            },
        }
        // drain nudges that piled up while waiting: one round serves them all
        while rx.try_recv().is_ok() {}
        let delay = match round(&store, &status, &mut sizer).await {
            Ok(Some(_)) => {
                failures = 0;
                // after a full round, what the server holds and is old leaves the phone
                if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
                    last_purge = Some(Instant::now());
                    purge_old(&store, config.retention_days).await;
                }
                config.interval
            }
            Ok(None) => {
                failures = 0;
                config.interval
            }
            Err(SyncError::Store(gocua_core::Error::Sandbox)) => {
                failures = 0;
                set(&status, |s| {
                    s.phase = SyncPhase::Sandbox;
                    s.message = Some(gocua_core::Error::Sandbox.to_string());
                });
                config.interval
            }
            Err(SyncError::Transport(e)) if e.is_revoked() => {
                // a lost or stolen phone: nothing of the village stays on it
                let wipe = Arc::clone(&on_revoked);
                let wiped = tauri::async_runtime::spawn_blocking(move || wipe()).await;
                failures = 0;
                set(&status, |s| match wiped {
                    Ok(Ok(())) => {
                        s.phase = SyncPhase::NotEnrolled;
                        s.message = Some(WIPED_MESSAGE.into());
                        s.wiped = true;
                    }
                    Ok(Err(e)) => {
                        s.phase = SyncPhase::Refused;
                        s.message = Some(format!("{WIPE_FAILED_MESSAGE}: {e}"));
                    }
                    Err(e) => {
                        s.phase = SyncPhase::Refused;
                        s.message = Some(format!("{WIPE_FAILED_MESSAGE}: {e}"));
                    }
                });
                config.interval
            }
            Err(SyncError::Transport(e)) if e.is_transient() => {
                failures += 1;
                let delay = config.backoff(failures);
                set(&status, |s| {
                    s.phase = SyncPhase::Offline;
                    s.message = Some(offline_message(&e));
                });
                delay
            }
            Err(e) => {
                failures += 1;
                set(&status, |s| {
                    s.phase = SyncPhase::Refused;
                    s.message = Some(e.to_string());
                });
                config.backoff(failures).max(config.interval)
            }
        };
        next = Instant::now() + delay;
        set(&status, |s| {
            s.progress = None;
            s.next_round = Some(next);
        });
    }
}

/// Folds acknowledged events older than `days` into the baseline, on a blocking thread. A
/// failure is reported and retried at the next purge time; it never stops syncing.
async fn purge_old(store: &Arc<Mutex<DeviceStore>>, days: u32) {
    let store = Arc::clone(store);
    let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
    let purged = tauri::async_runtime::spawn_blocking(move || {
        let mut guard = store.lock().map_err(|_| gocua_core::Error::invalid_input("store lock poisoned"))?;
        guard.purge_acknowledged(before)
    })
    .await;
    match purged {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => eprintln!("gocua-app: {n} old acknowledged records left the phone (retention {days} days)"),
        Ok(Err(e)) => eprintln!("gocua-app: retention purge failed: {e}"),
        Err(e) => eprintln!("gocua-app: retention purge failed: {e}"),
    }
}

fn offline_message(e: &TransportError) -> String {
    match e {
        TransportError::Offline(_) => "Không có kết nối tới máy chủ; dữ liệu vẫn an toàn trên máy và sẽ tự gửi lại / \
             No connection to the server; your data is safe on the phone and will be sent automatically"
            .into(),
        other => other.to_string(),
    }
}

/// One round against the enrolled server; `Ok(None)` when the device is not enrolled. `sizer`
/// carries the request sizes that suit the link from one round to the next.
pub async fn round(
    store: &Arc<Mutex<DeviceStore>>,
    status: &Arc<Mutex<WorkerStatus>>,
    sizer: &mut BatchSizer,
) -> Result<Option<SyncReport>, SyncError> {
    let enrollment = {
        let guard = store.lock().map_err(|_| gocua_core::Error::invalid_input("store lock poisoned"))?;
        // training mode: say so at once rather than flash "syncing" (the engine refuses too)
        guard.refuse_in_sandbox()?;
        guard.enrollment()?
    };
    let Some(enrollment) = enrollment else {
        set(status, |s| s.phase = SyncPhase::NotEnrolled);
        return Ok(None);
    };
    set(status, |s| {
        s.phase = SyncPhase::Syncing;
        s.progress = None;
    });
    let transport = HttpTransport::new(&enrollment.server_url)?.with_token(&enrollment.token);
    let status_for_progress = Arc::clone(status);
    let report =
        sync_once_with_progress(store, &transport, sizer, move |p| set(&status_for_progress, |s| s.progress = Some(p)))
            .await?;
    set(status, |s| {
        s.phase = SyncPhase::Idle;
        s.message = None;
    });
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let config = WorkerConfig {
            interval: Duration::from_secs(60),
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
            retention_days: 30,
        };
        let first = config.backoff(1);
        assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6), "{first:?}");
        let third = config.backoff(3);
        assert!(third >= Duration::from_secs(16) && third <= Duration::from_secs(24), "{third:?}");
        for failures in [10, 30, u32::MAX] {
            let d = config.backoff(failures);
            assert!(d <= Duration::from_secs(300) && d >= Duration::from_secs(240), "{failures}: {d:?}");
        }
    }
}
