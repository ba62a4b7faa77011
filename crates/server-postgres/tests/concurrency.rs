//! Writers serialized across processes: many writers assigning `server_seq` inside their
//! transactions while a reader pulls, on one store and on two stores ("servers") over the same
//! database; the audit chain from two stores; one device's push to two servers at once.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use gocua_core::model::{Household, Resident, Sex};
use gocua_core::sync::protocol::Role;
use gocua_server_postgres::PgStore;
use gocua_server_store::*;
use uuid::Uuid;

const WRITERS: usize = 8;
const TXS: usize = 50;
const PER_TX: usize = 10;

/// A small deterministic generator for the sleeps (no `rand` needed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// `WRITERS` threads, writer `i` on `stores[i % len]`, each running `TXS` write transactions
/// of `PER_TX` events numbered after `last_server_seq()`; a reader pulls after its cursor
/// meanwhile. Returns the `server_seq`s the reader saw, in order.
fn writers_and_a_reader(stores: &[&PgStore]) -> Vec<u64> {
    let writers: Vec<Actor> =
        (0..WRITERS).map(|i| actor(&format!("Người ghi {i}"), Role::Volunteer, &["03445-01"])).collect();
    let reader = actor("Người đọc", Role::CommunePolice, &["03445"]);
    run_write(stores[0], |tx| -> StoreResult<()> {
        for a in writers.iter().chain([&reader]) {
            tx.insert_user(&a.user)?;
            tx.insert_device(&a.device)?;
        }
        Ok(())
    })
    .unwrap();
    let done = AtomicBool::new(false);
    let paths = vec![hamlet_path(1)];
    std::thread::scope(|s| {
        let handles: Vec<_> = writers
            .iter()
            .enumerate()
            .map(|(i, writer)| {
                let store = stores[i % stores.len()];
                s.spawn(move || {
                    let mut rng = Lcg(i as u64 + 1);
                    for t in 0..TXS {
                        let events: Vec<_> = (0..PER_TX)
                            .map(|k| event(writer, (t * PER_TX + k + 1) as u64, household_created(1, "Hộ")))
                            .collect();
                        let pause = Duration::from_micros(rng.below(2000));
                        run_write(store, |tx| -> StoreResult<()> {
                            let last = tx.last_server_seq()?;
                            let rows: Vec<_> = events
                                .iter()
                                .enumerate()
                                .map(|(k, e)| applied(last + 1 + k as u64, e, &hamlet_path(1)))
                                .collect();
                            tx.insert_events(&rows[..PER_TX / 2])?;
                            std::thread::sleep(pause);
                            tx.insert_events(&rows[PER_TX / 2..])
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        let reading = s.spawn(|| {
            let mut seen = Vec::new();
            let mut cursor = 0;
            let total = (WRITERS * TXS * PER_TX) as u64;
            let deadline = Instant::now() + Duration::from_secs(300);
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = run_read(stores[stores.len() - 1], |tx| {
                    tx.applied_events(&EventQuery {
                        after: cursor,
                        limit: 97,
                        paths: &paths,
                        device: reader.device.id,
                        include_own: false,
                    })
                })
                .unwrap();
                if let Some((last, _)) = page.last() {
                    cursor = *last;
                }
                seen.extend(page.iter().map(|(s, _)| *s));
                if (finished && page.is_empty()) || cursor >= total || Instant::now() > deadline {
                    break;
                }
            }
            seen
        });
        let joined: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        done.store(true, Ordering::SeqCst);
        let seen = reading.join().unwrap();
        for result in joined {
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        }
        seen
    })
}

fn assert_every_change_once(seen: &[u64]) {
    let total = (WRITERS * TXS * PER_TX) as u64;
    let expected: Vec<u64> = (1..=total).collect();
    if seen != expected {
        let set: BTreeSet<u64> = seen.iter().copied().collect();
        let missing: Vec<u64> = (1..=total).filter(|s| !set.contains(s)).take(10).collect();
        panic!("the reader saw {} events ({} distinct); first missing: {missing:?}", seen.len(), set.len());
    }
}

#[test]
fn many_writers_one_store_the_reader_skips_nothing() {
    let (_db, store, _) = seeded();
    let seen = writers_and_a_reader(&[&store]);
    assert_every_change_once(&seen);
}

#[test]
fn many_writers_two_stores_the_reader_skips_nothing() {
    let (db, store, _) = seeded();
    let second = PgStore::open(db.url(), None).unwrap();
    let seen = writers_and_a_reader(&[&store, &second]);
    assert_every_change_once(&seen);
}

#[test]
fn the_audit_chain_stays_one_chain_across_two_stores() {
    let (db, store, _) = seeded();
    let second = PgStore::open(db.url(), None).unwrap();
    let per_thread = 40;
    std::thread::scope(|s| {
        for i in 0..6 {
            let store = if i % 2 == 0 { &store } else { &second };
            s.spawn(move || {
                let mut rng = Lcg(i + 7);
                for n in 0..per_thread {
                    let pause = Duration::from_micros(rng.below(1000));
                    run_write(store, |tx| -> StoreResult<()> {
                        let (seq, prev) = match tx.audit_head()? {
                            Some((seq, hash)) => (seq + 1, hash),
                            None => (1, "0".repeat(64)),
                        };
                        std::thread::sleep(pause);
                        tx.insert_audit(&AuditRow {
                            seq,
                            at: now().to_rfc3339(),
                            actor_user: None,
                            actor_device: None,
                            action: "pull".into(),
                            detail: format!(r#"{{"thread":{i},"n":{n}}}"#),
                            prev_hash: prev,
                            hash: format!("{seq}-{i}-{n}"),
                        })
                    })
                    .unwrap();
                }
            });
        }
    });
    let rows = run_read(&store, |tx| tx.audit_rows(0, 10_000)).unwrap();
    assert_eq!(rows.len(), 6 * per_thread);
    let mut prev = "0".repeat(64);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i as i64 + 1);
        assert_eq!(row.prev_hash, prev, "row {} links to the row before", row.seq);
        prev = row.hash.clone();
    }
}

#[test]
fn one_device_pushing_to_two_servers_at_once_has_each_event_applied_once() {
    let (db, store, volunteer) = seeded();
    let second = PgStore::open(db.url(), None).unwrap();
    let events: Vec<_> = (1..=300).map(|seq| event(&volunteer, seq, household_created(1, "Hộ"))).collect();
    // what a push does: skip the events already stored, number the rest after the last
    let push = |store: &PgStore, batch: &[gocua_core::event::Event]| {
        run_write(store, |tx| -> StoreResult<usize> {
            let ids: Vec<Uuid> = batch.iter().map(|e| e.id).collect();
            let known: BTreeSet<Uuid> = tx.stored_outcomes(&ids)?.into_iter().map(|o| o.id).collect();
            let last = tx.last_server_seq()?;
            let fresh: Vec<_> = batch.iter().filter(|e| !known.contains(&e.id)).collect();
            let rows: Vec<_> =
                fresh.iter().enumerate().map(|(k, e)| applied(last + 1 + k as u64, e, &hamlet_path(1))).collect();
            tx.insert_events(&rows)?;
            Ok(rows.len())
        })
        .unwrap()
    };
    let applied_count: usize = std::thread::scope(|s| {
        let a = s.spawn(|| events.chunks(25).map(|c| push(&store, c)).sum::<usize>());
        let b = s.spawn(|| events.chunks(30).map(|c| push(&second, c)).sum::<usize>());
        a.join().unwrap() + b.join().unwrap()
    });
    assert_eq!(applied_count, events.len(), "each event applied by exactly one of the servers");
    assert_eq!(run_read(&store, |tx| tx.count_events("applied")).unwrap(), 300);
    assert_eq!(run_read(&store, |tx| tx.last_server_seq()).unwrap(), 300);
}

/// Throughput of pushes as the server makes them: `cargo test --release -p gocua-server-postgres
/// --features testing --test concurrency -- --ignored --nocapture`.
#[test]
#[ignore = "a benchmark: run it in release mode"]
fn throughput_of_large_pushes() {
    let (_db, store, volunteer) = seeded();
    let (txs, per_tx) = (100usize, 500usize);
    let households: Vec<Household> = (0..txs)
        .map(|i| Household {
            id: Uuid::now_v7(),
            hamlet_code: "03445-01".into(),
            address: format!("Số {i}"),
            head_name: "Chủ hộ".into(),
            members: Some(4),
            smartphones: Some(2),
            has_internet_computer: None,
            version: 1,
            review: None,
            field_versions: Default::default(),
            removed: None,
        })
        .collect();
    let started = Instant::now();
    let mut seq = 0u64;
    for household in &households {
        let events: Vec<_> = (0..per_tx)
            .map(|_| {
                seq += 1;
                event(&volunteer, seq, household_created(1, "Hộ"))
            })
            .collect();
        let residents: Vec<Resident> = (0..per_tx)
            .map(|k| Resident {
                id: Uuid::now_v7(),
                household_id: household.id,
                full_name: format!("Người {k}"),
                birth_year: 1990,
                sex: Sex::Male,
                cccd: Some("038190000000".into()),
                phone: None,
                version: 1,
                review: None,
                field_versions: Default::default(),
                status: None,
                reason_code: None,
                follow_up: None,
                deciding_visit: None,
                visit_count: 0,
                removed: None,
                claim_check: None,
                checked_visit: None,
                merged_into: None,
            })
            .collect();
        run_write(&store, |tx| -> StoreResult<()> {
            let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
            tx.stored_outcomes(&ids)?;
            tx.reasons()?;
            tx.households(&[household.id])?;
            tx.residents(&residents.iter().map(|r| r.id).collect::<Vec<_>>())?;
            let last = tx.last_server_seq()?;
            let rows: Vec<_> =
                events.iter().enumerate().map(|(k, e)| applied(last + 1 + k as u64, e, &hamlet_path(1))).collect();
            tx.insert_events(&rows)?;
            tx.put_households(std::slice::from_ref(household))?;
            tx.put_residents(&residents)?;
            let head = tx.audit_head()?;
            let seq = head.as_ref().map_or(1, |(s, _)| s + 1);
            tx.insert_audit(&AuditRow {
                seq,
                at: now().to_rfc3339(),
                actor_user: None,
                actor_device: None,
                action: "push".into(),
                detail: "{}".into(),
                prev_hash: head.map_or_else(|| "0".repeat(64), |(_, h)| h),
                hash: format!("{seq}"),
            })?;
            tx.record_push(volunteer.device.id, events.last().unwrap().seq, now(), "0.1.0")
        })
        .unwrap();
    }
    let elapsed = started.elapsed();
    let total = txs * per_tx;
    println!(
        "{txs} write transactions of {per_tx} events (+ {per_tx} residents each): {elapsed:?}, {:.0} events/s",
        total as f64 / elapsed.as_secs_f64()
    );
}
