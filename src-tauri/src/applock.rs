//! The app lock: a six-digit PIN set at enrollment, asked at start and after idle, with a
//! growing wait after wrong tries.
//!
//! While locked the device database is closed, so its key is in no memory the app holds
//! (SQLCipher wipes it when the connection closes) and no command can read it. The PIN record
//! (an Argon2id hash, the count of wrong tries and the wait) is kept in the OS key store beside
//! the database key, not in a file: deleting or copying a file does not remove the lock nor
//! reset the wait, and a restart does not either.

use std::path::Path;
use std::sync::Mutex;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::keyvault::{KeyVault, VaultError, pin_name};

/// Digits in a PIN.
pub const PIN_LEN: usize = 6;
/// Wrong tries allowed before the first wait.
pub const FREE_TRIES: u32 = 5;
/// The first wait, doubled at each further wrong try.
const FIRST_WAIT_SECONDS: i64 = 30;
/// The longest wait.
const MAX_WAIT_SECONDS: i64 = 60 * 60;
/// Lock after this long without a touch or a key (`GOCUA_IDLE_LOCK_SECONDS` overrides).
pub const DEFAULT_IDLE_SECONDS: u64 = 5 * 60;

/// Why a PIN was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// Not six digits.
    #[error("Mã PIN phải gồm đúng {PIN_LEN} chữ số / The PIN must be exactly {PIN_LEN} digits")]
    Format,
    /// The confirmation differs.
    #[error("Hai lần nhập mã PIN không giống nhau / The two PINs differ")]
    Mismatch,
    /// A new PIN that is the current one.
    #[error("Mã PIN mới phải khác mã PIN hiện tại / The new PIN must differ from the current one")]
    Unchanged,
    /// The PIN is wrong; `tries_left` more are checked before a wrong one brings a wait
    /// (`wait_seconds`, when one began now).
    #[error(
        "Sai mã PIN. {} / Wrong PIN. {}",
        if *.wait_seconds > 0 { format!("Chờ {} giây rồi thử lại", .wait_seconds) } else { format!("Còn {} lần thử", .tries_left) },
        if *.wait_seconds > 0 { format!("Wait {} s before trying again", .wait_seconds) } else { format!("{} tries left before a wait", .tries_left) }
    )]
    Wrong {
        /// Tries before the next wait (0 when waiting now).
        tries_left: u32,
        /// Seconds to wait now (0 if none).
        wait_seconds: u64,
    },
    /// Too many wrong tries: no PIN is even checked until the wait is over.
    #[error("Đã nhập sai nhiều lần: chờ {seconds} giây rồi thử lại / Too many wrong PINs: wait {seconds} s")]
    Wait {
        /// Seconds left.
        seconds: u64,
    },
}

/// What the key store keeps for the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinRecord {
    /// Argon2id, in PHC string form (with its own salt and parameters).
    hash: String,
    /// Wrong tries since the last right one.
    failures: u32,
    /// No try is checked before this.
    wait_until: Option<DateTime<Utc>>,
}

/// Checks a PIN's shape: exactly [`PIN_LEN`] ASCII digits.
pub fn check_format(pin: &str) -> Result<(), PinError> {
    if pin.len() == PIN_LEN && pin.bytes().all(|b| b.is_ascii_digit()) { Ok(()) } else { Err(PinError::Format) }
}

/// The wait after `failures` wrong tries in a row.
fn wait_after(failures: u32) -> i64 {
    if failures < FREE_TRIES {
        return 0;
    }
    let doublings = (failures - FREE_TRIES).min(16);
    (FIRST_WAIT_SECONDS << doublings).min(MAX_WAIT_SECONDS)
}

impl PinRecord {
    /// A record for a new PIN (its shape checked, hashed with a fresh salt).
    pub fn new(pin: &str) -> Result<Self, PinError> {
        check_format(pin)?;
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default().hash_password(pin.as_bytes(), &salt).map_err(|_| PinError::Format)?.to_string();
        Ok(PinRecord { hash, failures: 0, wait_until: None })
    }

    /// Seconds to wait before a try is checked (0: try now).
    pub fn wait_seconds(&self, now: DateTime<Utc>) -> u64 {
        // never longer than the count of wrong tries earns: a clock that was ahead and is set
        // right must not lock anyone out for years
        let earned = wait_after(self.failures);
        self.wait_until.map_or(0, |until| (until - now).num_seconds().clamp(0, earned).unsigned_abs())
    }

    /// Checks a try at `now`, counting it: a wrong one (or any during a wait) is refused and
    /// may start a wait; a right one clears the count. The caller stores the record after.
    pub fn check(&mut self, pin: &str, now: DateTime<Utc>) -> Result<(), PinError> {
        let wait = self.wait_seconds(now);
        if wait > 0 {
            return Err(PinError::Wait { seconds: wait });
        }
        let right = PasswordHash::new(&self.hash)
            .is_ok_and(|hash| Argon2::default().verify_password(pin.as_bytes(), &hash).is_ok());
        if right {
            self.failures = 0;
            self.wait_until = None;
            return Ok(());
        }
        self.failures = self.failures.saturating_add(1);
        let wait = wait_after(self.failures);
        self.wait_until = (wait > 0).then(|| now + chrono::Duration::seconds(wait));
        Err(PinError::Wrong { tries_left: FREE_TRIES.saturating_sub(self.failures), wait_seconds: wait.unsigned_abs() })
    }
}

/// The PIN record of the database at `path`, if a PIN was set.
pub fn load_record(vault: &dyn KeyVault, path: &Path) -> Result<Option<PinRecord>, VaultError> {
    match vault.load_text(&pin_name(path))? {
        Some(text) => serde_json::from_str(&text).map(Some).map_err(|_| VaultError::Damaged),
        None => Ok(None),
    }
}

/// Files the PIN record of the database at `path`.
pub fn save_record(vault: &dyn KeyVault, path: &Path, record: &PinRecord) -> Result<(), VaultError> {
    let text = serde_json::to_string(record).map_err(|_| VaultError::Damaged)?;
    vault.store_text(&pin_name(path), &text)
}

/// Forgets the PIN with the database (a wiped device sets a new one at its next enrollment).
pub fn delete_record(vault: &dyn KeyVault, path: &Path) -> Result<(), VaultError> {
    vault.delete(&pin_name(path))
}

/// Whether the app is locked, and what to reopen at unlock.
#[derive(Debug)]
pub struct AppLock {
    state: Mutex<LockState>,
    /// Held while a PIN is checked: two tries at once each count (load, check, save in turn).
    checking: Mutex<()>,
    /// Lock after this many seconds without input.
    pub idle_seconds: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct LockState {
    locked: bool,
    has_pin: bool,
    /// The trainer's sandbox was open when the app locked.
    sandbox: bool,
}

impl AppLock {
    /// The lock at start: locked when a PIN is set.
    pub fn new(has_pin: bool) -> Self {
        let idle_seconds = std::env::var("GOCUA_IDLE_LOCK_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_IDLE_SECONDS);
        AppLock {
            state: Mutex::new(LockState { locked: has_pin, has_pin, sandbox: false }),
            checking: Mutex::new(()),
            idle_seconds,
        }
    }

    fn get(&self) -> LockState {
        self.state.lock().map(|s| *s).unwrap_or(LockState { locked: true, has_pin: true, sandbox: false })
    }

    fn update(&self, f: impl FnOnce(&mut LockState)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }

    /// Runs one PIN check alone.
    pub fn one_check_at_a_time<T>(&self, f: impl FnOnce() -> T) -> T {
        let _turn = self.checking.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f()
    }

    /// Whether the database is closed behind the lock.
    pub fn is_locked(&self) -> bool {
        self.get().locked
    }

    /// Whether a PIN is set.
    pub fn has_pin(&self) -> bool {
        self.get().has_pin
    }

    /// Whether the sandbox is to be reopened at unlock.
    pub fn reopens_sandbox(&self) -> bool {
        self.get().sandbox
    }

    /// Marks the app locked (the caller closes the database).
    pub fn set_locked(&self, sandbox: bool) {
        self.update(|s| {
            s.locked = true;
            s.sandbox = sandbox;
        });
    }

    /// Marks the app unlocked (the caller has reopened the database).
    pub fn set_unlocked(&self) {
        self.update(|s| s.locked = false);
    }

    /// Notes whether a PIN is set (after setting one, or a wipe).
    pub fn set_has_pin(&self, has_pin: bool) {
        self.update(|s| s.has_pin = has_pin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyvault::MemoryVault;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn a_pin_is_six_digits() {
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", "12 345"] {
            assert_eq!(PinRecord::new(bad).unwrap_err(), PinError::Format, "{bad:?}");
        }
        let mut record = PinRecord::new("024681").unwrap();
        assert!(!record.hash.contains("024681"), "only a hash is kept");
        assert!(record.hash.starts_with("$argon2id$"), "{}", record.hash);
        assert_eq!(record.check("024681", at(0)), Ok(()));
    }

    #[test]
    fn wrong_tries_bring_a_wait_that_doubles_and_a_right_pin_clears_it() {
        let mut record = PinRecord::new("135790").unwrap();
        for (i, left) in [4, 3, 2, 1].into_iter().enumerate() {
            let err = record.check("000000", at(i as i64)).unwrap_err();
            assert_eq!(err, PinError::Wrong { tries_left: left, wait_seconds: 0 }, "try {i}");
        }
        // the fifth wrong try starts a 30 s wait
        assert_eq!(record.check("000000", at(10)), Err(PinError::Wrong { tries_left: 0, wait_seconds: 30 }));
        // during the wait even the right PIN is not checked
        assert_eq!(record.check("135790", at(20)), Err(PinError::Wait { seconds: 20 }));
        // after it, one more wrong try doubles the wait
        assert_eq!(record.check("000000", at(41)), Err(PinError::Wrong { tries_left: 0, wait_seconds: 60 }));
        assert_eq!(record.wait_seconds(at(41)), 60);
        assert_eq!(record.check("135790", at(101)), Ok(()));
        assert_eq!((record.failures, record.wait_until), (0, None), "a right PIN clears the count");
        assert_eq!(wait_after(40), MAX_WAIT_SECONDS, "the wait is capped");
        // a wait stamped by a clock set years ahead lasts no longer than the tries earned
        let mut skewed = PinRecord::new("135790").unwrap();
        for i in 0..5 {
            let _ = skewed.check("000000", at(10 * 365 * 86_400 + i));
        }
        assert_eq!(skewed.wait_seconds(at(0)), 30, "the clock was set right: 30 s, not ten years");
    }

    #[test]
    fn the_record_and_its_count_survive_a_restart_in_the_key_store() {
        let vault = MemoryVault::default();
        let path = Path::new("/tmp/gocua-lock-test/gocua.sqlite");
        assert_eq!(load_record(&vault, path).unwrap(), None);
        let mut record = PinRecord::new("112233").unwrap();
        let _ = record.check("999999", at(0));
        save_record(&vault, path, &record).unwrap();
        let back = load_record(&vault, path).unwrap().unwrap();
        assert_eq!(back, record);
        assert_eq!(back.failures, 1);
        delete_record(&vault, path).unwrap();
        assert_eq!(load_record(&vault, path).unwrap(), None);
    }
}
