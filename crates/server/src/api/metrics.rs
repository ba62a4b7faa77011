//! Prometheus metrics: requests by route and status, their latency by route, pushed events by
//! outcome; served as OpenMetrics text at `GET /metrics` on a listener of its own.
//!
//! The listener is `serve --metrics-listen ADDR` and is off unless given. Not on the public
//! port: the sync API sits behind nginx on the Internet, and request rates, error rates and event
//! counts are the operator's business, not the world's; a separate address (loopback, or the
//! private network Prometheus scrapes from) keeps them off it without an nginx rule that could
//! be forgotten. Labels never carry a raw URI, a query, a device or anything personal: the
//! matched route template (`unmatched` when no route matched), the method and the status.

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use gocua_core::sync::protocol::{EventResult, EventStatus};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

/// The route label of a request no route matched (a scanner, a typo): never its path.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets in seconds: a push is one write transaction (milliseconds), a slow one waits
/// for the database or for a 2G upload (seconds); requests end at 120 s (`REQUEST_TIMEOUT`).
const LATENCY_BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Every metric the server keeps, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    events: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Metrics {
    /// Fresh metrics (all zero) in a registry of their own.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("gocua");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer a request, by method and route template (push: route=\"/api/v1/sync/push\", pull: \
             route=\"/api/v1/sync/pull\")",
            Unit::Seconds,
            latency.clone(),
        );
        let events = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "push_events",
            "Pushed events by outcome as answered: applied, flagged (applied and flagged for review), duplicate, \
             rejected (a replayed rejection counts again)",
            events.clone(),
        );
        Metrics { registry, requests, latency, events }
    }

    /// Counts one answered request. `route` is the matched template, or `None`.
    pub fn request(&self, method: &Method, route: Option<&str>, status: StatusCode, seconds: f64) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED).to_owned();
        self.latency.get_or_create(&RouteLabels { method, route: route.clone() }).observe(seconds);
        self.requests.get_or_create(&RequestLabels { method, route, status: status.as_u16() }).inc();
    }

    /// Counts the outcomes of one push's events.
    pub fn push_results(&self, results: &[EventResult]) {
        for status in [EventStatus::Applied, EventStatus::Flagged, EventStatus::Duplicate, EventStatus::Rejected] {
            let n = results.iter().filter(|r| r.status == status).count() as u64;
            if n > 0 {
                self.events.get_or_create(&OutcomeLabels { outcome: outcome_label(status) }).inc_by(n);
            }
        }
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // writing into a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn outcome_label(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Applied => "applied",
        EventStatus::Flagged => "flagged",
        EventStatus::Duplicate => "duplicate",
        EventStatus::Rejected => "rejected",
    }
}

/// The standard methods by name, anything else as `other` (a client cannot grow the label set).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`.
async fn metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], metrics.encode())
}

/// The metrics listener's routes: `/metrics` and nothing else.
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new().route("/metrics", get(self::metrics)).with_state(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_templates_and_outcomes_are_counted() {
        let m = Metrics::new();
        m.request(&Method::POST, Some("/api/v1/sync/push"), StatusCode::OK, 0.02);
        m.request(&Method::from_bytes(b"BREW").unwrap(), None, StatusCode::NOT_FOUND, 0.001);
        let result =
            |status| EventResult { seq: 1, event_id: None, status, errors: vec![], flags: vec![], server_seq: None };
        m.push_results(&[result(EventStatus::Applied), result(EventStatus::Applied), result(EventStatus::Rejected)]);
        let text = m.encode();
        assert!(
            text.contains(r#"gocua_http_requests_total{method="POST",route="/api/v1/sync/push",status="200"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"gocua_http_requests_total{method="other",route="unmatched",status="404"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"gocua_http_request_duration_seconds_bucket{le="0.025",method="POST",route="/api/v1/sync/push"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"gocua_push_events_total{outcome="applied"} 2"#), "{text}");
        assert!(text.contains(r#"gocua_push_events_total{outcome="rejected"} 1"#), "{text}");
        assert!(!text.contains(r#"outcome="duplicate""#), "no duplicate was counted: {text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
