//! Reading a file into a [`Table`] of typed cells: XLSX/XLS through calamine (cached formula
//! values, merged cells filled down), CSV in any of the encodings Excel writes, with the
//! spreadsheet's own row numbers kept for every row.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Dimensions, Reader, SheetType, SheetVisible, Xls, Xlsx};
use serde::{Deserialize, Serialize};

use crate::error::{ImportError, WorkbookProblem};

/// The largest file read, in bytes (50 MiB). A commune's list is a few MB at most; a larger
/// file is refused before parsing.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// Columns past this one (0-based) are ignored: police lists have a few dozen columns, and a
/// stray cell far to the right must not make every row that wide.
pub const MAX_COLUMNS: usize = 200;

/// A date as a spreadsheet holds it. Not checked: Excel's serial 60 is the 29 February 1900
/// that never was, and a date cell may hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellDate {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day, 1–31.
    pub day: u32,
}

/// One cell's value, typed as the file typed it (every CSV cell is text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum CellValue {
    /// Nothing, or only whitespace.
    Empty,
    /// Text as written.
    Text(String),
    /// A whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A cell formatted as a date (its time of day dropped).
    Date(CellDate),
    /// TRUE / FALSE.
    Bool(bool),
    /// An error value such as `#REF!` or `#N/A`.
    Error(String),
    /// A formula whose result was never saved (the file was written by a program that does
    /// not calculate): its value is unknown.
    FormulaWithoutValue,
}

impl CellValue {
    /// Whether the cell holds nothing.
    pub fn is_empty(&self) -> bool {
        matches!(self, CellValue::Empty)
    }

    /// The value as a person would see it in the sheet: numbers without exponent when whole,
    /// dates as `dd/mm/yyyy`.
    pub fn shown(&self) -> String {
        match self {
            CellValue::Empty | CellValue::FormulaWithoutValue => String::new(),
            CellValue::Text(t) => t.clone(),
            CellValue::Int(i) => i.to_string(),
            CellValue::Float(f) => format_float(*f),
            CellValue::Date(d) => format!("{:02}/{:02}/{:04}", d.day, d.month, d.year),
            CellValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            CellValue::Error(e) => e.clone(),
        }
    }
}

/// A float as a spreadsheet shows it, without an exponent when it is whole.
pub(crate) fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 { format!("{f:.0}") } else { f.to_string() }
}

/// One row of the sheet.
#[derive(Clone, PartialEq)]
pub struct Row {
    /// The row number the spreadsheet shows (1-based); for a CSV, the line the record starts on.
    pub number: u32,
    /// The cells from column A on; missing cells past the end are empty.
    pub cells: Vec<CellValue>,
}

impl Row {
    /// The cell in column `col` (0-based), empty past the row's end.
    pub fn get(&self, col: usize) -> &CellValue {
        self.cells.get(col).unwrap_or(&CellValue::Empty)
    }

    /// Whether every cell is empty.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(CellValue::is_empty)
    }
}

impl std::fmt::Debug for Row {
    // Cells are personal data: a row prints its number and size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row").field("number", &self.number).field("cells", &self.cells.len()).finish()
    }
}

/// Where a table came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// An Office Open XML workbook (`.xlsx`, `.xlsm`).
    Xlsx {
        /// The sheet read.
        sheet: String,
    },
    /// An old binary workbook (`.xls`).
    Xls {
        /// The sheet read.
        sheet: String,
    },
    /// A delimited text file.
    Csv {
        /// The encoding it was decoded from (`UTF-8`, `UTF-16LE`, `windows-1258`, …).
        encoding: String,
        /// The delimiter found (`,`, `;` or a tab).
        delimiter: char,
    },
}

/// A merged region of the sheet, and whether its value was filled down into the rows it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedRegion {
    /// First row number (1-based, as shown).
    pub first_row: u32,
    /// Last row number.
    pub last_row: u32,
    /// First column (0-based).
    pub first_col: usize,
    /// Last column.
    pub last_col: usize,
    /// Whether the top cell's value was copied into the empty cells below it in its column.
    pub filled_down: bool,
}

/// A sheet read into memory.
#[derive(Clone)]
pub struct Table {
    /// Where it came from.
    pub source: Source,
    /// Every sheet of the workbook, in order (empty for a CSV), for a UI to offer.
    pub sheet_names: Vec<String>,
    /// The rows that hold at least one cell, in order.
    pub rows: Vec<Row>,
    /// The widest row's width.
    pub width: usize,
    /// The merged regions of the sheet.
    pub merged: Vec<MergedRegion>,
    /// Whether cells past [`MAX_COLUMNS`] were ignored.
    pub columns_cut: bool,
}

impl std::fmt::Debug for Table {
    // Cells are personal data: a table prints its shape only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("source", &self.source)
            .field("sheet_names", &self.sheet_names)
            .field("rows", &self.rows.len())
            .field("width", &self.width)
            .field("merged", &self.merged.len())
            .finish()
    }
}

impl Table {
    /// A table from rows built in memory (tests, or a caller's own reader).
    pub fn from_rows(source: Source, rows: Vec<Row>) -> Table {
        let width = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
        Table { source, sheet_names: Vec::new(), rows, width, merged: Vec::new(), columns_cut: false }
    }

    /// The sheet's name (`None` for a CSV).
    pub fn sheet(&self) -> Option<&str> {
        match &self.source {
            Source::Xlsx { sheet } | Source::Xls { sheet } => Some(sheet),
            Source::Csv { .. } => None,
        }
    }
}

/// How to read a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The sheet to read; `None`: the first visible sheet that holds data.
    pub sheet: Option<String>,
}

/// The letters of a column (0 → `A`, 26 → `AA`), as Excel names it.
pub fn column_letter(col: usize) -> String {
    let mut n = col + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Reads a file with the default options (first sheet that holds data).
pub fn read_table(bytes: &[u8], file_name: &str) -> Result<Table, ImportError> {
    read_table_with(bytes, file_name, &ReadOptions::default())
}

/// Reads a file: XLSX/XLSM or XLS (by content, whatever the name says) or a delimited text file
/// (`.csv`, `.txt`, `.tsv`, or no extension). Anything else is refused with a message naming the
/// accepted types; a file over [`MAX_FILE_BYTES`] is refused before parsing.
pub fn read_table_with(bytes: &[u8], file_name: &str, options: &ReadOptions) -> Result<Table, ImportError> {
    match sniff(bytes, file_name)? {
        Kind::Xlsx => read_xlsx(bytes, options),
        Kind::Xls { named_xlsx } => read_xls(bytes, named_xlsx, options),
        Kind::Text => {
            if options.sheet.is_some() {
                // A CSV has one table; naming a sheet is a caller's mistake worth telling.
                return Err(ImportError::SheetNotFound {
                    name: options.sheet.clone().unwrap_or_default(),
                    available: Vec::new(),
                });
            }
            read_csv(bytes, file_name)
        }
    }
}

/// The sheet names of a workbook, in order, for a UI to offer (empty for a CSV).
pub fn sheet_names(bytes: &[u8], file_name: &str) -> Result<Vec<String>, ImportError> {
    match sniff(bytes, file_name)? {
        Kind::Xlsx => Ok(open_xlsx(bytes)?.sheet_names()),
        Kind::Xls { named_xlsx } => Ok(open_xls(bytes, named_xlsx)?.sheet_names()),
        Kind::Text => Ok(Vec::new()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xlsx,
    Xls { named_xlsx: bool },
    Text,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn extension(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn sniff(bytes: &[u8], file_name: &str) -> Result<Kind, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge { size: bytes.len() });
    }
    let ext = extension(file_name);
    let excel_name = matches!(ext.as_str(), "xlsx" | "xlsm" | "xls");
    let text_name = matches!(ext.as_str(), "csv" | "txt" | "tsv" | "");
    if !excel_name && !text_name {
        return Err(ImportError::Unsupported { kind: format!(".{ext}") });
    }
    if bytes.starts_with(b"%PDF") {
        return Err(ImportError::Unsupported { kind: "PDF".to_owned() });
    }
    if bytes.starts_with(ZIP_MAGIC) {
        return Ok(Kind::Xlsx);
    }
    if bytes.starts_with(OLE_MAGIC) {
        // An .xls renamed .xlsx is read as what it is; an OLE container named .xlsx that is
        // not an .xls is how Excel stores a password-protected workbook.
        return Ok(Kind::Xls { named_xlsx: matches!(ext.as_str(), "xlsx" | "xlsm") });
    }
    if excel_name {
        // Web systems often export an HTML table (or Excel 2003 XML) named .xls.
        let start = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
        let markup = start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
        let problem = if markup { WorkbookProblem::HtmlOrXml } else { WorkbookProblem::NotExcel };
        return Err(ImportError::BadWorkbook { problem });
    }
    Ok(Kind::Text)
}

// ---------------------------------------------------------------------------------------------
// Workbooks

fn open_xlsx(bytes: &[u8]) -> Result<Xlsx<Cursor<&[u8]>>, ImportError> {
    Xlsx::new(Cursor::new(bytes)).map_err(|_| ImportError::BadWorkbook { problem: WorkbookProblem::Damaged })
}

fn open_xls(bytes: &[u8], named_xlsx: bool) -> Result<Xls<Cursor<&[u8]>>, ImportError> {
    let problem = if named_xlsx { WorkbookProblem::Encrypted } else { WorkbookProblem::Damaged };
    Xls::new(Cursor::new(bytes)).map_err(|_| ImportError::BadWorkbook { problem })
}

/// The sheets to try, in order: the one named, or every visible worksheet then the hidden ones.
fn sheet_order(sheets: &[calamine::Sheet], wanted: Option<&str>) -> Result<Vec<String>, ImportError> {
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    if let Some(wanted) = wanted {
        return match names.iter().find(|n| n.as_str() == wanted) {
            Some(n) => Ok(vec![n.clone()]),
            None => Err(ImportError::SheetNotFound { name: wanted.to_owned(), available: names }),
        };
    }
    let worksheets = sheets.iter().filter(|s| s.typ == SheetType::WorkSheet);
    let (visible, hidden): (Vec<_>, Vec<_>) = worksheets.partition(|s| s.visible == SheetVisible::Visible);
    Ok(visible.into_iter().chain(hidden).map(|s| s.name.clone()).collect())
}

fn read_xlsx(bytes: &[u8], options: &ReadOptions) -> Result<Table, ImportError> {
    let mut workbook = open_xlsx(bytes)?;
    let sheet_names = workbook.sheet_names();
    let order = sheet_order(workbook.sheets_metadata(), options.sheet.as_deref())?;
    for name in &order {
        let mut cells = Vec::new();
        {
            let mut reader = workbook
                .worksheet_cells_reader(name)
                .map_err(|_| ImportError::BadWorkbook { problem: WorkbookProblem::Damaged })?;
            while let Some(cell) = reader
                .next_cell_with_formula_metadata()
                .map_err(|_| ImportError::BadWorkbook { problem: WorkbookProblem::Damaged })?
            {
                let value = match (data_ref_value(cell.value), cell.formula.is_some()) {
                    (CellValue::Empty, true) => CellValue::FormulaWithoutValue,
                    (value, _) => value,
                };
                if !value.is_empty() {
                    cells.push((cell.pos.0, cell.pos.1 as usize, value));
                }
            }
        }
        if cells.is_empty() {
            continue;
        }
        let merges = workbook
            .merge_cells_by_sheet_name(name)
            .map_err(|_| ImportError::BadWorkbook { problem: WorkbookProblem::Damaged })?;
        return Ok(build_table(Source::Xlsx { sheet: name.clone() }, sheet_names, cells, &merges));
    }
    Err(empty_sheet(options, &sheet_names))
}

fn read_xls(bytes: &[u8], named_xlsx: bool, options: &ReadOptions) -> Result<Table, ImportError> {
    let mut workbook = open_xls(bytes, named_xlsx)?;
    let sheet_names = workbook.sheet_names();
    let order = sheet_order(workbook.sheets_metadata(), options.sheet.as_deref())?;
    for name in &order {
        let damaged = |_| ImportError::BadWorkbook { problem: WorkbookProblem::Damaged };
        let range = workbook.worksheet_range(name).map_err(damaged)?;
        let formulas = workbook.worksheet_formula(name).unwrap_or_default();
        let mut cells = Vec::new();
        if let Some((row0, col0)) = range.start() {
            for (i, row) in range.rows().enumerate() {
                for (j, data) in row.iter().enumerate() {
                    let (r, c) = (row0 + i as u32, col0 + j as u32);
                    let value = match data_value(data) {
                        CellValue::Empty if formulas.get_value((r, c)).is_some_and(|f: &String| !f.is_empty()) => {
                            CellValue::FormulaWithoutValue
                        }
                        value => value,
                    };
                    if !value.is_empty() {
                        cells.push((r, c as usize, value));
                    }
                }
            }
        }
        if cells.is_empty() {
            continue;
        }
        let merges = workbook.merge_cells_by_sheet_name(name).map_err(damaged)?;
        return Ok(build_table(Source::Xls { sheet: name.clone() }, sheet_names, cells, &merges));
    }
    Err(empty_sheet(options, &sheet_names))
}

fn empty_sheet(options: &ReadOptions, sheet_names: &[String]) -> ImportError {
    let sheet = options.sheet.clone().or_else(|| sheet_names.first().cloned()).unwrap_or_default();
    ImportError::EmptySheet { sheet }
}

fn excel_date(dt: &calamine::ExcelDateTime) -> CellValue {
    if dt.is_datetime() {
        let (year, month, day, ..) = dt.to_ymd_hms_milli();
        CellValue::Date(CellDate { year: i32::from(year), month: u32::from(month), day: u32::from(day) })
    } else {
        CellValue::Float(dt.as_f64())
    }
}

fn iso_date(text: &str) -> CellValue {
    let date = text.get(..10).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    match date {
        Some(d) => {
            use chrono::Datelike;
            CellValue::Date(CellDate { year: d.year(), month: d.month(), day: d.day() })
        }
        None => text_value(text),
    }
}

fn text_value(text: &str) -> CellValue {
    if text.trim().is_empty() { CellValue::Empty } else { CellValue::Text(text.to_owned()) }
}

fn data_ref_value(data: DataRef<'_>) -> CellValue {
    match data {
        DataRef::Int(i) => CellValue::Int(i),
        DataRef::Float(f) => CellValue::Float(f),
        DataRef::String(s) => text_value(&s),
        DataRef::SharedString(s) => text_value(s),
        DataRef::Bool(b) => CellValue::Bool(b),
        DataRef::DateTime(dt) => excel_date(&dt),
        DataRef::DateTimeIso(s) => iso_date(&s),
        DataRef::DurationIso(s) => text_value(&s),
        DataRef::Error(e) => CellValue::Error(e.to_string()),
        DataRef::Empty => CellValue::Empty,
    }
}

fn data_value(data: &Data) -> CellValue {
    match data {
        Data::Int(i) => CellValue::Int(*i),
        Data::Float(f) => CellValue::Float(*f),
        Data::String(s) => text_value(s),
        Data::Bool(b) => CellValue::Bool(*b),
        Data::DateTime(dt) => excel_date(dt),
        Data::DateTimeIso(s) => iso_date(s),
        Data::DurationIso(s) => text_value(s),
        Data::Error(e) => CellValue::Error(e.to_string()),
        Data::Empty => CellValue::Empty,
    }
}

/// Builds the rows from `(row, col, value)` cells (0-based, any order) and fills vertical merges
/// down: a merged hamlet or address cell holds its value in its top cell only, and an officer
/// means it for every row it covers.
fn build_table(
    source: Source,
    sheet_names: Vec<String>,
    mut cells: Vec<(u32, usize, CellValue)>,
    merges: &[Dimensions],
) -> Table {
    let columns_cut = cells.iter().any(|(_, c, _)| *c >= MAX_COLUMNS);
    cells.retain(|(_, c, _)| *c < MAX_COLUMNS);
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let mut rows: Vec<Row> = Vec::new();
    for (r, c, value) in cells {
        let number = r + 1;
        if rows.last().is_none_or(|row| row.number != number) {
            rows.push(Row { number, cells: Vec::new() });
        }
        let row = rows.last_mut().expect("pushed above");
        if row.cells.len() <= c {
            row.cells.resize(c + 1, CellValue::Empty);
        }
        row.cells[c] = value;
    }
    let index: HashMap<u32, usize> = rows.iter().enumerate().map(|(i, r)| (r.number, i)).collect();
    let mut merged = Vec::new();
    for m in merges {
        let (first_row, last_row) = (m.start.0 + 1, m.end.0 + 1);
        let (first_col, last_col) = (m.start.1 as usize, m.end.1 as usize);
        let mut filled_down = false;
        if last_row > first_row && first_col < MAX_COLUMNS {
            let top = index.get(&first_row).map(|&i| rows[i].get(first_col).clone());
            if let Some(top) = top.filter(|v| !v.is_empty()) {
                for number in first_row + 1..=last_row {
                    if let Some(&i) = index.get(&number) {
                        let row = &mut rows[i];
                        if row.get(first_col).is_empty() {
                            if row.cells.len() <= first_col {
                                row.cells.resize(first_col + 1, CellValue::Empty);
                            }
                            row.cells[first_col] = top.clone();
                            filled_down = true;
                        }
                    }
                }
            }
        }
        merged.push(MergedRegion { first_row, last_row, first_col, last_col, filled_down });
    }
    merged.sort_by_key(|m| (m.first_row, m.first_col));
    let width = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    Table { source, sheet_names, rows, width, merged, columns_cut }
}

// ---------------------------------------------------------------------------------------------
// Delimited text

/// Decodes a text file: UTF-8 (with or without BOM), UTF-16 LE/BE (with BOM, as Excel's
/// "Unicode text", or without one when every other byte is zero), else Windows-1258 when the
/// bytes look Vietnamese, else Windows-1252. Returns the text and the encoding's name.
pub(crate) fn decode_text(bytes: &[u8]) -> (String, &'static str) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (String::from_utf8_lossy(rest).into_owned(), "UTF-8");
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(&bytes[2..]);
        return (text.into_owned(), "UTF-16LE");
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(&bytes[2..]);
        return (text.into_owned(), "UTF-16BE");
    }
    if let Some(utf16) = utf16_without_bom(bytes) {
        let (text, _) = utf16.decode_without_bom_handling(bytes);
        return (text.into_owned(), utf16.name());
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), "UTF-8");
    }
    let encoding = if looks_windows_1258(bytes) { encoding_rs::WINDOWS_1258 } else { encoding_rs::WINDOWS_1252 };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    (text.into_owned(), encoding.name())
}

fn utf16_without_bom(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zero_odd = sample.chunks(2).filter(|p| p[1] == 0 && p[0] != 0).count();
    let zero_even = sample.chunks(2).filter(|p| p[0] == 0 && p[1] != 0).count();
    if zero_odd * 10 >= pairs * 6 {
        Some(encoding_rs::UTF_16LE)
    } else if zero_even * 10 >= pairs * 6 {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Windows-1258 writes Vietnamese with combining tone marks (0xCC, 0xD2, 0xDE, 0xEC, 0xF2) after
/// a letter and has Ă ă Đ đ Ơ ơ Ư ư where Windows-1252 has Ã ã Ð ð Õ õ Ý ý.
fn looks_windows_1258(bytes: &[u8]) -> bool {
    let tone_after_letter =
        bytes.windows(2).any(|w| w[0].is_ascii_alphabetic() && matches!(w[1], 0xCC | 0xD2 | 0xDE | 0xEC | 0xF2));
    let vietnamese_letters = bytes.iter().any(|b| matches!(b, 0xC3 | 0xE3 | 0xD0 | 0xF0 | 0xD5 | 0xF5 | 0xDD | 0xFD));
    tone_after_letter || vietnamese_letters
}

/// Picks the delimiter whose records most often share one width of two or more fields.
fn detect_delimiter(text: &str) -> u8 {
    let mut best = (b',', 0usize);
    for delimiter in [b',', b';', b'\t'] {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut widths: HashMap<usize, usize> = HashMap::new();
        for record in reader.records().take(60) {
            match record {
                Ok(record) if record.len() >= 2 => *widths.entry(record.len()).or_default() += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let score = widths.values().copied().max().unwrap_or(0);
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

/// A CSV cell: `="0123"` (Excel's way of keeping a leading zero in a CSV) becomes `0123`.
fn csv_cell(field: &str) -> CellValue {
    let field = match field.strip_prefix("=\"").and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner,
        None => field,
    };
    text_value(field)
}

/// Line numbers (1-based) of byte offsets met in increasing order.
struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut target = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        // A record's position is where reading it began, before the blank lines it skipped.
        while target < self.text.len() && matches!(self.text[target], b'\n' | b'\r') {
            target += 1;
        }
        if target > self.byte {
            self.line += self.text[self.byte..target].iter().filter(|b| **b == b'\n').count() as u64;
            self.byte = target;
        }
        self.line
    }
}

fn read_csv(bytes: &[u8], file_name: &str) -> Result<Table, ImportError> {
    let (text, encoding) = decode_text(bytes);
    if text.contains('\0') {
        return Err(ImportError::Unsupported { kind: "binary data / dữ liệu nhị phân".to_owned() });
    }
    let delimiter = detect_delimiter(&text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut columns_cut = false;
    let mut record = csv::StringRecord::new();
    // The csv crate does not count the blank lines it skips, so lines are counted here from
    // each record's byte offset.
    let mut lines = LineCounter { text: text.as_bytes(), byte: 0, line: 1 };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
                let number = u32::try_from(line).unwrap_or(u32::MAX);
                columns_cut |= record.len() > MAX_COLUMNS;
                let mut cells: Vec<CellValue> = record.iter().take(MAX_COLUMNS).map(csv_cell).collect();
                while cells.last().is_some_and(CellValue::is_empty) {
                    cells.pop();
                }
                if !cells.is_empty() {
                    rows.push(Row { number, cells });
                }
            }
            Err(e) => {
                let line = lines.line_at(e.position().map_or(0, |p| p.byte()));
                return Err(ImportError::BadCsv { line });
            }
        }
    }
    if rows.is_empty() {
        return Err(ImportError::EmptySheet { sheet: file_name.to_owned() });
    }
    let width = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    Ok(Table {
        source: Source::Csv { encoding: encoding.to_owned(), delimiter: char::from(delimiter) },
        sheet_names: Vec::new(),
        rows,
        width,
        merged: Vec::new(),
        columns_cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0, "A")]
    #[case(25, "Z")]
    #[case(26, "AA")]
    #[case(27, "AB")]
    #[case(701, "ZZ")]
    #[case(702, "AAA")]
    fn column_letters(#[case] col: usize, #[case] letters: &str) {
        assert_eq!(column_letter(col), letters);
    }

    fn csv_table(bytes: &[u8]) -> Table {
        read_table(bytes, "danh-sach.csv").unwrap()
    }

    fn texts(row: &Row) -> Vec<String> {
        row.cells.iter().map(CellValue::shown).collect()
    }

    #[rstest]
    #[case::comma(",")]
    #[case::semicolon(";")]
    #[case::tab("\t")]
    fn csv_delimiters_are_found(#[case] d: &str) {
        let text = format!(
            "DANH SÁCH CÔNG DÂN\n\nSTT{d}Họ và tên{d}Ngày, tháng, năm sinh{d}Thôn\n1{d}Lò Văn A{d}03/04/1990{d}Bản Nà\n"
        );
        // With the comma delimiter the header must be quoted, as Excel writes it.
        let text =
            if d == "," { text.replace("Ngày, tháng, năm sinh", "\"Ngày, tháng, năm sinh\"") } else { text };
        let table = csv_table(text.as_bytes());
        let Source::Csv { delimiter, encoding } = &table.source else { panic!("csv") };
        assert_eq!(delimiter.to_string(), d);
        assert_eq!(encoding, "UTF-8");
        assert_eq!(table.rows.len(), 3, "the blank line is not a row");
        assert_eq!(table.rows[1].number, 3, "line numbers as the file has them");
        assert_eq!(texts(&table.rows[1])[2], "Ngày, tháng, năm sinh");
        assert_eq!(table.rows[2].number, 4);
        assert_eq!(texts(&table.rows[2]), ["1", "Lò Văn A", "03/04/1990", "Bản Nà"]);
    }

    /// Windows-1258 as Vietnamese Windows writes it: letters with a hat, breve or horn
    /// precomposed, tone marks as combining characters after them.
    fn to_windows_1258(text: &str) -> Vec<u8> {
        use unicode_normalization::UnicodeNormalization;
        let tones = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
        let mut out = Vec::new();
        for c in text.chars() {
            let one = c.to_string();
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&one);
            if !unmappable {
                out.extend_from_slice(&bytes);
                continue;
            }
            let decomposed: String = c.to_string().nfd().collect();
            let base: String = decomposed.chars().filter(|m| !tones.contains(m)).collect::<String>().nfc().collect();
            let tone: String = decomposed.chars().filter(|m| tones.contains(m)).collect();
            let composed = format!("{base}{tone}");
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&composed);
            assert!(!unmappable, "{c}");
            out.extend_from_slice(&bytes);
        }
        out
    }

    #[test]
    fn csv_encodings_are_decoded() {
        let text = "Họ và tên;Thôn\nĐặng Thị Ánh;Ấp Mỹ Lợi\n";
        let expected = ["Đặng Thị Ánh", "Ấp Mỹ Lợi"];
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let le_no_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let cp1258 = to_windows_1258(text);
        for (bytes, encoding) in [
            (text.as_bytes().to_vec(), "UTF-8"),
            (bom, "UTF-8"),
            (le, "UTF-16LE"),
            (be, "UTF-16BE"),
            (le_no_bom, "UTF-16LE"),
            (cp1258, "windows-1258"),
        ] {
            let table = csv_table(&bytes);
            let Source::Csv { encoding: found, .. } = &table.source else { panic!("csv") };
            assert_eq!(found, encoding);
            // Windows-1258 decodes to combining tone marks; compare in NFC.
            let row: Vec<String> = texts(&table.rows[1])
                .iter()
                .map(|t| unicode_normalization::UnicodeNormalization::nfc(t.as_str()).collect())
                .collect();
            assert_eq!(row, expected, "{encoding}");
            assert_eq!(table.rows[1].number, 2);
        }
    }

    #[test]
    fn csv_equals_quote_keeps_leading_zeros() {
        let table = csv_table(b"Ho va ten,So CCCD\nA,=\"001089000123\"\n");
        assert_eq!(table.rows[1].get(1), &CellValue::Text("001089000123".to_owned()));
    }

    #[test]
    fn csv_record_spanning_lines_is_numbered_by_its_first_line() {
        let table = csv_table(b"Ho va ten,Dia chi\nA,\"so 1\nngo 2\"\nB,x\n");
        assert_eq!(table.rows.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 4]);
    }

    #[rstest]
    #[case::empty(b"".as_slice(), "a.xlsx", "empty_file")]
    #[case::pdf(b"%PDF-1.7 ...".as_slice(), "a.pdf", "unsupported_file_type")]
    #[case::pdf_named_csv(b"%PDF-1.7 ...".as_slice(), "a.csv", "unsupported_file_type")]
    #[case::docx(b"PK\x03\x04....".as_slice(), "a.docx", "unsupported_file_type")]
    #[case::text_named_xlsx(b"Ho va ten,Thon\nA,B\n".as_slice(), "a.xlsx", "bad_workbook")]
    #[case::broken_zip(b"PK\x03\x04garbage".as_slice(), "a.xlsx", "bad_workbook")]
    #[case::binary_named_csv(b"\x00\x01\x02\x03\x00\x00\xff\x00".as_slice(), "a.csv", "unsupported_file_type")]
    #[case::ole_named_xlsx(OLE_MAGIC, "a.xlsx", "bad_workbook")]
    #[case::html_named_xls(b"\xEF\xBB\xBF <html><table><tr><td>STT</td></tr></table>".as_slice(), "a.xls", "bad_workbook")]
    #[case::broken_xls(OLE_MAGIC, "a.xls", "bad_workbook")]
    fn bad_files_are_refused(#[case] bytes: &[u8], #[case] name: &str, #[case] code: &str) {
        let error = read_table(bytes, name).unwrap_err();
        assert_eq!(error.code(), code, "{error}");
        assert!(!error.message_vi().is_empty() && !error.message_en().is_empty());
    }

    #[test]
    fn too_large_is_refused_before_parsing() {
        let bytes = vec![b'a'; MAX_FILE_BYTES + 1];
        let error = read_table(&bytes, "a.csv").unwrap_err();
        assert_eq!(error.code(), "file_too_large");
        assert!(error.message_vi().contains("Tệp quá lớn"), "{}", error.message_vi());
    }
}
