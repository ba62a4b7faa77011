//! Field-level validation of what volunteers type and offices import: CCCD numbers, phone
//! numbers, birth years, names, and free text (clean characters, NFC).

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::event::GeoPosition;
use crate::model::Sex;

/// One problem with one input field, in Vietnamese first and English second.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field, as named in the payload (`cccd`, `birth_year`, …).
    pub field: String,
    /// A stable machine code (`cccd_birth_year_mismatch`, …) the UI can switch on.
    pub code: String,
    /// The message shown to the user.
    pub message_vi: String,
    /// The same message in English.
    pub message_en: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: &str, code: &str, message_vi: impl Into<String>, message_en: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message_vi: message_vi.into(),
            message_en: message_en.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message_vi, self.message_en)
    }
}

/// The earliest birth year accepted.
pub const MIN_BIRTH_YEAR: i32 = 1900;

/// Checks a birth year against the range [1900, `current_year`].
pub fn birth_year(year: i32, current_year: i32) -> Result<i32, FieldError> {
    if (MIN_BIRTH_YEAR..=current_year).contains(&year) {
        Ok(year)
    } else {
        Err(FieldError::new(
            "birth_year",
            "birth_year_out_of_range",
            format!("Năm sinh phải từ {MIN_BIRTH_YEAR} đến {current_year}."),
            format!("Birth year must be between {MIN_BIRTH_YEAR} and {current_year}."),
        ))
    }
}

/// A text field's name in messages: Vietnamese, English.
pub type Label = (&'static str, &'static str);

/// Whether a character may not stand in free text: control characters (NUL, escape, DEL, the
/// C1 range) and the bidirectional embeddings, overrides and isolates, which can make a name
/// display as something else than it is. Tabs and line breaks are whitespace, not refused.
pub fn is_forbidden_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn refuse_forbidden(field: &str, label: Label, text: &str) -> Result<(), FieldError> {
    match text.chars().find(|c| is_forbidden_char(*c)) {
        None => Ok(()),
        Some(c) => Err(FieldError::new(
            field,
            "forbidden_character",
            format!("{} có ký tự không hợp lệ (U+{:04X}); hãy gõ lại.", label.0, u32::from(c)),
            format!("The {} holds a character that is not allowed (U+{:04X}); type it again.", label.1, u32::from(c)),
        )),
    }
}

/// One line of free text (a name, an address, an imported cell): refused if it holds a
/// forbidden character; else NFC, every run of whitespace one space, trimmed. May be empty.
pub fn text_line(field: &str, label: Label, input: &str) -> Result<String, FieldError> {
    refuse_forbidden(field, label, input)?;
    let nfc: String = input.nfc().collect();
    Ok(nfc.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Several lines of free text (a note): as [`text_line`] line by line, line breaks kept
/// (`\r\n` read as one), blank lines at either end dropped.
pub fn text_block(field: &str, label: Label, input: &str) -> Result<String, FieldError> {
    refuse_forbidden(field, label, input)?;
    let lines: Vec<String> = input.lines().map(|line| text_line(field, label, line)).collect::<Result<_, _>>()?;
    Ok(lines.join("\n").trim_matches('\n').to_owned())
}

/// Checks a person's full name: clean text, not blank, at most 100 characters; returns it
/// NFC and trimmed.
pub fn full_name(name: &str) -> Result<String, FieldError> {
    let trimmed = text_line("full_name", ("Họ và tên", "full name"), name)?;
    if trimmed.is_empty() {
        return Err(FieldError::new("full_name", "required", "Chưa nhập họ và tên.", "The full name is missing."));
    }
    if trimmed.chars().count() > 100 {
        return Err(FieldError::new(
            "full_name",
            "too_long",
            "Họ và tên dài quá 100 ký tự.",
            "The full name is longer than 100 characters.",
        ));
    }
    Ok(trimmed)
}

/// Checks a 12-digit CCCD (citizen ID) number against the recorded birth year and sex.
///
/// Structure: 3 digits of the birth-registration province, 1 digit for sex and century
/// (0/1 = male/female born 1900–1999, 2/3 = 2000–2099, 4/5 = 2100–2199, …), 2 digits for the
/// last two digits of the birth year, 6 digits of serial. Spaces and dots are ignored.
pub fn cccd(input: &str, birth_year: i32, sex: Sex) -> Result<String, FieldError> {
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            "cccd",
            "cccd_format",
            "Số CCCD phải gồm đúng 12 chữ số.",
            "A CCCD number must be exactly 12 digits.",
        ));
    }
    let b = digits.as_bytes();
    let gender_century = i32::from(b[3] - b'0');
    let yy = i32::from(b[4] - b'0') * 10 + i32::from(b[5] - b'0');
    let century_start = 1900 + (gender_century / 2) * 100;
    let sex_in_cccd = if gender_century % 2 == 0 { Sex::Male } else { Sex::Female };
    let year_in_cccd = century_start + yy;
    if year_in_cccd != birth_year {
        return Err(FieldError::new(
            "cccd",
            "cccd_birth_year_mismatch",
            format!("Số CCCD ứng với năm sinh {year_in_cccd}, không khớp năm sinh đã ghi {birth_year}."),
            format!("The CCCD number encodes birth year {year_in_cccd}, not the recorded {birth_year}."),
        ));
    }
    if sex_in_cccd != sex {
        return Err(FieldError::new(
            "cccd",
            "cccd_sex_mismatch",
            format!("Số CCCD ứng với giới tính {}, không khớp giới tính đã ghi.", sex_in_cccd.label_vi()),
            format!("The CCCD number encodes sex {}, not the recorded one.", sex_in_cccd.label_en()),
        ));
    }
    Ok(digits)
}

/// Bounds of a visit's position: latitude and longitude in millionths of a degree, the
/// accuracy in metres (a fix worse than 100 km says nothing about a door).
pub const LATITUDE_E6: std::ops::RangeInclusive<i32> = -90_000_000..=90_000_000;
/// See [`LATITUDE_E6`].
pub const LONGITUDE_E6: std::ops::RangeInclusive<i32> = -180_000_000..=180_000_000;
/// See [`LATITUDE_E6`].
pub const ACCURACY_M: std::ops::RangeInclusive<u32> = 1..=100_000;

/// Checks the phone's position a visit carries: a latitude and longitude on the globe, and an
/// accuracy from 1 m to 100 km.
pub fn position(p: &GeoPosition) -> Result<(), FieldError> {
    if !LATITUDE_E6.contains(&p.lat_e6) {
        return Err(FieldError::new(
            "position",
            "latitude_out_of_range",
            "Vĩ độ của vị trí phải từ -90 đến 90 độ.",
            "The position's latitude must be between -90 and 90 degrees.",
        ));
    }
    if !LONGITUDE_E6.contains(&p.lon_e6) {
        return Err(FieldError::new(
            "position",
            "longitude_out_of_range",
            "Kinh độ của vị trí phải từ -180 đến 180 độ.",
            "The position's longitude must be between -180 and 180 degrees.",
        ));
    }
    if !ACCURACY_M.contains(&p.accuracy_m) {
        return Err(FieldError::new(
            "position",
            "accuracy_out_of_range",
            "Độ chính xác của vị trí phải từ 1 m đến 100 km.",
            "The position's accuracy must be between 1 m and 100 km.",
        ));
    }
    Ok(())
}

/// Checks a Vietnamese phone number and returns it in domestic form (`0` + 9 digits for
/// mobiles, `02` + 9 digits for landlines). Accepts `+84`/`84` prefixes, spaces, dots, dashes.
pub fn phone(input: &str) -> Result<String, FieldError> {
    let raw: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    let national = if let Some(rest) = raw.strip_prefix("+84") {
        format!("0{rest}")
    } else if raw.len() >= 11 && raw.starts_with("84") && !raw.starts_with("840") {
        format!("0{}", &raw[2..])
    } else {
        raw
    };
    let all_digits = !national.is_empty() && national.bytes().all(|b| b.is_ascii_digit());
    let mobile = national.len() == 10 && matches!(national.as_bytes().get(1), Some(b'3' | b'5' | b'7' | b'8' | b'9'));
    let landline = national.len() == 11 && national.starts_with("02");
    if all_digits && national.starts_with('0') && (mobile || landline) {
        Ok(national)
    } else {
        Err(FieldError::new(
            "phone",
            "phone_format",
            "Số điện thoại không hợp lệ: di động gồm 10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09.",
            "Invalid phone number: a mobile number has 10 digits starting with 03, 05, 07, 08 or 09.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::male_1900s("012089000123", 1989, Sex::Male)]
    #[case::female_1900s("012189000123", 1989, Sex::Female)]
    #[case::male_2000s("001205000001", 2005, Sex::Male)]
    #[case::female_2000s("001305000001", 2005, Sex::Female)]
    #[case::year_1900("079000123456", 1900, Sex::Male)]
    #[case::with_spaces("012 089 000 123", 1989, Sex::Male)]
    fn accepts_matching_cccd(#[case] input: &str, #[case] year: i32, #[case] sex: Sex) {
        let out = cccd(input, year, sex).unwrap();
        assert_eq!(out.len(), 12);
        assert!(out.bytes().all(|b| b.is_ascii_digit()));
    }

    #[rstest]
    #[case::short("01208900012", 1989, Sex::Male, "cccd_format")]
    #[case::long("0120890001234", 1989, Sex::Male, "cccd_format")]
    #[case::letters("01208900012A", 1989, Sex::Male, "cccd_format")]
    #[case::year_digits("012088000123", 1989, Sex::Male, "cccd_birth_year_mismatch")]
    #[case::century("012289000123", 1989, Sex::Male, "cccd_birth_year_mismatch")]
    #[case::century_2000s("012005000123", 2005, Sex::Male, "cccd_birth_year_mismatch")]
    #[case::sex("012089000123", 1989, Sex::Female, "cccd_sex_mismatch")]
    #[case::sex_2000s("001305000001", 2005, Sex::Male, "cccd_sex_mismatch")]
    fn refuses_bad_cccd(#[case] input: &str, #[case] year: i32, #[case] sex: Sex, #[case] code: &str) {
        let err = cccd(input, year, sex).unwrap_err();
        assert_eq!(err.field, "cccd");
        assert_eq!(err.code, code);
        assert!(!err.message_vi.is_empty() && !err.message_en.is_empty());
    }

    #[test]
    fn mismatch_message_names_both_years() {
        let err = cccd("012088000123", 1989, Sex::Male).unwrap_err();
        assert!(err.message_vi.contains("1988") && err.message_vi.contains("1989"), "{}", err.message_vi);
    }

    #[rstest]
    #[case("0912345678", "0912345678")]
    #[case("091 234 5678", "0912345678")]
    #[case("+84 912 345 678", "0912345678")]
    #[case("84912345678", "0912345678")]
    #[case("0388.123.456", "0388123456")]
    #[case("02133876543", "02133876543")]
    fn accepts_phones(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(phone(input).unwrap(), expected);
    }

    #[rstest]
    #[case("")]
    #[case("091234567")]
    #[case("09123456789")]
    #[case("0112345678")]
    #[case("0612345678")]
    #[case("12345678901")]
    #[case("09123a5678")]
    fn refuses_phones(#[case] input: &str) {
        assert_eq!(phone(input).unwrap_err().code, "phone_format");
    }

    #[rstest]
    #[case(1900, true)]
    #[case(1899, false)]
    #[case(2026, true)]
    #[case(2027, false)]
    fn birth_year_range(#[case] year: i32, #[case] ok: bool) {
        assert_eq!(birth_year(year, 2026).is_ok(), ok);
    }

    #[rstest]
    #[case::nul("Lò\0 Thị Lan", 0x0)]
    #[case::escape("Lò \u{1b}[31mThị", 0x1b)]
    #[case::delete("Lò Thị\u{7f}", 0x7f)]
    #[case::c1("Lò\u{85}Thị", 0x85)]
    #[case::override_rtl("Lò \u{202E}naL ịhT", 0x202e)]
    #[case::isolate("\u{2067}Lò Thị Lan", 0x2067)]
    fn names_with_control_or_bidi_characters_are_refused_by_name(#[case] input: &str, #[case] code: u32) {
        let error = full_name(input).unwrap_err();
        assert_eq!((error.field.as_str(), error.code.as_str()), ("full_name", "forbidden_character"));
        assert!(error.message_vi.contains(&format!("U+{code:04X}")), "{}", error.message_vi);
        assert!(error.message_vi.starts_with("Họ và tên"), "{}", error.message_vi);
    }

    #[test]
    fn free_text_comes_out_nfc_with_tabs_and_breaks_as_whitespace() {
        let nfd: String = "Nguyễn Thị\tÁnh  Tuyết ".nfd().collect();
        let name = full_name(&nfd).unwrap();
        assert_eq!(name, "Nguyễn Thị Ánh Tuyết");
        assert_eq!(name, name.nfc().collect::<String>(), "NFC");
        assert_ne!(nfd.len(), "Nguyễn Thị\tÁnh  Tuyết ".len(), "the input really was decomposed");
        let label = ("Ghi chú", "note");
        assert_eq!(text_block("note", label, "\r\n  hẹn  lại\r\nsáng mai \n\n").unwrap(), "hẹn lại\nsáng mai");
        assert_eq!(text_block("note", label, "a\u{0}b").unwrap_err().code, "forbidden_character");
        assert_eq!(text_line("address", ("Địa chỉ", "address"), " \t ").unwrap(), "");
    }

    #[test]
    fn names_are_trimmed_and_required() {
        assert_eq!(full_name("  Lò   Văn Phóng ").unwrap(), "Lò Văn Phóng");
        assert_eq!(full_name("   ").unwrap_err().code, "required");
        assert_eq!(full_name(&"a".repeat(101)).unwrap_err().code, "too_long");
    }

    #[rstest]
    #[case::hanoi(21_028_500, 105_854_200, 15, None)]
    #[case::poles_and_date_line(-90_000_000, 180_000_000, 1, None)]
    #[case::far_edge(90_000_000, -180_000_000, 100_000, None)]
    #[case::latitude_north(90_000_001, 105_854_200, 15, Some("latitude_out_of_range"))]
    #[case::latitude_south(i32::MIN, 105_854_200, 15, Some("latitude_out_of_range"))]
    #[case::longitude(21_028_500, 180_000_001, 15, Some("longitude_out_of_range"))]
    #[case::longitude_west(21_028_500, -180_000_001, 15, Some("longitude_out_of_range"))]
    #[case::no_accuracy(21_028_500, 105_854_200, 0, Some("accuracy_out_of_range"))]
    #[case::vague(21_028_500, 105_854_200, 100_001, Some("accuracy_out_of_range"))]
    fn positions_are_checked(
        #[case] lat_e6: i32,
        #[case] lon_e6: i32,
        #[case] accuracy_m: u32,
        #[case] code: Option<&str>,
    ) {
        let result = position(&GeoPosition { lat_e6, lon_e6, accuracy_m });
        match code {
            None => assert_eq!(result, Ok(())),
            Some(code) => {
                let error = result.unwrap_err();
                assert_eq!((error.field.as_str(), error.code.as_str()), ("position", code));
                assert!(error.message_vi.contains("vị trí") && error.message_en.contains("position"), "{error}");
            }
        }
    }
}
