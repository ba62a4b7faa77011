//! The appendix ("Phụ lục thống kê") as the XLSX the police send up the chain: one row per unit
//! and a total, with Vietnamese headers, counts and rates as numbers (not formulas, so every
//! reader, LibreOffice included, shows them without recalculating), a frozen header, and A4
//! landscape printing one page wide with the header on every page. Further sheets: the reasons
//! people could not be activated, the days, and the people who did the work.

use std::io::Write;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::{Report, UnitRow};
use crate::error::Error;
use crate::reasons::ReasonCatalog;

/// The main sheet's name.
pub const SHEET_UNITS: &str = "Phụ lục thống kê";
/// The reasons sheet's name.
pub const SHEET_REASONS: &str = "Lý do chưa kích hoạt";
/// The days sheet's name.
pub const SHEET_DAYS: &str = "Theo ngày";
/// The people sheet's name.
pub const SHEET_PEOPLE: &str = "Theo cán bộ";
/// The teams sheet's name (written when the report has teams).
pub const SHEET_TEAMS: &str = "Theo tổ công tác";
/// The label of the total row.
pub const TOTAL_LABEL: &str = "Tổng cộng";

/// Header rows above the data of every sheet (title, subtitle, blank, column headers).
pub const HEADER_ROWS: u32 = 4;

/// A column of the main sheet: its header and how a row gives its value.
struct Column {
    header: &'static str,
    value: fn(&UnitRow) -> Cell,
}

enum Cell {
    Count(u32),
    Rate(Option<f64>),
    Blank,
}

fn count(n: u32) -> Cell {
    Cell::Count(n)
}

/// The main sheet's columns after "STT" and "Đơn vị", in the seeds' words.
const COLUMNS: &[Column] = &[
    Column { header: "Tổng số hộ", value: |r| count(r.tally.households) },
    Column { header: "Số hộ đã khảo sát", value: |r| count(r.tally.households_surveyed) },
    Column { header: "Số nhân khẩu (hộ đã khảo sát)", value: |r| count(r.tally.members) },
    Column {
        header: "Số người sử dụng điện thoại thông minh", value: |r| count(r.tally.smartphone_owners)
    },
    Column {
        header: "Số hộ có máy tính kết nối mạng Internet", value: |r| count(r.tally.households_with_computer)
    },
    Column { header: "Tổng số công dân", value: |r| count(r.tally.residents) },
    Column { header: "Số công dân đủ điều kiện", value: |r| count(r.tally.eligible()) },
    Column { header: "Đã kích hoạt mức 1", value: |r| count(r.tally.activated_level1) },
    Column { header: "Đã kích hoạt mức 2", value: |r| count(r.tally.activated_level2) },
    Column { header: "Đã dùng VNeID đăng nhập Cổng DVC", value: |r| count(r.tally.used_portal) },
    Column { header: "Tổng số đã kích hoạt", value: |r| count(r.tally.activated()) },
    Column { header: "Trong đó: đã kiểm tra xác nhận", value: |r| count(r.tally.confirmed) },
    Column { header: "Đã đăng ký, chờ phê duyệt", value: |r| count(r.tally.registered_pending) },
    Column { header: "Đã phê duyệt, chưa kích hoạt", value: |r| count(r.tally.approved_not_activated) },
    Column { header: "Chưa đăng ký", value: |r| count(r.tally.not_registered) },
    Column { header: "Chưa có CCCD gắn chip", value: |r| count(r.tally.no_chip_cccd) },
    Column { header: "Chưa rà soát", value: |r| count(r.tally.not_visited) },
    Column { header: "Hướng dẫn đăng ký mức 2 (trong kỳ)", value: |r| count(r.tally.referred_level2) },
    Column { header: "Có thể kích hoạt", value: |r| count(r.tally.can_activate_later) },
    Column { header: "Chưa thể kích hoạt", value: |r| count(r.tally.cannot_activate_yet) },
    Column { header: "Không có mặt", value: |r| count(r.tally.reason(super::ABSENT_REASON)) },
    Column { header: "Không đủ điều kiện", value: |r| count(r.tally.reason(super::NOT_ELIGIBLE_REASON)) },
    Column { header: "Từ chối", value: |r| count(r.tally.reason(super::REFUSED_REASON)) },
    Column { header: "Kích hoạt mới trong kỳ", value: |r| count(r.tally.activated_in_range) },
    Column { header: "Chỉ tiêu", value: |r| r.quota.map_or(Cell::Blank, Cell::Count) },
    Column { header: "Tiến độ (%)", value: |r| Cell::Rate(r.progress) },
    Column { header: "Tỷ lệ kích hoạt / đủ điều kiện (%)", value: |r| Cell::Rate(r.rate) },
    Column { header: "Xếp hạng", value: |r| if r.rank == 0 { Cell::Blank } else { count(r.rank) } },
];

/// The main sheet's column headers, "STT" and "Đơn vị" first (what a reader of the file finds).
pub fn unit_headers() -> Vec<&'static str> {
    let mut headers = vec!["STT", "Đơn vị"];
    headers.extend(COLUMNS.iter().map(|c| c.header));
    headers
}

struct Formats {
    title: Format,
    header: Format,
    text: Format,
    count: Format,
    rate: Format,
    total_text: Format,
    total_count: Format,
    total_rate: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = Format::new().set_font_name("Times New Roman").set_font_size(11);
        let cell = base.clone().set_border(FormatBorder::Thin);
        let bold = |f: &Format| f.clone().set_bold();
        let count = cell.clone().set_num_format("#,##0");
        let rate = cell.clone().set_num_format("0.0%");
        Formats {
            title: base.clone().set_bold().set_font_size(14).set_align(FormatAlign::Center),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color("#DDEBF7"),
            text: cell.clone(),
            total_text: bold(&cell),
            total_count: bold(&count),
            total_rate: bold(&rate),
            count,
            rate,
        }
    }
}

/// Title, subtitle and column headers; column widths; freeze; print setup.
fn head(sheet: &mut Worksheet, f: &Formats, title: &str, subtitle: &str, headers: &[&str]) -> Result<(), XlsxError> {
    let last = (headers.len().max(2) - 1) as u16;
    sheet.merge_range(0, 0, 0, last, title, &f.title)?;
    sheet.merge_range(
        1,
        0,
        1,
        last,
        subtitle,
        &Format::new().set_font_name("Times New Roman").set_italic().set_align(FormatAlign::Center),
    )?;
    sheet.set_row_height(HEADER_ROWS - 1, 60)?;
    for (i, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROWS - 1, i as u16, *h, &f.header)?;
        sheet.set_column_width(
            i as u16,
            if i == 1 {
                24.0
            } else if i == 0 {
                5.0
            } else {
                10.0
            },
        )?;
    }
    sheet.set_freeze_panes(HEADER_ROWS, 2)?;
    sheet.set_landscape().set_paper_size(9).set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(HEADER_ROWS - 1, HEADER_ROWS - 1)?;
    sheet.set_footer("&CTrang &P/&N");
    Ok(())
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Cell,
    count: &Format,
    rate: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Count(n) => sheet.write_number_with_format(row, col, f64::from(n), count)?,
        Cell::Rate(Some(r)) => sheet.write_number_with_format(row, col, r, rate)?,
        Cell::Rate(None) | Cell::Blank => sheet.write_blank(row, col, count)?,
    };
    Ok(())
}

/// The report's place and days, as the subtitle says them.
pub fn subtitle(report: &Report) -> String {
    let d = |day: chrono::NaiveDate| day.format("%d/%m/%Y").to_string();
    let campaign = report.campaign.as_ref().map(|c| format!(" — {}", c.name)).unwrap_or_default();
    format!(
        "{}{}, từ ngày {} đến ngày {}",
        report.total.place.name,
        campaign,
        d(report.range.from),
        d(report.range.until)
    )
}

/// Writes the appendix of `report` to `out`.
pub fn write(report: &Report, reasons: &ReasonCatalog, out: impl Write + Send) -> Result<(), Error> {
    let mut book = Workbook::new();
    fill(&mut book, report, reasons).map_err(|e| Error::Export(e.to_string()))?;
    book.save_to_writer(out).map_err(|e| Error::Export(e.to_string()))
}

fn fill(book: &mut Workbook, report: &Report, reasons: &ReasonCatalog) -> Result<(), XlsxError> {
    let f = Formats::new();
    let sub = subtitle(report);
    let units: Vec<&UnitRow> = report.rows.iter().chain(std::iter::once(&report.total)).collect();
    let label =
        |i: usize, r: &UnitRow| if i == report.rows.len() { TOTAL_LABEL.to_owned() } else { r.place.name.clone() };

    let sheet = book.add_worksheet().set_name(SHEET_UNITS)?;
    head(
        sheet,
        &f,
        "PHỤ LỤC THỐNG KÊ KẾT QUẢ HƯỚNG DẪN, KÍCH HOẠT TÀI KHOẢN ĐỊNH DANH ĐIỆN TỬ",
        &sub,
        &unit_headers(),
    )?;
    for (i, r) in units.iter().enumerate() {
        let row = HEADER_ROWS + i as u32;
        let total = i == report.rows.len();
        let (text, cnt, rate) =
            if total { (&f.total_text, &f.total_count, &f.total_rate) } else { (&f.text, &f.count, &f.rate) };
        if total {
            sheet.write_blank(row, 0, text)?;
        } else {
            sheet.write_number_with_format(row, 0, (i + 1) as f64, cnt)?;
        }
        sheet.write_string_with_format(row, 1, label(i, r), text)?;
        for (c, column) in COLUMNS.iter().enumerate() {
            write_cell(sheet, row, 2 + c as u16, (column.value)(r), cnt, rate)?;
        }
    }

    let catalog: Vec<_> = reasons.all().iter().collect();
    let mut headers = vec!["STT", "Đơn vị"];
    headers.extend(catalog.iter().map(|r| r.label_vi.as_str()));
    let sheet = book.add_worksheet().set_name(SHEET_REASONS)?;
    head(sheet, &f, "DANH MỤC LÝ DO CHƯA KÍCH HOẠT ĐƯỢC", &sub, &headers)?;
    for (i, r) in units.iter().enumerate() {
        let row = HEADER_ROWS + i as u32;
        let total = i == report.rows.len();
        let (text, cnt) = if total { (&f.total_text, &f.total_count) } else { (&f.text, &f.count) };
        if !total {
            sheet.write_number_with_format(row, 0, (i + 1) as f64, cnt)?;
        }
        sheet.write_string_with_format(row, 1, label(i, r), text)?;
        for (c, reason) in catalog.iter().enumerate() {
            write_cell(sheet, row, 2 + c as u16, Cell::Count(r.tally.reason(&reason.code)), cnt, &f.rate)?;
        }
    }

    let sheet = book.add_worksheet().set_name(SHEET_DAYS)?;
    head(sheet, &f, "KẾT QUẢ THEO NGÀY", &sub, &["STT", "Ngày", "Kích hoạt mới", "Lượt rà soát"])?;
    for (i, d) in report.days.iter().enumerate() {
        let row = HEADER_ROWS + i as u32;
        sheet.write_number_with_format(row, 0, (i + 1) as f64, &f.count)?;
        sheet.write_string_with_format(row, 1, d.day.format("%d/%m/%Y").to_string(), &f.text)?;
        sheet.write_number_with_format(row, 2, f64::from(d.activated), &f.count)?;
        sheet.write_number_with_format(row, 3, f64::from(d.visits), &f.count)?;
    }

    let sheet = book.add_worksheet().set_name(SHEET_PEOPLE)?;
    let headers =
        ["STT", "Họ và tên", "Kích hoạt mới", "Lượt rà soát", "Hướng dẫn mức 2", "Chỉ tiêu", "Tiến độ (%)", "Xếp hạng"];
    head(sheet, &f, "KẾT QUẢ THEO CÁN BỘ, TÌNH NGUYỆN VIÊN", &sub, &headers)?;
    for (i, p) in report.people.iter().enumerate() {
        let row = HEADER_ROWS + i as u32;
        sheet.write_number_with_format(row, 0, (i + 1) as f64, &f.count)?;
        let name = if p.name.is_empty() { p.user_id.to_string() } else { p.name.clone() };
        sheet.write_string_with_format(row, 1, name, &f.text)?;
        for (c, cell) in [
            Cell::Count(p.activated),
            Cell::Count(p.visits),
            Cell::Count(p.referred),
            p.quota.map_or(Cell::Blank, Cell::Count),
            Cell::Rate(p.progress),
            Cell::Count(p.rank),
        ]
        .into_iter()
        .enumerate()
        {
            write_cell(sheet, row, 2 + c as u16, cell, &f.count, &f.rate)?;
        }
    }

    if report.teams.is_empty() {
        return Ok(());
    }
    let sheet = book.add_worksheet().set_name(SHEET_TEAMS)?;
    let headers = [
        "STT",
        "Tổ trưởng",
        "Số thôn, tổ phụ trách",
        "Tổng số công dân",
        "Số công dân đủ điều kiện",
        "Tổng số đã kích hoạt",
        "Kích hoạt mới trong kỳ",
        "Chỉ tiêu",
        "Tiến độ (%)",
        "Tỷ lệ kích hoạt / đủ điều kiện (%)",
        "Xếp hạng",
    ];
    head(sheet, &f, "KẾT QUẢ THEO TỔ CÔNG TÁC", &sub, &headers)?;
    for (i, t) in report.teams.iter().enumerate() {
        let row = HEADER_ROWS + i as u32;
        sheet.write_number_with_format(row, 0, (i + 1) as f64, &f.count)?;
        let name = if t.name.is_empty() { t.leader.to_string() } else { t.name.clone() };
        sheet.write_string_with_format(row, 1, name, &f.text)?;
        for (c, cell) in [
            Cell::Count(t.hamlets),
            Cell::Count(t.tally.residents),
            Cell::Count(t.tally.eligible()),
            Cell::Count(t.tally.activated()),
            Cell::Count(t.tally.activated_in_range),
            t.quota.map_or(Cell::Blank, Cell::Count),
            Cell::Rate(t.progress),
            Cell::Rate(t.rate),
            Cell::Count(t.rank),
        ]
        .into_iter()
        .enumerate()
        {
            write_cell(sheet, row, 2 + c as u16, cell, &f.count, &f.rate)?;
        }
    }
    Ok(())
}
