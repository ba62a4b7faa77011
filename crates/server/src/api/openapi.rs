//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the public API, built from the
//! handlers' `#[utoipa::path]` attributes and the wire types' schemas (gocua-core's `openapi`
//! feature). It must list exactly the routes of `api::routes` (tested here and end to end).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's source.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Gõ Cửa",
        description = "Máy chủ tổng hợp của Gõ Cửa: đăng ký thiết bị, gửi và tải dữ liệu, kiểm tra thu hồi / \
                       the Gõ Cửa aggregation server: device enrollment, sync push and pull, the \
                       revocation check of a locked app, and the police office's people and devices. Bodies may be sent zstd- or dcz-compressed \
                       (`Content-Encoding`); answers are zstd-compressed for clients that accept it. \
                       Every error answers `ErrorBody`.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        super::health::health,
        super::ready::ready,
        openapi_json,
        super::enroll::enroll,
        super::device::status,
        super::sync::push,
        super::sync::pull,
        super::office::people,
        super::office::add_person,
        super::office::new_code,
        super::office::set_role,
        super::office::revoke,
    ),
    modifiers(&DeviceToken),
    tags(
        (name = "operations", description = "Trạng thái máy chủ / server state, for probes and operators"),
        (name = "sync", description = "Đăng ký và đồng bộ / enrollment and sync, for the app"),
        (name = "office", description = "Văn phòng công an / the police office: people, codes, devices"),
    )
)]
pub struct ApiDoc;

/// The bearer token a device gets at enrollment.
#[derive(Debug)]
struct DeviceToken;

impl Modify for DeviceToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token `POST /api/v1/enroll` answered (shown once)"))
                    .build(),
            ),
        );
    }
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes"));

/// Answers the document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "Mô tả OpenAPI này / this OpenAPI description", content_type = "application/json")
    )
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

/// `(method, path)` of every operation the document describes, methods upper-case.
pub fn documented() -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).expect("the document is JSON");
    operations(&doc)
}

/// `(METHOD, path)` of every operation in an OpenAPI document given as JSON.
pub fn operations(doc: &serde_json::Value) -> Vec<(String, String)> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS.into_iter().filter(|m| item.get(*m).is_some()) {
            found.push((method.to_uppercase(), path.clone()));
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_exactly_the_routes_served() {
        let mut served: Vec<(String, String)> =
            super::super::routes::list().into_iter().map(|(m, p)| (m, p.to_owned())).collect();
        served.sort();
        assert_eq!(documented(), served);
    }

    #[test]
    fn the_wire_types_are_described() {
        let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "PushBody",
            "PushResponse",
            "PullResponse",
            "EnrollRequest",
            "EnrollResponse",
            "DeviceStatusRequest",
            "DeviceStatusResponse",
            "ErrorBody",
            "Ready",
        ] {
            assert!(schemas.contains_key(name), "{name} missing: {:?}", schemas.keys().collect::<Vec<_>>());
        }
        assert_eq!(doc["paths"]["/api/v1/sync/push"]["post"]["security"][0]["device_token"], serde_json::json!([]));
        // the revocation check is asked without a token: with the probe in its body
        assert!(doc["paths"]["/api/v1/device/status"]["post"]["security"].is_null());
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    }
}
