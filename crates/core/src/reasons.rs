//! "Cannot activate" reasons: a data catalog (seeded by migration, extensible per province).

use serde::{Deserialize, Serialize};

/// One reason a person's account cannot be activated now (seed 001's classification).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code, e.g. `in_prison`.
    pub code: String,
    /// Vietnamese label shown first.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
    /// "Có thể kích hoạt" (true: go back and finish) or "chưa thể kích hoạt" (false).
    pub can_activate_later: bool,
    /// Sensitive: only police roles see this reason (e.g. in prison).
    pub police_only: bool,
    /// The volunteer must add a note (e.g. "other").
    pub requires_note: bool,
    /// `None` for the national list; a province code for a province's own addition.
    pub province_code: Option<String>,
    /// Display order.
    pub sort_order: i64,
}

/// The reasons a device or server knows, looked up by code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCatalog {
    reasons: Vec<Reason>,
}

impl ReasonCatalog {
    /// Builds a catalog, ordered by `sort_order` then code.
    pub fn new(mut reasons: Vec<Reason>) -> Self {
        reasons.sort_by(|a, b| (a.sort_order, &a.code).cmp(&(b.sort_order, &b.code)));
        ReasonCatalog { reasons }
    }

    /// The reason with this code, if known.
    pub fn get(&self, code: &str) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.code == code)
    }

    /// All reasons in display order.
    pub fn all(&self) -> &[Reason] {
        &self.reasons
    }

    /// A digest of the catalog (SHA-256 of its reasons in display order, hex): a phone sends the
    /// digest of the catalog it was last given with each pull, and the server sends the
    /// province's catalog again only when its digest differs.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"gocua-reasons/v1");
        // serializing owned, plain data cannot fail
        hash.update(serde_json::to_vec(&self.reasons).unwrap_or_default());
        hex::encode(hash.finalize())
    }

    /// The reasons valid in a province: the national ones plus the province's own.
    pub fn for_province(&self, province_code: &str) -> ReasonCatalog {
        ReasonCatalog {
            reasons: self
                .reasons
                .iter()
                .filter(|r| r.province_code.as_deref().is_none_or(|p| p == province_code))
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: &str, requires_note: bool) -> Reason {
        Reason {
            code: code.into(),
            label_vi: "Đi làm nương xa".into(),
            label_en: "Away at the hill fields".into(),
            can_activate_later: true,
            police_only: false,
            requires_note,
            province_code: Some("12".into()),
            sort_order: 5,
        }
    }

    #[test]
    fn a_catalog_s_digest_changes_with_any_rule_and_not_with_order() {
        let a = ReasonCatalog::new(vec![reason("a", false), reason("b", false)]);
        let same = ReasonCatalog::new(vec![reason("b", false), reason("a", false)]);
        assert_eq!(a.digest(), same.digest(), "the catalog's order is its own");
        assert_eq!(a.digest().len(), 64);
        let noted = ReasonCatalog::new(vec![reason("a", true), reason("b", false)]);
        assert_ne!(a.digest(), noted.digest(), "a reason that now needs a note");
        let more = ReasonCatalog::new(vec![reason("a", false), reason("b", false), reason("c", false)]);
        assert_ne!(a.digest(), more.digest(), "a reason added");
    }
}
