//! The one error type of the crate: what stops a whole file from being imported (as opposed to
//! a row's problems, which go into the [`Report`](crate::plan::Report)).
//!
//! Messages are Vietnamese first, English second, and never hold a cell's content: an error may
//! end up in a log, a cell is personal data.

use thiserror::Error;

use crate::columns::Field;
use crate::read::MAX_FILE_BYTES;

/// The file types the importer accepts, as told to the user.
pub const ACCEPTED_TYPES: &str = ".xlsx, .xlsm, .xls, .csv, .txt, .tsv";

/// Why a file cannot be imported at all. `Display` gives the Vietnamese message, then " / ",
/// then the English one; [`ImportError::message_vi`] and [`ImportError::message_en`] give each.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImportError {
    /// The file has no bytes.
    Empty,
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge {
        /// The file's size in bytes.
        size: usize,
    },
    /// Neither a spreadsheet nor a text table (a PDF, a Word document, an image…).
    Unsupported {
        /// What the file looked like (`PDF`, `.docx`, `binary data`, …).
        kind: String,
    },
    /// An Excel file that cannot be opened: damaged, truncated, or not really Excel.
    BadWorkbook {
        /// What is wrong with it.
        problem: WorkbookProblem,
    },
    /// The caller named a sheet the workbook does not have.
    SheetNotFound {
        /// The name asked for.
        name: String,
        /// The sheets the workbook has.
        available: Vec<String>,
    },
    /// Every sheet (or the one named) is empty.
    EmptySheet {
        /// The sheet's name (the file name for a CSV).
        sheet: String,
    },
    /// A CSV file that cannot be parsed as a table.
    BadCsv {
        /// The line (1-based) where reading stopped.
        line: u64,
    },
    /// No row near the top looks like a header (Họ và tên, Ngày sinh, …).
    NoHeader {
        /// How many rows were searched.
        rows_searched: usize,
    },
    /// Required columns are not mapped.
    MissingColumns {
        /// The fields without a column.
        missing: Vec<Field>,
    },
    /// A column map names a column the table does not have.
    BadColumnMap {
        /// The column index named.
        column: usize,
        /// How many columns the table has.
        width: usize,
    },
    /// The officer gave one field to two columns.
    FieldTwice {
        /// The field.
        field: Field,
        /// The first column given it.
        first: usize,
        /// The other column given it.
        second: usize,
    },
    /// The default hamlet given by the caller is not one of the known hamlets.
    UnknownDefaultHamlet {
        /// The code given.
        code: String,
    },
}

impl ImportError {
    /// A stable code the UI can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Empty => "empty_file",
            ImportError::TooLarge { .. } => "file_too_large",
            ImportError::Unsupported { .. } => "unsupported_file_type",
            ImportError::BadWorkbook { .. } => "bad_workbook",
            ImportError::SheetNotFound { .. } => "sheet_not_found",
            ImportError::EmptySheet { .. } => "empty_sheet",
            ImportError::BadCsv { .. } => "bad_csv",
            ImportError::NoHeader { .. } => "no_header",
            ImportError::MissingColumns { .. } => "missing_columns",
            ImportError::BadColumnMap { .. } => "bad_column_map",
            ImportError::FieldTwice { .. } => "field_twice",
            ImportError::UnknownDefaultHamlet { .. } => "unknown_default_hamlet",
        }
    }

    /// The message in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            ImportError::Empty => "Tệp rỗng, không có dữ liệu.".to_owned(),
            ImportError::TooLarge { size } => format!(
                "Tệp quá lớn ({} MB, tối đa {} MB); hãy tách danh sách theo thôn/ấp.",
                megabytes(*size),
                megabytes(MAX_FILE_BYTES)
            ),
            ImportError::Unsupported { kind } => {
                format!("Không đọc được loại tệp này ({kind}). Chỉ nhận tệp Excel hoặc CSV: {ACCEPTED_TYPES}.")
            }
            ImportError::BadWorkbook { problem } => problem.message_vi().to_owned(),
            ImportError::SheetNotFound { name, available } => {
                format!("Không có trang tính “{name}”. Các trang có trong tệp: {}.", available.join(", "))
            }
            ImportError::EmptySheet { sheet } => format!("Trang tính “{sheet}” không có dữ liệu."),
            ImportError::BadCsv { line } => {
                format!("Không đọc được tệp CSV ở dòng {line}; hãy mở bằng Excel và lưu lại dạng CSV UTF-8.")
            }
            ImportError::NoHeader { rows_searched } => format!(
                "Không tìm thấy dòng tiêu đề trong {rows_searched} dòng đầu: cần có cột “Họ và tên” và ít nhất một cột khác như “Ngày sinh”, “Số CCCD”, “Thôn”."
            ),
            ImportError::MissingColumns { missing } => format!(
                "Thiếu cột bắt buộc: {}. Hãy chọn cột tương ứng.",
                missing.iter().map(|f| f.label_vi()).collect::<Vec<_>>().join(", ")
            ),
            ImportError::BadColumnMap { column, width } => format!(
                "Cách ghép cột không hợp lệ: cột {} không có trong bảng (bảng có {width} cột).",
                crate::read::column_letter(*column)
            ),
            ImportError::FieldTwice { field, first, second } => format!(
                "Cột {} và cột {} cùng được chọn là “{}”: mỗi mục chỉ ghép với một cột.",
                crate::read::column_letter(*first),
                crate::read::column_letter(*second),
                field.label_vi()
            ),
            ImportError::UnknownDefaultHamlet { code } => {
                format!("Thôn/ấp mặc định “{code}” không có trong danh sách thôn/ấp của xã.")
            }
        }
    }

    /// The message in English.
    pub fn message_en(&self) -> String {
        match self {
            ImportError::Empty => "The file is empty.".to_owned(),
            ImportError::TooLarge { size } => format!(
                "The file is too large ({} MB, at most {} MB); split the list by hamlet.",
                megabytes(*size),
                megabytes(MAX_FILE_BYTES)
            ),
            ImportError::Unsupported { kind } => {
                format!(
                    "This kind of file cannot be read ({kind}). Only Excel or CSV files are accepted: {ACCEPTED_TYPES}."
                )
            }
            ImportError::BadWorkbook { problem } => problem.message_en().to_owned(),
            ImportError::SheetNotFound { name, available } => {
                format!("There is no sheet “{name}”. The file's sheets: {}.", available.join(", "))
            }
            ImportError::EmptySheet { sheet } => format!("The sheet “{sheet}” holds no data."),
            ImportError::BadCsv { line } => {
                format!("The CSV file cannot be read at line {line}; open it in Excel and save it as CSV UTF-8.")
            }
            ImportError::NoHeader { rows_searched } => format!(
                "No header row in the first {rows_searched} rows: a “Họ và tên” (full name) column is needed, and at least one other such as “Ngày sinh” (birth date), “Số CCCD”, “Thôn” (hamlet)."
            ),
            ImportError::MissingColumns { missing } => format!(
                "Required columns are missing: {}. Choose the matching columns.",
                missing.iter().map(|f| f.label_en()).collect::<Vec<_>>().join(", ")
            ),
            ImportError::BadColumnMap { column, width } => format!(
                "The column mapping is invalid: column {} is not in the table (it has {width} columns).",
                crate::read::column_letter(*column)
            ),
            ImportError::FieldTwice { field, first, second } => format!(
                "Columns {} and {} are both chosen as “{}”: each field goes with one column only.",
                crate::read::column_letter(*first),
                crate::read::column_letter(*second),
                field.label_en()
            ),
            ImportError::UnknownDefaultHamlet { code } => {
                format!("The default hamlet “{code}” is not one of the commune's hamlets.")
            }
        }
    }
}

/// Why an Excel file cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkbookProblem {
    /// Named like an Excel file, but its content is something else (text, an image…).
    NotExcel,
    /// An Excel container that is broken: truncated, or with damaged parts.
    Damaged,
    /// A password-protected workbook (Excel stores it encrypted).
    Encrypted,
    /// A web page (HTML table) or an Excel 2003 XML file named like an Excel file, as some web
    /// systems export.
    HtmlOrXml,
}

impl WorkbookProblem {
    /// The message in Vietnamese.
    pub fn message_vi(self) -> &'static str {
        match self {
            WorkbookProblem::NotExcel => {
                "Tệp có đuôi Excel nhưng nội dung không phải bảng tính Excel; hãy mở tệp gốc bằng Excel và lưu lại dạng .xlsx."
            }
            WorkbookProblem::Damaged => {
                "Tệp Excel bị hỏng hoặc tải về chưa hết; hãy mở bằng Excel, lưu lại dạng .xlsx rồi nhập lại."
            }
            WorkbookProblem::Encrypted => {
                "Tệp Excel có đặt mật khẩu; hãy mở bằng Excel, bỏ mật khẩu, lưu lại rồi nhập lại."
            }
            WorkbookProblem::HtmlOrXml => {
                "Tệp này là trang web (HTML) hoặc XML mang đuôi Excel; hãy mở bằng Excel, chọn Lưu thành (Save As) dạng Excel Workbook (.xlsx) rồi nhập lại."
            }
        }
    }

    /// The message in English.
    pub fn message_en(self) -> &'static str {
        match self {
            WorkbookProblem::NotExcel => {
                "The file is named like an Excel file but is not a spreadsheet; open the original in Excel and save it as .xlsx."
            }
            WorkbookProblem::Damaged => {
                "The Excel file is damaged or was not downloaded completely; open it in Excel, save it as .xlsx and import it again."
            }
            WorkbookProblem::Encrypted => {
                "The Excel file is password-protected; open it in Excel, remove the password, save it and import it again."
            }
            WorkbookProblem::HtmlOrXml => {
                "This file is a web page (HTML) or XML named like an Excel file; open it in Excel, Save As Excel Workbook (.xlsx) and import it again."
            }
        }
    }
}

fn megabytes(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.message_vi(), self.message_en())
    }
}
