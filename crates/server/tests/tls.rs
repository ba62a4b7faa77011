//! The real binary over TLS: `serve --tls-cert/--tls-key` speaks HTTPS with that certificate
//! (and nothing in the clear), and plain HTTP is refused off loopback unless forced.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gocua-server"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_given_certificate_and_nothing_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(dir.path().join("s.sqlite"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env("GOCUA_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(url) = line.strip_prefix("gocua-server listening on ") {
            break url.trim().to_owned();
        }
    };
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = trusting.get(format!("{url}/api/v1/health")).send().await.expect("HTTPS with our certificate");
    assert_eq!(health.status(), 200);
    assert!(health.text().await.unwrap().contains("schema_version"));

    // a client that does not trust the certificate gets nowhere, and neither does plain HTTP
    let stranger = reqwest::Client::new().get(format!("{url}/api/v1/health")).send().await;
    assert!(stranger.is_err(), "an untrusted certificate must fail the handshake");
    let plain = url.replace("https://", "http://");
    let clear = reqwest::Client::new().get(format!("{plain}/api/v1/health")).send().await;
    assert!(clear.map(|r| r.status() != 200).unwrap_or(true), "no answer in the clear");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn plain_http_off_loopback_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        bin().args(["serve", "--listen", "0.0.0.0:0", "--database"]).arg(dir.path().join("s.sqlite")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("refusing plain HTTP") && stderr.contains("--tls-cert"), "{stderr}");
    assert!(!dir.path().join("s.sqlite").exists(), "refused before the database is touched");
    // a half-given pair is a usage error, not a silent plain server
    let half = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(dir.path().join("s.sqlite"))
        .args(["--tls-cert", "cert.pem"])
        .output()
        .unwrap();
    assert!(!half.status.success());
    assert!(String::from_utf8_lossy(&half.stderr).contains("--tls-key"));
}
