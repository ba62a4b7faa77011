//! Where the device database's key lives: the OS key store, never a file beside the database.
//!
//! Desktop: the `keyring` crate's platform store (Secret Service on Linux — GNOME Keyring or
//! KWallet —, the Keychain on macOS, the Credential Manager on Windows). Android: the Keystore,
//! through the same [`KeyVault`] trait; that implementation needs the NDK to build and is not
//! in this tree yet (see README, "Security"), so an Android build stops at start with
//! [`VaultError::Unavailable`] rather than keep the key anywhere weaker.

use std::path::Path;

use gocua_core::store::cipher::DbKey;
use sha2::{Digest, Sha256};

/// The service name the app's secrets are filed under in the OS key store.
pub const SERVICE: &str = "vn.gocua.app";

/// Why the key store could not give or keep a key.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// There is no usable key store (e.g. no Secret Service running on a Linux desktop).
    #[error(
        "không có kho khoá của hệ điều hành để giữ khoá dữ liệu ({0}) / no OS key store to keep the database key in"
    )]
    Unavailable(String),
    /// The stored key is not a key (damaged or written by something else).
    #[error("khoá trong kho khoá bị hỏng / the stored key is damaged")]
    Damaged,
}

/// Keeps 256-bit database keys by name.
pub trait KeyVault: Send + Sync + std::fmt::Debug {
    /// The key filed under `name`, if there is one.
    fn load(&self, name: &str) -> Result<Option<DbKey>, VaultError>;
    /// Files `key` under `name`, replacing any.
    fn store(&self, name: &str, key: &DbKey) -> Result<(), VaultError>;
    /// Forgets the key under `name` (a wiped device); forgetting a missing key is fine.
    fn delete(&self, name: &str) -> Result<(), VaultError>;

    /// The key under `name`, made and filed on first use. Returns whether it is new.
    fn load_or_create(&self, name: &str) -> Result<(DbKey, bool), VaultError> {
        if let Some(key) = self.load(name)? {
            return Ok((key, false));
        }
        let key = DbKey::generate();
        self.store(name, &key)?;
        // read it back: a store that silently drops secrets must not leave us with a database
        // nobody can open again
        match self.load(name)? {
            Some(back) if back.to_hex() == key.to_hex() => Ok((key, true)),
            _ => Err(VaultError::Unavailable("the key store did not keep the key".into())),
        }
    }
}

/// The name a database's key is filed under: its absolute path, hashed (a path can hold a
/// user name; the hash keeps it out of the key store's listing).
pub fn key_name(database: &Path) -> String {
    let absolute = std::path::absolute(database).unwrap_or_else(|_| database.to_path_buf());
    let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
    format!("device-db-{}", &hex::encode(digest)[..32])
}

/// The platform's key store through the `keyring` crate.
#[derive(Debug, Default)]
pub struct OsKeyring;

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
impl OsKeyring {
    fn entry(name: &str) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(SERVICE, name).map_err(|e| VaultError::Unavailable(e.to_string()))
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
impl KeyVault for OsKeyring {
    fn load(&self, name: &str) -> Result<Option<DbKey>, VaultError> {
        match Self::entry(name)?.get_password() {
            Ok(mut text) => {
                let key = DbKey::from_hex(&text).map_err(|_| VaultError::Damaged);
                zeroize::Zeroize::zeroize(&mut text);
                key.map(Some)
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(VaultError::Unavailable(e.to_string())),
        }
    }

    fn store(&self, name: &str, key: &DbKey) -> Result<(), VaultError> {
        let mut text = key.to_hex();
        let stored = Self::entry(name)?.set_password(&text);
        zeroize::Zeroize::zeroize(&mut text);
        stored.map_err(|e| VaultError::Unavailable(e.to_string()))
    }

    fn delete(&self, name: &str) -> Result<(), VaultError> {
        match Self::entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(VaultError::Unavailable(e.to_string())),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
impl KeyVault for OsKeyring {
    fn load(&self, _name: &str) -> Result<Option<DbKey>, VaultError> {
        Err(VaultError::Unavailable("Android Keystore vault not built yet".into()))
    }
    fn store(&self, _name: &str, _key: &DbKey) -> Result<(), VaultError> {
        Err(VaultError::Unavailable("Android Keystore vault not built yet".into()))
    }
    fn delete(&self, _name: &str) -> Result<(), VaultError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_hide_the_path_and_differ_per_database() {
        let a = key_name(Path::new("/home/lan/.local/share/vn.gocua.app/gocua.sqlite"));
        let b = key_name(Path::new("/tmp/other/gocua.sqlite"));
        assert_ne!(a, b);
        assert!(a.starts_with("device-db-") && a.len() == "device-db-".len() + 32);
        assert!(!a.contains("lan"));
    }
}
