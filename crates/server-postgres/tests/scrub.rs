//! After an erasure: which of PostgreSQL's files still hold the rewritten values, after plain
//! `VACUUM` and after `VACUUM FULL`, found by scanning the cluster's files for sentinel strings
//! (`cargo test -p gocua-server-postgres --features testing --test scrub -- --nocapture` prints
//! the table).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;
use gocua_core::event::{HouseholdCreated, Payload, ResidentAdded, ResidentFields, VisitRecorded};
use gocua_core::funnel::FunnelState;
use gocua_core::model::{Household, Resident, Sex, Visit};
use gocua_core::sync::protocol::Role;
use gocua_server_postgres::testing::TestCluster;
use gocua_server_postgres::{PgOptions, PgStore};
use gocua_server_store::*;
use uuid::Uuid;

/// A marker only letters make up (so `fold` keeps it as it is in the search keys).
fn marker(what: &str) -> String {
    let letters: String =
        Uuid::new_v4().simple().to_string().chars().map(|c| (b'a' + (c as u8 % 26)) as char).collect();
    format!("zq{what}{letters}")
}

/// Which files of the cluster hold each needle: relation names for table and index files
/// (`base/<db>/`), `pg_wal` for write-ahead log segments.
fn scan(client: &mut postgres::Client, data: &Path, needles: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
    assert!(needles.iter().all(|(_, n)| n.starts_with("zq")));
    client.batch_execute("CHECKPOINT").unwrap();
    let db_oid: u32 =
        client.query_one("SELECT oid FROM pg_database WHERE datname = current_database()", &[]).unwrap().get(0);
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for row in client
        .query(
            "SELECT c.oid::regclass::text, pg_relation_filenode(c.oid)::text FROM pg_class c
             WHERE pg_relation_filenode(c.oid) IS NOT NULL",
            &[],
        )
        .unwrap()
    {
        let (name, filenode): (String, String) = (row.get(0), row.get(1));
        names.insert(filenode, name);
    }
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut look = |path: &Path, label: String| {
        let bytes = std::fs::read(path).unwrap_or_default();
        // every needle starts with "zq" (see `marker`): one pass finds the candidates
        for i in 0..bytes.len().saturating_sub(1) {
            if bytes[i] == b'z' && bytes[i + 1] == b'q' {
                for (what, needle) in needles {
                    if bytes[i..].starts_with(needle.as_bytes()) {
                        found.entry((*what).to_owned()).or_default().insert(label.clone());
                    }
                }
            }
        }
    };
    for entry in std::fs::read_dir(data.join("base").join(db_oid.to_string())).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let filenode = file.split(['.', '_']).next().unwrap_or_default().to_owned();
        let label = names.get(&filenode).cloned().unwrap_or_else(|| format!("(old file {filenode})"));
        look(&entry.path(), label);
    }
    for entry in std::fs::read_dir(data.join("pg_wal")).unwrap().flatten() {
        if entry.path().is_file() {
            look(&entry.path(), "pg_wal".into());
        }
    }
    found
}

#[test]
fn what_removes_an_erased_value_from_the_files() {
    let cluster = TestCluster::private();
    let db = cluster.database();
    let data = cluster.data_dir().unwrap().to_owned();
    let store = PgStore::open(db.url(), None).unwrap();
    let volunteer = actor("Lò Thị Lan", Role::Volunteer, &["03445-01"]);
    run_write(&store, |tx| -> StoreResult<()> {
        tx.upsert_places(&gocua_core::fixtures::demo_places())?;
        tx.insert_user(&volunteer.user)?;
        tx.insert_device(&volunteer.device)
    })
    .unwrap();

    let (name, phone, note, big) = (marker("name"), marker("phone"), marker("note"), marker("toast"));
    let long = marker("long");
    let household_id = Uuid::now_v7();
    let resident_id = Uuid::now_v7();
    let visit_id = Uuid::now_v7();
    let long_visit_id = Uuid::now_v7();
    // a long note kept in line (under the 2 kB TOAST threshold): its removal shrinks the row a lot
    let long_note = format!("{} {long} {}", "Ghi chú dài về gia đình. ".repeat(20), "Hẹn quay lại. ".repeat(20));
    // neighbours before and after on the same pages, as in a real log
    let mut payloads: Vec<Payload> = (0..50).map(|i| household_created(1, &format!("Hộ trước {i}"))).collect();
    payloads.push(Payload::HouseholdCreated(HouseholdCreated {
        household_id,
        hamlet_code: "03445-01".into(),
        address: "Số 1".into(),
        head_name: name.clone(),
    }));
    payloads.push(Payload::ResidentAdded(ResidentAdded {
        resident_id,
        household_id,
        fields: ResidentFields {
            full_name: name.clone(),
            birth_year: 1988,
            sex: Sex::Female,
            cccd: None,
            phone: Some(phone.clone()),
        },
    }));
    // a value long and random enough to be stored out of line (TOAST) without compression
    let filler: String = (0..300).map(|_| Uuid::new_v4().simple().to_string()).collect();
    payloads.push(Payload::VisitRecorded(VisitRecorded {
        steps: vec![],
        visit_id,
        resident_id,
        status: FunnelState::NotRegistered,
        reason_code: Some("other".into()),
        action: None,
        follow_up: None,
        note: Some(format!("{note} {big} {filler}")),
        position: None,
    }));
    payloads.push(Payload::VisitRecorded(VisitRecorded {
        steps: vec![],
        visit_id: long_visit_id,
        resident_id,
        status: FunnelState::NotRegistered,
        reason_code: Some("other".into()),
        action: None,
        follow_up: None,
        note: Some(long_note.clone()),
        position: None,
    }));
    payloads.extend((0..50).map(|i| household_created(1, &format!("Hộ sau {i}"))));
    let events: Vec<_> = payloads.into_iter().enumerate().map(|(i, p)| event(&volunteer, i as u64 + 1, p)).collect();
    let rows: Vec<_> = events.iter().enumerate().map(|(i, e)| applied(i as u64 + 1, e, &hamlet_path(1))).collect();
    let household = Household {
        id: household_id,
        hamlet_code: "03445-01".into(),
        address: "Số 1".into(),
        head_name: name.clone(),
        members: None,
        smartphones: None,
        has_internet_computer: None,
        version: 1,
        review: None,
        field_versions: Default::default(),
        removed: None,
    };
    let resident = Resident {
        id: resident_id,
        household_id,
        full_name: name.clone(),
        birth_year: 1988,
        sex: Sex::Female,
        cccd: None,
        phone: Some(phone.clone()),
        version: 1,
        review: None,
        field_versions: Default::default(),
        status: None,
        reason_code: None,
        follow_up: None,
        deciding_visit: None,
        visit_count: 1,
        removed: None,
        claim_check: None,
        checked_visit: None,
        merged_into: None,
    };
    let visit = Visit {
        id: visit_id,
        resident_id,
        status: FunnelState::NotRegistered,
        reason_code: Some("other".into()),
        action: None,
        follow_up: None,
        steps: vec![],
        note: Some(format!("{note} {big} {filler}")),
        author: volunteer.user.id,
        device_id: volunteer.device.id,
        device_time: now(),
        position: None,
        review: None,
    };
    let long_visit = Visit { id: long_visit_id, note: Some(long_note.clone()), ..visit.clone() };
    let neighbours: Vec<Visit> =
        (0..20).map(|i| Visit { id: Uuid::now_v7(), note: Some(format!("Lần {i}")), ..visit.clone() }).collect();
    run_write(&store, |tx| -> StoreResult<()> {
        tx.insert_events(&rows)?;
        tx.put_households(std::slice::from_ref(&household))?;
        tx.put_residents(std::slice::from_ref(&resident))?;
        tx.add_visits(&neighbours[..10])?;
        tx.add_visits(&[visit.clone(), long_visit.clone()])?;
        tx.add_visits(&neighbours[10..])
    })
    .unwrap();
    let needles = [
        ("name", name.as_str()),
        ("phone", phone.as_str()),
        ("note", note.as_str()),
        ("toast", big.as_str()),
        ("long", long.as_str()),
    ];
    let mut client = db.client();
    let mut table = Vec::new();
    table.push(("stored", scan(&mut client, &data, &needles)));

    // the erasure: the log's payloads rewritten, the projection redacted
    let erasure = gocua_core::erasure::Erasure { resident_id, household_id, names: [name.clone()].into() };
    run_write(&store, |tx| -> StoreResult<()> {
        for (i, e) in events.iter().enumerate() {
            let mut payload = e.payload.clone();
            if gocua_core::erasure::redact(&mut payload, &erasure) {
                tx.rewrite_payload(i as u64 + 1, &payload)?;
            }
        }
        tx.redact_projection(resident_id, household_id, std::slice::from_ref(&name), gocua_core::erasure::ERASED_NAME)
    })
    .unwrap();
    table.push(("rewritten", scan(&mut client, &data, &needles)));
    client.batch_execute("VACUUM events, residents, visits, households").unwrap();
    table.push(("VACUUM", scan(&mut client, &data, &needles)));
    client.batch_execute("VACUUM events, residents, visits, households").unwrap();
    table.push(("VACUUM again", scan(&mut client, &data, &needles)));
    client.batch_execute("VACUUM FULL events, residents, visits, households").unwrap();
    table.push(("VACUUM FULL", scan(&mut client, &data, &needles)));
    client.batch_execute("CHECKPOINT").unwrap();
    table.push(("+ CHECKPOINT", scan(&mut client, &data, &needles)));

    println!("\nwhere each erased value is found, by stage:");
    for (stage, found) in &table {
        println!("  {stage}:");
        for (what, files) in found {
            println!("    {what:5}: {}", files.iter().cloned().collect::<Vec<_>>().join(", "));
        }
    }

    let in_tables = |found: &BTreeMap<String, BTreeSet<String>>| -> BTreeSet<String> {
        found.values().flatten().filter(|f| *f != "pg_wal").cloned().collect()
    };
    assert!(!in_tables(&table[0].1).is_empty(), "the experiment finds what it stored");
    assert!(!in_tables(&table[1].1).is_empty(), "a rewrite leaves the old row version in the table file");
    assert!(
        in_tables(&table[5].1).is_empty(),
        "after VACUUM FULL and a checkpoint no table or index file holds an erased value: {:?}",
        table[5].1
    );
    assert!(table[5].1.values().any(|files| files.contains("pg_wal")), "the WAL still does");

    // the same at scale: a rewritten row's old version is overwritten by a plain VACUUM only
    // when enough live rows lie below it on its page (pruning slides them over it); the last
    // row inserted into a full page, rewritten, leaves its old bytes in the page's free space
    let start = 1000;
    let marked: Vec<(u64, String)> = (0..40).map(|i| (start + 7 * i, marker("many"))).collect();
    let many: Vec<_> = (start..start + 7 * 40)
        .map(|seq| {
            let head =
                marked.iter().find(|(s, _)| *s == seq).map_or_else(|| format!("Hộ số {seq}"), |(_, m)| m.clone());
            event(&volunteer, seq, household_created(1, &head))
        })
        .collect();
    let many_rows: Vec<_> = many.iter().map(|e| applied(e.seq, e, &hamlet_path(1))).collect();
    run_write(&store, |tx| tx.insert_events(&many_rows)).unwrap();
    run_write(&store, |tx| -> StoreResult<()> {
        for (seq, _) in &marked {
            tx.rewrite_payload(*seq, &household_created(1, "x"))?;
        }
        Ok(())
    })
    .unwrap();
    let needles: Vec<(&str, &str)> = marked.iter().map(|(_, m)| (m.as_str(), m.as_str())).collect();
    let count = |client: &mut postgres::Client| -> usize {
        scan(client, &data, &needles).values().filter(|files| files.contains("events")).count()
    };
    let before = count(&mut client);
    client.batch_execute("VACUUM events").unwrap();
    let after_vacuum = count(&mut client);
    client.batch_execute("VACUUM FULL events").unwrap();
    let after_full = count(&mut client);
    println!(
        "  {} rewritten events with a value each, found in the events table file: {before} after the rewrite, \
         {after_vacuum} after VACUUM, {after_full} after VACUUM FULL",
        marked.len()
    );
    assert_eq!(before, marked.len());
    assert_eq!(after_full, 0);

    // what the store's scrub does: VACUUM FULL of tables up to its size limit (all of these)
    let again = marker("again");
    let h2 = Household { id: Uuid::now_v7(), head_name: again.clone(), ..household.clone() };
    run_write(&store, |tx| tx.put_households(std::slice::from_ref(&h2))).unwrap();
    run_write(&store, |tx| tx.redact_projection(Uuid::now_v7(), h2.id, std::slice::from_ref(&again), "x")).unwrap();
    let remains = store.scrub_after_erasure().unwrap();
    assert!(
        remains.iter().any(|r| r.contains("pg_wal")) && remains.iter().any(|r| r.contains("pg_dump")),
        "{remains:?}"
    );
    assert!(!remains.iter().any(|r| r.contains("VACUUM FULL")), "{remains:?}");
    let found = scan(&mut client, &data, &[("again", again.as_str())]);
    println!("  after scrub_after_erasure: {found:?}");
    assert!(in_tables(&found).is_empty(), "{found:?}");

    // above the limit: a plain VACUUM, and the officer is told what it leaves
    let options = PgOptions { scrub_full_max_bytes: 0, ..PgOptions::default() };
    let small_limit = PgStore::open_with(db.url(), None, options).unwrap();
    let remains = small_limit.scrub_after_erasure().unwrap();
    let note = remains.iter().find(|r| r.contains("VACUUM FULL")).expect("a note on the tables left");
    for table in ["events", "residents", "visits", "households"] {
        assert!(note.contains(table), "{note}");
    }
}
