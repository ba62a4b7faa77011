//! The trainer's sandbox: a store in a file of its own, filled with a made-up commune, that can
//! never sync. The refusal lives here, in the store, not in the UI: every path by which data
//! leaves or enters a store (push batches, answers, pull pages, resets, scope changes,
//! enrollment, sneakernet bundles) asks [`DeviceStore::refuse_in_sandbox`] first.

use std::path::Path;

use chrono::{Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::{DeviceStore, get_meta, set_meta};
use crate::error::Error;
use crate::event::{HouseholdCreated, HouseholdSurveyed, Payload, ResidentAdded, VisitRecorded};
use crate::fixtures::{self, Rng};
use crate::funnel::{ChecklistStep, FunnelState, VisitAction};
use crate::places::{Place, PlaceLevel};
use crate::sync::protocol::{EnrollResponse, Role, UserInfo};

/// The sandbox's commune: a real one of the 2025 list (Xã Sìn Hồ, Lai Châu), with made-up
/// hamlets and made-up people.
pub const SANDBOX_COMMUNE: (&str, &str) = ("03478", "Xã Sìn Hồ");
const SANDBOX_PROVINCE: (&str, &str) = ("12", "Lai Châu");
const SANDBOX_HAMLETS: [&str; 4] = ["Bản Phiêng Lúc", "Bản Nậm Ngập", "Bản Pậu", "Bản Thèn Pả"];
/// Households made per hamlet.
const HOUSEHOLDS_PER_HAMLET: usize = 12;
/// The marker in `sync_meta`.
const META_SANDBOX: &str = "sandbox";

/// The sandbox's places: the province, the commune and its made-up hamlets.
pub fn sandbox_places() -> Vec<Place> {
    let (province, province_name) = SANDBOX_PROVINCE;
    let (commune, commune_name) = SANDBOX_COMMUNE;
    let mut places = vec![
        Place {
            code: province.into(),
            name: province_name.into(),
            level: PlaceLevel::Province,
            division_type: "tỉnh".into(),
            parent_code: None,
        },
        Place {
            code: commune.into(),
            name: commune_name.into(),
            level: PlaceLevel::Commune,
            division_type: "xã".into(),
            parent_code: Some(province.into()),
        },
    ];
    places.extend(SANDBOX_HAMLETS.iter().enumerate().map(|(i, name)| Place {
        code: format!("{commune}-{:02}", i + 1),
        name: (*name).into(),
        level: PlaceLevel::Hamlet,
        division_type: "bản".into(),
        parent_code: Some(commune.into()),
    }));
    places
}

impl DeviceStore {
    /// Makes a fresh sandbox at `path`, replacing any sandbox there ("làm lại dữ liệu mẫu"):
    /// a trainer's enrollment to no server, and a made-up commune with households in every
    /// state of the checklist. `today` sets the follow-up dates (some due, some later).
    pub fn create_sandbox(path: &Path, seed: u64, today: NaiveDate) -> Result<DeviceStore, Error> {
        if path.exists() {
            let old = DeviceStore::open(path)?;
            if !old.is_sandbox()? {
                return Err(Error::invalid_input(format!(
                    "{} là dữ liệu thật, không phải dữ liệu tập huấn / {} holds real data, not a sandbox",
                    path.display(),
                    path.display()
                )));
            }
            drop(old);
            for suffix in ["", "-wal", "-shm"] {
                let file =
                    path.with_file_name(format!("{}{suffix}", path.file_name().unwrap_or_default().to_string_lossy()));
                if file.exists() {
                    std::fs::remove_file(&file).map_err(|e| Error::invalid_input(e.to_string()))?;
                }
            }
        }
        let mut store = DeviceStore::open(path)?;
        if store.enrollment()?.is_some() {
            return Err(Error::invalid_input("a sandbox starts from an empty file"));
        }
        set_meta(&store.conn, META_SANDBOX, "1")?;
        store.enroll_sandbox()?;
        store.fill_sandbox(seed, today)?;
        store.set_daily_quota(Some(10))?;
        Ok(store)
    }

    /// Whether this store is a trainer's sandbox.
    pub fn is_sandbox(&self) -> Result<bool, Error> {
        Ok(get_meta(&self.conn, META_SANDBOX)?.is_some())
    }

    /// Refuses, in a sandbox, anything that would move data to or from a server.
    pub fn refuse_in_sandbox(&self) -> Result<(), Error> {
        if self.is_sandbox()? { Err(Error::Sandbox) } else { Ok(()) }
    }

    fn enroll_sandbox(&mut self) -> Result<(), Error> {
        let places = sandbox_places();
        let response = EnrollResponse {
            device_id: Uuid::now_v7(),
            token: String::new(),
            user: UserInfo { id: Uuid::now_v7(), name: "Giảng viên tập huấn".into(), role: Role::Trainer },
            scope: places[1].clone(),
            scopes: vec![],
            places,
            reasons: self.reasons()?.all().to_vec(),
            server_time: Utc::now(),
            server_key: None,
            revocation_probe: None,
        };
        self.save_enrollment_unchecked("", &response)?;
        Ok(())
    }

    /// Records the sample commune through the normal path (the reducer checks every event),
    /// then marks it as if it had been synced long ago: the trainees' own records are the
    /// only ones waiting.
    fn fill_sandbox(&mut self, seed: u64, today: NaiveDate) -> Result<(), Error> {
        let mut rng = Rng::new(seed);
        let reasons = ["absent_unreachable", "no_smartphone", "needs_phone_update", "refused", "abroad"];
        let hamlets: Vec<String> = self.hamlets()?.into_iter().map(|p| p.code).collect();
        for (i, hamlet) in hamlets.iter().cycle().take(hamlets.len() * HOUSEHOLDS_PER_HAMLET).enumerate() {
            // the sample was recorded over the past week (09:00 in Vietnam): today starts at zero
            let days_ago = 1 + (i % 7) as i64;
            let when = (today - Duration::days(days_ago)).and_hms_opt(2, 0, 0).unwrap_or_default().and_utc();
            let residents = 2 + rng.below(4) as usize;
            let (_, _, payloads) = fixtures::household_payloads(&mut rng, hamlet, residents);
            let mut household_id = Uuid::nil();
            let mut resident_ids = Vec::new();
            for payload in payloads {
                match payload {
                    Payload::HouseholdCreated(h) => {
                        household_id = self.new_record_id()?;
                        self.record_at(Payload::HouseholdCreated(HouseholdCreated { household_id, ..h }), when)?;
                    }
                    Payload::ResidentAdded(r) => {
                        let resident_id = self.new_record_id()?;
                        resident_ids.push((resident_id, r.fields.cccd.is_some()));
                        self.record_at(Payload::ResidentAdded(ResidentAdded { resident_id, household_id, ..r }), when)?;
                    }
                    _ => {}
                }
            }
            if i % 3 == 0 {
                let smartphones = resident_ids.len().saturating_sub(1) as u32;
                self.record_at(
                    Payload::HouseholdSurveyed(HouseholdSurveyed {
                        household_id,
                        members: resident_ids.len() as u32,
                        smartphones,
                        has_internet_computer: rng.below(4) == 0,
                    }),
                    when,
                )?;
            }
            // about a third of the households not visited yet: work left for the trainees
            if i % 3 == 2 {
                continue;
            }
            for (resident_id, has_cccd) in resident_ids {
                let visit = sample_visit(&mut rng, resident_id, has_cccd, today, &reasons);
                let visit_id = self.new_record_id()?;
                self.record_at(Payload::VisitRecorded(VisitRecorded { visit_id, ..visit }), when)?;
            }
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE events SET sync_state = 'acknowledged', acknowledged_at = ?1 WHERE origin = 'local'",
            [super::acknowledged_now()],
        )?;
        tx.execute("DELETE FROM outbox", [])?;
        tx.commit()?;
        Ok(())
    }
}

/// One made-up visit outcome, consistent with the person having a chip CCCD or not.
fn sample_visit(rng: &mut Rng, resident_id: Uuid, has_cccd: bool, today: NaiveDate, reasons: &[&str]) -> VisitRecorded {
    let mut visit = VisitRecorded {
        visit_id: Uuid::nil(),
        resident_id,
        status: FunnelState::NoChipCccd,
        reason_code: None,
        action: None,
        follow_up: None,
        steps: Vec::new(),
        note: None,
        position: None,
    };
    if !has_cccd {
        visit.action = Some(VisitAction::ReferredLevel2);
        visit.steps = vec![ChecklistStep::ReferLevel2];
        visit.follow_up = Some(today + Duration::days(7));
        return visit;
    }
    match rng.below(10) {
        0..=3 => {
            visit.status = FunnelState::ActivatedLevel1;
            visit.action = Some(VisitAction::GuidedActivation);
            visit.steps = ChecklistStep::ALL[..4].to_vec();
        }
        4 => {
            visit.status = FunnelState::UsedPortal;
            visit.action = Some(VisitAction::GuidedPortal);
            visit.steps = ChecklistStep::ALL[..5].to_vec();
        }
        5 => {
            visit.status = FunnelState::RegisteredPending;
            visit.action = Some(VisitAction::GuidedLevel1);
            visit.steps = ChecklistStep::ALL[..3].to_vec();
            visit.follow_up = Some(today - Duration::days(1)); // due: approval should be in
        }
        6 | 7 => {
            visit.status = FunnelState::NotRegistered;
            visit.reason_code = Some((*rng.pick(reasons)).to_owned());
            if visit.reason_code.as_deref() == Some("absent_unreachable") {
                visit.follow_up = Some(today + Duration::days(rng.below(3) as i64)); // due today or soon
            }
        }
        _ => {
            visit.status = FunnelState::ApprovedNotActivated;
            visit.follow_up = Some(today);
        }
    }
    visit
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::forms::NewVisit;
    use crate::scope::Scope;
    use crate::store::{HouseholdQuery, StatusFilter};
    use crate::sync::engine::{Transport, TransportError, sync_once};
    use crate::sync::protocol::{PullRequest, PullResponse, PushRequest, PushResponse};

    /// A transport that only counts: the sandbox must never call it.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Transport for Counting {
        async fn push(&self, _: &PushRequest) -> Result<PushResponse, TransportError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(TransportError::Offline("counted".into()))
        }
        async fn pull(&self, _: &PullRequest) -> Result<PullResponse, TransportError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(TransportError::Offline("counted".into()))
        }
    }

    fn today() -> NaiveDate {
        "2026-11-22".parse().unwrap()
    }

    fn filter(store: &DeviceStore, status: StatusFilter) -> usize {
        let query = HouseholdQuery { status: Some(status), today: Some(today()), ..Default::default() };
        store.households(&query).unwrap().len()
    }

    #[test]
    fn a_sandbox_is_a_made_up_commune_with_work_in_every_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = DeviceStore::create_sandbox(&dir.path().join("demo.sqlite"), 1, today()).unwrap();
        assert!(store.is_sandbox().unwrap());
        let enrollment = store.enrollment().unwrap().unwrap();
        assert_eq!((enrollment.role, enrollment.scope.key().as_str()), (Role::Trainer, SANDBOX_COMMUNE.0));
        assert_eq!(store.households(&HouseholdQuery { limit: Some(1000), ..Default::default() }).unwrap().len(), 48);
        for status in
            [StatusFilter::Unvisited, StatusFilter::FollowUpDue, StatusFilter::Done, StatusFilter::CannotActivate]
        {
            assert!(filter(&store, status) > 0, "{status:?}");
        }
        assert_eq!(store.unsent_count().unwrap(), 0, "the sample reads as synced long ago");
        let day = store.today(today(), crate::store::today::VIETNAM_UTC_OFFSET_MINUTES).unwrap();
        assert_eq!((day.activated, day.quota), (0, Some(10)), "the sample is last week's: today starts at zero");
        assert!(day.follow_ups_due > 0, "the trainer has people to revisit");
    }

    #[tokio::test]
    async fn nothing_leaves_or_enters_a_sandbox() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = DeviceStore::create_sandbox(&dir.path().join("demo.sqlite"), 2, today()).unwrap();
        let resident = store.connection().query_row("SELECT id FROM residents LIMIT 1", [], |r| r.get::<_, String>(0));
        let resident_id = resident.unwrap().parse().unwrap();
        let visit = NewVisit {
            steps: Vec::new(),
            resident_id,
            status: FunnelState::ActivatedLevel1,
            reason_code: None,
            action: None,
            follow_up: None,
            note: None,
            position: None,
        };
        store.record_visit(visit).unwrap();
        assert_eq!(store.unsent_count().unwrap(), 1, "trainees practise recording as usual");

        let sandboxed = |r: Result<(), Error>| assert!(matches!(r, Err(Error::Sandbox)), "{r:?}");
        sandboxed(store.outbox_batch(100, 1 << 20).map(drop));
        sandboxed(
            store
                .apply_push_response(&PushResponse {
                    results: vec![],
                    applied: vec![],
                    last_seq: 1,
                    expected_seq: None,
                })
                .map(drop),
        );
        sandboxed(store.apply_pull_page(&PullResponse::default()).map(drop));
        sandboxed(store.begin_reset("other"));
        sandboxed(store.change_scope(&Scope::single(sandbox_places()[2].code.clone()), &sandbox_places()));
        sandboxed(store.save_enrollment("http://127.0.0.1:9", &fixtures::enroll_response(&store)).map(drop));
        sandboxed(store.export_bundle(Utc::now()).map(drop));

        let transport = Counting::default();
        let store = Mutex::new(store);
        let result = sync_once(&store, &transport).await;
        assert!(matches!(result, Err(crate::sync::engine::SyncError::Store(Error::Sandbox))), "{result:?}");
        assert_eq!(transport.0.load(Ordering::SeqCst), 0, "no request was even attempted");
    }

    #[test]
    fn a_reset_starts_over_and_real_data_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.sqlite");
        let mut store = DeviceStore::create_sandbox(&path, 3, today()).unwrap();
        let household = store.households(&HouseholdQuery::default()).unwrap()[0].household.clone();
        store
            .add_resident(crate::forms::NewResident {
                household_id: household.id,
                fields: crate::event::ResidentFields {
                    full_name: "Học Viên Thử".into(),
                    birth_year: 2000,
                    sex: crate::model::Sex::Female,
                    cccd: None,
                    phone: None,
                },
            })
            .unwrap();
        drop(store);
        let store = DeviceStore::create_sandbox(&path, 3, today()).unwrap();
        assert_eq!(store.unsent_count().unwrap(), 0, "one tap: the trainees' records are gone");

        let real = dir.path().join("real.sqlite");
        let mut real_store = DeviceStore::open(&real).unwrap();
        real_store.save_enrollment("http://127.0.0.1:9", &fixtures::enroll_response(&real_store)).unwrap();
        drop(real_store);
        let refused = DeviceStore::create_sandbox(&real, 3, today()).unwrap_err();
        assert!(refused.to_string().contains("not a sandbox"), "{refused}");
        assert!(!DeviceStore::open(&real).unwrap().is_sandbox().unwrap());
    }

    #[test]
    fn the_sandbox_commune_is_a_real_2025_commune() {
        let csv = include_str!("../../../../data/vn-admin-units-2025.csv");
        let (code, name) = SANDBOX_COMMUNE;
        let row = format!("{},{name},xã,{},{}", code.trim_start_matches('0'), SANDBOX_PROVINCE.0, SANDBOX_PROVINCE.1);
        assert!(csv.lines().any(|l| l == row), "{row} is not in the 2025 list");
    }
}
