//! A peak campaign, end to end: the commune police plan it in the office (a window, the
//! commune's target, "every official guides at least 10", a hamlet's quota and a volunteer's),
//! offline, and sync. The volunteer's phone, whose places are one hamlet below the commune,
//! pulls the plan with its own data and shows the quota it was given without a network; only
//! her successful activations count, toward her quota, her hamlet's and her list of whom she
//! guided; the office sees the same numbers once she syncs. A changed plan replaces the old one
//! on every phone.

use chrono::{Duration, NaiveDate, Utc};
use gocua_core::event::{
    CampaignSet, HouseholdCreated, Payload, Quota, QuotaHolder, ResidentAdded, ResidentFields, VisitRecorded,
};
use gocua_core::funnel::FunnelState;
use gocua_core::model::Sex;
use gocua_core::store::DeviceStore;
use gocua_core::store::today::VIETNAM_UTC_OFFSET_MINUTES;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};
use uuid::Uuid;

const VN: i32 = VIETNAM_UTC_OFFSET_MINUTES;

fn vietnam_today() -> NaiveDate {
    (Utc::now() + Duration::minutes(VN.into())).date_naive()
}

/// A household of one person in `hamlet`, visited once with `status`.
fn visited(store: &mut DeviceStore, hamlet: &str, name: &str, status: FunnelState) -> Uuid {
    let (household_id, resident_id, visit_id) =
        (store.new_record_id().unwrap(), store.new_record_id().unwrap(), store.new_record_id().unwrap());
    store
        .record(Payload::HouseholdCreated(HouseholdCreated {
            household_id,
            hamlet_code: hamlet.into(),
            address: format!("Nhà {name}"),
            head_name: name.into(),
        }))
        .unwrap();
    let fields = ResidentFields { full_name: name.into(), birth_year: 1988, sex: Sex::Male, cccd: None, phone: None };
    store.record(Payload::ResidentAdded(ResidentAdded { resident_id, household_id, fields })).unwrap();
    let visit = VisitRecorded {
        visit_id,
        resident_id,
        status,
        reason_code: None,
        action: None,
        follow_up: None,
        steps: vec![],
        note: None,
        position: None,
    };
    store.record(Payload::VisitRecorded(visit)).unwrap();
    resident_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_s_campaign_reaches_the_hamlet_phones_and_only_activations_count() {
    let server = TestServer::start().await;
    server.add_places();
    let office_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &office_code).await;
    let lan_id = server.admin(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03445-01"]);
    let lan_code = server.admin(&["create-code", "--user", &lan_id]);
    let (lan, lan_link) = enrolled_device(&server, "lan.sqlite", &lan_code).await;
    let son_code = server.code_for("Hà Văn Sơn", "volunteer", "03445-02");
    let (son, son_link) = enrolled_device(&server, "son.sqlite", &son_code).await;
    let lan_id = Uuid::parse_str(&lan_id).unwrap();

    let today = vietnam_today();
    let plan = CampaignSet {
        campaign_id: Uuid::now_v7(),
        name: "Cao điểm 60 ngày".into(),
        place: "03445".into(),
        starts: today - Duration::days(1),
        ends: today + Duration::days(58),
        target: Some(12_354),
        per_official: Some(10),
        quotas: vec![
            Quota { holder: QuotaHolder::Place("03445-01".into()), total: Some(200), per_day: Some(20) },
            Quota { holder: QuotaHolder::User(lan_id), total: Some(30), per_day: Some(3) },
        ],
    };
    office.lock().unwrap().record(Payload::CampaignSet(plan.clone())).unwrap();
    sync_once(&office, &office_link).await.unwrap();

    // the phones pull it with their hamlets' data; what they show needs no network from here on
    sync_once(&lan, &lan_link).await.unwrap();
    sync_once(&son, &son_link).await.unwrap();
    {
        let store = lan.lock().unwrap();
        let view = store.campaign_view(today, VN).unwrap().expect("the campaign reached her phone");
        assert_eq!((view.plan.name.as_str(), view.plan.per_official, view.day), ("Cao điểm 60 ngày", Some(10), 2));
        let mine = view.mine.expect("her own quota");
        assert_eq!((mine.quota.total, mine.quota.per_day, mine.activated), (Some(30), Some(3), 0));
        assert_eq!(view.my_hamlets.len(), 1);
        assert_eq!(view.my_hamlets[0].quota.per_day, Some(20));
        let day = store.today(today, VN).unwrap();
        assert_eq!((day.quota, day.quota_from_campaign), (Some(3), true), "the office's quota, not hers");
    }
    let son_view = son.lock().unwrap().campaign_view(today, VN).unwrap().expect("his phone has it too");
    assert!(son_view.mine.is_none() && son_view.my_hamlets.is_empty(), "no quota of his own or his hamlet's");

    // offline, she activates two people and registers a third
    let (a, b) = {
        let mut store = lan.lock().unwrap();
        let a = visited(&mut store, "03445-01", "Lò Văn Pọm", FunnelState::ActivatedLevel1);
        let b = visited(&mut store, "03445-01", "Lò Thị Xuân", FunnelState::ActivatedLevel2);
        visited(&mut store, "03445-01", "Lò Văn Sáng", FunnelState::RegisteredPending);
        (a, b)
    };
    {
        let view = lan.lock().unwrap().campaign_view(today, VN).unwrap().unwrap();
        assert_eq!((view.mine.unwrap().activated, view.my_hamlets[0].activated_today), (2, 2));
        let mut whom: Vec<Uuid> = view.guided.iter().map(|g| g.resident_id).collect();
        whom.sort();
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(whom, expected, "the list of whom she guided (PL danh sách hướng dẫn)");
        assert_eq!(lan.lock().unwrap().today(today, VN).unwrap().activated, 2);
    }
    sync_once(&lan, &lan_link).await.unwrap();
    sync_once(&office, &office_link).await.unwrap();
    let at_office = office.lock().unwrap().campaign_view(today, VN).unwrap().unwrap();
    assert_eq!((at_office.activated, at_office.activated_today), (2, 2));
    let hers = at_office.quotas.iter().find(|q| q.quota.holder == QuotaHolder::User(lan_id)).unwrap();
    assert_eq!((hers.activated, hers.name.as_str()), (2, "Lò Thị Lan"));

    // a changed plan replaces the old one on the phones
    let changed = CampaignSet {
        quotas: vec![Quota { holder: QuotaHolder::User(lan_id), total: Some(40), per_day: Some(5) }],
        ..plan
    };
    office.lock().unwrap().record(Payload::CampaignSet(changed)).unwrap();
    sync_once(&office, &office_link).await.unwrap();
    sync_once(&lan, &lan_link).await.unwrap();
    {
        let store = lan.lock().unwrap();
        assert_eq!(store.campaigns().unwrap().len(), 1);
        let view = store.campaign_view(today, VN).unwrap().unwrap();
        assert_eq!((view.mine.unwrap().quota.per_day, view.my_hamlets.len()), (Some(5), 0));
        assert_eq!(store.today(today, VN).unwrap().quota, Some(5));
    }

    // a quota for a hamlet outside the commune is the server's to refuse (a phone cannot tell)
    let stray = CampaignSet {
        campaign_id: Uuid::now_v7(),
        quotas: vec![Quota { holder: QuotaHolder::Place("99999-01".into()), total: Some(5), per_day: None }],
        ..office.lock().unwrap().campaigns().unwrap().remove(0)
    };
    office.lock().unwrap().record(Payload::CampaignSet(stray)).unwrap();
    let report = sync_once(&office, &office_link).await.unwrap();
    assert_eq!(report.rejected, 1, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_cannot_set_a_campaign_even_past_the_app() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (lan, lan_link) = enrolled_device(&server, "lan.sqlite", &code).await;
    let day = vietnam_today();
    let plan = Payload::CampaignSet(CampaignSet {
        campaign_id: Uuid::now_v7(),
        name: "Tự đặt".into(),
        place: "03445".into(),
        starts: day,
        ends: day,
        target: None,
        per_official: Some(1),
        quotas: vec![],
    });
    let refused = lan.lock().unwrap().record(plan.clone());
    assert!(format!("{refused:?}").contains("police_only"), "{refused:?}");
    // sent past the app, the server refuses it too
    use gocua_core::sync::engine::Transport;
    use gocua_core::sync::protocol::{APP_VERSION, EventStatus, PushRequest, SCHEMA_VERSION};
    let device = lan.lock().unwrap().enrollment().unwrap().unwrap();
    let event = gocua_core::event::Event {
        id: gocua_core::ids::event_id(device.device_id, 1),
        device_id: device.device_id,
        seq: 1,
        author: device.user_id,
        device_time: Utc::now(),
        payload: plan,
    };
    let request = PushRequest {
        schema_version: SCHEMA_VERSION,
        app_version: APP_VERSION.into(),
        events: vec![event],
        queued: None,
    };
    let answer = lan_link.push(&request).await.unwrap();
    assert_eq!(answer.results[0].status, EventStatus::Rejected, "{answer:?}");
    assert!(answer.results[0].errors.iter().any(|e| e.code == "police_only"), "{answer:?}");
}
