//! The office's people screen in the real app window at the desktop's 1280×800, against the
//! real server: a commune police officer sees who works in the commune with their devices, adds
//! a volunteer and gets a one-time code (a QR code and text) that really enrolls a phone,
//! assigns a volunteer a hamlet (the server applies it once the office syncs), and revokes a
//! phone after confirming, which that phone then learns; then draws a spot-check sample of the
//! volunteer's claimed activations, confirms one, and finds it in the team view. Screenshots in
//! both languages land in `screenshots/people-*.png` and `screenshots/spot-*.png`.
#![cfg(feature = "window-tests")]

mod window;

use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, claim_activations, enrolled_device};
use gocua_server_store::run_read;
use uuid::Uuid;
use window::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commune_police_run_people_codes_assignments_and_revocations_in_the_office_window() {
    let server = TestServer::start().await;
    server.add_places();
    let dung = server.admin(&["add-user", "--name", "Giàng A Dũng", "--role", "volunteer", "--scope", "03445"]);
    let dung_code = server.admin(&["create-code", "--user", &dung]);
    let (dung_phone, dung_link) = enrolled_device(&server, "dung.sqlite", &dung_code).await;
    // he claims three activations in hamlet 01, for the spot-check
    claim_activations(&dung_phone, &mut gocua_core::fixtures::Rng::new(9), "03445-01", 3);
    sync_once(&dung_phone, &dung_link).await.unwrap();
    let code = server.code_for("Trần Văn Công", "commune-police", "03445");

    let driver = start_driver(&server.url);
    let c = connect(&driver).await;
    c.set_window_size(1280, 800).await.expect("the office's 1280×800 window");
    enroll(&c, &server, &code, "Máy tính Công an xã").await;

    click(&c, "#open-people").await;
    css(&c, "#people-title").await;
    let dung_card = format!("[data-person='{dung}']");
    css(&c, &dung_card).await;
    let listed = text(&c, "#people-list").await;
    assert!(listed.contains("Giàng A Dũng") && listed.contains("Trần Văn Công"), "{listed}");
    assert!(text(&c, &dung_card).await.contains("dung.sqlite"), "his phone is listed: {}", text(&c, &dung_card).await);
    both_languages(&c, "people-01-list").await;

    // a new volunteer for hamlet 01: her code is shown once, and it enrolls a phone
    click(&c, "#person-add").await;
    type_into(&c, "#person-name", "Lò Thị Lan").await;
    click(&c, "#person-form input[value='03445-01']").await;
    both_languages(&c, "people-02-add").await;
    click(&c, "#person-save").await;
    css(&c, "#code-panel img").await;
    let lan_code = text(&c, "#code-text").await;
    assert!(lan_code.len() >= 8, "{lan_code}");
    both_languages(&c, "people-03-code").await;
    let (lan_phone, _) = enrolled_device(&server, "lan.sqlite", &lan_code).await;
    assert_eq!(lan_phone.lock().unwrap().enrollment().unwrap().unwrap().scope.key(), "03445-01");
    click(&c, "#code-close").await;

    // Dũng gets hamlet 02: recorded in the office, applied by the server once it syncs
    click(&c, &format!("{dung_card} .assign")).await;
    click(&c, &format!("{dung_card} .assign-form input[value='03445-02']")).await;
    click(&c, &format!("{dung_card} .assign-save")).await;
    let dung_id = Uuid::parse_str(&dung).unwrap();
    until("the server applies the assignment", 60, || async {
        server.with_store(|s| run_read(s, |tx| tx.user(dung_id)).unwrap().unwrap().scope.key()) == "03445-02"
    })
    .await;
    sync_once(&dung_phone, &dung_link).await.unwrap();
    let holds = dung_phone.lock().unwrap().enrollment().unwrap().unwrap().scope.key();
    assert_eq!(holds, "03445-02", "his phone moved to hamlet 02");
    click(&c, "#back").await;
    click(&c, "#open-people").await;
    until("the list shows hamlet 02", 20, || async { text(&c, &dung_card).await.contains("Phìn Khò") }).await;

    // his phone is revoked after the officer confirms; its next contact is refused
    click(&c, &format!("{dung_card} .device .revoke")).await;
    css(&c, &format!("{dung_card} .device [role='alertdialog']")).await;
    both_languages(&c, "people-04-revoke-confirm").await;
    click(&c, &format!("{dung_card} .device .revoke-yes")).await;
    css(&c, &format!("{dung_card} .revoked-badge")).await;
    both_languages(&c, "people-05-revoked").await;
    let err = sync_once(&dung_phone, &dung_link).await.unwrap_err();
    assert!(format!("{err:?}").contains("revoked"), "{err:?}");

    // the spot-check: one of his three claims drawn at 10 %, confirmed, and the team view says so
    click(&c, "#back").await;
    click(&c, "#open-spot-check").await;
    css(&c, "#spot-none").await;
    click(&c, "#spot-draw-button").await;
    css(&c, "#spot-items .item").await;
    assert_eq!(c.find_all(fantoccini::Locator::Css("#spot-items .item")).await.unwrap().len(), 1);
    click(&c, "#spot-items .item .outcome-confirmed").await;
    css(&c, "#spot-items .item[data-outcome='confirmed']").await;
    assert!(text(&c, "#spot-rates").await.contains("1 (100%)"), "{}", text(&c, "#spot-rates").await);
    both_languages(&c, "spot-01-sample").await;
    click(&c, "#back").await;
    click(&c, "#open-team").await;
    until("the team view shows the finding", 20, || async {
        !text(&c, "#team-title").await.is_empty() && text(&c, ".team-checked").await.contains("1/1")
    })
    .await;
    both_languages(&c, "spot-02-team").await;
    c.close().await.unwrap();
}
