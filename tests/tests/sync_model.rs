//! Model-based property test of two device outboxes and the server: random create, edit,
//! survey, remove and visit actions on two phones in one commune, interleaved with syncs whose
//! requests or responses get dropped, replayed old batches, reordered batches and phone
//! restarts. Afterwards both phones and the server hold exactly the same state, every recorded
//! event is on the server exactly once, and nothing was rejected.
//!
//! `PROPTEST_CASES=10000 cargo test --release -p gocua-e2e --test sync_model` runs 10,000 cases
//! (CI runs 500).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::body::Body;
use axum::http::Request;
use gocua_core::event::{HouseholdPatch, HouseholdRemoved, HouseholdSurveyed, Payload, ResidentPatch};
use gocua_core::fixtures::{self, Rng};
use gocua_core::reducer::Projection;
use gocua_core::store::DeviceStore;
use gocua_core::sync::engine::{Transport, TransportError, sync_once};
use gocua_core::sync::protocol::{
    APP_VERSION, EnrollResponse, ErrorBody, PullRequest, PullResponse, PushRequest, PushResponse, Role, SCHEMA_VERSION,
};
use gocua_server::{AppState, admin};
use gocua_server_store::run_read;
use proptest::prelude::*;
use tower::ServiceExt;

/// Which request of a sync round fails, and how.
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// The k-th request never reaches the server.
    DropRequest(u8),
    /// The k-th request is handled, but its answer is lost.
    DropResponse(u8),
}

#[derive(Debug, Clone)]
enum Op {
    NewHousehold {
        dev: usize,
    },
    Visit {
        dev: usize,
        pick: usize,
    },
    EditResident {
        dev: usize,
        pick: usize,
        phone: bool,
        value: u16,
    },
    EditHousehold {
        dev: usize,
        pick: usize,
        value: u16,
    },
    Survey {
        dev: usize,
        pick: usize,
        members: u32,
    },
    Remove {
        dev: usize,
        pick: usize,
    },
    Sync {
        dev: usize,
        fault: Fault,
    },
    /// Sends the device's last push again and applies the (stale) answer.
    Replay {
        dev: usize,
    },
    /// Sends the next batch without its first event (a gap), or in reverse order.
    Reorder {
        dev: usize,
        skip_first: bool,
    },
    /// The app is closed and opened again on the same file.
    Restart {
        dev: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let dev = 0..2usize;
    let fault = prop_oneof![
        2 => Just(Fault::None),
        1 => (1..4u8).prop_map(Fault::DropRequest),
        1 => (1..4u8).prop_map(Fault::DropResponse),
    ];
    prop_oneof![
        3 => dev.clone().prop_map(|dev| Op::NewHousehold { dev }),
        4 => (dev.clone(), any::<usize>()).prop_map(|(dev, pick)| Op::Visit { dev, pick }),
        3 => (dev.clone(), any::<usize>(), any::<bool>(), any::<u16>())
            .prop_map(|(dev, pick, phone, value)| Op::EditResident { dev, pick, phone, value }),
        2 => (dev.clone(), any::<usize>(), any::<u16>()).prop_map(|(dev, pick, value)| Op::EditHousehold { dev, pick, value }),
        1 => (dev.clone(), any::<usize>(), 1..9u32).prop_map(|(dev, pick, members)| Op::Survey { dev, pick, members }),
        1 => (dev.clone(), any::<usize>()).prop_map(|(dev, pick)| Op::Remove { dev, pick }),
        4 => (dev.clone(), fault).prop_map(|(dev, fault)| Op::Sync { dev, fault }),
        1 => dev.clone().prop_map(|dev| Op::Replay { dev }),
        1 => (dev.clone(), any::<bool>()).prop_map(|(dev, skip_first)| Op::Reorder { dev, skip_first }),
        1 => dev.prop_map(|dev| Op::Restart { dev }),
    ]
}

/// The real server's router, called in-process (no socket), with a fault plan.
struct InProcess {
    router: axum::Router,
    token: String,
    fault: Mutex<(u8, Fault)>,
    last_push: Mutex<Option<PushRequest>>,
}

impl InProcess {
    async fn send(&self, request: Request<Body>) -> Result<Vec<u8>, TransportError> {
        let (drop_request, drop_response) = {
            let mut plan = self.fault.lock().unwrap();
            plan.0 += 1;
            match plan.1 {
                Fault::DropRequest(k) if k == plan.0 => (true, false),
                Fault::DropResponse(k) if k == plan.0 => (false, true),
                _ => (false, false),
            }
        };
        if drop_request {
            return Err(TransportError::Offline("request dropped".into()));
        }
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body").to_vec();
        if drop_response {
            return Err(TransportError::Offline("response dropped".into()));
        }
        if !status.is_success() {
            let error: ErrorBody = serde_json::from_slice(&body).expect("error body");
            return Err(TransportError::Refused { status: status.as_u16(), kind: error.kind, message: error.message });
        }
        Ok(body)
    }

    fn request(&self, method: &str, uri: &str, body: Vec<u8>) -> Request<Body> {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .header("gocua-schema-version", SCHEMA_VERSION.to_string())
            .header("gocua-app-version", APP_VERSION)
            .body(Body::from(body))
            .unwrap()
    }
}

impl Transport for InProcess {
    async fn push(&self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        *self.last_push.lock().unwrap() = Some(request.clone());
        let body = self.send(self.request("POST", "/api/v1/sync/push", serde_json::to_vec(request).unwrap())).await?;
        Ok(serde_json::from_slice(&body).expect("push answer"))
    }
    async fn pull(&self, r: &PullRequest) -> Result<PullResponse, TransportError> {
        let uri =
            format!("/api/v1/sync/pull?cursor={}&limit={}&epoch={}&scope={}", r.cursor, r.limit, r.epoch, r.scope);
        let body = self.send(self.request("GET", &uri, vec![])).await?;
        // from schema 5 the page comes in runs
        Ok(serde_json::from_slice::<gocua_core::sync::wire::PullBody>(&body).expect("pull answer").into())
    }
}

struct Phone {
    path: PathBuf,
    store: Mutex<DeviceStore>,
    link: InProcess,
    rng: Rng,
}

impl Phone {
    fn record(&self, payload: Payload) {
        // a refused input (e.g. an edit that changes nothing valid) stores nothing: fine
        let _ = self.store.lock().unwrap().record(payload);
    }
    fn projection(&self) -> Projection {
        self.store.lock().unwrap().projection().unwrap()
    }
}

async fn enroll(router: &axum::Router, code: &str, path: &Path) -> (DeviceStore, String) {
    let body = serde_json::json!({
        "code": code, "device_name": "model phone", "schema_version": SCHEMA_VERSION, "app_version": APP_VERSION
    });
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/enroll")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_success(), "enroll: {}", response.status());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let response: EnrollResponse = serde_json::from_slice(&bytes).unwrap();
    let mut store = DeviceStore::open(path).unwrap();
    let enrollment = store.save_enrollment("http://in-process", &response).unwrap();
    (store, enrollment.token)
}

fn nth<T: Clone>(items: impl Iterator<Item = T>, pick: usize) -> Option<T> {
    let items: Vec<T> = items.collect();
    (!items.is_empty()).then(|| items[pick % items.len()].clone())
}

async fn run(ops: Vec<Op>, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let server_db = gocua_e2e::ServerDb::new(dir.path());
    let server_store = server_db.open();
    let codes: Vec<String> = gocua_e2e::off_runtime(|| {
        for place in fixtures::demo_places() {
            admin::add_place(&*server_store, &place).unwrap();
        }
        let commune = gocua_core::scope::Scope::single("03445");
        (0..2)
            .map(|i| {
                let name = format!("Tình nguyện viên {i}");
                let user = admin::add_user(&*server_store, &name, Role::Volunteer, &commune).unwrap();
                admin::create_code(&*server_store, user, 1).unwrap()
            })
            .collect()
    });
    let router = gocua_server::router(AppState::new(server_store.clone()));
    let mut phones = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let path = dir.path().join(format!("phone-{i}.sqlite"));
        let (store, token) = enroll(&router, code, &path).await;
        let link = InProcess {
            router: router.clone(),
            token,
            fault: Mutex::new((0, Fault::None)),
            last_push: Mutex::new(None),
        };
        phones.push(Phone { path, store: Mutex::new(store), link, rng: Rng::new(seed + i as u64) });
    }
    let hamlets: Vec<String> = phones[0].store.lock().unwrap().hamlets().unwrap().into_iter().map(|p| p.code).collect();

    for op in ops {
        match op {
            Op::NewHousehold { dev } => {
                let p = &mut phones[dev];
                let hamlet = p.rng.pick(&hamlets).clone();
                let (_, _, payloads) = fixtures::household_payloads(&mut p.rng, &hamlet, 2);
                for payload in payloads {
                    p.record(payload);
                }
            }
            Op::Visit { dev, pick } => {
                let p = &mut phones[dev];
                if let Some(r) = nth(p.projection().residents.into_keys(), pick) {
                    let payload = fixtures::visit_payload(&mut p.rng, r, &["absent_unreachable", "no_smartphone"]);
                    p.record(payload);
                }
            }
            Op::EditResident { dev, pick, phone, value } => {
                let p = &phones[dev];
                if let Some(r) = nth(p.projection().residents.into_values(), pick) {
                    let names = ["Lò Thị Hoa", "Giàng A Sử", "Vàng Thị Mỷ", "Lò Văn Páo"];
                    let patch = ResidentPatch {
                        resident_id: r.id,
                        base_version: r.version,
                        phone: phone.then(|| format!("0912{:06}", value)),
                        full_name: (!phone).then(|| names[value as usize % names.len()].to_owned()),
                        ..Default::default()
                    };
                    p.record(Payload::ResidentPatched(patch));
                }
            }
            Op::EditHousehold { dev, pick, value } => {
                let p = &phones[dev];
                if let Some(h) = nth(p.projection().households.into_values(), pick) {
                    let patch = HouseholdPatch {
                        household_id: h.id,
                        base_version: h.version,
                        address: Some(format!("Số {}, Bản Nậm Củm", value % 50)),
                        head_name: None,
                    };
                    p.record(Payload::HouseholdPatched(patch));
                }
            }
            Op::Survey { dev, pick, members } => {
                let p = &phones[dev];
                if let Some(h) = nth(p.projection().households.into_keys(), pick) {
                    p.record(Payload::HouseholdSurveyed(HouseholdSurveyed {
                        household_id: h,
                        members,
                        smartphones: members / 2,
                        has_internet_computer: members % 2 == 0,
                    }));
                }
            }
            Op::Remove { dev, pick } => {
                let p = &phones[dev];
                if let Some(h) = nth(p.projection().households.into_keys(), pick) {
                    p.record(Payload::HouseholdRemoved(HouseholdRemoved {
                        household_id: h,
                        reason: "duplicate".into(),
                    }));
                }
            }
            Op::Sync { dev, fault } => {
                let p = &phones[dev];
                *p.link.fault.lock().unwrap() = (0, fault);
                match sync_once(&p.store, &p.link).await {
                    Ok(_) => {}
                    Err(gocua_core::sync::engine::SyncError::Transport(TransportError::Offline(_))) => {}
                    Err(e) => panic!("sync failed for another reason than the dropped message: {e}"),
                }
                *p.link.fault.lock().unwrap() = (0, Fault::None);
            }
            Op::Replay { dev } => {
                let p = &phones[dev];
                let last = p.link.last_push.lock().unwrap().clone();
                if let Some(request) = last {
                    let answer = p.link.push(&request).await.expect("replay");
                    p.store.lock().unwrap().apply_push_response(&answer).unwrap();
                }
            }
            Op::Reorder { dev, skip_first } => {
                let p = &phones[dev];
                let mut events = p.store.lock().unwrap().outbox_batch(6, usize::MAX).unwrap();
                if events.len() >= 2 {
                    if skip_first {
                        events.remove(0);
                    } else {
                        events.reverse();
                    }
                    let request = PushRequest {
                        schema_version: SCHEMA_VERSION,
                        app_version: APP_VERSION.into(),
                        events,
                        queued: None,
                    };
                    let answer = p.link.push(&request).await.expect("push");
                    if !skip_first {
                        assert_eq!(answer.expected_seq, None, "the server orders a batch by sequence: {answer:?}");
                    }
                    p.store.lock().unwrap().apply_push_response(&answer).unwrap();
                }
            }
            Op::Restart { dev } => {
                let p = &mut phones[dev];
                let reopened = DeviceStore::open(&p.path).unwrap();
                p.store = Mutex::new(reopened);
            }
        }
    }

    // the link comes back: everyone syncs until nothing moves
    for _ in 0..2 {
        for p in &phones {
            sync_once(&p.store, &p.link).await.expect("final sync");
        }
    }
    drop(router);
    let server_state = gocua_e2e::off_runtime(|| run_read(&*server_store, |tx| tx.dump_projection()).unwrap());
    let mut recorded = 0;
    for (i, p) in phones.iter().enumerate() {
        let store = p.store.lock().unwrap();
        assert_eq!(store.unsent_count().unwrap(), 0, "phone {i} still has unsent events");
        assert!(store.rejected_events().unwrap().is_empty(), "phone {i} has rejected events");
        let local = store.local_events().unwrap();
        recorded += local.len() as u64;
        let device_id = store.enrollment().unwrap().unwrap().device_id;
        let device = gocua_e2e::off_runtime(|| {
            run_read(&*server_store, |tx| tx.device(gocua_server_store::DeviceKey::Id(device_id))).unwrap()
        })
        .unwrap();
        // a device's events are unique by sequence number and none lies past its last one, so
        // these and the totals below mean each phone's events are on the server exactly once
        assert_eq!(device.last_seq, local.last().map_or(0, |e| e.seq), "phone {i}: last sequence");
        gocua_e2e::assert_same_as_volunteer_sees(
            &store.projection().unwrap(),
            &server_state,
            &format!("phone {i} against the server"),
        );
    }
    let (applied, rejected) = gocua_e2e::off_runtime(|| {
        run_read(&*server_store, |tx| {
            Ok::<_, gocua_server_store::StoreError>((tx.count_events("applied")?, tx.count_events("rejected")?))
        })
        .unwrap()
    });
    let total = applied + rejected;
    assert_eq!((total, rejected), (recorded, 0), "every recorded event exactly once, none rejected");
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(500)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn phones_and_server_converge_exactly(ops in prop::collection::vec(op(), 1..40), seed in any::<u64>()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(ops, seed));
    }
}
