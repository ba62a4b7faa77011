//! The encrypted device store: unreadable without its key, readable with it, and an older
//! plaintext store encrypted in place without losing a row.

use std::path::PathBuf;
use std::process::Command;

use uuid::Uuid;

use super::cipher::{self, DbKey};
use super::*;

use crate::fixtures::{SENTINEL_CCCD, record_sentinel_household};

fn seed(store: &mut DeviceStore) -> Uuid {
    let response = EnrollResponse { device_id: Uuid::now_v7(), ..crate::fixtures::enroll_response(store) };
    store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
    record_sentinel_household(store)
}

/// Every file of the database (main, WAL, shared memory) as one byte string.
fn all_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(b) = std::fs::read(PathBuf::from(name)) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_file_holds_no_cccd_and_plain_sqlite_cannot_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gocua.sqlite");
    let key = DbKey::generate();
    {
        let mut store = DeviceStore::open_encrypted(&path, &key).unwrap();
        seed(&mut store);
        // the bytes on disk while the app is running, WAL included
        let bytes = all_bytes(&path);
        assert!(bytes.len() > 4096, "the database was written");
        assert!(!contains(&bytes, SENTINEL_CCCD.as_bytes()), "no CCCD in the files");
        assert!(!contains(&bytes, "Sentinel".as_bytes()), "no name in the files");
        assert!(!contains(&bytes, b"SQLite format 3"), "no plaintext header");
    }
    let bytes = all_bytes(&path);
    assert!(!contains(&bytes, SENTINEL_CCCD.as_bytes()));

    // SQLite itself, without a key
    let plain = rusqlite::Connection::open(&path).unwrap();
    let err = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).unwrap_err();
    assert_eq!(err.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase), "{err}");

    // the sqlite3 shell, as anyone who finds the phone would try
    match Command::new("sqlite3").arg(&path).arg("SELECT * FROM residents;").output() {
        Ok(out) => {
            assert!(!out.status.success(), "sqlite3 must fail on the encrypted file");
            let text = String::from_utf8_lossy(&out.stderr);
            assert!(text.contains("not a database") || text.contains("encrypted"), "sqlite3 said: {text}");
            assert!(!String::from_utf8_lossy(&out.stdout).contains(SENTINEL_CCCD));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && std::env::var_os("CI").is_none() => {
            eprintln!("sqlite3 is not installed here: the rusqlite check above stands alone");
        }
        Err(e) => panic!("sqlite3 shell: {e}"),
    }
}

#[test]
fn a_wrong_key_fails_and_the_right_key_reads_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gocua.sqlite");
    let key = DbKey::generate();
    let household = {
        let mut store = DeviceStore::open_encrypted(&path, &key).unwrap();
        seed(&mut store)
    };
    let before = std::fs::read(&path).unwrap();
    let err = DeviceStore::open_encrypted(&path, &DbKey::generate()).expect_err("a wrong key fails");
    assert!(matches!(err, Error::WrongKey), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "a wrong key changes nothing");

    let again = DeviceStore::open_encrypted(&path, &DbKey::from_hex(&key.to_hex()).unwrap()).unwrap();
    let detail = again.household_detail(household).unwrap();
    assert_eq!(detail.residents[0].cccd.as_deref(), Some(SENTINEL_CCCD));
}

#[test]
fn sqlcipher_settings_are_the_strong_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gocua.sqlite");
    let key = DbKey::generate();
    let key_hex = key.to_hex();
    let mut store = DeviceStore::open_encrypted(&path, &key).unwrap();
    seed(&mut store);
    let conn = store.connection();
    let version: String = conn.query_row("PRAGMA cipher_version", [], |r| r.get(0)).unwrap();
    assert!(version.starts_with('4'), "SQLCipher 4: {version}");
    let hmac: String = conn.query_row("PRAGMA cipher_hmac_algorithm", [], |r| r.get(0)).unwrap();
    assert_eq!(hmac, "HMAC_SHA512", "every page carries an HMAC");
    let temp: i64 = conn.query_row("PRAGMA temp_store", [], |r| r.get(0)).unwrap();
    assert_eq!(temp, 2, "temp_store = MEMORY");
    // a flipped byte inside a page is caught by its HMAC rather than read as data
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = 4096 + 200;
    bytes[at] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let _ = std::fs::remove_file(dir.path().join("gocua.sqlite-wal"));
    let read_all = || -> Result<String, Error> {
        let store = DeviceStore::open_encrypted(&path, &DbKey::from_hex(&key_hex).unwrap())?;
        Ok(store.connection().query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))?)
    };
    match read_all() {
        // the page that fails its HMAC is refused, so the check cannot read it
        Ok(verdict) => assert!(verdict != "ok" && verdict.contains("page 2"), "tampering went unseen: {verdict}"),
        Err(Error::Db(e)) => assert!(
            matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            "{e}"
        ),
        Err(other) => assert!(matches!(other, Error::WrongKey | Error::Migration(_)), "{other}"),
    }
}

#[test]
fn a_plaintext_store_from_an_older_app_is_encrypted_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gocua.sqlite");
    let household = {
        let mut store = DeviceStore::open(&path).unwrap();
        seed(&mut store)
    };
    assert!(cipher::is_plaintext(&path).unwrap());
    assert!(contains(&all_bytes(&path), SENTINEL_CCCD.as_bytes()), "the old file was plaintext");
    let key = DbKey::generate();
    let store = DeviceStore::open_encrypted(&path, &key).unwrap();
    assert_eq!(store.household_detail(household).unwrap().residents.len(), 1, "nothing lost");
    assert_eq!(store.unsent_count().unwrap(), 2, "the outbox came along");
    drop(store);
    assert!(!cipher::is_plaintext(&path).unwrap());
    assert!(!contains(&all_bytes(&path), SENTINEL_CCCD.as_bytes()), "no CCCD left in the clear");
    assert!(!dir.path().join("gocua.sqlite-encrypting").exists());
}

#[test]
fn deleting_the_database_removes_its_journal_files_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gocua.sqlite");
    let store = DeviceStore::open_encrypted(&path, &DbKey::generate()).unwrap();
    drop(store);
    std::fs::write(dir.path().join("gocua.sqlite-wal"), b"x").unwrap();
    cipher::delete_database(&path).unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    cipher::delete_database(&path).unwrap();
}
