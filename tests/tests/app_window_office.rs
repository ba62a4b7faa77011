//! The office's people screen in the real app window at the desktop's 1280×800, against the
//! real server: a commune police officer sees who works in the commune with their devices, adds
//! a volunteer and gets a one-time code (a QR code and text) that really enrolls a phone,
//! assigns a volunteer a hamlet and a single household found by its head's name (the server
//! applies them once the office syncs), and revokes a
//! phone after confirming, which that phone then learns; then draws a spot-check sample of the
//! volunteer's claimed activations, confirms one, and finds it in the team view; and merges two
//! records of one person, settles a record flagged for review, and sets a campaign's quotas.
//! Screenshots in both languages land in `screenshots/people-*.png`, `spot-*.png`, `review-*.png`,
//! `dup-*.png` and `campaign-*.png`.
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
    let (lan_phone, lan_link) = enrolled_device(&server, "lan.sqlite", &lan_code).await;
    assert_eq!(lan_phone.lock().unwrap().enrollment().unwrap().unwrap().scope.key(), "03445-01");
    click(&c, "#code-close").await;

    // she is made team leader after the officer confirms; her phone takes it on at its sync
    let lan_card = format!("[data-person='{}']", lan_phone.lock().unwrap().enrollment().unwrap().unwrap().user_id);
    click(&c, &format!("{lan_card} .switch-role")).await;
    css(&c, &format!("{lan_card} [role='alertdialog']")).await;
    assert!(text(&c, &lan_card).await.contains("Cử Lò Thị Lan làm tổ trưởng?"), "{}", text(&c, &lan_card).await);
    both_languages(&c, "people-03b-role-confirm").await;
    click(&c, &format!("{lan_card} .switch-yes")).await;
    until("she is listed as team leader", 20, || async {
        text(&c, &format!("{lan_card} .badge")).await == "Tổ trưởng"
    })
    .await;
    sync_once(&lan_phone, &lan_link).await.unwrap();
    assert_eq!(
        lan_phone.lock().unwrap().enrollment().unwrap().unwrap().role,
        gocua_core::sync::protocol::Role::TeamLeader
    );

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

    // and one household of hamlet 01 on its own, found by its head's name
    let (household, head) = server
        .projection()
        .households
        .values()
        .find(|h| h.hamlet_code == "03445-01")
        .map(|h| (h.id, h.head_name.clone()))
        .expect("a household of hamlet 01");
    click(&c, &format!("{dung_card} .assign")).await;
    type_into(&c, &format!("{dung_card} .household-search"), &head).await;
    css(&c, &format!("{dung_card} .household-pick")).await;
    both_languages(&c, "people-04a-household-search").await;
    click(&c, &format!("{dung_card} .household-pick")).await;
    css(&c, &format!("{dung_card} .household-chosen")).await;
    click(&c, &format!("{dung_card} .assign-save")).await;
    let expected = gocua_core::scope::Scope::new(["03445-02".to_owned(), household.to_string()]).unwrap().key();
    until("the server applies the household's assignment", 60, || async {
        server.with_store(|s| run_read(s, |tx| tx.user(dung_id)).unwrap().unwrap().scope.key()) == expected
    })
    .await;
    sync_once(&dung_phone, &dung_link).await.unwrap();
    let holds = dung_phone.lock().unwrap().projection().unwrap();
    assert!(holds.households.contains_key(&household), "his phone holds the household given on its own");
    assert!(holds.households.values().all(|h| h.hamlet_code == "03445-02" || h.id == household));
    click(&c, "#back").await;
    click(&c, "#open-people").await;
    until("the list names the household by its head", 20, || async { text(&c, &dung_card).await.contains(&head) })
        .await;
    both_languages(&c, "people-04b-household-assigned").await;

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

/// The same person typed by two volunteers in one hamlet (one with her CCCD, one without):
/// the office sees the pair, keeps the record with the CCCD, merges after confirming, and once
/// everyone syncs the server and the phone hold one person with the visit; then the office sets
/// a campaign, which her phone pulls. First it settles the household both volunteers corrected
/// at once. Screenshots in `screenshots/review-*.png`, `dup-*.png` and `campaign-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_merges_two_records_of_one_person_and_sets_a_campaign_in_the_window() {
    use gocua_core::event::{HouseholdCreated, Payload, ResidentAdded, ResidentFields, VisitRecorded};
    use gocua_core::funnel::FunnelState;
    use gocua_core::model::Sex;

    let server = TestServer::start().await;
    server.add_places();
    let mut phones = Vec::new();
    for (name, file, cccd) in [("Lò Thị Lan", "lan.sqlite", None), ("Hà Văn Sơn", "son.sqlite", Some("011190000123"))]
    {
        let code = server.volunteer_code(name, "03445");
        let (phone, link) = enrolled_device(&server, file, &code).await;
        let resident = {
            let mut store = phone.lock().unwrap();
            let (household_id, resident_id) = (store.new_record_id().unwrap(), store.new_record_id().unwrap());
            store
                .record(Payload::HouseholdCreated(HouseholdCreated {
                    household_id,
                    hamlet_code: "03445-01".into(),
                    address: format!("Nhà {name} ghi"),
                    head_name: "Vàng Thị Dung".into(),
                }))
                .unwrap();
            let fields = ResidentFields {
                full_name: "Vàng Thị Dung".into(),
                birth_year: 1990,
                sex: Sex::Female,
                cccd: cccd.map(Into::into),
                phone: None,
            };
            store.record(Payload::ResidentAdded(ResidentAdded { resident_id, household_id, fields })).unwrap();
            resident_id
        };
        sync_once(&phone, &link).await.unwrap();
        phones.push((phone, link, resident));
    }
    let (typed, listed) = (phones[0].2, phones[1].2);
    {
        let (lan, lan_link, _) = &phones[0];
        let visit_id = lan.lock().unwrap().new_record_id().unwrap();
        let visit = VisitRecorded {
            visit_id,
            resident_id: typed,
            status: FunnelState::RegisteredPending,
            reason_code: None,
            action: None,
            follow_up: None,
            steps: vec![],
            note: None,
            position: None,
        };
        lan.lock().unwrap().record(Payload::VisitRecorded(visit)).unwrap();
        sync_once(lan, lan_link).await.unwrap();
    }
    // both correct the address of Lan's household from the same version: a conflict to review
    let lan_home = phones[0].0.lock().unwrap().resident_detail(typed).unwrap().resident.household_id;
    for (i, address) in [(0, "Số 12 đường Bản"), (1, "Số 21 đường Bản")] {
        let (phone, link, _) = &phones[i];
        sync_once(phone, link).await.unwrap();
        let patch = gocua_core::event::HouseholdPatch {
            household_id: lan_home,
            base_version: 1,
            address: Some(address.into()),
            head_name: None,
        };
        phone.lock().unwrap().record(Payload::HouseholdPatched(patch)).unwrap();
    }
    for (phone, link, _) in &phones {
        sync_once(phone, link).await.unwrap();
    }
    assert!(server.projection().households[&lan_home].review.is_some(), "flagged on the server");
    let code = server.code_for("Trần Văn Công", "commune-police", "03445");

    let driver = start_driver(&server.url);
    let c = connect(&driver).await;
    c.set_window_size(1280, 800).await.expect("the office's 1280×800 window");
    enroll(&c, &server, &code, "Máy tính Công an xã").await;

    // the review queue: the household two volunteers corrected at once, kept as it is
    click(&c, "#open-review").await;
    let flagged = format!("#review-items [data-record='{lan_home}'][data-review='conflict']");
    css(&c, &flagged).await;
    both_languages(&c, "review-01-queue").await;
    click(&c, &format!("{flagged} .review-keep")).await;
    css(&c, "#review-none").await;
    both_languages(&c, "review-02-settled").await;
    until("the server clears the flag", 60, || async { server.projection().households[&lan_home].review.is_none() })
        .await;
    click(&c, "#back").await;

    click(&c, "#open-duplicates").await;
    let pair = format!("#dup-pairs .pair[data-kept='{listed}'][data-merged='{typed}']");
    css(&c, &pair).await;
    let shown = text(&c, &pair).await;
    assert!(shown.contains("CCCD 011190000123") && shown.contains("1 lượt thăm"), "{shown}");
    both_languages(&c, "dup-01-pair").await;
    click(&c, &format!("{pair} .dup-merge")).await;
    css(&c, "#dup-confirm-text").await;
    both_languages(&c, "dup-02-confirm").await;
    click(&c, &format!("{pair} .dup-confirm")).await;
    css(&c, "#dup-none").await;
    both_languages(&c, "dup-03-merged").await;

    until("the server applies the merge", 60, || async {
        server.projection().residents.get(&typed).is_some_and(|r| r.merged_into == Some(listed))
    })
    .await;
    let on_server = server.projection();
    assert_eq!(on_server.residents[&listed].visit_count, 1);
    assert_eq!(on_server.residents[&listed].status, Some(FunnelState::RegisteredPending));
    let (lan, lan_link, _) = &phones[0];
    sync_once(lan, lan_link).await.unwrap();
    let held = lan.lock().unwrap().projection().unwrap();
    let live: Vec<_> = held.residents.values().filter(|r| r.removed.is_none()).map(|r| r.id).collect();
    assert_eq!(live, [listed], "one person on the phone");
    assert_eq!(lan.lock().unwrap().resident_detail(listed).unwrap().visits.len(), 1, "with her visit");

    // the campaign: the commune's quota and hamlet 01's, saved offline, pulled by her phone
    click(&c, "#back").await;
    click(&c, "#open-campaign").await;
    css(&c, "#campaign-none").await;
    type_into(&c, "#campaign-name", "Cao điểm 60 ngày").await;
    type_into(&c, "#campaign-target", "12354").await;
    type_into(&c, "[data-holder='place:03445-01'] .quota-total", "200").await;
    type_into(&c, "[data-holder='place:03445-01'] .quota-per-day", "20").await;
    both_languages(&c, "campaign-01-form").await;
    click(&c, "#campaign-save").await;
    css(&c, "#campaign-saved").await;
    assert!(text(&c, "#campaign-progress").await.contains("/12354"), "{}", text(&c, "#campaign-progress").await);
    both_languages(&c, "campaign-02-saved").await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    until("her phone pulls the campaign", 60, || async {
        sync_once(lan, lan_link).await.unwrap();
        lan.lock().unwrap().campaign_view(today, 420).unwrap().is_some()
    })
    .await;
    let view = lan.lock().unwrap().campaign_view(today, 420).unwrap().unwrap();
    assert_eq!((view.plan.name.as_str(), view.plan.target), ("Cao điểm 60 ngày", Some(12_354)));
    assert_eq!(view.my_hamlets.len(), 0, "her scope is the commune: no hamlet of her own");
    c.close().await.unwrap();
}
