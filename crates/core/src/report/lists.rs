//! The named lists the seeds ask for, person by person: confirmed activated ("danh sách xác
//! nhận sau khi đã kích hoạt thành công"), absent ("danh sách không có mặt"), not eligible
//! ("danh sách công dân không đủ điều kiện"), and cannot activate by reason. Written as XLSX
//! (constant-memory sheets: each row goes to a temp file as it comes) or as CSV in UTF-8 with a
//! byte-order mark, so Excel shows Vietnamese. A store hands the rows over hamlet by hamlet, so
//! memory holds one hamlet at most, whatever the place's size.
//!
//! Police-only fields reach police roles only: anyone else gets the CCCD masked as the app
//! masks it and, for a police-only reason, the withheld marker (`crate::privacy`).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};
use uuid::Uuid;

use super::{ABSENT_REASON, NOT_COUNTED_REASONS};
use crate::error::Error;
use crate::funnel::FunnelState;
use crate::model::Sex;
use crate::privacy::{WITHHELD_REASON, mask_cccd};
use crate::reasons::ReasonCatalog;
use crate::spotcheck::CheckOutcome;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// People activated (level 1, level 2, portal), with when, by whom and the spot-check's
    /// finding.
    Activated,
    /// People absent, unreachable.
    Absent,
    /// People out of the rate's count: not eligible, deceased, moved away.
    NotEligible,
    /// People not activated with a reason, by reason.
    CannotActivate,
    /// Every listed person with their result ("danh sách cụ thể từng trường hợp"): the list the
    /// police handed out, returned with what became of each person.
    Everyone,
}

impl ListKind {
    /// Every list.
    pub const ALL: [ListKind; 5] =
        [ListKind::Activated, ListKind::Absent, ListKind::NotEligible, ListKind::CannotActivate, ListKind::Everyone];

    /// Stable code (command line, URLs).
    pub fn code(self) -> &'static str {
        match self {
            ListKind::Activated => "activated",
            ListKind::Absent => "absent",
            ListKind::NotEligible => "not-eligible",
            ListKind::CannotActivate => "cannot-activate",
            ListKind::Everyone => "everyone",
        }
    }

    /// Parses [`ListKind::code`].
    pub fn from_code(code: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The list's title, in the seeds' words.
    pub fn title_vi(self) -> &'static str {
        match self {
            ListKind::Activated => "Danh sách xác nhận đã kích hoạt thành công tài khoản định danh điện tử",
            ListKind::Absent => "Danh sách công dân không có mặt",
            ListKind::NotEligible => "Danh sách công dân không đủ điều kiện",
            ListKind::CannotActivate => "Danh sách công dân chưa kích hoạt được, theo lý do",
            ListKind::Everyone => "Danh sách kết quả rà soát, hướng dẫn kích hoạt từng công dân",
        }
    }

    /// Whether a listed person belongs on this list.
    pub fn includes(self, row: &ListRow) -> bool {
        let activated = row.status.is_some_and(FunnelState::is_activated);
        let reason = row.reason_code.as_deref().filter(|_| !activated);
        match self {
            ListKind::Activated => activated,
            ListKind::Absent => reason == Some(ABSENT_REASON),
            ListKind::NotEligible => reason.is_some_and(|r| NOT_COUNTED_REASONS.contains(&r)),
            ListKind::CannotActivate => reason.is_some(),
            ListKind::Everyone => true,
        }
    }
}

/// One listed person (not removed, not merged away), as a store reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    /// The person.
    pub resident_id: Uuid,
    /// Name.
    pub full_name: String,
    /// Birth year.
    pub birth_year: i32,
    /// Sex.
    pub sex: Sex,
    /// CCCD, if known.
    pub cccd: Option<String>,
    /// Phone, if known.
    pub phone: Option<String>,
    /// Their household's head.
    pub head_name: String,
    /// Their household's address.
    pub address: String,
    /// Their hamlet's code.
    pub hamlet_code: String,
    /// Their state.
    pub status: Option<FunnelState>,
    /// Their reason.
    pub reason_code: Option<String>,
    /// What a spot-check found.
    pub claim_check: Option<CheckOutcome>,
    /// Their first successful activation, by the phone's clamped clock.
    pub activated_at: Option<DateTime<Utc>>,
    /// Who guided it.
    pub activated_by: Option<Uuid>,
}

/// The columns of every list.
pub const HEADERS: [&str; 14] = [
    "STT",
    "Họ và tên",
    "Năm sinh",
    "Giới tính",
    "Số CCCD",
    "Số điện thoại",
    "Chủ hộ",
    "Địa chỉ",
    "Thôn, bản, tổ dân phố",
    "Tình trạng tài khoản",
    "Lý do chưa kích hoạt",
    "Ngày kích hoạt",
    "Người hướng dẫn",
    "Kết quả kiểm tra xác suất",
];

/// Rows an Excel sheet holds (1,048,576).
pub const EXCEL_ROWS: u32 = 1_048_576;

/// People an XLSX sheet holds under its title and header; a longer list goes on to another
/// sheet.
pub const ROWS_PER_SHEET: u32 = EXCEL_ROWS - LIST_HEAD_ROWS;

/// What a list's cells say about one person, for a reader who sees everything (`police`) or not.
pub struct Cells<'a> {
    reasons: &'a ReasonCatalog,
    names: &'a dyn Fn(Uuid) -> String,
    places: &'a dyn Fn(&str) -> String,
    police: bool,
}

impl<'a> Cells<'a> {
    /// Cells with reason labels from `reasons`, users' names from `names`, hamlets' names from
    /// `places`; police-only fields only when `police`.
    pub fn new(
        reasons: &'a ReasonCatalog,
        names: &'a dyn Fn(Uuid) -> String,
        places: &'a dyn Fn(&str) -> String,
        police: bool,
    ) -> Cells<'a> {
        Cells { reasons, names, places, police }
    }

    /// The row's cells after "STT" (13 of them), as text.
    pub fn of(&self, row: &ListRow) -> [String; 13] {
        let cccd = row
            .cccd
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| if self.police { c.to_owned() } else { mask_cccd(c) });
        let activated = row.status.is_some_and(FunnelState::is_activated);
        let reason = row.reason_code.as_deref().filter(|_| !activated).map(|code| {
            let reason = self.reasons.get(code);
            if !self.police && reason.is_some_and(|r| r.police_only) {
                self.reasons.get(WITHHELD_REASON).map_or_else(|| WITHHELD_REASON.to_owned(), |r| r.label_vi.clone())
            } else {
                reason.map_or_else(|| code.to_owned(), |r| r.label_vi.clone())
            }
        });
        let at = row.activated_at.map(|t| {
            (t + chrono::Duration::minutes(super::REPORT_UTC_OFFSET_MINUTES.into())).format("%d/%m/%Y").to_string()
        });
        let check = row.claim_check.map(|c| match c {
            CheckOutcome::Confirmed => "Xác nhận đúng",
            CheckOutcome::NotFound => "Không tìm thấy",
            CheckOutcome::Wrong => "Sai",
        });
        [
            row.full_name.clone(),
            row.birth_year.to_string(),
            row.sex.label_vi().to_owned(),
            cccd.unwrap_or_default(),
            row.phone.clone().unwrap_or_default(),
            row.head_name.clone(),
            row.address.clone(),
            (self.places)(&row.hamlet_code),
            row.status.map(FunnelState::label_vi).unwrap_or("Chưa rà soát").to_owned(),
            reason.unwrap_or_default(),
            at.unwrap_or_default(),
            row.activated_by.map(self.names).unwrap_or_default(),
            check.unwrap_or_default().to_owned(),
        ]
    }
}

impl std::fmt::Debug for Cells<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cells").field("police", &self.police).finish_non_exhaustive()
    }
}

/// Where a list's rows go, one at a time.
pub trait ListSink {
    /// Writes the next person (numbered from 1).
    fn row(&mut self, number: u32, cells: &[String; 13]) -> Result<(), Error>;
    /// Ends the file.
    fn finish(self: Box<Self>) -> Result<(), Error>;
}

/// A CSV list: UTF-8 with a byte-order mark (Excel then reads Vietnamese right), a title line,
/// then the header and the rows.
pub struct CsvList<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvList<W> {
    /// Starts the list `title` on `out`.
    pub fn new(mut out: W, title: &str) -> Result<CsvList<W>, Error> {
        out.write_all("\u{feff}".as_bytes()).map_err(|e| Error::Export(e.to_string()))?;
        let mut out = csv::WriterBuilder::new().flexible(true).from_writer(out);
        let fail = |e: csv::Error| Error::Export(e.to_string());
        out.write_record([title]).map_err(fail)?;
        out.write_record(HEADERS).map_err(fail)?;
        Ok(CsvList { out })
    }
}

impl<W: Write> std::fmt::Debug for CsvList<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvList").finish_non_exhaustive()
    }
}

impl<W: Write> ListSink for CsvList<W> {
    fn row(&mut self, number: u32, cells: &[String; 13]) -> Result<(), Error> {
        let number = number.to_string();
        let record = std::iter::once(number.as_str()).chain(cells.iter().map(String::as_str));
        self.out.write_record(record).map_err(|e| Error::Export(e.to_string()))
    }

    fn finish(self: Box<Self>) -> Result<(), Error> {
        let mut out = self.out.into_inner().map_err(|e| Error::Export(e.to_string()))?;
        out.flush().map_err(|e| Error::Export(e.to_string()))
    }
}

/// An XLSX list in constant-memory sheets (rows go to temp files in `tempdir` as they come):
/// a title row, the header, then the rows; past [`ROWS_PER_SHEET`] rows, a new sheet.
pub struct XlsxList<W: Write + Send> {
    book: Workbook,
    out: Option<W>,
    title: String,
    sheets: usize,
    row_in_sheet: u32,
    rows_per_sheet: u32,
    text: Format,
    header: Format,
}

/// Rows above a list's first person: the title and the header.
pub const LIST_HEAD_ROWS: u32 = 2;

impl<W: Write + Send> XlsxList<W> {
    /// Starts the list `title`, to be written to `out` at the end; temp files go in `tempdir`
    /// (a disk directory: in memory they would save nothing).
    pub fn new(out: W, title: &str, tempdir: &Path) -> Result<XlsxList<W>, Error> {
        let mut book = Workbook::new();
        book.set_tempdir(tempdir).map_err(xlsx)?;
        let base = Format::new().set_font_name("Times New Roman").set_font_size(11);
        let mut list = XlsxList {
            book,
            out: Some(out),
            title: title.to_owned(),
            sheets: 0,
            row_in_sheet: 0,
            rows_per_sheet: ROWS_PER_SHEET,
            text: base.clone().set_border(FormatBorder::Thin),
            header: base.set_bold().set_text_wrap().set_border(FormatBorder::Thin).set_background_color("#DDEBF7"),
        };
        list.new_sheet().map_err(xlsx)?;
        Ok(list)
    }

    /// Starts a new sheet after `rows` people instead of [`ROWS_PER_SHEET`] (at most that).
    pub fn with_rows_per_sheet(mut self, rows: u32) -> XlsxList<W> {
        self.rows_per_sheet = rows.clamp(1, ROWS_PER_SHEET);
        self
    }

    fn new_sheet(&mut self) -> Result<(), XlsxError> {
        self.sheets += 1;
        let name = if self.sheets == 1 { "Danh sách".to_owned() } else { format!("Danh sách ({})", self.sheets) };
        let sheet = self.book.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        for (i, width) in
            [5.0, 24.0, 8.0, 8.0, 14.0, 12.0, 22.0, 26.0, 18.0, 22.0, 22.0, 12.0, 20.0, 16.0].iter().enumerate()
        {
            sheet.set_column_width(i as u16, *width)?;
        }
        sheet.write_string(0, 0, &self.title)?;
        for (i, h) in HEADERS.iter().enumerate() {
            sheet.write_string_with_format(1, i as u16, *h, &self.header)?;
        }
        sheet.set_freeze_panes(LIST_HEAD_ROWS, 2)?;
        sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
        sheet.set_repeat_rows(1, 1)?;
        self.row_in_sheet = 0;
        Ok(())
    }
}

impl<W: Write + Send> std::fmt::Debug for XlsxList<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxList")
            .field("sheets", &self.sheets)
            .field("row_in_sheet", &self.row_in_sheet)
            .finish_non_exhaustive()
    }
}

fn xlsx(e: XlsxError) -> Error {
    Error::Export(e.to_string())
}

impl<W: Write + Send> ListSink for XlsxList<W> {
    fn row(&mut self, number: u32, cells: &[String; 13]) -> Result<(), Error> {
        if self.row_in_sheet == self.rows_per_sheet {
            self.new_sheet().map_err(xlsx)?;
        }
        let row = LIST_HEAD_ROWS + self.row_in_sheet;
        let sheet = self.book.worksheet_from_index(self.sheets - 1).map_err(xlsx)?;
        sheet.write_number_with_format(row, 0, f64::from(number), &self.text).map_err(xlsx)?;
        for (i, cell) in cells.iter().enumerate() {
            sheet.write_string_with_format(row, 1 + i as u16, cell, &self.text).map_err(xlsx)?;
        }
        self.row_in_sheet += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), Error> {
        let out = self.out.take().expect("finished once");
        self.book.save_to_writer(out).map_err(xlsx)
    }
}

/// Writes the people of `kind` in `hamlets` to `sink`, hamlet by hamlet in the order given (as
/// `rows` reads each: one hamlet in memory at a time); on the reasons list, by reason in the
/// catalog's order within each hamlet. Returns how many people were written.
pub fn write_list<E: From<Error>>(
    kind: ListKind,
    hamlets: &[String],
    mut rows: impl FnMut(&str) -> Result<Vec<ListRow>, E>,
    cells: &Cells<'_>,
    mut sink: Box<dyn ListSink + '_>,
) -> Result<u32, E> {
    let order = |row: &ListRow| {
        let code = row.reason_code.as_deref().unwrap_or_default();
        cells.reasons.all().iter().position(|r| r.code == code).unwrap_or(usize::MAX)
    };
    let mut written = 0;
    for hamlet in hamlets {
        let mut people: Vec<ListRow> = rows(hamlet)?.into_iter().filter(|r| kind.includes(r)).collect();
        if kind == ListKind::CannotActivate {
            // stable: each reason's people stay in household order
            people.sort_by_key(order);
        }
        for person in &people {
            written += 1;
            sink.row(written, &cells.of(person))?;
        }
    }
    sink.finish()?;
    Ok(written)
}

#[cfg(test)]
mod tests;
