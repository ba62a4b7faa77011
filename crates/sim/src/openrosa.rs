//! The OpenRosa baselines of issue 4's benchmarks: the simulator's made-up visits written as
//! ODK-style form instances (XML) and sent the way ODK Collect sends them, one multipart
//! `POST /submission` per instance, to an in-process receiver that parses and stores each one.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::head;
use gocua_core::event::{HouseholdCreated, ResidentAdded, VisitRecorded};
use quick_xml::escape::{escape, partial_escape};
use quick_xml::events::Event as XmlEvent;
use rusqlite::{Connection, params};
use serde::Serialize;
use uuid::Uuid;

use crate::HouseholdVisit;

/// The OpenRosa protocol version both sides announce.
const OPENROSA_VERSION: &str = "1.0";
/// The largest submission the receiver takes, announced in `X-OpenRosa-Accept-Content-Length`.
const ACCEPT_CONTENT_LENGTH: &str = "10485760";
/// The multipart part holding the form instance, as ODK Collect names it.
const XML_PART: &str = "xml_submission_file";
/// Form ids and the version the instances carry.
const HOUSEHOLD_FORM: &str = "gocua_household_visit";
const VISIT_FORM: &str = "gocua_resident_visit";
const FORM_VERSION: &str = "2026112201";
/// ODK Collect's product token (without the device part it also sends: kind to the baseline).
const USER_AGENT: &str = "org.odk.collect.android/v2024.3.0";
/// Made-up Basic credentials, standing in for the bearer token our phone sends.
const BASIC_AUTH: &str = "Basic c2ltLXZvbHVudGVlci0wMDAxOm1hZGUtdXAtcGFzc3dvcmQ=";

/// One form instance, ready to submit.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The form's id (the root element's `id`).
    pub form_id: &'static str,
    /// `uuid:…`, as in `<meta><instanceID>`.
    pub instance_id: String,
    /// The instance document.
    pub xml: String,
}

/// Writes an instance document the way JavaRosa serializes one: no indentation, empty values
/// as empty elements, text escaped.
struct XmlWriter(String);

impl XmlWriter {
    fn new(form_id: &str) -> Self {
        XmlWriter(format!(
            "<?xml version='1.0' ?><data id=\"{}\" version=\"{}\" xmlns:jr=\"http://openrosa.org/javarosa\" \
             xmlns:orx=\"http://openrosa.org/xforms\">",
            escape(form_id),
            escape(FORM_VERSION)
        ))
    }
    fn open(&mut self, name: &str) {
        let _ = write!(self.0, "<{name}>");
    }
    fn close(&mut self, name: &str) {
        let _ = write!(self.0, "</{name}>");
    }
    fn field(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            let _ = write!(self.0, "<{name}/>");
        } else {
            let _ = write!(self.0, "<{name}>{}</{name}>", partial_escape(value));
        }
    }
    /// Closes the document with ODK's `<meta><instanceID>uuid:…</instanceID></meta>`.
    fn finish(mut self, form_id: &'static str) -> Instance {
        let instance_id = format!("uuid:{}", Uuid::new_v4());
        self.open("meta");
        self.field("instanceID", &instance_id);
        self.close("meta");
        self.close("data");
        Instance { form_id, instance_id, xml: self.0 }
    }

    fn household(&mut self, h: &HouseholdCreated) {
        self.field("household_id", &h.household_id.to_string());
        self.field("hamlet_code", &h.hamlet_code);
        self.field("address", &h.address);
        self.field("head_name", &h.head_name);
    }
    fn resident(&mut self, r: &ResidentAdded) {
        self.field("resident_id", &r.resident_id.to_string());
        self.field("full_name", &r.fields.full_name);
        self.field("birth_year", &r.fields.birth_year.to_string());
        self.field("sex", r.fields.sex.code());
        self.field("cccd", r.fields.cccd.as_deref().unwrap_or_default());
        self.field("phone", r.fields.phone.as_deref().unwrap_or_default());
    }
    /// The visit outcome's fields (all empty for a resident not visited).
    fn visit(&mut self, v: Option<&VisitRecorded>) {
        self.field("visit_id", &v.map(|v| v.visit_id.to_string()).unwrap_or_default());
        self.field("status", v.map(|v| v.status.code()).unwrap_or_default());
        self.field("reason_code", v.and_then(|v| v.reason_code.as_deref()).unwrap_or_default());
        self.field("action", &v.and_then(|v| v.action).map(wire_code).unwrap_or_default());
        self.field("follow_up", &v.and_then(|v| v.follow_up).map(|d| d.to_string()).unwrap_or_default());
        self.field("note", v.and_then(|v| v.note.as_deref()).unwrap_or_default());
    }
}

/// A value's code as our JSON carries it (`"guided_level1"` → `guided_level1`).
fn wire_code(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn visit_of<'a>(h: &'a HouseholdVisit, r: &ResidentAdded) -> Option<&'a VisitRecorded> {
    h.visits.iter().find(|v| v.resident_id == r.resident_id)
}

/// One household visit as one instance: the household's fields and a repeat group of its
/// residents, each with their visit outcome.
pub fn household_instance(h: &HouseholdVisit) -> Instance {
    let mut x = XmlWriter::new(HOUSEHOLD_FORM);
    x.household(&h.household);
    for r in &h.residents {
        x.open("resident");
        x.resident(r);
        x.visit(visit_of(h, r));
        x.close("resident");
    }
    x.finish(HOUSEHOLD_FORM)
}

/// One instance per resident visit, as a per-person form would have it: the household's
/// fields, the resident's fields and the visit outcome.
pub fn visit_instances(h: &HouseholdVisit) -> Vec<Instance> {
    h.visits
        .iter()
        .filter_map(|v| h.residents.iter().find(|r| r.resident_id == v.resident_id).map(|r| (r, v)))
        .map(|(r, v)| {
            let mut x = XmlWriter::new(VISIT_FORM);
            x.household(&h.household);
            x.resident(r);
            x.visit(Some(v));
            x.finish(VISIT_FORM)
        })
        .collect()
}

/// The form id (root `id`) and `instanceID` of an instance document, read with a real parser
/// (which also refuses a document that is not well-formed).
pub fn parse_instance(xml: &str) -> Result<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut form_id, mut instance_id) = (None, None);
    let mut in_instance_id = false;
    loop {
        match reader.read_event().context("XML")? {
            XmlEvent::Start(e) => {
                if form_id.is_none() {
                    let id = e.try_get_attribute("id").context("XML")?.context("the root has no id")?;
                    form_id =
                        Some(id.normalized_value(quick_xml::XmlVersion::Explicit1_0).context("XML")?.into_owned());
                }
                in_instance_id = e.local_name().as_ref() == "instanceID";
            }
            XmlEvent::Text(t) if in_instance_id => {
                instance_id = Some(quick_xml::escape::unescape(&t).context("XML")?.into_owned());
            }
            XmlEvent::End(_) => in_instance_id = false,
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    match (form_id, instance_id) {
        (Some(f), Some(i)) if i.starts_with("uuid:") => Ok((f, i)),
        _ => bail!("no form id or no uuid: instanceID"),
    }
}

/// What the receiver did.
#[derive(Debug)]
struct ReceiverState {
    db: Mutex<Connection>,
    /// New submissions stored.
    stored: AtomicU64,
    /// Submissions it already had (same instanceID), acknowledged again.
    duplicates: AtomicU64,
}

/// An OpenRosa submission endpoint on `127.0.0.1:0`, storing each instance in SQLite (a temp
/// file, WAL, `synchronous=FULL` like our server) so it does real work per submission.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<ReceiverState>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Receiver {
    /// Starts it.
    pub async fn start() -> Result<Receiver> {
        let dir = tempfile::tempdir()?;
        let conn = Connection::open(dir.path().join("openrosa.sqlite"))?;
        gocua_core::sql::configure(&conn)?;
        // a stand-in for another product's server, not Gõ Cửa's schema: no migration for it
        conn.execute_batch(
            "CREATE TABLE submissions (
                instance_id TEXT PRIMARY KEY,
                form_id TEXT NOT NULL,
                xml TEXT NOT NULL,
                received_at TEXT NOT NULL
            ) STRICT",
        )?;
        let state =
            Arc::new(ReceiverState { db: Mutex::new(conn), stored: AtomicU64::new(0), duplicates: AtomicU64::new(0) });
        let app = Router::new()
            .route("/submission", head(head_submission).post(post_submission))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver { addr, state, task, _dir: dir })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// New submissions stored.
    pub fn stored(&self) -> u64 {
        self.state.stored.load(Ordering::Relaxed)
    }

    /// Submissions received again.
    pub fn duplicates(&self) -> u64 {
        self.state.duplicates.load(Ordering::Relaxed)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn openrosa_headers() -> [(HeaderName, HeaderValue); 2] {
    [
        (HeaderName::from_static("x-openrosa-version"), HeaderValue::from_static(OPENROSA_VERSION)),
        (HeaderName::from_static("x-openrosa-accept-content-length"), HeaderValue::from_static(ACCEPT_CONTENT_LENGTH)),
    ]
}

/// An `OpenRosaResponse` document with one message.
fn openrosa_response(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\" items=\"0\"><message nature=\"\">{}</message>\
         </OpenRosaResponse>",
        partial_escape(message)
    );
    (status, openrosa_headers(), [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

async fn head_submission() -> impl IntoResponse {
    (StatusCode::NO_CONTENT, openrosa_headers())
}

async fn post_submission(State(state): State<Arc<ReceiverState>>, mut multipart: Multipart) -> Response {
    let mut xml = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some(XML_PART) => match field.text().await {
                Ok(text) => xml = Some(text),
                Err(e) => return openrosa_response(StatusCode::BAD_REQUEST, &e.to_string()),
            },
            // attachments (photos, …) would come here: read and dropped
            Ok(Some(field)) => {
                if let Err(e) = field.bytes().await {
                    return openrosa_response(StatusCode::BAD_REQUEST, &e.to_string());
                }
            }
            Ok(None) => break,
            Err(e) => return openrosa_response(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    }
    let Some(xml) = xml else {
        return openrosa_response(StatusCode::BAD_REQUEST, "no xml_submission_file part");
    };
    let (form_id, instance_id) = match parse_instance(&xml) {
        Ok(ids) => ids,
        Err(e) => return openrosa_response(StatusCode::BAD_REQUEST, &format!("{e:#}")),
    };
    let db = Arc::clone(&state);
    let inserted = tokio::task::spawn_blocking(move || -> Result<usize> {
        let conn = db.db.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(conn.execute(
            "INSERT INTO submissions (instance_id, form_id, xml, received_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (instance_id) DO NOTHING",
            params![instance_id, form_id, xml, chrono::Utc::now().to_rfc3339()],
        )?)
    })
    .await;
    match inserted {
        Ok(Ok(1)) => {
            state.stored.fetch_add(1, Ordering::Relaxed);
            openrosa_response(StatusCode::CREATED, "full submission upload was successful!")
        }
        Ok(Ok(_)) => {
            state.duplicates.fetch_add(1, Ordering::Relaxed);
            openrosa_response(StatusCode::ACCEPTED, "duplicate submission: already received")
        }
        Ok(Err(e)) => openrosa_response(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}")),
        Err(e) => openrosa_response(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// What the submitting client did.
#[derive(Debug, Default)]
pub struct ClientTotals {
    /// Instances answered 201/202.
    pub acknowledged: u64,
    /// Instances refused (4xx): not retried.
    pub refused: u64,
    /// Requests that got no usable answer (retried).
    pub failed_attempts: u64,
    /// HTTP requests sent (the HEAD and every POST attempt).
    pub requests: u64,
    /// POSTs of an instance already posted once (after a failed attempt).
    pub resent: u64,
    /// Body bytes of those POSTs.
    pub bytes_resent: u64,
    /// Request bodies (the multipart documents).
    pub bytes_up: u64,
    /// Response bodies.
    pub bytes_down: u64,
    /// From the HEAD to the last answer.
    pub seconds: f64,
}

/// The multipart body OkHttp writes for Collect: one part, with its own length.
fn multipart_body(boundary: &str, instance: &Instance) -> Vec<u8> {
    let filename = format!("{}_2026-10-01_08-00-00.xml", instance.form_id);
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{XML_PART}\"; filename=\"{filename}\"\r\n\
         Content-Type: text/xml\r\nContent-Length: {}\r\n\r\n{}\r\n--{boundary}--\r\n",
        instance.xml.len(),
        instance.xml
    )
    .into_bytes()
}

fn http_date() -> String {
    chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Submits every instance in order like ODK Collect: one `HEAD /submission` first, then one
/// multipart `POST /submission` each, sequentially over one kept-alive connection; an attempt
/// without an answer is retried (on a new connection) up to `max_failed` failures in all.
pub async fn submit_all(base_url: &str, instances: &[Instance], max_failed: u32) -> Result<ClientTotals> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(1)
        .user_agent(USER_AGENT)
        .build()?;
    let url = format!("{}/submission", base_url.trim_end_matches('/'));
    let mut totals = ClientTotals::default();
    let started = Instant::now();
    let failed = |totals: &mut ClientTotals, what: Cow<'_, str>| -> Result<()> {
        totals.failed_attempts += 1;
        if totals.failed_attempts > u64::from(max_failed) {
            bail!("gửi biểu mẫu thất bại quá nhiều lần / too many failed submissions: {what}");
        }
        Ok(())
    };
    loop {
        totals.requests += 1;
        let sent = client
            .head(&url)
            .header("x-openrosa-version", OPENROSA_VERSION)
            .header(header::DATE, http_date())
            .header(header::AUTHORIZATION, BASIC_AUTH)
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == StatusCode::NO_CONTENT => {
                // read to the end, so the connection goes back to the pool for the first POST
                match r.bytes().await {
                    Ok(_) => break,
                    Err(e) => failed(&mut totals, e.to_string().into())?,
                }
            }
            Ok(r) => bail!("HEAD /submission: {}", r.status()),
            Err(e) => failed(&mut totals, e.to_string().into())?,
        }
    }
    for instance in instances {
        let mut attempts = 0u64;
        loop {
            // OkHttp draws a UUID boundary per request
            let boundary = Uuid::new_v4().to_string();
            let body = multipart_body(&boundary, instance);
            attempts += 1;
            totals.requests += 1;
            totals.bytes_up += body.len() as u64;
            if attempts > 1 {
                totals.resent += 1;
                totals.bytes_resent += body.len() as u64;
            }
            let sent = client
                .post(&url)
                .header("x-openrosa-version", OPENROSA_VERSION)
                .header(header::DATE, http_date())
                .header(header::AUTHORIZATION, BASIC_AUTH)
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
                .body(body)
                .send()
                .await;
            let answer = match sent {
                Ok(r) => {
                    let status = r.status();
                    r.bytes().await.map(|b| (status, b))
                }
                Err(e) => Err(e),
            };
            match answer {
                Ok((status, bytes)) => {
                    totals.bytes_down += bytes.len() as u64;
                    if status == StatusCode::CREATED || status == StatusCode::ACCEPTED {
                        totals.acknowledged += 1;
                        break;
                    }
                    if status.is_client_error() {
                        totals.refused += 1;
                        break;
                    }
                    failed(&mut totals, format!("{}: {status}", instance.instance_id).into())?;
                }
                Err(e) => failed(&mut totals, format!("{}: {e}", instance.instance_id).into())?,
            }
        }
    }
    totals.seconds = started.elapsed().as_secs_f64();
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::made_up_households;

    fn sample() -> Vec<HouseholdVisit> {
        made_up_households(3, 10, &["03445-01".to_owned(), "03445-02".to_owned()]).unwrap()
    }

    #[test]
    fn instances_carry_the_same_values_escaped_and_parse_back() {
        let mut households = sample();
        households[0].household.address = "Số 1 <A & B> \"Bờ suối\"".to_owned();
        let h = &households[0];
        let instance = household_instance(h);
        assert!(instance.xml.contains("<address>Số 1 &lt;A &amp; B&gt; \"Bờ suối\"</address>"), "{}", instance.xml);
        assert_eq!(instance.xml.matches("<resident>").count(), 4);
        for v in &h.visits {
            assert!(instance.xml.contains(&format!("<visit_id>{}</visit_id>", v.visit_id)));
            assert!(instance.xml.contains(&format!("<status>{}</status>", v.status.code())));
        }
        assert_eq!(parse_instance(&instance.xml).unwrap(), (HOUSEHOLD_FORM.to_owned(), instance.instance_id.clone()));
        let per_visit = visit_instances(h);
        assert_eq!(per_visit.len(), h.visits.len());
        for (instance, v) in per_visit.iter().zip(&h.visits) {
            assert!(instance.xml.contains(&h.household.head_name));
            assert!(instance.xml.contains(&format!("<resident_id>{}</resident_id>", v.resident_id)));
            assert_eq!(parse_instance(&instance.xml).unwrap().1, instance.instance_id);
        }
        assert!(parse_instance("<data id=\"x\"><meta><instanceID>uuid:1</instanceID></data>").is_err());
    }

    #[test]
    fn the_last_household_lists_every_resident_but_only_the_visits_made() {
        let households = sample();
        assert_eq!(households.len(), 3);
        let last = households.last().unwrap();
        assert_eq!((last.residents.len(), last.visits.len()), (4, 2));
        let xml = household_instance(last).xml;
        assert_eq!(xml.matches("<visit_id/>").count(), 2);
        assert_eq!(visit_instances(last).len(), 2);
    }

    #[tokio::test]
    async fn the_receiver_stores_each_submission_once_and_answers_like_openrosa() {
        let receiver = Receiver::start().await.unwrap();
        let url = format!("http://{}", receiver.addr());
        let instances: Vec<Instance> = sample().iter().flat_map(visit_instances).collect();
        let totals = submit_all(&url, &instances, 0).await.unwrap();
        assert_eq!((totals.acknowledged, totals.refused, totals.requests), (10, 0, 11));
        assert_eq!((receiver.stored(), receiver.duplicates()), (10, 0));
        // the same instance again is acknowledged as a duplicate, not stored twice
        let again = submit_all(&url, &instances[..1], 0).await.unwrap();
        assert_eq!(again.acknowledged, 1);
        assert_eq!((receiver.stored(), receiver.duplicates()), (10, 1));
        let client = reqwest::Client::new();
        let head = client.head(format!("{url}/submission")).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::NO_CONTENT);
        assert_eq!(head.headers()["x-openrosa-version"], "1.0");
        let refused = client
            .post(format!("{url}/submission"))
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b")
            .body("--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let body = refused.text().await.unwrap();
        assert!(body.starts_with("<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\""), "{body}");
    }
}
