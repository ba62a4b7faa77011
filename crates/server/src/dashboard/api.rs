//! `/dashboard/api/…`: sign-in, sign-out and the session; a place's report; the appendix and
//! the named lists as downloads. Sessions ride an HttpOnly, SameSite=Strict cookie; a request
//! that changes something must come from the dashboard's own page (its `Origin`, and
//! `Sec-Fetch-Site` when sent) and carry the session's CSRF token; every answer is `no-store`.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use gocua_core::places::Place;
use gocua_core::report::lists::{CsvList, ListKind, ListSink, XlsxList};
use gocua_core::report::web::{WebReport, WebSession, WebUser};
use gocua_core::report::{DayRange, REPORT_UTC_OFFSET_MINUTES};
use gocua_server_store::{Store, UserRow, WebSessionRow, run_read};
use serde::Deserialize;
use uuid::Uuid;

use super::account::{self, Refused};
use crate::AppState;
use crate::domain::Error;
use crate::error::ApiError;
use crate::policy::{self, Action};
use crate::reports::{self, ListRequest, ReportRequest};

/// The session cookie's name.
pub const COOKIE: &str = "gocua_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in request: its session and user. Refused with 401 without a live session, and, for
/// anything but GET, with 403 without the session's CSRF token or from another site.
#[derive(Debug)]
pub struct Signed {
    /// The session.
    pub session: WebSessionRow,
    /// Its user.
    pub user: UserRow,
    token: String,
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// Refuses a request another site's page could have sent: `Sec-Fetch-Site` other than
/// same-origin, or an `Origin` whose host is not this request's `Host`.
fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || {
        ApiError::forbidden("Yêu cầu không đến từ trang của máy chủ / the request did not come from the server's page")
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
    {
        return Err(refused());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => Ok(()),
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            if origin_host.is_some() && origin_host == host { Ok(()) } else { Err(refused()) }
        }
    }
}

fn expired() -> ApiError {
    ApiError::unauthorized(
        "unauthorized",
        "Phiên đăng nhập đã hết hạn, hãy đăng nhập lại / the session ended: sign in again",
    )
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = cookie_token(&parts.headers).ok_or_else(expired)?;
        let found = {
            let token = token.clone();
            state.blocking(move |store| account::session(store, &token, Utc::now())).await?
        };
        let (session, user) = found.ok_or_else(expired)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            same_origin(&parts.headers)?;
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(session.csrf.as_str()) {
                return Err(ApiError::forbidden("Thiếu mã chống giả mạo yêu cầu / the request lacks its CSRF token"));
            }
        }
        Ok(Signed { session, user, token })
    }
}

/// The session as the page sees it: the user with their places, the CSRF token, the end.
fn web_session(store: &dyn Store, session: &WebSessionRow, user: &UserRow) -> Result<WebSession, Error> {
    let places = run_read(store, |tx| tx.places(user.scope.codes()))?;
    Ok(WebSession {
        user: WebUser { id: user.id, name: user.name.clone(), role: user.role, places },
        csrf: session.csrf.clone(),
        expires_at: session.expires_at.to_rfc3339(),
    })
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("a token is URL-safe base64")
}

/// Sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignIn {
    /// The login an admin gave.
    pub user_name: String,
    /// The password.
    pub password: String,
}

/// `POST /dashboard/api/login`.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(form): Json<SignIn>,
) -> Result<Response, ApiError> {
    same_origin(&headers)?;
    let login = account::normal_login(&form.user_name);
    state.limits.sign_in(&login)?;
    let store = std::sync::Arc::clone(&state.store);
    let (answer, login) = tokio::task::spawn_blocking(move || {
        let answer = account::sign_in(&*store, &form.user_name, &form.password, Utc::now());
        (answer, login)
    })
    .await
    .map_err(ApiError::internal)?;
    let signed = match answer {
        Ok(signed) => signed,
        Err(Refused::Wrong) => {
            state.limits.sign_in_failed(&login);
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "Sai tên đăng nhập hoặc mật khẩu / wrong user name or password",
            ));
        }
        Err(Refused::Locked(secs)) => {
            return Err(ApiError::too_many_requests(
                secs,
                format!(
                    "Đăng nhập sai nhiều lần, hãy thử lại sau {secs} giây / too many failed sign-ins: try again in {secs} s"
                ),
            ));
        }
        Err(Refused::Forbidden) => {
            return Err(ApiError::forbidden(
                "Chỉ công an xã, công an tỉnh dùng bảng điều khiển / only the police use the dashboard",
            ));
        }
        Err(Refused::Store(e)) => return Err(e.into()),
    };
    let cookie = session_cookie(&signed.token, account::ABSOLUTE.num_seconds(), state.dashboard.secure_cookie);
    let body = state.blocking(move |store| web_session(store, &signed.session, &signed.user)).await?;
    Ok(no_store(([(header::SET_COOKIE, cookie)], Json(body)).into_response()))
}

/// `POST /dashboard/api/logout`.
pub async fn logout(State(state): State<AppState>, signed: Signed) -> Result<Response, ApiError> {
    let token = signed.token.clone();
    state.blocking(move |store| account::sign_out(store, &token)).await?;
    let cookie = session_cookie("", 0, state.dashboard.secure_cookie);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// `GET /dashboard/api/session`.
pub async fn session(State(state): State<AppState>, signed: Signed) -> Result<Response, ApiError> {
    let body = state.blocking(move |store| web_session(store, &signed.session, &signed.user)).await?;
    Ok(no_store(Json(body).into_response()))
}

/// What a report or an appendix is asked for.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportQuery {
    /// The place (default: the user's first).
    pub place: Option<String>,
    /// A campaign to follow.
    pub campaign: Option<Uuid>,
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub until: Option<NaiveDate>,
}

fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::minutes(REPORT_UTC_OFFSET_MINUTES.into())).date_naive()
}

/// The place asked for, inside the user's places, with its lineage (root first).
fn place_of(store: &dyn Store, user: &UserRow, asked: Option<&str>) -> Result<Vec<Place>, Error> {
    let code = asked.map(str::to_owned).or_else(|| user.scope.codes().first().cloned()).unwrap_or_default();
    let lineage = run_read(store, |tx| tx.lineage(&code))?;
    if lineage.is_empty() {
        return Err(Error::NotFound(format!("không có địa bàn {code} / no place {code}")));
    }
    if !lineage.iter().any(|p| user.scope.codes().contains(&p.code)) {
        return Err(Error::Forbidden(format!("{code} nằm ngoài địa bàn của bạn / {code} is outside your places")));
    }
    Ok(lineage)
}

fn request(query: &ReportQuery, place: &Place) -> Result<ReportRequest, Error> {
    let range = match (query.from, query.until) {
        (Some(from), Some(until)) => Some(DayRange::new(from, until).map_err(|e| Error::invalid(e.to_string()))?),
        (None, None) => None,
        _ => return Err(Error::invalid("cần cả ngày bắt đầu và ngày kết thúc / both days are needed")),
    };
    Ok(ReportRequest { place: place.code.clone(), range, campaign: query.campaign, today: today() })
}

/// `GET /dashboard/api/report`: audited (the people table names officials).
pub async fn report(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let answer = state
        .blocking(move |store| {
            let lineage = place_of(store, &signed.user, query.place.as_deref())?;
            let place = lineage.last().cloned().expect("a lineage has its place");
            let built = reports::report(store, &request(&query, &place)?)?;
            crate::audit::append_now(
                store,
                &crate::audit::Entry {
                    actor_user: Some(signed.user.id),
                    actor_device: None,
                    action: "dashboard_report",
                    detail: serde_json::json!({ "place": place.code }),
                },
            )?;
            Ok(WebReport {
                report: built.report,
                lineage,
                campaigns: built.campaigns.into_iter().rev().map(|c| (c.campaign_id, c.name)).collect(),
                police: signed.user.role.is_police(),
                may_export_lists: policy::allows(signed.user.role, Action::Lists),
            })
        })
        .await?;
    Ok(no_store(Json(answer).into_response()))
}

fn attachment(name: &str, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    no_store(response)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `GET /dashboard/api/appendix.xlsx`: a few thousand cells at most, made in memory.
pub async fn appendix(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let (bytes, code) = state
        .blocking(move |store| {
            let lineage = place_of(store, &signed.user, query.place.as_deref())?;
            let place = lineage.last().cloned().expect("a lineage has its place");
            let built = reports::report(store, &request(&query, &place)?)?;
            let mut bytes = Vec::new();
            gocua_core::report::appendix::write(&built.report, &built.reasons, &mut bytes)
                .map_err(|e| Error::invalid(e.to_string()))?;
            Ok((bytes, place.code))
        })
        .await?;
    Ok(attachment(&format!("phu-luc-thong-ke-{code}-{}.xlsx", today()), XLSX, Body::from(bytes)))
}

/// The place of a list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// The place (default: the user's first).
    pub place: Option<String>,
}

/// `GET /dashboard/api/lists/{file}` with `file` = `<kind>.<xlsx|csv>`: streamed as it is
/// written (a CSV row by row; an XLSX once its sheets, kept in temp files, are zipped), audited.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Path(file): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (kind, format) =
        file.rsplit_once('.').ok_or_else(|| ApiError::not_found("Không có danh sách này / no such list"))?;
    let kind = ListKind::from_code(kind).ok_or_else(|| ApiError::not_found("Không có danh sách này / no such list"))?;
    let csv = match format {
        "csv" => true,
        "xlsx" => false,
        _ => return Err(ApiError::not_found("Không có định dạng này / no such format")),
    };
    policy::require_role(signed.user.role, Action::Lists)?;
    let place = {
        let user = signed.user.clone();
        let asked = query.place.clone();
        state
            .blocking(move |store| place_of(store, &user, asked.as_deref()))
            .await?
            .pop()
            .expect("a lineage has its place")
    };
    let (writer, reader) = tokio::io::duplex(64 * 1024);
    let store = std::sync::Arc::clone(&state.store);
    let tempdir = state.dashboard.tempdir.clone();
    let request = ListRequest { place: place.code.clone(), kind, user: signed.user.id };
    let (done, finished) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let out = tokio_util::io::SyncIoBridge::new(writer);
        let sink: Result<Box<dyn ListSink>, _> = if csv {
            CsvList::new(out, kind.title_vi()).map(|s| Box::new(s) as Box<dyn ListSink>)
        } else {
            XlsxList::new(out, kind.title_vi(), &tempdir).map(|s| Box::new(s) as Box<dyn ListSink>)
        };
        let result = sink
            .map_err(|e| Error::invalid(e.to_string()))
            .and_then(|sink| reports::export_list(&*store, &request, sink));
        if let Err(e) = &result {
            tracing::warn!(error = %e, "a list export failed midway");
        }
        let _ = done.send(result.is_ok());
    });
    let (name, content_type) = if csv { ("csv", "text/csv; charset=utf-8") } else { ("xlsx", XLSX) };
    let stem = kind.code();
    Ok(attachment(
        &format!("danh-sach-{stem}-{}-{}.{name}", place.code, today()),
        content_type,
        streamed_body(reader, finished),
    ))
}

/// The body of a file written as it streams: `reader`'s bytes, then, when `finished` says the
/// writer failed (or it never says), an error, so the connection is cut before the body's end
/// and the browser reports a failed download instead of keeping a shortened list.
fn streamed_body(
    reader: impl tokio::io::AsyncRead + Send + 'static,
    finished: tokio::sync::oneshot::Receiver<bool>,
) -> Body {
    use futures_util::StreamExt;
    let outcome = futures_util::stream::once(async move {
        match finished.await {
            Ok(true) => None,
            _ => Some(Err(std::io::Error::other("the list export failed midway"))),
        }
    })
    .filter_map(std::future::ready);
    Body::from_stream(tokio_util::io::ReaderStream::new(reader).chain(outcome))
}

#[cfg(test)]
mod tests {
    use super::streamed_body;

    async fn collect(ok: Option<bool>) -> Result<Vec<u8>, axum::Error> {
        let (mut writer, reader) = tokio::io::duplex(64);
        let (done, finished) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            tokio::io::AsyncWriteExt::write_all(&mut writer, b"STT,H\xe1\xbb\x8d t\xc3\xaan\n1,A\n").await.unwrap();
            drop(writer);
            match ok {
                Some(ok) => done.send(ok).unwrap(),
                None => drop(done),
            }
        });
        axum::body::to_bytes(streamed_body(reader, finished), usize::MAX).await.map(|b| b.to_vec())
    }

    #[tokio::test]
    async fn a_list_that_failed_midway_ends_in_an_error_not_a_shortened_file() {
        assert_eq!(collect(Some(true)).await.unwrap(), "STT,Họ tên\n1,A\n".as_bytes());
        let failed = collect(Some(false)).await.unwrap_err();
        assert!(failed.to_string().contains("failed midway"), "{failed}");
        assert!(collect(None).await.is_err(), "a writer that vanished is a failure too");
    }
}
