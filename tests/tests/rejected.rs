//! A record the server rejects, dealt with on the phone, end to end. Lai Châu has a reason of its
//! own; after the volunteer's phone enrolled, the province decided that it needs a note. The
//! phone, whose reason list is the one it enrolled with, records a visit with that reason and no
//! note: it accepts it, the server rejects it with its reason. The same sync brings the
//! province's new catalog, so the phone now refuses the visit sent again unchanged itself (the
//! record stays listed); corrected with a note it is applied, the phone's list is empty and the
//! server and the phone hold the corrected visit.

use gocua_core::event::{HouseholdCreated, Payload, ResidentAdded, ResidentFields, VisitRecorded};
use gocua_core::funnel::FunnelState;
use gocua_core::model::Sex;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, assert_same_as_volunteer_sees, enrolled_device};
use std::sync::Mutex;
use uuid::Uuid;

/// The province's own reason (made up), and what its note rule is.
const REASON: &str = "lc_nuong_xa";

fn add_reason(server: &TestServer, requires_note: bool) {
    let mut args = vec![
        "add-reason",
        "--code",
        REASON,
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
}

fn rejected_count(phone: &Mutex<DeviceStore>) -> (u64, u64) {
    let status = phone.lock().unwrap().sync_status().unwrap();
    (status.unsent, status.rejected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_the_server_rejects_is_corrected_on_the_phone_and_applied() {
    let server = TestServer::start().await;
    server.add_places();
    add_reason(&server, false);
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (phone, link) = enrolled_device(&server, "phone.sqlite", &code).await;
    assert!(phone.lock().unwrap().reasons().unwrap().get(REASON).is_some_and(|r| !r.requires_note));
    // the province now wants a note with it; the phone does not know yet
    add_reason(&server, true);

    let (home, mai, visit_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let refused = {
        let mut phone = phone.lock().unwrap();
        phone
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id: home,
                hamlet_code: "03445-01".into(),
                address: "Đầu bản Nậm Củm".into(),
                head_name: "Giàng A Páo".into(),
            }))
            .unwrap();
        phone
            .record(Payload::ResidentAdded(ResidentAdded {
                resident_id: mai,
                household_id: home,
                fields: ResidentFields {
                    full_name: "Giàng Thị Mai".into(),
                    birth_year: 1992,
                    sex: Sex::Female,
                    cccd: None,
                    phone: None,
                },
            }))
            .unwrap();
        phone
            .record(Payload::VisitRecorded(VisitRecorded {
                visit_id,
                resident_id: mai,
                status: FunnelState::ApprovedNotActivated,
                reason_code: Some(REASON.into()),
                action: None,
                follow_up: None,
                steps: Vec::new(),
                note: None,
                position: None,
            }))
            .expect("the phone's reason list needs no note")
    };

    let report = sync_once(&phone, &link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (2, 1), "{report:?}");
    assert_eq!(rejected_count(&phone), (0, 1), "the sync bar: Bị từ chối: 1");
    let listed = phone.lock().unwrap().rejected_records().unwrap();
    assert_eq!(listed.len(), 1);
    let record = &listed[0];
    assert_eq!((record.event_id, record.kind.as_str()), (refused.id, "visit_recorded.v1"));
    assert_eq!((record.subject.as_deref(), record.hamlet_code.as_deref()), (Some("Giàng Thị Mai"), Some("03445-01")));
    let reason = &record.errors[0];
    assert_eq!((reason.field.as_str(), reason.code.as_str()), ("note", "note_required"));
    assert_eq!(reason.message_vi, "Lý do \"Đi làm nương xa, ở lại lán\" cần ghi chú cụ thể.", "the server's words");
    assert!(phone.lock().unwrap().projection().unwrap().visits.is_empty(), "a rejected visit is not shown");

    // the sync brought the province's catalog: sent again as it was, the phone itself refuses
    // it now, with the same words, and it stays listed
    assert!(phone.lock().unwrap().reasons().unwrap().get(REASON).is_some_and(|r| r.requires_note));
    let refused_here = phone.lock().unwrap().resend_unchanged(refused.id).unwrap_err();
    assert!(format!("{refused_here:?}").contains("note_required"), "{refused_here:?}");
    let listed = phone.lock().unwrap().rejected_records().unwrap();
    assert_eq!(listed.iter().map(|r| r.event_id).collect::<Vec<_>>(), [refused.id]);
    assert_eq!(rejected_count(&phone), (0, 1));

    // corrected: the volunteer adds the note the server asked for
    let Payload::VisitRecorded(mut corrected) = refused.payload.clone() else { unreachable!() };
    corrected.note = Some("Cả nhà lên nương đến cuối tháng, hẹn quay lại".into());
    let sent = phone.lock().unwrap().resend_rejected(refused.id, Payload::VisitRecorded(corrected)).unwrap();
    assert_eq!(sent.seq, 4, "a new event after the rejected one");
    assert_eq!(rejected_count(&phone), (1, 0), "waiting to be sent, nothing rejected");
    let report = sync_once(&phone, &link).await.unwrap();
    assert_eq!((report.applied, report.rejected), (1, 0), "{report:?}");
    assert!(phone.lock().unwrap().rejected_records().unwrap().is_empty());
    assert_eq!(rejected_count(&phone), (0, 0));

    // the server holds the corrected visit, and keeps the two rejections for the record
    let on_server = server.projection();
    let visit = &on_server.visits[&visit_id];
    assert_eq!(visit.reason_code.as_deref(), Some(REASON));
    assert_eq!(visit.note.as_deref(), Some("Cả nhà lên nương đến cuối tháng, hẹn quay lại"));
    assert_eq!(on_server.visits.len(), 1);
    let resident = &on_server.residents[&mai];
    assert_eq!(
        (resident.status, resident.reason_code.as_deref()),
        (Some(FunnelState::ApprovedNotActivated), Some(REASON))
    );
    assert_eq!((server.event_count("applied"), server.event_count("rejected")), (3, 1));
    // and the phone ends where the server does
    sync_once(&phone, &link).await.unwrap();
    assert_same_as_volunteer_sees(&phone.lock().unwrap().projection().unwrap(), &on_server, "after the correction");
}

/// The province's catalog reaches an enrolled phone at its next sync, once: a reason that now
/// needs a note is refused on the phone without one, before anything goes to the server. A
/// pull that names the catalog the phone holds brings none; another province's reason never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_reason_reaches_the_phone_at_its_next_sync() {
    let server = TestServer::start().await;
    server.add_places();
    add_reason(&server, false);
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (phone, link) = enrolled_device(&server, "phone.sqlite", &code).await;
    let enrolled_digest = phone.lock().unwrap().reasons_digest().unwrap();
    assert_eq!(enrolled_digest.len(), 64, "the enrollment's catalog is remembered by its digest");
    let pull = |digest: String| {
        let (url, token) = (server.url.clone(), phone.lock().unwrap().enrollment().unwrap().unwrap().token);
        async move {
            let body: serde_json::Value = reqwest::Client::new()
                .get(format!("{url}/api/v1/sync/pull?cursor=0&limit=10&reasons={digest}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body.get("reasons").and_then(|r| r.as_array()).cloned().unwrap_or_default()
        }
    };
    assert!(pull(enrolled_digest.clone()).await.is_empty(), "an unchanged catalog is not sent again");
    add_reason(&server, true);
    server.admin(&[
        "add-reason",
        "--code",
        "hn_pho_co",
        "--province",
        "01",
        "--label-vi",
        "Ở phố cổ",
        "--label-en",
        "Old quarter",
    ]);

    let sent = pull(enrolled_digest.clone()).await;
    assert!(!sent.is_empty(), "the changed catalog is sent");
    let codes: Vec<&str> = sent.iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(codes.contains(&REASON) && codes.contains(&"refused"), "the province's whole catalog: {codes:?}");
    assert!(!codes.contains(&"hn_pho_co"), "another province's reason is not sent");

    sync_once(&phone, &link).await.unwrap();
    let digest = phone.lock().unwrap().reasons_digest().unwrap();
    assert_ne!(digest, enrolled_digest);
    assert!(phone.lock().unwrap().reasons().unwrap().get(REASON).is_some_and(|r| r.requires_note));
    assert!(pull(digest).await.is_empty(), "the catalog the phone holds is not sent again");

    // the phone now refuses the visit without a note, as the server would
    let home = Uuid::now_v7();
    let mut store = phone.lock().unwrap();
    store
        .record(Payload::HouseholdCreated(HouseholdCreated {
            household_id: home,
            hamlet_code: "03445-01".into(),
            address: "Đầu bản Nậm Củm".into(),
            head_name: "Giàng A Páo".into(),
        }))
        .unwrap();
    let mai = Uuid::now_v7();
    store
        .record(Payload::ResidentAdded(ResidentAdded {
            resident_id: mai,
            household_id: home,
            fields: ResidentFields {
                full_name: "Giàng Thị Mai".into(),
                birth_year: 1992,
                sex: Sex::Female,
                cccd: None,
                phone: None,
            },
        }))
        .unwrap();
    let refused = store
        .record(Payload::VisitRecorded(VisitRecorded {
            visit_id: Uuid::now_v7(),
            resident_id: mai,
            status: FunnelState::ApprovedNotActivated,
            reason_code: Some(REASON.into()),
            action: None,
            follow_up: None,
            steps: Vec::new(),
            note: None,
            position: None,
        }))
        .unwrap_err();
    assert!(format!("{refused:?}").contains("note_required"), "{refused:?}");
    assert_eq!(store.unsent_count().unwrap(), 2, "only the household and the person wait");
}
