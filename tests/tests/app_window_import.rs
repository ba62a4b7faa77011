//! The office's import screen in the real app window (tauri-driver + WebKitWebDriver under
//! Xvfb) at the desktop's 1280×800: a commune police officer enrolls against the real server,
//! picks a generated XLSX list with planted errors, reads the dry-run report (every planted
//! row listed), imports it, finds the households in the app's list and on the server, then
//! undoes the whole import and finds them gone from both.
//! Screenshots land in `screenshots/import-*.png`, in Vietnamese and English.
#![cfg(feature = "window-tests")]

mod window;

use gocua_e2e::TestServer;
use gocua_import::Severity;
use gocua_import::testdata::{GenSpec, Plant, PlantKind, generate};
use window::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commune_police_import_a_list_in_the_office_window() {
    // a made-up list of the commune's three hamlets, with planted errors and repairs
    let planted = [
        PlantKind::BadCccd,
        PlantKind::DuplicateCccd,
        PlantKind::MissingName,
        PlantKind::UnknownHamlet,
        PlantKind::BadDate,
        PlantKind::LostLeadingZero,
        PlantKind::DateSerial,
    ]
    .into_iter()
    .map(Plant::seeded)
    .collect();
    let list = generate(&GenSpec { hamlets: 3, planted, ..GenSpec::new(60, 14) }).expect("generated list");
    let errors = list.expected_codes(&[Severity::Error]);
    assert!(errors.len() >= 5, "{errors:?}");

    let server = TestServer::start().await;
    assert_eq!(server.admin(&["import-places"]), "imported 3355 places");
    server.add_hamlets("03445", list.known.hamlets.iter().map(|h| (h.code.as_str(), h.name.as_str())));
    let code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let driver = start_driver(&server.url);
    let c = connect(&driver).await;
    c.set_window_size(1280, 800).await.expect("the office's 1280×800 window");

    enroll(&c, &server, &code, "Máy tính Công an xã").await;
    assert_eq!(listed(&c).await, 0, "nothing held before the import");

    click(&c, "#open-import").await;
    css(&c, "#import-title").await;
    let file = driver.home.path().join(&list.file_name);
    std::fs::write(&file, &list.bytes).unwrap();
    pick_file(&c, &file, &list.bytes).await;
    css(&c, "#import-report").await;

    // every planted row is listed with its code; errors come first
    let rows = c
        .execute(
            "return [...document.querySelectorAll('#import-issues tr.issue')]
               .map(tr => [tr.dataset.row, tr.dataset.code, tr.dataset.severity]);",
            vec![],
        )
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = serde_json::from_value(rows).unwrap();
    for (row, code) in &list.expected_codes(&[Severity::Error, Severity::Repaired]) {
        assert!(
            rows.iter().any(|(r, k, _)| r == &row.to_string() && k == code),
            "row {row} {code} is listed: {rows:?}"
        );
    }
    let first_other = rows.iter().position(|(_, _, s)| s != "error").unwrap_or(rows.len());
    assert!(rows[first_other..].iter().all(|(_, _, s)| s != "error"), "errors first: {rows:?}");
    let people = text(&c, "[data-count='people_planned']").await;
    let households = text(&c, "[data-count='households_planned']").await;
    assert_eq!(people, list.expected_people.to_string());
    assert_eq!(households, list.expected_households.to_string());
    assert_eq!(
        text(&c, "#import-commit").await.trim(),
        format!("Nhập {people} người, {households} hộ"),
        "the button says what it will write"
    );
    both_languages(&c, "import-01-report").await;
    assert!(server.projection().households.is_empty(), "nothing is written before the button");

    // the same report on a phone's width is not broken (the table scrolls inside its box)
    c.set_window_size(360, 740).await.unwrap();
    assert!(overflowing(&c).await.is_empty(), "{:?}", overflowing(&c).await);
    shot(&c, "import-01b-report-360").await;
    c.set_window_size(1280, 800).await.unwrap();

    click(&c, "#import-commit").await;
    css(&c, "#import-result").await;
    assert!(
        text(&c, "#import-created").await.contains(&format!("Đã thêm {people} người, {households} hộ")),
        "{}",
        text(&c, "#import-created").await
    );
    both_languages(&c, "import-02-result").await;

    // the households are in the app's list, and the worker takes them to the server
    click(&c, "#back").await;
    css(&c, "#search").await;
    until("the imported households are listed", 20, || async { listed(&c).await == list.expected_households }).await;
    shot(&c, "import-03-households").await;
    until("the server has the imported households", 60, || async {
        let held = server.projection();
        held.households.len() == list.expected_households && held.residents.len() == list.expected_people
    })
    .await;

    // the import is listed; undoing it asks first, then removes all it brought, here and on
    // the server
    click(&c, "#open-import").await;
    css(&c, "#import-history [data-import]").await;
    assert!(text(&c, "#import-history").await.contains(&list.file_name), "{}", text(&c, "#import-history").await);
    click(&c, "#import-history .undo").await;
    let warning = text(&c, "#import-history [role='alertdialog']").await;
    assert!(warning.contains(&format!("{people} người và {households} hộ")), "{warning}");
    both_languages(&c, "import-04-undo-confirm").await;
    assert!(server.projection().households.values().all(|h| h.removed.is_none()), "nothing before the confirmation");
    click(&c, "#import-history .undo-yes").await;
    css(&c, "#import-history .undone-line").await;
    assert!(
        text(&c, "#import-history .undone-line").await.contains(&format!("xoá {people} người, {households} hộ")),
        "{}",
        text(&c, "#import-history .undone-line").await
    );
    both_languages(&c, "import-05-undone").await;
    click(&c, "#back").await;
    css(&c, "#search").await;
    until("the undone households leave the list", 20, || async { listed(&c).await == 0 }).await;
    until("the server has the undo", 60, || async {
        let held = server.projection();
        held.households.len() == list.expected_households
            && held.households.values().all(|h| h.removed.as_deref() == Some("import_undone"))
            && held.residents.values().all(|r| r.removed.as_deref() == Some("import_undone"))
    })
    .await;

    // a list whose hamlet column the app cannot name: the officer gives it its field, checks
    // again, and the next file with the same headers is mapped the same way
    let hamlet = &list.known.hamlets[0].name;
    let unnamed =
        format!("Họ và tên,Năm sinh,Giới tính,Khu vực\nLò Thị Ba,1992,Nữ,{hamlet}\nVì Văn Công,1988,Nam,{hamlet}\n");
    click(&c, "#open-import").await;
    css(&c, "#import-title").await;
    let file = driver.home.path().join("khu-vuc.csv");
    std::fs::write(&file, &unnamed).unwrap();
    pick_file(&c, &file, unnamed.as_bytes()).await;
    css(&c, "#import-missing").await;
    assert!(
        text(&c, "#import-missing").await.contains("Thiếu cột bắt buộc: Thôn"),
        "{}",
        text(&c, "#import-missing").await
    );
    assert_eq!(count(&c, "#import-commit").await, 0, "nothing to record without a hamlet");
    click(&c, "#col-field-D option[value='hamlet']").await;
    until("the change may be checked", 5, || async {
        let enabled = c.execute("return !document.querySelector('#import-recheck').disabled;", vec![]).await;
        enabled.ok().and_then(|v| v.as_bool()).unwrap_or(false)
    })
    .await;
    both_languages(&c, "import-06-columns-chosen").await;
    click(&c, "#import-recheck").await;
    css(&c, "#import-commit").await;
    assert_eq!(text(&c, "[data-count='people_planned']").await, "2");
    assert_eq!(count(&c, "#import-missing").await, 0);
    click(&c, "#import-cancel").await;
    css(&c, "#import-file").await;
    let again = format!("HỌ VÀ TÊN,NĂM SINH,GIỚI TÍNH,KHU VỰC\nHà Thị Duyên,1990,Nữ,{hamlet}\n");
    let file = driver.home.path().join("khu-vuc-2.csv");
    std::fs::write(&file, &again).unwrap();
    pick_file(&c, &file, again.as_bytes()).await;
    css(&c, "#import-layout-applied").await;
    assert_eq!(text(&c, "[data-count='people_planned']").await, "1");
    both_languages(&c, "import-07-layout-remembered").await;
    c.close().await.unwrap();
}
