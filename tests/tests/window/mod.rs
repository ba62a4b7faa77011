//! The real-window tests' harness (tauri-driver + WebKitWebDriver under Xvfb): the driver and
//! the app with private XDG folders, a WebDriver session, and the steps every screen test takes
//! (wait, tap, type, read, screenshot, overflow check, both languages, enrolling).
#![allow(dead_code)] // each test file uses its own part of it

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use gocua_e2e::TestServer;

/// The app lock's PIN the test enrolls with.
pub const PIN: &str = "246810";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub fn app_bin() -> PathBuf {
    let bin = gocua_e2e::server_bin().with_file_name("gocua-app");
    assert!(bin.exists(), "{} is missing: build it with `cargo build -p gocua-app`", bin.display());
    bin
}

pub fn tauri_driver() -> PathBuf {
    let from_path = Command::new("sh").args(["-c", "command -v tauri-driver"]).output().unwrap();
    if from_path.status.success() {
        return String::from_utf8(from_path.stdout).unwrap().trim().into();
    }
    let home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap()));
    let bin = PathBuf::from(home).join("bin/tauri-driver");
    assert!(bin.exists(), "tauri-driver is missing: cargo install tauri-driver --version ^2 --locked");
    bin
}

pub struct Driver {
    child: Child,
    port: u16,
    /// The app's private home (its data, config and cache folders, its database, its log).
    pub home: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // tauri-driver leads its own process group: end WebKitWebDriver and the app with it
        let group = self.child.id();
        let members =
            Command::new("pgrep").args(["-g", &group.to_string()]).output().map(|o| o.stdout).unwrap_or_default();
        for pid in String::from_utf8_lossy(&members).split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
            if pid > 1 && pid != std::process::id() {
                let _ = Command::new("kill").args(["-s", "KILL", &pid.to_string()]).status();
            }
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.home.path().join("driver.log")).unwrap_or_default();
            eprintln!("--- tauri-driver, WebKitWebDriver and app output ---\n{log}");
        }
    }
}

pub fn start_driver(server_url: &str) -> Driver {
    let home = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(home.path().join("driver.log")).unwrap();
    let port = free_port();
    let native_port = free_port();
    let child = Command::new(tauri_driver())
        .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("GOCUA_DEVICE_DB", home.path().join("device.sqlite"))
        .env("GOCUA_BUNDLE_DIR", home.path().join("bundles"))
        .env("GOCUA_SERVER_URL", server_url)
        .env("GOCUA_SYNC_INTERVAL_SECS", "2")
        .env("GOCUA_SYNC_MAX_BACKOFF_SECS", "2")
        .env_remove("GOCUA_ENROLL_CODE")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .process_group(0)
        .spawn()
        .expect("start tauri-driver");
    let deadline = Instant::now() + Duration::from_secs(30);
    for p in [port, native_port] {
        while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver / WebKitWebDriver never listened on {p}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Driver { child, port, home }
}

pub async fn connect(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert("tauri:options".into(), serde_json::json!({ "application": app_bin() }));
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session with the app")
}

pub async fn until<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
}

pub async fn click(c: &Client, selector: &str) {
    let el = css(c, selector).await;
    let arg = serde_json::to_value(&el).unwrap();
    c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await.unwrap();
    el.click().await.unwrap_or_else(|e| panic!("tap {selector}: {e}"));
}

pub async fn type_into(c: &Client, selector: &str, text: &str) {
    let el = css(c, selector).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

pub async fn shot(c: &Client, name: &str) {
    eprintln!("[window test] screen {name}");
    c.execute_async(
        "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
        vec![],
    )
    .await
    .expect("frames painted");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let dir = workspace().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

pub async fn text(c: &Client, selector: &str) -> String {
    match c.find(Locator::Css(selector)).await {
        Ok(el) => el.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub async fn listed(c: &Client) -> usize {
    match c.find(Locator::Css("#household-list")).await {
        Ok(list) => list.attr("data-rows").await.ok().flatten().and_then(|n| n.parse().ok()).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Elements wider than the window (a layout that breaks at this width).
pub async fn overflowing(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            "const w = document.documentElement.clientWidth; const out = [];
             for (const el of document.querySelectorAll('body *')) {
               if (el.closest('.table-wrap') && !el.classList.contains('table-wrap')) continue;
               const r = el.getBoundingClientRect();
               if (r.width > 0 && (r.right > w + 1 || r.left < -1)) out.push(el.tagName + '#' + el.id + '.' + el.className);
             }
             return out;",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// Picks `path` in the file input as a person would; if this WebDriver cannot fill a file input,
/// hands the same bytes to it through a `DataTransfer` (the change event is the same).
pub async fn pick_file(c: &Client, path: &std::path::Path, bytes: &[u8]) {
    let input = css(c, "#import-file").await;
    if input.send_keys(&path.display().to_string()).await.is_ok() {
        let picked = c.execute("return document.querySelector('#import-file')?.files?.length ?? 0;", vec![]).await;
        if picked.ok().and_then(|v| v.as_u64()).unwrap_or(0) > 0 {
            eprintln!("[window test] file picked through the input");
            return;
        }
    }
    eprintln!("[window test] file handed to the input through a DataTransfer");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let bytes: Vec<u32> = bytes.iter().map(|b| u32::from(*b)).collect();
    c.execute(
        "const [name, bytes] = arguments; const input = document.querySelector('#import-file');
         const dt = new DataTransfer(); dt.items.add(new File([new Uint8Array(bytes)], name));
         input.files = dt.files; input.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![serde_json::json!(name), serde_json::json!(bytes)],
    )
    .await
    .expect("file handed to the input");
}

/// A screenshot in Vietnamese and one in English (`{name}-vi`, `{name}-en`), each checked for
/// elements wider than the window; back to Vietnamese after.
pub async fn both_languages(c: &Client, name: &str) {
    for lang in ["vi", "en"] {
        let current = c.execute("return document.querySelector('.app').lang", vec![]).await.unwrap();
        if current.as_str() != Some(lang) {
            click(c, "#lang-toggle").await;
            until("the language switches", 5, || async {
                c.execute("return document.querySelector('.app').lang", vec![]).await.unwrap().as_str() == Some(lang)
            })
            .await;
        }
        shot(c, &format!("{name}-{lang}")).await;
        let over = overflowing(c).await;
        assert!(over.is_empty(), "{name} ({lang}): {over:?}");
    }
    click(c, "#lang-toggle").await;
    until("back to Vietnamese", 5, || async {
        c.execute("return document.querySelector('.app').lang", vec![]).await.unwrap().as_str() == Some("vi")
    })
    .await;
}

/// Enrolls the app against `server` with a one-time `code`, setting the lock's [`PIN`], and
/// waits for the home screen.
pub async fn enroll(c: &Client, server: &TestServer, code: &str, device_name: &str) {
    css(c, "#enroll-code").await;
    type_into(c, "#server-url", &server.url).await;
    type_into(c, "#enroll-code", code).await;
    type_into(c, "#device-name", device_name).await;
    type_into(c, "#enroll-pin", PIN).await;
    type_into(c, "#enroll-pin-confirm", PIN).await;
    click(c, "#enroll-submit").await;
    css(c, "#search").await;
}
