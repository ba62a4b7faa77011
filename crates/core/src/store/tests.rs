//! Device store: recording, the outbox, push answers, pull pages, search, persistence.

use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::*;
use crate::event::{HouseholdCreated, ResidentAdded, ResidentFields, VisitRecorded};
use crate::fixtures::{self, Rng};
use crate::funnel::FunnelState;
use crate::model::Sex;
use crate::sync::protocol::{EventResult, PulledEvent};

fn enroll_response(device_id: Uuid) -> EnrollResponse {
    EnrollResponse { device_id, ..fixtures::enroll_response(&DeviceStore::open_in_memory().unwrap()) }
}

fn enrolled() -> DeviceStore {
    let mut store = DeviceStore::open_in_memory().unwrap();
    store.save_enrollment("http://127.0.0.1:9/", &enroll_response(Uuid::now_v7())).unwrap();
    store
}

fn household(store: &mut DeviceStore, head: &str) -> Uuid {
    let id = Uuid::now_v7();
    store
        .record(Payload::HouseholdCreated(HouseholdCreated {
            household_id: id,
            hamlet_code: "03445-01".into(),
            address: "Bản Nậm Củm".into(),
            head_name: head.into(),
        }))
        .unwrap();
    id
}

fn ack_all(store: &DeviceStore, status: EventStatus) -> PushResponse {
    let batch = store.outbox_batch(1000, usize::MAX).unwrap();
    PushResponse {
        last_seq: batch.last().map_or(0, |e| e.seq),
        results: batch
            .iter()
            .map(|e| EventResult {
                seq: e.seq,
                event_id: Some(e.id),
                status,
                errors: vec![],
                flags: vec![],
                server_seq: None,
            })
            .collect(),
        applied: vec![],
        expected_seq: None,
    }
}

#[test]
fn recording_needs_an_enrollment() {
    let mut store = DeviceStore::open_in_memory().unwrap();
    let err = store
        .record(Payload::HouseholdCreated(HouseholdCreated {
            household_id: Uuid::now_v7(),
            hamlet_code: "03445-01".into(),
            address: "x".into(),
            head_name: "y".into(),
        }))
        .unwrap_err();
    assert!(matches!(err, Error::NotEnrolled), "{err}");
}

#[test]
fn records_get_gap_free_sequences_and_wait_in_the_outbox() {
    let mut store = enrolled();
    let enrollment = store.enrollment().unwrap().unwrap();
    for i in 0..5 {
        household(&mut store, &format!("Hà Văn {i}"));
    }
    let batch = store.outbox_batch(100, usize::MAX).unwrap();
    assert_eq!(batch.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert!(batch.iter().all(|e| e.device_id == enrollment.device_id && e.author == enrollment.user_id));
    assert_eq!(store.unsent_count().unwrap(), 5);
    assert_eq!(store.outbox_batch(2, usize::MAX).unwrap().len(), 2);
    assert_eq!(store.outbox_batch(100, 1).unwrap().len(), 1, "a byte cap still sends one event");
}

#[test]
fn ids_follow_from_the_device_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let device_id = Uuid::now_v7();
    let mut store = DeviceStore::open(&path).unwrap();
    store.save_enrollment("http://127.0.0.1:9/", &enroll_response(device_id)).unwrap();
    let first = store.new_record_id().unwrap();
    assert_eq!(first, crate::ids::record_id(device_id, 1));
    household(&mut store, "Lò Văn Páo");
    let event = store.local_events().unwrap().remove(0);
    assert_eq!(event.id, crate::ids::event_id(device_id, 1), "an event's id is its device's and sequence's");
    assert_eq!(event.device_time.timestamp_subsec_nanos(), 0, "times are kept to the second");
    drop(store);
    let mut store = DeviceStore::open(&path).unwrap();
    assert_eq!(store.new_record_id().unwrap(), crate::ids::record_id(device_id, 2), "the counter is kept");
}

#[test]
fn a_compact_answer_acknowledges_by_sequence() {
    let mut store = enrolled();
    for head in ["A", "B", "C"] {
        household(&mut store, head);
    }
    let mut full = ack_all(&store, EventStatus::Applied);
    for (i, result) in full.results.iter_mut().enumerate() {
        result.server_seq = Some(10 + i as u64);
    }
    full.results[1].flags = vec![crate::sync::protocol::Flag::ClockAhead];
    full.results[1].status = EventStatus::Flagged;
    let compact = full.clone().compacted();
    assert_eq!(
        compact.applied,
        [crate::sync::protocol::AppliedRun(1, 1, 10), crate::sync::protocol::AppliedRun(3, 1, 12)]
    );
    assert_eq!(compact.results.len(), 1);
    let summary = store.apply_push_response(&compact).unwrap();
    assert_eq!((summary.applied, summary.flagged, store.unsent_count().unwrap()), (3, 1, 0));
    let mut stmt = store.conn.prepare("SELECT server_seq FROM events ORDER BY seq").unwrap();
    let seqs: Vec<u64> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(seqs, [10, 11, 12]);
}

#[test]
fn typed_text_with_hidden_characters_is_refused_and_decomposed_text_is_held_composed() {
    let mut store = enrolled();
    for head in ["Lò Văn \u{202E}naL", "Lò\u{0} Văn Lan", "Lò Văn\u{1b}Lan"] {
        let err = store
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id: Uuid::now_v7(),
                hamlet_code: "03445-01".into(),
                address: "Bản Nậm Củm".into(),
                head_name: head.into(),
            }))
            .unwrap_err();
        let Error::Invalid(errors) = err else { panic!("expected field errors") };
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("head_name", "forbidden_character"));
    }
    assert_eq!(store.unsent_count().unwrap(), 0, "nothing recorded");
    let nfd: String = "Nguyễn Thị Ánh".nfd().collect();
    let id = household(&mut store, &nfd);
    let held = store.projection().unwrap().households[&id].head_name.clone();
    assert_eq!(held, "Nguyễn Thị Ánh".nfc().collect::<String>());
}

#[test]
fn invalid_input_is_refused_with_field_errors_and_stores_nothing() {
    let mut store = enrolled();
    let h = household(&mut store, "Hà Văn Chiến");
    let err = store
        .record(Payload::ResidentAdded(ResidentAdded {
            resident_id: Uuid::now_v7(),
            household_id: h,
            fields: ResidentFields {
                full_name: "Lò Thị Lan".into(),
                birth_year: 1990,
                sex: Sex::Female,
                cccd: Some("012189000123".into()),
                phone: None,
            },
        }))
        .unwrap_err();
    let Error::Invalid(errors) = err else { panic!("expected field errors") };
    assert_eq!(errors[0].code, "cccd_birth_year_mismatch");
    assert_eq!(store.unsent_count().unwrap(), 1);
    assert_eq!(store.projection().unwrap().residents.len(), 0);
    // the next valid record still gets the next sequence number
    household(&mut store, "Hà Văn Chiến");
    let seqs: Vec<_> = store.outbox_batch(100, usize::MAX).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2]);
}

fn created(household_id: Uuid, head: &str) -> Payload {
    Payload::HouseholdCreated(HouseholdCreated {
        household_id,
        hamlet_code: "03445-01".into(),
        address: "Bản Nậm Củm".into(),
        head_name: head.into(),
    })
}

fn added(resident_id: Uuid, household_id: Uuid, cccd: &str) -> Payload {
    Payload::ResidentAdded(ResidentAdded {
        resident_id,
        household_id,
        fields: ResidentFields {
            full_name: "Lò Thị Lan".into(),
            birth_year: 1990,
            sex: Sex::Female,
            cccd: Some(cccd.into()),
            phone: None,
        },
    })
}

#[test]
fn many_actions_recorded_together_land_in_order_or_not_at_all() {
    let mut store = enrolled();
    household(&mut store, "Hà Văn Chiến");
    let at = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let (h, r) = (Uuid::now_v7(), Uuid::now_v7());
    // each is reduced against what the ones before it left: the person's household is new too
    let events = store.record_all(vec![created(h, "Lò Văn Pọm"), added(r, h, "012190000123")], at).unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    assert!(events.iter().all(|e| e.device_time == at));
    assert_eq!(store.unsent_count().unwrap(), 3);
    assert_eq!(store.projection().unwrap().residents.len(), 1);

    // the third of three breaks a rule (its CCCD says 1989): none of them is kept
    let (h2, r2, r3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let err = store
        .record_all(vec![created(h2, "Lò Văn Ún"), added(r2, h2, "012190000124"), added(r3, h2, "012189000125")], at)
        .unwrap_err();
    let Error::InvalidAt { index, errors } = err else { panic!("expected the failing record's index") };
    assert_eq!((index, errors[0].code.as_str()), (2, "cccd_birth_year_mismatch"));
    assert_eq!(store.unsent_count().unwrap(), 3, "nothing of the failed batch is queued");
    let projection = store.projection().unwrap();
    assert_eq!((projection.households.len(), projection.residents.len()), (2, 1));
    // and the sequence goes on without a gap
    household(&mut store, "Hà Văn Chiến");
    let seqs: Vec<_> = store.outbox_batch(100, usize::MAX).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
}

#[test]
fn a_push_answer_empties_the_outbox_and_keeps_rejected_events_for_a_person() {
    let mut store = enrolled();
    for i in 0..3 {
        household(&mut store, &format!("Hà Văn {i}"));
    }
    let mut response = ack_all(&store, EventStatus::Applied);
    response.results[1].status = EventStatus::Rejected;
    response.results[1].errors = vec![FieldError::new("hamlet_code", "unknown_hamlet", "x", "y")];
    response.results[2].status = EventStatus::Duplicate;
    let summary = store.apply_push_response(&response).unwrap();
    assert_eq!(summary, AckSummary { applied: 1, duplicates: 1, rejected: 1, flagged: 0 });
    assert_eq!(store.unsent_count().unwrap(), 0);
    let rejected = store.rejected_events().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].event.seq, 2);
    assert_eq!(rejected[0].errors[0].code, "unknown_hamlet");
    let status = store.sync_status().unwrap();
    assert_eq!((status.unsent, status.rejected), (0, 1));
}

#[test]
fn a_gap_answer_requeues_what_the_server_lost() {
    let mut store = enrolled();
    for i in 0..4 {
        household(&mut store, &format!("Hà Văn {i}"));
    }
    store.apply_push_response(&ack_all(&store, EventStatus::Applied)).unwrap();
    assert_eq!(store.unsent_count().unwrap(), 0);
    // the server was restored from an older backup: it only knows up to seq 2
    store
        .apply_push_response(&PushResponse { results: vec![], applied: vec![], last_seq: 2, expected_seq: Some(3) })
        .unwrap();
    let seqs: Vec<_> = store.outbox_batch(100, usize::MAX).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [3, 4]);
}

#[test]
fn a_pull_page_applies_foreign_events_once_and_moves_the_cursor_with_it() {
    let mut store = enrolled();
    let other_device = Uuid::now_v7();
    let mut rng = Rng::new(3);
    let (_, residents, payloads) = fixtures::household_payloads(&mut rng, "03445-02", 2);
    let mut events: Vec<PulledEvent> = payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| PulledEvent {
            server_seq: 10 + i as u64,
            event: fixtures::event(other_device, other_device, i as u64 + 1, p),
        })
        .collect();
    let page = PullResponse {
        cursor: 12,
        has_more: false,
        events: events.clone(),
        reset: None,
        epoch: "e1".into(),
        ..Default::default()
    };
    assert_eq!(store.apply_pull_page(&page).unwrap(), 3);
    assert_eq!(store.pull_cursor().unwrap(), 12);
    assert_eq!(store.apply_pull_page(&page).unwrap(), 0, "a replayed page changes nothing");
    assert_eq!(store.projection().unwrap().residents.len(), 2);
    assert_eq!(store.unsent_count().unwrap(), 0, "pulled events are never pushed back");
    // the local device can now visit people it learned about from the server
    store
        .record(Payload::VisitRecorded(VisitRecorded {
            steps: Vec::new(),
            visit_id: Uuid::now_v7(),
            resident_id: residents[0],
            status: FunnelState::ActivatedLevel1,
            reason_code: None,
            action: None,
            follow_up: None,
            note: None,
            position: None,
        }))
        .unwrap();
    events.clear();
    assert_eq!(store.unsent_count().unwrap(), 1);
}

#[test]
fn search_ignores_diacritics_case_and_normalization_form() {
    let mut store = enrolled();
    let nfd_name: String = "Nguyễn Văn An".nfd().collect();
    let h1 = household(&mut store, &nfd_name);
    let h2 = household(&mut store, "Đỗ Thị Hoa");
    store
        .record(Payload::ResidentAdded(ResidentAdded {
            resident_id: Uuid::now_v7(),
            household_id: h2,
            fields: ResidentFields {
                full_name: "Đặng Quang Tuấn".into(),
                birth_year: 2001,
                sex: Sex::Male,
                cccd: None,
                phone: None,
            },
        }))
        .unwrap();
    let find = |text: &str| -> Vec<Uuid> {
        store
            .households(&HouseholdQuery { text: text.into(), ..Default::default() })
            .unwrap()
            .into_iter()
            .map(|s| s.household.id)
            .collect()
    };
    assert_eq!(find("nguyen"), [h1]);
    assert_eq!(find("NGUYỄN an"), [h1]);
    assert_eq!(find(&"Nguyễn".nfc().collect::<String>()), [h1]);
    assert_eq!(find("do hoa"), [h2]);
    assert_eq!(find("dang tuan"), [h2], "residents' names are searched too");
    assert_eq!(find("100%"), Vec::<Uuid>::new(), "LIKE wildcards are literal");
    assert_eq!(find("").len(), 2);
    let unvisited =
        store.households(&HouseholdQuery { status: Some(StatusFilter::Unvisited), ..Default::default() }).unwrap();
    assert_eq!(unvisited.len(), 1);
    assert_eq!(unvisited[0].residents, 1);
}

#[test]
fn follow_up_due_and_done_filters_follow_the_volunteer_s_date() {
    use crate::forms::{NewResident, NewVisit};
    let mut store = enrolled();
    let person = |store: &mut DeviceStore, head: &str, visit: Option<(FunnelState, Option<&str>, Option<&str>)>| {
        let household_id = household(store, head);
        let fields =
            ResidentFields { full_name: head.into(), birth_year: 1990, sex: Sex::Male, cccd: None, phone: None };
        let resident_id = store.add_resident(NewResident { household_id, fields }).unwrap();
        if let Some((status, reason, follow_up)) = visit {
            store
                .record_visit(NewVisit {
                    steps: Vec::new(),
                    resident_id,
                    status,
                    reason_code: reason.map(Into::into),
                    action: None,
                    follow_up: follow_up.map(|d| d.parse().unwrap()),
                    note: None,
                    position: None,
                })
                .unwrap();
        }
        household_id
    };
    let pending = person(&mut store, "Chờ Duyệt", Some((FunnelState::RegisteredPending, None, Some("2026-11-20"))));
    let activated = person(&mut store, "Đã Xong", Some((FunnelState::ActivatedLevel1, None, None)));
    let absent = person(
        &mut store,
        "Vắng Nhà",
        Some((FunnelState::NotRegistered, Some("absent_unreachable"), Some("2026-11-30"))),
    );
    let refused = person(&mut store, "Từ Chối", Some((FunnelState::NotRegistered, Some("refused"), None)));
    person(&mut store, "Chưa Thăm", None);
    let list = |store: &DeviceStore, status, today: &str| -> Vec<Uuid> {
        let query = HouseholdQuery { status: Some(status), today: Some(today.parse().unwrap()), ..Default::default() };
        let mut ids: Vec<Uuid> = store.households(&query).unwrap().iter().map(|h| h.household.id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    assert_eq!(list(&store, StatusFilter::FollowUpDue, "2026-11-22"), [pending]);
    assert_eq!(list(&store, StatusFilter::FollowUpDue, "2026-11-30"), sorted(vec![pending, absent]), "due on its day");
    assert_eq!(list(&store, StatusFilter::Done, "2026-11-22"), sorted(vec![activated, refused]));
}

#[test]
fn the_list_pages_in_order_without_gaps_or_repeats() {
    let mut store = enrolled();
    let mut all: Vec<Uuid> = (0..7).map(|i| household(&mut store, &format!("Chủ hộ {i}"))).collect();
    all.sort_by_key(|id| {
        store.households(&HouseholdQuery::default()).unwrap().iter().position(|h| h.household.id == *id)
    });
    let page = |offset| -> Vec<Uuid> {
        let query = HouseholdQuery { limit: Some(3), offset: Some(offset), ..Default::default() };
        store.households(&query).unwrap().iter().map(|h| h.household.id).collect()
    };
    let paged: Vec<Uuid> = [0, 3, 6].into_iter().flat_map(page).collect();
    assert_eq!(paged, all);
    assert!(page(9).is_empty());
}

#[test]
fn re_enrolling_with_unsent_records_is_refused() {
    let mut store = enrolled();
    household(&mut store, "Hà Văn Chiến");
    let err = store.save_enrollment("http://127.0.0.1:9", &enroll_response(Uuid::now_v7())).unwrap_err();
    assert!(matches!(err, Error::UnsentData { count: 1 }), "{err}");
}

#[test]
fn everything_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sqlite");
    let before = {
        let mut store = DeviceStore::open(&path).unwrap();
        store.save_enrollment("http://127.0.0.1:9", &enroll_response(Uuid::now_v7())).unwrap();
        household(&mut store, "Hà Văn Chiến");
        store.projection().unwrap()
    };
    let store = DeviceStore::open(&path).unwrap();
    assert_eq!(store.projection().unwrap(), before);
    assert_eq!(store.unsent_count().unwrap(), 1);
    assert_eq!(store.hamlets().unwrap().len(), 4);
    let mode: String = store.connection().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    let sync: i64 = store.connection().query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2));
}

/// Acknowledges every queued event as the server would, giving each its place in server order.
fn ack_in_server_order(store: &mut DeviceStore, first_server_seq: u64) {
    let mut response = ack_all(store, EventStatus::Applied);
    for (i, r) in response.results.iter_mut().enumerate() {
        r.server_seq = Some(first_server_seq + i as u64);
    }
    store.apply_push_response(&response).unwrap();
}

#[test]
fn a_pulled_edit_never_overwrites_an_unsent_local_edit_and_both_sides_end_alike() {
    let mut store = enrolled();
    let h = household(&mut store, "Lò Văn Phóng");
    ack_in_server_order(&mut store, 1);
    let base = store.projection().unwrap().households[&h].version;
    let patch = |address: &str| {
        Payload::HouseholdPatched(crate::event::HouseholdPatch {
            household_id: h,
            base_version: base,
            address: Some(address.into()),
            head_name: None,
        })
    };
    // this phone corrects the address offline…
    store.record(patch("Số 9, Bản Nậm Củm")).unwrap();
    // …while another phone's correction of the same field reached the server first
    let other = Uuid::now_v7();
    let page = PullResponse {
        cursor: 2,
        has_more: false,
        events: vec![PulledEvent {
            server_seq: 2,
            event: fixtures::event(other, other, 1, patch("Số 4, Bản Nậm Củm")),
        }],
        reset: None,
        epoch: "e1".into(),
        ..Default::default()
    };
    store.apply_pull_page(&page).unwrap();
    let local = store.projection().unwrap().households[&h].clone();
    assert_eq!(local.address, "Số 9, Bản Nậm Củm", "the unsent local edit stays on top");
    assert_eq!(local.review, Some(crate::model::Review::Conflict));
    // the server applies this phone's edit after the other one: the same result
    let mut server = crate::reducer::MemoryState::new(fixtures::demo_places(), store.reasons().unwrap());
    for e in store.local_events().unwrap().iter().take(1) {
        server.apply(e).unwrap();
    }
    server.apply(&page.events[0].event).unwrap();
    server.apply(store.local_events().unwrap().last().unwrap()).unwrap();
    ack_in_server_order(&mut store, 3);
    assert_eq!(store.projection().unwrap().households[&h], server.projection.households[&h]);
}

#[test]
fn a_reset_forgets_pulled_events_keeps_local_ones_and_replays_after_the_last_page() {
    let mut store = enrolled();
    let other = Uuid::now_v7();
    let mut rng = Rng::new(5);
    let (_, residents, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    let pulled: Vec<PulledEvent> = payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| PulledEvent { server_seq: i as u64 + 1, event: fixtures::event(other, other, i as u64 + 1, p) })
        .collect();
    let page = |events: Vec<PulledEvent>, cursor, has_more, epoch: &str| PullResponse {
        events,
        cursor,
        has_more,
        reset: None,
        epoch: epoch.into(),
        ..Default::default()
    };
    store.apply_pull_page(&page(pulled.clone(), 3, false, "old")).unwrap();
    let visit = fixtures::visit_payload(&mut rng, residents[0], &[]);
    store.record(visit).unwrap();
    let before = store.projection().unwrap();
    store.begin_reset("new").unwrap();
    assert_eq!((store.pull_cursor().unwrap(), store.server_epoch().unwrap().as_str()), (0, "new"));
    assert_eq!(store.unsent_count().unwrap(), 1, "the unsent visit is kept");
    // the new database sends the same facts in two pages; the visit is replayed on top
    store.apply_pull_page(&page(pulled[..1].to_vec(), 1, true, "new")).unwrap();
    store.apply_pull_page(&page(pulled[1..].to_vec(), 3, false, "new")).unwrap();
    assert_eq!(store.projection().unwrap(), before);
}

#[test]
fn a_reset_keeps_the_server_order_of_local_events_only_for_a_scope_change_of_the_same_database() {
    let mut store = enrolled();
    household(&mut store, "Lò Văn Phóng");
    ack_in_server_order(&mut store, 7);
    let server_seq = |s: &DeviceStore| -> Option<u64> {
        s.connection().query_row("SELECT server_seq FROM events WHERE origin = 'local'", [], |r| r.get(0)).unwrap()
    };
    let places = fixtures::demo_places();
    let scope = places.iter().find(|p| p.code == "03445").unwrap().clone();
    store.apply_pull_page(&PullResponse { cursor: 7, epoch: "db-1".into(), ..Default::default() }).unwrap();
    store.change_scope(&Scope::single(scope.code.clone()), &places).unwrap();
    store.begin_reset("db-1").unwrap();
    assert_eq!(server_seq(&store), Some(7), "a scope change: same database, same order");
    assert_eq!(store.unsent_count().unwrap(), 0);
    store.begin_reset("db-1").unwrap();
    assert_eq!(server_seq(&store), None, "the same database restored from a backup: its order is another now");
    store.apply_push_response(&ack_all(&store, EventStatus::Duplicate)).unwrap();
    store.change_scope(&Scope::single(scope.code.clone()), &places).unwrap();
    store.begin_reset("db-2").unwrap();
    assert_eq!(server_seq(&store), None, "another database: the old order means nothing");
}

/// Another phone's household of two, pulled at `server_seq` 1–3 and recorded long ago.
fn pulled_household(store: &mut DeviceStore, seed: u64) -> (Vec<Uuid>, Vec<PulledEvent>) {
    let other = Uuid::now_v7();
    let mut rng = Rng::new(seed);
    let (_, residents, payloads) = fixtures::household_payloads(&mut rng, "03445-02", 2);
    let events: Vec<PulledEvent> = payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| PulledEvent { server_seq: i as u64 + 1, event: fixtures::event(other, other, i as u64 + 1, p) })
        .collect();
    let page =
        PullResponse { cursor: 3, has_more: false, events: events.clone(), epoch: "e1".into(), ..Default::default() };
    store.apply_pull_page(&page).unwrap();
    (residents, events)
}

/// A pull page that brings nothing new but moves the cursor (the server's order went on).
fn cursor_to(store: &mut DeviceStore, cursor: u64) {
    store.apply_pull_page(&PullResponse { cursor, epoch: "e1".into(), ..Default::default() }).unwrap();
}

#[test]
fn a_purge_folds_old_acknowledged_events_away_and_changes_nothing_shown() {
    let device = Uuid::now_v7();
    let twins = || {
        let mut store = DeviceStore::open_in_memory().unwrap();
        store.save_enrollment("http://127.0.0.1:9/", &enroll_response(device)).unwrap();
        store
    };
    let (mut kept, mut purged) = (twins(), twins());
    let old = fixtures::fixed_time();
    let mut rng = Rng::new(11);
    let (residents, _) = pulled_household(&mut kept, 8);
    pulled_household(&mut purged, 8);
    // this phone's household (acknowledged, server_seq 4 and on) and an unsent visit
    let (_, _, own) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    let visit = fixtures::visit_payload(&mut rng, residents[0], &[]);
    for store in [&mut kept, &mut purged] {
        for p in &own {
            store.record_at(p.clone(), old).unwrap();
        }
        ack_in_server_order(store, 4);
        cursor_to(store, 5);
        store.record(visit.clone()).unwrap();
    }
    let shown = purged.projection().unwrap();
    let events = purged.event_count().unwrap();

    let now = chrono::Utc::now();
    assert_eq!(purged.purge_acknowledged(old).unwrap(), 0, "nothing is older than the oldest");
    assert_eq!(purged.purge_acknowledged(now).unwrap(), 5, "the pulled three and this phone's two");
    assert_eq!(purged.event_count().unwrap(), events - 5);
    assert_eq!(purged.unsent_count().unwrap(), 1, "the unsent visit stays");
    assert_eq!(purged.projection().unwrap(), shown, "the phone shows the same");
    assert_eq!(purged.purge_acknowledged(now).unwrap(), 0, "a second purge finds nothing");

    // the server rejects the visit: both phones replay their log, and still agree
    for store in [&mut kept, &mut purged] {
        let mut answer = ack_all(store, EventStatus::Rejected);
        answer.results[0].errors = vec![FieldError::new("status", "x", "x", "x")];
        store.apply_push_response(&answer).unwrap();
    }
    assert_eq!(purged.projection().unwrap(), kept.projection().unwrap(), "a replay starts from the baseline");
    assert_eq!(purged.projection().unwrap().visits.len(), 0);
    assert_eq!(purged.projection().unwrap().residents.len(), 3);

    // numbering goes on above the purged events: no id is used twice
    let next = purged.record(fixtures::visit_payload(&mut rng, residents[1], &[])).unwrap();
    let twin = kept.record(fixtures::visit_payload(&mut rng, residents[1], &[])).unwrap();
    assert_eq!(next.seq, twin.seq);
    assert_eq!(next.seq, 4);
}

/// Makes the events `which` (an SQL condition) look acknowledged at `when`.
fn acknowledged_at(store: &DeviceStore, which: &str, when: chrono::DateTime<chrono::Utc>) {
    let when = when.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    store.conn.execute(&format!("UPDATE events SET acknowledged_at = ?1 WHERE {which}"), [when]).unwrap();
}

#[test]
fn only_a_prefix_of_the_server_order_up_to_the_cursor_is_purged() {
    let mut store = enrolled();
    let old = fixtures::fixed_time();
    pulled_household(&mut store, 9);
    acknowledged_at(&store, "origin = 'pulled'", old);
    let mut rng = Rng::new(12);
    let (_, _, own) = fixtures::household_payloads(&mut rng, "03445-01", 0);
    // this phone's household, acknowledged today: younger than the cut
    store.record(own[0].clone()).unwrap();
    ack_in_server_order(&mut store, 4);
    cursor_to(&mut store, 4);
    let cut = old + chrono::Duration::days(1);
    assert_eq!(store.purge_acknowledged(cut).unwrap(), 3, "the old pulled prefix only");
    // everything is old enough, but the cursor is at 4: a later pull may still bring 5
    let (_, _, more) = fixtures::household_payloads(&mut rng, "03445-01", 0);
    store.record_at(more[0].clone(), old).unwrap();
    ack_in_server_order(&mut store, 6);
    assert_eq!(store.purge_acknowledged(chrono::Utc::now()).unwrap(), 1, "up to the cursor, not beyond");
    assert_eq!(store.event_count().unwrap(), 1);
    cursor_to(&mut store, 6);
    assert_eq!(store.purge_acknowledged(chrono::Utc::now()).unwrap(), 1);
    assert_eq!(store.event_count().unwrap(), 0, "not one event left");
    // and still the next event is numbered after this phone's last: 3, never 1 again
    let (_, _, next) = fixtures::household_payloads(&mut rng, "03445-01", 0);
    assert_eq!(store.record(next[0].clone()).unwrap().seq, 3);
    assert_eq!(store.projection().unwrap().households.len(), 4);
}

#[test]
fn a_reset_after_a_purge_downloads_this_phone_s_own_events_again() {
    let mut store = enrolled();
    let old = fixtures::fixed_time();
    let (_, pulled) = pulled_household(&mut store, 10);
    let mut rng = Rng::new(13);
    let (_, _, own) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    for p in &own {
        store.record_at(p.clone(), old).unwrap();
    }
    ack_in_server_order(&mut store, 4);
    cursor_to(&mut store, 5);
    let own_events = store.local_events().unwrap();
    let shown = store.projection().unwrap();
    assert_eq!(store.purge_acknowledged(chrono::Utc::now()).unwrap(), 5);
    assert_eq!(store.event_count().unwrap(), 0);
    assert!(!store.pulls_own_events().unwrap());

    // the server moves this phone to another scope: everything comes down again, its own too
    store.begin_reset("e1").unwrap();
    assert!(store.pulls_own_events().unwrap(), "the next pulls ask for own events");
    let mut events = pulled.clone();
    events.extend(own_events.into_iter().enumerate().map(|(i, event)| PulledEvent { server_seq: 4 + i as u64, event }));
    let page = PullResponse { cursor: 5, has_more: false, events, epoch: "e1".into(), ..Default::default() };
    store.apply_pull_page(&page).unwrap();
    assert_eq!(store.projection().unwrap(), shown, "nothing was lost, nothing counted twice");
    assert!(!store.pulls_own_events().unwrap(), "the reset is over");
}

#[test]
fn an_erased_resident_leaves_the_log_the_projection_and_the_baseline() {
    use crate::erasure::ERASED_NAME;
    let mut store = enrolled();
    let (residents, _) = pulled_household(&mut store, 14);
    assert_eq!(store.purge_acknowledged(chrono::Utc::now()).unwrap(), 3, "the household is in the baseline now");
    let other = Uuid::now_v7();
    let visit = Payload::VisitRecorded(VisitRecorded {
        steps: Vec::new(),
        visit_id: Uuid::now_v7(),
        resident_id: residents[0],
        status: FunnelState::NotRegistered,
        reason_code: Some("refused".into()),
        action: None,
        follow_up: None,
        note: Some("nói chuyện với con gái".into()),
        position: None,
    });
    let page = PullResponse {
        cursor: 4,
        events: vec![PulledEvent { server_seq: 4, event: fixtures::event(other, other, 9, visit) }],
        epoch: "e1".into(),
        erased: vec![residents[0]],
        ..Default::default()
    };
    store.apply_pull_page(&page).unwrap();
    let check = |store: &DeviceStore, when: &str| {
        let p = store.projection().unwrap();
        let r = &p.residents[&residents[0]];
        assert_eq!((r.full_name.as_str(), r.cccd.as_deref(), r.phone.as_deref()), (ERASED_NAME, None, None), "{when}");
        assert_eq!(r.status, Some(FunnelState::NotRegistered), "{when}: the state stays");
        assert!(p.visits.values().all(|v| v.note.is_none()), "{when}: the note went");
        assert_ne!(p.residents[&residents[1]].full_name, ERASED_NAME, "{when}: the other resident stays");
    };
    check(&store, "after the page");
    let base: String = store
        .connection()
        .query_row("SELECT full_name FROM base_residents WHERE id = ?1", [residents[0].to_string()], |r| r.get(0))
        .unwrap();
    assert_eq!(base, ERASED_NAME, "the baseline forgot too");
    // a replay rebuilds from the baseline and the log: still erased
    household(&mut store, "Lò Văn Phóng");
    let mut answer = ack_all(&store, EventStatus::Rejected);
    answer.results[0].errors = vec![FieldError::new("hamlet_code", "x", "x", "x")];
    store.apply_push_response(&answer).unwrap();
    check(&store, "after a replay");
}

#[test]
fn a_phone_enrolled_again_numbers_its_new_device_from_one() {
    let mut store = enrolled();
    let mut rng = Rng::new(15);
    let (_, _, own) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    for p in &own {
        store.record_at(p.clone(), fixtures::fixed_time()).unwrap();
    }
    ack_in_server_order(&mut store, 1);
    cursor_to(&mut store, 2);
    assert_eq!(store.purge_acknowledged(chrono::Utc::now()).unwrap(), 2);
    // the old device's numbers stay taken…
    store.save_enrollment("http://127.0.0.1:9/", &enroll_response(Uuid::now_v7())).unwrap();
    // …but a new device starts its own sequence, as the server expects
    let (_, _, next) = fixtures::household_payloads(&mut rng, "03445-01", 0);
    assert_eq!(store.record(next[0].clone()).unwrap().seq, 1);
}

/// Retention's cut `days` before `today`.
fn cut(today: chrono::DateTime<chrono::Utc>, days: i64) -> chrono::DateTime<chrono::Utc> {
    today - chrono::Duration::days(days)
}

#[test]
fn retention_ages_an_event_by_its_acknowledgement_not_its_recording() {
    let mut store = enrolled();
    let mut rng = Rng::new(16);
    let (_, _, own) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    // recorded 40 days ago, offline all that time…
    let recorded = chrono::Utc::now() - chrono::Duration::days(40);
    for p in &own {
        store.record_at(p.clone(), recorded).unwrap();
    }
    // …and acknowledged by the server today
    ack_in_server_order(&mut store, 1);
    cursor_to(&mut store, 2);
    let today = chrono::Utc::now();
    assert_eq!(store.purge_acknowledged(cut(today, 30)).unwrap(), 0, "acknowledged today: kept");
    assert_eq!(store.event_count().unwrap(), 2);
    assert_eq!(store.purge_acknowledged(cut(today + chrono::Duration::days(29), 30)).unwrap(), 0, "29 days on: kept");
    assert_eq!(store.purge_acknowledged(cut(today + chrono::Duration::days(31), 30)).unwrap(), 2, "31 days on: gone");
    assert_eq!(store.event_count().unwrap(), 0);
}

#[test]
fn a_page_pulled_today_ages_from_today() {
    let mut store = enrolled();
    // another phone's household, recorded long ago, reaches this phone only now
    pulled_household(&mut store, 17);
    let today = chrono::Utc::now();
    assert_eq!(store.purge_acknowledged(cut(today, 30)).unwrap(), 0);
    assert_eq!(store.purge_acknowledged(cut(today + chrono::Duration::days(31), 30)).unwrap(), 3);
}

/// Whether each of this phone's events is queued for the server, by sequence.
fn queued(store: &DeviceStore) -> Vec<u64> {
    store.outbox_batch(1000, usize::MAX).unwrap().iter().map(|e| e.seq).collect()
}

#[test]
fn a_server_restored_from_a_backup_gets_every_event_this_phone_still_holds_again() {
    let mut store = enrolled();
    // three households of this phone, acknowledged at server_seq 1–3, and the cursor past them
    for head in ["Lò Văn Páo", "Hà Thị Nga", "Lò Thị Lan"] {
        household(&mut store, head);
    }
    ack_in_server_order(&mut store, 1);
    cursor_to(&mut store, 3);
    let shown = store.projection().unwrap();
    assert_eq!(store.unsent_count().unwrap(), 0);

    // the server is restored from a backup taken after the first: same database (epoch), but its
    // order ends at 1, so the cursor points past it and the pull answers `reset: other_epoch`
    store.begin_reset("e1").unwrap();
    assert_eq!(queued(&store), [1, 2, 3], "every event of this phone goes to the server again");
    let page = PullResponse { cursor: 1, has_more: false, epoch: "e1".into(), ..Default::default() };
    store.apply_pull_page(&page).unwrap();
    assert_eq!(store.projection().unwrap(), shown, "the reset shows the same");
    // other phones push two events to the restored server; its order passes the old numbers
    cursor_to(&mut store, 3);
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    assert_eq!(store.purge_acknowledged(cut(later, 30)).unwrap(), 0, "nothing queued is purged");
    assert_eq!(store.event_count().unwrap(), 3);

    // the next push: the server has the first (a duplicate), and stores the two it lost after its own
    let mut answer = ack_all(&store, EventStatus::Applied);
    answer.results[0].status = EventStatus::Duplicate;
    for (result, server_seq) in answer.results.iter_mut().zip([1, 4, 5]) {
        result.server_seq = Some(server_seq);
    }
    let summary = store.apply_push_response(&answer).unwrap();
    assert_eq!((summary.applied, summary.duplicates), (2, 1));
    assert_eq!(store.unsent_count().unwrap(), 0);
    let order: Vec<Option<u64>> = {
        let mut stmt = store.connection().prepare("SELECT server_seq FROM events ORDER BY seq").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(order, [Some(1), Some(4), Some(5)], "the restored server's order");
    // acknowledged again today: they age from now
    cursor_to(&mut store, 5);
    assert_eq!(store.purge_acknowledged(cut(chrono::Utc::now(), 30)).unwrap(), 0);
    assert_eq!(store.purge_acknowledged(cut(later, 30)).unwrap(), 3);
    assert_eq!(store.projection().unwrap(), shown);
}

#[test]
fn another_server_database_gets_every_event_this_phone_still_holds_again() {
    let mut store = enrolled();
    household(&mut store, "Lò Văn Páo");
    household(&mut store, "Hà Thị Nga");
    ack_in_server_order(&mut store, 1);
    cursor_to(&mut store, 2);
    household(&mut store, "Lò Thị Lan");
    store.begin_reset("e2").unwrap();
    assert_eq!(queued(&store), [1, 2, 3], "the acknowledged two again, and the unsent one");
}

#[test]
fn a_scope_change_sends_nothing_again() {
    let mut store = enrolled();
    household(&mut store, "Lò Văn Páo");
    ack_in_server_order(&mut store, 1);
    cursor_to(&mut store, 1);
    let places = fixtures::demo_places();
    let hamlet = places.iter().find(|p| p.code == "03445-02").unwrap().clone();
    store.change_scope(&Scope::single(hamlet.code.clone()), &places).unwrap();
    store.begin_reset("e1").unwrap();
    assert_eq!(store.unsent_count().unwrap(), 0, "same database: the server has them all");
}

#[test]
fn a_resent_event_the_restored_server_already_had_puts_the_pulled_visits_that_need_it_back() {
    let mut store = enrolled();
    let mut rng = Rng::new(41);
    let (_, residents, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 1);
    for p in payloads {
        store.record(p).unwrap();
    }
    ack_in_server_order(&mut store, 1);
    // another phone's visit to this phone's resident
    let other = Uuid::now_v7();
    let visit = fixtures::event(other, other, 1, fixtures::visit_payload(&mut rng, residents[0], &[]));
    let page = |epoch: &str| PullResponse {
        events: vec![PulledEvent { server_seq: 3, event: visit.clone() }],
        cursor: 3,
        epoch: epoch.into(),
        ..Default::default()
    };
    store.apply_pull_page(&page("db-1")).unwrap();
    assert_eq!(store.projection().unwrap().residents[&residents[0]].visit_count, 1);

    // the server was restored from a backup that holds all three: the phone starts over and
    // resends its own events, which the page's visit needs
    store.begin_reset("db-2").unwrap();
    store.apply_pull_page(&page("db-2")).unwrap();
    let mut answer = ack_all(&store, EventStatus::Duplicate);
    for (i, r) in answer.results.iter_mut().enumerate() {
        r.server_seq = Some(1 + i as u64);
    }
    store.apply_push_response(&answer).unwrap();
    let projection = store.projection().unwrap();
    assert_eq!(projection.residents[&residents[0]].visit_count, 1, "the visit counts again");
    assert_eq!(projection.visits.len(), 1);
    assert_eq!(store.unsent_count().unwrap(), 0);
}

#[test]
fn an_officer_made_volunteer_drops_the_acknowledged_log_and_keeps_what_is_unsent() {
    let mut response = enroll_response(Uuid::now_v7());
    response.user.role = Role::CommunePolice;
    let mut store = DeviceStore::open_in_memory().unwrap();
    store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
    household(&mut store, "Lò Văn Phóng");
    ack_in_server_order(&mut store, 1);
    cursor_to(&mut store, 1);
    let unsent = household(&mut store, "Cầm Thị Hoa");
    store.save_import_layout("fingerprint", "{}").unwrap();

    // a volunteer made team leader: only the enrollment changes
    let mut same_view = DeviceStore::open_in_memory().unwrap();
    same_view.save_enrollment("http://127.0.0.1:9/", &enroll_response(Uuid::now_v7())).unwrap();
    household(&mut same_view, "Lò Văn Phóng");
    ack_in_server_order(&mut same_view, 1);
    same_view.change_role(Role::TeamLeader).unwrap();
    assert_eq!(same_view.enrollment().unwrap().unwrap().role, Role::TeamLeader);
    assert_eq!(same_view.event_count().unwrap(), 1, "nothing dropped");
    assert!(!same_view.pulls_own_events().unwrap());

    store.change_role(Role::Volunteer).unwrap();
    assert_eq!(store.enrollment().unwrap().unwrap().role, Role::Volunteer);
    let left = store.local_events().unwrap();
    assert_eq!(left.len(), 1, "the acknowledged event left, the unsent one stayed");
    assert_eq!(left[0].seq, 2);
    assert_eq!(store.unsent_count().unwrap(), 1);
    assert!(store.pulls_own_events().unwrap(), "the reset brings the acknowledged ones back, masked");
    assert!(store.import_layouts().unwrap().is_empty());
    // the next event numbers on above the dropped ones
    let next = household(&mut store, "Vì Văn Công");
    assert_eq!(store.local_events().unwrap().last().unwrap().seq, 3);
    store.begin_reset("e1").unwrap();
    let page = PullResponse { cursor: 1, has_more: false, epoch: "e1".into(), ..Default::default() };
    store.apply_pull_page(&page).unwrap();
    let held = store.projection().unwrap();
    assert!(held.households.contains_key(&unsent) && held.households.contains_key(&next));
    assert_eq!(store.unsent_count().unwrap(), 2, "unsent work is never lost");
}
