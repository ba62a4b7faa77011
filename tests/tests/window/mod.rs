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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub fn app_bin() -> PathBuf {
    let bin = gocua_e2e::server_bin().with_file_name("gocua-app");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p gocua-app` (scripts/test.sh does)",
        bin.display()
    );
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
        // tauri-driver leads its own process group: end WebKitWebDriver and the app with it, so
        // nothing outlives the test holding its output pipe open.
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

/// Starts tauri-driver with a private data home for the app, and the sync timings short.
pub fn start_driver(server_url: &str) -> Driver {
    start_driver_with(server_url, &[])
}

/// [`start_driver`] with more variables for the app.
pub fn start_driver_with(server_url: &str, env: &[(&str, &str)]) -> Driver {
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
        .envs(env.iter().copied())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .process_group(0)
        .spawn()
        .expect("start tauri-driver");
    let deadline = Instant::now() + Duration::from_secs(30);
    // both tauri-driver and the WebKitWebDriver it starts must listen before a session opens
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
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
}

/// Scrolls the element to the middle of the screen (clear of the sticky bars), then taps it.
/// An element found while the screen it was on was being replaced goes stale: it is found
/// again and tapped again, three tries in all.
pub async fn click(c: &Client, selector: &str) {
    let mut tries = 0;
    loop {
        let el = css(c, selector).await;
        let arg = serde_json::to_value(&el).unwrap();
        let tapped = match c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await {
            Ok(_) => el.click().await.map(|_| ()),
            Err(e) => Err(e),
        };
        tries += 1;
        match tapped {
            Ok(()) => return,
            Err(e) if tries >= 3 => {
                shot(c, "failed-click").await;
                panic!("tap {selector} ({tries} tries): {e}");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

pub async fn type_into(c: &Client, selector: &str, text: &str) {
    let el = css(c, selector).await;
    let arg = serde_json::to_value(&el).unwrap();
    c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await.unwrap();
    el.clear().await.unwrap();
    if text.is_empty() {
        // WebDriver sends no keys for "": say the box changed as a person emptying it would
        let arg = serde_json::to_value(&el).unwrap();
        c.execute("arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", vec![arg]).await.unwrap();
    } else {
        el.send_keys(text).await.unwrap();
    }
}

pub async fn select(c: &Client, selector: &str, value: &str) {
    let el = css(c, selector).await;
    let arg = serde_json::to_value(&el).unwrap();
    c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await.unwrap();
    el.select_by_value(value).await.unwrap_or_else(|e| panic!("{selector} = {value}: {e}"));
}

pub async fn shot(c: &Client, name: &str) {
    eprintln!("[window test] screen {name}");
    // WebKit captures the last painted frame: let two frames paint first
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

/// The text of an element, or "" while it is missing or being re-rendered (for `until`).
pub async fn text(c: &Client, selector: &str) -> String {
    match c.find(Locator::Css(selector)).await {
        Ok(el) => el.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub async fn count(c: &Client, selector: &str) -> usize {
    c.find_all(Locator::Css(selector)).await.map(|v| v.len()).unwrap_or(0)
}

/// Households in the home list, drawn or not (the list draws only the rows near the screen).
pub async fn listed(c: &Client) -> usize {
    match c.find(Locator::Css("#household-list")).await {
        Ok(list) => list.attr("data-rows").await.ok().flatten().and_then(|n| n.parse().ok()).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Enrolls through the enroll screen with a one-time code.
pub async fn enroll_on_screen(c: &Client, server: &TestServer, code: &str, device_name: &str) {
    css(c, "#enroll-code").await;
    type_into(c, "#server-url", &server.url).await;
    type_into(c, "#enroll-code", code).await;
    type_into(c, "#device-name", device_name).await;
    type_into(c, "#enroll-pin", PIN).await;
    type_into(c, "#enroll-pin-confirm", PIN).await;
    click(c, "#enroll-submit").await;
}

/// The app lock's PIN every window test enrolls with.
pub const PIN: &str = "246810";

/// What is wider than it may be on the current screen: the page wider than the window, or an
/// element whose content is cut off (text clipped by `overflow`, an ellipsis).
pub async fn overflowing(c: &Client) -> Vec<String> {
    let js = "const out = [];
        if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page ' + document.documentElement.scrollWidth);
        for (const el of document.querySelectorAll('body *')) {
          if (['SELECT', 'OPTION', 'INPUT', 'TEXTAREA', 'PROGRESS'].includes(el.tagName)) continue;
          if (el.closest('.visually-hidden')) continue; // for screen readers, clipped on purpose
          if (el.classList.contains('table-wrap')) continue; // a wide table scrolls in its box
          const style = getComputedStyle(el);
          const clips = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis';
          if (clips && el.scrollWidth > el.clientWidth + 1) out.push((el.id ? '#' + el.id : el.className || el.tagName) + ': ' + el.textContent.trim().slice(0, 40));
        }
        return out;";
    let value = c.execute(js, vec![]).await.unwrap();
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

/// A screenshot in Vietnamese and one in English, each checked for overflow and clipped text.
pub async fn both_languages(c: &Client, name: &str) {
    for lang in ["vi", "en"] {
        let current = c.execute("return document.documentElement.querySelector('.app').lang", vec![]).await.unwrap();
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
    click(c, "#lang-toggle").await; // back to Vietnamese
}

/// Picks `path` in the file input as a person would; if this WebDriver cannot fill a file input,
/// hands the same bytes to it through a `DataTransfer` (the change event is the same).
pub async fn pick_file(c: &Client, path: &std::path::Path, bytes: &[u8]) {
    let input = css(c, "#import-file").await;
    if input.send_keys(&path.display().to_string()).await.is_ok() {
        // a small file is read at once and the screen moves on, taking the input away with it
        let picked = c
            .execute(
                "const input = document.querySelector('#import-file');
                 return !input || input.disabled || input.files.length > 0;",
                vec![],
            )
            .await;
        if picked.ok().and_then(|v| v.as_bool()).unwrap_or(false) {
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

/// Enrolls through the enroll screen (as [`enroll_on_screen`]) and waits for the home screen.
pub async fn enroll(c: &Client, server: &TestServer, code: &str, device_name: &str) {
    enroll_on_screen(c, server, code, device_name).await;
    css(c, "#search").await;
}
