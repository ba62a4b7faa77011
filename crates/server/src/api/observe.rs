//! What every request leaves behind: one `debug` log line with its method, matched route,
//! status and duration. Never the URI's query or the body (they carry places and personal
//! values); a path no route matched is logged as `-`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The middleware (`axum::middleware::from_fn`) over every route.
pub async fn observe(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        route = route.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}
