//! Importing the police's lists ("DC01 mở rộng"): a dry run of a picked file against what the
//! store holds, kept for the officer to look over (and to correct: another sheet, another
//! column for a field, remembered for the next file with the same headers), then recorded in
//! one transaction on their word. Only the commune police, never in the trainer's sandbox. The
//! file's bytes come as a raw IPC body (not a JSON array of numbers), its name in a header.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use gocua_core::sql::projection::SqlView;
use gocua_core::store::imports::ImportLogEntry;
use gocua_core::store::{DeviceStore, Enrollment, vietnam_today};
use gocua_core::sync::protocol::Role;
use gocua_import::read::column_letter;
use gocua_import::{
    ColumnMap, Counts, Field, ImportCounts, ImportError, Issue, Known, KnownHamlet, KnownResident, Layout, Plan,
    PlanOptions, Severity, Source, Table, UndoCounts, UndoRecord, events_for, plan, read_list, undo_events,
};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeBody, JavaScriptChannelId, Request};
use tauri::{Runtime, State, Webview};
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// At most this many issues travel to the screen (errors first); the total is said beside them.
pub const MAX_ISSUES_SHOWN: usize = 500;
/// The header carrying the file's name, percent-encoded (`encodeURIComponent`).
pub const FILE_NAME_HEADER: &str = "gocua-file-name";
/// The header carrying the progress channel's id (`Channel.toJSON()`), optional.
pub const PROGRESS_HEADER: &str = "gocua-progress";

/// The list of the last preview, kept until it is recorded or another file is previewed.
#[derive(Debug, Default)]
pub struct ImportState {
    kept: Mutex<Option<Arc<KeptList>>>,
}

impl ImportState {
    /// Drops the kept plan (the app locks).
    pub fn forget(&self) {
        *self.slot() = None;
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<KeptList>>> {
        // a poisoned slot only ever held a plan: start over from it
        self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A previewed list: the file (for another sheet), the sheet read (shared with its re-checks, not
/// copied), its columns, the plan when every required field has a column, and the device it was
/// checked against.
#[derive(Debug)]
pub struct KeptList {
    device_id: Uuid,
    file_name: String,
    bytes: Arc<[u8]>,
    table: Arc<Table>,
    map: ColumnMap,
    plan: Option<Plan>,
}

/// What the officer sees before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportPreview {
    /// The file's name as picked.
    pub file_name: String,
    /// The sheet read (`null` for a CSV).
    pub sheet: Option<String>,
    /// Every sheet of the workbook (empty for a CSV).
    pub sheet_names: Vec<String>,
    /// The header row's number as the spreadsheet shows it.
    pub header_row: u32,
    /// Every column, with what it was recognised as.
    pub columns: Vec<ImportColumn>,
    /// Every field a column may be given, in the order to offer them.
    pub choices: Vec<ImportField>,
    /// Required fields without a column: nothing can be recorded until the officer gives them
    /// one (the counts and issues are then empty).
    pub missing: Vec<ImportField>,
    /// Whether the columns were mapped the way the officer corrected an earlier file with the
    /// same headers.
    pub layout_applied: bool,
    /// The numbers of the dry run.
    pub counts: ImportReportCounts,
    /// The issues, errors first, then warnings, then repairs; at most [`MAX_ISSUES_SHOWN`].
    pub issues: Vec<ImportIssue>,
    /// How many issues there are in all.
    pub issues_total: usize,
}

/// One column of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportColumn {
    /// Its letter (A, B, …).
    pub letter: String,
    /// Its header as written (may be empty).
    pub header: String,
    /// The field's code it was recognised as, `null` when none.
    pub field: Option<String>,
    /// The field's Vietnamese name.
    pub field_vi: Option<String>,
    /// The field's English name.
    pub field_en: Option<String>,
}

/// A field a column can hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportField {
    /// Its code (`full_name`, `cccd`, …).
    pub code: String,
    /// Its Vietnamese name.
    pub vi: String,
    /// Its English name.
    pub en: String,
}

impl From<Field> for ImportField {
    fn from(f: Field) -> Self {
        ImportField { code: f.code().to_owned(), vi: f.label_vi().to_owned(), en: f.label_en().to_owned() }
    }
}

/// How much an issue matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum ImportSeverity {
    /// The row is left out.
    Error,
    /// The row is kept; something deserves a look.
    Warning,
    /// The row is kept with a repaired value.
    Repaired,
}

impl From<Severity> for ImportSeverity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Error => ImportSeverity::Error,
            Severity::Warning => ImportSeverity::Warning,
            Severity::Repaired => ImportSeverity::Repaired,
        }
    }
}

/// One problem, warning or repair, by the spreadsheet's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportIssue {
    /// The row as the spreadsheet shows it; `null` for the whole file.
    pub row: Option<u32>,
    /// The column's header.
    pub column_header: Option<String>,
    /// How much it matters.
    pub severity: ImportSeverity,
    /// A stable code (`cccd_format`, `duplicate_cccd`, …).
    pub code: String,
    /// Vietnamese.
    pub message_vi: String,
    /// English.
    pub message_en: String,
    /// The cell as written (personal data: for the screen only).
    pub value_shown: Option<String>,
    /// The value used instead, for a repair.
    pub value_fixed: Option<String>,
}

impl From<&Issue> for ImportIssue {
    fn from(i: &Issue) -> Self {
        ImportIssue {
            row: i.row,
            column_header: i.column_header.clone(),
            severity: i.severity.into(),
            code: i.code.clone(),
            message_vi: i.message_vi.clone(),
            message_en: i.message_en.clone(),
            value_shown: i.value_shown.clone(),
            value_fixed: i.value_fixed.clone(),
        }
    }
}

/// The numbers of a dry run (`gocua_import::Counts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportReportCounts {
    /// Data rows that were neither blank nor a repeated header.
    pub rows_read: usize,
    /// Rows that are not a person (a footer, a note), skipped with a warning.
    pub rows_not_person: usize,
    /// Rows with an error, left out.
    pub rows_left_out: usize,
    /// People to record.
    pub people_planned: usize,
    /// Households to record.
    pub households_planned: usize,
    /// Issues that are errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Repairs.
    pub repairs: usize,
}

impl From<&Counts> for ImportReportCounts {
    fn from(c: &Counts) -> Self {
        ImportReportCounts {
            rows_read: c.rows_read,
            rows_not_person: c.rows_not_person,
            rows_left_out: c.rows_left_out,
            people_planned: c.people_planned,
            households_planned: c.households_planned,
            errors: c.errors,
            warnings: c.warnings,
            repairs: c.repairs,
        }
    }
}

/// What recording the list changed (`gocua_import::ImportCounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportResult {
    /// Households new to this device.
    pub households_created: usize,
    /// Households held with another address or head.
    pub households_updated: usize,
    /// People new to this device.
    pub people_created: usize,
    /// People held with other values.
    pub people_updated: usize,
    /// Households and people held exactly as the list says.
    pub unchanged: usize,
    /// People of households removed since an earlier import, not brought back.
    pub skipped_removed: usize,
    /// The import, when it recorded anything (it can then be undone).
    pub import_id: Option<Uuid>,
}

impl From<ImportCounts> for ImportResult {
    fn from(c: ImportCounts) -> Self {
        ImportResult {
            households_created: c.households_created,
            households_updated: c.households_updated,
            people_created: c.people_created,
            people_updated: c.people_updated,
            unchanged: c.unchanged,
            skipped_removed: c.skipped_removed,
            import_id: None,
        }
    }
}

/// What undoing an import did (`gocua_import::UndoCounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct UndoResult {
    /// Households the import created, now removed.
    pub households_removed: usize,
    /// People the import created, now removed.
    pub people_removed: usize,
    /// Records whose fields went back to the values before the import.
    pub records_restored: usize,
    /// Fields changed again after the import, whose value was kept.
    pub fields_kept: usize,
    /// Records already removed.
    pub already_gone: usize,
}

impl From<UndoCounts> for UndoResult {
    fn from(c: UndoCounts) -> Self {
        UndoResult {
            households_removed: c.households_removed,
            people_removed: c.people_removed,
            records_restored: c.records_restored,
            fields_kept: c.fields_kept,
            already_gone: c.already_gone,
        }
    }
}

/// One list this device imported, for the import screen's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportLogView {
    /// The import.
    pub id: Uuid,
    /// The file it came from.
    pub file_name: String,
    /// When it was recorded, RFC 3339.
    pub recorded_at: String,
    /// What it changed.
    pub result: ImportResult,
    /// When it was undone, RFC 3339.
    pub undone_at: Option<String>,
    /// What undoing it did.
    pub undo: Option<UndoResult>,
}

impl ImportLogView {
    fn of(entry: ImportLogEntry) -> Result<Self, CommandError> {
        let counts: ImportCounts = serde_json::from_str(&entry.summary).map_err(gocua_core::Error::from)?;
        let undo: Option<UndoCounts> =
            entry.undo_summary.as_deref().map(serde_json::from_str).transpose().map_err(gocua_core::Error::from)?;
        Ok(ImportLogView {
            id: entry.id,
            file_name: entry.file_name,
            recorded_at: entry.recorded_at.to_rfc3339(),
            result: ImportResult { import_id: Some(entry.id), ..counts.into() },
            undone_at: entry.undone_at.map(|t| t.to_rfc3339()),
            undo: undo.map(UndoResult::from),
        })
    }
}

/// Where a preview is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum ImportStage {
    /// Reading the file and finding its columns.
    Reading,
    /// Checking the rows (`done` of `total`).
    Checking,
}

/// A progress report, sent on the preview's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportProgress {
    /// The stage.
    pub stage: ImportStage,
    /// Rows checked.
    pub done: usize,
    /// Rows to check (0 while reading).
    pub total: usize,
}

/// What a plan is checked against, and the device it belongs to.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The enrolled device.
    pub device_id: Uuid,
    /// The store's hamlets and residents.
    pub known: Known,
    /// The commune's code as key namespace, Vietnam's year.
    pub options: PlanOptions,
    /// The column layouts this office remembered.
    pub layouts: Vec<Layout>,
}

/// Whether a role may import lists: the commune police, whose device syncs what it records (an
/// administrator works at the server's command line, and the server refuses an administrator's
/// device a push: an import recorded there would never leave it).
pub fn may_import(role: Role) -> bool {
    role == Role::CommunePolice
}

/// The enrollment of a store that may import now: not the sandbox, a commune police officer.
pub fn authorize(store: &DeviceStore) -> Result<Enrollment, CommandError> {
    store.refuse_in_sandbox()?;
    let enrollment = store.enrollment()?.ok_or(gocua_core::Error::NotEnrolled)?;
    if !may_import(enrollment.role) {
        return Err(CommandError::new(
            "refused",
            "Chỉ Công an xã được nhập danh sách / Only the commune police can import lists",
        ));
    }
    Ok(enrollment)
}

/// Checks the caller may import and gathers what the plan is checked against: the store's
/// hamlets and residents, the commune's code (the keys' namespace) and `today`'s year.
pub fn prepare(store: &DeviceStore, today: NaiveDate) -> Result<Prepared, CommandError> {
    let enrollment = authorize(store)?;
    let places = store.hamlets()?;
    let communes: BTreeSet<&str> = places.iter().filter_map(|p| p.parent_code.as_deref()).collect();
    // one commune (the office's case): its code; a wider scope: the scope's own key
    let key_namespace = match communes.iter().next() {
        Some(code) if communes.len() == 1 => (*code).to_owned(),
        _ => enrollment.scope.key(),
    };
    let hamlets = places.into_iter().map(|p| KnownHamlet { code: p.code, name: p.name }).collect();
    let residents = KnownResident::all_in(&store.projection()?);
    let options = PlanOptions { key_namespace, ..PlanOptions::new(today.year()) };
    // a layout this build cannot read (written by a later one) is passed over, not an error
    let layouts = store.import_layouts()?.iter().filter_map(|json| serde_json::from_str(json).ok()).collect();
    Ok(Prepared { device_id: enrollment.device_id, known: Known { hamlets, residents }, options, layouts })
}

/// A file-level problem (not a spreadsheet, no header, a required column missing, …).
pub fn file_error(e: ImportError) -> CommandError {
    CommandError::new("invalid_file", format!("{} / {}", e.message_vi(), e.message_en()))
}

/// Reads, recognises and checks a file: the list to keep and the view to show. The sheet named,
/// else the first with a header; the columns as this office mapped the same headers before,
/// else as recognised.
pub fn dry_run(
    bytes: Arc<[u8]>,
    file_name: &str,
    sheet: Option<&str>,
    prepared: &Prepared,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<(KeptList, ImportPreview), CommandError> {
    progress(ImportProgress { stage: ImportStage::Reading, done: 0, total: 0 });
    let (table, mut map) = read_list(&bytes, file_name, sheet).map_err(file_error)?;
    let layout_applied = prepared.layouts.iter().any(|layout| layout.apply(&mut map));
    let read = KeptList {
        device_id: prepared.device_id,
        file_name: file_name.to_owned(),
        bytes,
        table: Arc::new(table),
        map,
        plan: None,
    };
    check(read, prepared, layout_applied, progress)
}

/// Checks a kept list again with the officer's columns (`choices[i]`: the field code of column
/// `i`, `None` when not used). Also gives the layout to remember.
pub fn recheck(
    kept: &KeptList,
    choices: &[Option<String>],
    prepared: &Prepared,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<(KeptList, ImportPreview, Layout), CommandError> {
    let fields = choices.iter().map(|c| c.as_deref().map(field_of).transpose()).collect::<Result<Vec<_>, _>>()?;
    let mut map = kept.map.clone();
    map.choose(&fields).map_err(file_error)?;
    let layout = Layout::remember(&map);
    let read = KeptList {
        device_id: prepared.device_id,
        file_name: kept.file_name.clone(),
        bytes: Arc::clone(&kept.bytes),
        table: Arc::clone(&kept.table),
        map,
        plan: None,
    };
    let (checked, view) = check(read, prepared, false, progress)?;
    Ok((checked, view, layout))
}

fn field_of(code: &str) -> Result<Field, CommandError> {
    Field::ALL.into_iter().find(|f| f.code() == code).ok_or_else(|| {
        CommandError::new("invalid", format!("Không có mục “{code}” để ghép cột / There is no field “{code}” to map"))
    })
}

/// Plans a read list when every required field has a column; the view either way.
fn check(
    mut read: KeptList,
    prepared: &Prepared,
    layout_applied: bool,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<(KeptList, ImportPreview), CommandError> {
    if read.map.missing_required(false).is_empty() {
        let mut checked = |done, total| progress(ImportProgress { stage: ImportStage::Checking, done, total });
        read.plan = Some(
            plan(&read.table, &read.map, &prepared.known, &prepared.options, Some(&mut checked)).map_err(file_error)?,
        );
    }
    let view = preview_view(&read, layout_applied);
    Ok((read, view))
}

/// The view of a read list: columns, counts, issues errors first (capped).
pub fn preview_view(read: &KeptList, layout_applied: bool) -> ImportPreview {
    let (table, map) = (&read.table, &read.map);
    let sheet = match &table.source {
        Source::Xlsx { sheet } | Source::Xls { sheet } => Some(sheet.clone()),
        Source::Csv { .. } => None,
    };
    let width = table.width.max(map.headers.len());
    let columns = (0..width)
        .map(|i| {
            let field = map.fields.iter().find(|(_, c)| **c == i).map(|(f, _)| *f);
            ImportColumn {
                letter: column_letter(i),
                header: map.headers.get(i).cloned().unwrap_or_default(),
                field: field.map(|f| f.code().to_owned()),
                field_vi: field.map(|f| f.label_vi().to_owned()),
                field_en: field.map(|f| f.label_en().to_owned()),
            }
        })
        .collect();
    let mut issues: Vec<&Issue> = read.plan.iter().flat_map(|p| &p.report.issues).collect();
    // stable: within a severity, the file's own order (the file's first, then by row)
    issues.sort_by_key(|i| i.severity);
    ImportPreview {
        file_name: read.file_name.clone(),
        sheet,
        sheet_names: table.sheet_names.clone(),
        header_row: map.header_row,
        columns,
        choices: Field::ALL.into_iter().map(ImportField::from).collect(),
        missing: map.missing_required(false).into_iter().map(ImportField::from).collect(),
        layout_applied,
        counts: read.plan.as_ref().map(|p| (&p.report.counts).into()).unwrap_or_default(),
        issues: issues.iter().take(MAX_ISSUES_SHOWN).map(|i| ImportIssue::from(*i)).collect(),
        issues_total: issues.len(),
    }
}

/// Records a kept list's plan into `store` in one transaction: what the store lacks is created,
/// what it holds otherwise is patched. Refused when the store is another device's than the one
/// the plan was checked against, or a required field has no column.
pub fn commit(store: &mut DeviceStore, kept: &KeptList) -> Result<ImportResult, CommandError> {
    let enrollment = authorize(store)?;
    if enrollment.device_id != kept.device_id {
        return Err(no_preview());
    }
    let Some(planned) = &kept.plan else {
        let missing = kept.map.missing_required(false);
        return Err(file_error(ImportError::MissingColumns { missing }));
    };
    let events = events_for(planned, &SqlView::new(store.connection()))?;
    if events.payloads.is_empty() {
        return Ok(events.counts.into());
    }
    let summary = serde_json::to_string(&events.counts).map_err(gocua_core::Error::from)?;
    let undo = serde_json::to_string(&events.undo).map_err(gocua_core::Error::from)?;
    let (id, _) = store.record_import(&kept.file_name, events.payloads, &summary, &undo)?;
    Ok(ImportResult { import_id: Some(id), ..events.counts.into() })
}

/// The lists this device imported, newest first (the commune police only).
pub fn history(store: &DeviceStore) -> Result<Vec<ImportLogView>, CommandError> {
    authorize(store)?;
    store.imports()?.into_iter().map(ImportLogView::of).collect()
}

/// Undoes import `id` in one transaction: what it created is removed and the fields it changed
/// go back, unless changed again since. The removals and patches travel to the server and the
/// phones as any other events.
pub fn undo(store: &mut DeviceStore, id: Uuid) -> Result<UndoResult, CommandError> {
    authorize(store)?;
    let record = store.import_undo(id)?.ok_or_else(|| {
        CommandError::new("not_found", "Không tìm thấy lần nhập này / This import was not found on this device")
    })?;
    let record: UndoRecord = serde_json::from_str(&record).map_err(gocua_core::Error::from)?;
    let events = undo_events(&record, &SqlView::new(store.connection()))?;
    let summary = serde_json::to_string(&events.counts).map_err(gocua_core::Error::from)?;
    store.record_import_undo(id, events.payloads, &summary)?;
    Ok(events.counts.into())
}

fn no_preview() -> CommandError {
    CommandError::new(
        "invalid",
        "Chưa có danh sách nào được kiểm tra: hãy chọn lại tệp / No list has been checked: pick the file again",
    )
}

/// `encodeURIComponent` undone; bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The file's bytes and name from a raw request.
fn file_of(request: &Request<'_>) -> Result<(Vec<u8>, String), CommandError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::new("invalid", "Tệp phải được gửi nguyên dạng / The file must be sent as raw bytes"));
    };
    let name = request
        .headers()
        .get(FILE_NAME_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "danh-sach.xlsx".to_owned());
    Ok((bytes.clone(), name))
}

/// Checks a list without writing anything: reads the file (the raw body; its name in the
/// `gocua-file-name` header), recognises its columns and checks every row against this
/// device's hamlets and residents, reporting progress on the channel named in `gocua-progress`.
/// The plan is kept for [`import_commit`].
#[tauri::command]
pub async fn import_preview<R: Runtime>(
    webview: Webview<R>,
    state: State<'_, AppState>,
    imports: State<'_, ImportState>,
    request: Request<'_>,
) -> Result<ImportPreview, CommandError> {
    // a new file replaces what was kept, even if it fails: never record a list not shown
    *imports.slot() = None;
    let prepared = state.with_store(|s| Ok(prepare(s, vietnam_today()))).await??;
    let (bytes, file_name) = file_of(&request)?;
    let channel: Option<Channel<ImportProgress>> = request
        .headers()
        .get(PROGRESS_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|id| JavaScriptChannelId::from_str(id).ok())
        .map(|id| id.channel_on(webview));
    let (kept, view) = tauri::async_runtime::spawn_blocking(move || {
        let mut progress = |p: ImportProgress| {
            if let Some(channel) = &channel {
                let _ = channel.send(p);
            }
        };
        dry_run(bytes.into(), &file_name, None, &prepared, &mut progress)
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))??;
    *imports.slot() = Some(Arc::new(kept));
    Ok(view)
}

/// Reads another sheet of the kept file (its header found again, a remembered layout applied)
/// and checks it. On an error the list kept before stays as it was.
#[tauri::command]
pub async fn import_choose_sheet(
    state: State<'_, AppState>,
    imports: State<'_, ImportState>,
    sheet: String,
    on_progress: Channel<ImportProgress>,
) -> Result<ImportPreview, CommandError> {
    let kept = imports.slot().clone().ok_or_else(no_preview)?;
    let prepared = state.with_store(|s| Ok(prepare(s, vietnam_today()))).await??;
    let (read, view) = tauri::async_runtime::spawn_blocking(move || {
        let mut progress = |p: ImportProgress| {
            let _ = on_progress.send(p);
        };
        dry_run(Arc::clone(&kept.bytes), &kept.file_name, Some(&sheet), &prepared, &mut progress)
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))??;
    *imports.slot() = Some(Arc::new(read));
    Ok(view)
}

/// Checks the kept list again with the officer's columns, one field code (or `null`) per column
/// from column A, and remembers them for the next file with the same headers. Refused whole
/// (and the list kept before stays) when a field is given two columns.
#[tauri::command]
pub async fn import_set_columns(
    state: State<'_, AppState>,
    imports: State<'_, ImportState>,
    columns: Vec<Option<String>>,
    on_progress: Channel<ImportProgress>,
) -> Result<ImportPreview, CommandError> {
    let kept = imports.slot().clone().ok_or_else(no_preview)?;
    let prepared = state.with_store(|s| Ok(prepare(s, vietnam_today()))).await??;
    let (read, view, layout) = tauri::async_runtime::spawn_blocking(move || {
        let mut progress = |p: ImportProgress| {
            let _ = on_progress.send(p);
        };
        recheck(&kept, &columns, &prepared, &mut progress)
    })
    .await
    .map_err(|e| CommandError::new("internal", e.to_string()))??;
    let json = serde_json::to_string(&layout).map_err(gocua_core::Error::from)?;
    state.with_store(move |s| s.save_import_layout(&layout.fingerprint, &json)).await?;
    *imports.slot() = Some(Arc::new(read));
    Ok(view)
}

/// Records the kept plan (one transaction) and forgets it; refused without a preview.
#[tauri::command]
pub async fn import_commit(
    state: State<'_, AppState>,
    imports: State<'_, ImportState>,
) -> Result<ImportResult, CommandError> {
    let kept = imports.slot().clone().ok_or_else(no_preview)?;
    let recorded = Arc::clone(&kept);
    let result = state.write(move |s| Ok(commit(s, &recorded))).await??;
    let mut slot = imports.slot();
    if slot.as_ref().is_some_and(|k| Arc::ptr_eq(k, &kept)) {
        *slot = None;
    }
    Ok(result)
}

/// The lists this device imported, newest first.
#[tauri::command]
pub async fn import_history(state: State<'_, AppState>) -> Result<Vec<ImportLogView>, CommandError> {
    state.with_store(|s| Ok(history(s))).await?
}

/// Undoes a whole import (the officer confirmed it on the screen).
#[tauri::command]
pub async fn import_undo(state: State<'_, AppState>, id: Uuid) -> Result<UndoResult, CommandError> {
    state.write(move |s| Ok(undo(s, id))).await?
}

#[cfg(test)]
mod tests {
    use super::*;
    use gocua_core::fixtures;
    use gocua_import::testdata::{CURRENT_YEAR, GenSpec, Generated, Plant, PlantKind, generate};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(CURRENT_YEAR, 3, 1).unwrap()
    }

    /// A store enrolled in commune 03445 as `role`, with the generated list's hamlets.
    fn office(role: Role, generated: &Generated) -> DeviceStore {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let places = generated.places();
        let mut response = gocua_core::sync::protocol::EnrollResponse { places, ..fixtures::enroll_response(&store) };
        response.user.role = role;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        store
    }

    fn planted_list() -> Generated {
        let planted = PlantKind::ALL.iter().map(|k| Plant::seeded(*k)).collect();
        generate(&GenSpec { planted, hamlets: 4, ..GenSpec::new(120, 7) }).unwrap()
    }

    #[test]
    fn only_the_commune_police_may_import() {
        let list = planted_list();
        for role in Role::ALL {
            let store = office(role, &list);
            let outcome = prepare(&store, today());
            assert_eq!(outcome.is_ok(), role == Role::CommunePolice, "{role:?}");
            if let Err(e) = outcome {
                assert_eq!(e.kind, "refused");
                assert!(e.message.starts_with("Chỉ Công an xã"), "{}", e.message);
            }
        }
    }

    #[test]
    fn the_trainer_s_sandbox_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = DeviceStore::create_sandbox(&dir.path().join("tap-huan.sqlite"), 1, today()).unwrap();
        assert_eq!(prepare(&sandbox, today()).unwrap_err().kind, "sandbox");
    }

    #[test]
    fn a_preview_lists_the_planted_rows_errors_first_and_a_commit_records_it_once() {
        let list = planted_list();
        let mut store = office(Role::CommunePolice, &list);
        let prepared = prepare(&store, today()).unwrap();
        assert_eq!(prepared.options.key_namespace, "03445");
        assert_eq!(prepared.known.hamlets.len(), 4);
        let mut seen = Vec::new();
        let (kept, view) =
            dry_run(list.bytes.clone().into(), &list.file_name, None, &prepared, &mut |p| seen.push(p)).unwrap();
        let planned = kept.plan.as_ref().unwrap();
        assert_eq!(seen.first().map(|p| p.stage), Some(ImportStage::Reading));
        assert_eq!(seen.last(), Some(&ImportProgress { stage: ImportStage::Checking, done: 120, total: 120 }));

        assert_eq!(view.file_name, list.file_name);
        assert!(view.sheet.is_some());
        assert!(view.columns.iter().any(|c| c.field.as_deref() == Some("full_name")));
        assert_eq!(view.counts.people_planned, list.expected_people);
        assert_eq!(view.counts.households_planned, list.expected_households);
        assert_eq!(view.issues_total, planned.report.issues.len());
        let shown: BTreeSet<(u32, String)> =
            view.issues.iter().filter_map(|i| i.row.map(|r| (r, i.code.clone()))).collect();
        for expected in &list.expected {
            assert!(shown.contains(&(expected.row, expected.code.clone())), "{expected:?} is listed");
        }
        let first_other = view.issues.iter().position(|i| i.severity != ImportSeverity::Error).unwrap();
        assert!(view.issues[first_other..].iter().all(|i| i.severity != ImportSeverity::Error), "errors first");
        assert_eq!(first_other, view.counts.errors);

        assert!(view.missing.is_empty() && !view.layout_applied);
        let recorded = commit(&mut store, &kept).unwrap();
        assert_eq!(
            (recorded.households_created, recorded.people_created),
            (list.expected_households, list.expected_people)
        );
        let held = store.projection().unwrap();
        assert_eq!(held.residents.len(), list.expected_people);
        // the same plan again records nothing
        let again = commit(&mut store, &kept).unwrap();
        assert_eq!(again.unchanged, list.expected_households + list.expected_people);
        assert_eq!(again.people_created + again.households_created, 0);
        assert_eq!(again.import_id, None, "nothing recorded, nothing to undo");

        // the history lists the one import that recorded something; undoing it removes all it
        // brought, once
        let listed = history(&store).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].id, listed[0].file_name.as_str()),
            (recorded.import_id.unwrap(), list.file_name.as_str())
        );
        assert_eq!(listed[0].result.people_created, list.expected_people);
        assert!(listed[0].undone_at.is_none());
        let undone = undo(&mut store, listed[0].id).unwrap();
        assert_eq!(
            (undone.households_removed, undone.people_removed),
            (list.expected_households, list.expected_people)
        );
        let held = store.projection().unwrap();
        assert!(held.households.values().all(|h| h.removed.as_deref() == Some("import_undone")));
        assert!(held.residents.values().all(|r| r.removed.as_deref() == Some("import_undone")));
        assert_eq!(store.households(&Default::default()).unwrap().len(), 0, "the household list is empty again");
        assert_eq!(undo(&mut store, listed[0].id).unwrap_err().kind, "invalid", "undone once only");
        let listed = history(&store).unwrap();
        assert_eq!(listed[0].undo.as_ref().map(|u| u.people_removed), Some(list.expected_people));
        // the same list again brings the rows back, as new records
        let back = commit(&mut store, &kept).unwrap();
        assert_eq!(back.people_created, list.expected_people);
        assert_eq!(store.households(&Default::default()).unwrap().len(), list.expected_households);

        // another device's store is not written with it
        let mut other = office(Role::CommunePolice, &list);
        assert_eq!(commit(&mut other, &kept).unwrap_err().kind, "invalid");
        assert!(other.projection().unwrap().residents.is_empty());

        // a kept plan goes with the lock
        let imports = ImportState::default();
        *imports.slot() = Some(Arc::new(kept));
        imports.forget();
        assert!(imports.slot().is_none());
    }

    #[test]
    fn a_preview_shows_at_most_the_cap_with_the_total() {
        let list = planted_list();
        let store = office(Role::CommunePolice, &list);
        let prepared = prepare(&store, today()).unwrap();
        let (mut kept, _) = dry_run(list.bytes.clone().into(), &list.file_name, None, &prepared, &mut |_| {}).unwrap();
        let planned = kept.plan.as_mut().unwrap();
        let warning = Issue {
            row: Some(9),
            column_header: None,
            field: None,
            code: "made_up".into(),
            severity: Severity::Warning,
            message_vi: "Cảnh báo".into(),
            message_en: "Warning".into(),
            value_shown: None,
            value_fixed: None,
        };
        planned.report.issues.extend(std::iter::repeat_n(warning, MAX_ISSUES_SHOWN));
        let total = planned.report.issues.len();
        let errors = planned.report.issues.iter().filter(|i| i.severity == Severity::Error).count();
        let view = preview_view(&kept, false);
        assert_eq!(view.issues_total, total);
        assert_eq!(view.issues.len(), MAX_ISSUES_SHOWN);
        // every error is among those shown, whatever the warnings' number
        assert!(errors > 0);
        assert_eq!(view.issues.iter().filter(|i| i.severity == ImportSeverity::Error).count(), errors);
    }

    #[test]
    fn the_officer_gives_a_column_its_field_and_the_next_file_is_mapped_the_same_way() {
        let list = planted_list();
        let mut store = office(Role::CommunePolice, &list);
        let hamlet = &list.known.hamlets[0].name;
        let csv = format!(
            "Họ và tên,Năm sinh,Giới tính,Khu vực\nLò Thị Ba,1992,Nữ,{hamlet}\nVì Văn Công,1988,Nam,{hamlet}\n"
        );
        let prepared = prepare(&store, today()).unwrap();
        let (kept, view) = dry_run(csv.as_bytes().into(), "ds.csv", None, &prepared, &mut |_| {}).unwrap();
        let missing: Vec<&str> = view.missing.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(missing, ["hamlet"], "“Khu vực” is not recognised as the hamlet");
        assert_eq!(view.counts, ImportReportCounts::default(), "nothing is checked without a hamlet column");
        assert_eq!(view.choices.len(), Field::ALL.len());
        let refused = commit(&mut store, &kept).unwrap_err();
        assert_eq!(refused.kind, "invalid_file");
        assert!(refused.message.starts_with("Thiếu cột bắt buộc: Thôn"), "{}", refused.message);

        let code = |c: &str| Some(c.to_owned());
        let twice = recheck(&kept, &[code("full_name"), code("birth_year"), code("full_name")], &prepared, &mut |_| {});
        let twice = twice.unwrap_err();
        assert!(twice.message.starts_with("Cột A và cột C cùng được chọn là “Họ và tên”"), "{}", twice.message);
        let unknown = recheck(&kept, &[code("ho_ten")], &prepared, &mut |_| {}).unwrap_err();
        assert_eq!(unknown.kind, "invalid");

        let choices = [code("full_name"), code("birth_year"), code("sex"), code("hamlet")];
        let (corrected, view, layout) = recheck(&kept, &choices, &prepared, &mut |_| {}).unwrap();
        assert!(view.missing.is_empty());
        assert_eq!(view.counts.people_planned, 2, "{:?}", view.issues);
        assert_eq!(view.columns[3].field.as_deref(), Some("hamlet"));
        store.save_import_layout(&layout.fingerprint, &serde_json::to_string(&layout).unwrap()).unwrap();
        assert_eq!(commit(&mut store, &corrected).unwrap().people_created, 2);

        // the next file with the same headers (other case, other rows) is mapped the same way
        let next = format!("HỌ VÀ TÊN,NĂM SINH,GIỚI TÍNH,KHU VỰC\nHà Thị Duyên,1990,Nữ,{hamlet}\n");
        let prepared = prepare(&store, today()).unwrap();
        let (_, view) = dry_run(next.as_bytes().into(), "ds-2.csv", None, &prepared, &mut |_| {}).unwrap();
        assert!(view.layout_applied && view.missing.is_empty(), "{:?}", view.missing);
        assert_eq!(view.counts.people_planned, 1);
        // other headers are recognised afresh
        let other = format!("Họ và tên,Năm sinh,Giới tính,Khu vực,Ghi chú\nHà Thị Duyên,1990,Nữ,{hamlet},\n");
        let (_, view) = dry_run(other.as_bytes().into(), "ds-3.csv", None, &prepared, &mut |_| {}).unwrap();
        assert!(!view.layout_applied);
        assert_eq!(view.missing.len(), 1);
    }

    #[test]
    fn another_sheet_of_the_kept_file_is_read_on_request() {
        let list = planted_list();
        let store = office(Role::CommunePolice, &list);
        let hamlet = list.known.hamlets[0].name.as_str();
        let mut book = rust_xlsxwriter::Workbook::new();
        for (name, rows) in [
            ("Hướng dẫn", vec![vec!["Danh sách gửi các thôn"]]),
            (
                "Chưa kích hoạt",
                vec![vec!["Họ và tên", "Năm sinh", "Giới tính", "Thôn"], vec!["Lò Thị Ba", "1992", "Nữ", hamlet]],
            ),
            (
                "Đã duyệt",
                vec![
                    vec!["Họ và tên", "Năm sinh", "Giới tính", "Thôn"],
                    vec!["Vì Văn Công", "1988", "Nam", hamlet],
                    vec!["Hà Thị Duyên", "1990", "Nữ", hamlet],
                ],
            ),
        ] {
            let sheet = book.add_worksheet();
            sheet.set_name(name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, text) in row.iter().enumerate() {
                    sheet.write_string(r as u32, c as u16, *text).unwrap();
                }
            }
        }
        let bytes: Arc<[u8]> = book.save_to_buffer().unwrap().into();
        let prepared = prepare(&store, today()).unwrap();
        let (kept, view) = dry_run(Arc::clone(&bytes), "ds.xlsx", None, &prepared, &mut |_| {}).unwrap();
        assert_eq!(view.sheet.as_deref(), Some("Chưa kích hoạt"), "the cover sheet is passed over");
        assert_eq!(view.sheet_names, ["Hướng dẫn", "Chưa kích hoạt", "Đã duyệt"]);
        assert_eq!(view.counts.people_planned, 1);
        let (_, view) = dry_run(Arc::clone(&kept.bytes), "ds.xlsx", Some("Đã duyệt"), &prepared, &mut |_| {}).unwrap();
        assert_eq!((view.sheet.as_deref(), view.counts.people_planned), (Some("Đã duyệt"), 2));
        let e = dry_run(bytes, "ds.xlsx", Some("Hướng dẫn"), &prepared, &mut |_| {}).unwrap_err();
        assert!(e.message.starts_with("Không tìm thấy dòng tiêu đề"), "{}", e.message);
    }

    #[test]
    fn a_file_that_is_no_list_is_a_file_error_in_both_languages() {
        let list = planted_list();
        let store = office(Role::CommunePolice, &list);
        let prepared = prepare(&store, today()).unwrap();
        for (bytes, name) in [(&b""[..], "trong.xlsx"), (&b"%PDF-1.4 not a list"[..], "cong-van.pdf")] {
            let e = dry_run(bytes.into(), name, None, &prepared, &mut |_| {}).unwrap_err();
            assert_eq!(e.kind, "invalid_file", "{name}");
            assert!(e.message.contains(" / "), "{}", e.message);
        }
    }

    #[test]
    fn file_names_come_percent_encoded() {
        assert_eq!(percent_decode("danh%20s%C3%A1ch%20th%C3%B4n%203.xlsx"), "danh sách thôn 3.xlsx");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
