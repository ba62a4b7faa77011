//! Gõ Cửa aggregation server: `router(state)` for tests, `serve(listener, state, shutdown)` for
//! the binary. Handlers are thin shells over the backend-neutral rules (`sync`, `admin`,
//! `bundle`, `resident_rights`), which reach the database only through the storage seam
//! (`gocua_server_store`; ARCHITECTURE.md).

pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod bundle;
pub mod dashboard;
pub mod db;
pub mod district;
pub mod domain;
pub mod error;
pub mod office;
pub mod policy;
pub mod ratelimit;
pub mod reports;
pub mod resident_rights;
pub mod sync;
#[cfg(test)]
mod test_store;

use std::future::{Future, IntoFuture};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::decompression::RequestDecompressionLayer;

use std::sync::Arc;

use gocua_server_store::Store;

use crate::error::ApiError;

/// The largest request body accepted, measured after zstd decompression.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Answers smaller than this go uncompressed: `content-encoding`, `vary` and chunked framing
/// would cost more on a 2G link than zstd saves on a compact push answer.
pub const MIN_COMPRESSED_ANSWER_BYTES: u16 = 512;

/// A request that takes longer than this (a stalled upload, a slow client) is answered 408.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// After the shutdown signal, how long requests in flight get to finish before the server stops
/// anyway (under the 30 s an orchestrator waits before it kills). A push cut off commits nothing
/// or all of its one transaction, and the phone sends it again: it is answered from what was
/// stored.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(25);

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database, behind the storage seam.
    pub store: Arc<dyn Store>,
    /// Request budgets per device and for enrollment.
    pub limits: Arc<ratelimit::RateLimits>,
    /// What `/metrics` shows (`api::metrics`).
    pub metrics: Arc<api::metrics::Metrics>,
    /// A read replica lagging more than this is reported by `/api/v1/ready` (still ready).
    pub max_replica_lag: std::time::Duration,
    /// How the district dashboard is served.
    pub dashboard: Arc<dashboard::DashboardConfig>,
}

impl AppState {
    /// State over `store` with the standard request budgets and fresh metrics.
    pub fn new(store: Arc<dyn Store>) -> Self {
        AppState {
            store,
            limits: Arc::new(ratelimit::RateLimits::default()),
            metrics: Arc::new(api::metrics::Metrics::new()),
            max_replica_lag: api::ready::DEFAULT_MAX_REPLICA_LAG,
            dashboard: Arc::new(dashboard::DashboardConfig::default()),
        }
    }

    /// Runs a rule on a blocking thread (the store's drivers block), keeping the runtime's
    /// threads free for other requests.
    pub async fn blocking<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<R, domain::Error> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&*store)).await.map_err(ApiError::internal)?.map_err(ApiError::from)
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("Không có đường dẫn này / no such endpoint")
}

/// All routes (`api::routes`), with body limits and zstd request decompression, each request
/// observed (`api::observe`).
pub fn router(state: AppState) -> Router {
    let metrics = Arc::clone(&state.metrics);
    api::routes::all()
        .into_iter()
        .fold(Router::new(), |router, route| router.route(route.path, route.handler))
        .merge(dashboard::router(&state.dashboard))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // zstd is unpacked here; `dcz` (dictionary zstd) and unknown codings reach the handlers,
        // which unpack the first and refuse the rest (`api::json_body`)
        .layer(RequestDecompressionLayer::new().no_gzip().no_deflate().no_br().pass_through_unaccepted(true))
        // answers are zstd-compressed for clients that accept it (the app does), unless they are
        // so small that the headers compression adds cost more than it saves
        .layer(
            CompressionLayer::new()
                .no_gzip()
                .no_deflate()
                .no_br()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED_ANSWER_BYTES))),
        )
        // outermost, so it sees every answer (408s and 413s too); a router's layers wrap each
        // route, so the matched route is known here
        .layer(axum::middleware::from_fn_with_state(metrics, api::observe::observe))
        .with_state(state)
}

/// Serves HTTPS (rustls) with the PEM certificate chain and key until `shutdown` completes, then
/// gives in-flight requests [`SHUTDOWN_GRACE`] to finish.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    state: AppState,
    cert: &std::path::Path,
    key: &std::path::Path,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // one process-wide crypto provider: ring, as reqwest's rustls uses
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    listener.set_nonblocking(true)?;
    axum_server::from_tcp_rustls(listener, config)?.handle(handle).serve(router(state).into_make_service()).await
}

/// Serves until `shutdown` completes, then stops accepting connections and lets the requests in
/// flight finish (at most [`SHUTDOWN_GRACE`]); idle keep-alive connections are closed.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}

/// Serves the metrics listener (`serve --metrics-listen`, `api::metrics`) until `shutdown`.
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<api::metrics::Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, api::metrics::router(metrics), shutdown).await
}

async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = Arc::new(tokio::sync::Notify::new());
    let stopped = Arc::clone(&stopping);
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown.await;
        stopped.notify_one();
    });
    let grace = async {
        stopping.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = server.into_future() => served,
        () = grace => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "stopping with requests still in flight");
            Ok(())
        }
    }
}
