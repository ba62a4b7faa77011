//! Reading one cell as one field, and undoing what Excel does to police lists: CCCD numbers
//! that lost their leading zero or turned into `1,23457E+11`, dates as serial numbers, phone
//! numbers without their 0. Each function returns the value with a [`Note`] when it repaired
//! something (or warns), or core's [`FieldError`] when the cell cannot be used.

use chrono::NaiveDate;
use gocua_core::model::Sex;
use gocua_core::text::fold;
use gocua_core::validate::{self, FieldError, Label};
use serde::{Deserialize, Serialize};

use crate::columns::SexCodes;
use crate::plan::Severity;
use crate::read::{CellDate, CellValue, format_float};

/// What a repair or a warning says about a cell that was still used.
#[derive(Clone, PartialEq, Eq)]
pub struct Note {
    /// Stable code (`cccd_leading_zero`, `date_from_serial`, …).
    pub code: &'static str,
    /// [`Severity::Repaired`] or [`Severity::Warning`].
    pub severity: Severity,
    /// The message in Vietnamese.
    pub message_vi: String,
    /// The message in English.
    pub message_en: String,
    /// The value used instead of the cell's, for a repair.
    pub fixed: Option<String>,
}

impl std::fmt::Debug for Note {
    // The repaired value is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Note").field("code", &self.code).field("severity", &self.severity).finish()
    }
}

/// A value read from a cell, with what was done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed<T> {
    /// The value.
    pub value: T,
    /// A repair or a warning, if any.
    pub note: Option<Note>,
}

impl<T> Fixed<T> {
    fn clean(value: T) -> Self {
        Fixed { value, note: None }
    }

    fn repaired(value: T, code: &'static str, fixed: String, vi: String, en: String) -> Self {
        Fixed {
            value,
            note: Some(Note { code, severity: Severity::Repaired, message_vi: vi, message_en: en, fixed: Some(fixed) }),
        }
    }

    fn warned(value: T, code: &'static str, vi: String, en: String) -> Self {
        Fixed {
            value,
            note: Some(Note { code, severity: Severity::Warning, message_vi: vi, message_en: en, fixed: None }),
        }
    }
}

/// A birth date as precise as the list gives it: a year, a month and year, or a full date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialDate {
    /// Year.
    pub year: i32,
    /// Month (1–12), when given.
    pub month: Option<u32>,
    /// Day, when given (then the month is too).
    pub day: Option<u32>,
}

impl PartialDate {
    /// As written in Vietnam: `dd/mm/yyyy`, `mm/yyyy` or `yyyy`.
    pub fn shown(&self) -> String {
        match (self.day, self.month) {
            (Some(d), Some(m)) => format!("{d:02}/{m:02}/{:04}", self.year),
            (None, Some(m)) => format!("{m:02}/{:04}", self.year),
            _ => format!("{:04}", self.year),
        }
    }
}

/// The text of a cell as written (numbers without exponent when whole).
pub fn cell_text(cell: &CellValue) -> String {
    cell.shown()
}

// ---------------------------------------------------------------------------------------------
// Text

/// A free-text cell (name, address, hamlet, …) through core's [`validate::text_line`]:
/// forbidden characters (control, NUL, bidirectional overrides) refused by name, NFC, whitespace
/// folded.
pub fn text(field: &str, label: Label, cell: &CellValue) -> Result<String, FieldError> {
    let text = validate::text_line(field, label, &cell_text(cell))?;
    legacy_font(field, label, &text)?;
    Ok(text)
}

/// Characters Vietnamese text never holds but text typed in the legacy TCVN3 (ABC) fonts
/// (`.VnTime`, still common in older offices) shows when read as Unicode: `¨` for ă, `©` for â,
/// `ª` for ê, `«` for ô, `¬` for ơ, a soft hyphen for ư, `®` for đ, `§` for Đ, `¸ µ ¶ · ¹` for
/// the tones of a…
const TCVN3_MARKERS: [char; 22] =
    ['¡', '¢', '£', '¤', '¥', '¦', '§', '¨', '©', 'ª', '«', '¬', '\u{ad}', '®', 'µ', '¶', '·', '¸', '¹', '¼', '½', '¾'];

/// Refuses text typed in a legacy TCVN3 font: imported as it is, "Lß V¨n Phãng" would be
/// nobody a volunteer can find.
pub fn legacy_font(field: &str, label: Label, text: &str) -> Result<(), FieldError> {
    if text.chars().any(|c| TCVN3_MARKERS.contains(&c)) {
        Err(FieldError::new(
            field,
            "legacy_font_encoding",
            format!(
                "{} có vẻ được gõ bằng phông cũ TCVN3 (.VnTime), không phải Unicode; hãy dùng công cụ chuyển mã (ví dụ Unikey) đổi sang Unicode rồi nhập lại.",
                label.0
            ),
            format!(
                "The {} seems typed in a legacy TCVN3 font (.VnTime), not Unicode; convert the file to Unicode (e.g. with Unikey's converter) and import it again.",
                label.1
            ),
        ))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// CCCD

fn cccd_error(code: &str, vi: &str, en: &str) -> FieldError {
    FieldError::new("cccd", code, vi, en)
}

fn cccd_format() -> FieldError {
    cccd_error("cccd_format", "Số CCCD phải gồm đúng 12 chữ số.", "A CCCD number must be exactly 12 digits.")
}

fn cccd_scientific() -> FieldError {
    cccd_error(
        "cccd_scientific",
        "Số CCCD bị Excel đổi thành dạng số mũ, mất chữ số; hãy định dạng cột là Văn bản (Text) và xuất lại.",
        "Excel turned the CCCD number into scientific notation and digits were lost; format the column as Text and export the list again.",
    )
}

/// Whether text is a number in scientific notation (`1,23457E+11`, `1.2E+11`, `1E11`).
fn is_scientific(text: &str) -> bool {
    let upper = text.trim().to_ascii_uppercase();
    let Some((mantissa, exponent)) = upper.split_once('E') else { return false };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let mantissa_ok = !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        && mantissa.bytes().any(|b| b.is_ascii_digit());
    mantissa_ok && !exponent.is_empty() && exponent.bytes().all(|b| b.is_ascii_digit())
}

fn leading_zero_repair(digits: &str) -> Fixed<Option<String>> {
    let padded = format!("{digits:0>12}");
    Fixed::repaired(
        Some(padded.clone()),
        "cccd_leading_zero",
        padded,
        "Số CCCD bị mất số 0 ở đầu (Excel coi là số); đã thêm lại.".to_owned(),
        "The CCCD number lost its leading zero (Excel read it as a number); it was added back.".to_owned(),
    )
}

fn cmnd_warning() -> Fixed<Option<String>> {
    Fixed::warned(
        None,
        "cmnd_not_cccd",
        "Số 9 chữ số là CMND cũ, không phải CCCD; người này được nhập không có số CCCD.".to_owned(),
        "A 9-digit number is an old CMND, not a CCCD; the person is imported without a CCCD number.".to_owned(),
    )
}

/// A CCCD cell: the 12 digits, not yet checked against the birth year and sex (that is core's
/// [`validate::cccd`], which needs the row).
///
/// - Spaces, dots and dashes are dropped, and a leading `'` (Excel's "keep as text" mark).
/// - 12 digits: the number. As a number cell it is kept silently (nothing was lost); as text
///   ending in `.0` (a number printed as a float) the `.0` is dropped, reported as a repair.
/// - 10 or 11 digits: Excel dropped leading zeros (provinces 001–099 start with 0): padded to
///   12 and reported as a repair.
/// - 9 digits: an old CMND, not a CCCD: the person is kept without a CCCD, with a warning.
/// - Scientific notation (`1,23457E+11`), or a number whose last six digits (the serial) are all
///   zero (what is left of a number Excel rounded to 6 significant digits): error, the digits
///   are gone.
/// - No digit at all ("chưa có", "chưa cấp"): no CCCD, with a warning.
/// - Anything else: `cccd_format`.
pub fn cccd(cell: &CellValue) -> Result<Fixed<Option<String>>, FieldError> {
    match cell {
        CellValue::Empty => Ok(Fixed::clean(None)),
        CellValue::Int(n) => cccd_number(*n),
        CellValue::Float(f) => {
            if f.fract() == 0.0 && *f > 0.0 && *f < 1e12 {
                cccd_number(*f as i64)
            } else {
                Err(cccd_format())
            }
        }
        CellValue::Text(t) => cccd_text(t),
        _ => Err(cccd_format()),
    }
}

fn cccd_number(n: i64) -> Result<Fixed<Option<String>>, FieldError> {
    if n <= 0 {
        return Err(cccd_format());
    }
    let digits = n.to_string();
    match digits.len() {
        10..=12 if n % 1_000_000 == 0 => Err(cccd_scientific()),
        12 => Ok(Fixed::clean(Some(digits))),
        10 | 11 => Ok(leading_zero_repair(&digits)),
        9 => Ok(cmnd_warning()),
        _ => Err(cccd_format()),
    }
}

fn cccd_text(text: &str) -> Result<Fixed<Option<String>>, FieldError> {
    let trimmed = text.trim().trim_start_matches('\'');
    if is_scientific(trimmed) {
        return Err(cccd_scientific());
    }
    // "079089000123.0": a number written out by a program that printed it as a float.
    let (trimmed, decimal) = match trimmed.strip_suffix(".0").or_else(|| trimmed.strip_suffix(",0")) {
        Some(number) if (10..=12).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit()) => {
            (number, true)
        }
        _ => (trimmed, false),
    };
    let digits: String = trimmed.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}')).collect();
    if !digits.chars().any(|c| c.is_ascii_digit()) {
        return Ok(Fixed::warned(
            None,
            "cccd_not_number",
            "Ô Số CCCD không có chữ số; người này được nhập không có số CCCD.".to_owned(),
            "The CCCD cell holds no digits; the person is imported without a CCCD number.".to_owned(),
        ));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(cccd_format());
    }
    match digits.len() {
        12 if decimal => Ok(Fixed::repaired(
            Some(digits.clone()),
            "cccd_from_number",
            digits,
            "Số CCCD được ghi dạng số thập phân (có “.0” ở cuối); đã bỏ phần “.0”.".to_owned(),
            "The CCCD number was written as a decimal number (ending in “.0”); the “.0” was dropped.".to_owned(),
        )),
        12 => Ok(Fixed::clean(Some(digits))),
        10 | 11 => Ok(leading_zero_repair(&digits)),
        9 => Ok(cmnd_warning()),
        _ => Err(cccd_format()),
    }
}

/// The sex a CCCD encodes (its fourth digit: even male, odd female).
pub fn sex_in_cccd(digits: &str) -> Option<Sex> {
    let d = digits.as_bytes().get(3)?;
    d.is_ascii_digit().then(|| if (d - b'0').is_multiple_of(2) { Sex::Male } else { Sex::Female })
}

// ---------------------------------------------------------------------------------------------
// Dates

fn date_error(field: &str, code: &str, vi: String, en: String) -> FieldError {
    FieldError::new(field, code, vi, en)
}

fn date_format(field: &str) -> FieldError {
    date_error(
        field,
        "date_format",
        "Ngày sinh không đọc được; hãy ghi dạng ngày/tháng/năm (ví dụ 03/04/1990) hoặc chỉ năm sinh.".to_owned(),
        "The birth date cannot be read; write it day/month/year (e.g. 03/04/1990) or just the year.".to_owned(),
    )
}

fn date_invalid(field: &str, shown: &str) -> FieldError {
    date_error(
        field,
        "date_invalid",
        format!("Ngày sinh {shown} không có thật (ngày hoặc tháng sai)."),
        format!("The birth date {shown} does not exist (wrong day or month)."),
    )
}

/// The first serial number Excel shows as 1 January 1900; Excel's serials count the
/// non-existent 29 February 1900 (serial 60), so later serials are one day ahead.
pub fn excel_serial_to_ymd(serial: i64) -> Option<(i32, u32, u32)> {
    use chrono::Datelike;
    if !(1..=2_958_465).contains(&serial) {
        return None;
    }
    if serial == 60 {
        return Some((1900, 2, 29));
    }
    let base =
        if serial < 60 { NaiveDate::from_ymd_opt(1899, 12, 31)? } else { NaiveDate::from_ymd_opt(1899, 12, 30)? };
    let date = base.checked_add_days(chrono::Days::new(serial.unsigned_abs()))?;
    Some((date.year(), date.month(), date.day()))
}

fn checked_date(field: &str, year: i32, month: u32, day: u32) -> Result<PartialDate, FieldError> {
    let shown = format!("{day:02}/{month:02}/{year:04}");
    if year == 1900 && month == 2 && day == 29 {
        return Err(date_error(
            field,
            "date_invalid",
            "Ngày 29/02/1900 không có thật (lỗi lịch của Excel); hãy ghi lại ngày sinh.".to_owned(),
            "29/02/1900 never existed (Excel's calendar bug); write the birth date again.".to_owned(),
        ));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| date_invalid(field, &shown))?;
    Ok(PartialDate { year, month: Some(month), day: Some(day) })
}

fn serial_date(field: &str, serial: i64, shown: &str) -> Result<Fixed<PartialDate>, FieldError> {
    let (y, m, d) = excel_serial_to_ymd(serial).ok_or_else(|| date_format(field))?;
    let date = checked_date(field, y, m, d)?;
    Ok(Fixed::repaired(
        date,
        "date_from_serial",
        date.shown(),
        format!("Ngày sinh là số seri của Excel ({shown}); đã đổi thành {}.", date.shown()),
        format!("The birth date was an Excel serial number ({shown}); read as {}.", date.shown()),
    ))
}

/// A year written alone: a whole number from 1800 to 2200 (serial numbers of those days are
/// dates in 1904–1906, nobody's birth date on a list of living people).
fn plausible_year(n: i64) -> bool {
    (1800..=2200).contains(&n)
}

fn number_date(field: &str, n: f64) -> Result<Fixed<PartialDate>, FieldError> {
    if n.fract() == 0.0 && plausible_year(n as i64) {
        return Ok(Fixed::clean(PartialDate { year: n as i32, month: None, day: None }));
    }
    if n.is_finite() && n >= 1.0 {
        return serial_date(field, n.floor() as i64, &format_float(n));
    }
    Err(date_format(field))
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

fn text_date(field: &str, raw: &str) -> Result<Fixed<PartialDate>, FieldError> {
    let mut t = raw.trim();
    // "03/04/1990 00:00:00" and "1990-04-03T00:00:00": the time is dropped.
    if let Some((date, time)) = t.split_once([' ', 'T'])
        && time.contains(':')
    {
        t = date.trim();
    }
    let t = t.trim_end_matches('.');
    if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
        return match t.len() {
            4 => Ok(Fixed::clean(PartialDate {
                year: t.parse().map_err(|_| date_format(field))?,
                month: None,
                day: None,
            })),
            5 => serial_date(field, t.parse().map_err(|_| date_format(field))?, t),
            8 => compact_date(field, t),
            _ => Err(date_format(field)),
        };
    }
    let parts: Vec<&str> = t.split(['/', '-', '.']).map(str::trim).collect();
    let nums: Option<Vec<u32>> = parts.iter().map(|p| digits(p)).collect();
    let Some(nums) = nums else { return Err(date_format(field)) };
    let four = |i: usize| parts[i].len() == 4;
    match nums.len() {
        // yyyy-mm-dd: the ISO order is unambiguous by its four-digit year first.
        3 if four(0) && parts[1].len() <= 2 && parts[2].len() <= 2 => {
            Ok(Fixed::clean(checked_date(field, nums[0] as i32, nums[1], nums[2])?))
        }
        // dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy: day first, always (never mm/dd).
        3 if four(2) && parts[0].len() <= 2 && parts[1].len() <= 2 => {
            Ok(Fixed::clean(checked_date(field, nums[2] as i32, nums[1], nums[0])?))
        }
        // mm/yyyy, or yyyy-mm.
        2 if four(1) && parts[0].len() <= 2 => month_year(field, nums[1] as i32, nums[0]),
        2 if four(0) && parts[1].len() <= 2 => month_year(field, nums[0] as i32, nums[1]),
        _ => Err(date_format(field)),
    }
}

fn month_year(field: &str, year: i32, month: u32) -> Result<Fixed<PartialDate>, FieldError> {
    if (1..=12).contains(&month) {
        Ok(Fixed::clean(PartialDate { year, month: Some(month), day: None }))
    } else {
        Err(date_invalid(field, &format!("{month:02}/{year:04}")))
    }
}

/// Eight digits: `ddmmyyyy` or `yyyymmdd`, whichever is a real date (refused if both are).
fn compact_date(field: &str, t: &str) -> Result<Fixed<PartialDate>, FieldError> {
    let n = |a: usize, b: usize| t[a..b].parse::<u32>().unwrap_or(0);
    let dmy = checked_date(field, n(4, 8) as i32, n(2, 4), n(0, 2)).ok();
    let ymd = checked_date(field, n(0, 4) as i32, n(4, 6), n(6, 8)).ok();
    match (dmy, ymd) {
        (Some(d), None) | (None, Some(d)) => Ok(Fixed::clean(d)),
        _ => Err(date_format(field)),
    }
}

/// A birth-date cell: a date cell; a number (a year from 1800 to 2200, else an Excel serial
/// number of the 1900 system — reported as a repair); text `dd/mm/yyyy`, `d/m/yyyy`,
/// `dd-mm-yyyy`, `dd.mm.yyyy`, `yyyy-mm-dd`, `mm/yyyy`, a bare year, 8 digits, or 5 digits (a
/// serial, repaired). Day and month are always read in Vietnamese order, day first. Excel's
/// 29/02/1900 (serial 60) and other impossible dates are errors.
pub fn birth_date(field: &str, cell: &CellValue) -> Result<Fixed<PartialDate>, FieldError> {
    match cell {
        CellValue::Date(CellDate { year, month, day }) => Ok(Fixed::clean(checked_date(field, *year, *month, *day)?)),
        CellValue::Int(n) => number_date(field, *n as f64),
        CellValue::Float(f) => number_date(field, *f),
        CellValue::Text(t) => text_date(field, t),
        _ => Err(date_format(field)),
    }
}

/// A birth-year cell: a year as a number or text; a full date written there gives its year.
pub fn birth_year(cell: &CellValue) -> Result<Fixed<i32>, FieldError> {
    let date = birth_date("birth_year", cell)?;
    Ok(Fixed { value: date.value.year, note: date.note })
}

// ---------------------------------------------------------------------------------------------
// Sex

fn sex_format() -> FieldError {
    FieldError::new(
        "sex",
        "sex_format",
        "Giới tính không đọc được; hãy ghi “Nam” hoặc “Nữ”.",
        "The sex cannot be read; write “Nam” (male) or “Nữ” (female).",
    )
}

/// A sex cell: Nam/Nữ with or without accents and in any case, M/F, male/female; digits only
/// when the header gave their meaning (`"Giới tính (1: Nam, 0: Nữ)"`).
pub fn sex(cell: &CellValue, codes: Option<&SexCodes>) -> Result<Sex, FieldError> {
    let raw = cell_text(cell);
    let raw = raw.trim();
    if let Some(codes) = codes {
        if raw == codes.male {
            return Ok(Sex::Male);
        }
        if raw == codes.female {
            return Ok(Sex::Female);
        }
    }
    match fold(raw).trim_end_matches('.') {
        "nam" | "m" | "male" | "nam gioi" | "trai" => Ok(Sex::Male),
        "nu" | "f" | "female" | "nu gioi" | "gai" => Ok(Sex::Female),
        _ => Err(sex_format()),
    }
}

/// What is written in one column of a Nam/Nữ pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairMark {
    /// Nothing: the other column applies.
    Empty,
    /// A mark (`x`, `X`, `✓`, `v`, `1`): the sex only.
    Mark,
    /// The birth date (or year) written under the column that applies.
    Date(PartialDate),
}

/// A cell of a Nam/Nữ column pair.
pub fn pair_mark(field: &str, cell: &CellValue) -> Result<Fixed<PairMark>, FieldError> {
    if cell.is_empty() {
        return Ok(Fixed::clean(PairMark::Empty));
    }
    let raw = cell_text(cell);
    let folded = fold(raw.trim());
    if matches!(folded.as_str(), "x" | "✓" | "✔" | "v" | "1" | "co" | "nam" | "nu") {
        return Ok(Fixed::clean(PairMark::Mark));
    }
    let date = birth_date(field, cell)?;
    Ok(Fixed { value: PairMark::Date(date.value), note: date.note })
}

// ---------------------------------------------------------------------------------------------
// Phone

/// A phone cell through core's [`validate::phone`]; a mobile number that lost its leading 0
/// (nine digits starting 3, 5, 7, 8 or 9, as Excel leaves a number) gets it back, reported.
pub fn phone(cell: &CellValue) -> Result<Fixed<String>, FieldError> {
    let raw = cell_text(cell);
    let raw = raw.trim().trim_start_matches('\'');
    match validate::phone(raw) {
        Ok(phone) => Ok(Fixed::clean(phone)),
        Err(error) => {
            let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
            let lost_zero = digits.len() == 9
                && digits.bytes().all(|b| b.is_ascii_digit())
                && matches!(digits.as_bytes()[0], b'3' | b'5' | b'7' | b'8' | b'9');
            if lost_zero && let Ok(phone) = validate::phone(&format!("0{digits}")) {
                return Ok(Fixed::repaired(
                    phone.clone(),
                    "phone_leading_zero",
                    phone,
                    "Số điện thoại bị mất số 0 ở đầu (Excel coi là số); đã thêm lại.".to_owned(),
                    "The phone number lost its leading 0 (Excel read it as a number); it was added back.".to_owned(),
                ));
            }
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn text_cell(s: &str) -> CellValue {
        CellValue::Text(s.to_owned())
    }

    #[rstest]
    #[case::text(text_cell("001089000123"), Some("001089000123"), None)]
    #[case::spaced(text_cell(" 001 089 000 123 "), Some("001089000123"), None)]
    #[case::dotted(text_cell("001.089.000.123"), Some("001089000123"), None)]
    #[case::dashed(text_cell("001-089-000-123"), Some("001089000123"), None)]
    #[case::apostrophe(text_cell("'079089000123"), Some("079089000123"), None)]
    #[case::number_12(CellValue::Float(123_089_000_123.0), Some("123089000123"), None)]
    #[case::int_12(CellValue::Int(123_089_000_123), Some("123089000123"), None)]
    #[case::lost_zero_number(CellValue::Float(79_089_000_123.0), Some("079089000123"), Some("cccd_leading_zero"))]
    #[case::lost_two_zeros(CellValue::Int(1_089_000_123), Some("001089000123"), Some("cccd_leading_zero"))]
    #[case::lost_zero_text(text_cell("79089000123"), Some("079089000123"), Some("cccd_leading_zero"))]
    #[case::decimal_text(text_cell("123089000123.0"), Some("123089000123"), Some("cccd_from_number"))]
    #[case::decimal_lost_zero(text_cell("79089000123.0"), Some("079089000123"), Some("cccd_leading_zero"))]
    #[case::cmnd(text_cell("012345678"), None, Some("cmnd_not_cccd"))]
    #[case::cmnd_number(CellValue::Int(212_345_678), None, Some("cmnd_not_cccd"))]
    #[case::note(text_cell("Chưa có"), None, Some("cccd_not_number"))]
    #[case::empty(CellValue::Empty, None, None)]
    fn cccd_reads_and_repairs(#[case] cell: CellValue, #[case] value: Option<&str>, #[case] note: Option<&str>) {
        let fixed = cccd(&cell).unwrap();
        assert_eq!(fixed.value.as_deref(), value);
        assert_eq!(fixed.note.as_ref().map(|n| n.code), note);
        if let Some(n) = &fixed.note
            && n.severity == Severity::Repaired
        {
            assert_eq!(n.fixed.as_deref(), value);
        }
    }

    #[rstest]
    #[case::sci_comma(text_cell("1,23457E+11"), "cccd_scientific")]
    #[case::sci_dot(text_cell("1.2E+11"), "cccd_scientific")]
    #[case::sci_lower(text_cell("7.90891e+10"), "cccd_scientific")]
    #[case::rounded_number(CellValue::Float(123_457_000_000.0), "cccd_scientific")]
    #[case::rounded_lost_zero(CellValue::Float(79_089_000_000.0), "cccd_scientific")]
    #[case::fraction(CellValue::Float(1.5), "cccd_format")]
    #[case::too_long(text_cell("0010890001234"), "cccd_format")]
    #[case::too_short(text_cell("12345"), "cccd_format")]
    #[case::letters(text_cell("00108900012A"), "cccd_format")]
    #[case::date(CellValue::Date(CellDate { year: 1990, month: 1, day: 1 }), "cccd_format")]
    fn cccd_errors(#[case] cell: CellValue, #[case] code: &str) {
        let error = cccd(&cell).unwrap_err();
        assert_eq!((error.field.as_str(), error.code.as_str()), ("cccd", code));
        if code == "cccd_scientific" {
            assert!(error.message_vi.contains("Văn bản (Text)"), "{}", error.message_vi);
        }
    }

    #[rstest]
    #[case::serial_1(1, (1900, 1, 1))]
    #[case::serial_59(59, (1900, 2, 28))]
    #[case::serial_60(60, (1900, 2, 29))]
    #[case::serial_61(61, (1900, 3, 1))]
    #[case::serial_32874(32874, (1990, 1, 1))]
    #[case::serial_45658(45658, (2025, 1, 1))]
    fn excel_serials(#[case] serial: i64, #[case] ymd: (i32, u32, u32)) {
        assert_eq!(excel_serial_to_ymd(serial), Some(ymd));
    }

    fn date(y: i32, m: Option<u32>, d: Option<u32>) -> PartialDate {
        PartialDate { year: y, month: m, day: d }
    }

    #[rstest]
    #[case::dmy(text_cell("03/04/1990"), date(1990, Some(4), Some(3)), None)]
    #[case::dmy_not_mdy(text_cell("13/04/1990"), date(1990, Some(4), Some(13)), None)]
    #[case::d_m_y(text_cell("3/4/1990"), date(1990, Some(4), Some(3)), None)]
    #[case::dashes(text_cell("03-04-1990"), date(1990, Some(4), Some(3)), None)]
    #[case::dots(text_cell("03.04.1990"), date(1990, Some(4), Some(3)), None)]
    #[case::iso(text_cell("1990-04-03"), date(1990, Some(4), Some(3)), None)]
    #[case::with_time(text_cell("03/04/1990 00:00:00"), date(1990, Some(4), Some(3)), None)]
    #[case::iso_time(text_cell("1990-04-03T00:00:00"), date(1990, Some(4), Some(3)), None)]
    #[case::year(text_cell("1990"), date(1990, None, None), None)]
    #[case::month_year(text_cell("04/1990"), date(1990, Some(4), None), None)]
    #[case::compact(text_cell("03041990"), date(1990, Some(4), Some(3)), None)]
    #[case::year_number(CellValue::Int(1990), date(1990, None, None), None)]
    #[case::year_float(CellValue::Float(1990.0), date(1990, None, None), None)]
    #[case::date_cell(CellValue::Date(CellDate { year: 1990, month: 4, day: 3 }), date(1990, Some(4), Some(3)), None)]
    #[case::serial_number(CellValue::Float(32966.0), date(1990, Some(4), Some(3)), Some("date_from_serial"))]
    #[case::serial_with_time(CellValue::Float(32966.75), date(1990, Some(4), Some(3)), Some("date_from_serial"))]
    #[case::serial_text(text_cell("32966"), date(1990, Some(4), Some(3)), Some("date_from_serial"))]
    fn dates_read_day_first(#[case] cell: CellValue, #[case] expected: PartialDate, #[case] note: Option<&str>) {
        let fixed = birth_date("birth_date", &cell).unwrap();
        assert_eq!(fixed.value, expected);
        assert_eq!(fixed.note.as_ref().map(|n| n.code), note);
    }

    #[rstest]
    #[case::feb_30(text_cell("30/02/1990"), "date_invalid")]
    #[case::month_13(text_cell("04/13/1990"), "date_invalid")]
    #[case::fake_leap_day_serial(CellValue::Int(60), "date_invalid")]
    #[case::fake_leap_day_text(text_cell("29/02/1900"), "date_invalid")]
    #[case::fake_leap_day_cell(CellValue::Date(CellDate { year: 1900, month: 2, day: 29 }), "date_invalid")]
    #[case::two_digit_year(text_cell("03/04/90"), "date_format")]
    #[case::words(text_cell("ngày 3 tháng 4"), "date_format")]
    #[case::month_year_13(text_cell("13/1990"), "date_invalid")]
    fn bad_dates(#[case] cell: CellValue, #[case] code: &str) {
        assert_eq!(birth_date("birth_date", &cell).unwrap_err().code, code);
    }

    #[test]
    fn real_leap_days_are_fine() {
        assert!(birth_date("birth_date", &text_cell("29/02/2000")).is_ok());
        assert_eq!(birth_date("birth_date", &text_cell("29/02/1990")).unwrap_err().code, "date_invalid");
    }

    #[rstest]
    #[case("Nam", Sex::Male)]
    #[case("NAM", Sex::Male)]
    #[case("nam", Sex::Male)]
    #[case("Nữ", Sex::Female)]
    #[case("NỮ", Sex::Female)]
    #[case("nu", Sex::Female)]
    #[case("Nu\u{303}", Sex::Female)]
    #[case("M", Sex::Male)]
    #[case("F", Sex::Female)]
    #[case(" nữ ", Sex::Female)]
    fn sexes(#[case] input: &str, #[case] expected: Sex) {
        assert_eq!(sex(&text_cell(input), None).unwrap(), expected);
    }

    #[test]
    fn digit_sexes_only_with_header_codes() {
        let codes = SexCodes { male: "1".into(), female: "0".into() };
        assert_eq!(sex(&CellValue::Int(1), Some(&codes)).unwrap(), Sex::Male);
        assert_eq!(sex(&text_cell("0"), Some(&codes)).unwrap(), Sex::Female);
        assert_eq!(sex(&CellValue::Int(1), None).unwrap_err().code, "sex_format");
        assert_eq!(sex(&text_cell("x"), None).unwrap_err().code, "sex_format");
    }

    #[rstest]
    #[case::plain(text_cell("0912345678"), "0912345678", None)]
    #[case::spaced(text_cell("091 234 5678"), "0912345678", None)]
    #[case::intl(text_cell("+84912345678"), "0912345678", None)]
    #[case::lost_zero_number(CellValue::Int(912_345_678), "0912345678", Some("phone_leading_zero"))]
    #[case::lost_zero_text(text_cell("388123456"), "0388123456", Some("phone_leading_zero"))]
    fn phones(#[case] cell: CellValue, #[case] expected: &str, #[case] note: Option<&str>) {
        let fixed = phone(&cell).unwrap();
        assert_eq!(fixed.value, expected);
        assert_eq!(fixed.note.as_ref().map(|n| n.code), note);
    }

    #[rstest]
    #[case(text_cell("112345678"))]
    #[case(text_cell("0912"))]
    #[case(text_cell("không có"))]
    fn bad_phones(#[case] cell: CellValue) {
        assert_eq!(phone(&cell).unwrap_err().code, "phone_format");
    }

    #[test]
    fn pair_marks() {
        assert_eq!(pair_mark("birth_date", &text_cell("x")).unwrap().value, PairMark::Mark);
        assert_eq!(pair_mark("birth_date", &CellValue::Empty).unwrap().value, PairMark::Empty);
        assert_eq!(pair_mark("birth_date", &text_cell("1992")).unwrap().value, PairMark::Date(date(1992, None, None)));
        assert_eq!(pair_mark("birth_date", &text_cell("abc")).unwrap_err().code, "date_format");
    }

    #[rstest]
    #[case::tcvn3_name("Lß V¨n Phãng", false)]
    #[case::tcvn3_dd("§Æng ThÞ Hoa", false)]
    #[case::unicode("Lò Văn Phóng", true)]
    #[case::unicode_caps("ĐẶNG THỊ HOA", true)]
    fn legacy_fonts_are_refused(#[case] input: &str, #[case] ok: bool) {
        let result = text("full_name", ("Họ và tên", "full name"), &text_cell(input));
        assert_eq!(result.is_ok(), ok, "{input}");
        if let Err(e) = result {
            assert_eq!(e.code, "legacy_font_encoding");
            assert!(e.message_vi.contains("TCVN3"));
        }
    }

    #[test]
    fn text_cells_come_out_nfc_and_refuse_bidi() {
        let label = ("Địa chỉ", "address");
        let nfd = "Ấp Mỹ Lợi".chars().collect::<String>();
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(nfd.as_str()).collect();
        assert_eq!(text("address", label, &text_cell(&nfd)).unwrap(), "Ấp Mỹ Lợi");
        let error = text("address", label, &text_cell("Ấp \u{202E}Mỹ")).unwrap_err();
        assert_eq!(error.code, "forbidden_character");
        assert!(error.message_vi.contains("U+202E"));
    }
}
