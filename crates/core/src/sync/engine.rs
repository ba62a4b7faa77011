//! The device's sync engine: pushes the outbox in batches, then pulls pages, over any transport.
//!
//! The planner (which batch, what an answer means) lives in the store; this module only drives
//! it. Store locks are never held across an `.await`.

use std::future::Future;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::protocol::{
    APP_VERSION, MAX_PULL_LIMIT, MAX_PUSH_BYTES, MAX_PUSH_EVENTS, PullRequest, PullResponse, PushRequest, PushResponse,
    SCHEMA_VERSION,
};
use crate::error::Error;
use crate::store::DeviceStore;

/// How a device talks to the server. The HTTP one lives in `gocua-http-client`; tests may use
/// others (an in-process server, a lossy link).
pub trait Transport {
    /// Sends one push batch.
    fn push(&self, request: &PushRequest) -> impl Future<Output = Result<PushResponse, TransportError>> + Send;
    /// Asks for one pull page.
    fn pull(&self, request: &PullRequest) -> impl Future<Output = Result<PullResponse, TransportError>> + Send;
}

/// Why a request did not get an answer the engine can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection, a timeout, or a cut link: try again later.
    #[error("không kết nối được máy chủ / cannot reach the server: {0}")]
    Offline(String),
    /// The server answered with an error.
    #[error("máy chủ từ chối ({status}) / the server refused: {kind}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The error kind from the body.
        kind: String,
        /// The message from the body.
        message: String,
    },
    /// The answer could not be understood.
    #[error("câu trả lời không đọc được / unreadable answer: {0}")]
    Protocol(String),
}

impl TransportError {
    /// The server asked for fewer requests (429): wait, but do not shrink the batches, which
    /// would only take more requests.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, TransportError::Refused { status: 429, .. })
    }

    /// The server revoked this device (a lost or stolen phone): it must wipe its data.
    pub fn is_revoked(&self) -> bool {
        matches!(self, TransportError::Refused { status: 401, kind, .. } if kind == "revoked")
    }

    /// Worth retrying later without a person doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            TransportError::Offline(_) => true,
            TransportError::Refused { status, .. } => *status >= 500 || *status == 429,
            TransportError::Protocol(_) => false,
        }
    }
}

/// Why a sync round stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The link or the server.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The device store.
    #[error(transparent)]
    Store(#[from] Error),
}

/// What one sync round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Push requests sent.
    pub push_requests: u64,
    /// Events newly applied by the server.
    pub applied: u64,
    /// Events the server already had.
    pub duplicates: u64,
    /// Events the server rejected.
    pub rejected: u64,
    /// Pull pages received.
    pub pull_pages: u64,
    /// Pulled events newly applied here.
    pub pulled: u64,
    /// Times the server asked this device to download its scope again.
    pub resets: u64,
}

fn locked<R>(store: &Mutex<DeviceStore>, f: impl FnOnce(&mut DeviceStore) -> Result<R, Error>) -> Result<R, Error> {
    let mut guard = store.lock().map_err(|_| Error::invalid_input("device store lock poisoned"))?;
    f(&mut guard)
}

/// [`locked`], only while the store is still the one the round began on: the app may swap it
/// between two requests (locked behind its PIN, a wipe, training mode), and a page meant for
/// one database must never land in another.
fn locked_on<R>(
    store: &Mutex<DeviceStore>,
    device: Option<uuid::Uuid>,
    f: impl FnOnce(&mut DeviceStore) -> Result<R, Error>,
) -> Result<R, Error> {
    locked(store, |s| {
        if s.enrollment()?.map(|e| e.device_id) != device {
            return Err(Error::invalid_input(
                "Dữ liệu trên máy đã đổi giữa lần đồng bộ (máy khoá hoặc chuyển dữ liệu); lần sau sẽ tiếp tục / \
                 The device's data changed during the sync (locked or switched); the next round goes on",
            ));
        }
        f(s)
    })
}

/// Where a running sync round is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SyncProgress {
    /// Events acknowledged so far in this round.
    pub sent: u64,
    /// Events that were waiting when the round started.
    pub to_send: u64,
    /// Pull pages received so far.
    pub pages: u64,
}

/// Request sizes that adapt to the link: halved after a failed request, doubled after a
/// successful one, between 1 and the protocol's maximum. On a link that drops every connection
/// after a few kilobytes, fixed 100-event batches would never get through; small ones do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSizer {
    /// Events in the next push.
    pub push_events: usize,
    /// Events asked for in the next pull page.
    pub pull_limit: u32,
}

impl Default for BatchSizer {
    fn default() -> Self {
        BatchSizer { push_events: MAX_PUSH_EVENTS, pull_limit: MAX_PULL_LIMIT }
    }
}

impl BatchSizer {
    fn push_failed(&mut self) {
        self.push_events = (self.push_events / 2).max(1);
    }
    fn push_succeeded(&mut self) {
        self.push_events = (self.push_events * 2).min(MAX_PUSH_EVENTS);
    }
    fn pull_failed(&mut self) {
        self.pull_limit = (self.pull_limit / 2).max(1);
    }
    fn pull_succeeded(&mut self) {
        self.pull_limit = (self.pull_limit * 2).min(MAX_PULL_LIMIT);
    }
}

/// One full round: push until the outbox is empty, then pull until no page is left.
pub async fn sync_once<T: Transport>(store: &Mutex<DeviceStore>, transport: &T) -> Result<SyncReport, SyncError> {
    sync_once_with_progress(store, transport, &mut BatchSizer::default(), |_| {}).await
}

/// [`sync_once`] with request sizes kept across rounds in `sizer`, reporting progress after
/// every request.
pub async fn sync_once_with_progress<T: Transport>(
    store: &Mutex<DeviceStore>,
    transport: &T,
    sizer: &mut BatchSizer,
    progress: impl Fn(SyncProgress) + Send,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    // a trainer's sandbox never talks to a server: refused before any request is made
    locked(store, |s| s.refuse_in_sandbox())?;
    let device = locked(store, |s| Ok(s.enrollment()?.map(|e| e.device_id)))?;
    let to_send = locked_on(store, device, |s| s.unsent_count())?;
    progress(SyncProgress { sent: 0, to_send, pages: 0 });
    let mut stalled = 0;
    loop {
        let batch = locked_on(store, device, |s| s.outbox_batch(sizer.push_events, MAX_PUSH_BYTES))?;
        if batch.is_empty() {
            break;
        }
        let queued = locked_on(store, device, |s| s.unsent_count())?;
        let request = PushRequest {
            schema_version: SCHEMA_VERSION,
            app_version: APP_VERSION.to_owned(),
            events: batch,
            queued: Some(queued),
        };
        let response = match transport.push(&request).await {
            Ok(response) => response,
            Err(e) => {
                // a smaller batch helps a failing link, not a server asking us to slow down
                if !e.is_rate_limited() {
                    sizer.push_failed();
                }
                return Err(e.into());
            }
        };
        sizer.push_succeeded();
        report.push_requests += 1;
        let ack = locked_on(store, device, |s| s.apply_push_response(&response))?;
        report.applied += ack.applied;
        report.duplicates += ack.duplicates;
        report.rejected += ack.rejected;
        progress(SyncProgress { sent: report.applied + report.duplicates + report.rejected, to_send, pages: 0 });
        if ack.applied + ack.duplicates + ack.rejected == 0 {
            stalled += 1;
            if stalled >= 3 {
                return Err(TransportError::Protocol(format!(
                    "the server acknowledged nothing three times (expects sequence {:?})",
                    response.expected_seq
                ))
                .into());
            }
        } else {
            stalled = 0;
        }
    }
    loop {
        let request = locked_on(store, device, |s| {
            let enrollment = s.enrollment()?;
            Ok(PullRequest {
                epoch: s.server_epoch()?,
                cursor: s.pull_cursor()?,
                limit: sizer.pull_limit,
                scope: enrollment.as_ref().map(|e| e.scope.key()).unwrap_or_default(),
                own: s.pulls_own_events()?,
                role: enrollment.map(|e| e.role),
                reasons: Some(s.reasons_digest()?),
            })
        })?;
        let cursor = request.cursor;
        let page = match transport.pull(&request).await {
            Ok(page) => page,
            Err(e) => {
                if !e.is_rate_limited() {
                    sizer.pull_failed();
                }
                return Err(e.into());
            }
        };
        sizer.pull_succeeded();
        report.pull_pages += 1;
        if let Some(reason) = page.reset {
            report.resets += 1;
            if report.resets > 3 {
                return Err(
                    TransportError::Protocol(format!("the server keeps asking for a reset ({reason:?})")).into()
                );
            }
            locked_on(store, device, |s| {
                if let Some(role) = page.role {
                    s.change_role(role)?;
                }
                if let Some(scope) = page.new_scope() {
                    s.change_scope(&scope, &page.places)?;
                }
                s.begin_reset(&page.epoch)
            })?;
            continue;
        }
        if !page.reasons.is_empty() {
            locked_on(store, device, |s| s.update_reasons(&page.reasons))?;
        }
        if let Some(role) = page.role {
            // a role with the same view of the data (a volunteer made team leader): taken on
            // without downloading anything again
            locked_on(store, device, |s| s.change_role(role))?;
        }
        let more = page.has_more && page.cursor > cursor;
        report.pulled += locked_on(store, device, |s| s.apply_pull_page(&page))? as u64;
        progress(SyncProgress {
            sent: report.applied + report.duplicates + report.rejected,
            to_send,
            pages: report.pull_pages,
        });
        if !more {
            break;
        }
    }
    locked_on(store, device, |s| s.mark_sync_success())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_sizes_halve_on_failure_and_recover_on_success_within_bounds() {
        let mut sizer = BatchSizer::default();
        for _ in 0..20 {
            sizer.push_failed();
            sizer.pull_failed();
        }
        assert_eq!((sizer.push_events, sizer.pull_limit), (1, 1));
        sizer.push_succeeded();
        sizer.pull_succeeded();
        assert_eq!((sizer.push_events, sizer.pull_limit), (2, 2));
        for _ in 0..20 {
            sizer.push_succeeded();
            sizer.pull_succeeded();
        }
        assert_eq!(sizer, BatchSizer::default());
    }

    /// A server that answers every request with `status`.
    struct Answers(u16);

    impl Transport for Answers {
        fn push(&self, _: &PushRequest) -> impl Future<Output = Result<PushResponse, TransportError>> + Send {
            let status = self.0;
            async move { Err(TransportError::Refused { status, kind: "k".into(), message: String::new() }) }
        }
        fn pull(&self, _: &PullRequest) -> impl Future<Output = Result<PullResponse, TransportError>> + Send {
            let status = self.0;
            async move { Err(TransportError::Refused { status, kind: "k".into(), message: String::new() }) }
        }
    }

    #[tokio::test]
    async fn a_server_asking_to_slow_down_does_not_shrink_the_batches_but_a_failure_does() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let response = crate::fixtures::enroll_response(&store);
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        store
            .record(crate::event::Payload::HouseholdCreated(crate::event::HouseholdCreated {
                household_id: uuid::Uuid::now_v7(),
                hamlet_code: "03445-01".into(),
                address: "Bản Nậm Củm".into(),
                head_name: "Hộ thử".into(),
            }))
            .unwrap();
        let store = Mutex::new(store);
        let mut sizer = BatchSizer::default();
        let err = sync_once_with_progress(&store, &Answers(429), &mut sizer, |_| {}).await.unwrap_err();
        assert!(matches!(&err, SyncError::Transport(e) if e.is_rate_limited() && e.is_transient()), "{err}");
        assert_eq!(sizer, BatchSizer::default(), "429: same batch sizes");
        let _ = sync_once_with_progress(&store, &Answers(503), &mut sizer, |_| {}).await.unwrap_err();
        assert_eq!(sizer.push_events, MAX_PUSH_EVENTS / 2, "a failing server: smaller batches");
    }

    /// A server whose first pull page arrives after the app swapped its store (locked behind
    /// the PIN): the page must land nowhere.
    struct SwapsTheStore<'a>(&'a Mutex<DeviceStore>);

    impl Transport for SwapsTheStore<'_> {
        async fn push(&self, _: &PushRequest) -> Result<PushResponse, TransportError> {
            Err(TransportError::Offline("no push here".into()))
        }
        fn pull(&self, _: &PullRequest) -> impl Future<Output = Result<PullResponse, TransportError>> + Send {
            *self.0.lock().unwrap() = DeviceStore::open_in_memory().unwrap();
            let mut rng = crate::fixtures::Rng::new(4);
            let (_, _, payloads) = crate::fixtures::household_payloads(&mut rng, "03445-01", 1);
            let other = uuid::Uuid::now_v7();
            let events = payloads
                .into_iter()
                .enumerate()
                .map(|(i, p)| crate::sync::protocol::PulledEvent {
                    server_seq: i as u64 + 1,
                    event: crate::fixtures::event(other, other, i as u64 + 1, p),
                })
                .collect();
            async move { Ok(PullResponse { events, cursor: 2, epoch: "e".into(), ..Default::default() }) }
        }
    }

    #[tokio::test]
    async fn a_page_that_arrives_after_the_store_was_swapped_is_dropped() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let response = crate::fixtures::enroll_response(&store);
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let store = Mutex::new(store);
        let err = sync_once(&store, &SwapsTheStore(&store)).await.unwrap_err();
        assert!(err.to_string().contains("changed during the sync"), "{err}");
        let now = store.lock().unwrap();
        assert_eq!((now.event_count().unwrap(), now.pull_cursor().unwrap()), (0, 0), "nothing landed");
    }
}
