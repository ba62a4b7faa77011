//! Reports at the server (`gocua_core::report`): any place of the tree, any days or a campaign,
//! from the projection's counts on either backend, in one read transaction (on a replica when
//! one is configured). The appendix XLSX is written from the same report.

use std::cell::RefCell;
use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use gocua_core::event::{CampaignSet, Payload};
use gocua_core::reasons::ReasonCatalog;
use gocua_core::report::lists::{self, Cells, ListKind, ListRow, ListSink};
use gocua_core::report::{self, DayRange, Report, TeamScope, Units};
use gocua_core::sync::protocol::Role;
use gocua_server_store::{Store, Tx, run_replica_read};
use uuid::Uuid;

use crate::audit;
use crate::domain::Error;
use crate::policy::{self, Action};

/// Days a report covers when neither days nor a campaign are asked and none is running: the
/// week up to today (Monday's weekly report).
pub const DEFAULT_DAYS: i64 = 7;

/// How often a serving server folds what the writes appended to the report's counters
/// ([`keep_counters`]).
pub const FOLD_COUNTS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Folds the report's counters (`Tx::fold_counts`) every [`FOLD_COUNTS_EVERY`] until
/// `shutdown` completes. A failed fold is logged and tried again next time: nothing is lost,
/// since reports read what is not folded yet too.
pub async fn keep_counters(store: std::sync::Arc<dyn Store>, shutdown: impl std::future::Future<Output = ()>) {
    let mut every = tokio::time::interval(FOLD_COUNTS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = every.tick() => {}
        }
        let store = std::sync::Arc::clone(&store);
        match tokio::task::spawn_blocking(move || gocua_server_store::run_write(&*store, |tx| tx.fold_counts())).await {
            Ok(Ok(rows)) => tracing::debug!(rows, "folded the report counters"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not fold the report counters; trying again later"),
            Err(e) => tracing::warn!(error = %e, "the report counters' fold stopped"),
        }
    }
}

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The place's code.
    pub place: String,
    /// The days; without them, the campaign's window.
    pub range: Option<DayRange>,
    /// The campaign to follow (with `range: None`, the one running today at the place, if any).
    pub campaign: Option<Uuid>,
    /// Today, in Vietnam.
    pub today: NaiveDate,
}

/// A report with the reason catalog its appendix names reasons from.
#[derive(Debug, Clone)]
pub struct Built {
    /// The report.
    pub report: Report,
    /// The reasons, in catalog order.
    pub reasons: ReasonCatalog,
    /// The campaigns at the place and above it (the latest setting of each), oldest first.
    pub campaigns: Vec<CampaignSet>,
}

/// Builds the report `request` asks for.
pub fn report(store: &dyn Store, request: &ReportRequest) -> Result<Built, Error> {
    let (built, _) = run_replica_read(store, |tx| build_in(tx, request))?;
    Ok(built)
}

fn build_in(tx: &mut dyn Tx, request: &ReportRequest) -> Result<Built, Error> {
    let place = tx
        .place(&request.place)?
        .ok_or_else(|| Error::NotFound(format!("không có địa bàn {0} / no place {0}", request.place)))?;
    let lineage = tx.lineage(&place.code)?;
    let units = Units::walk(place, |code| tx.children(code))?;
    let campaigns = campaigns_in(tx, &lineage)?;
    let campaign = match request.campaign {
        Some(id) => Some(campaigns.iter().find(|c| c.campaign_id == id).cloned().ok_or_else(|| {
            Error::NotFound(format!("không có đợt cao điểm {id} tại địa bàn này / no campaign {id} at this place"))
        })?),
        None if request.range.is_none() => campaigns
            .iter()
            .filter(|c| c.starts <= request.today && request.today <= c.ends)
            .max_by_key(|c| c.starts)
            .cloned(),
        None => None,
    };
    let range = match (request.range, &campaign) {
        (Some(range), _) => range,
        (None, Some(c)) => DayRange::new(c.starts, c.ends).map_err(|e| Error::invalid(e.to_string()))?,
        (None, None) => DayRange::new(request.today - Duration::days(DEFAULT_DAYS - 1), request.today)
            .map_err(|e| Error::invalid(e.to_string()))?,
    };
    let mut facts = tx.report_facts(&units.hamlets(), &range)?;
    // the teams: team leaders whose places hold some of the report's hamlets
    let above: Vec<String> = lineage.iter().map(|p| p.code.clone()).collect();
    let mut codes: Vec<String> = units.hamlets();
    codes.extend(units.rows.iter().map(|p| p.code.clone()));
    codes.extend(above.iter().cloned());
    for leader in tx.users_of_role_in(Role::TeamLeader, &codes)? {
        let places: Vec<String> = leader.scope.codes().to_vec();
        let hamlets = units.hamlets_in(&places, &above);
        if !hamlets.is_empty() {
            facts.names.insert(leader.id, leader.name);
            facts.teams.push(TeamScope { leader: leader.id, hamlets });
        }
    }
    let reasons = tx.reasons()?;
    let report = report::build(&units, &facts, &reasons, range, campaign.as_ref());
    Ok(Built { report, reasons, campaigns })
}

/// The campaigns set at a place or above it (`lineage`: the place's ancestors and itself, from
/// the top), the latest setting of each, oldest first.
pub fn campaigns_in(tx: &mut dyn Tx, lineage: &[gocua_core::places::Place]) -> Result<Vec<CampaignSet>, Error> {
    let paths: Vec<String> = (1..=lineage.len()).filter_map(|n| gocua_core::places::path_of(&lineage[..n])).collect();
    let upto = tx.last_server_seq()?;
    let mut campaigns: Vec<CampaignSet> = Vec::new();
    for (_, event) in tx.campaign_events_at(&paths, 0, upto)? {
        if let Payload::CampaignSet(plan) = event.payload {
            campaigns.retain(|c| c.campaign_id != plan.campaign_id);
            campaigns.push(plan);
        }
    }
    Ok(campaigns)
}

/// A named list asked for.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The place's code.
    pub place: String,
    /// Which list.
    pub kind: ListKind,
    /// Who asks: police see full CCCD numbers and police-only reasons, anyone else masked.
    pub user: Uuid,
}

/// Writes the list `request` asks for to `sink`, hamlet by hamlet, each in a short read
/// transaction of its own (a province's list never holds the database for its whole length);
/// audits the read (who, which list, where, how many people: no names). Returns how many.
pub fn export_list(store: &dyn Store, request: &ListRequest, sink: Box<dyn ListSink + '_>) -> Result<u32, Error> {
    let ((user, units, reasons, hamlet_names), _) = run_replica_read(store, |tx| {
        let user = tx
            .user(request.user)?
            .ok_or_else(|| Error::NotFound(format!("không có người dùng {0} / no user {0}", request.user)))?;
        let lineage = tx.lineage(&request.place)?;
        let Some(place) = lineage.last().cloned() else {
            return Err(Error::NotFound(format!("không có địa bàn {0} / no place {0}", request.place)));
        };
        if !lineage.iter().any(|p| user.scope.codes().contains(&p.code)) {
            return Err(Error::Forbidden(format!(
                "{0} nằm ngoài địa bàn của người dùng / {0} is outside the user's places",
                request.place
            )));
        }
        let units = Units::walk(place, |code| tx.children(code))?;
        let names: BTreeMap<String, String> =
            tx.places(&units.hamlets())?.into_iter().map(|p| (p.code, p.name)).collect();
        Ok::<_, Error>((user, units, tx.reasons()?, names))
    })?;
    policy::require_role(user.role, Action::Lists)?;
    // the guides' names are read with each hamlet's rows
    let names: RefCell<BTreeMap<Uuid, String>> = RefCell::new(BTreeMap::new());
    let name_of = |id: Uuid| names.borrow().get(&id).cloned().unwrap_or_default();
    let hamlet_of = |code: &str| hamlet_names.get(code).cloned().unwrap_or_else(|| code.to_owned());
    let cells = Cells::new(&reasons, &name_of, &hamlet_of, user.role.is_police());
    let hamlet_rows = |hamlet: &str| -> Result<Vec<ListRow>, Error> {
        let (rows, _) = run_replica_read(store, |tx| {
            let rows = tx.list_rows(hamlet)?;
            let mut known = names.borrow_mut();
            for by in rows.iter().filter_map(|r| r.activated_by) {
                if let std::collections::btree_map::Entry::Vacant(slot) = known.entry(by) {
                    slot.insert(tx.user(by)?.map(|u| u.name).unwrap_or_default());
                }
            }
            Ok::<_, Error>(rows)
        })?;
        Ok(rows)
    };
    let written = lists::write_list(request.kind, &units.hamlets(), hamlet_rows, &cells, sink)?;
    audit::append_now(
        store,
        &audit::Entry {
            actor_user: Some(user.id),
            actor_device: None,
            action: "export_list",
            detail: serde_json::json!({ "list": request.kind.code(), "place": request.place, "people": written }),
        },
    )?;
    Ok(written)
}

/// The report as lines for a terminal: the total, then each unit (no personal data).
pub fn summary_lines(report: &Report) -> Vec<String> {
    let pct = |r: Option<f64>| r.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0));
    let line = |name: &str, row: &report::UnitRow| {
        let t = &row.tally;
        format!(
            "{name}: {} hộ ({} đã khảo sát), {} người, {} đủ điều kiện, {} đã kích hoạt (mức 1: {}, mức 2: {}, \
             Cổng DVC: {}; đã xác nhận {}), mới trong kỳ {}, chỉ tiêu {}, tiến độ {}, tỷ lệ {}",
            t.households,
            t.households_surveyed,
            t.residents,
            t.eligible(),
            t.activated(),
            t.activated_level1,
            t.activated_level2,
            t.used_portal,
            t.confirmed,
            t.activated_in_range,
            row.quota.map_or_else(|| "—".to_owned(), |q| q.to_string()),
            pct(row.progress),
            pct(row.rate),
        )
    };
    let mut lines = vec![report::appendix::subtitle(report), line(report::appendix::TOTAL_LABEL, &report.total)];
    for row in &report.rows {
        lines.push(format!("  {}. {}", row.rank, line(&row.place.name, row)));
    }
    lines
}

#[cfg(test)]
#[path = "reports_tests.rs"]
mod tests;
