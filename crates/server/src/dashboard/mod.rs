//! The district dashboard: a small web front end (`web/`, built into `web/dist`) that the
//! server serves at `/dashboard/` for district and province police, and its API at
//! `/dashboard/api/…` (`api`), over accounts and sessions (`account`). Same origin as the API;
//! every answer carries a Content-Security-Policy that allows the page's own files only.

pub mod account;
pub mod api;

use std::path::PathBuf;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::{get, post};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;

/// How the dashboard is served.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    /// The built front end (`web/dist`); `None`: only the API is served.
    pub assets: Option<PathBuf>,
    /// Mark the session cookie `Secure` (the server is reached over HTTPS).
    pub secure_cookie: bool,
    /// Where a list's XLSX sheets wait before they are zipped (a disk folder).
    pub tempdir: PathBuf,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig { assets: None, secure_cookie: false, tempdir: std::env::temp_dir() }
    }
}

/// The dashboard's routes: the API, and the front end's files when they are there.
pub fn router(config: &DashboardConfig) -> Router<AppState> {
    let api = Router::new()
        .route("/dashboard/api/login", post(api::login))
        .route("/dashboard/api/logout", post(api::logout))
        .route("/dashboard/api/session", get(api::session))
        .route("/dashboard/api/report", get(api::report))
        .route("/dashboard/api/appendix.xlsx", get(api::appendix))
        .route("/dashboard/api/lists/{file}", get(api::list));
    let pages = match &config.assets {
        Some(dir) => Router::new()
            .route("/dashboard", get(|| async { Redirect::permanent("/dashboard/") }))
            .nest_service("/dashboard/", ServeDir::new(dir).append_index_html_on_directories(true)),
        None => Router::new(),
    };
    api.merge(pages)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
}
