//! Reducer rules: every funnel state, every reason, CCCD checks, review flags, order independence.

use chrono::NaiveDate;
use proptest::prelude::*;
use rstest::rstest;
use uuid::Uuid;

use super::*;
use crate::event::{
    HouseholdCreated, HouseholdEdited, HouseholdPatch, HouseholdRemoved, HouseholdSurveyed, ResidentAdded,
    ResidentEdited, ResidentPatch, VisitRecorded,
};
use crate::fixtures::{self, Rng};
use crate::funnel::FunnelState;
use crate::model::Review;
use crate::model::Sex;
use crate::store::DeviceStore;

fn seeded_reasons() -> ReasonCatalog {
    DeviceStore::open_in_memory().unwrap().reasons().unwrap()
}

fn state() -> MemoryState {
    let mut places = fixtures::demo_places();
    places.push(Place {
        code: "01".into(),
        name: "Thành phố Hà Nội".into(),
        level: PlaceLevel::Province,
        division_type: "thành phố trung ương".into(),
        parent_code: None,
    });
    let mut reasons = seeded_reasons().all().to_vec();
    reasons.push(Reason {
        code: "hn_seasonal_worker".into(),
        label_vi: "Lao động thời vụ".into(),
        label_en: "Seasonal worker away".into(),
        can_activate_later: true,
        police_only: false,
        requires_note: false,
        province_code: Some("01".into()),
        sort_order: 500,
    });
    MemoryState::new(places, ReasonCatalog::new(reasons))
}

struct World {
    state: MemoryState,
    device: Uuid,
    author: Uuid,
    seq: u64,
}

impl World {
    fn new() -> Self {
        World { state: state(), device: Uuid::now_v7(), author: Uuid::now_v7(), seq: 0 }
    }
    fn apply(&mut self, payload: Payload) -> Result<(), Vec<FieldError>> {
        self.seq += 1;
        let event = fixtures::event(self.device, self.author, self.seq, payload);
        self.state.apply(&event)
    }
    fn household(&mut self) -> Uuid {
        let id = Uuid::now_v7();
        self.apply(Payload::HouseholdCreated(HouseholdCreated {
            household_id: id,
            hamlet_code: "03445-01".into(),
            address: "Số 3, Bản Nậm Củm".into(),
            head_name: "Lò Văn Phóng".into(),
        }))
        .unwrap();
        id
    }
    fn resident(&mut self, household_id: Uuid) -> Uuid {
        let id = Uuid::now_v7();
        self.apply(Payload::ResidentAdded(ResidentAdded {
            resident_id: id,
            household_id,
            fields: ResidentFields {
                full_name: "Lò Thị Lan".into(),
                birth_year: 1989,
                sex: Sex::Female,
                cccd: Some("012189000123".into()),
                phone: Some("0912 345 678".into()),
            },
        }))
        .unwrap();
        id
    }
    fn visit(
        &mut self,
        resident_id: Uuid,
        status: FunnelState,
        reason: Option<&str>,
        note: Option<&str>,
    ) -> Result<(), Vec<FieldError>> {
        self.apply(Payload::VisitRecorded(VisitRecorded {
            steps: Vec::new(),
            visit_id: Uuid::now_v7(),
            resident_id,
            status,
            reason_code: reason.map(str::to_owned),
            action: None,
            follow_up: NaiveDate::from_ymd_opt(2026, 10, 5),
            note: note.map(str::to_owned),
            position: None,
        }))
    }
}

fn codes(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.code.as_str()).collect()
}

#[test]
fn the_seeded_catalog_holds_every_reason_of_the_domain() {
    let catalog = seeded_reasons();
    let codes: Vec<_> = catalog.all().iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "in_prison",
            "abroad",
            "absent_unreachable",
            "needs_phone_update",
            "needs_unlock",
            "needs_device_change",
            "no_smartphone",
            "not_eligible",
            "deceased",
            "moved_away",
            "refused",
            "other",
            "withheld"
        ]
    );
    assert!(catalog.get("in_prison").unwrap().police_only);
    // what a non-police phone shows in place of a police-only reason: last, never sensitive
    let withheld = catalog.get(crate::privacy::WITHHELD_REASON).unwrap();
    assert!(!withheld.police_only && !withheld.can_activate_later && !withheld.requires_note);
    assert!(!catalog.get("in_prison").unwrap().can_activate_later);
    assert!(catalog.get("needs_unlock").unwrap().can_activate_later);
    assert!(catalog.get("other").unwrap().requires_note);
}

#[rstest]
fn every_funnel_state_can_be_recorded(
    #[values(
        FunnelState::NoChipCccd,
        FunnelState::NotRegistered,
        FunnelState::RegisteredPending,
        FunnelState::ApprovedNotActivated,
        FunnelState::ActivatedLevel1,
        FunnelState::ActivatedLevel2,
        FunnelState::UsedPortal
    )]
    status: FunnelState,
) {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    w.visit(r, status, None, None).unwrap();
    let resident = &w.state.projection.residents[&r];
    assert_eq!(resident.status, Some(status));
    assert_eq!(resident.visit_count, 1);
    assert_eq!(w.state.projection.visits.len(), 1);
}

#[test]
fn the_checklist_is_recorded_and_a_status_that_contradicts_it_is_refused() {
    use crate::funnel::ChecklistStep::{ActivateSms, FaceCheck, InstallApp, RegisterLevel1};
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    // activated with the SMS code, yet "not registered": typed twice, differently
    let errors =
        w.apply(visit_of(r, FunnelState::NotRegistered, vec![InstallApp, RegisterLevel1, FaceCheck, ActivateSms]));
    assert_eq!(codes(&errors.unwrap_err()), ["contradicts_checklist"]);
    w.apply(visit_of(r, FunnelState::RegisteredPending, vec![InstallApp, RegisterLevel1, FaceCheck])).unwrap();
    assert_eq!(w.state.projection.residents[&r].status, Some(FunnelState::RegisteredPending));
    let visit = w.state.projection.visits.values().next().unwrap();
    assert_eq!(visit.steps, [InstallApp, RegisterLevel1, FaceCheck], "each ticked step is recorded");
    // a level-2 account may have been made at the police counter whatever the phone steps say
    w.apply(visit_of(r, FunnelState::ActivatedLevel2, vec![InstallApp, ActivateSms])).unwrap();
}

fn visit_of(resident_id: Uuid, status: FunnelState, steps: Vec<crate::funnel::ChecklistStep>) -> Payload {
    Payload::VisitRecorded(VisitRecorded {
        visit_id: Uuid::now_v7(),
        resident_id,
        status,
        reason_code: None,
        action: None,
        follow_up: None,
        steps,
        note: None,
        position: None,
    })
}

#[test]
fn every_reason_applies_to_a_not_activated_person_and_is_refused_for_an_activated_one() {
    let catalog = seeded_reasons();
    for reason in catalog.all() {
        let mut w = World::new();
        let h = w.household();
        let r = w.resident(h);
        let note = reason.requires_note.then_some("Đi làm ăn xa, không rõ ngày về");
        w.visit(r, FunnelState::ApprovedNotActivated, Some(&reason.code), note)
            .unwrap_or_else(|e| panic!("{}: {e:?}", reason.code));
        assert_eq!(w.state.projection.residents[&r].reason_code.as_deref(), Some(reason.code.as_str()));
        for activated in [FunnelState::ActivatedLevel1, FunnelState::ActivatedLevel2, FunnelState::UsedPortal] {
            let err = w.visit(r, activated, Some(&reason.code), note).unwrap_err();
            assert_eq!(codes(&err), ["reason_with_activated"], "{}", reason.code);
        }
    }
}

#[test]
fn a_reason_that_needs_a_note_is_refused_without_one() {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    assert_eq!(codes(&w.visit(r, FunnelState::NotRegistered, Some("other"), None).unwrap_err()), ["note_required"]);
    assert_eq!(
        codes(&w.visit(r, FunnelState::NotRegistered, Some("other"), Some("   ")).unwrap_err()),
        ["note_required"]
    );
    w.visit(r, FunnelState::NotRegistered, Some("other"), Some("Đi rừng")).unwrap();
}

#[rstest]
#[case::unknown("bogus")]
#[case::other_provinces("hn_seasonal_worker")]
fn unknown_or_foreign_reasons_are_refused(#[case] code: &str) {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    let err = w.visit(r, FunnelState::ApprovedNotActivated, Some(code), None).unwrap_err();
    assert_eq!(codes(&err), ["unknown_reason"]);
    assert!(w.state.projection.visits.is_empty(), "a refused visit leaves no trace");
}

#[rstest]
#[case::year_mismatch("012088000123", 1989, Sex::Female, "cccd_birth_year_mismatch")]
#[case::century_mismatch("012389000123", 1989, Sex::Female, "cccd_birth_year_mismatch")]
#[case::sex_mismatch("012089000123", 1989, Sex::Female, "cccd_sex_mismatch")]
#[case::format("01218900012", 1989, Sex::Female, "cccd_format")]
fn residents_with_inconsistent_cccd_are_refused(
    #[case] cccd: &str,
    #[case] year: i32,
    #[case] sex: Sex,
    #[case] code: &str,
) {
    let mut w = World::new();
    let h = w.household();
    let err = w
        .apply(Payload::ResidentAdded(ResidentAdded {
            resident_id: Uuid::now_v7(),
            household_id: h,
            fields: ResidentFields {
                full_name: "Lò Thị Lan".into(),
                birth_year: year,
                sex,
                cccd: Some(cccd.into()),
                phone: None,
            },
        }))
        .unwrap_err();
    assert_eq!(codes(&err), [code]);
    assert!(w.state.projection.residents.is_empty());
}

#[test]
fn several_field_errors_come_back_together() {
    let mut w = World::new();
    let h = w.household();
    let event_year = fixtures::fixed_time().year();
    let err = w
        .apply(Payload::ResidentAdded(ResidentAdded {
            resident_id: Uuid::now_v7(),
            household_id: h,
            fields: ResidentFields {
                full_name: " ".into(),
                birth_year: event_year + 1,
                sex: Sex::Male,
                cccd: None,
                phone: Some("12345".into()),
            },
        }))
        .unwrap_err();
    assert_eq!(codes(&err), ["required", "birth_year_out_of_range", "phone_format"]);
}

#[test]
fn households_need_a_known_hamlet_and_sane_survey_answers() {
    let mut w = World::new();
    for hamlet in ["nowhere", "03445"] {
        let err = w
            .apply(Payload::HouseholdCreated(HouseholdCreated {
                household_id: Uuid::now_v7(),
                hamlet_code: hamlet.into(),
                address: "x".into(),
                head_name: "Hà Văn Chiến".into(),
            }))
            .unwrap_err();
        assert_eq!(codes(&err), ["unknown_hamlet"], "{hamlet} is not a hamlet");
    }
    let h = w.household();
    let survey = |members, smartphones| {
        Payload::HouseholdSurveyed(HouseholdSurveyed {
            household_id: h,
            members,
            smartphones,
            has_internet_computer: true,
        })
    };
    assert_eq!(codes(&w.apply(survey(3, 4)).unwrap_err()), ["smartphones_exceed_members"]);
    assert_eq!(codes(&w.apply(survey(0, 0)).unwrap_err()), ["members_out_of_range"]);
    w.apply(survey(4, 2)).unwrap();
    let hh = &w.state.projection.households[&h];
    assert_eq!((hh.members, hh.smartphones, hh.has_internet_computer), (Some(4), Some(2), Some(true)));
    let err = w
        .apply(Payload::HouseholdSurveyed(HouseholdSurveyed {
            household_id: Uuid::now_v7(),
            members: 1,
            smartphones: 0,
            has_internet_computer: false,
        }))
        .unwrap_err();
    assert_eq!(codes(&err), ["unknown_household"]);
}

#[test]
fn edits_from_the_same_base_are_both_applied_and_flagged_for_review() {
    let mut w = World::new();
    let h = w.household();
    let edit = |base, address: &str| {
        Payload::HouseholdEdited(HouseholdEdited {
            household_id: h,
            base_version: base,
            address: address.into(),
            head_name: "Lò Văn Phóng".into(),
        })
    };
    w.apply(edit(1, "Số 5")).unwrap();
    assert_eq!(w.state.projection.households[&h].review, None);
    w.apply(edit(1, "Số 7")).unwrap();
    let hh = &w.state.projection.households[&h];
    // both v1 edits changed the address from version 1: the later arrival wins, flagged
    assert_eq!((hh.version, hh.address.as_str(), hh.review), (3, "Số 7", Some(Review::Conflict)));

    let r = w.resident(h);
    let fields =
        ResidentFields {
            full_name: "Lò Thị Lan".into(), birth_year: 1989, sex: Sex::Female, cccd: None, phone: None
        };
    w.apply(Payload::ResidentEdited(ResidentEdited { resident_id: r, base_version: 1, fields: fields.clone() }))
        .unwrap();
    assert_eq!(w.state.projection.residents[&r].review, None);
    // the same values again from the same base: nothing differs, so not a conflict
    w.apply(Payload::ResidentEdited(ResidentEdited { resident_id: r, base_version: 1, fields })).unwrap();
    assert_eq!(w.state.projection.residents[&r].review, Some(Review::ParallelUpdate));
}

#[test]
fn patches_of_different_fields_from_one_base_both_apply_as_a_parallel_update() {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    let patch = |p: ResidentPatch| Payload::ResidentPatched(ResidentPatch { resident_id: r, base_version: 1, ..p });
    w.apply(patch(ResidentPatch { phone: Some("0987654321".into()), ..Default::default() })).unwrap();
    w.apply(patch(ResidentPatch { full_name: Some("Lò Thị Hoa".into()), ..Default::default() })).unwrap();
    let res = &w.state.projection.residents[&r];
    assert_eq!(
        (res.phone.as_deref(), res.full_name.as_str(), res.version, res.review),
        (Some("0987654321"), "Lò Thị Hoa", 3, Some(Review::ParallelUpdate))
    );
    assert_eq!(res.field_versions.get("phone"), Some(&2));
    assert_eq!(res.field_versions.get("full_name"), Some(&3));
    // an edit based on the latest version earns no new review, and never clears one
    let clear_phone =
        ResidentPatch { resident_id: r, base_version: 3, phone: Some(String::new()), ..Default::default() };
    w.apply(Payload::ResidentPatched(clear_phone)).unwrap();
    let res = &w.state.projection.residents[&r];
    assert_eq!((res.phone.as_deref(), res.review), (None, Some(Review::ParallelUpdate)));
}

#[test]
fn patches_of_the_same_field_from_one_base_are_a_conflict_and_the_later_arrival_wins() {
    let mut w = World::new();
    let h = w.household();
    let patch = |name: &str| {
        Payload::HouseholdPatched(HouseholdPatch {
            household_id: h,
            base_version: 1,
            head_name: Some(name.into()),
            ..Default::default()
        })
    };
    w.apply(patch("Lò Văn Pha")).unwrap();
    w.apply(patch("Lò Văn Pháng")).unwrap();
    let hh = &w.state.projection.households[&h];
    assert_eq!((hh.head_name.as_str(), hh.review), ("Lò Văn Pháng", Some(Review::Conflict)));
}

#[test]
fn a_patch_is_validated_on_the_merged_record() {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    // a CCCD whose century/sex digit contradicts the recorded birth year and sex
    let err = w
        .apply(Payload::ResidentPatched(ResidentPatch {
            resident_id: r,
            base_version: 1,
            cccd: Some("012089000123".into()),
            ..Default::default()
        }))
        .unwrap_err();
    assert!(codes(&err).iter().all(|c| c.starts_with("cccd")), "{err:?}");
}

#[test]
fn a_tombstone_marks_the_household_removed_and_later_visits_are_still_kept() {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    let remove = |reason: &str| Payload::HouseholdRemoved(HouseholdRemoved { household_id: h, reason: reason.into() });
    assert_eq!(codes(&w.apply(remove("bored")).unwrap_err()), ["unknown_removal_reason"]);
    w.apply(remove("duplicate")).unwrap();
    w.apply(remove("moved_away")).unwrap();
    assert_eq!(w.state.projection.households[&h].removed.as_deref(), Some("duplicate"));
    w.visit(r, FunnelState::ActivatedLevel2, None, None).unwrap();
    assert_eq!(w.state.projection.residents[&r].visit_count, 1);
}

#[test]
fn a_person_s_tombstone_marks_them_removed_once_and_later_visits_are_still_kept() {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    let remove = |reason: &str| {
        Payload::ResidentRemoved(crate::event::ResidentRemoved { resident_id: r, reason: reason.into() })
    };
    assert_eq!(codes(&w.apply(remove("bored")).unwrap_err()), ["unknown_removal_reason"]);
    assert_eq!(remove("import_undone").schema(), 6, "older apps cannot read it");
    w.apply(remove(crate::event::IMPORT_UNDONE)).unwrap();
    w.apply(remove("duplicate")).unwrap();
    assert_eq!(w.state.projection.residents[&r].removed.as_deref(), Some("import_undone"), "the first removal stays");
    assert_eq!(w.state.projection.households[&h].removed, None, "the household is not removed with them");
    w.visit(r, FunnelState::ActivatedLevel1, None, None).unwrap();
    assert_eq!(w.state.projection.residents[&r].visit_count, 1);
    let gone = Uuid::now_v7();
    let err = w.apply(Payload::ResidentRemoved(crate::event::ResidentRemoved {
        resident_id: gone,
        reason: "duplicate".into(),
    }));
    assert!(err.is_err(), "an unknown person cannot be removed");
}

fn merged(kept: Uuid, merged: Uuid) -> Payload {
    Payload::ResidentsMerged(crate::event::ResidentsMerged { kept, merged })
}

#[test]
fn a_merge_gives_the_kept_record_every_visit_the_furthest_outcome_and_what_it_lacked() {
    let mut w = World::new();
    let (typed_home, imported_home) = (w.household(), w.household());
    let typed = w.resident(typed_home);
    let imported = w.resident(imported_home);
    // the imported record has no phone; the typed one was visited twice, once activated
    w.apply(Payload::ResidentPatched(ResidentPatch {
        resident_id: imported,
        base_version: 1,
        phone: Some(String::new()),
        ..Default::default()
    }))
    .unwrap();
    w.visit(typed, FunnelState::NotRegistered, Some("absent_unreachable"), None).unwrap();
    w.visit(typed, FunnelState::ActivatedLevel2, None, None).unwrap();
    w.visit(imported, FunnelState::ApprovedNotActivated, None, None).unwrap();
    assert_eq!(merged(imported, typed).schema(), 7, "older apps cannot read it");

    w.apply(merged(imported, typed)).unwrap();
    let p = &w.state.projection;
    let (kept, gone) = (&p.residents[&imported], &p.residents[&typed]);
    assert_eq!((kept.status, kept.visit_count), (Some(FunnelState::ActivatedLevel2), 3));
    assert_eq!(kept.phone.as_deref(), Some("0912345678"), "the phone it lacked");
    assert_eq!(kept.reason_code, None);
    assert_eq!((gone.removed.as_deref(), gone.merged_into, gone.visit_count), (Some("merged"), Some(imported), 0));
    assert!(p.visits.values().all(|v| v.resident_id == imported), "every visit is the kept person's");

    // a phone that had not heard of the merge records a visit on the merged record
    w.visit(typed, FunnelState::NotRegistered, Some("absent_unreachable"), None).unwrap();
    let p = &w.state.projection;
    assert_eq!(p.residents[&imported].visit_count, 4);
    assert_eq!(p.residents[&typed].visit_count, 0);
    assert_eq!(p.visits.len(), 4);
    assert!(p.visits.values().all(|v| v.resident_id == imported));

    // the same merge again changes nothing; the other way round, or a record with itself, is refused
    let before = w.state.projection.clone();
    w.apply(merged(imported, typed)).unwrap();
    assert_eq!(w.state.projection, before);
    assert_eq!(codes(&w.apply(merged(typed, imported)).unwrap_err()), ["removed"]);
    assert_eq!(codes(&w.apply(merged(imported, imported)).unwrap_err()), ["same_person"]);
}

#[test]
fn a_merge_of_merges_follows_to_the_person_kept_and_other_hamlets_are_refused() {
    let mut w = World::new();
    let home = w.household();
    let (a, b, c) = (w.resident(home), w.resident(home), w.resident(home));
    w.apply(merged(b, a)).unwrap();
    w.apply(merged(c, b)).unwrap();
    w.visit(a, FunnelState::ActivatedLevel1, None, None).unwrap();
    let p = &w.state.projection;
    assert_eq!((p.residents[&c].visit_count, p.residents[&c].status), (1, Some(FunnelState::ActivatedLevel1)));
    assert_eq!(p.residents[&c].cccd.as_deref(), Some("012189000123"));

    let elsewhere = Uuid::now_v7();
    w.apply(Payload::HouseholdCreated(HouseholdCreated {
        household_id: elsewhere,
        hamlet_code: "03445-02".into(),
        address: "Số 9".into(),
        head_name: "Lò Văn Khác".into(),
    }))
    .unwrap();
    let d = w.resident(elsewhere);
    assert_eq!(codes(&w.apply(merged(c, d)).unwrap_err()), ["different_hamlets"]);
}

#[test]
fn an_assignment_names_known_hamlets_or_communes_sorted_and_nothing_else() {
    let user = Uuid::now_v7();
    let assign = |places: &[&str]| {
        let places = places.iter().map(|p| (*p).to_owned()).collect();
        fixtures::event(
            Uuid::now_v7(),
            user,
            1,
            Payload::AssignmentSet(crate::event::AssignmentSet { user_id: user, places }),
        )
    };
    let s = state();
    let changes = reduce(&s, &assign(&["03445-02", "03445-01", "03445-02"])).unwrap();
    assert_eq!(
        changes,
        [Change::PutAssignment(crate::model::Assignment {
            user_id: user,
            places: vec!["03445-01".into(), "03445-02".into()],
            assigned_by: user,
        })],
        "sorted, without repeats"
    );
    assert!(reduce(&s, &assign(&["03445"])).is_ok(), "a whole commune");
    let codes_of = |r: Result<Vec<Change>, ReduceError>| match r {
        Err(ReduceError::Rejected(errors)) => errors.into_iter().map(|e| e.code).collect::<Vec<_>>(),
        other => panic!("not rejected: {other:?}"),
    };
    assert_eq!(codes_of(reduce(&s, &assign(&[]))), ["required"]);
    assert_eq!(codes_of(reduce(&s, &assign(&["nowhere"]))), ["unknown_place"]);
    assert_eq!(codes_of(reduce(&s, &assign(&["01"]))), ["unknown_place"], "a province is not a work place");
    let many: Vec<String> = (0..=MAX_ASSIGNED_PLACES).map(|i| format!("x{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(codes_of(reduce(&s, &assign(&many))), ["too_many"]);
}

#[test]
fn the_furthest_state_decides_and_a_late_stale_visit_does_not_undo_an_activation() {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    w.visit(r, FunnelState::ActivatedLevel1, None, None).unwrap();
    w.visit(r, FunnelState::ApprovedNotActivated, Some("absent_unreachable"), None).unwrap();
    let resident = &w.state.projection.residents[&r];
    assert_eq!(resident.status, Some(FunnelState::ActivatedLevel1));
    assert_eq!(resident.reason_code, None);
    assert_eq!(resident.visit_count, 2);
}

#[test]
fn a_duplicated_visit_id_is_refused() {
    let mut w = World::new();
    let h = w.household();
    let r = w.resident(h);
    let visit = Payload::VisitRecorded(VisitRecorded {
        steps: Vec::new(),
        visit_id: Uuid::now_v7(),
        resident_id: r,
        status: FunnelState::NotRegistered,
        reason_code: None,
        action: None,
        follow_up: None,
        note: None,
        position: None,
    });
    w.apply(visit.clone()).unwrap();
    assert_eq!(codes(&w.apply(visit).unwrap_err()), ["duplicate_id"]);
}

proptest! {
    /// Visits for the same people reduce to the same state in any order.
    #[test]
    fn visits_commute(seed in any::<u64>(), shuffle_seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let mut setup = Vec::new();
        let (_, residents, payloads) = fixtures::household_payloads(&mut rng, "03445-02", 3);
        setup.extend(payloads);
        let reasons = ["absent_unreachable", "refused", "other", "in_prison"];
        let mut visits: Vec<_> = (0..12)
            .map(|_| {
                let who = *rng.pick(&residents);
                fixtures::visit_payload(&mut rng, who, &reasons)
            })
            .collect();
        let device = Uuid::now_v7();
        let run = |visits: &[Payload]| {
            let mut s = state();
            for (i, p) in setup.iter().chain(visits).enumerate() {
                s.apply(&fixtures::event(device, device, i as u64 + 1, p.clone())).unwrap();
            }
            s.projection
        };
        let forward = run(&visits);
        let mut shuffle = Rng::new(shuffle_seed);
        for i in (1..visits.len()).rev() {
            visits.swap(i, shuffle.below(i as u64 + 1) as usize);
        }
        prop_assert_eq!(forward, run(&visits));
    }

    /// A merge commutes with the visits: merged before or after them, the kept person ends with
    /// every visit and the same outcome.
    #[test]
    fn a_merge_commutes_with_visits(seed in any::<u64>(), at in 0usize..13) {
        let mut rng = Rng::new(seed);
        let (_, residents, setup) = fixtures::household_payloads(&mut rng, "03445-02", 2);
        let (kept, gone) = (residents[0], residents[1]);
        let reasons = ["absent_unreachable", "refused", "other"];
        let visits: Vec<_> = (0..12)
            .map(|_| {
                let who = if rng.below(2) == 0 { kept } else { gone };
                fixtures::visit_payload(&mut rng, who, &reasons)
            })
            .collect();
        let device = Uuid::now_v7();
        let run = |merge_at: Option<usize>| {
            let mut s = state();
            let mut events: Vec<Payload> = setup.iter().chain(&visits).cloned().collect();
            if let Some(at) = merge_at {
                events.insert(setup.len() + at, merged(kept, gone));
            }
            for (i, p) in events.into_iter().enumerate() {
                s.apply(&fixtures::event(device, device, i as u64 + 1, p)).unwrap();
            }
            s.projection
        };
        let (merged_first, merged_at) = (run(Some(0)), run(Some(at.min(visits.len()))));
        prop_assert_eq!(&merged_first, &merged_at);
        prop_assert!(merged_at.visits.values().all(|v| v.resident_id == kept));
        prop_assert_eq!(merged_at.residents[&kept].visit_count, 12);
        // the outcome is the one both records' visits together decide
        let apart = run(None);
        let best = |p: &Projection, ids: &[Uuid]| ids.iter().map(|id| p.residents[id].status.zip(p.residents[id].deciding_visit)).max().flatten();
        prop_assert_eq!(merged_at.residents[&kept].status.zip(merged_at.residents[&kept].deciding_visit), best(&apart, &[kept, gone]));
    }
}
