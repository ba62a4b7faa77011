//! Where the device database's key lives: the OS key store, never a file beside the database.
//!
//! Through the `keyring` crate everywhere: the Secret Service on Linux (GNOME Keyring or KWallet),
//! the Keychain on macOS, the Credential Manager on Windows, and on Android the Keystore (the
//! `android-keyring` store, set up by [`init_platform_store`]: an AES key that never leaves the
//! Keystore encrypts what is filed in the app's private SharedPreferences). Any other platform
//! stops at start with [`VaultError::Unavailable`] rather than keep the key anywhere weaker.

use std::path::Path;

use gocua_core::store::cipher::DbKey;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

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

/// Keeps secrets by name: 256-bit database keys, the app lock's PIN record, and the revocation
/// probe.
pub trait KeyVault: Send + Sync + std::fmt::Debug {
    /// The secret text filed under `name`, if there is one.
    fn load_text(&self, name: &str) -> Result<Option<Zeroizing<String>>, VaultError>;
    /// Files `text` under `name`, replacing any.
    fn store_text(&self, name: &str, text: &str) -> Result<(), VaultError>;
    /// Forgets what is under `name` (a wiped device); forgetting a missing entry is fine.
    fn delete(&self, name: &str) -> Result<(), VaultError>;

    /// The key filed under `name`, if there is one.
    fn load(&self, name: &str) -> Result<Option<DbKey>, VaultError> {
        match self.load_text(name)? {
            Some(text) => DbKey::from_hex(&text).map(Some).map_err(|_| VaultError::Damaged),
            None => Ok(None),
        }
    }
    /// Files `key` under `name`, replacing any.
    fn store(&self, name: &str, key: &DbKey) -> Result<(), VaultError> {
        self.store_text(name, &Zeroizing::new(key.to_hex()))
    }

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
    format!("device-db-{}", path_digest(database))
}

/// The name the app lock's PIN record for a database is filed under (see `applock`).
pub fn pin_name(database: &Path) -> String {
    format!("app-pin-{}", path_digest(database))
}

/// The name a database's revocation probe is filed under (see `revocation`): with the server's
/// address and the device's id, what a locked app needs to ask whether it was revoked.
pub fn probe_name(database: &Path) -> String {
    format!("revocation-probe-{}", path_digest(database))
}

fn path_digest(database: &Path) -> String {
    let absolute = std::path::absolute(database).unwrap_or_else(|_| database.to_path_buf());
    let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
    hex::encode(digest)[..32].to_owned()
}

/// The platform's key store through the `keyring` crate.
#[derive(Debug, Default)]
pub struct OsKeyring;

/// Makes the platform's store `keyring`'s default; call once before the first key is read.
/// Only Android needs it (Tauri sets up the NDK context it reads).
pub fn init_platform_store() -> Result<(), VaultError> {
    #[cfg(target_os = "android")]
    android_keyring::set_android_keyring_credential_builder().map_err(|e| VaultError::Unavailable(e.to_string()))?;
    Ok(())
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows", target_os = "android"))]
impl OsKeyring {
    fn entry(name: &str) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(SERVICE, name).map_err(|e| VaultError::Unavailable(e.to_string()))
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows", target_os = "android"))]
impl KeyVault for OsKeyring {
    fn load_text(&self, name: &str) -> Result<Option<Zeroizing<String>>, VaultError> {
        match Self::entry(name)?.get_password() {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(VaultError::Unavailable(e.to_string())),
        }
    }

    fn store_text(&self, name: &str, text: &str) -> Result<(), VaultError> {
        Self::entry(name)?.set_password(text).map_err(|e| VaultError::Unavailable(e.to_string()))
    }

    fn delete(&self, name: &str) -> Result<(), VaultError> {
        match Self::entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(VaultError::Unavailable(e.to_string())),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows", target_os = "android")))]
impl KeyVault for OsKeyring {
    fn load_text(&self, _name: &str) -> Result<Option<Zeroizing<String>>, VaultError> {
        Err(VaultError::Unavailable("no key store on this platform".into()))
    }
    fn store_text(&self, _name: &str, _text: &str) -> Result<(), VaultError> {
        Err(VaultError::Unavailable("no key store on this platform".into()))
    }
    fn delete(&self, _name: &str) -> Result<(), VaultError> {
        Ok(())
    }
}

/// A vault in memory, for tests of what is built on the trait.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct MemoryVault(std::sync::Mutex<std::collections::HashMap<String, String>>);

#[cfg(test)]
impl KeyVault for MemoryVault {
    fn load_text(&self, name: &str) -> Result<Option<Zeroizing<String>>, VaultError> {
        Ok(self.0.lock().unwrap().get(name).cloned().map(Zeroizing::new))
    }
    fn store_text(&self, name: &str, text: &str) -> Result<(), VaultError> {
        self.0.lock().unwrap().insert(name.to_owned(), text.to_owned());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), VaultError> {
        self.0.lock().unwrap().remove(name);
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
        let path = Path::new("/tmp/other/gocua.sqlite");
        let names = [key_name(path), pin_name(path), probe_name(path)];
        assert!(names.iter().all(|n| n.ends_with(&names[0]["device-db-".len()..])), "one digest: {names:?}");
        assert!(names[2].starts_with("revocation-probe-"));
    }
}
