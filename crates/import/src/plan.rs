//! Validating every row against the commune's hamlets and residents, and the dry-run result:
//! the people and households to create (with stable keys) and the report of every problem,
//! repair and warning by row.
//!
//! Nothing here logs: rows are personal data. [`Issue::value_shown`] may be shown to the officer
//! on screen; the `Debug` output of the types holding personal data leaves it out.

use std::collections::{BTreeSet, HashMap};

use gocua_core::event::ResidentFields;
use gocua_core::ids::{ImportedKind, MAX_IMPORT_GENERATIONS, imported_id, imported_id_at};
use gocua_core::model::Sex;
use gocua_core::text::fold;
use gocua_core::validate::{self, FieldError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::columns::{ColumnMap, Field, is_header_row, is_numbering_row, match_header, row_fields};
use crate::error::ImportError;
use crate::read::{CellValue, Row, Table, column_letter};
use crate::repair::{self, Fixed, Note, PairMark, PartialDate};

/// How much an issue matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The row is left out of the plan.
    Error,
    /// The row is kept; something deserves a look.
    Warning,
    /// The row is kept with a value the importer repaired.
    Repaired,
}

/// Which police list a person is on (the "Tình trạng" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Chưa có CCCD gắn chip.
    NoCccd,
    /// Có CCCD, chưa đăng ký tài khoản định danh điện tử.
    NotRegistered,
    /// Đã đăng ký, chờ phê duyệt.
    PendingApproval,
    /// Đã phê duyệt, chưa kích hoạt.
    ApprovedNotActivated,
}

impl ListKind {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            ListKind::NoCccd => "no_cccd",
            ListKind::NotRegistered => "not_registered",
            ListKind::PendingApproval => "pending_approval",
            ListKind::ApprovedNotActivated => "approved_not_activated",
        }
    }

    /// Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            ListKind::NoCccd => "Chưa có CCCD gắn chip",
            ListKind::NotRegistered => "Chưa đăng ký",
            ListKind::PendingApproval => "Đã đăng ký, chờ phê duyệt",
            ListKind::ApprovedNotActivated => "Đã phê duyệt, chưa kích hoạt",
        }
    }

    /// Reads a status text ("Chưa đăng ký", "Đã duyệt chưa kích hoạt", …), accents optional.
    pub fn parse(text: &str) -> Option<ListKind> {
        let t = fold(text);
        if t.contains("chua co cccd") || t.contains("chua co can cuoc") || t.contains("chua cap cccd") {
            Some(ListKind::NoCccd)
        } else if t.contains("chua kich hoat") && (t.contains("duyet") || t.contains("dang ky")) {
            Some(ListKind::ApprovedNotActivated)
        } else if t.contains("cho duyet") || t.contains("cho phe duyet") {
            Some(ListKind::PendingApproval)
        } else if t.contains("chua dang ky") || t.contains("chua dk") {
            Some(ListKind::NotRegistered)
        } else {
            None
        }
    }
}

/// One problem, repair or warning, with the spreadsheet's row number.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// The row as the spreadsheet shows it (1-based); `None` for the whole file.
    pub row: Option<u32>,
    /// The column's header as written in the file (with its letter when it has none).
    pub column_header: Option<String>,
    /// The field concerned.
    pub field: Option<Field>,
    /// A stable code (`cccd_format`, `duplicate_cccd`, `cccd_leading_zero`, …).
    pub code: String,
    /// How much it matters.
    pub severity: Severity,
    /// The message in Vietnamese.
    pub message_vi: String,
    /// The message in English.
    pub message_en: String,
    /// The cell as written, for the officer's screen only: personal data, never to be logged.
    pub value_shown: Option<String>,
    /// The value used instead, for a repair.
    pub value_fixed: Option<String>,
}

impl std::fmt::Debug for Issue {
    // The values are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issue")
            .field("row", &self.row)
            .field("field", &self.field)
            .field("code", &self.code)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

/// The numbers of a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Data rows that were neither blank nor a repeated header.
    pub rows_read: usize,
    /// Blank rows (also a row with only its STT number), skipped silently.
    pub rows_blank: usize,
    /// Rows repeating the header (lists printed page by page), skipped silently.
    pub rows_header_repeated: usize,
    /// Rows that are not a person (a footer, a note in one cell), skipped with a warning.
    pub rows_not_person: usize,
    /// Rows with an error, left out of the plan.
    pub rows_left_out: usize,
    /// People in the plan.
    pub people_planned: usize,
    /// Households in the plan.
    pub households_planned: usize,
    /// Issues of severity error.
    pub errors: usize,
    /// Issues of severity warning.
    pub warnings: usize,
    /// Issues of severity repaired.
    pub repairs: usize,
}

/// The dry-run report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Every issue: the file's first, then by row.
    pub issues: Vec<Issue>,
    /// The numbers.
    pub counts: Counts,
}

impl Report {
    /// The `(row, code)` pairs of the issues of the given severities (file-level ones left out).
    pub fn row_codes(&self, severities: &[Severity]) -> BTreeSet<(u32, String)> {
        self.issues
            .iter()
            .filter(|i| severities.contains(&i.severity))
            .filter_map(|i| i.row.map(|r| (r, i.code.clone())))
            .collect()
    }

    /// The issues of one row.
    pub fn for_row(&self, row: u32) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(move |i| i.row == Some(row))
    }
}

/// A hamlet the commune already has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownHamlet {
    /// Its place code.
    pub code: String,
    /// Its name ("Thôn 3", "Ấp Mỹ Lợi", "Bản Nà Hừ").
    pub name: String,
}

/// A resident the caller already holds, to find duplicates.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownResident {
    /// Their id. A person an earlier import brought has the id [`ImportedPerson::id`] gives
    /// (`ids::imported_id` of their key): the same person in a new import is then not a
    /// duplicate but the same record.
    pub id: Uuid,
    /// Full name.
    pub full_name: String,
    /// Birth year.
    pub birth_year: i32,
    /// Their household's hamlet.
    pub hamlet_code: String,
    /// CCCD, if known.
    pub cccd: Option<String>,
}

impl std::fmt::Debug for KnownResident {
    // Personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownResident").field("hamlet_code", &self.hamlet_code).finish_non_exhaustive()
    }
}

impl KnownResident {
    /// Every person a store's projection holds, with their household's hamlet: what an office
    /// store tells the planner it already has.
    /// People removed, or in a removed household, are not held.
    pub fn all_in(projection: &gocua_core::reducer::Projection) -> Vec<KnownResident> {
        projection
            .residents
            .values()
            .filter(|r| {
                r.removed.is_none() && projection.households.get(&r.household_id).is_none_or(|h| h.removed.is_none())
            })
            .map(|r| KnownResident {
                id: r.id,
                full_name: r.full_name.clone(),
                birth_year: r.birth_year,
                hamlet_code: projection
                    .households
                    .get(&r.household_id)
                    .map(|h| h.hamlet_code.clone())
                    .unwrap_or_default(),
                cccd: r.cccd.clone(),
            })
            .collect()
    }
}

/// What the caller already holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    /// The commune's hamlets.
    pub hamlets: Vec<KnownHamlet>,
    /// Its residents.
    pub residents: Vec<KnownResident>,
}

/// How to plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// The current year, for the birth-year range (core's [`validate::birth_year`]).
    pub current_year: i32,
    /// The hamlet (code) of every row without one, or of the whole file when it has no hamlet
    /// column (a list for one hamlet).
    pub default_hamlet: Option<String>,
    /// The list every row is on when the file has no status column or a row's status is not
    /// recognised (the whole file is "chưa đăng ký", say).
    pub default_list_kind: Option<ListKind>,
    /// Mixed into every key, so keys of two communes or campaigns never meet (the commune's
    /// code, say). Keys are hashes, but a CCCD's is guessable by whoever knows the namespace:
    /// keep keys inside the office.
    pub key_namespace: String,
}

impl PlanOptions {
    /// Options for a year, without defaults.
    pub fn new(current_year: i32) -> PlanOptions {
        PlanOptions { current_year, default_hamlet: None, default_list_kind: None, key_namespace: String::new() }
    }
}

/// One person to create.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedPerson {
    /// The row it came from.
    pub row: u32,
    /// Stable key: a hash of the CCCD when valid, else of (hamlet, folded name, birth year,
    /// household grouping). Re-importing the same file gives the same keys.
    pub key: String,
    /// The [`PlannedHousehold::key`] of their household.
    pub household_key: String,
    /// The fields of `resident_added.v1`.
    pub fields: ResidentFields,
    /// The birth date as precise as the list gives it.
    pub birth_date: Option<PartialDate>,
    /// Their household's hamlet.
    pub hamlet_code: String,
    /// Address as written (NFC, whitespace folded).
    pub address: String,
    /// The head of household's name as written in the row (may be empty).
    pub head_name: String,
    /// Relation to the head, as written.
    pub relation: Option<String>,
    /// Whether the row says this person is the head ("Chủ hộ").
    pub is_head: bool,
    /// Which list they are on.
    pub list_kind: Option<ListKind>,
    /// The status/notes cell as written, when there is one.
    pub status_text: Option<String>,
}

/// Whether `id` is the record an import of the person keyed `key` made, in any generation (see
/// `ids::imported_id_at`): then the row is that record again, not a duplicate of it.
fn is_imported_row(id: Uuid, key: &str) -> bool {
    (0..MAX_IMPORT_GENERATIONS).any(|generation| id == imported_id_at(ImportedKind::Resident, key, generation))
}

impl ImportedPerson {
    /// The person's record id: the same row imported again names the same record.
    pub fn id(&self) -> Uuid {
        imported_id(ImportedKind::Resident, &self.key)
    }

    /// Their household's record id.
    pub fn household_id(&self) -> Uuid {
        imported_id(ImportedKind::Household, &self.household_key)
    }
}

impl std::fmt::Debug for ImportedPerson {
    // Personal data: only the row and the keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportedPerson")
            .field("row", &self.row)
            .field("key", &self.key)
            .field("household_key", &self.household_key)
            .finish_non_exhaustive()
    }
}

/// One household to create.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedHousehold {
    /// Stable key: a hash of the grouping (the household code column; else hamlet, folded
    /// address and folded head name; else hamlet and folded address).
    pub key: String,
    /// Its hamlet.
    pub hamlet_code: String,
    /// The first non-empty address of its members.
    pub address: String,
    /// The head's name: the "Chủ hộ" column, else the member marked head, else the first member.
    pub head_name: String,
    /// The row of the member marked head, if any.
    pub head_row: Option<u32>,
    /// The household code as written ("Mã hộ"), if the file has one.
    pub household_code: Option<String>,
    /// The rows of its members, in order.
    pub member_rows: Vec<u32>,
}

impl PlannedHousehold {
    /// The household's record id: the same grouping imported again names the same record.
    pub fn id(&self) -> Uuid {
        imported_id(ImportedKind::Household, &self.key)
    }
}

impl std::fmt::Debug for PlannedHousehold {
    // Personal data: only the key and the rows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedHousehold")
            .field("key", &self.key)
            .field("hamlet_code", &self.hamlet_code)
            .field("member_rows", &self.member_rows)
            .finish_non_exhaustive()
    }
}

/// The result of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// People to create, in row order.
    pub people: Vec<ImportedPerson>,
    /// Households to create, in order of their first member.
    pub households: Vec<PlannedHousehold>,
    /// Every issue, and the numbers.
    pub report: Report,
}

/// How often (in rows) the progress callback is called.
pub const PROGRESS_EVERY: usize = 1000;

// ---------------------------------------------------------------------------------------------
// Hamlets

/// Words that name a kind of hamlet, dropped before comparing names ("Ấp Mỹ Lợi" = "Mỹ Lợi").
const HAMLET_PREFIXES: [&str; 14] =
    ["to dan pho", "khu pho", "thon", "ap", "ban", "xom", "to", "khu", "tdp", "kp", "doi", "lang", "cum", "so"];

fn strip_hamlet_prefix(folded: &str) -> String {
    let mut rest = folded.trim();
    loop {
        let before = rest;
        for prefix in HAMLET_PREFIXES {
            if let Some(r) = rest.strip_prefix(prefix)
                && (r.starts_with(' ') || r.starts_with('.'))
                && !r.trim_start_matches(['.', ' ']).is_empty()
            {
                rest = r.trim_start_matches(['.', ' ']);
                break;
            }
        }
        if rest == before {
            return rest.to_owned();
        }
    }
}

enum HamletMatch {
    Found(usize),
    Unknown,
    Ambiguous(Vec<usize>),
}

struct Hamlets<'a> {
    known: &'a [KnownHamlet],
    by_folded: HashMap<String, Vec<usize>>,
    by_stripped: HashMap<String, Vec<usize>>,
    by_code: HashMap<&'a str, usize>,
    cache: HashMap<String, HamletMatchCached>,
}

#[derive(Clone)]
enum HamletMatchCached {
    Found(usize),
    Unknown,
    Ambiguous(Vec<usize>),
}

impl<'a> Hamlets<'a> {
    fn new(known: &'a [KnownHamlet]) -> Self {
        let mut by_folded: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_stripped: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, h) in known.iter().enumerate() {
            let folded = fold(&h.name);
            by_stripped.entry(strip_hamlet_prefix(&folded)).or_default().push(i);
            by_folded.entry(folded).or_default().push(i);
        }
        let by_code = known.iter().enumerate().map(|(i, h)| (h.code.as_str(), i)).collect();
        Hamlets { known, by_folded, by_stripped, by_code, cache: HashMap::new() }
    }

    /// Folded-equal names first, then names equal without their kind word, then a code.
    fn find(&mut self, text: &str) -> HamletMatch {
        let cached = match self.cache.get(text) {
            Some(c) => c.clone(),
            None => {
                let folded = fold(text);
                let found = match self.by_folded.get(&folded) {
                    Some(v) if v.len() == 1 => HamletMatchCached::Found(v[0]),
                    Some(v) => HamletMatchCached::Ambiguous(v.clone()),
                    None => match self.by_stripped.get(&strip_hamlet_prefix(&folded)) {
                        Some(v) if v.len() == 1 => HamletMatchCached::Found(v[0]),
                        Some(v) => HamletMatchCached::Ambiguous(v.clone()),
                        None => match self.by_code.get(text.trim()) {
                            Some(i) => HamletMatchCached::Found(*i),
                            None => HamletMatchCached::Unknown,
                        },
                    },
                };
                self.cache.insert(text.to_owned(), found.clone());
                found
            }
        };
        match cached {
            HamletMatchCached::Found(i) => HamletMatch::Found(i),
            HamletMatchCached::Unknown => HamletMatch::Unknown,
            HamletMatchCached::Ambiguous(v) => HamletMatch::Ambiguous(v),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

/// A row's cell for a field.
enum Slot<'a> {
    /// No column, or an empty cell.
    Absent,
    /// An error value or a formula without a value: already reported.
    Bad,
    /// A value.
    Value(&'a CellValue),
}

/// What one row says, before keys and households.
struct Draft {
    row: u32,
    failed: bool,
    full_name: String,
    birth_year: i32,
    birth_date: Option<PartialDate>,
    sex: Option<Sex>,
    cccd: Option<String>,
    phone: Option<String>,
    hamlet_code: String,
    address: String,
    head_name: String,
    relation: Option<String>,
    household_code: Option<String>,
    status_text: Option<String>,
    list_kind: Option<ListKind>,
    is_head: bool,
}

struct Planner<'a> {
    map: &'a ColumnMap,
    options: &'a PlanOptions,
    hamlets: Hamlets<'a>,
    issues: Vec<Issue>,
}

fn required(field: Field) -> FieldError {
    FieldError::new(
        field.code(),
        "required",
        format!("Thiếu {}.", field.label_vi().to_lowercase()),
        format!("The {} is missing.", field.label_en()),
    )
}

impl<'a> Planner<'a> {
    fn header(&self, field: Field) -> Option<String> {
        self.map.column(field).map(|c| {
            let h = self.map.header(c);
            if h.is_empty() { format!("Cột {}", column_letter(c)) } else { h.to_owned() }
        })
    }

    fn push(&mut self, row: Option<u32>, field: Option<Field>, severity: Severity, parts: IssueText) {
        let column_header = field.and_then(|f| self.header(f));
        self.issues.push(Issue {
            row,
            column_header,
            field,
            code: parts.code,
            severity,
            message_vi: parts.vi,
            message_en: parts.en,
            value_shown: parts.shown,
            value_fixed: parts.fixed,
        });
    }

    fn error(&mut self, d: &mut Draft, field: Field, e: FieldError, shown: Option<String>) {
        d.failed = true;
        let text = IssueText { code: e.code, vi: e.message_vi, en: e.message_en, shown, fixed: None };
        self.push(Some(d.row), Some(field), Severity::Error, text);
    }

    fn note(&mut self, row: u32, field: Field, note: Note, shown: Option<String>) {
        let text = IssueText {
            code: note.code.to_owned(),
            vi: note.message_vi,
            en: note.message_en,
            shown,
            fixed: note.fixed,
        };
        self.push(Some(row), Some(field), note.severity, text);
    }

    fn take<T>(&mut self, row: u32, field: Field, cell: &CellValue, fixed: Fixed<T>) -> T {
        if let Some(note) = fixed.note {
            self.note(row, field, note, Some(cell.shown()));
        }
        fixed.value
    }

    /// A field's cell. An Excel error or an uncalculated formula is an error on the row, except
    /// in the fields a person can do without (phone, relation, status): there a warning, and
    /// the field is left empty.
    fn slot<'r>(&mut self, d: &mut Draft, row: &'r Row, field: Field) -> Slot<'r> {
        let Some(col) = self.map.column(field) else { return Slot::Absent };
        let optional = matches!(field, Field::Phone | Field::Relation | Field::ListKind);
        if optional && matches!(row.get(col), CellValue::Error(_) | CellValue::FormulaWithoutValue) {
            let shown = row.get(col).shown();
            let text = IssueText {
                code: "cell_unreadable".to_owned(),
                vi: format!(
                    "Ô {} có lỗi của Excel hoặc là công thức chưa tính; người này được nhập không có thông tin đó.",
                    field.label_vi()
                ),
                en: format!(
                    "The {} cell holds an Excel error or an uncalculated formula; the person is imported without it.",
                    field.label_en()
                ),
                shown: (!shown.is_empty()).then_some(shown),
                fixed: None,
            };
            self.push(Some(d.row), Some(field), Severity::Warning, text);
            return Slot::Absent;
        }
        match row.get(col) {
            CellValue::Empty => Slot::Absent,
            CellValue::Error(e) => {
                let e = FieldError::new(
                    field.code(),
                    "cell_error",
                    format!("Ô {} có lỗi của Excel ({e}); hãy sửa công thức hoặc gõ lại giá trị.", field.label_vi()),
                    format!(
                        "The {} cell holds an Excel error ({e}); fix the formula or type the value.",
                        field.label_en()
                    ),
                );
                self.error(d, field, e, Some(row.get(col).shown()));
                Slot::Bad
            }
            CellValue::FormulaWithoutValue => {
                let e = FieldError::new(
                    field.code(),
                    "formula_without_value",
                    format!(
                        "Ô {} là công thức chưa được tính (tệp không lưu kết quả); hãy mở bằng Excel, lưu lại rồi nhập lại.",
                        field.label_vi()
                    ),
                    format!(
                        "The {} cell is a formula whose result was never saved; open the file in Excel, save it and import it again.",
                        field.label_en()
                    ),
                );
                self.error(d, field, e, None);
                Slot::Bad
            }
            value => Slot::Value(value),
        }
    }

    /// A free-text field, NFC and folded; `Ok(None)` when absent, `Err` when refused (reported).
    fn text(&mut self, d: &mut Draft, row: &Row, field: Field) -> Result<Option<String>, Reported> {
        match self.slot(d, row, field) {
            Slot::Value(cell) => match repair::text(field.code(), (field.label_vi(), field.label_en()), cell) {
                Ok(t) if t.is_empty() => Ok(None),
                Ok(t) => Ok(Some(t)),
                Err(e) => {
                    self.error(d, field, e, Some(cell.shown()));
                    Err(Reported)
                }
            },
            Slot::Absent => Ok(None),
            Slot::Bad => Err(Reported),
        }
    }

    /// Whether a data row repeats the header (lists printed page by page repeat it, with its
    /// Nam/Nữ sub-header and its column numbers).
    fn repeats_header(&self, row: &Row) -> bool {
        let name = self.map.column(Field::FullName).map(|c| row.get(c));
        let header_like = match name {
            Some(CellValue::Text(t)) => {
                match_header(t) == Some(Field::FullName) && is_header_row(&row_fields(row))
                    || t.trim().starts_with('(') && is_numbering_row(row)
            }
            Some(CellValue::Int(_) | CellValue::Float(_)) => is_numbering_row(row),
            _ => false,
        };
        let pair_repeated = match (self.map.column(Field::MaleColumn), self.map.column(Field::FemaleColumn)) {
            (Some(m), Some(f)) => {
                fold(&row.get(m).shown()) == "nam"
                    && fold(&row.get(f).shown()) == "nu"
                    && name.is_none_or(CellValue::is_empty)
            }
            _ => false,
        };
        header_like || pair_repeated
    }

    /// Whether a row holds nothing but its STT (blank), something but no field (not a person),
    /// or one lone text cell where a footer ("Người lập biểu", "Tổng cộng") would be.
    fn row_kind(&self, row: &Row) -> RowKind {
        let stt = self.map.column(Field::Stt);
        let others = row.cells.iter().enumerate().filter(|(c, v)| Some(*c) != stt && !v.is_empty());
        let mapped: Vec<(usize, &CellValue)> = others
            .clone()
            .filter(|(c, _)| self.map.fields.iter().any(|(f, col)| *f != Field::Stt && col == c))
            .collect();
        // Nothing but numbers outside the mapped columns: a running number in a column that
        // was not recognised as the STT.
        let numbers_only = others.clone().all(|(_, v)| match v {
            CellValue::Int(_) | CellValue::Float(_) => true,
            CellValue::Text(t) => t.trim().bytes().all(|b| b.is_ascii_digit() || b == b'.'),
            _ => false,
        });
        if others.count() == 0 || (mapped.is_empty() && numbers_only) {
            return RowKind::Blank;
        }
        let stt_empty = stt.is_none_or(|c| row.get(c).is_empty());
        let lone_text = mapped.len() == 1
            && matches!(mapped[0].1, CellValue::Text(_))
            && self.map.fields.iter().any(|(f, c)| {
                *c == mapped[0].0 && matches!(f, Field::FullName | Field::Address | Field::ListKind | Field::HeadName)
            });
        if mapped.is_empty() || (stt_empty && lone_text) { RowKind::NotPerson } else { RowKind::Person }
    }

    fn read_row(&mut self, row: &Row) -> Draft {
        let mut d = Draft {
            row: row.number,
            failed: false,
            full_name: String::new(),
            birth_year: 0,
            birth_date: None,
            sex: None,
            cccd: None,
            phone: None,
            hamlet_code: String::new(),
            address: String::new(),
            head_name: String::new(),
            relation: None,
            household_code: None,
            status_text: None,
            list_kind: None,
            is_head: false,
        };
        let n = row.number;

        // Name.
        match self.slot(&mut d, row, Field::FullName) {
            Slot::Value(cell) => {
                let name = validate::full_name(&cell.shown()).and_then(|name| {
                    repair::legacy_font("full_name", ("Họ và tên", "full name"), &name).map(|()| name)
                });
                match name {
                    Ok(name) => d.full_name = name,
                    Err(e) => self.error(&mut d, Field::FullName, e, Some(cell.shown())),
                }
            }
            Slot::Absent => {
                let e = validate::full_name("").expect_err("an empty name is refused");
                self.error(&mut d, Field::FullName, e, None);
            }
            Slot::Bad => {}
        }

        // Free text.
        d.address = self.text(&mut d, row, Field::Address).ok().flatten().unwrap_or_default();
        let hamlet_text = self.text(&mut d, row, Field::Hamlet);
        d.head_name = self.text(&mut d, row, Field::HeadName).ok().flatten().unwrap_or_default();
        d.relation = self.text(&mut d, row, Field::Relation).ok().flatten();
        d.household_code = self.text(&mut d, row, Field::HouseholdKey).ok().flatten();
        d.status_text = self.text(&mut d, row, Field::ListKind).ok().flatten();

        // Birth: date, year, and the Nam/Nữ pair.
        let mut years: Vec<(Field, i32)> = Vec::new();
        let mut birth_bad = false;
        let mut sex_bad = false;
        match self.slot(&mut d, row, Field::BirthDate) {
            Slot::Value(cell) => match repair::birth_date("birth_date", cell) {
                Ok(fixed) => {
                    let date = self.take(n, Field::BirthDate, cell, fixed);
                    years.push((Field::BirthDate, date.year));
                    d.birth_date = Some(date);
                }
                Err(e) => {
                    birth_bad = true;
                    self.error(&mut d, Field::BirthDate, e, Some(cell.shown()));
                }
            },
            Slot::Bad => birth_bad = true,
            Slot::Absent => {}
        }
        match self.slot(&mut d, row, Field::BirthYear) {
            Slot::Value(cell) => match repair::birth_year(cell) {
                Ok(fixed) => {
                    let year = self.take(n, Field::BirthYear, cell, fixed);
                    years.push((Field::BirthYear, year));
                }
                Err(e) => {
                    birth_bad = true;
                    self.error(&mut d, Field::BirthYear, e, Some(cell.shown()));
                }
            },
            Slot::Bad => birth_bad = true,
            Slot::Absent => {}
        }
        let mut pair_sex = None;
        if self.map.column(Field::MaleColumn).is_some() || self.map.column(Field::FemaleColumn).is_some() {
            let mut marks = Vec::new();
            for (field, sex) in [(Field::MaleColumn, Sex::Male), (Field::FemaleColumn, Sex::Female)] {
                match self.slot(&mut d, row, field) {
                    Slot::Value(cell) => match repair::pair_mark("birth_date", cell) {
                        Ok(fixed) => {
                            let mark = self.take(n, field, cell, fixed);
                            marks.push((field, sex, mark, cell.shown()));
                        }
                        Err(e) => {
                            birth_bad = true;
                            sex_bad = true;
                            self.error(&mut d, field, e, Some(cell.shown()));
                        }
                    },
                    Slot::Bad => {
                        birth_bad = true;
                        sex_bad = true;
                    }
                    Slot::Absent => {}
                }
            }
            match marks.as_slice() {
                [] => {}
                [(field, sex, mark, _)] => {
                    pair_sex = Some(*sex);
                    if let PairMark::Date(date) = mark {
                        years.push((*field, date.year));
                        d.birth_date.get_or_insert(*date);
                    }
                }
                [_, (_, _, _, shown), ..] => {
                    sex_bad = true;
                    birth_bad = true;
                    let e = FieldError::new(
                        "sex",
                        "sex_both_columns",
                        "Cả hai cột Nam và Nữ đều có giá trị; chỉ ghi vào một cột.",
                        "Both the male and the female columns hold a value; write in one only.",
                    );
                    self.error(&mut d, Field::FemaleColumn, e, Some(shown.clone()));
                }
            }
        }
        let mut distinct: Vec<i32> = years.iter().map(|(_, y)| *y).collect();
        distinct.dedup();
        let year = match (years.first(), distinct.len()) {
            (Some(_), 2..) => {
                let shown = years.iter().map(|(_, y)| y.to_string()).collect::<Vec<_>>().join(" / ");
                let e = FieldError::new(
                    "birth_year",
                    "birth_year_mismatch",
                    format!("Ngày sinh và năm sinh không khớp nhau ({shown})."),
                    format!("The birth date and the birth year disagree ({shown})."),
                );
                self.error(&mut d, Field::BirthYear, e, Some(shown));
                None
            }
            (Some((field, year)), _) => match validate::birth_year(*year, self.options.current_year) {
                Ok(y) => Some(y),
                Err(e) => {
                    self.error(&mut d, *field, e, Some(year.to_string()));
                    None
                }
            },
            (None, _) => {
                if !birth_bad {
                    let e = FieldError::new(
                        "birth_date",
                        "required",
                        "Thiếu ngày sinh hoặc năm sinh.",
                        "The birth date or year is missing.",
                    );
                    self.error(&mut d, Field::BirthDate, e, None);
                }
                None
            }
        };

        // Sex.
        let mut sex = None;
        match self.slot(&mut d, row, Field::Sex) {
            Slot::Value(cell) => match repair::sex(cell, self.map.sex_codes.as_ref()) {
                Ok(s) => sex = Some(s),
                Err(e) => {
                    sex_bad = true;
                    self.error(&mut d, Field::Sex, e, Some(cell.shown()));
                }
            },
            Slot::Bad => sex_bad = true,
            Slot::Absent => {}
        }
        match (sex, pair_sex) {
            (Some(a), Some(b)) if a != b => {
                sex_bad = true;
                let e = FieldError::new(
                    "sex",
                    "sex_conflict",
                    "Cột Giới tính và cột Nam/Nữ ghi khác nhau.",
                    "The sex column and the male/female columns disagree.",
                );
                self.error(&mut d, Field::Sex, e, None);
            }
            (None, Some(b)) => sex = Some(b),
            _ => {}
        }

        // CCCD, checked against the birth year and sex (core's rule).
        match self.slot(&mut d, row, Field::Cccd) {
            Slot::Value(cell) => match repair::cccd(cell) {
                Ok(fixed) => {
                    let digits = self.take(n, Field::Cccd, cell, fixed);
                    if let (Some(digits), Some(year)) = (digits, year) {
                        let encoded = repair::sex_in_cccd(&digits);
                        match sex.or(encoded) {
                            Some(s) => match validate::cccd(&digits, year, s) {
                                Ok(digits) => {
                                    if sex.is_none() && !sex_bad {
                                        sex = Some(s);
                                        if self.map.column(Field::Sex).is_some() {
                                            let note = Note {
                                                code: "sex_from_cccd",
                                                severity: Severity::Repaired,
                                                message_vi: format!(
                                                    "Thiếu giới tính; đã lấy theo số CCCD ({}).",
                                                    s.label_vi()
                                                ),
                                                message_en: format!(
                                                    "The sex was missing; taken from the CCCD number ({}).",
                                                    s.label_en()
                                                ),
                                                fixed: Some(s.label_vi().to_owned()),
                                            };
                                            self.note(n, Field::Sex, note, None);
                                        }
                                    }
                                    d.cccd = Some(digits);
                                }
                                Err(e) => self.error(&mut d, Field::Cccd, e, Some(cell.shown())),
                            },
                            None => self.error(&mut d, Field::Cccd, required(Field::Sex), Some(cell.shown())),
                        }
                    }
                }
                Err(e) => self.error(&mut d, Field::Cccd, e, Some(cell.shown())),
            },
            Slot::Bad | Slot::Absent => {}
        }
        match sex {
            Some(s) => d.sex = Some(s),
            None if !sex_bad => {
                let e = FieldError::new(
                    "sex",
                    "required",
                    "Thiếu giới tính (và không có số CCCD để suy ra).",
                    "The sex is missing (and there is no CCCD number to read it from).",
                );
                self.error(&mut d, Field::Sex, e, None);
            }
            None => {}
        }
        if let Some(y) = year {
            d.birth_year = y;
        }

        // Phone: optional, so a bad one is a warning and the person is kept without it.
        if let Slot::Value(cell) = self.slot(&mut d, row, Field::Phone) {
            match repair::phone(cell) {
                Ok(fixed) => d.phone = Some(self.take(n, Field::Phone, cell, fixed)),
                Err(e) => {
                    let text = IssueText {
                        code: e.code,
                        vi: format!("{} Người này được nhập không có số điện thoại.", e.message_vi),
                        en: format!("{} The person is imported without a phone number.", e.message_en),
                        shown: Some(cell.shown()),
                        fixed: None,
                    };
                    self.push(Some(n), Some(Field::Phone), Severity::Warning, text);
                }
            }
        }

        // Hamlet: the cell (merged cells were filled down when read), else the default.
        let default_hamlet = || {
            self.options
                .default_hamlet
                .as_ref()
                .and_then(|code| self.hamlets.known.iter().find(|h| &h.code == code).map(|h| h.name.clone()))
        };
        let hamlet_text = match hamlet_text {
            Ok(Some(text)) => Ok(Some(text)),
            Ok(None) => Ok(default_hamlet()),
            Err(Reported) => Err(Reported),
        };
        match hamlet_text {
            Err(Reported) => {}
            Ok(Some(text)) => match self.hamlets.find(&text) {
                HamletMatch::Found(i) => d.hamlet_code = self.hamlets.known[i].code.clone(),
                HamletMatch::Unknown => {
                    let count = self.hamlets.known.len();
                    let e = FieldError::new(
                        "hamlet",
                        "hamlet_unknown",
                        format!("Thôn/ấp “{text}” không khớp với thôn/ấp nào trong {count} thôn/ấp của xã."),
                        format!("The hamlet “{text}” matches none of the commune's {count} hamlets."),
                    );
                    self.error(&mut d, Field::Hamlet, e, Some(text));
                }
                HamletMatch::Ambiguous(options) => {
                    let names: Vec<&str> = options.iter().map(|i| self.hamlets.known[*i].name.as_str()).collect();
                    let names = names.join(", ");
                    let e = FieldError::new(
                        "hamlet",
                        "hamlet_ambiguous",
                        format!("Thôn/ấp “{text}” khớp với nhiều thôn/ấp: {names}; hãy ghi đầy đủ tên."),
                        format!("The hamlet “{text}” matches several: {names}; write the full name."),
                    );
                    self.error(&mut d, Field::Hamlet, e, Some(text));
                }
            },
            Ok(None) => self.error(&mut d, Field::Hamlet, required(Field::Hamlet), None),
        }

        // Status and head.
        d.list_kind = d.status_text.as_deref().and_then(ListKind::parse).or(self.options.default_list_kind);
        d.is_head = match &d.relation {
            Some(r) => {
                let r = fold(r);
                r == "chu ho" || r.starts_with("chu ho ") || r == "ch"
            }
            None => {
                self.map.column(Field::Relation).is_none()
                    && !d.head_name.is_empty()
                    && fold(&d.head_name) == fold(&d.full_name)
            }
        };
        d
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Blank,
    NotPerson,
    Person,
}

/// A problem already reported on the row.
struct Reported;

struct IssueText {
    code: String,
    vi: String,
    en: String,
    shown: Option<String>,
    fixed: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Keys

fn hash_key(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"gocua-import/key/v1");
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(&hash.finalize()[..16])
}

/// What puts a person in a household: the household code; else the hamlet, address and head;
/// else the hamlet and address; else the person alone.
fn grouping(d: &Draft) -> String {
    let hamlet = d.hamlet_code.as_str();
    if let Some(code) = &d.household_code {
        format!("code\u{1f}{hamlet}\u{1f}{}", fold(code))
    } else if !d.head_name.is_empty() {
        format!("head\u{1f}{hamlet}\u{1f}{}\u{1f}{}", fold(&d.address), fold(&d.head_name))
    } else if !d.address.is_empty() {
        format!("address\u{1f}{hamlet}\u{1f}{}", fold(&d.address))
    } else {
        format!("alone\u{1f}{hamlet}\u{1f}{}\u{1f}{}", fold(&d.full_name), d.birth_year)
    }
}

fn person_key(namespace: &str, d: &Draft, group: &str) -> String {
    match &d.cccd {
        Some(cccd) => hash_key(&[namespace, "person-cccd", cccd]),
        None => hash_key(&[namespace, "person", &d.hamlet_code, &fold(&d.full_name), &d.birth_year.to_string(), group]),
    }
}

fn rows_list(rows: &[u32]) -> String {
    rows.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// The plan

/// Validates every data row of `table` read through `map` and plans the import.
///
/// Fails before reading any row when a required column is missing
/// ([`ColumnMap::check_required`]), a mapped column is outside the table, or the default hamlet
/// is unknown. Otherwise every row problem is an [`Issue`]: a row with an error is left out of
/// the plan, a warning or a repair keeps it. `progress`, when given, is called with
/// `(rows_done, rows_total)` every [`PROGRESS_EVERY`] rows and at the end.
pub fn plan(
    table: &Table,
    map: &ColumnMap,
    known: &Known,
    options: &PlanOptions,
    mut progress: Option<&mut dyn FnMut(usize, usize)>,
) -> Result<Plan, ImportError> {
    map.check_required(options.default_hamlet.is_some())?;
    let width = table.width.max(map.headers.len());
    if let Some(&column) = map.fields.values().find(|c| **c >= width) {
        return Err(ImportError::BadColumnMap { column, width });
    }
    if let Some(code) = &options.default_hamlet
        && !known.hamlets.iter().any(|h| &h.code == code)
    {
        return Err(ImportError::UnknownDefaultHamlet { code: code.clone() });
    }
    let mut planner = Planner { map, options, hamlets: Hamlets::new(&known.hamlets), issues: Vec::new() };
    let mut counts = Counts::default();

    // The file's own notices.
    let has_sex = map.column(Field::Sex).is_some()
        || (map.column(Field::MaleColumn).is_some() && map.column(Field::FemaleColumn).is_some());
    if !has_sex {
        planner.push(
            None,
            None,
            Severity::Warning,
            IssueText {
                code: "no_sex_column".to_owned(),
                vi: "Tệp không có cột Giới tính: giới tính lấy theo số CCCD; người không có CCCD sẽ bị báo lỗi."
                    .to_owned(),
                en: "The file has no sex column: the sex is read from the CCCD number; people without one are reported as errors."
                    .to_owned(),
                shown: None,
                fixed: None,
            },
        );
    }
    if table.columns_cut {
        planner.push(
            None,
            None,
            Severity::Warning,
            IssueText {
                code: "columns_cut".to_owned(),
                vi: format!("Các ô sau cột {} bị bỏ qua (bảng quá rộng).", column_letter(crate::read::MAX_COLUMNS - 1)),
                en: format!(
                    "Cells past column {} were ignored (the table is too wide).",
                    column_letter(crate::read::MAX_COLUMNS - 1)
                ),
                shown: None,
                fixed: None,
            },
        );
    }
    for m in table.merged.iter().filter(|m| m.filled_down && m.last_row >= map.data_start_row) {
        let field = map.fields.iter().find(|(_, c)| **c == m.first_col).map(|(f, _)| *f);
        if field.is_none_or(|f| f == Field::Stt) {
            continue;
        }
        let first = m.first_row.max(map.data_start_row);
        let shown = table.rows.iter().find(|r| r.number == m.first_row).map(|r| r.get(m.first_col).shown());
        let text = IssueText {
            code: "merged_cell_filled".to_owned(),
            vi: format!(
                "Ô gộp từ dòng {} đến dòng {} (cột {}): đã điền cùng giá trị vào từng dòng.",
                m.first_row,
                m.last_row,
                column_letter(m.first_col)
            ),
            en: format!(
                "Merged cell from row {} to row {} (column {}): its value was filled into every row.",
                m.first_row,
                m.last_row,
                column_letter(m.first_col)
            ),
            fixed: shown.clone(),
            shown,
        };
        planner.push(Some(first), field, Severity::Repaired, text);
    }

    // Every row.
    let data: Vec<&Row> = table.rows.iter().filter(|r| r.number >= map.data_start_row).collect();
    let total = data.len();
    let mut drafts: Vec<Draft> = Vec::with_capacity(total);
    for (i, row) in data.iter().enumerate() {
        if i % PROGRESS_EVERY == 0
            && let Some(p) = progress.as_mut()
        {
            p(i, total);
        }
        if planner.repeats_header(row) {
            counts.rows_header_repeated += 1;
            continue;
        }
        match planner.row_kind(row) {
            RowKind::Blank => counts.rows_blank += 1,
            RowKind::NotPerson => {
                counts.rows_read += 1;
                counts.rows_not_person += 1;
                let shown = row.cells.iter().find(|c| !c.is_empty()).map(CellValue::shown);
                planner.push(
                    Some(row.number),
                    None,
                    Severity::Warning,
                    IssueText {
                        code: "row_not_person".to_owned(),
                        vi: "Dòng này không giống dòng của một người (chỉ có một ô chữ, như dòng ghi chú hoặc chữ ký): đã bỏ qua."
                            .to_owned(),
                        en: "This row does not look like a person (a single text cell, like a note or a signature line): skipped."
                            .to_owned(),
                        shown,
                        fixed: None,
                    },
                );
            }
            RowKind::Person => {
                counts.rows_read += 1;
                drafts.push(planner.read_row(row));
            }
        }
    }

    // The same CCCD on several rows: every row involved, none planned until it is fixed.
    let mut by_cccd: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if let Some(c) = &d.cccd {
            by_cccd.entry(c.as_str()).or_default().push(i);
        }
    }
    let mut duplicate_groups: Vec<Vec<usize>> = by_cccd.into_values().filter(|v| v.len() > 1).collect();
    duplicate_groups.sort_unstable();
    for group in duplicate_groups {
        let rows: Vec<u32> = group.iter().map(|i| drafts[*i].row).collect();
        for (k, &i) in group.iter().enumerate() {
            let shown = drafts[i].cccd.clone();
            let others: Vec<u32> = rows.iter().copied().filter(|r| *r != rows[0]).collect();
            let e = if k == 0 {
                FieldError::new(
                    "cccd",
                    "duplicate_cccd",
                    format!(
                        "Số CCCD này có ở nhiều dòng: dòng {} (đầu tiên) và dòng {}; không nhập các dòng này cho đến khi sửa.",
                        rows[0],
                        rows_list(&others)
                    ),
                    format!(
                        "This CCCD number is on several rows: row {} (the first) and row {}; none is imported until it is fixed.",
                        rows[0],
                        rows_list(&others)
                    ),
                )
            } else {
                FieldError::new(
                    "cccd",
                    "duplicate_cccd",
                    format!("Số CCCD trùng với dòng {}.", rows[0]),
                    format!("The CCCD number is the same as on row {}.", rows[0]),
                )
            };
            planner.error(&mut drafts[i], Field::Cccd, e, shown);
        }
    }

    // Keys, duplicates of people without a CCCD, and people the caller already has.
    let namespace = options.key_namespace.as_str();
    let known_by_cccd: HashMap<&str, &KnownResident> =
        known.residents.iter().filter_map(|r| r.cccd.as_deref().map(|c| (c, r))).collect();
    let mut known_by_name: HashMap<(String, i32, &str), Vec<&KnownResident>> = HashMap::new();
    for r in &known.residents {
        known_by_name.entry((fold(&r.full_name), r.birth_year, r.hamlet_code.as_str())).or_default().push(r);
    }
    let mut first_by_key: HashMap<String, u32> = HashMap::new();
    let mut keyed: Vec<(usize, String, String)> = Vec::new();
    for (i, draft) in drafts.iter_mut().enumerate() {
        if draft.failed {
            continue;
        }
        let group = grouping(draft);
        let key = person_key(namespace, draft, &group);
        if let Some(first) = first_by_key.get(&key) {
            let e = FieldError::new(
                "full_name",
                "duplicate_person",
                format!("Trùng với dòng {first}: cùng họ tên, năm sinh và hộ."),
                format!("The same person as on row {first}: same name, birth year and household."),
            );
            let shown = Some(draft.full_name.clone());
            planner.error(draft, Field::FullName, e, shown);
            continue;
        }
        let exists = draft
            .cccd
            .as_deref()
            .and_then(|c| known_by_cccd.get(c))
            .is_some_and(|existing| !is_imported_row(existing.id, &key));
        if exists {
            let e = FieldError::new(
                "cccd",
                "cccd_exists",
                "Người có số CCCD này đã có trong dữ liệu của xã; dòng này không được nhập thêm.",
                "A person with this CCCD number is already in the commune's records; this row is not imported again.",
            );
            let shown = draft.cccd.clone();
            planner.error(draft, Field::Cccd, e, shown);
            continue;
        }
        let d = &*draft;
        let name_key = (fold(&d.full_name), d.birth_year, d.hamlet_code.as_str());
        let similar = known_by_name.get(&name_key).is_some_and(|found| {
            found.iter().any(|r| {
                let different_cccd = matches!((&r.cccd, &d.cccd), (Some(a), Some(b)) if a != b);
                !different_cccd && !is_imported_row(r.id, &key)
            })
        });
        if similar {
            let text = IssueText {
                code: "possible_existing".to_owned(),
                vi: "Có thể đã có người này trong thôn/ấp (cùng họ tên và năm sinh); hãy kiểm tra trước khi nhập."
                    .to_owned(),
                en: "This person may already be in the hamlet (same name and birth year); check before importing."
                    .to_owned(),
                shown: Some(d.full_name.clone()),
                fixed: None,
            };
            planner.push(Some(d.row), Some(Field::FullName), Severity::Warning, text);
        }
        first_by_key.insert(key.clone(), d.row);
        keyed.push((i, key, group));
    }

    // Households, in order of their first member.
    let mut households: Vec<PlannedHousehold> = Vec::new();
    // Per household: the first "Chủ hộ" cell, the head's own name, the first member's name.
    let mut head_names: Vec<[Option<String>; 3]> = Vec::new();
    let mut household_of: HashMap<String, usize> = HashMap::new();
    let mut people = Vec::with_capacity(keyed.len());
    for (i, key, group) in keyed {
        let d = &mut drafts[i];
        let Some(sex) = d.sex else { continue };
        let h = *household_of.entry(group.clone()).or_insert_with(|| {
            households.push(PlannedHousehold {
                key: hash_key(&[namespace, "household", &group]),
                hamlet_code: d.hamlet_code.clone(),
                address: String::new(),
                head_name: String::new(),
                head_row: None,
                household_code: d.household_code.clone(),
                member_rows: Vec::new(),
            });
            head_names.push([None, None, None]);
            households.len() - 1
        });
        let household = &mut households[h];
        household.member_rows.push(d.row);
        if household.address.is_empty() {
            household.address = d.address.clone();
        }
        let names = &mut head_names[h];
        if names[0].is_none() && !d.head_name.is_empty() {
            names[0] = Some(d.head_name.clone());
        }
        if names[2].is_none() {
            names[2] = Some(d.full_name.clone());
        }
        if d.is_head {
            match household.head_row {
                None => {
                    household.head_row = Some(d.row);
                    names[1] = Some(d.full_name.clone());
                }
                Some(first) => {
                    let text = IssueText {
                        code: "household_two_heads".to_owned(),
                        vi: format!("Hộ này đã có chủ hộ ở dòng {first}; dòng này cũng ghi là chủ hộ."),
                        en: format!("This household already has a head on row {first}; this row says head too."),
                        shown: d.relation.clone(),
                        fixed: None,
                    };
                    planner.push(Some(d.row), Some(Field::Relation), Severity::Warning, text);
                }
            }
        }
        people.push(ImportedPerson {
            row: d.row,
            key,
            household_key: household.key.clone(),
            fields: ResidentFields {
                full_name: std::mem::take(&mut d.full_name),
                birth_year: d.birth_year,
                sex,
                cccd: d.cccd.take(),
                phone: d.phone.take(),
            },
            birth_date: d.birth_date,
            hamlet_code: d.hamlet_code.clone(),
            address: std::mem::take(&mut d.address),
            head_name: std::mem::take(&mut d.head_name),
            relation: d.relation.take(),
            is_head: d.is_head,
            list_kind: d.list_kind,
            status_text: d.status_text.take(),
        });
    }
    for (household, names) in households.iter_mut().zip(head_names) {
        household.head_name = names.into_iter().flatten().next().unwrap_or_default();
    }
    // A household needs an address: a list that gives none (or none for a household) has the
    // hamlet's name written in its place, and says so once for the file or on the row.
    let address_column = map.column(Field::Address).is_some();
    let mut unaddressed = 0;
    for household in households.iter_mut().filter(|h| h.address.trim().is_empty()) {
        let hamlet = known.hamlets.iter().find(|h| h.code == household.hamlet_code);
        household.address = hamlet.map_or_else(|| household.hamlet_code.clone(), |h| h.name.clone());
        unaddressed += 1;
        if address_column {
            let text = IssueText {
                code: "address_from_hamlet".to_owned(),
                vi: format!("Hộ không có địa chỉ: ghi tạm theo tên thôn “{}”.", household.address),
                en: format!(
                    "The household has no address: the hamlet's name “{}” is written instead.",
                    household.address
                ),
                shown: None,
                fixed: Some(household.address.clone()),
            };
            planner.push(household.member_rows.first().copied(), Some(Field::Address), Severity::Warning, text);
        }
    }
    if !address_column && unaddressed > 0 {
        let text = IssueText {
            code: "no_address_column".to_owned(),
            vi: "Tệp không có cột Địa chỉ: địa chỉ của mỗi hộ ghi tạm theo tên thôn; hãy sửa khi đến hộ.".to_owned(),
            en: "The file has no address column: each household's address is the hamlet's name for now; correct it at the visit.".to_owned(),
            shown: None,
            fixed: None,
        };
        planner.push(None, Some(Field::Address), Severity::Warning, text);
    }

    if let Some(p) = progress.as_mut() {
        p(total, total);
    }
    let mut issues = planner.issues;
    issues.sort_by_key(|i| i.row.map_or(0, |r| u64::from(r) + 1));
    counts.rows_left_out = drafts.iter().filter(|d| d.failed).count();
    counts.people_planned = people.len();
    counts.households_planned = households.len();
    counts.errors = issues.iter().filter(|i| i.severity == Severity::Error).count();
    counts.warnings = issues.iter().filter(|i| i.severity == Severity::Warning).count();
    counts.repairs = issues.iter().filter(|i| i.severity == Severity::Repaired).count();
    Ok(Plan { people, households, report: Report { issues, counts } })
}
