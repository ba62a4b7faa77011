//! What the district dashboard's API answers (`crates/server/src/dashboard`, `web/`): the user
//! signed in with their places, and a report with its breadcrumb and what the user may do.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Report;
use crate::places::Place;
use crate::sync::protocol::Role;

/// The user signed in to the dashboard.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebUser {
    /// Their id.
    pub id: Uuid,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The places they may see.
    pub places: Vec<Place>,
}

/// A signed-in session, as the page sees it (the session's token stays in its cookie).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSession {
    /// Who.
    pub user: WebUser,
    /// The token every request that changes something sends back (`X-CSRF-Token`).
    pub csrf: String,
    /// When it ends if unused (RFC 3339).
    pub expires_at: String,
}

/// A report as the dashboard shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebReport {
    /// The report.
    pub report: Report,
    /// The report's place and the places above it, the province first: the breadcrumb.
    pub lineage: Vec<Place>,
    /// The campaigns at the place and above it, (id, name), the latest first.
    pub campaigns: Vec<(Uuid, String)>,
    /// The user sees full CCCD numbers in lists (the police).
    pub police: bool,
    /// The user may export the named lists.
    pub may_export_lists: bool,
}
