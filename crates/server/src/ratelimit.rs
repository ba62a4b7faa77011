//! Request budgets: per device for the sync endpoints, and shared budgets for failed
//! enrollment attempts and failed revocation checks (a wrong code or probe costs time; a right
//! one, which only an officer or the device itself holds, costs nothing there). A token bucket
//! each; an empty bucket answers 429 with how long to wait, which the app treats as "try again
//! later".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::ApiError;

/// A budget: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Requests allowed in a burst.
    pub burst: f64,
    /// Requests regained per second.
    pub per_second: f64,
}

/// A device syncing a whole commune (50 pull pages) and pushing in batches stays well inside;
/// a runaway or hostile client does not.
pub const DEVICE_BUDGET: Budget = Budget { burst: 240.0, per_second: 4.0 };
/// Failed enrollment attempts, all clients together: a one-time code has 40 bits, and at this
/// rate guessing one of a thousand live codes takes decades.
pub const ENROLL_BUDGET: Budget = Budget { burst: 30.0, per_second: 1.0 };

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(budget: Budget, now: Instant) -> Self {
        Bucket { tokens: budget.burst, at: now }
    }

    /// Whether a token is there (after refilling), or how long until one is back.
    fn check(&mut self, budget: Budget, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * budget.per_second).min(budget.burst);
        self.at = now;
        if self.tokens >= 1.0 { Ok(()) } else { Err(Duration::from_secs_f64((1.0 - self.tokens) / budget.per_second)) }
    }

    /// Takes one token, or says how long until one is back.
    fn take(&mut self, budget: Budget, now: Instant) -> Result<(), Duration> {
        self.check(budget, now)?;
        self.tokens -= 1.0;
        Ok(())
    }
}

/// Failed dashboard sign-ins of one login, and of all logins together (a guesser trying many
/// logins): checked before any password is hashed. The account's own lockout (in the database,
/// `dashboard::account`) holds across restarts and servers; these spare the CPU.
pub const SIGN_IN_BUDGET: Budget = Budget { burst: 10.0, per_second: 0.1 };
/// Failed sign-ins of every login together.
pub const SIGN_IN_ALL_BUDGET: Budget = Budget { burst: 60.0, per_second: 1.0 };

/// Every bucket the server keeps.
#[derive(Debug)]
pub struct RateLimits {
    device: Budget,
    enroll: Budget,
    sign_ins: Mutex<HashMap<String, Bucket>>,
    all_sign_ins: Mutex<Option<Bucket>>,
    devices: Mutex<HashMap<Uuid, Bucket>>,
    enrollments: Mutex<Option<Bucket>>,
    probes: Mutex<Option<Bucket>>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::new(DEVICE_BUDGET, ENROLL_BUDGET)
    }
}

impl RateLimits {
    /// Buckets with these budgets (tests use small ones). Failed revocation checks get a
    /// bucket of their own with the enrollment budget: a probe has 256 bits, more than a code.
    pub fn new(device: Budget, enroll: Budget) -> Self {
        RateLimits {
            device,
            enroll,
            sign_ins: Mutex::new(HashMap::new()),
            all_sign_ins: Mutex::new(None),
            devices: Mutex::new(HashMap::new()),
            enrollments: Mutex::new(None),
            probes: Mutex::new(None),
        }
    }

    /// One request of `device`.
    pub fn device(&self, device: Uuid) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut buckets = self.devices.lock().map_err(|_| ApiError::internal("rate limit lock poisoned"))?;
        // forget buckets that have long been full again, so the map stays as small as the
        // devices active in the last minutes
        if buckets.len() > 10_000 {
            let full_after = Duration::from_secs_f64(self.device.burst / self.device.per_second);
            buckets.retain(|_, b| now.saturating_duration_since(b.at) < full_after);
        }
        let bucket = buckets.entry(device).or_insert_with(|| Bucket::full(self.device, now));
        bucket.take(self.device, now).map_err(too_many)
    }

    /// Whether an enrollment may be tried now (failed attempts have not used up the budget).
    pub fn enrollment(&self) -> Result<(), ApiError> {
        self.shared(&self.enrollments)
    }

    /// Counts a failed enrollment attempt against the budget.
    pub fn enrollment_failed(&self) {
        self.failed(&self.enrollments);
    }

    /// Whether a revocation check may be asked now (failed checks have not used up the budget).
    pub fn probe(&self) -> Result<(), ApiError> {
        self.shared(&self.probes)
    }

    /// Counts a failed revocation check (unknown device, wrong probe, unreadable body).
    pub fn probe_failed(&self) {
        self.failed(&self.probes);
    }

    /// Whether `login` may try to sign in now: failed sign-ins of it, and of all logins, have not
    /// used up their budgets.
    pub fn sign_in(&self, login: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        {
            let mut all = self.all_sign_ins.lock().map_err(|_| ApiError::internal("rate limit lock poisoned"))?;
            all.get_or_insert_with(|| Bucket::full(SIGN_IN_ALL_BUDGET, now))
                .check(SIGN_IN_ALL_BUDGET, now)
                .map_err(too_many)?;
        }
        let mut logins = self.sign_ins.lock().map_err(|_| ApiError::internal("rate limit lock poisoned"))?;
        match logins.get_mut(login) {
            Some(bucket) => bucket.check(SIGN_IN_BUDGET, now).map_err(too_many),
            None => Ok(()),
        }
    }

    /// Counts a failed sign-in of `login`.
    pub fn sign_in_failed(&self, login: &str) {
        let now = Instant::now();
        if let Ok(mut all) = self.all_sign_ins.lock() {
            let _ = all.get_or_insert_with(|| Bucket::full(SIGN_IN_ALL_BUDGET, now)).take(SIGN_IN_ALL_BUDGET, now);
        }
        if let Ok(mut logins) = self.sign_ins.lock() {
            if logins.len() > 10_000 {
                let full_after = Duration::from_secs_f64(SIGN_IN_BUDGET.burst / SIGN_IN_BUDGET.per_second);
                logins.retain(|_, b| now.saturating_duration_since(b.at) < full_after);
            }
            let bucket = logins.entry(login.to_owned()).or_insert_with(|| Bucket::full(SIGN_IN_BUDGET, now));
            let _ = bucket.take(SIGN_IN_BUDGET, now);
        }
    }

    fn shared(&self, bucket: &Mutex<Option<Bucket>>) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut bucket = bucket.lock().map_err(|_| ApiError::internal("rate limit lock poisoned"))?;
        bucket.get_or_insert_with(|| Bucket::full(self.enroll, now)).check(self.enroll, now).map_err(too_many)
    }

    fn failed(&self, bucket: &Mutex<Option<Bucket>>) {
        let now = Instant::now();
        if let Ok(mut bucket) = bucket.lock() {
            let _ = bucket.get_or_insert_with(|| Bucket::full(self.enroll, now)).take(self.enroll, now);
        }
    }
}

fn too_many(wait: Duration) -> ApiError {
    let secs = (wait.as_secs_f64().ceil() as u64).max(1);
    ApiError::too_many_requests(
        secs,
        format!("Quá nhiều yêu cầu, hãy thử lại sau {secs} giây / too many requests: try again in {secs} s"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds_and_devices_do_not_share() {
        let limits = RateLimits::new(Budget { burst: 3.0, per_second: 1.0 }, Budget { burst: 1.0, per_second: 0.5 });
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for _ in 0..3 {
            limits.device(a).unwrap();
        }
        let refused = limits.device(a).unwrap_err();
        assert_eq!(refused.status.as_u16(), 429);
        assert_eq!(refused.retry_after, Some(1));
        limits.device(b).expect("another device has its own budget");
        // enrollments that succeed cost nothing; a failed one uses the budget up
        limits.enrollment().unwrap();
        limits.enrollment().unwrap();
        limits.enrollment_failed();
        assert_eq!(limits.enrollment().unwrap_err().retry_after, Some(2));
        // wrong probes have a budget of their own: they block neither enrollment nor each other's
        limits.probe().unwrap();
        limits.probe_failed();
        assert_eq!(limits.probe().unwrap_err().retry_after, Some(2));
        let fresh = RateLimits::new(Budget { burst: 3.0, per_second: 1.0 }, Budget { burst: 1.0, per_second: 0.5 });
        fresh.probe_failed();
        fresh.enrollment().expect("a wrong probe does not hold up enrollment");
    }

    #[test]
    fn failed_sign_ins_of_one_login_hold_that_login_only() {
        let limits = RateLimits::default();
        for _ in 0..SIGN_IN_BUDGET.burst as usize {
            limits.sign_in("cong").unwrap();
            limits.sign_in_failed("cong");
        }
        let refused = limits.sign_in("cong").unwrap_err();
        assert_eq!(refused.status.as_u16(), 429);
        assert!(refused.retry_after.is_some_and(|s| s >= 1));
        limits.sign_in("hung").expect("another login has its own budget");
    }

    #[test]
    fn tokens_come_back_with_time() {
        let budget = Budget { burst: 2.0, per_second: 10.0 };
        let start = Instant::now();
        let mut bucket = Bucket::full(budget, start);
        bucket.take(budget, start).unwrap();
        bucket.take(budget, start).unwrap();
        assert!(bucket.take(budget, start).is_err());
        bucket.take(budget, start + Duration::from_millis(150)).expect("1.5 tokens back");
    }
}
