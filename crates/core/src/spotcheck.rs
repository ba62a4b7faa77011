//! Spot-checks ("kiểm tra xác suất"): the commune police draw a sample of the activations the
//! volunteers claimed, check each in the national system, and record what they found
//! (`claim_checked.v1`). The draw is stratified per volunteer (every volunteer's claims are
//! sampled at the same rate, at least one each) and reproducible: the same claims and the same
//! seed give the same sample on any device.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What the officer found when checking a claimed activation.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Xác nhận: the account is activated as claimed.
    Confirmed,
    /// Không tìm thấy: the national system does not show the person or the account.
    NotFound,
    /// Sai: the claim is wrong (not activated, or at another level).
    Wrong,
}

impl CheckOutcome {
    /// Every outcome.
    pub const ALL: [CheckOutcome; 3] = [CheckOutcome::Confirmed, CheckOutcome::NotFound, CheckOutcome::Wrong];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            CheckOutcome::Confirmed => "confirmed",
            CheckOutcome::NotFound => "not_found",
            CheckOutcome::Wrong => "wrong",
        }
    }

    /// Parses [`CheckOutcome::code`].
    pub fn from_code(code: &str) -> Option<CheckOutcome> {
        CheckOutcome::ALL.into_iter().find(|o| o.code() == code)
    }
}

/// One claimed activation: a person whose deciding visit says activated, and who claimed it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Claim {
    /// The person.
    pub resident_id: Uuid,
    /// The visit that claims the activation.
    pub visit_id: Uuid,
    /// Who recorded it.
    pub author: Uuid,
}

/// The share of claims drawn when the officer does not say (10 %).
pub const DEFAULT_PERCENT: u32 = 10;

/// Draws `percent` of each author's claims (rounded up, so every author with a claim has at
/// least one drawn), ordered within an author by a hash of `seed` and the visit: the same claims
/// and seed give the same sample whatever order they come in. The sample is by author, then in
/// draw order.
pub fn draw(claims: &[Claim], percent: u32, seed: &str) -> Vec<Claim> {
    let percent = percent.clamp(1, 100) as usize;
    let mut by_author: std::collections::BTreeMap<Uuid, Vec<([u8; 32], Claim)>> = Default::default();
    for claim in claims {
        let rank: [u8; 32] =
            Sha256::new().chain_update(seed.as_bytes()).chain_update(claim.visit_id.as_bytes()).finalize().into();
        by_author.entry(claim.author).or_default().push((rank, *claim));
    }
    let mut sample = Vec::new();
    for mut ranked in by_author.into_values() {
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.visit_id.cmp(&b.1.visit_id)));
        ranked.dedup_by_key(|(_, c)| c.visit_id);
        let take = (ranked.len() * percent).div_ceil(100);
        sample.extend(ranked.into_iter().take(take).map(|(_, c)| c));
    }
    sample
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(authors: &[(u128, usize)]) -> Vec<Claim> {
        let mut out = Vec::new();
        for &(author, n) in authors {
            for i in 0..n {
                let id = Uuid::from_u128(author * 1_000_000 + i as u128);
                out.push(Claim {
                    resident_id: id,
                    visit_id: Uuid::from_u128(id.as_u128() + 1),
                    author: Uuid::from_u128(author),
                });
            }
        }
        out
    }

    #[test]
    fn every_author_is_sampled_at_the_rate_rounded_up() {
        let all = claims(&[(1, 95), (2, 10), (3, 1), (4, 0)]);
        let sample = draw(&all, 10, "2026-12-07");
        let count = |a: u128| sample.iter().filter(|c| c.author == Uuid::from_u128(a)).count();
        assert_eq!((count(1), count(2), count(3), count(4)), (10, 1, 1, 0));
        assert!(sample.iter().all(|c| all.contains(c)));
        let at_25 = draw(&all, 25, "x");
        assert_eq!(at_25.len(), 24 + 3 + 1);
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_in_any_order_and_another_seed_another() {
        let all = claims(&[(1, 200), (2, 50)]);
        let mut shuffled = all.clone();
        shuffled.reverse();
        let a = draw(&all, 10, "seed-a");
        assert_eq!(a, draw(&shuffled, 10, "seed-a"));
        assert_ne!(a, draw(&all, 10, "seed-b"));
    }

    #[test]
    fn outcomes_have_stable_codes() {
        for o in CheckOutcome::ALL {
            assert_eq!(CheckOutcome::from_code(o.code()), Some(o));
        }
        assert_eq!(CheckOutcome::from_code("maybe"), None);
    }
}
