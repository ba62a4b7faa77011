//! `0010_household_paths` on a database that holds records: each is moved under its household's
//! path, whatever names the household, and a scope may then hold a household's id.

use gocua_server_postgres::PgStore;
use gocua_server_postgres::testing::TestDatabase;

#[test]
fn records_stored_before_0010_move_under_their_household() {
    let db = TestDatabase::new();
    drop(PgStore::open(db.url(), None).unwrap());
    let mut client = db.client();
    let (h, r) = ("00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000b1");
    let unknown = "00000000-0000-0000-0000-00000000ffff";
    // the schema as it was before 0010, with records stored under their hamlet's path
    client
        .batch_execute(&format!(
            "DELETE FROM schema_migrations WHERE version = 10;
             ALTER TABLE user_scopes ADD CONSTRAINT user_scopes_place_code_fkey FOREIGN KEY (place_code) REFERENCES places(code);
             ALTER TABLE former_scopes ADD CONSTRAINT former_scopes_scope_code_fkey FOREIGN KEY (scope_code) REFERENCES places(code);
             INSERT INTO places (code, name, level, division_type, parent_code) VALUES
                ('12', 'T', 'province', 'tỉnh', NULL), ('03445', 'X', 'commune', 'xã', '12'),
                ('03445-01', 'B', 'hamlet', 'bản', '03445');
             INSERT INTO households (id, hamlet_code, address, head_name, version, search_key)
                VALUES ('{h}', '03445-01', 'a', 'n', 1, 'k');
             INSERT INTO residents (id, household_id, full_name, birth_year, sex, version, search_key)
                VALUES ('{r}', '{h}', 'n', 1990, 'female', 1, 'k');
             INSERT INTO erasures (resident_id, place_path, at_seq, erased_at, erased_by)
                VALUES ('{r}', '/12/03445/03445-01/', 0, now(), 'x');"
        ))
        .unwrap();
    let user = client
        .query_one(
            "INSERT INTO users (id, name, role, created_at) VALUES (gen_random_uuid(), 'U', 'volunteer', now()) RETURNING id",
            &[],
        )
        .map(|row| row.get::<_, uuid::Uuid>(0))
        .unwrap();
    let device = client
        .query_one(
            "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at) VALUES (gen_random_uuid(), $1, 'p', 'x', now())
             RETURNING id",
            &[&user],
        )
        .map(|row| row.get::<_, uuid::Uuid>(0))
        .unwrap();
    let hamlet = "/12/03445/03445-01/";
    let events: [(&str, String, &str); 7] = [
        ("household_created.v1", format!(r#"{{"household_id":"{h}"}}"#), hamlet),
        ("visit_recorded.v1", format!(r#"{{"resident_id":"{r}"}}"#), hamlet),
        ("residents_merged.v1", format!(r#"{{"kept":"{r}"}}"#), hamlet),
        ("review_resolved.v1", format!(r#"{{"record_id":"{h}"}}"#), hamlet),
        ("assignment_set.v1", r#"{"user_id":"u"}"#.to_owned(), "/12/03445/"),
        ("campaign_set.v1", r#"{"place":"03445"}"#.to_owned(), "/12/03445/"),
        ("visit_recorded.v1", format!(r#"{{"resident_id":"{unknown}"}}"#), hamlet),
    ];
    for (i, (kind, payload, path)) in events.iter().enumerate() {
        let seq = i as i64 + 1;
        client
            .execute(
                "INSERT INTO events (server_seq, id, device_id, seq, author, device_time, received_at, type, payload,
                                     place_path, status)
                 VALUES ($1, gen_random_uuid(), $2, $1, $3, now(), now(), $4, $5, $6, 'applied')",
                &[&seq, &device, &user, kind, payload, path],
            )
            .unwrap();
    }
    drop(client);

    drop(PgStore::open(db.url(), None).unwrap());
    let mut client = db.client();
    let paths: Vec<String> = client
        .query("SELECT place_path FROM events ORDER BY server_seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let moved = format!("{hamlet}{h}/");
    assert_eq!(paths, [moved.as_str(), &moved, &moved, &moved, "/12/03445/", "/12/03445/", hamlet]);
    let erased: String = client.query_one("SELECT place_path FROM erasures", &[]).unwrap().get(0);
    assert_eq!(erased, moved, "an erasure reaches a phone given the household alone");
    client.execute("INSERT INTO user_scopes (user_id, place_code) VALUES ($1, $2)", &[&user, &h]).unwrap();
}
