//! The device database's encryption: SQLCipher under a random 256-bit key that the OS keeps.
//!
//! A phone holding a village's CCCD numbers gets lost. Its database file is SQLCipher 4
//! (AES-256 pages, an HMAC-SHA512 on every page so a changed byte is caught), keyed with a raw
//! 256-bit key: no passphrase, so no key-derivation cost at start. The key never touches the
//! disk in the clear; the app keeps it in the OS key store (see the app's `keyvault`).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rand::RngCore;
use rusqlite::Connection;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;

/// The first 16 bytes of every plaintext SQLite file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A database key: 32 random bytes, wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DbKey([u8; 32]);

impl DbKey {
    /// A fresh random key from the OS's generator.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        DbKey(key)
    }

    /// A key kept elsewhere, as its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DbKey(bytes)
    }

    /// A key kept elsewhere, as 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut key)
            .map_err(|_| Error::invalid_input("khoá cơ sở dữ liệu hỏng / the database key is damaged"))?;
        Ok(DbKey(key))
    }

    /// The key as 64 hex digits, for a key store that keeps text.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// SQLCipher's raw-key literal, `x'…'`: used as is, with no key derivation.
    fn pragma_literal(&self) -> String {
        format!("x'{}'", hex::encode(self.0))
    }
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(…)")
    }
}

/// Keys a fresh connection and proves the key opens the file; a wrong key (or a plaintext or
/// damaged file) is [`Error::WrongKey`]. Temporary tables and indexes stay in memory, never in a
/// temp file in the clear.
///
/// `cipher_memory_security` (wiping every freed allocation) stays off, as SQLCipher ships it:
/// it guards against reading a running app's memory, which a lost, locked phone does not
/// allow, and it cost a 4–7× slowdown in `scripts/bench-cipher.sh` (BENCHMARKS.md).
pub fn unlock(conn: &Connection, key: &DbKey) -> Result<(), Error> {
    let mut literal = key.pragma_literal();
    let keyed = conn.pragma_update(None, "key", &literal);
    literal.zeroize();
    keyed?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(|e| {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) { Error::WrongKey } else { e.into() }
    })?;
    Ok(())
}

/// Whether the file at `path` is a plaintext SQLite database (an app from before encryption).
pub fn is_plaintext(path: &Path) -> Result<bool, Error> {
    let mut header = [0u8; 16];
    match fs::File::open(path).and_then(|mut f| f.read_exact(&mut header)) {
        Ok(()) => Ok(&header == SQLITE_HEADER),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Ok(false)
        }
        Err(e) => Err(Error::invalid_input(format!("không đọc được {} / cannot read it: {e}", path.display()))),
    }
}

/// Encrypts a plaintext database in place under `key`: copied page by page into an encrypted
/// file beside it (`sqlcipher_export`), which then replaces it in one rename. A crash leaves the
/// plaintext file whole and the copy is made again on the next start.
pub fn encrypt_in_place(path: &Path, key: &DbKey) -> Result<(), Error> {
    let encrypted = sidecar(path, "encrypting");
    let _ = fs::remove_file(&encrypted);
    {
        let conn = Connection::open(path)?;
        // fold the write-ahead log in, so the copy sees every committed row
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let mut attach = format!(
            "ATTACH DATABASE '{}' AS encrypted KEY \"{}\"",
            encrypted.display().to_string().replace('\'', "''"),
            key.pragma_literal()
        );
        let attached = conn.execute_batch(&attach);
        attach.zeroize();
        attached?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        conn.execute_batch(&format!("PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"))?;
    }
    fs::File::open(&encrypted).and_then(|f| f.sync_all()).map_err(io_error)?;
    fs::rename(&encrypted, path).map_err(io_error)?;
    for stale in [sidecar(path, "wal"), sidecar(path, "shm")] {
        let _ = fs::remove_file(stale);
    }
    Ok(())
}

/// Deletes the database file and its journal files: what a revoked or wiped device does.
pub fn delete_database(path: &Path) -> Result<(), Error> {
    for file in [path.to_path_buf(), sidecar(path, "wal"), sidecar(path, "shm"), sidecar(path, "encrypting")] {
        match fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(e)),
        }
    }
    Ok(())
}

/// `path` with `-suffix` appended to its file name (SQLite's `-wal`, `-shm` convention).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!("-{suffix}"));
    PathBuf::from(name)
}

fn io_error(e: std::io::Error) -> Error {
    Error::invalid_input(format!("lỗi tệp cơ sở dữ liệu / database file error: {e}"))
}
