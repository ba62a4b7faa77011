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
