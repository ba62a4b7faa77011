//! Reports on the device, for the office and team leaders (`gocua_core::report`): a place's
//! summary for a campaign or days, unit by unit, and its exports (the appendix XLSX and the
//! named lists, XLSX or CSV) to a file the user picks in the system's save dialog, with the
//! progress sent on the caller's channel.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use gocua_core::report::lists::{CsvList, ListKind, ListSink, XlsxList};
use gocua_core::report::{DayRange, Report, appendix};
use gocua_core::store::{DeviceStore, Enrollment};
use gocua_core::sync::protocol::Role;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// Days a report covers when no campaign runs and none are asked: the week up to today.
const DEFAULT_DAYS: i64 = 7;

/// What a report is asked for: a place (default: this device's), and a campaign or days
/// (default: the campaign running today, else the last 7 days).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ReportAsk {
    /// The place's code.
    pub place: Option<String>,
    /// The campaign to follow.
    pub campaign: Option<Uuid>,
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub until: Option<NaiveDate>,
    /// Today on the device (its calendar).
    pub today: NaiveDate,
}

/// A report as the screen shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ReportScreen {
    /// The report.
    pub report: Report,
    /// The place this device reports on by default (where "back to the top" goes).
    pub home_place: String,
    /// The campaigns this device holds, to pick from: (id, name), the latest first.
    pub campaigns: Vec<(Uuid, String)>,
    /// The reader sees full CCCD numbers in lists (the police).
    pub police: bool,
}

/// A finished export.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ExportDone {
    /// Where the file went.
    pub path: String,
    /// People on a list (none for the appendix).
    pub people: Option<u32>,
}

/// An export's progress: hamlets written of all.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ExportProgress {
    /// Hamlets done.
    pub done: u32,
    /// Hamlets in all.
    pub of: u32,
}

/// Team leaders and the police see reports; nobody on training data exports them.
fn authorize(store: &DeviceStore) -> Result<Enrollment, CommandError> {
    let enrollment = store.enrollment()?.ok_or(gocua_core::Error::NotEnrolled)?;
    if !matches!(enrollment.role, Role::TeamLeader | Role::CommunePolice | Role::ProvincePolice) {
        return Err(CommandError::new(
            "refused",
            "Chỉ tổ trưởng và công an xem được báo cáo / Only team leaders and the police see reports",
        ));
    }
    Ok(enrollment)
}

/// The place this device reports on: its one place, else the place above its places.
fn home_place(store: &DeviceStore, enrollment: &Enrollment) -> Result<String, gocua_core::Error> {
    let codes = enrollment.scope.codes();
    let first = codes.first().cloned().unwrap_or_default();
    if codes.len() == 1 && gocua_core::places::household_of(&first).is_none() {
        return Ok(first);
    }
    let place = gocua_core::sql::catalog::place(store.connection(), &first)?;
    Ok(place.and_then(|p| p.parent_code).unwrap_or(first))
}

/// The report `ask` asks for.
fn build(store: &DeviceStore, ask: &ReportAsk) -> Result<(Report, String), gocua_core::Error> {
    let enrollment = store.enrollment()?.ok_or(gocua_core::Error::NotEnrolled)?;
    let home = home_place(store, &enrollment)?;
    let place = ask.place.clone().unwrap_or_else(|| home.clone());
    let range = match (ask.from, ask.until) {
        (Some(from), Some(until)) => Some(DayRange::new(from, until)?),
        _ => None,
    };
    let campaign = match (ask.campaign, range) {
        (Some(id), _) => Some(id),
        (None, Some(_)) => None,
        (None, None) => store.current_campaign(ask.today)?.map(|c| c.campaign_id),
    };
    let range = match range {
        Some(range) => range,
        None => DayRange::new(ask.today - Duration::days(DEFAULT_DAYS - 1), ask.today)?,
    };
    Ok((store.report(&place, range, campaign)?, home))
}

/// The report `ask` asks for, as the screen shows it.
#[tauri::command]
pub async fn report_view(state: State<'_, AppState>, ask: ReportAsk) -> Result<ReportScreen, CommandError> {
    let enrollment = state.with_store(|s| Ok(authorize(s))).await??;
    state
        .with_store(move |s| {
            let (report, home_place) = build(s, &ask)?;
            let campaigns = s.campaigns()?.into_iter().map(|c| (c.campaign_id, c.name)).collect();
            Ok(ReportScreen { report, home_place, campaigns, police: enrollment.role.is_police() })
        })
        .await
}

/// What to export: the appendix, or a list (`activated`, `absent`, `not-eligible`,
/// `cannot-activate`), as `xlsx` or (lists only) `csv`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ExportAsk {
    /// The report it is of.
    pub report: ReportAsk,
    /// `appendix` or a list's code.
    pub what: String,
    /// `xlsx` or `csv`.
    pub format: String,
}

/// Exports what `ask` names to a file picked in the save dialog (with `GOCUA_EXPORT_DIR` set,
/// into that folder under the name offered, without a dialog: the window tests). `null` when
/// the dialog was closed without a file.
#[tauri::command]
pub async fn report_export<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ask: ExportAsk,
    on_progress: Channel<ExportProgress>,
) -> Result<Option<ExportDone>, CommandError> {
    let list = match ask.what.as_str() {
        "appendix" => None,
        code => Some(
            ListKind::from_code(code)
                .ok_or_else(|| CommandError::new("invalid", format!("Không có danh sách {code} / no list {code}")))?,
        ),
    };
    let csv = match (ask.format.as_str(), list) {
        ("xlsx", _) => false,
        ("csv", Some(_)) => true,
        (format, _) => {
            return Err(CommandError::new(
                "invalid",
                format!("Không xuất được định dạng {format} / cannot export as {format}"),
            ));
        }
    };
    let enrollment = state
        .with_store(|s| {
            s.refuse_in_sandbox()?;
            Ok(authorize(s))
        })
        .await??;
    let place = ask.report.place.clone().unwrap_or_default();
    let stem = match list {
        None => "phu-luc-thong-ke",
        Some(ListKind::Activated) => "danh-sach-da-kich-hoat",
        Some(ListKind::Absent) => "danh-sach-khong-co-mat",
        Some(ListKind::NotEligible) => "danh-sach-khong-du-dieu-kien",
        Some(ListKind::CannotActivate) => "danh-sach-chua-kich-hoat-theo-ly-do",
        Some(ListKind::Everyone) => "danh-sach-ket-qua-tung-cong-dan",
    };
    let extension = if csv { "csv" } else { "xlsx" };
    let name = format!("{stem}{}{}-{}.{extension}", if place.is_empty() { "" } else { "-" }, place, ask.report.today);
    let Some(path) = pick_file(&app, &name, extension).await? else { return Ok(None) };

    let people = state
        .with_store(move |s| {
            write_atomically(&path, |file, dir| match list {
                None => appendix::write(&build(s, &ask.report)?.0, &s.reasons()?, file).map(|()| None),
                Some(kind) => {
                    let sink: Box<dyn ListSink> = if csv {
                        Box::new(CsvList::new(file, kind.title_vi())?)
                    } else {
                        Box::new(XlsxList::new(file, kind.title_vi(), dir)?)
                    };
                    let mut progress = |done: usize, of: usize| {
                        // a closed screen no longer listens: the export goes on
                        let _ = on_progress.send(ExportProgress { done: done as u32, of: of as u32 });
                    };
                    let target = match ask.report.place.clone() {
                        Some(place) => place,
                        None => home_place(s, &enrollment)?,
                    };
                    s.export_list(&target, kind, enrollment.role.is_police(), sink, &mut progress).map(Some)
                }
            })
            .map(|people| (people, path))
        })
        .await?;
    Ok(Some(ExportDone { path: people.1.display().to_string(), people: people.0 }))
}

/// The file to write: `GOCUA_EXPORT_DIR/name`, else the one the user picks in the save
/// dialog (`None`: closed without one).
async fn pick_file<R: Runtime>(
    app: &AppHandle<R>,
    name: &str,
    extension: &str,
) -> Result<Option<PathBuf>, CommandError> {
    if let Some(dir) = std::env::var_os("GOCUA_EXPORT_DIR") {
        return Ok(Some(PathBuf::from(dir).join(name)));
    }
    let (app, name, extension) = (app.clone(), name.to_owned(), extension.to_owned());
    let picked = tauri::async_runtime::spawn_blocking(move || {
        let filter = if extension == "csv" { "CSV (UTF-8)" } else { "Excel" };
        let mut dialog = app.dialog().file().set_file_name(&name).add_filter(filter, &[extension.as_str()]);
        if let Ok(dir) = app.path().download_dir() {
            dialog = dialog.set_directory(dir);
        }
        dialog.blocking_save_file()
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))?;
    match picked {
        None => Ok(None),
        Some(picked) => picked.into_path().map(Some).map_err(|_| {
            CommandError::new(
                "io",
                "Không ghi được vào chỗ đã chọn / cannot write where chosen: pick a folder on this device",
            )
        }),
    }
}

/// Writes through `write` into a temp file beside `path` (its folder also holds an XLSX's
/// temp sheets), then moves it to `path`: a failed export leaves no half file.
fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(std::io::BufWriter<std::fs::File>, &Path) -> Result<T, gocua_core::Error>,
) -> Result<T, gocua_core::Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let io = |e: std::io::Error| gocua_core::Error::Export(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let file = temp.reopen().map_err(io)?;
    let out = write(std::io::BufWriter::new(file), dir)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(out)
}
