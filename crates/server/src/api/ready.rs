//! `GET /api/v1/ready`: whether this server can serve now (a load balancer's or an
//! orchestrator's readiness probe). 200 when the database answers within [`READY_TIMEOUT`] and
//! its migrations are the ones this build knows; 503 otherwise, with the same JSON fields and a
//! message, Vietnamese first.
//!
//! A read replica (`--read-database`) that lags or cannot be reached never makes the server
//! unready: pulls stay correct on a lagging replica (it shows a prefix of the primary's order,
//! and a cursor past it is asked of the primary), an unreachable one is bypassed, and pushes
//! never go there. Taking every server off the balancer because their shared replica is slow
//! would turn a slow replica into an outage. So the answer stays 200 and says so: the lag,
//! whether it is over `--max-replica-lag`, and a message for whoever reads it.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gocua_core::sync::protocol::APP_VERSION;
use gocua_server_store::{Readiness, StoreError};
use serde::Serialize;

use crate::AppState;

/// How long the probe waits for the database before it answers 503 (a pool waiting for a
/// connection to a stopped PostgreSQL would hold it for its whole checkout timeout).
pub const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// The default of `--max-replica-lag`.
pub const DEFAULT_MAX_REPLICA_LAG: Duration = Duration::from_secs(30);

/// What `GET /api/v1/ready` answers, ready or not (the same fields either way).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// `ready` (200) or `not_ready` (503).
    pub status: &'static str,
    /// What is wrong or worth knowing, Vietnamese first then English; null when all is well.
    pub message: Option<String>,
    /// The server's version.
    pub version: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `ok`, `unavailable` (cannot be reached, or no answer in time) or `error`.
    pub database: &'static str,
    /// The migrations this build knows (null when the database did not answer).
    pub migrations_expected: Option<u32>,
    /// The migrations the database has (null when it did not answer).
    pub migrations_applied: Option<u32>,
    /// Whether a read replica is configured (`--read-database`).
    pub replica: bool,
    /// How far the replica's replay lags, in seconds (null: no replica, or it did not answer).
    pub replica_lag_seconds: Option<f64>,
    /// The replica lags more than `max_replica_lag_seconds` (the server is still ready).
    pub replica_lagging: bool,
    /// The replica could not be asked (pulls go to the primary meanwhile).
    pub replica_unreachable: bool,
    /// `--max-replica-lag`, in seconds.
    pub max_replica_lag_seconds: f64,
}

/// Why the database gave no readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Unreachable, or no answer within [`READY_TIMEOUT`].
    Unavailable,
    /// It answered with an error (logged, not shown).
    Error,
}

/// The answer for what the store said; pure, so every case is tested without a database.
pub fn assess(
    backend: &'static str,
    replica: bool,
    max_lag: Duration,
    outcome: Result<&Readiness, Failure>,
) -> (StatusCode, Ready) {
    let mut ready = Ready {
        status: "ready",
        message: None,
        version: APP_VERSION,
        backend,
        database: "ok",
        migrations_expected: None,
        migrations_applied: None,
        replica,
        replica_lag_seconds: None,
        replica_lagging: false,
        replica_unreachable: false,
        max_replica_lag_seconds: max_lag.as_secs_f64(),
    };
    let not_ready = |mut ready: Ready, message: String| {
        ready.status = "not_ready";
        ready.message = Some(message);
        (StatusCode::SERVICE_UNAVAILABLE, ready)
    };
    let r = match outcome {
        Ok(r) => r,
        Err(Failure::Unavailable) => {
            ready.database = "unavailable";
            return not_ready(
                ready,
                format!(
                    "Không kết nối được cơ sở dữ liệu (hoặc không trả lời trong {} giây) / the database cannot \
                     be reached (or did not answer within {} s)",
                    READY_TIMEOUT.as_secs(),
                    READY_TIMEOUT.as_secs()
                ),
            );
        }
        Err(Failure::Error) => {
            ready.database = "error";
            return not_ready(
                ready,
                "Lỗi cơ sở dữ liệu (xem nhật ký máy chủ) / database error (see the server log)".into(),
            );
        }
    };
    ready.migrations_expected = Some(r.migrations_expected);
    ready.migrations_applied = Some(r.migrations_applied);
    ready.replica_lag_seconds = r.replica_lag.map(|lag| lag.as_secs_f64());
    ready.replica_lagging = r.replica_lag.is_some_and(|lag| lag > max_lag);
    ready.replica_unreachable = replica && r.replica_error.is_some();
    let (applied, expected) = (r.migrations_applied, r.migrations_expected);
    if applied < expected {
        return not_ready(
            ready,
            format!(
                "Cơ sở dữ liệu chưa được nâng cấp: có {applied}/{expected} bản nâng cấp (khởi động lại máy chủ để \
                 nâng cấp) / database migrations are behind: {applied} of {expected} applied (restart the server \
                 to migrate)"
            ),
        );
    }
    if applied > expected {
        return not_ready(
            ready,
            format!(
                "Cơ sở dữ liệu mới hơn máy chủ này: có {applied} bản nâng cấp, máy chủ biết {expected} (hãy cập \
                 nhật máy chủ) / the database is newer than this server: {applied} migrations applied, {expected} \
                 known (upgrade this server)"
            ),
        );
    }
    if ready.replica_unreachable {
        ready.message = Some(
            "Không kết nối được bản sao đọc; việc tải về dùng cơ sở dữ liệu chính / the read replica cannot be \
             reached; pulls are served by the primary"
                .into(),
        );
    } else if let Some(lag) = r.replica_lag.filter(|_| ready.replica_lagging) {
        let (lag, max) = (lag.as_secs_f64(), max_lag.as_secs_f64());
        ready.message = Some(format!(
            "Bản sao đọc chậm {lag:.1} giây (quá {max} giây): việc tải về vẫn đúng nhưng có thể thiếu dữ liệu mới \
             nhất / the read replica lags {lag:.1} s (over {max} s): pulls stay correct but may miss the newest \
             events"
        ));
    }
    (StatusCode::OK, ready)
}

/// Asks the store (on a blocking thread, at most [`READY_TIMEOUT`]) and answers.
#[utoipa::path(
    get,
    path = "/api/v1/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Sẵn sàng phục vụ / ready to serve (the body may still report a lagging \
                                      or unreachable read replica)", body = Ready),
        (status = 503, description = "Chưa sẵn sàng / not ready: the database cannot be reached or its \
                                      migrations are not this build's (`Retry-After` says when to ask again)",
         body = Ready),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let info = state.store.describe();
    let store = std::sync::Arc::clone(&state.store);
    let asked = tokio::time::timeout(READY_TIMEOUT, tokio::task::spawn_blocking(move || store.readiness())).await;
    let outcome = match asked {
        Ok(Ok(Ok(readiness))) => Ok(readiness),
        Ok(Ok(Err(StoreError::Unavailable(detail)))) => {
            tracing::warn!(%detail, "not ready: the database is unavailable");
            Err(Failure::Unavailable)
        }
        Ok(Ok(Err(other))) => {
            tracing::warn!(detail = %other, "not ready: database error");
            Err(Failure::Error)
        }
        Ok(Err(panicked)) => {
            tracing::error!(detail = %panicked, "not ready: the readiness check failed");
            Err(Failure::Error)
        }
        Err(_) => {
            tracing::warn!(timeout = ?READY_TIMEOUT, "not ready: the database did not answer in time");
            Err(Failure::Unavailable)
        }
    };
    if let Ok(Readiness { replica_error: Some(detail), .. }) = &outcome {
        tracing::warn!(%detail, "the read replica cannot be reached");
    }
    let kind = info.kind;
    let (status, body) = assess(kind, info.replica, state.max_replica_lag, outcome.as_ref().map_err(Clone::clone));
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(5u32));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readiness(applied: u32, lag: Option<f64>, replica_error: bool) -> Readiness {
        Readiness {
            migrations_expected: 7,
            migrations_applied: applied,
            replica_lag: lag.map(Duration::from_secs_f64),
            replica_error: replica_error.then(|| "connection refused".to_owned()),
        }
    }

    const MAX: Duration = Duration::from_secs(30);

    #[test]
    fn current_migrations_are_ready() {
        let (status, body) = assess("sqlite", false, MAX, Ok(&readiness(7, None, false)));
        assert_eq!((status, body.status, body.message), (StatusCode::OK, "ready", None));
        assert_eq!((body.migrations_applied, body.migrations_expected), (Some(7), Some(7)));
    }

    #[test]
    fn migrations_behind_or_ahead_are_not_ready() {
        let (status, body) = assess("postgres", false, MAX, Ok(&readiness(6, None, false)));
        assert_eq!((status, body.status), (StatusCode::SERVICE_UNAVAILABLE, "not_ready"));
        let message = body.message.unwrap();
        assert!(
            message.starts_with("Cơ sở dữ liệu chưa được nâng cấp")
                && message.contains(" / database migrations are behind: 6 of 7"),
            "{message}"
        );
        let (status, body) = assess("postgres", false, MAX, Ok(&readiness(8, None, false)));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.message.unwrap().contains("newer than this server"));
    }

    #[test]
    fn an_unreachable_database_is_not_ready_and_keeps_every_field() {
        let (status, body) = assess("postgres", true, MAX, Err(Failure::Unavailable));
        assert_eq!((status, body.database), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
        assert_eq!((body.migrations_applied, body.replica_lag_seconds), (None, None));
        let (ok, _) = assess("postgres", true, MAX, Ok(&readiness(7, Some(0.0), false)));
        let keys = |v: serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let ready = serde_json::to_value(assess("postgres", true, MAX, Ok(&readiness(7, Some(0.0), false))).1).unwrap();
        assert_eq!(ok, StatusCode::OK);
        assert_eq!(keys(serde_json::to_value(body).unwrap()), keys(ready), "the same fields either way");
    }

    #[test]
    fn a_lagging_or_unreachable_replica_is_reported_but_still_ready() {
        let (status, body) = assess("postgres", true, MAX, Ok(&readiness(7, Some(42.5), false)));
        assert_eq!((status, body.replica_lagging, body.replica_lag_seconds), (StatusCode::OK, true, Some(42.5)));
        assert!(body.message.unwrap().contains("lags 42.5 s (over 30 s)"));
        let (status, body) = assess("postgres", true, MAX, Ok(&readiness(7, Some(2.0), false)));
        assert_eq!((status, body.replica_lagging, body.message), (StatusCode::OK, false, None));
        let (status, body) = assess("postgres", true, MAX, Ok(&readiness(7, None, true)));
        assert_eq!((status, body.replica_unreachable), (StatusCode::OK, true));
        assert!(body.message.unwrap().contains("pulls are served by the primary"));
    }
}
