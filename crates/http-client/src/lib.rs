//! The device's HTTP transport: enrollment, sync and the locked app's revocation check over
//! reqwest, with dictionary-compressed (`dcz`) pushes and pull pages, and zstd answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gocua_core::sync::dcz;
use gocua_core::sync::engine::{Transport, TransportError};
use gocua_core::sync::office::{EnrollmentCode, NewPerson, NewPersonResponse, NewRole, OfficePeople, OfficePerson};
use gocua_core::sync::protocol::{
    APP_VERSION, EnrollRequest, EnrollResponse, ErrorBody, PullRequest, PullResponse, PushRequest, PushResponse, Role,
    SCHEMA_VERSION,
};
use gocua_core::sync::status::{DEVICE_STATUS_PATH, DeviceState, DeviceStatusRequest, DeviceStatusResponse};
use gocua_core::sync::wire::PullBody;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A transport bound to one server and (once enrolled) one device token.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    base_url: String,
    token: Option<String>,
    client: Client,
    counts: Arc<ByteCounts>,
}

/// The most bytes an answer may unpack to (a pull page of 2,000 events is about 1 MB of JSON).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Body bytes this transport (and its clones) sent and received: what a phone's data plan pays
/// for, less HTTP headers and TCP/IP overhead.
#[derive(Debug, Default)]
pub struct ByteCounts {
    /// Request bodies, as sent (compressed).
    pub up: AtomicU64,
    /// Response bodies, as received.
    pub down: AtomicU64,
}

impl HttpTransport {
    /// A transport for `base_url` (`http://host:port`), without a token (enrollment only).
    pub fn new(base_url: &str) -> Result<Self, TransportError> {
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
            .user_agent(format!("gocua/{APP_VERSION}"))
            .build()
            .map_err(|e| TransportError::Protocol(e.to_string()))?;
        Ok(HttpTransport {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: None,
            client,
            counts: Arc::default(),
        })
    }

    /// Bytes sent and received so far.
    pub fn counts(&self) -> &ByteCounts {
        &self.counts
    }

    /// The same transport acting as an enrolled device.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn request(&self, builder: RequestBuilder) -> RequestBuilder {
        let builder = builder
            .header("gocua-schema-version", SCHEMA_VERSION.to_string())
            .header("gocua-app-version", APP_VERSION)
            // every answer may come zstd-compressed, a pull page `dcz` (`HttpTransport::pull`)
            .header("accept-encoding", "dcz, zstd");
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Redeems a one-time code (without a bundle signing key: such a device cannot export
    /// sneakernet bundles; see [`HttpTransport::enroll_with_key`]).
    pub async fn enroll(&self, code: &str, device_name: &str) -> Result<EnrollResponse, TransportError> {
        self.enroll_with_key(code, device_name, None).await
    }

    /// Redeems a one-time code, sending the device's bundle signing key
    /// (`DeviceStore::enrollment_key`).
    pub async fn enroll_with_key(
        &self,
        code: &str,
        device_name: &str,
        signing_key: Option<&str>,
    ) -> Result<EnrollResponse, TransportError> {
        let body = EnrollRequest {
            code: code.to_owned(),
            device_name: device_name.to_owned(),
            schema_version: SCHEMA_VERSION,
            app_version: APP_VERSION.to_owned(),
            signing_key: signing_key.map(str::to_owned),
        };
        let response = self
            .request(self.client.post(format!("{}/api/v1/enroll", self.base_url)))
            .json(&body)
            .send()
            .await
            .map_err(offline)?;
        decode(response, &self.counts).await
    }

    /// Asks whether a device is still enrolled, with its revocation probe instead of a token
    /// (`POST /api/v1/device/status`): what a locked app can ask without its database.
    pub async fn device_status(&self, device_id: Uuid, probe: &str) -> Result<DeviceState, TransportError> {
        let body = DeviceStatusRequest { device_id, probe: probe.to_owned() };
        let response = self
            .request(self.client.post(format!("{}{DEVICE_STATUS_PATH}", self.base_url)))
            .json(&body)
            .send()
            .await
            .map_err(offline)?;
        Ok(decode::<DeviceStatusResponse>(response, &self.counts).await?.status)
    }

    /// The people of the officer's places with their devices (`GET /api/v1/office/people`).
    pub async fn office_people(&self) -> Result<OfficePeople, TransportError> {
        let url = format!("{}/api/v1/office/people", self.base_url);
        let response = self.request(self.client.get(url)).send().await.map_err(offline)?;
        decode(response, &self.counts).await
    }

    /// Adds a volunteer or team leader, with a first code (`POST /api/v1/office/people`).
    pub async fn office_add_person(&self, person: &NewPerson) -> Result<NewPersonResponse, TransportError> {
        let url = format!("{}/api/v1/office/people", self.base_url);
        let response = self.request(self.client.post(url)).json(person).send().await.map_err(offline)?;
        decode(response, &self.counts).await
    }

    /// A new one-time code for a person (`POST /api/v1/office/people/{id}/code`).
    pub async fn office_new_code(&self, user: Uuid) -> Result<EnrollmentCode, TransportError> {
        let url = format!("{}/api/v1/office/people/{user}/code", self.base_url);
        let response = self.request(self.client.post(url)).send().await.map_err(offline)?;
        decode(response, &self.counts).await
    }

    /// Makes a volunteer a team leader or back (`POST /api/v1/office/people/{id}/role`).
    pub async fn office_set_role(&self, user: Uuid, role: Role) -> Result<OfficePerson, TransportError> {
        let url = format!("{}/api/v1/office/people/{user}/role", self.base_url);
        let response = self.request(self.client.post(url)).json(&NewRole { role }).send().await.map_err(offline)?;
        decode(response, &self.counts).await
    }

    /// Revokes a device; false when it was revoked already (`POST /api/v1/office/devices/{id}/revoke`).
    pub async fn office_revoke(&self, device: Uuid) -> Result<bool, TransportError> {
        #[derive(serde::Deserialize)]
        struct Revoked {
            revoked: bool,
        }
        let url = format!("{}/api/v1/office/devices/{device}/revoke", self.base_url);
        let response = self.request(self.client.post(url)).send().await.map_err(offline)?;
        Ok(decode::<Revoked>(response, &self.counts).await?.revoked)
    }
}

fn offline(e: reqwest::Error) -> TransportError {
    TransportError::Offline(e.to_string())
}

async fn decode<T: DeserializeOwned>(response: Response, counts: &ByteCounts) -> Result<T, TransportError> {
    let status = response.status();
    let encoding = response.headers().get("content-encoding").map(|v| v.as_bytes().to_vec());
    let wire = response.bytes().await.map_err(offline)?;
    counts.down.fetch_add(wire.len() as u64, Ordering::Relaxed);
    // decompressed here rather than by reqwest, so the counter sees the bytes on the wire
    let bytes = match encoding.as_deref() {
        Some(b"zstd") => unzstd(&wire).map_err(|e| TransportError::Protocol(format!("zstd: {e}")))?,
        Some(b"dcz") => dcz::decode(&wire, MAX_ANSWER_BYTES).map_err(|e| TransportError::Protocol(e.to_string()))?,
        _ => wire.to_vec(),
    };
    if status == StatusCode::OK {
        return serde_json::from_slice(&bytes).map_err(|e| TransportError::Protocol(e.to_string()));
    }
    let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody {
        kind: "http".into(),
        message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
    });
    Err(TransportError::Refused { status: status.as_u16(), kind: body.kind, message: body.message })
}

/// A zstd answer unpacked, refused past `MAX_ANSWER_BYTES`.
fn unzstd(wire: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    zstd::Decoder::new(wire)?.take(MAX_ANSWER_BYTES as u64 + 1).read_to_end(&mut out)?;
    if out.len() > MAX_ANSWER_BYTES {
        return Err(std::io::Error::other(format!("more than {MAX_ANSWER_BYTES} bytes")));
    }
    Ok(out)
}

impl Transport for HttpTransport {
    async fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let json = serde_json::to_vec(request).map_err(|e| TransportError::Protocol(e.to_string()))?;
        let body = dcz::encode(&json).map_err(|e| TransportError::Protocol(e.to_string()))?;
        let response = self
            .request(self.client.post(format!("{}/api/v1/sync/push", self.base_url)))
            .header("content-type", "application/json")
            .header("content-encoding", dcz::CONTENT_ENCODING)
            .body({
                self.counts.up.fetch_add(body.len() as u64, Ordering::Relaxed);
                body
            })
            .send()
            .await
            .map_err(offline)?;
        decode(response, &self.counts).await
    }

    async fn pull(&self, request: &PullRequest) -> Result<PullResponse, TransportError> {
        let mut query = vec![
            ("cursor", request.cursor.to_string()),
            ("limit", request.limit.to_string()),
            ("epoch", request.epoch.clone()),
            ("scope", request.scope.clone()),
        ];
        if request.own {
            query.push(("own", "true".to_owned()));
        }
        if let Some(role) = request.role {
            query.push(("role", role.code().to_owned()));
        }
        if let Some(digest) = &request.reasons {
            query.push(("reasons", digest.clone()));
        }
        let response = self
            .request(self.client.get(format!("{}/api/v1/sync/pull", self.base_url)))
            .header(dcz::AVAILABLE_DICTIONARY, dcz::available_dictionary())
            .query(&query)
            .send()
            .await
            .map_err(offline)?;
        // from schema 5 pages come in runs (`PullBody`)
        Ok(decode::<PullBody>(response, &self.counts).await?.into())
    }
}
