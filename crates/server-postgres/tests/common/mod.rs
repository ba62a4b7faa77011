//! What the tests of this crate share: a store on a fresh database, with places, a user and a
//! device to hang events on.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use gocua_core::event::{Event, Payload};
use gocua_core::fixtures;
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::Role;
use gocua_server_postgres::PgStore;
use gocua_server_postgres::testing::TestDatabase;
use gocua_server_store::*;
use uuid::Uuid;

/// Now, at the database's precision (microseconds).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

/// The demo places' hamlet paths: `/12/03445/03445-0N/`.
pub fn hamlet_path(n: usize) -> String {
    format!("/12/03445/03445-{n:02}/")
}

/// A user with a scope of `codes` and one device of theirs.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: UserRow,
    pub device: DeviceRow,
}

pub fn actor(name: &str, role: Role, codes: &[&str]) -> Actor {
    let user = UserRow {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        role,
        scope: Scope::new(codes.iter().copied()).unwrap(),
        created_at: now(),
    };
    let device = DeviceRow {
        id: Uuid::now_v7(),
        user_id: user.id,
        name: format!("{name}'s phone"),
        token_hash: format!("{:064x}", Uuid::new_v4().as_u128()),
        enrolled_at: now(),
        last_seen_at: None,
        last_seq: 0,
        app_version: Some("0.1.0".into()),
        revoked_at: None,
        signing_key: None,
    };
    Actor { user, device }
}

/// A store on a fresh database with the demo places and one volunteer of two hamlets.
pub fn seeded() -> (TestDatabase, PgStore, Actor) {
    let db = TestDatabase::new();
    let store = PgStore::open(db.url(), None).unwrap();
    let volunteer = actor("Lò Thị Lan", Role::Volunteer, &["03445-01", "03445-02"]);
    run_write(&store, |tx| -> StoreResult<()> {
        tx.upsert_places(&fixtures::demo_places())?;
        tx.insert_user(&volunteer.user)?;
        tx.insert_device(&volunteer.device)
    })
    .unwrap();
    (db, store, volunteer)
}

/// An event of `actor`'s device at `seq` (its time at the database's precision).
pub fn event(actor: &Actor, seq: u64, payload: Payload) -> Event {
    let mut e = fixtures::event(actor.device.id, actor.user.id, seq, payload);
    e.device_time = now();
    e
}

/// An applied event at `server_seq` under `path`.
pub fn applied<'a>(server_seq: u64, event: &'a Event, path: &str) -> NewEvent<'a> {
    NewEvent {
        server_seq,
        event,
        place_path: Some(path.to_owned()),
        status: StoredStatus::Applied,
        flags: None,
        effective_time: event.device_time,
        received_at: now(),
    }
}

/// A household-created payload in hamlet `n`.
pub fn household_created(n: usize, head: &str) -> Payload {
    Payload::HouseholdCreated(gocua_core::event::HouseholdCreated {
        household_id: Uuid::now_v7(),
        hamlet_code: format!("03445-{n:02}"),
        address: "Số 1 đường Trung tâm".into(),
        head_name: head.into(),
    })
}
