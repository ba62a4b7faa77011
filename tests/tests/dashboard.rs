//! The district dashboard's API against the real server: accounts only by an admin command (no
//! default password, none for a volunteer, none too short), sign-in with the session in an
//! HttpOnly SameSite=Strict cookie, wrong passwords answered alike and then locked out, a
//! request from another site or without the CSRF token refused, the report of the officer's
//! commune and a hamlet, none outside their places, the appendix and a list downloaded (the
//! list audited), and a signed-out session gone.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Stdio};

use gocua_core::report::web::{WebReport, WebSession};
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, claim_activations, enrolled_device};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};

/// `admin set-password --user U --login L` with `password` on standard input.
fn set_password(server: &TestServer, user: &str, login: &str, password: &str) -> (bool, String) {
    let mut child = Command::new(gocua_e2e::server_bin())
        .args(["admin", "--database", server.database(), "set-password", "--user", user, "--login", login])
        .env("GOCUA_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn sign_in(http: &reqwest::Client, server: &TestServer, login: &str, password: &str) -> reqwest::Response {
    http.post(format!("{}/dashboard/api/login", server.url))
        .json(&serde_json::json!({ "user_name": login, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_officer_signs_in_reads_reports_downloads_and_signs_out() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Giàng A Dũng", "03445");
    let (phone, link) = enrolled_device(&server, "dung.sqlite", &code).await;
    claim_activations(&phone, &mut gocua_core::fixtures::Rng::new(4), "03445-01", 4);
    sync_once(&phone, &link).await.unwrap();
    let officer =
        server.admin(&["add-user", "--name", "Trần Văn Công", "--role", "commune-police", "--scope", "03445"]);
    let volunteer = server.sql_text_rows("SELECT CAST(id AS TEXT) FROM users WHERE role = 'volunteer'")[0][0].clone();
    let http = reqwest::Client::new();

    // no account yet: the same answer as a wrong password
    let none = sign_in(&http, &server, "cong", "mật khẩu dài đủ rồi").await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let (ok, said) = set_password(&server, &officer, "Cong", "ngắn");
    assert!(!ok && said.contains("ít nhất 10 ký tự"), "{said}");
    let (ok, said) = set_password(&server, &volunteer, "dung", "mật khẩu dài đủ rồi");
    assert!(!ok && said.contains("chỉ công an"), "{said}");
    let (ok, said) = set_password(&server, &officer, "Cong", "mật khẩu dài đủ rồi");
    assert!(ok, "{said}");
    assert!(!server.data_holds("mật khẩu dài đủ rồi"), "only the hash is stored");

    // wrong password: 401, the same words as an unknown login
    let wrong = sign_in(&http, &server, "cong", "sai mật khẩu rồi").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("Sai tên đăng nhập hoặc mật khẩu"));

    // signed in: the cookie is HttpOnly, SameSite=Strict, for the dashboard only
    let signed = sign_in(&http, &server, " CONG ", "mật khẩu dài đủ rồi").await;
    assert_eq!(signed.status(), StatusCode::OK);
    let set_cookie = signed.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict")
            && set_cookie.contains("Path=/dashboard"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let session: WebSession = signed.json().await.unwrap();
    assert_eq!(session.user.name, "Trần Văn Công");
    assert_eq!(session.user.places[0].code, "03445");
    let get = |path: &str| http.get(format!("{}{path}", server.url)).header(COOKIE, &cookie).send();

    // the commune's report, then a hamlet's; another commune is not theirs
    let answer = get("/dashboard/api/report").await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    assert!(answer.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    let report: WebReport = answer.json().await.unwrap();
    assert_eq!(report.report.total.place.code, "03445");
    assert_eq!(report.report.total.tally.activated_level1, 4);
    assert_eq!(report.lineage.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), ["12", "03445"]);
    assert!(report.police && report.may_export_lists);
    let hamlet: WebReport = get("/dashboard/api/report?place=03445-01").await.unwrap().json().await.unwrap();
    assert_eq!((hamlet.report.total.place.code.as_str(), hamlet.report.total.tally.residents), ("03445-01", 4));
    assert_eq!(get("/dashboard/api/report?place=03637").await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(get("/dashboard/api/report?place=12").await.unwrap().status(), StatusCode::FORBIDDEN);
    let bad_days = get("/dashboard/api/report?from=2026-12-07").await.unwrap();
    assert_eq!(bad_days.status(), StatusCode::BAD_REQUEST);

    // downloads: the appendix, and the activated list as CSV (audited, no names in the audit)
    let appendix = get("/dashboard/api/appendix.xlsx?place=03445").await.unwrap();
    assert_eq!(appendix.status(), StatusCode::OK);
    assert!(appendix.headers()["content-disposition"].to_str().unwrap().contains("phu-luc-thong-ke-03445"));
    assert!(appendix.bytes().await.unwrap().starts_with(b"PK"));
    let list = get("/dashboard/api/lists/activated.csv?place=03445").await.unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let text = list.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    let names: Vec<String> = server.projection().residents.values().map(|r| r.full_name.clone()).collect();
    assert!(names.iter().all(|n| text.contains(n.as_str())), "{text}");
    let xlsx = get("/dashboard/api/lists/absent.xlsx").await.unwrap();
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(get("/dashboard/api/lists/nobody.csv").await.unwrap().status(), StatusCode::NOT_FOUND);
    let audited = server.sql_text_rows("SELECT action, CAST(detail AS TEXT) FROM audit_log WHERE action IN ('export_list', 'dashboard_report', 'dashboard_sign_in', 'dashboard_sign_in_failed')");
    for action in ["export_list", "dashboard_report", "dashboard_sign_in", "dashboard_sign_in_failed"] {
        assert!(audited.iter().any(|r| r[0] == action), "{action} audited: {audited:?}");
    }
    assert!(audited.iter().all(|r| names.iter().all(|n| !r[1].contains(n.as_str()))), "no names in the audit");

    // another site's page cannot sign out (or in); the CSRF token is needed
    let logout = |origin: &'static str, csrf: Option<&str>| {
        let mut request =
            http.post(format!("{}/dashboard/api/logout", server.url)).header(COOKIE, &cookie).header(ORIGIN, origin);
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    assert_eq!(logout("http://evil.example", Some(&session.csrf)).await.unwrap().status(), StatusCode::FORBIDDEN);
    let own_origin: &'static str = Box::leak(server.url.clone().into_boxed_str());
    assert_eq!(logout(own_origin, None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let cross = http
        .post(format!("{}/dashboard/api/login", server.url))
        .header("sec-fetch-site", "cross-site")
        .json(&serde_json::json!({ "user_name": "cong", "password": "mật khẩu dài đủ rồi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(logout(own_origin, Some(&session.csrf)).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(get("/dashboard/api/session").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(get("/dashboard/api/report").await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_lock_the_account_for_a_while() {
    let server = TestServer::start().await;
    server.add_places();
    let officer = server.admin(&["add-user", "--name", "Đèo Văn Hùng", "--role", "province-police", "--scope", "12"]);
    assert!(set_password(&server, &officer, "hung", "mật khẩu của Hùng").0);
    let http = reqwest::Client::new();
    for _ in 0..5 {
        assert_eq!(sign_in(&http, &server, "hung", "đoán bừa một lần").await.status(), StatusCode::UNAUTHORIZED);
    }
    // locked: even the right password waits, and says how long
    let locked = sign_in(&http, &server, "hung", "mật khẩu của Hùng").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(locked.text().await.unwrap().contains("Đăng nhập sai nhiều lần"));
    // a new password from the admin lifts the lock
    assert!(set_password(&server, &officer, "hung", "mật khẩu mới của Hùng").0);
    assert_eq!(sign_in(&http, &server, "hung", "mật khẩu mới của Hùng").await.status(), StatusCode::OK);
    let _ = OsStr::new("");
}
