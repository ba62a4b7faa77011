//! Every method of the storage seam on PostgreSQL: what goes in comes back out, as the SQLite
//! backend gives it.

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use common::*;
use gocua_core::event::Payload;
use gocua_core::funnel::{ChecklistStep, FunnelState, VisitAction};
use gocua_core::model::{Household, Resident, Review, Sex, Visit};
use gocua_core::places::{Place, PlaceLevel};
use gocua_core::reasons::Reason;
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::{Role, UserInfo};
use gocua_core::text::fold;
use gocua_server_postgres::PgStore;
use gocua_server_postgres::testing::TestDatabase;
use gocua_server_store::*;
use uuid::Uuid;

const NONE: [u64; 0] = [];

fn write<R>(store: &PgStore, f: impl FnMut(&mut dyn Tx) -> StoreResult<R>) -> R {
    run_write(store, f).unwrap()
}

fn read<R>(store: &PgStore, f: impl FnMut(&mut dyn Tx) -> StoreResult<R>) -> R {
    run_read(store, f).unwrap()
}

#[test]
fn a_lineage_is_read_in_one_query_as_the_walk_reads_it_and_a_loop_is_an_error() {
    let (_db, store, _) = seeded();
    read(&store, |tx| {
        let codes = |places: Vec<Place>| places.into_iter().map(|p| p.code).collect::<Vec<_>>();
        assert_eq!(codes(tx.lineage("03445-02")?), ["12", "03445", "03445-02"]);
        let walked = gocua_core::places::lineage_with("03445-02", |c| tx.place(c), looped)?;
        assert_eq!(tx.lineage("03445-02")?, walked);
        assert_eq!(tx.lineage("nowhere")?, vec![]);
        let wanted = ["03445-03".to_owned(), "03445-02".to_owned(), "nowhere".to_owned()];
        let mut found = codes(tx.lineages(&wanted)?);
        found.sort();
        assert_eq!(found, ["03445", "03445-02", "03445-03", "12"], "each place once, unknown codes left out");
        Ok(())
    });
    let place = |code: &str, parent: &str| Place {
        code: code.into(),
        name: format!("Vòng {code}"),
        level: PlaceLevel::Hamlet,
        parent_code: Some(parent.into()),
        division_type: "thôn".into(),
    };
    write(&store, |tx| {
        tx.upsert_places(&[place("loop-a", "03445"), place("loop-b", "loop-a")])?;
        tx.upsert_places(&[place("loop-a", "loop-b")])
    });
    let error = run_read(&store, |tx| tx.lineage("loop-b")).unwrap_err();
    assert!(error.to_string().contains("loops"), "{error}");
}

#[test]
fn places_and_reasons_round_trip() {
    let (_db, store, _) = seeded();
    let places = gocua_core::fixtures::demo_places();
    read(&store, |tx| {
        assert_eq!(tx.place("03445")?.as_ref(), Some(&places[1]));
        assert_eq!(tx.place("nowhere")?, None);
        let codes = vec!["03445-02".to_owned(), "12".to_owned(), "nowhere".to_owned()];
        let found: Vec<String> = tx.places(&codes)?.into_iter().map(|p| p.code).collect();
        assert_eq!(found, ["03445-02", "12"]);
        // by name, bytewise as SQLite's BINARY: "Bản Mường Tè" < "Bản Nậm Củm" < "Bản Pa Ủ" < "Bản Phìn Khò"
        let children: Vec<String> = tx.children("03445")?.into_iter().map(|p| p.name).collect();
        assert_eq!(children, ["Bản Mường Tè", "Bản Nậm Củm", "Bản Pa Ủ", "Bản Phìn Khò"]);
        assert_eq!(place_path(tx, "03445-03")?.as_deref(), Some("/12/03445/03445-03/"));
        let reasons = tx.reasons()?;
        assert_eq!(reasons.all().len(), 13, "common/0001 and 0005 seed 13 reasons");
        let prison = reasons.get("in_prison").unwrap();
        assert!(prison.police_only && !prison.can_activate_later && !prison.requires_note);
        assert!(reasons.get("other").unwrap().requires_note);
        assert_eq!(reasons.get("withheld").unwrap().sort_order, 1000);
        Ok(())
    });

    let renamed = Place { name: "Bản Nậm Củm mới".into(), ..places[2].clone() };
    let new = Place {
        code: "03445-05".into(),
        name: "Bản Mới".into(),
        level: PlaceLevel::Hamlet,
        division_type: "bản".into(),
        parent_code: Some("03445".into()),
    };
    let reason = Reason {
        code: "lc_farming_season".into(),
        label_vi: "Đi nương".into(),
        label_en: "Away at the fields".into(),
        can_activate_later: true,
        police_only: false,
        requires_note: false,
        province_code: Some("12".into()),
        sort_order: 200,
    };
    write(&store, |tx| {
        // the same code twice in one call: the last wins, as row-by-row upserts would
        assert_eq!(tx.upsert_places(&[places[2].clone(), new.clone(), renamed.clone()])?, 2);
        tx.upsert_reasons(std::slice::from_ref(&reason))?;
        tx.upsert_reasons(&[Reason { label_en: "Away for the season".into(), ..reason.clone() }])
    });
    read(&store, |tx| {
        assert_eq!(tx.place("03445-01")?.unwrap().name, "Bản Nậm Củm mới");
        assert_eq!(tx.place("03445-05")?.as_ref(), Some(&new));
        let reasons = tx.reasons()?;
        assert_eq!(reasons.all().len(), 14);
        assert_eq!(reasons.get("lc_farming_season").unwrap().label_en, "Away for the season");
        assert_eq!(reasons.all().last().unwrap().code, "withheld", "ordered by sort_order");
        Ok(())
    });
}

#[test]
fn users_scopes_codes_and_former_places_round_trip() {
    let (_db, store, volunteer) = seeded();
    let leader = actor("Tổ trưởng", Role::TeamLeader, &["03445-03", "03445-01", "03445-04"]);
    write(&store, |tx| tx.insert_user(&leader.user));
    read(&store, |tx| {
        assert_eq!(tx.user(volunteer.user.id)?.as_ref(), Some(&volunteer.user));
        let got = tx.user(leader.user.id)?.unwrap();
        assert_eq!(got.scope.codes(), ["03445-01", "03445-03", "03445-04"]);
        assert_eq!(got, leader.user);
        assert_eq!(tx.user(Uuid::now_v7())?, None);
        assert_eq!(tx.user_named("Lò Thị Lan", &volunteer.user.scope)?.as_ref(), Some(&volunteer.user));
        assert_eq!(tx.user_named("Lò Thị Lan", &Scope::single("03445-01"))?, None, "a scope is the whole set");
        assert_eq!(tx.user_named("Ai đó", &volunteer.user.scope)?, None);
        let infos = tx.user_infos(&[leader.user.id, Uuid::now_v7(), volunteer.user.id])?;
        let mut expected = vec![
            UserInfo { id: volunteer.user.id, name: "Lò Thị Lan".into(), role: Role::Volunteer },
            UserInfo { id: leader.user.id, name: "Tổ trưởng".into(), role: Role::TeamLeader },
        ];
        expected.sort_by_key(|u| u.id);
        assert_eq!(infos, expected);
        Ok(())
    });

    // the first by creation, among namesakes of the same scope
    let mut twin = actor("Lò Thị Lan", Role::Volunteer, &["03445-02", "03445-01"]);
    twin.user.created_at = volunteer.user.created_at + Duration::seconds(5);
    write(&store, |tx| tx.insert_user(&twin.user));
    read(&store, |tx| {
        assert_eq!(tx.user_named("Lò Thị Lan", &volunteer.user.scope)?.unwrap().id, volunteer.user.id);
        Ok(())
    });

    let until = now();
    write(&store, |tx| {
        tx.set_user_scope(volunteer.user.id, &Scope::single("03445"))?;
        tx.add_former_places(volunteer.user.id, &["03445-02".into(), "03445-01".into(), "03445-02".into()], until)?;
        tx.add_former_places(volunteer.user.id, &["03445-01".into()], until + Duration::hours(1))
    });
    read(&store, |tx| {
        assert_eq!(tx.user(volunteer.user.id)?.unwrap().scope, Scope::single("03445"));
        assert_eq!(tx.former_places(volunteer.user.id)?, ["03445-01", "03445-02"]);
        assert_eq!(tx.former_places(leader.user.id)?, Vec::<String>::new());
        // what a request's authentication reads, in one query: the same as the three reads
        for key in [DeviceKey::TokenHash(&volunteer.device.token_hash), DeviceKey::Id(volunteer.device.id)] {
            let holder = tx.device_holder(key)?.unwrap();
            assert_eq!(holder.device, tx.device(DeviceKey::Id(volunteer.device.id))?.unwrap());
            assert_eq!(holder.user, tx.user(volunteer.user.id)?.unwrap());
            assert_eq!(holder.former_places, ["03445-01", "03445-02"]);
        }
        assert!(tx.device_holder(DeviceKey::TokenHash("unknown"))?.is_none());
        Ok(())
    });

    let code = CodeRow {
        code_hash: "ab".repeat(32),
        user_id: volunteer.user.id,
        created_at: now(),
        expires_at: now() + Duration::hours(72),
        used_at: None,
    };
    write(&store, |tx| tx.insert_code(&code));
    let used_at = now();
    let (first, second) = write(&store, |tx| {
        Ok((
            tx.use_code(&code.code_hash, used_at, volunteer.device.id)?,
            tx.use_code(&code.code_hash, now(), Uuid::nil())?,
        ))
    });
    assert!(first && !second, "a code is used once");
    read(&store, |tx| {
        assert_eq!(tx.code(&code.code_hash)?, Some(CodeRow { used_at: Some(used_at), ..code.clone() }));
        assert_eq!(tx.code("00")?, None);
        Ok(())
    });
}

#[test]
fn devices_round_trip() {
    let (_db, store, volunteer) = seeded();
    let mut second = actor("Máy hai", Role::Volunteer, &["03445-01"]).device;
    second.user_id = volunteer.user.id;
    second.enrolled_at = volunteer.device.enrolled_at + Duration::seconds(1);
    second.signing_key = Some("a2V5".into());
    write(&store, |tx| tx.insert_device(&second));
    read(&store, |tx| {
        assert_eq!(tx.device(DeviceKey::Id(volunteer.device.id))?.as_ref(), Some(&volunteer.device));
        assert_eq!(tx.device(DeviceKey::TokenHash(&second.token_hash))?.as_ref(), Some(&second));
        assert_eq!(tx.device(DeviceKey::TokenHash("nope"))?, None);
        let ids: Vec<Uuid> = tx.devices(Some(volunteer.user.id))?.into_iter().map(|d| d.id).collect();
        assert_eq!(ids, [second.id, volunteer.device.id], "newest first");
        assert_eq!(tx.devices(None)?.len(), 2);
        assert_eq!(tx.devices(Some(Uuid::now_v7()))?, vec![]);
        Ok(())
    });
    let (at, seen) = (now(), now() + Duration::seconds(3));
    let (revoked, again) = write(&store, |tx| {
        tx.record_push(second.id, 42, seen, "0.2.0")?;
        Ok((tx.revoke_device(second.id, at)?, tx.revoke_device(second.id, now())?))
    });
    assert!(revoked && !again);
    read(&store, |tx| {
        let d = tx.device(DeviceKey::Id(second.id))?.unwrap();
        assert_eq!(
            d,
            DeviceRow {
                last_seq: 42,
                last_seen_at: Some(seen),
                app_version: Some("0.2.0".into()),
                revoked_at: Some(at),
                ..second.clone()
            }
        );
        Ok(())
    });
}

#[test]
fn events_round_trip_and_the_pull_filters() {
    let (_db, store, volunteer) = seeded();
    let other = actor("Người khác", Role::Volunteer, &["03445"]);
    write(&store, |tx| {
        tx.insert_user(&other.user)?;
        tx.insert_device(&other.device)
    });
    // 1, 2: volunteer's, hamlet 1 and 2; 3: other's, hamlet 1; 4: rejected; 5: other's, hamlet 3;
    // 6: no place; 7: other's, hamlet 2 (flagged)
    let e: Vec<_> = vec![
        event(&volunteer, 1, household_created(1, "A")),
        event(&volunteer, 2, household_created(2, "B")),
        event(&other, 1, household_created(1, "C")),
        event(&volunteer, 3, household_created(1, "D")),
        event(&other, 2, household_created(3, "E")),
        event(&other, 3, household_created(4, "F")),
        event(&other, 4, household_created(2, "G")),
    ];
    let received = now();
    let errors = r#"[{"field":"author","code":"author_mismatch"}]"#;
    let rows = [
        applied(1, &e[0], &hamlet_path(1)),
        applied(2, &e[1], &hamlet_path(2)),
        applied(3, &e[2], &hamlet_path(1)),
        NewEvent {
            place_path: None,
            status: StoredStatus::Rejected(Some(errors.into())),
            received_at: received,
            ..applied(4, &e[3], "")
        },
        applied(5, &e[4], &hamlet_path(3)),
        NewEvent { place_path: None, ..applied(6, &e[5], "") },
        NewEvent { flags: Some(r#"["clock_ahead"]"#.into()), ..applied(7, &e[6], &hamlet_path(2)) },
    ];
    write(&store, |tx| {
        assert_eq!(tx.last_server_seq()?, 0);
        tx.insert_events(&rows[..3])?;
        tx.insert_events(&rows[3..])
    });
    read(&store, |tx| {
        assert_eq!(tx.last_server_seq()?, 7);
        assert_eq!(tx.count_events("applied")?, 6);
        assert_eq!(tx.count_events("rejected")?, 1);
        let outcomes = tx.stored_outcomes(&[e[3].id, Uuid::now_v7(), e[0].id])?;
        assert_eq!(
            outcomes,
            vec![
                StoredOutcome { id: e[0].id, server_seq: 1, status: StoredStatus::Applied },
                StoredOutcome { id: e[3].id, server_seq: 4, status: StoredStatus::Rejected(Some(errors.into())) },
            ]
        );
        let scope = vec![hamlet_path(1), hamlet_path(2)];
        let pull = |tx: &mut dyn Tx, after, limit, paths: &[String], include_own| -> StoreResult<Vec<u64>> {
            let q = EventQuery { after, limit, paths, device: volunteer.device.id, include_own };
            Ok(tx.applied_events(&q)?.into_iter().map(|(s, _)| s).collect())
        };
        assert_eq!(pull(tx, 0, 100, &scope, false)?, [3, 7], "others' applied events in the scope");
        assert_eq!(pull(tx, 0, 100, &scope, true)?, [1, 2, 3, 7], "with its own");
        assert_eq!(pull(tx, 2, 100, &scope, true)?, [3, 7], "after a cursor");
        assert_eq!(pull(tx, 0, 2, &scope, true)?, [1, 2], "at most limit");
        assert_eq!(pull(tx, 0, 100, &["/12/03445/".into()], true)?, [1, 2, 3, 5, 7], "a commune");
        assert_eq!(pull(tx, 0, 100, &["/12/".into()], true)?, [1, 2, 3, 5, 7], "a province");
        assert_eq!(pull(tx, 1, 2, &["/12/".into()], false)?, [3, 5], "a province, after, at most, not its own");
        assert_eq!(pull(tx, 0, 100, &["/13/".into()], true)?, NONE, "another province");
        assert_eq!(
            pull(tx, 0, 100, &["/12/03445/".into(), hamlet_path(1)], true)?,
            [1, 2, 3, 5, 7],
            "overlapping paths find an event once"
        );
        assert_eq!(pull(tx, 0, 100, &["/12/03445/03445-0/".into()], true)?, NONE, "no such place");
        assert_eq!(pull(tx, 0, 100, &["/12/03445_03445-01/".into()], true)?, NONE, "_ is no wildcard");
        assert_eq!(pull(tx, 0, 100, &[], true)?, NONE);
        let page = tx.applied_events(&EventQuery {
            after: 0,
            limit: 1,
            paths: &scope,
            device: volunteer.device.id,
            include_own: false,
        })?;
        assert_eq!(page, vec![(3, e[2].clone())], "the event comes back whole");
        Ok(())
    });

    // a resident's data export finds events by the ids in their payload
    let household = match &e[0].payload {
        Payload::HouseholdCreated(p) => p.household_id,
        _ => unreachable!(),
    };
    read(&store, |tx| {
        let found = tx.events_mentioning(household)?;
        assert_eq!(found.len(), 1);
        let m = &found[0];
        assert_eq!((m.server_seq, m.type_name.as_str(), m.status.as_str()), (1, "household_created.v1", "applied"));
        assert_eq!((m.payload.clone(), m.device_time), (e[0].payload.clone(), e[0].device_time));
        assert_eq!((m.author_name.as_str(), m.device_name.as_str()), ("Lò Thị Lan", "Lò Thị Lan's phone"));
        Ok(())
    });
    let redacted = household_created(1, "Đã xoá theo yêu cầu");
    write(&store, |tx| tx.rewrite_payload(1, &redacted));
    read(&store, |tx| {
        let page = tx.applied_events(&EventQuery {
            after: 0,
            limit: 1,
            paths: &[hamlet_path(1)],
            device: volunteer.device.id,
            include_own: true,
        })?;
        assert_eq!(page[0].1.payload, redacted);
        Ok(())
    });

    // the same event id or the same (device, seq) twice is refused, and nothing of that write stays
    let err = run_write(&store, |tx| tx.insert_events(&[applied(8, &e[0], &hamlet_path(1))])).unwrap_err();
    assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 7);
}

fn household(n: usize, head: &str) -> Household {
    Household {
        id: Uuid::now_v7(),
        hamlet_code: format!("03445-{n:02}"),
        address: "Số 7 đường Bờ suối".into(),
        head_name: head.into(),
        members: Some(4),
        smartphones: None,
        has_internet_computer: Some(false),
        version: 3,
        review: Some(Review::ParallelUpdate),
        field_versions: BTreeMap::from([("address".into(), 2), ("head_name".into(), 3)]),
        removed: None,
    }
}

fn resident(household: &Household, name: &str) -> Resident {
    Resident {
        id: Uuid::now_v7(),
        household_id: household.id,
        full_name: name.into(),
        birth_year: 1988,
        sex: Sex::Female,
        cccd: Some("038188654321".into()),
        phone: Some("0987650321".into()),
        version: 1,
        review: None,
        field_versions: BTreeMap::new(),
        status: Some(FunnelState::NotRegistered),
        reason_code: Some("absent_unreachable".into()),
        follow_up: NaiveDate::from_ymd_opt(2026, 11, 2),
        deciding_visit: Some(Uuid::now_v7()),
        visit_count: 2,
        removed: Some("duplicate".into()),
        claim_check: Some(gocua_core::spotcheck::CheckOutcome::Wrong),
        checked_visit: Some(Uuid::now_v7()),
        merged_into: Some(Uuid::now_v7()),
    }
}

fn visit(resident: &Resident, author: &Actor, note: Option<&str>) -> Visit {
    Visit {
        id: Uuid::now_v7(),
        resident_id: resident.id,
        status: FunnelState::NotRegistered,
        reason_code: Some("other".into()),
        action: Some(VisitAction::GuidedLevel1),
        follow_up: NaiveDate::from_ymd_opt(2026, 11, 9),
        steps: vec![ChecklistStep::InstallApp, ChecklistStep::FaceCheck],
        note: note.map(str::to_owned),
        author: author.user.id,
        device_id: author.device.id,
        device_time: now(),
        position: None,
        review: Some(gocua_core::model::Review::ClockAhead),
    }
}

#[test]
fn the_projection_round_trips() {
    let (_db, store, volunteer) = seeded();
    let h1 = household(1, "Vi Văn Chủ");
    let mut h2 = household(2, "Lò Văn Hai");
    h2.members = None;
    h2.has_internet_computer = None;
    h2.review = None;
    h2.removed = Some("duplicate".into());
    let r1 = resident(&h1, "Vi Thị Một");
    let mut r2 = resident(&h1, "Vi Văn Hai");
    r2.cccd = None;
    r2.status = None;
    r2.follow_up = None;
    r2.deciding_visit = None;
    r2.review = Some(Review::Conflict);
    let v1 = visit(&r1, &volunteer, Some("ghi chú"));
    let mut v2 = visit(&r1, &volunteer, None);
    v2.steps = vec![];
    v2.action = None;
    v2.reason_code = None;
    write(&store, |tx| {
        tx.put_households(&[h1.clone(), h2.clone()])?;
        tx.put_residents(&[r1.clone(), r2.clone()])?;
        tx.add_visits(&[v1.clone(), v2.clone()])
    });
    read(&store, |tx| {
        assert_eq!(tx.households(&[h2.id, Uuid::now_v7(), h1.id])?, vec![h1.clone(), h2.clone()]);
        assert_eq!(tx.residents(&[r2.id, r1.id])?, vec![r1.clone(), r2.clone()]);
        assert_eq!(tx.visits_existing(&[v2.id, Uuid::now_v7()])?, vec![v2.id]);
        assert_eq!(tx.visits_of(r1.id)?, vec![v2.clone(), v1.clone()], "newest first");
        assert_eq!(tx.visits_of(r2.id)?, vec![]);
        let dump = tx.dump_projection()?;
        assert_eq!(dump.households.len(), 2);
        assert_eq!(dump.residents[&r2.id], r2);
        assert_eq!(dump.visits[&v1.id], v1);
        Ok(())
    });

    // put again replaces (the last of one id in a call wins); a visit id is taken once
    let h1b = Household { version: 4, head_name: "Vi Văn Mới".into(), ..h1.clone() };
    let r1b = Resident { visit_count: 3, status: Some(FunnelState::ActivatedLevel2), ..r1.clone() };
    write(&store, |tx| {
        tx.put_households(&[h1.clone(), h1b.clone()])?;
        tx.put_residents(std::slice::from_ref(&r1b))
    });
    assert!(run_write(&store, |tx| tx.add_visits(std::slice::from_ref(&v1))).is_err());
    read(&store, |tx| {
        assert_eq!(tx.households(&[h1.id])?, vec![h1b.clone()]);
        assert_eq!(tx.residents(&[r1.id])?, vec![r1b.clone()]);
        Ok(())
    });
    // the search keys fold as the reducer's SQL does
    let mut client = _db.client();
    let key: String = client.query_one("SELECT search_key FROM households WHERE id = $1", &[&h1.id]).unwrap().get(0);
    assert_eq!(key, fold("Vi Văn Mới Số 7 đường Bờ suối"));
    let key: String = client.query_one("SELECT search_key FROM residents WHERE id = $1", &[&r2.id]).unwrap().get(0);
    assert_eq!(key, fold("Vi Văn Hai"));
}

#[test]
fn erasures_and_redaction() {
    let (db, store, volunteer) = seeded();
    let h = household(1, "Vi Thị Sentinel");
    let r = resident(&h, "Vi Thị Sentinel");
    let v = visit(&r, &volunteer, Some("ghi chú riêng"));
    let other_h = household(2, "Lò Văn Khác");
    write(&store, |tx| {
        tx.put_households(&[h.clone(), other_h.clone()])?;
        tx.put_residents(std::slice::from_ref(&r))?;
        tx.add_visits(std::slice::from_ref(&v))
    });
    let erasure = ErasureRow {
        resident_id: r.id,
        place_path: hamlet_path(1),
        at_seq: 12,
        erased_at: now(),
        erased_by: "Cán bộ A".into(),
    };
    let names = vec!["Vi Thị Sentinel".to_owned()];
    write(&store, |tx| {
        tx.redact_projection(r.id, h.id, &names, "Đã xoá theo yêu cầu")?;
        tx.redact_projection(r.id, other_h.id, &names, "Đã xoá theo yêu cầu")?;
        tx.put_erasure(&erasure)
    });
    read(&store, |tx| {
        let got = tx.residents(&[r.id])?.remove(0);
        assert_eq!(
            (got.full_name.as_str(), got.cccd.as_deref(), got.phone.as_deref()),
            ("Đã xoá theo yêu cầu", None, None)
        );
        assert_eq!(got.birth_year, r.birth_year, "what counts without naming stays");
        assert_eq!(tx.visits_of(r.id)?[0].note, None);
        assert_eq!(tx.households(&[h.id])?[0].head_name, "Đã xoá theo yêu cầu");
        assert_eq!(tx.households(&[other_h.id])?[0].head_name, "Lò Văn Khác", "another name stays");
        assert_eq!(tx.erasure(r.id)?.as_ref(), Some(&erasure));
        assert_eq!(tx.erased_among(&[Uuid::now_v7(), r.id])?, vec![r.id]);
        assert_eq!(tx.erased_since(&["/12/03445/".into()], 12)?, vec![r.id]);
        assert_eq!(tx.erased_since(&[hamlet_path(2), hamlet_path(1)], 0)?, vec![r.id]);
        assert_eq!(tx.erased_since(&[hamlet_path(2)], 0)?, Vec::<Uuid>::new());
        assert_eq!(tx.erased_since(&["/12/03445/".into()], 13)?, Vec::<Uuid>::new(), "the phone pulled after it");
        Ok(())
    });
    let mut client = db.client();
    let keys: (String, String) = {
        let row = client
            .query_one(
                "SELECT r.search_key, h.search_key FROM residents r JOIN households h ON h.id = r.household_id
                 WHERE r.id = $1",
                &[&r.id],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(keys, (fold("Đã xoá theo yêu cầu"), fold("Đã xoá theo yêu cầu Số 7 đường Bờ suối")));

    // erased again: the row keeps its place path, the rest is the new erasure's
    let again =
        ErasureRow { place_path: "/elsewhere/".into(), at_seq: 20, erased_by: "Cán bộ B".into(), ..erasure.clone() };
    write(&store, |tx| tx.put_erasure(&again));
    read(&store, |tx| {
        assert_eq!(tx.erasure(r.id)?, Some(ErasureRow { place_path: hamlet_path(1), ..again.clone() }));
        Ok(())
    });
}

#[test]
fn the_audit_log_round_trips_and_is_append_only() {
    let (db, store, _) = seeded();
    let rows: Vec<AuditRow> = (1..=3)
        .map(|seq| AuditRow {
            seq,
            at: "2026-10-01T08:00:00.123456789+00:00".into(),
            actor_user: (seq != 2).then(|| Uuid::now_v7().to_string()),
            actor_device: None,
            action: "push".into(),
            detail: format!(r#"{{"applied":{seq},"server_seq":[null,null]}}"#),
            prev_hash: format!("{:064}", seq - 1),
            hash: format!("{seq:064}"),
        })
        .collect();
    assert_eq!(read(&store, |tx| tx.audit_head()), None);
    write(&store, |tx| rows.iter().try_for_each(|r| tx.insert_audit(r)));
    read(&store, |tx| {
        assert_eq!(tx.audit_head()?, Some((3, rows[2].hash.clone())));
        assert_eq!(tx.audit_rows(0, 100)?, rows);
        assert_eq!(tx.audit_rows(1, 1)?, vec![rows[1].clone()]);
        Ok(())
    });
    let mut client = db.client();
    for sql in [
        "UPDATE audit_log SET detail = '{}' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
        "TRUNCATE audit_log",
    ] {
        let err = client.batch_execute(sql).unwrap_err();
        let message = err.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
        assert_eq!(message, "nhật ký kiểm tra chỉ được ghi thêm / the audit log is append-only", "{sql}");
    }
    assert_eq!(read(&store, |tx| tx.audit_rows(0, 100)).len(), 3);
}

#[test]
fn server_keys_bundle_imports_and_the_epoch() {
    let (db, store, volunteer) = seeded();
    let key = |fp: &str, secret: u8| ServerKeyRow {
        fingerprint: fp.into(),
        public_key: format!("pub-{fp}"),
        secret_key: vec![secret; 32],
        created_at: now(),
    };
    write(&store, |tx| {
        assert_eq!(tx.server_key(None)?, None);
        tx.insert_server_key_if_absent(&key("aa", 1))?;
        tx.insert_server_key_if_absent(&key("bb", 2))
    });
    read(&store, |tx| {
        assert_eq!(tx.server_key(None)?, Some(vec![1; 32]), "the first key stays");
        assert_eq!(tx.server_key(Some("aa"))?, Some(vec![1; 32]));
        assert_eq!(tx.server_key(Some("bb"))?, None);
        Ok(())
    });

    let start = BundleImportStart {
        sha256: "cd".repeat(32),
        device_id: Some(volunteer.device.id),
        events: Some(12),
        imported_by: "Cán bộ xã".into(),
        started_at: now(),
    };
    let refused = BundleImportStart { device_id: None, events: None, ..start.clone() };
    let (first, second) = write(&store, |tx| Ok((tx.start_bundle_import(&start)?, tx.start_bundle_import(&refused)?)));
    assert!(second > first);
    write(&store, |tx| {
        tx.finish_bundle_import(
            first,
            &BundleImportEnd {
                applied: 10,
                flagged: 1,
                duplicates: 1,
                rejected: 1,
                seqs: Some((1, 12)),
                finished_at: now(),
                outcome: "imported",
                reason: None,
            },
        )
    });
    read(&store, |tx| {
        let rows = tx.bundle_imports()?;
        assert_eq!(
            rows,
            vec![
                BundleImportRow {
                    id: first,
                    start: start.clone(),
                    outcome: "imported".into(),
                    reason: None,
                    counts: (10, 1, 1, 1)
                },
                BundleImportRow {
                    id: second,
                    start: refused.clone(),
                    outcome: "started".into(),
                    reason: None,
                    counts: (0, 0, 0, 0)
                },
            ]
        );
        Ok(())
    });

    let epoch = read(&store, |tx| tx.epoch());
    assert_eq!(epoch.len(), 32);
    assert!(epoch.bytes().all(|b| b.is_ascii_hexdigit()));
    drop(store);
    let reopened = PgStore::open(db.url(), None).unwrap();
    assert_eq!(read(&reopened, |tx| tx.epoch()), epoch, "the epoch is made once, at the first migration");
    let other = TestDatabase::new();
    let other_store = PgStore::open(other.url(), None).unwrap();
    assert_ne!(read(&other_store, |tx| tx.epoch()), epoch, "another database has another");
}

#[test]
fn a_transaction_commits_all_or_nothing() {
    let (_db, store, volunteer) = seeded();
    let e = event(&volunteer, 1, household_created(1, "A"));
    // the closure's own error rolls back
    let err = store
        .write_tx(&mut |tx| {
            tx.insert_events(&[applied(1, &e, &hamlet_path(1))])?;
            Err(StoreError::RolledBack)
        })
        .unwrap_err();
    assert_eq!(err, StoreError::RolledBack);
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 0);
    // a failed statement whose error the closure swallowed: PostgreSQL aborted the transaction,
    // so nothing commits and the statement's error comes back
    let err = store
        .write_tx(&mut |tx| {
            tx.insert_events(&[applied(1, &e, &hamlet_path(1))])?;
            let _ = tx.insert_user(&UserRow { name: "x".into(), ..volunteer.user.clone() });
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(&err, StoreError::Failed(m) if m.contains("users_pkey")), "{err:?}");
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 0);
    // reads cannot write
    let err = run_read(&store, |tx| tx.insert_events(&[applied(1, &e, &hamlet_path(1))])).unwrap_err();
    assert!(matches!(&err, StoreError::Failed(m) if m.contains("read-only")), "{err:?}");
    // the pool is fine afterwards
    write(&store, |tx| tx.insert_events(&[applied(1, &e, &hamlet_path(1))]));
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 1);
    // a panic inside a transaction leaves no transaction open on a pooled connection
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.write_tx(&mut |tx| {
            tx.record_push(volunteer.device.id, 99, now(), "x")?;
            panic!("boom");
        });
    }));
    assert!(panicked.is_err());
    for _ in 0..20 {
        let d = read(&store, |tx| tx.device(DeviceKey::Id(volunteer.device.id))).unwrap();
        assert_eq!(d.last_seq, 0);
    }
}

#[test]
fn the_store_describes_itself_and_leaves_backups_to_pg_dump() {
    let db = TestDatabase::new();
    let url = db.url().replacen("postgres@", "postgres:s3cret@", 1);
    let store = PgStore::open(&url, None).unwrap();
    let info = store.describe();
    assert_eq!(info.kind, "postgres");
    assert!(!info.location.contains("s3cret") && info.location.contains(db.name()), "{}", info.location);
    assert!(!info.replica);
    assert!(!format!("{store:?}").contains("s3cret"));
    let ready = store.readiness().unwrap();
    assert_eq!(ready.migrations_applied, ready.migrations_expected);
    assert_eq!((ready.replica_lag, ready.replica_error), (None, None));
    match store.backup(std::path::Path::new("/tmp/x")) {
        Err(StoreError::Unsupported(m)) => assert!(m.contains("pg_dump -Fc"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn migrations_run_once_when_servers_start_together() {
    let db = TestDatabase::new();
    let stores: Vec<PgStore> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| PgStore::open(db.url(), None).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let epochs: Vec<String> = stores.iter().map(|s| read(s, |tx| tx.epoch())).collect();
    assert!(epochs.windows(2).all(|w| w[0] == w[1]));
    let mut client = db.client();
    let applied: i64 = client.query_one("SELECT count(*) FROM schema_migrations", &[]).unwrap().get(0);
    assert_eq!(applied as u32, stores[0].readiness().unwrap().migrations_expected);
    let reasons: i64 = client.query_one("SELECT count(*) FROM reasons", &[]).unwrap().get(0);
    assert_eq!(reasons, 13);
}

#[test]
fn reads_go_to_the_replica_or_else_to_the_primary() {
    let (db, _, volunteer) = seeded();
    // any server answers as a "replica" (not in recovery: lag 0)
    let store = PgStore::open(db.url(), Some(db.url())).unwrap();
    assert!(store.describe().replica);
    let (found, replica) = run_replica_read(&store, |tx| tx.device(DeviceKey::Id(volunteer.device.id))).unwrap();
    assert!(replica && found.is_some());
    let ready = store.readiness().unwrap();
    assert_eq!((ready.replica_lag, ready.replica_error), (Some(std::time::Duration::ZERO), None));

    // a replica that cannot be reached: the primary serves, and readiness says why
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let gone = format!("postgres://postgres@127.0.0.1:{closed}/gocua");
    let store = PgStore::open(db.url(), Some(&gone)).unwrap();
    for _ in 0..3 {
        let (found, replica) = run_replica_read(&store, |tx| tx.device(DeviceKey::Id(volunteer.device.id))).unwrap();
        assert!(!replica && found.is_some());
    }
    let ready = store.readiness().unwrap();
    assert_eq!(ready.replica_lag, None);
    assert!(ready.replica_error.is_some());
}

#[test]
fn writes_wait_in_the_pipeline_and_travel_with_the_next_answer_or_the_commit() {
    let (_db, store, volunteer) = seeded();
    let events: Vec<_> = (1..=3).map(|seq| event(&volunteer, seq, household_created(seq as usize, "Hộ"))).collect();
    // a transaction of writes only: they travel with the COMMIT, and all of them land
    let before = store.round_trips();
    write(&store, |tx| {
        tx.insert_events(&[applied(1, &events[0], &hamlet_path(1))])?;
        tx.record_push(volunteer.device.id, 1, now(), "1.0")
    });
    let spent = store.round_trips() - before;
    assert!(spent <= 3, "BEGIN, two writes and COMMIT in one round trip (+ each first prepare): {spent}");
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 1);
    assert_eq!(read(&store, |tx| tx.device(DeviceKey::Id(volunteer.device.id))).unwrap().last_seq, 1);

    // once prepared: a read, two writes, a read, a write and the commit are three round trips
    let before = store.round_trips();
    write(&store, |tx| {
        let last = tx.last_server_seq()?;
        tx.insert_events(&[applied(last + 1, &events[1], &hamlet_path(1))])?;
        tx.record_push(volunteer.device.id, 2, now(), "1.0")?;
        assert_eq!(tx.last_server_seq()?, 2, "a read sees the writes sent before it");
        tx.insert_events(&[applied(last + 2, &events[2], &hamlet_path(1))])
    });
    assert_eq!(store.round_trips() - before, 3);
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 3);

    // a transaction that sends nothing costs nothing
    let before = store.round_trips();
    write(&store, |_| Ok(()));
    assert_eq!(store.round_trips(), before);
}

#[test]
fn a_waiting_write_that_fails_fails_its_transaction_and_nothing_of_it_lands() {
    let (_db, store, volunteer) = seeded();
    let first = event(&volunteer, 1, household_created(1, "Hộ"));
    write(&store, |tx| tx.insert_events(&[applied(1, &first, &hamlet_path(1))]));
    let again = event(&volunteer, 1, household_created(2, "Hộ khác"));
    let device_before = read(&store, |tx| tx.device(DeviceKey::Id(volunteer.device.id))).unwrap();

    // failing at the commit: the other write of the transaction is rolled back with it
    let error = run_write(&store, |tx| {
        tx.record_push(volunteer.device.id, 9, now(), "9.9")?;
        tx.insert_events(&[applied(2, &again, &hamlet_path(1))])
    })
    .unwrap_err();
    assert!(error.to_string().contains("events_device_id_seq_key"), "{error}");
    let device = read(&store, |tx| tx.device(DeviceKey::Id(volunteer.device.id))).unwrap();
    assert_eq!(device.app_version, device_before.app_version, "the other write did not land");
    assert_eq!(device.last_seq, device_before.last_seq);

    // failing at the next read: the read answers the write's error, and the closure stops
    let mut read_after = None;
    let error = run_write(&store, |tx| {
        tx.insert_events(&[applied(2, &again, &hamlet_path(1))])?;
        read_after = Some(tx.last_server_seq());
        read_after.clone().unwrap().map(|_| ())
    })
    .unwrap_err();
    assert!(error.to_string().contains("events_device_id_seq_key"), "{error}");
    assert!(matches!(read_after, Some(Err(StoreError::Failed(_)))), "{read_after:?}");
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 1);

    // the connection goes on serving
    let second = event(&volunteer, 2, household_created(2, "Hộ"));
    write(&store, |tx| tx.insert_events(&[applied(2, &second, &hamlet_path(1))]));
    assert_eq!(read(&store, |tx| tx.last_server_seq()), 2);
}
