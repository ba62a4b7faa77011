//! Spot-checks ("kiểm tra xác suất") end to end: two volunteers claim activations in their
//! hamlets; the commune police office, having pulled them, draws 10 % of each volunteer's claims
//! (stratified: at least one each, the same sample again from the same seed), checks them in
//! the national system and records what it found, offline. The confirmed numbers and the claims
//! found wrong then show in the office's team view, and, once synced, on the team leader's
//! phone and on the server.

use gocua_core::event::{ClaimChecked, Payload};
use gocua_core::fixtures::Rng;
use gocua_core::funnel::FunnelState;
use gocua_core::spotcheck::{CheckOutcome, Claim, draw};
use gocua_core::store::today::VIETNAM_UTC_OFFSET_MINUTES;
use gocua_core::store::{DeviceStore, vietnam_today};
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, claim_activations, enrolled_device};
use std::sync::Mutex;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stratified_sample_is_checked_offline_and_the_confirmed_numbers_reach_the_team_view() {
    let server = TestServer::start().await;
    server.add_places();
    let lan = server.admin(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03445-01"]);
    let dung = server.admin(&["add-user", "--name", "Giàng A Dũng", "--role", "volunteer", "--scope", "03445-02"]);
    let (lan_phone, lan_link) =
        enrolled_device(&server, "lan.sqlite", &server.admin(&["create-code", "--user", &lan])).await;
    let (dung_phone, dung_link) =
        enrolled_device(&server, "dung.sqlite", &server.admin(&["create-code", "--user", &dung])).await;
    let leader_code = server.code_for("Vàng Thị Mai", "team-leader", "03445");
    let (leader, leader_link) = enrolled_device(&server, "leader.sqlite", &leader_code).await;
    let office_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &office_code).await;

    let mut rng = Rng::new(2026);
    claim_activations(&lan_phone, &mut rng, "03445-01", 25);
    claim_activations(&dung_phone, &mut rng, "03445-02", 8);
    sync_once(&lan_phone, &lan_link).await.unwrap();
    sync_once(&dung_phone, &dung_link).await.unwrap();
    sync_once(&office, &office_link).await.unwrap();

    // 10 % of each volunteer's claims, rounded up: 3 of Lan's 25, 1 of Dũng's 8
    let (lan_id, dung_id) = (Uuid::parse_str(&lan).unwrap(), Uuid::parse_str(&dung).unwrap());
    let sample = {
        let mut office = office.lock().unwrap();
        assert_eq!(office.claims().unwrap().len(), 33);
        office.draw_spot_check(10).unwrap();
        office.spot_check().unwrap().unwrap()
    };
    let drawn_of = |author: Uuid| sample.items.iter().filter(|i| i.author == author).count();
    assert_eq!((drawn_of(lan_id), drawn_of(dung_id), sample.items.len()), (3, 1, 4));
    assert!(sample.items.iter().all(|i| i.claimed == FunnelState::ActivatedLevel1 && i.outcome.is_none()));
    assert!(sample.items.iter().all(|i| i.cccd.as_deref().is_none_or(|c| !c.contains('*'))), "the police see CCCDs");
    // the same claims and seed draw the same sample
    let again = draw(&office.lock().unwrap().claims().unwrap(), sample.percent, &sample.seed);
    let drawn: Vec<Claim> = sample
        .items
        .iter()
        .map(|i| Claim { resident_id: i.resident_id, visit_id: i.visit_id, author: i.author })
        .collect();
    let mut again_sorted = again.clone();
    let mut drawn_sorted = drawn.clone();
    again_sorted.sort_by_key(|c| c.visit_id);
    drawn_sorted.sort_by_key(|c| c.visit_id);
    assert_eq!(again_sorted, drawn_sorted);

    // a volunteer cannot record a finding
    let mine = sample.items.iter().find(|i| i.author == lan_id).unwrap();
    let refused = lan_phone.lock().unwrap().record(Payload::ClaimChecked(ClaimChecked {
        resident_id: mine.resident_id,
        visit_id: mine.visit_id,
        outcome: CheckOutcome::Confirmed,
    }));
    assert!(refused.is_err(), "{refused:?}");

    // offline, the office records what the national system showed: Lan 2 confirmed, 1 wrong;
    // Dũng 1 confirmed
    let lans: Vec<_> = sample.items.iter().filter(|i| i.author == lan_id).collect();
    let dungs: Vec<_> = sample.items.iter().filter(|i| i.author == dung_id).collect();
    let findings = [
        (lans[0], CheckOutcome::Confirmed),
        (lans[1], CheckOutcome::Wrong),
        (lans[2], CheckOutcome::Confirmed),
        (dungs[0], CheckOutcome::Confirmed),
    ];
    {
        let mut office = office.lock().unwrap();
        for (item, outcome) in findings {
            let check = ClaimChecked { resident_id: item.resident_id, visit_id: item.visit_id, outcome };
            office.record(Payload::ClaimChecked(check)).unwrap();
        }
        let view = office.spot_check().unwrap().unwrap();
        let rate = |author: Uuid| view.authors.iter().find(|a| a.author == author).unwrap().clone();
        assert_eq!(
            (rate(lan_id).claims, rate(lan_id).drawn, rate(lan_id).checked, rate(lan_id).confirmed),
            (25, 3, 3, 2)
        );
        assert_eq!((rate(dung_id).drawn, rate(dung_id).confirmed), (1, 1));
        assert_eq!(rate(lan_id).name, "Lò Thị Lan", "names from the pull pages");
    }
    let team_numbers = |store: &Mutex<DeviceStore>| {
        let team = store.lock().unwrap().team(vietnam_today(), VIETNAM_UTC_OFFSET_MINUTES).unwrap();
        let of = |id: Uuid| {
            let m = team.members.iter().find(|m| m.user_id == id).unwrap();
            (m.activated_total, m.checked, m.confirmed, m.found_wrong)
        };
        (of(lan_id), of(dung_id))
    };
    assert_eq!(team_numbers(&office), ((25, 3, 2, 1), (8, 1, 1, 0)), "the office's team view, offline");

    // synced: the team leader's phone and the server have the same findings
    sync_once(&office, &office_link).await.unwrap();
    sync_once(&leader, &leader_link).await.unwrap();
    assert_eq!(team_numbers(&leader), ((25, 3, 2, 1), (8, 1, 1, 0)), "the team leader's view");
    let on_server = server.projection();
    let wrong = on_server.residents[&lans[1].resident_id].clone();
    assert_eq!((wrong.claim_check, wrong.checked_visit), (Some(CheckOutcome::Wrong), Some(lans[1].visit_id)));
    assert_eq!(on_server.residents.values().filter(|r| r.claim_check.is_some()).count(), 4);
    // Lan's own phone learns which of her claims were found wrong
    sync_once(&lan_phone, &lan_link).await.unwrap();
    let hers = lan_phone.lock().unwrap().projection().unwrap();
    assert_eq!(hers.residents[&lans[1].resident_id].claim_check, Some(CheckOutcome::Wrong));
}
