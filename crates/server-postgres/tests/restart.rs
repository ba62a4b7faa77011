//! PostgreSQL restarts (`pg_ctl restart -m fast`) while the store is open: what was pooled is
//! dropped, the store reconnects by itself, and only `Unavailable` is ever seen meanwhile.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use gocua_core::sync::protocol::Role;
use gocua_server_postgres::PgStore;
use gocua_server_postgres::testing::TestCluster;
use gocua_server_store::*;

fn store_in(cluster: &TestCluster) -> (gocua_server_postgres::testing::TestDatabase, PgStore, Actor) {
    let db = cluster.database();
    let store = PgStore::open(db.url(), None).unwrap();
    let volunteer = actor("Lò Thị Lan", Role::Volunteer, &["03445-01"]);
    run_write(&store, |tx| -> StoreResult<()> {
        tx.upsert_places(&gocua_core::fixtures::demo_places())?;
        tx.insert_user(&volunteer.user)?;
        tx.insert_device(&volunteer.device)
    })
    .unwrap();
    (db, store, volunteer)
}

fn push_one(store: &PgStore, volunteer: &Actor, seq: u64) -> StoreResult<()> {
    let e = event(volunteer, seq, household_created(1, "Hộ"));
    run_write(store, |tx| {
        let last = tx.last_server_seq()?;
        tx.insert_events(&[applied(last + 1, &e, &hamlet_path(1))])
    })
}

#[test]
fn a_restart_between_two_writes_needs_no_restart_of_the_store() {
    let cluster = TestCluster::private();
    let (_db, store, volunteer) = store_in(&cluster);
    // several pooled connections, all of which the restart will cut
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                run_read(&store, |tx| {
                    std::thread::sleep(Duration::from_millis(100));
                    tx.last_server_seq()
                })
                .unwrap()
            });
        }
    });
    push_one(&store, &volunteer, 1).unwrap();

    cluster.restart();

    match push_one(&store, &volunteer, 2) {
        Ok(()) => {}
        Err(StoreError::Unavailable(_)) => push_one(&store, &volunteer, 2).expect("a retry succeeds"),
        Err(other) => panic!("after a restart: {other:?}"),
    }
    // every later transaction works: no dead connection is left in the pool
    for seq in 3..=20 {
        push_one(&store, &volunteer, seq).unwrap();
        assert!(run_read(&store, |tx| tx.last_server_seq()).unwrap() >= seq);
    }
    assert_eq!(run_read(&store, |tx| tx.count_events("applied")).unwrap(), 20);
    assert!(store.readiness().is_ok());
}

#[test]
fn a_restart_under_load_shows_only_unavailable_and_then_passes() {
    let cluster = TestCluster::private();
    let (_db, store, _) = store_in(&cluster);
    let writers: Vec<Actor> =
        (0..4).map(|i| actor(&format!("Người ghi {i}"), Role::Volunteer, &["03445-01"])).collect();
    run_write(&store, |tx| -> StoreResult<()> {
        for a in &writers {
            tx.insert_user(&a.user)?;
            tx.insert_device(&a.device)?;
        }
        Ok(())
    })
    .unwrap();
    let stop = AtomicBool::new(false);
    let (ok, unavailable) = (AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|s| {
        for writer in &writers {
            let (stop, ok, unavailable, store) = (&stop, &ok, &unavailable, &store);
            s.spawn(move || {
                let mut seq = 1;
                while !stop.load(Ordering::SeqCst) {
                    match push_one(store, writer, seq) {
                        Ok(()) => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            seq += 1;
                        }
                        Err(StoreError::Unavailable(_)) => {
                            unavailable.fetch_add(1, Ordering::SeqCst);
                            // it may have committed before the connection was cut: ask until
                            // the database answers (it may be still restarting)
                            let asked_until = std::time::Instant::now() + Duration::from_secs(30);
                            let stored = loop {
                                match run_read(store, |tx| tx.device_events_stored(writer, seq)) {
                                    Ok(stored) => break stored,
                                    Err(StoreError::Unavailable(_)) if std::time::Instant::now() < asked_until => {
                                        std::thread::sleep(Duration::from_millis(20));
                                    }
                                    Err(other) => panic!("asking after a restart: {other:?}"),
                                }
                            };
                            if stored {
                                seq += 1;
                            }
                        }
                        Err(other) => panic!("under a restart: {other:?}"),
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        cluster.restart();
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::SeqCst);
    });
    let (ok, unavailable) = (ok.load(Ordering::SeqCst), unavailable.load(Ordering::SeqCst));
    println!("under a restart: {ok} writes, {unavailable} unavailable");
    assert!(ok > 0);
    // afterwards every writer's next write passes at once
    for (i, writer) in writers.iter().enumerate() {
        let e = event(writer, 10_000 + i as u64, household_created(1, "Hộ"));
        run_write(&store, |tx| {
            let last = tx.last_server_seq()?;
            tx.insert_events(&[applied(last + 1, &e, &hamlet_path(1))])
        })
        .unwrap();
    }
    // server_seq has no gap: 1..=n, whatever was cut
    let n = run_read(&store, |tx| tx.last_server_seq()).unwrap();
    assert_eq!(
        run_read(&store, |tx| -> StoreResult<u64> { Ok(tx.count_events("applied")? + tx.count_events("rejected")?) })
            .unwrap(),
        n
    );
}

/// Whether `writer`'s event `seq` is stored (a write cut at its commit may have committed).
trait Stored {
    fn device_events_stored(&mut self, writer: &Actor, seq: u64) -> StoreResult<bool>;
}

impl<T: Tx + ?Sized> Stored for T {
    fn device_events_stored(&mut self, writer: &Actor, seq: u64) -> StoreResult<bool> {
        let paths = [hamlet_path(1)];
        let q = EventQuery { after: 0, limit: 100_000, paths: &paths, device: uuid::Uuid::nil(), include_own: true };
        Ok(self.applied_events(&q)?.iter().any(|(_, e)| e.device_id == writer.device.id && e.seq == seq))
    }
}
