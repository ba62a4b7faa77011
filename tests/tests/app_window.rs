//! The real app binary in a real window (tauri-driver + WebKitWebDriver under Xvfb) against the
//! real server process: enroll, search `nguyen` for `Nguyễn`, record a cannot-activate outcome,
//! sync; then the server goes down, another outcome is recorded, the server comes back and the
//! worker delivers it without a click. Screenshots of every screen land in `screenshots/`.
#![cfg(feature = "window-tests")]

mod window;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Client;
use gocua_core::event::{HouseholdCreated, Payload, ResidentAdded, ResidentFields};
use gocua_core::funnel::FunnelState;
use gocua_core::model::Sex;
use gocua_core::store::DeviceStore;
use gocua_core::store::cipher::DbKey;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};
use gocua_http_client::HttpTransport;
use uuid::Uuid;
use window::*;

/// Another volunteer's phone records two households and syncs them, so the app pulls them.
async fn seed_households(server: &TestServer) -> Uuid {
    let code = server.volunteer_code("Hà Thị Nga", "03445");
    let (device, transport) = enrolled_device(server, "seed-phone.sqlite", &code).await;
    let nguyen = Uuid::now_v7();
    {
        let mut store = device.lock().unwrap();
        for (id, head, address) in
            [(nguyen, "Nguyễn Văn An", "Số 12, Bản Nậm Củm"), (Uuid::now_v7(), "Lò Văn Phóng", "Đầu bản Phìn Khò")]
        {
            store
                .record(Payload::HouseholdCreated(HouseholdCreated {
                    household_id: id,
                    hamlet_code: "03445-01".into(),
                    address: address.into(),
                    head_name: head.into(),
                }))
                .unwrap();
            store
                .record(Payload::ResidentAdded(ResidentAdded {
                    resident_id: Uuid::now_v7(),
                    household_id: id,
                    fields: ResidentFields {
                        full_name: head.into(),
                        birth_year: 1975,
                        sex: Sex::Male,
                        cccd: Some("012075000321".into()),
                        phone: Some("0912345678".into()),
                    },
                }))
                .unwrap();
        }
    }
    sync_once(&device, &transport).await.expect("seed sync");
    nguyen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_records_and_syncs_in_the_real_window() {
    let mut server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let household_id = seed_households(&server).await;
    eprintln!("[window test] server and seed ready");
    let driver = start_driver(&server.url);
    eprintln!("[window test] tauri-driver up");
    let c = connect(&driver).await;
    eprintln!("[window test] session open");
    c.set_window_size(360, 740).await.expect("360 px wide window");

    // enroll
    css(&c, "#enroll-code").await;
    shot(&c, "01-enroll").await;
    type_into(&c, "#server-url", &server.url).await;
    type_into(&c, "#enroll-code", &code).await;
    type_into(&c, "#device-name", "Điện thoại của Lan").await;
    type_into(&c, "#enroll-pin", PIN).await;
    type_into(&c, "#enroll-pin-confirm", PIN).await;
    click(&c, "#enroll-submit").await;
    css(&c, "#search").await;
    until("the first sync pulls the seeded households", 30, || async { listed(&c).await == 2 }).await;
    shot(&c, "02-households").await;
    // the pulled CCCD and names are on the phone, but not readable from its files
    let db = driver.home.path().join("device.sqlite");
    assert_encrypted(&db, &["012075000321", "Nguyễn Văn An", "Lò Văn Phóng"]);

    // find Nguyễn by typing nguyen
    type_into(&c, "#search", "nguyen").await;
    until("search narrows to one household", 10, || async { listed(&c).await == 1 }).await;
    let item = css(&c, ".household-item").await;
    assert_eq!(item.attr("data-id").await.unwrap().as_deref(), Some(household_id.to_string().as_str()));
    assert!(item.text().await.unwrap().contains("Nguyễn Văn An"));
    shot(&c, "03-search-nguyen").await;
    item.click().await.unwrap();
    css(&c, "#household-title").await;
    shot(&c, "04-household").await;

    // record a cannot-activate outcome for the resident
    let resident = css(&c, ".resident-item").await;
    let resident_id: Uuid = resident.attr("data-id").await.unwrap().unwrap().parse().unwrap();
    resident.click().await.unwrap();
    css(&c, "#resident-name").await;
    select(&c, "#visit-status", FunnelState::ApprovedNotActivated.code()).await;
    select(&c, "#visit-reason", "needs_phone_update").await;
    type_into(&c, "#visit-note", "Số điện thoại cũ đã mất").await;
    shot(&c, "05-resident-visit-form").await;
    click(&c, "#visit-save").await;
    css(&c, "#visit-saved").await;
    click(&c, "#sync-now").await;
    until("the server has the outcome", 30, || async {
        server.projection().residents.get(&resident_id).and_then(|r| r.reason_code.clone()).as_deref()
            == Some("needs_phone_update")
    })
    .await;
    until("the sync bar shows nothing unsent", 15, || async {
        css(&c, "#sync-unsent").await.text().await.unwrap().contains('0')
    })
    .await;
    shot(&c, "06-synced").await;

    // the server goes away; the volunteer keeps working
    let applied_before = server.event_count("applied") + server.event_count("rejected");
    server.stop();
    select(&c, "#visit-status", FunnelState::ActivatedLevel1.code()).await;
    assert_eq!(count(&c, "#visit-reason").await, 0, "an activated outcome takes no reason");
    click(&c, "#visit-save").await;
    until("the app says it is offline", 20, || async {
        css(&c, "#sync-bar").await.attr("data-phase").await.unwrap().as_deref() == Some("offline")
    })
    .await;
    shot(&c, "07-offline").await;
    assert_eq!(server.projection().residents[&resident_id].status, Some(FunnelState::ApprovedNotActivated));

    // no signal for days: the volunteer exports a file for the commune office…
    click(&c, "#export-bundle").await;
    until("the app says where the file is", 15, || async {
        css(&c, "#export-result").await.text().await.unwrap().contains(".gocua")
    })
    .await;
    shot(&c, "07b-exported-bundle").await;
    let bundles: Vec<_> = std::fs::read_dir(driver.home.path().join("bundles")).unwrap().flatten().collect();
    assert_eq!(bundles.len(), 1, "one bundle file");
    // …which imports it on the office computer
    let import = server.import_bundle(&bundles[0].path(), "UBND xã Mường Tè");
    assert!(import.success && import.stdout.contains("1 applied"), "{import:?}");
    assert_eq!(server.projection().residents[&resident_id].status, Some(FunnelState::ActivatedLevel1));

    // the signal comes back: the worker syncs without a click, and the server already had it
    server.start_again().await;
    until("the outbox empties (acknowledged as already imported)", 30, || async {
        css(&c, "#sync-unsent").await.text().await.unwrap().contains('0')
    })
    .await;
    assert_eq!(server.event_count("applied") + server.event_count("rejected"), applied_before + 1);

    // the other screens, at 360 px: new household, new resident with a field error
    click(&c, "#back").await;
    click(&c, "#back").await;
    click(&c, "#add-household").await;
    css(&c, "#hh-head").await;
    shot(&c, "08-new-household").await;
    select(&c, "#hh-hamlet", "03445-02").await;
    type_into(&c, "#hh-address", "Cạnh trường tiểu học").await;
    type_into(&c, "#hh-head", "Đỗ Thị Hoa").await;
    click(&c, "#hh-save").await;
    click(&c, "#add-resident").await;
    type_into(&c, "#res-name", "Đỗ Thị Hoa").await;
    type_into(&c, "#res-birth-year", "1990").await;
    select(&c, "#res-sex", "female").await;
    type_into(&c, "#res-cccd", "012189000123").await;
    click(&c, "#res-save").await;
    let error = css(&c, ".field-error[data-field='cccd']").await;
    assert!(error.text().await.unwrap().contains("1989"), "the CCCD/birth-year mismatch is explained");
    shot(&c, "09-new-resident-error").await;
    c.close().await.unwrap();
}

/// The device database's files (main, WAL) hold none of `secrets`, and the plain `sqlite3`
/// shell cannot read the database.
fn assert_encrypted(db: &std::path::Path, secrets: &[&str]) {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        bytes.extend(std::fs::read(PathBuf::from(name)).unwrap_or_default());
    }
    assert!(bytes.len() > 4096, "the app wrote its database at {}", db.display());
    for secret in secrets {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret:?} is readable in the file");
    }
    let out = Command::new("sqlite3").arg(db).arg("SELECT count(*) FROM residents;").output().expect("sqlite3 shell");
    assert!(!out.status.success(), "sqlite3 read the device database: {}", String::from_utf8_lossy(&out.stdout));
}

/// The app at a phone's 360 px width, with its own data folder, pointed at `server`.
async fn phone_window(server: &TestServer) -> (Driver, Client) {
    let driver = start_driver(&server.url);
    let c = connect(&driver).await;
    c.set_window_size(360, 740).await.expect("360 px wide window");
    (driver, c)
}

/// Adds a household with one resident through the screens and opens the resident.
async fn household_with_resident(c: &Client, head: &str, cccd: &str) {
    click(c, "#add-household").await;
    select(c, "#hh-hamlet", "03445-01").await;
    type_into(c, "#hh-address", "Bản Nậm Củm").await;
    type_into(c, "#hh-head", head).await;
    click(c, "#hh-save").await;
    click(c, "#add-resident").await;
    type_into(c, "#res-name", head).await;
    type_into(c, "#res-birth-year", "1985").await;
    select(c, "#res-sex", "male").await;
    type_into(c, "#res-cccd", cccd).await;
    click(c, "#res-save").await;
    click(c, ".resident-item").await;
    css(c, "#resident-name").await;
}

/// Records an outcome on the open resident screen; `follow_up` is set as the date picker would.
async fn record_outcome(c: &Client, status: FunnelState, reason: Option<&str>, follow_up: Option<&str>) {
    select(c, "#visit-status", status.code()).await;
    if let Some(reason) = reason {
        select(c, "#visit-reason", reason).await;
    }
    if let Some(date) = follow_up {
        let input = serde_json::to_value(css(c, "#visit-follow-up").await).unwrap();
        c.execute(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            vec![input, serde_json::json!(date)],
        )
        .await
        .unwrap();
    }
    click(c, "#visit-save").await;
    css(c, "#visit-saved").await;
}

async fn home(c: &Client) {
    while count(c, "#back").await > 0 {
        click(c, "#back").await;
    }
    css(c, "#today").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_s_whole_day() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (_driver, c) = phone_window(&server).await;
    enroll_on_screen(&c, &server, &code, "Điện thoại của Lan").await;

    // the morning: the team leader said three activations today
    css(&c, "#today").await;
    click(&c, "#quota-edit").await;
    type_into(&c, "#quota-input", "3").await;
    click(&c, "#quota-save").await;
    until("the quota shows", 10, || async { text(&c, "#today-activated").await.contains("0/3") }).await;
    shot(&c, "30-today-morning").await;
    let today: String = c
        .execute("const d = new Date(); return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();

    // three households: one activated, one absent (come back today), one cannot activate
    household_with_resident(&c, "Vàng A Páo", "012085000101").await;
    // the guidance checklist, in the order it is taught: the outcome follows the ticks
    for step in ["install_app", "register_level1", "face_check", "activate_sms"] {
        click(&c, &format!("#step-{step}")).await;
    }
    let derived = css(&c, "#visit-status").await.prop("value").await.unwrap();
    assert_eq!(derived.as_deref(), Some(FunnelState::ActivatedLevel1.code()), "not typed twice");
    shot(&c, "30b-checklist").await;
    click(&c, "#visit-save").await;
    css(&c, "#visit-saved").await;
    home(&c).await;
    household_with_resident(&c, "Lầu Thị Mỷ", "012085000202").await;
    record_outcome(&c, FunnelState::NotRegistered, Some("absent_unreachable"), Some(&today)).await;
    home(&c).await;
    household_with_resident(&c, "Thào A Dơ", "012085000303").await;
    record_outcome(&c, FunnelState::ApprovedNotActivated, Some("no_smartphone"), None).await;
    home(&c).await;
    until("one of three activated, only activations count", 10, || async {
        text(&c, "#today-activated").await.contains("1/3")
    })
    .await;
    assert!(text(&c, "#today-visited").await.contains('3'));
    assert_eq!(count(&c, ".follow-up-item").await, 1, "the absent person is due back today");
    assert!(text(&c, ".follow-up-item").await.contains("Lầu Thị Mỷ"));
    shot(&c, "31-today-follow-up-due").await;
    click(&c, "#lang-toggle").await;
    until("English", 5, || async { text(&c, "#today-title").await == "Today" }).await;
    shot(&c, "31-today-follow-up-due-en").await;
    click(&c, "#lang-toggle").await;

    // filters: done = settled households (activated, or classified with no return planned)
    select(&c, "#status-filter", "done").await;
    until("two households are done", 10, || async { listed(&c).await == 2 }).await;
    select(&c, "#status-filter", "follow_up_due").await;
    until("one household is due", 10, || async { listed(&c).await == 1 }).await;
    select(&c, "#status-filter", "").await;

    // the afternoon: back at the absent person's house, the account gets activated
    css(&c, ".follow-up-item").await;
    click(&c, ".follow-up-item").await;
    css(&c, "#resident-name").await;
    record_outcome(&c, FunnelState::ActivatedLevel1, None, None).await;
    home(&c).await;
    until("two of three, nobody left to revisit", 10, || async {
        text(&c, "#today-activated").await.contains("2/3") && count(&c, ".follow-up-item").await == 0
    })
    .await;
    click(&c, "#sync-now").await;
    until("the server has the day", 30, || async { server.projection().visits.len() == 4 }).await;
    let state = server.projection();
    let activated = state.residents.values().filter(|r| r.status.is_some_and(FunnelState::is_activated)).count();
    assert_eq!((state.households.len(), activated), (3, 2));
    let steps: Vec<_> = state.visits.values().filter(|v| !v.steps.is_empty()).map(|v| v.steps.len()).collect();
    assert_eq!(steps, [4], "the four ticked steps reached the server");
    shot(&c, "32-today-evening").await;

    // a return visit planned for tomorrow is not due today, and comes back due tomorrow
    let tomorrow: String = c
        .execute(
            "const d = new Date(Date.now() + 86400000); return d.getFullYear() + '-' + \
             String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    type_into(&c, "#search", "Thào A Dơ").await;
    until("the household is found", 10, || async { listed(&c).await == 1 }).await;
    click(&c, ".household-item").await;
    click(&c, ".resident-item").await;
    css(&c, "#resident-name").await;
    record_outcome(&c, FunnelState::ApprovedNotActivated, Some("absent_unreachable"), Some(&tomorrow)).await;
    while count(&c, "#back").await > 0 {
        click(&c, "#back").await;
    }
    type_into(&c, "#search", "").await;
    until("nobody is due today", 10, || async { text(&c, "#today").await.contains("Cần quay lại (0)") }).await;
    // the phone's calendar turns over (its clock moves a day on), and the app opens again
    c.execute(
        "const Real = Date, shift = 86400000;
         window.Date = class extends Real {
           constructor(...a) { if (a.length) super(...a); else super(Real.now() + shift); }
           static now() { return Real.now() + shift; }
         };",
        vec![],
    )
    .await
    .unwrap();
    click(&c, ".household-item").await;
    home(&c).await;
    until("the return visit is due now", 10, || async {
        count(&c, ".follow-up-item").await == 1 && text(&c, ".follow-up-item").await.contains("Thào A Dơ")
    })
    .await;
    shot(&c, "33-follow-up-due-next-day").await;
    c.close().await.unwrap();
}

/// A volunteer's phone (no window) records `activated` activations out of `people` today and
/// syncs them.
async fn volunteer_day(server: &TestServer, name: &str, file: &str, people: usize, activated: usize) {
    let code = server.volunteer_code(name, "03445");
    let (device, transport) = enrolled_device(server, file, &code).await;
    {
        let mut store = device.lock().unwrap();
        let household_id = store.new_record_id().unwrap();
        store
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id,
                hamlet_code: "03445-01".into(),
                address: format!("Nhà của {name}"),
                head_name: name.into(),
            }))
            .unwrap();
        for i in 0..people {
            let resident_id = store.new_record_id().unwrap();
            let fields = ResidentFields {
                full_name: format!("{name} {i}"),
                birth_year: 1990,
                sex: Sex::Female,
                cccd: None,
                phone: None,
            };
            store.record(Payload::ResidentAdded(ResidentAdded { resident_id, household_id, fields })).unwrap();
            let status = if i < activated { FunnelState::ActivatedLevel1 } else { FunnelState::NoChipCccd };
            let visit = gocua_core::event::VisitRecorded {
                steps: Vec::new(),
                visit_id: store.new_record_id().unwrap(),
                resident_id,
                status,
                reason_code: None,
                action: None,
                follow_up: None,
                note: None,
                position: None,
            };
            store.record(Payload::VisitRecorded(visit)).unwrap();
        }
    }
    sync_once(&device, &transport).await.expect("volunteer syncs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_leader_sees_who_is_behind() {
    let server = TestServer::start().await;
    server.add_places();
    volunteer_day(&server, "Lò Thị Lan", "lan.sqlite", 3, 2).await;
    volunteer_day(&server, "Mùa A Mỏ", "mo.sqlite", 2, 0).await;
    let code = server.code_for("Hà Văn Tổ", "team-leader", "03445");
    let (_driver, c) = phone_window(&server).await;
    enroll_on_screen(&c, &server, &code, "Máy tổ trưởng").await;
    css(&c, "#today").await;
    click(&c, "#quota-edit").await;
    type_into(&c, "#quota-input", "2").await;
    click(&c, "#quota-save").await;
    until("the first sync pulls the team's work", 30, || async { listed(&c).await == 2 }).await;
    click(&c, "#open-team").await;
    css(&c, "#team-title").await;
    until("the team's activations", 10, || async { text(&c, "#team-activated").await.contains("2 hôm nay") }).await;
    let behind = text(&c, "#team-behind").await;
    assert!(behind.contains("Mùa A Mỏ") && behind.contains("0/2"), "{behind}");
    assert!(!behind.contains("Lò Thị Lan"), "{behind}");
    let on_track = text(&c, "#team-on-track").await;
    assert!(on_track.contains("Lò Thị Lan") && on_track.contains("2/2"), "{on_track}");
    shot(&c, "40-team").await;
    click(&c, "#lang-toggle").await;
    until("English", 5, || async { text(&c, "#team-title").await == "Team progress" }).await;
    shot(&c, "40-team-en").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_fits_360_px_in_both_languages() {
    let server = TestServer::start().await;
    let (_driver, c) = phone_window(&server).await;
    css(&c, "#enroll-code").await;
    both_languages(&c, "50-enroll").await;
    click(&c, "#privacy-open").await;
    css(&c, "#privacy-notice").await;
    both_languages(&c, "58-privacy-notice").await;
    click(&c, "#back").await;
    css(&c, "#enroll-code").await;
    click(&c, "#sandbox-enter").await;
    until("the sample commune", 20, || async { listed(&c).await > 10 }).await;
    both_languages(&c, "51-home-today").await;
    click(&c, "#open-team").await;
    css(&c, "#team-title").await;
    both_languages(&c, "52-team").await;
    click(&c, "#back").await;
    select(&c, "#status-filter", "follow_up_due").await;
    until("the due households", 10, || async { listed(&c).await > 0 }).await;
    both_languages(&c, "53-home-filtered").await;
    click(&c, ".household-item").await;
    css(&c, "#household-title").await;
    both_languages(&c, "54-household").await;
    click(&c, ".resident-item").await;
    css(&c, "#resident-name").await;
    both_languages(&c, "55-resident").await;
    let (name, born) = (text(&c, "#resident-name").await, text(&c, ".screen-head .sub").await);
    let year: String = born.chars().filter(char::is_ascii_digit).take(4).collect();
    click(&c, "#back").await;
    click(&c, "#add-resident").await;
    css(&c, "#res-name").await;
    click(&c, "#res-save").await;
    css(&c, ".field-error").await;
    both_languages(&c, "56-new-resident-errors").await;
    // the same name and birth year in the hamlet: warned before saving, nothing saved yet
    type_into(&c, "#res-name", &name).await;
    type_into(&c, "#res-birth-year", &year).await;
    click(&c, "#res-save").await;
    css(&c, "#duplicate-warning").await;
    assert!(text(&c, "#duplicate-warning").await.contains(&name), "{}", text(&c, "#duplicate-warning").await);
    both_languages(&c, "59-new-resident-duplicate").await;
    click(&c, "#back").await;
    click(&c, "#back").await;
    select(&c, "#status-filter", "").await;
    click(&c, "#add-household").await;
    css(&c, "#hh-head").await;
    both_languages(&c, "57-new-household").await;
    c.close().await.unwrap();
}

/// Another phone records `n` households in hamlet 03445-01 and syncs them.
async fn seed_many_households(server: &TestServer, n: usize) -> (std::sync::Mutex<DeviceStore>, HttpTransport) {
    let code = server.volunteer_code("Hà Thị Nga", "03445");
    let (device, transport) = enrolled_device(server, "many-phone.sqlite", &code).await;
    {
        let mut store = device.lock().unwrap();
        for i in 0..n {
            let id = store.new_record_id().unwrap();
            store
                .record(Payload::HouseholdCreated(HouseholdCreated {
                    household_id: id,
                    hamlet_code: "03445-01".into(),
                    address: format!("Số {i:05}, Bản Nậm Củm"),
                    head_name: format!("Chủ hộ {i:05}"),
                }))
                .unwrap();
        }
    }
    sync_once(&device, &transport).await.expect("seed sync");
    (device, transport)
}

/// Rows drawn, the list's length, and the first and last drawn positions (1-based).
async fn drawn_rows(c: &Client) -> (usize, usize, usize, usize) {
    let v = c
        .execute(
            "const rows = document.querySelectorAll('#household-list li');
             const list = document.querySelector('#household-list');
             return [rows.length, Number(list ? list.dataset.rows : 0),
                     Number(rows.length ? rows[0].getAttribute('aria-posinset') : 0),
                     Number(rows.length ? rows[rows.length - 1].getAttribute('aria-posinset') : 0)];",
            vec![],
        )
        .await
        .unwrap();
    let n = |i: usize| v[i].as_u64().unwrap() as usize;
    (n(0), n(1), n(2), n(3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_draws_only_the_rows_on_screen() {
    const HOUSEHOLDS: usize = 1_500;
    let server = TestServer::start().await;
    server.add_places();
    let (seed, seed_link) = seed_many_households(&server, HOUSEHOLDS).await;
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (_driver, c) = phone_window(&server).await;
    enroll_on_screen(&c, &server, &code, "Điện thoại của Lan").await;
    until("the first page of households", 60, || async { drawn_rows(&c).await.1 == 100 }).await;
    let (drawn, _, first, _) = drawn_rows(&c).await;
    assert_eq!(first, 1);
    assert!(drawn < 30, "a 740 px screen draws a screenful and a margin, not 100 rows: {drawn}");
    // scrolling to the end brings the next pages, and the screen still holds only a window of rows
    let mut most_drawn = drawn;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        c.execute("window.scrollTo(0, document.body.scrollHeight);", vec![]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (drawn, rows, _, _) = drawn_rows(&c).await;
        most_drawn = most_drawn.max(drawn);
        if rows == HOUSEHOLDS && count(&c, "#load-more").await == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "every page loaded by scrolling: {rows} rows so far");
    }
    assert!(most_drawn < 40, "never more than a window of rows in the page: {most_drawn}");
    until("the last household drawn at the bottom", 10, || async {
        c.execute("window.scrollTo(0, document.body.scrollHeight);", vec![]).await.unwrap();
        drawn_rows(&c).await.3 == HOUSEHOLDS
    })
    .await;
    assert!(text(&c, "#household-list li:last-child .item-title").await.contains("Chủ hộ 01499"));
    shot(&c, "60-long-list-bottom").await;
    // a sync bringing one more household reloads the list: every page stays, and the place on screen
    {
        let mut store = seed.lock().unwrap();
        let id = store.new_record_id().unwrap();
        store
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id: id,
                hamlet_code: "03445-01".into(),
                address: "Số 01500, Bản Nậm Củm".into(),
                head_name: "Chủ hộ 01500".into(),
            }))
            .unwrap();
    }
    sync_once(&seed, &seed_link).await.expect("one more household");
    c.execute("document.querySelector('#sync-now').click();", vec![]).await.unwrap();
    until("the new household listed", 30, || async { drawn_rows(&c).await.1 == HOUSEHOLDS + 1 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, _, first, _) = drawn_rows(&c).await;
    assert!(first > HOUSEHOLDS - 40, "the screen stayed at the list's end, showing row {first} on");
    // and back at the top, the first household is there again
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    until("the first household drawn at the top", 10, || async { drawn_rows(&c).await.2 == 1 }).await;
    assert!(text(&c, "#household-list li:first-child .item-title").await.contains("Chủ hộ 00000"));
    // the search goes through the index, not the drawn rows
    type_into(&c, "#search", "chu ho 01234").await;
    until("the one match", 10, || async { drawn_rows(&c).await.1 == 1 }).await;
    assert!(text(&c, ".household-item .item-title").await.contains("Chủ hộ 01234"));
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_input_survives_the_app_going_to_the_background_and_being_ended() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (_driver, c) = phone_window(&server).await;
    enroll_on_screen(&c, &server, &code, "Điện thoại của Lan").await;
    click(&c, "#add-household").await;
    select(&c, "#hh-hamlet", "03445-02").await;
    type_into(&c, "#hh-address", "Cạnh cầu treo").await;
    type_into(&c, "#hh-head", "Giàng A Sính").await;
    // the phone puts the app in the background…
    c.execute(
        "Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
         document.dispatchEvent(new Event('visibilitychange'));",
        vec![],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // …and ends it: the page and all its memory are gone
    c.refresh().await.unwrap();
    click(&c, "#add-household").await;
    until("the draft comes back", 10, || async {
        css(&c, "#hh-head").await.prop("value").await.unwrap().as_deref() == Some("Giàng A Sính")
    })
    .await;
    assert_eq!(css(&c, "#hh-address").await.prop("value").await.unwrap().as_deref(), Some("Cạnh cầu treo"));
    assert_eq!(css(&c, "#hh-hamlet").await.prop("value").await.unwrap().as_deref(), Some("03445-02"));
    shot(&c, "60-draft-restored").await;
    click(&c, "#hh-save").await;
    css(&c, "#household-title").await;
    click(&c, "#back").await;
    click(&c, "#add-household").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(css(&c, "#hh-head").await.prop("value").await.unwrap().as_deref(), Some(""), "saved: the draft is gone");
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trainer_s_sandbox_never_reaches_the_server() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (_driver, c) = phone_window(&server).await;

    // a trainer demonstrates on a phone that is enrolled for real and online
    enroll_on_screen(&c, &server, &code, "Máy tập huấn").await;
    css(&c, "#search").await;
    click(&c, "#sandbox-enter").await;
    css(&c, "#sandbox-banner").await;
    until("the sample commune is listed", 20, || async { listed(&c).await > 10 }).await;
    assert!(text(&c, "#scope-name").await.contains("Xã Sìn Hồ"));
    shot(&c, "20-sandbox-home").await;
    select(&c, "#status-filter", "follow_up_due").await;
    until("some follow-ups are due in the sample", 10, || async {
        let n = listed(&c).await;
        n > 0 && n < 40
    })
    .await;

    // a trainee records an outcome and presses "Đồng bộ ngay"
    click(&c, ".household-item").await;
    click(&c, ".resident-item").await;
    css(&c, "#resident-name").await;
    select(&c, "#visit-status", FunnelState::ActivatedLevel1.code()).await;
    click(&c, "#visit-save").await;
    css(&c, "#visit-saved").await;
    click(&c, "#sync-now").await;
    until("the sync bar says training data never syncs", 20, || async {
        css(&c, "#sync-bar").await.attr("data-phase").await.unwrap().as_deref() == Some("sandbox")
    })
    .await;
    assert!(text(&c, "#sync-message").await.contains("không bao giờ"));
    assert!(text(&c, "#sync-unsent").await.contains('1'), "the trainee's record waits, unsent");
    shot(&c, "21-sandbox-sync-refused").await;
    click(&c, "#lang-toggle").await;
    until("English", 5, || async { text(&c, "#sync-message").await.contains("never syncs") }).await;
    shot(&c, "21-sandbox-sync-refused-en").await;
    click(&c, "#lang-toggle").await;
    // give the worker a few more rounds (every 2 s here) to misbehave
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(server.event_count("applied") + server.event_count("rejected"), 0, "the server received nothing");
    assert!(server.projection().households.is_empty());

    // every screen says it is training; one tap on the home screen starts the sample over
    let tag = css(&c, "#sandbox-tag").await.prop("textContent").await.unwrap().unwrap_or_default();
    assert!(tag.contains("Tập huấn"), "{tag:?}");
    click(&c, "#back").await;
    click(&c, "#back").await;
    click(&c, "#sandbox-reset").await;
    until("the reset sample has nothing unsent", 20, || async { text(&c, "#sync-unsent").await.contains('0') }).await;
    shot(&c, "22-sandbox-reset").await;
    // leaving returns to the real data, which does sync
    click(&c, "#sandbox-leave").await;
    until("back to the real volunteer", 10, || async { count(&c, "#sandbox-banner").await == 0 }).await;
    assert!(text(&c, "#scope-name").await.contains("Mường Tè"));
    click(&c, "#add-household").await;
    select(&c, "#hh-hamlet", "03445-01").await;
    type_into(&c, "#hh-address", "Số 3, Bản Nậm Củm").await;
    type_into(&c, "#hh-head", "Vàng A Dơ").await;
    click(&c, "#hh-save").await;
    click(&c, "#sync-now").await;
    until("the real household reaches the server", 30, || async { server.projection().households.len() == 1 }).await;
    assert_eq!(server.event_count("applied"), 1, "only the real record, nothing of the sandbox");
    c.close().await.unwrap();
}

#[test]
fn without_a_display_the_app_says_so_and_exits_non_zero() {
    let out = Command::new(app_bin())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("GOCUA_DEVICE_DB", std::env::temp_dir().join(format!("gocua-nodisplay-{}.sqlite", Uuid::now_v7())))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one clear line: {stderr}");
    assert!(stderr.contains("display"), "{stderr}");
}

#[test]
fn without_a_key_store_the_app_opens_no_data_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("device.sqlite");
    let out = Command::new(app_bin())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env("GOCUA_DEVICE_DB", &db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("kho khoá") && stderr.contains("key store"), "{stderr}");
    assert!(!db.exists(), "no database is made without a key to lock it");
}

/// The database key the app keeps for `db` in the Secret Service, as 64 hex digits.
fn stored_key(db: &std::path::Path) -> Option<String> {
    stored_secret(db, "device-db")
}

/// What the app keeps for `db` in the Secret Service under `kind` (`device-db`, `app-pin`,
/// `revocation-probe`).
fn stored_secret(db: &std::path::Path, kind: &str) -> Option<String> {
    use sha2::Digest;
    let name = format!("{kind}-{}", &hex::encode(sha2::Sha256::digest(db.to_string_lossy().as_bytes()))[..32]);
    let out = Command::new("secret-tool").args(["lookup", "service", "vn.gocua.app", "username", &name]).output();
    let out = out.expect("secret-tool (libsecret-tools)");
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !key.is_empty()).then_some(key)
}

/// Whether any process holds `db` (or its `-wal`, `-shm`) open.
fn held_open(db: &std::path::Path) -> bool {
    let prefix = db.to_string_lossy().into_owned();
    let Ok(procs) = std::fs::read_dir("/proc") else { return false };
    for proc_dir in procs.flatten() {
        let Ok(fds) = std::fs::read_dir(proc_dir.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|target| target.to_string_lossy().starts_with(&prefix)) {
                return true;
            }
        }
    }
    false
}

/// Calls a command from the page as the UI would; the error's `kind`, or "ok".
async fn invoke_kind(c: &Client, command: &str) -> String {
    let script = format!(
        "const done = arguments[arguments.length - 1]; \
         window.__TAURI_INTERNALS__.invoke('{command}', {{}}).then(() => done('ok'), (e) => done(String(e && e.kind)));"
    );
    c.execute_async(&script, vec![]).await.unwrap().as_str().unwrap_or_default().to_owned()
}

/// Types a PIN on the lock screen and taps "Mở khoá".
async fn unlock_with(c: &Client, pin: &str) {
    type_into(c, "#unlock-pin", pin).await;
    click(c, "#unlock-submit").await;
}

/// The PIN set at enrollment: asked at start and after idle, with the database closed while
/// locked; wrong tries bring a wait that a restart does not lift; a forgotten PIN erases the
/// phone so it can be enrolled again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pin_lock_closes_the_database_and_its_wait_survives_a_restart() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let driver = start_driver_with(&server.url, &[("GOCUA_IDLE_LOCK_SECONDS", "6")]);
    let c = connect(&driver).await;
    c.set_window_size(360, 740).await.expect("360 px wide window");
    let db = driver.home.path().join("device.sqlite");

    // two different PINs are refused before the one-time code is spent
    css(&c, "#enroll-code").await;
    type_into(&c, "#server-url", &server.url).await;
    type_into(&c, "#enroll-code", &code).await;
    type_into(&c, "#device-name", "Điện thoại của Lan").await;
    type_into(&c, "#enroll-pin", PIN).await;
    type_into(&c, "#enroll-pin-confirm", "246811").await;
    shot(&c, "70-enroll-pin").await;
    click(&c, "#enroll-submit").await;
    until("the PIN mismatch", 20, || async { text(&c, "#enroll-error").await.contains("không giống nhau") }).await;
    type_into(&c, "#enroll-pin-confirm", PIN).await;
    click(&c, "#enroll-submit").await;
    css(&c, "#user-name").await;
    assert!(stored_secret(&db, "app-pin").is_some_and(|r| r.contains("$argon2id$") && !r.contains(PIN)));
    until("the database open while unlocked", 20, || async { held_open(&db) }).await;

    // the lock button: the database closes and the page can read nothing
    click(&c, "#lock-now").await;
    css(&c, "#unlock-pin").await;
    shot(&c, "71-locked").await;
    until("the database closed when locked", 20, || async { !held_open(&db) }).await;
    assert_eq!(invoke_kind(&c, "list_hamlets").await, "locked");
    assert_eq!(count(&c, "#sync-bar").await, 0);
    unlock_with(&c, "000000").await;
    until("the wrong-PIN message", 20, || async { text(&c, "#unlock-error").await.contains("Còn 4 lần thử") }).await;
    unlock_with(&c, PIN).await;
    css(&c, "#user-name").await;
    assert_eq!(invoke_kind(&c, "list_hamlets").await, "ok");
    until("the database open again", 20, || async { held_open(&db) }).await;

    // left alone for the idle time, it locks by itself
    until("the idle lock", 30, || async { count(&c, "#unlock-pin").await == 1 }).await;
    until("the database closed after idle", 20, || async { !held_open(&db) }).await;
    c.close().await.unwrap();

    // a restart starts locked, without opening the database; five wrong tries bring a wait
    let c = connect(&driver).await;
    css(&c, "#unlock-pin").await;
    assert!(!held_open(&db), "the database stays closed until the PIN");
    for left in [4, 3, 2, 1] {
        unlock_with(&c, "111111").await;
        let said = format!("Còn {left} lần thử");
        until(&said, 20, || async { text(&c, "#unlock-error").await.contains(&said) }).await;
    }
    unlock_with(&c, "111111").await;
    until("the wait", 20, || async { text(&c, "#unlock-error").await.contains("Chờ 30 giây") }).await;
    shot(&c, "72-pin-wait").await;
    c.close().await.unwrap();

    // and another restart does not lift it: even the right PIN waits
    let c = connect(&driver).await;
    unlock_with(&c, PIN).await;
    until("the wait kept across the restart", 20, || async {
        text(&c, "#unlock-error").await.contains("chờ") && count(&c, "#unlock-error[data-kind=pin_wait]").await == 1
    })
    .await;
    assert!(!held_open(&db));

    // she cannot remember it: the phone is erased, after a second tap that says what is lost
    let old_key = stored_key(&db).expect("the key");
    click(&c, "#forgot-pin").await;
    assert!(text(&c, "#forgot-warning").await.contains("sẽ mất"));
    shot(&c, "73-forgot-pin").await;
    click(&c, "#forgot-confirm").await;
    css(&c, "#enroll-code").await;
    assert_eq!(stored_secret(&db, "app-pin"), None, "the PIN is gone");
    let new_key = stored_key(&db).expect("a new key for the new, empty database");
    assert_ne!(new_key, old_key);
    let store = DeviceStore::open_encrypted(&db, &DbKey::from_hex(&new_key).unwrap()).expect("the fresh database");
    assert!(store.enrollment().unwrap().is_none(), "nothing of the old enrollment");
    assert!(store.households(&Default::default()).unwrap().is_empty());
    drop(store);
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_wipes_its_data_and_key_at_next_contact() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (driver, c) = phone_window(&server).await;
    enroll_on_screen(&c, &server, &code, "Máy bị mất").await;
    household_with_resident(&c, "Vi Văn Sentinel", "001085012345").await;
    click(&c, "#sync-now").await;
    until("the household reaches the server", 30, || async { server.projection().households.len() == 1 }).await;
    let db = driver.home.path().join("device.sqlite");
    let old_key = stored_key(&db).expect("the app keeps its key in the Secret Service");
    assert_eq!(old_key.len(), 64);
    assert_encrypted(&db, &["001085012345", "Vi Văn Sentinel"]);

    // the phone is lost: the commune police revoke it
    let devices = server.admin(&["list-devices"]);
    let line = devices.lines().find(|l| l.contains("Máy bị mất")).expect("the device is listed");
    let device_id = line.split('\t').next().unwrap().to_owned();
    assert!(line.ends_with("active"), "{line}");
    let said = server.admin(&["revoke-device", "--device", &device_id]);
    assert!(said.contains("revoked"), "{said}");
    assert!(server.admin(&["list-devices"]).contains("revoked "));

    // its next contact: told it is revoked, it erases everything and is back at enrollment
    c.execute("document.querySelector('#sync-now')?.click();", vec![]).await.unwrap();
    until("the wiped notice", 30, || async { count(&c, "#wiped-notice").await == 1 }).await;
    assert!(text(&c, "#wiped-notice").await.contains("đã được xoá"));
    css(&c, "#enroll-code").await;
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    shot(&c, "61-revoked-wiped").await;
    let new_key = stored_key(&db).expect("a fresh key for the fresh, empty database");
    assert_ne!(new_key, old_key, "the old key is gone from the key store");
    assert_eq!(stored_secret(&db, "app-pin"), None, "the PIN went with the data");
    let store = DeviceStore::open_encrypted(&db, &DbKey::from_hex(&new_key).unwrap()).expect("the fresh database");
    assert!(store.enrollment().unwrap().is_none(), "no enrollment left");
    assert_eq!(store.unsent_count().unwrap(), 0);
    assert!(store.households(&Default::default()).unwrap().is_empty(), "no household left");
    drop(store);
    assert_encrypted(&db, &["001085012345", "Vi Văn Sentinel"]);
    c.close().await.unwrap();
}

/// A phone left locked keeps its database closed, yet learns it was revoked: the revocation
/// probe filed in the Secret Service at enrollment asks the server, which says "revoked", and
/// the phone erases its data, key, PIN and probe and shows the enrollment screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_phone_learns_it_was_revoked_and_wipes() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let driver = start_driver_with(&server.url, &[("GOCUA_REVOCATION_CHECK_SECS", "1")]);
    let c = connect(&driver).await;
    c.set_window_size(360, 740).await.expect("360 px wide window");
    enroll_on_screen(&c, &server, &code, "Máy để khoá").await;
    click(&c, "#add-household").await;
    select(&c, "#hh-hamlet", "03445-01").await;
    type_into(&c, "#hh-address", "Bản Nậm Củm").await;
    type_into(&c, "#hh-head", "Vi Văn Sentinel").await;
    click(&c, "#hh-save").await;
    css(&c, "#add-resident").await;
    click(&c, "#sync-now").await;
    until("the household reaches the server", 30, || async { server.projection().households.len() == 1 }).await;
    let db = driver.home.path().join("device.sqlite");
    let old_key = stored_key(&db).expect("the database key in the Secret Service");
    let probe = stored_secret(&db, "revocation-probe").expect("the probe filed beside the PIN");
    assert!(probe.contains(&server.url) && !probe.contains(PIN), "server, device and probe only");

    // "Đổi mã PIN" from Home's menu: a wrong current PIN counts as at the lock screen, then the
    // new record replaces the old in the key store
    let first_pin = stored_secret(&db, "app-pin").expect("the PIN record");
    home(&c).await;
    click(&c, "#changepin-open").await;
    type_into(&c, "#changepin-current", "000000").await;
    type_into(&c, "#changepin-pin", "135790").await;
    type_into(&c, "#changepin-pin-confirm", "135790").await;
    click(&c, "#changepin-submit").await;
    until("the wrong-PIN message", 20, || async { text(&c, "#changepin-error").await.contains("Còn 4 lần thử") }).await;
    shot(&c, "63-change-pin-wrong").await;
    type_into(&c, "#changepin-current", PIN).await;
    click(&c, "#changepin-submit").await;
    css(&c, "#changepin-done").await;
    shot(&c, "64-change-pin-done").await;
    let new_pin = stored_secret(&db, "app-pin").expect("the new PIN record");
    assert!(new_pin != first_pin && new_pin.contains("$argon2id$") && !new_pin.contains("135790"));
    click(&c, "#changepin-back").await;
    css(&c, "#today").await;

    // locked: the database is closed, and the page can read nothing
    click(&c, "#lock-now").await;
    css(&c, "#unlock-pin").await;
    until("the database closed when locked", 20, || async { !held_open(&db) }).await;
    assert_eq!(invoke_kind(&c, "list_hamlets").await, "locked");

    // the phone is lost while locked: the commune police revoke it
    let devices = server.admin(&["list-devices"]);
    let line = devices.lines().find(|l| l.contains("Máy để khoá")).expect("the device is listed");
    let device_id = line.split('\t').next().unwrap().to_owned();
    assert!(server.admin(&["revoke-device", "--device", &device_id]).contains("revoked"));

    // without its PIN or its database, it learns so and erases everything
    until("the wiped notice", 30, || async { count(&c, "#wiped-notice").await == 1 }).await;
    assert!(text(&c, "#wiped-notice").await.contains("đã được xoá"));
    css(&c, "#enroll-code").await;
    assert_eq!(count(&c, "#unlock-pin").await, 0);
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    shot(&c, "62-locked-revoked-wiped").await;
    let new_key = stored_key(&db).expect("a fresh key for the fresh, empty database");
    assert_ne!(new_key, old_key, "the old key is gone from the key store");
    assert_eq!(stored_secret(&db, "app-pin"), None, "the PIN went with the data");
    assert_eq!(stored_secret(&db, "revocation-probe"), None, "and so did the probe");
    let store = DeviceStore::open_encrypted(&db, &DbKey::from_hex(&new_key).unwrap()).expect("the fresh database");
    assert!(store.enrollment().unwrap().is_none(), "no enrollment left");
    assert!(store.households(&Default::default()).unwrap().is_empty(), "no household left");
    drop(store);
    assert_encrypted(&db, &["Vi Văn Sentinel"]);
    c.close().await.unwrap();
}

/// A visit the server rejects, at 360 px: while the phone is offline the volunteer records a
/// visit with a reason and no note, and the province makes that reason need one; back online the
/// sync bar says "Bị từ chối: 1", the screen of rejected records gives the server's reason, she
/// adds the note in the visit's own form, and the server applies it. (Online, the phone would
/// have learned the rule first and refused the visit itself.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_visit_is_corrected_on_its_own_screen_at_360_px() {
    let mut server = TestServer::start().await;
    server.add_places();
    let reason = |server: &TestServer, requires_note: bool| {
        let mut args = vec![
            "add-reason",
            "--code",
            "lc_nuong_xa",
            "--province",
            "12",
            "--label-vi",
            "Đi làm nương xa, ở lại lán",
            "--label-en",
            "Away at the hill fields",
            "--can-activate-later",
        ];
        if requires_note {
            args.push("--requires-note");
        }
        server.admin(&args);
    };
    reason(&server, false);
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    seed_households(&server).await;
    let driver = start_driver(&server.url);
    let c = connect(&driver).await;
    c.set_window_size(360, 740).await.expect("360 px wide window");
    enroll(&c, &server, &code, "Điện thoại của Lan").await;
    until("the first sync pulls the seeded households", 30, || async { listed(&c).await == 2 }).await;
    // no signal: the phone cannot learn of any change
    server.stop();

    click(&c, ".household-item").await;
    let resident = css(&c, ".resident-item").await;
    let resident_id: Uuid = resident.attr("data-id").await.unwrap().unwrap().parse().unwrap();
    click(&c, ".resident-item").await;
    select(&c, "#visit-status", FunnelState::ApprovedNotActivated.code()).await;
    select(&c, "#visit-reason", "lc_nuong_xa").await;
    click(&c, "#visit-save").await;
    css(&c, "#visit-saved").await;
    // meanwhile the province makes the reason need a note; then the signal comes back
    reason(&server, true);
    server.start_again().await;
    click(&c, "#sync-now").await;
    css(&c, "#open-rejected").await;
    assert!(text(&c, "#open-rejected").await.contains("Bị từ chối: 1"), "{}", text(&c, "#open-rejected").await);
    assert_eq!(server.projection().residents[&resident_id].reason_code, None, "the server did not apply it");

    click(&c, "#open-rejected").await;
    css(&c, ".rejected-item").await;
    let listed_reason = text(&c, ".rejected-item .reason").await;
    assert!(listed_reason.contains("cần ghi chú cụ thể"), "the server's reason is shown: {listed_reason}");
    both_languages(&c, "rejected-01-list-360").await;

    click(&c, ".rejected-item .fix").await;
    type_into(&c, "#visit-note", "Lên nương từ tháng 10, cuối tuần về").await;
    shot(&c, "rejected-02-fix-360").await;
    click(&c, "#visit-save").await;
    css(&c, "#rejected-notice").await;
    css(&c, "#rejected-none").await;
    both_languages(&c, "rejected-03-sent-again-360").await;
    click(&c, "#sync-now").await;
    until("the server applies the corrected visit", 30, || async {
        server.projection().residents[&resident_id].reason_code.as_deref() == Some("lc_nuong_xa")
    })
    .await;
    until("the sync bar has nothing rejected", 15, || async { count(&c, "#open-rejected").await == 0 }).await;
    c.close().await.unwrap();
}
