//! What every request leaves behind: one `debug` log line with its method, matched route,
//! status and duration, and the same counted in the metrics (`api::metrics`). Never the URI's
//! path or query or the body (they carry places and personal values): a path no route matched
//! is `unmatched`.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::metrics::{Metrics, UNMATCHED};

/// The middleware (`axum::middleware::from_fn_with_state`) over every route and the fallback.
pub async fn observe(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    metrics.request(&method, route.as_deref(), response.status(), seconds);
    tracing::debug!(
        %method,
        route = route.as_deref().unwrap_or(UNMATCHED),
        status = response.status().as_u16(),
        ms = seconds * 1000.0,
        "request"
    );
    response
}
