//! The one list of the public API's routes: `router` mounts these and, beside them, only the
//! district dashboard's own router (`crate::dashboard`, a web page's API, not a client's); the
//! OpenAPI document (`api::openapi`) must describe exactly these (tests hold the two together).
//! A new endpoint is added here, and documented with `#[utoipa::path]` in `api::openapi`.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::AppState;

/// One route: a method on a path, and its handler.
#[derive(Debug)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path template.
    pub path: &'static str,
    /// The handler, for that method only.
    pub handler: MethodRouter<AppState>,
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
    Route { method, path, handler: on(filter, handler) }
}

/// Every route of the public API.
pub fn all() -> Vec<Route> {
    use super::{device, enroll, health, office, openapi, ready, sync};
    vec![
        route(Method::GET, "/api/v1/health", health::health),
        route(Method::GET, "/api/v1/ready", ready::ready),
        route(Method::GET, "/api/v1/openapi.json", openapi::openapi_json),
        route(Method::POST, "/api/v1/enroll", enroll::enroll),
        route(Method::POST, "/api/v1/device/status", device::status),
        route(Method::POST, "/api/v1/sync/push", sync::push),
        route(Method::GET, "/api/v1/sync/pull", sync::pull),
        route(Method::GET, "/api/v1/office/people", office::people),
        route(Method::POST, "/api/v1/office/people", office::add_person),
        route(Method::POST, "/api/v1/office/people/{id}/code", office::new_code),
        route(Method::POST, "/api/v1/office/people/{id}/role", office::set_role),
        route(Method::POST, "/api/v1/office/devices/{id}/revoke", office::revoke),
    ]
}

/// `(method, path)` of every route, e.g. `("GET", "/api/v1/health")`.
pub fn list() -> Vec<(String, &'static str)> {
    all().into_iter().map(|r| (r.method.as_str().to_owned(), r.path)).collect()
}
