//! Recognising a list's columns: the header row (wherever it sits under the title rows), which
//! column holds which field, and [`Layout`]s that remember an officer's choice for the next file
//! with the same headers.

use std::collections::BTreeMap;

use gocua_core::text::fold;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ImportError;
use crate::read::{CellValue, ReadOptions, Row, Table, read_table, read_table_with};

/// How many rows from the top are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 25;

/// A field the importer knows how to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// STT / TT: the running number, ignored.
    Stt,
    /// Họ và tên.
    FullName,
    /// Ngày sinh (a full date, a month and year, or a year).
    BirthDate,
    /// Năm sinh.
    BirthYear,
    /// Giới tính.
    Sex,
    /// A "Nam" column of a Nam/Nữ pair: a mark or the birth date written under the one that applies.
    MaleColumn,
    /// The "Nữ" column of the pair.
    FemaleColumn,
    /// Số CCCD / số định danh cá nhân.
    Cccd,
    /// Số điện thoại.
    Phone,
    /// Địa chỉ / nơi ở hiện tại / nơi thường trú.
    Address,
    /// Thôn / ấp / bản / tổ dân phố / khu phố.
    Hamlet,
    /// Mã hộ / số hộ / số sổ hộ khẩu.
    HouseholdKey,
    /// Chủ hộ (the head's name).
    HeadName,
    /// Quan hệ với chủ hộ.
    Relation,
    /// Tình trạng / trạng thái / ghi chú: which list the person is on.
    ListKind,
}

impl Field {
    /// Every field, in the order a UI lists them.
    pub const ALL: [Field; 15] = [
        Field::Stt,
        Field::FullName,
        Field::BirthDate,
        Field::BirthYear,
        Field::Sex,
        Field::MaleColumn,
        Field::FemaleColumn,
        Field::Cccd,
        Field::Phone,
        Field::Address,
        Field::Hamlet,
        Field::HouseholdKey,
        Field::HeadName,
        Field::Relation,
        Field::ListKind,
    ];

    /// Stable code (as serialized).
    pub fn code(self) -> &'static str {
        match self {
            Field::Stt => "stt",
            Field::FullName => "full_name",
            Field::BirthDate => "birth_date",
            Field::BirthYear => "birth_year",
            Field::Sex => "sex",
            Field::MaleColumn => "male_column",
            Field::FemaleColumn => "female_column",
            Field::Cccd => "cccd",
            Field::Phone => "phone",
            Field::Address => "address",
            Field::Hamlet => "hamlet",
            Field::HouseholdKey => "household_key",
            Field::HeadName => "head_name",
            Field::Relation => "relation",
            Field::ListKind => "list_kind",
        }
    }

    /// The field's name in Vietnamese.
    pub fn label_vi(self) -> &'static str {
        match self {
            Field::Stt => "STT",
            Field::FullName => "Họ và tên",
            Field::BirthDate => "Ngày sinh",
            Field::BirthYear => "Năm sinh",
            Field::Sex => "Giới tính",
            Field::MaleColumn => "Cột Nam",
            Field::FemaleColumn => "Cột Nữ",
            Field::Cccd => "Số CCCD",
            Field::Phone => "Số điện thoại",
            Field::Address => "Địa chỉ",
            Field::Hamlet => "Thôn/ấp/bản/tổ dân phố",
            Field::HouseholdKey => "Mã hộ",
            Field::HeadName => "Chủ hộ",
            Field::Relation => "Quan hệ với chủ hộ",
            Field::ListKind => "Tình trạng",
        }
    }

    /// The field's name in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Field::Stt => "row number",
            Field::FullName => "full name",
            Field::BirthDate => "birth date",
            Field::BirthYear => "birth year",
            Field::Sex => "sex",
            Field::MaleColumn => "male column",
            Field::FemaleColumn => "female column",
            Field::Cccd => "CCCD number",
            Field::Phone => "phone number",
            Field::Address => "address",
            Field::Hamlet => "hamlet",
            Field::HouseholdKey => "household code",
            Field::HeadName => "head of household",
            Field::Relation => "relation to the head",
            Field::ListKind => "status",
        }
    }

    /// Header texts (folded, punctuation as spaces) that name this field. Those of
    /// [`Field::MaleColumn`] and [`Field::FemaleColumn`] match only exactly.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Stt => &["stt", "tt", "so tt", "so thu tu"],
            Field::FullName => &[
                "ho va ten",
                "ho ten",
                "ho chu dem va ten",
                "ho chu dem ten",
                "ho va ten cong dan",
                "ho ten cong dan",
                "ten cong dan",
            ],
            Field::BirthDate => {
                &["ngay sinh", "ngay thang nam sinh", "ngay thang sinh", "sinh ngay", "ngay sinh dd mm yyyy"]
            }
            Field::BirthYear => &["nam sinh"],
            Field::Sex => &["gioi tinh", "gioi", "phai"],
            Field::MaleColumn => &["nam"],
            Field::FemaleColumn => &["nu"],
            Field::Cccd => &[
                "so cccd",
                "cccd",
                "so dinh danh",
                "so dinh danh ca nhan",
                "ma dinh danh",
                "ma so dinh danh",
                "so ddcn",
                "cccd cmnd",
                "so cccd cmnd",
                "cmnd cccd",
                "so cmnd cccd",
                "so can cuoc",
                "so can cuoc cong dan",
                "can cuoc cong dan",
                "so cccd dinh danh",
            ],
            Field::Phone => &["so dien thoai", "sdt", "so dt", "dien thoai", "dt", "so dien thoai lien he"],
            Field::Address => &[
                "dia chi",
                "noi o hien tai",
                "noi o hien nay",
                "noi thuong tru",
                "cho o hien nay",
                "cho o hien tai",
                "noi cu tru",
                "dia chi thuong tru",
                "dia chi cu tru",
                "noi o",
            ],
            Field::Hamlet => &[
                "thon",
                "ap",
                "ban",
                "xom",
                "to",
                "to dan pho",
                "khu pho",
                "thon ap",
                "thon to",
                "thon ban",
                "thon xom",
                "ap khu pho",
                "thon to dan pho",
                "to dan pho khu pho",
                "ten thon",
                "ten ap",
                "thon ban to dan pho",
            ],
            Field::HouseholdKey => &["ma ho", "so ho", "so so ho khau", "so ho khau", "ma ho gia dinh", "ma so ho"],
            Field::HeadName => &["chu ho", "ho ten chu ho", "ho va ten chu ho", "ten chu ho"],
            Field::Relation => &["quan he voi chu ho", "quan he", "qh voi chu ho", "quan he chu ho", "qh chu ho"],
            Field::ListKind => &[
                "tinh trang",
                "trang thai",
                "ghi chu",
                "tinh trang tai khoan",
                "trang thai tai khoan",
                "tinh trang dinh danh",
                "tinh trang kich hoat",
                "trang thai dinh danh",
            ],
        }
    }

    fn exact_only(self) -> bool {
        matches!(self, Field::MaleColumn | Field::FemaleColumn | Field::Stt)
    }
}

/// A header's text folded for matching: accents, case, Unicode form and punctuation dropped,
/// whitespace runs one space (`"Ngày, tháng, năm sinh"` → `"ngay thang nam sinh"`).
pub fn fold_header(text: &str) -> String {
    let folded = fold(text);
    let spaced: String = folded.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The field a header names: an exact alias, else the longest alias the header starts with
/// (`"Giới tính (1: Nam, 0: Nữ)"` is the sex; `"Họ tên chủ hộ"` the head, not the person).
pub fn match_header(text: &str) -> Option<Field> {
    let folded = fold_header(text);
    if folded.is_empty() {
        return None;
    }
    let mut best: Option<(Field, usize)> = None;
    for field in Field::ALL {
        for alias in field.aliases() {
            let hit = if folded == *alias {
                Some(alias.len() + 1000)
            } else if !field.exact_only()
                && folded.len() > alias.len()
                && folded.starts_with(alias)
                && folded.as_bytes()[alias.len()] == b' '
            {
                Some(alias.len())
            } else {
                None
            };
            if let Some(score) = hit
                && best.is_none_or(|(_, s)| score > s)
            {
                best = Some((field, score));
            }
        }
    }
    best.map(|(field, _)| field)
}

/// How a sex column codes its values when the header says so (`"Giới tính (1: Nam, 0: Nữ)"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SexCodes {
    /// The value that means male.
    pub male: String,
    /// The value that means female.
    pub female: String,
}

/// Reads digit codes out of a sex header: "1: Nam, 0: Nữ" (digits before both words) or
/// "Nam = 1, Nữ = 2" (digits after both).
fn sex_codes(header: &str) -> Option<SexCodes> {
    let folded = fold_header(header);
    let words: Vec<&str> = folded.split(' ').collect();
    let is_digit = |w: &&str| w.len() == 1 && w.as_bytes()[0].is_ascii_digit();
    let near = |word: &str, offset: isize| -> Option<String> {
        let at = words.iter().position(|w| *w == word)?;
        let i = at.checked_add_signed(offset)?;
        words.get(i).filter(|w| is_digit(w)).map(|w| (*w).to_owned())
    };
    let (male, female) = match (near("nam", -1), near("nu", -1)) {
        (Some(m), Some(f)) => (m, f),
        _ => (near("nam", 1)?, near("nu", 1)?),
    };
    (male != female).then_some(SexCodes { male, female })
}

/// Which column holds which field, as guessed from the header and corrected by the officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMap {
    /// The header row's number as the spreadsheet shows it (1-based).
    pub header_row: u32,
    /// The first row number that may hold data (after the header, a Nam/Nữ sub-header and a
    /// column-numbering row "(1) (2) (3)…").
    pub data_start_row: u32,
    /// Each column's header text as shown (empty when none), from column A.
    pub headers: Vec<String>,
    /// Field → column (0-based).
    pub fields: BTreeMap<Field, usize>,
    /// Columns with a header that matched no field (or a field already taken), for the UI.
    pub unmatched: Vec<usize>,
    /// Codes of the sex column, when its header gives them.
    pub sex_codes: Option<SexCodes>,
}

impl ColumnMap {
    /// The column of a field.
    pub fn column(&self, field: Field) -> Option<usize> {
        self.fields.get(&field).copied()
    }

    /// Maps a field to a column (the officer's correction); a field that had this column loses it.
    pub fn set(&mut self, field: Field, column: usize) {
        self.fields.retain(|_, c| *c != column);
        self.fields.insert(field, column);
        self.unmatched.retain(|c| *c != column);
    }

    /// Unmaps a field.
    pub fn unset(&mut self, field: Field) {
        if let Some(col) = self.fields.remove(&field)
            && self.headers.get(col).is_some_and(|h| !h.trim().is_empty())
        {
            self.unmatched.push(col);
            self.unmatched.sort_unstable();
        }
    }

    /// Replaces every field's column with the officer's choices, one per column from column A
    /// (`None`: the column is not used). Refused whole when a field is given to two columns or
    /// a choice lies beyond the table's columns. The sex codes are read again from the header
    /// when the sex column changed.
    pub fn choose(&mut self, choices: &[Option<Field>]) -> Result<(), ImportError> {
        let mut fields: BTreeMap<Field, usize> = BTreeMap::new();
        for (column, field) in choices.iter().enumerate() {
            let Some(field) = field else { continue };
            if column >= self.headers.len() {
                return Err(ImportError::BadColumnMap { column, width: self.headers.len() });
            }
            if let Some(first) = fields.insert(*field, column) {
                return Err(ImportError::FieldTwice { field: *field, first, second: column });
            }
        }
        let sex_codes = match fields.get(&Field::Sex) {
            Some(c) if self.column(Field::Sex) == Some(*c) => self.sex_codes.clone(),
            Some(c) => sex_codes(&self.headers[*c]),
            None => None,
        };
        self.replace_fields(fields, sex_codes);
        Ok(())
    }

    /// Sets the fields and sex codes; every other column with a header becomes unmatched.
    fn replace_fields(&mut self, fields: BTreeMap<Field, usize>, sex_codes: Option<SexCodes>) {
        self.fields = fields;
        self.sex_codes = sex_codes;
        self.unmatched = (0..self.headers.len())
            .filter(|c| !self.headers[*c].trim().is_empty() && !self.fields.values().any(|f| f == c))
            .collect();
    }

    /// The header text of a column.
    pub fn header(&self, column: usize) -> &str {
        self.headers.get(column).map_or("", String::as_str)
    }

    /// The required fields without a column: the full name; a birth date, a birth year or the
    /// Nam/Nữ pair; the hamlet unless a default hamlet is given for the whole file.
    pub fn missing_required(&self, has_default_hamlet: bool) -> Vec<Field> {
        let mut missing = Vec::new();
        if self.column(Field::FullName).is_none() {
            missing.push(Field::FullName);
        }
        let has_pair = self.column(Field::MaleColumn).is_some() && self.column(Field::FemaleColumn).is_some();
        if self.column(Field::BirthDate).is_none() && self.column(Field::BirthYear).is_none() && !has_pair {
            missing.push(Field::BirthDate);
        }
        if self.column(Field::Hamlet).is_none() && !has_default_hamlet {
            missing.push(Field::Hamlet);
        }
        missing
    }

    /// Fails with [`ImportError::MissingColumns`] when a required field has no column.
    pub fn check_required(&self, has_default_hamlet: bool) -> Result<(), ImportError> {
        let missing = self.missing_required(has_default_hamlet);
        if missing.is_empty() { Ok(()) } else { Err(ImportError::MissingColumns { missing }) }
    }
}

fn cell_text(cell: &CellValue) -> String {
    match cell {
        CellValue::Text(t) => t.clone(),
        CellValue::Empty | CellValue::FormulaWithoutValue => String::new(),
        other => other.shown(),
    }
}

/// Fields the cells of a row name, by column.
pub(crate) fn row_fields(row: &Row) -> Vec<(usize, Field)> {
    row.cells.iter().enumerate().filter_map(|(i, c)| match_header(&cell_text(c)).map(|f| (i, f))).collect()
}

pub(crate) fn is_header_row(fields: &[(usize, Field)]) -> bool {
    let mut distinct: Vec<Field> = fields.iter().map(|(_, f)| *f).filter(|f| *f != Field::Stt).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.contains(&Field::FullName) && distinct.len() >= 2
}

/// A row of column numbers under the header: "(1) (2) (3)" or "1 2 3", at least three cells.
pub(crate) fn is_numbering_row(row: &Row) -> bool {
    let cells: Vec<String> = row.cells.iter().filter(|c| !c.is_empty()).map(cell_text).collect();
    cells.len() >= 3
        && cells.iter().all(|t| {
            let t = t.trim().trim_start_matches('(').trim_end_matches(')');
            !t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Finds the header row and guesses the column of every field it names.
///
/// The header is the first of the top [`HEADER_SEARCH_ROWS`] rows that names the full name and
/// at least one other field; title rows ("CÔNG AN XÃ …", "DANH SÁCH …") and blank rows above it
/// are passed over. A second header row holding "Nam" and "Nữ" (under a merged "Ngày sinh" or
/// "Giới tính") makes the Nam/Nữ pair; a row of column numbers under the header is skipped.
/// When two columns name one field the first keeps it and the other is listed as unmatched.
pub fn detect_columns(table: &Table) -> Result<ColumnMap, ImportError> {
    let top = &table.rows[..table.rows.len().min(HEADER_SEARCH_ROWS)];
    let (index, found) = top
        .iter()
        .enumerate()
        .map(|(i, row)| (i, row_fields(row)))
        .find(|(_, fields)| is_header_row(fields))
        .ok_or(ImportError::NoHeader { rows_searched: HEADER_SEARCH_ROWS })?;
    let header = &table.rows[index];
    let mut headers: Vec<String> = (0..table.width).map(|c| cell_text(header.get(c)).trim().to_owned()).collect();
    let mut fields: BTreeMap<Field, usize> = BTreeMap::new();
    let mut unmatched = Vec::new();
    let claim = |fields: &mut BTreeMap<Field, usize>, field: Field, col: usize| {
        if fields.contains_key(&field) || fields.values().any(|c| *c == col) {
            false
        } else {
            fields.insert(field, col);
            true
        }
    };
    for (col, field) in &found {
        if !claim(&mut fields, *field, *col) {
            unmatched.push(*col);
        }
    }
    let mut next = index + 1;
    let mut data_start_row = header.number + 1;
    // A sub-header: "Nam" and "Nữ" under a merged parent, perhaps with other parts of a
    // two-level header; its cells name fields for columns whose top cell named none.
    if let Some(sub) = table.rows.get(next) {
        let sub_fields = row_fields(sub);
        let has_pair = sub_fields.iter().any(|(_, f)| *f == Field::MaleColumn)
            && sub_fields.iter().any(|(_, f)| *f == Field::FemaleColumn);
        if has_pair {
            for (col, field) in sub_fields {
                let parent = match_header(&headers[col]);
                let parent_is_this = parent == Some(field);
                if matches!(field, Field::MaleColumn | Field::FemaleColumn) {
                    // The pair replaces whatever its merged parent named (birth date or sex).
                    if let Some(parent) = parent
                        && fields.get(&parent) == Some(&col)
                    {
                        fields.remove(&parent);
                    }
                    fields.retain(|_, c| *c != col);
                    fields.insert(field, col);
                    unmatched.retain(|c| *c != col);
                } else if !parent_is_this && parent.is_none() {
                    claim(&mut fields, field, col);
                }
                let sub_text = cell_text(sub.get(col)).trim().to_owned();
                if headers[col].is_empty() {
                    headers[col] = sub_text;
                } else if headers[col] != sub_text {
                    headers[col] = format!("{} / {sub_text}", headers[col]);
                }
            }
            data_start_row = sub.number + 1;
            next += 1;
        }
    }
    if let Some(numbering) = table.rows.get(next)
        && is_numbering_row(numbering)
    {
        data_start_row = numbering.number + 1;
    }
    for (col, text) in headers.iter().enumerate() {
        if !text.is_empty() && !fields.values().any(|c| *c == col) && !unmatched.contains(&col) {
            unmatched.push(col);
        }
    }
    unmatched.sort_unstable();
    unmatched.dedup();
    let sex_codes = fields.get(&Field::Sex).and_then(|c| sex_codes(&headers[*c]));
    Ok(ColumnMap { header_row: header.number, data_start_row, headers, fields, unmatched, sex_codes })
}

/// Reads a list and finds its header: in the sheet named, or else in the first sheet that has
/// one (a workbook often opens on a cover page or a summary sheet before the list). When no
/// sheet has a header, the error is the first sheet's.
pub fn read_list(bytes: &[u8], file_name: &str, sheet: Option<&str>) -> Result<(Table, ColumnMap), ImportError> {
    if let Some(name) = sheet {
        let table = read_table_with(bytes, file_name, &ReadOptions { sheet: Some(name.to_owned()) })?;
        let map = detect_columns(&table)?;
        return Ok((table, map));
    }
    let table = read_table(bytes, file_name)?;
    let first_error = match detect_columns(&table) {
        Ok(map) => return Ok((table, map)),
        Err(e @ ImportError::NoHeader { .. }) => e,
        Err(e) => return Err(e),
    };
    for name in table.sheet_names.iter().filter(|n| Some(n.as_str()) != table.sheet()) {
        let Ok(other) = read_table_with(bytes, file_name, &ReadOptions { sheet: Some(name.clone()) }) else {
            continue;
        };
        if let Ok(map) = detect_columns(&other) {
            return Ok((other, map));
        }
    }
    Err(first_error)
}

/// A remembered column map, keyed by the fingerprint of the headers it was made for: the next
/// file with the same headers maps itself the way the officer corrected the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// [`Layout::fingerprint`] of the headers.
    pub fingerprint: String,
    /// Field → column.
    pub fields: BTreeMap<Field, usize>,
    /// Codes of the sex column.
    pub sex_codes: Option<SexCodes>,
}

impl Layout {
    /// A fingerprint of header texts: folded (accents, case, Unicode form, punctuation and
    /// spacing do not count), trailing empty headers dropped, hashed (SHA-256, hex).
    pub fn fingerprint(headers: &[String]) -> String {
        let mut folded: Vec<String> = headers.iter().map(|h| fold_header(h)).collect();
        while folded.last().is_some_and(String::is_empty) {
            folded.pop();
        }
        let mut hash = Sha256::new();
        hash.update(b"gocua-import/layout/v1");
        for h in &folded {
            hash.update([0x1f]);
            hash.update(h.as_bytes());
        }
        hex::encode(hash.finalize())
    }

    /// Remembers a map (after the officer's corrections).
    pub fn remember(map: &ColumnMap) -> Layout {
        Layout {
            fingerprint: Layout::fingerprint(&map.headers),
            fields: map.fields.clone(),
            sex_codes: map.sex_codes.clone(),
        }
    }

    /// Whether this layout was made for these headers.
    pub fn fits(&self, map: &ColumnMap) -> bool {
        self.fingerprint == Layout::fingerprint(&map.headers)
    }

    /// Applies the layout to a freshly detected map when the headers are the same; returns
    /// whether it did. Columns left without a field become unmatched.
    pub fn apply(&self, map: &mut ColumnMap) -> bool {
        if !self.fits(map) {
            return false;
        }
        if self.fields.values().any(|c| *c >= map.headers.len()) {
            return false;
        }
        map.replace_fields(self.fields.clone(), self.sex_codes.clone());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Source;
    use rstest::rstest;
    use unicode_normalization::UnicodeNormalization;

    #[rstest]
    #[case("Họ và tên", Some(Field::FullName))]
    #[case("HỌ VÀ TÊN", Some(Field::FullName))]
    #[case("Ho va ten", Some(Field::FullName))]
    #[case("  Họ   và\ttên ", Some(Field::FullName))]
    #[case("Họ, chữ đệm và tên", Some(Field::FullName))]
    #[case("Họ tên", Some(Field::FullName))]
    #[case("Họ tên chủ hộ", Some(Field::HeadName))]
    #[case("Chủ hộ", Some(Field::HeadName))]
    #[case("Ngày, tháng, năm sinh", Some(Field::BirthDate))]
    #[case("Ngày tháng năm sinh", Some(Field::BirthDate))]
    #[case("Ngày sinh", Some(Field::BirthDate))]
    #[case("Năm sinh", Some(Field::BirthYear))]
    #[case("Giới tính", Some(Field::Sex))]
    #[case("Giới tính (1: Nam, 0: Nữ)", Some(Field::Sex))]
    #[case("Nam", Some(Field::MaleColumn))]
    #[case("Nữ", Some(Field::FemaleColumn))]
    #[case("NỮ", Some(Field::FemaleColumn))]
    #[case("Số CCCD", Some(Field::Cccd))]
    #[case("CCCD", Some(Field::Cccd))]
    #[case("Số định danh cá nhân", Some(Field::Cccd))]
    #[case("Số định danh", Some(Field::Cccd))]
    #[case("CCCD/CMND", Some(Field::Cccd))]
    #[case("Số CCCD/CMND", Some(Field::Cccd))]
    #[case("Số điện thoại", Some(Field::Phone))]
    #[case("SĐT", Some(Field::Phone))]
    #[case("Điện thoại", Some(Field::Phone))]
    #[case("Địa chỉ", Some(Field::Address))]
    #[case("Nơi ở hiện tại", Some(Field::Address))]
    #[case("Nơi thường trú", Some(Field::Address))]
    #[case("Chỗ ở hiện nay", Some(Field::Address))]
    #[case("Thôn", Some(Field::Hamlet))]
    #[case("Ấp", Some(Field::Hamlet))]
    #[case("Bản", Some(Field::Hamlet))]
    #[case("Tổ dân phố", Some(Field::Hamlet))]
    #[case("Khu phố", Some(Field::Hamlet))]
    #[case("Thôn, ấp", Some(Field::Hamlet))]
    #[case("Thôn/Tổ", Some(Field::Hamlet))]
    #[case("Mã hộ", Some(Field::HouseholdKey))]
    #[case("Số hộ", Some(Field::HouseholdKey))]
    #[case("Số sổ hộ khẩu", Some(Field::HouseholdKey))]
    #[case("Mã hộ gia đình", Some(Field::HouseholdKey))]
    #[case("Quan hệ với chủ hộ", Some(Field::Relation))]
    #[case("Tình trạng", Some(Field::ListKind))]
    #[case("Trạng thái", Some(Field::ListKind))]
    #[case("Ghi chú", Some(Field::ListKind))]
    #[case("STT", Some(Field::Stt))]
    #[case("TT", Some(Field::Stt))]
    #[case("DANH SÁCH CÔNG DÂN CHƯA ĐĂNG KÝ", None)]
    #[case("Nghề nghiệp", None)]
    #[case("", None)]
    fn headers_match(#[case] header: &str, #[case] field: Option<Field>) {
        assert_eq!(match_header(header), field, "{header}");
        let nfd: String = header.nfd().collect();
        assert_eq!(match_header(&nfd), field, "NFD {header}");
    }

    #[rstest]
    #[case("Giới tính (1: Nam, 0: Nữ)", Some(("1", "0")))]
    #[case("Giới tính (Nam = 1, Nữ = 2)", Some(("1", "2")))]
    #[case("Giới tính (0 nữ, 1 nam)", Some(("1", "0")))]
    #[case("Giới tính", None)]
    fn sex_codes_from_header(#[case] header: &str, #[case] codes: Option<(&str, &str)>) {
        let found = sex_codes(header);
        assert_eq!(found.as_ref().map(|c| (c.male.as_str(), c.female.as_str())), codes, "{header}");
    }

    pub(crate) fn text_row(number: u32, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells
                .iter()
                .map(|t| if t.is_empty() { CellValue::Empty } else { CellValue::Text((*t).to_owned()) })
                .collect(),
        }
    }

    fn table(rows: Vec<Row>) -> Table {
        Table::from_rows(Source::Csv { encoding: "UTF-8".into(), delimiter: ',' }, rows)
    }

    #[test]
    fn header_under_title_rows_is_found() {
        let t = table(vec![
            text_row(1, &["CÔNG AN XÃ MƯỜNG TÈ"]),
            text_row(2, &["DANH SÁCH CÔNG DÂN CHƯA ĐĂNG KÝ TÀI KHOẢN ĐỊNH DANH ĐIỆN TỬ"]),
            text_row(4, &["STT", "HỌ VÀ TÊN", "NGÀY SINH", "GIỚI TÍNH", "SỐ CCCD", "BẢN", "GHI CHÚ KHÁC"]),
            text_row(5, &["1", "Lò Văn A", "1990", "Nam", "", "Nà Hừ", ""]),
        ]);
        let map = detect_columns(&t).unwrap();
        assert_eq!(map.header_row, 4);
        assert_eq!(map.data_start_row, 5);
        assert_eq!(map.column(Field::FullName), Some(1));
        assert_eq!(map.column(Field::Hamlet), Some(5));
        assert_eq!(map.column(Field::ListKind), Some(6), "Ghi chú… is a status column by prefix");
        assert!(map.missing_required(false).is_empty());
        assert_eq!(map.header(1), "HỌ VÀ TÊN");
    }

    #[test]
    fn nam_nu_sub_header_and_numbering_row() {
        let t = table(vec![
            text_row(3, &["TT", "Họ và tên", "Ngày, tháng, năm sinh", "", "Số CCCD", "Thôn"]),
            text_row(4, &["", "", "Nam", "Nữ", "", ""]),
            text_row(5, &["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"]),
            text_row(6, &["1", "Lò Thị B", "", "1992", "", "Bản 1"]),
        ]);
        let map = detect_columns(&t).unwrap();
        assert_eq!(map.column(Field::MaleColumn), Some(2));
        assert_eq!(map.column(Field::FemaleColumn), Some(3));
        assert_eq!(map.column(Field::BirthDate), None, "the pair replaces its parent");
        assert_eq!(map.data_start_row, 6);
        assert!(map.missing_required(false).is_empty());
        assert_eq!(map.header(2), "Ngày, tháng, năm sinh / Nam");
    }

    #[test]
    fn duplicate_and_unknown_columns_are_unmatched() {
        let t = table(vec![text_row(1, &["Họ và tên", "Địa chỉ", "Nơi thường trú", "Nghề nghiệp", "Năm sinh"])]);
        let map = detect_columns(&t).unwrap();
        assert_eq!(map.column(Field::Address), Some(1));
        assert_eq!(map.unmatched, [2, 3]);
        assert_eq!(map.missing_required(false), [Field::Hamlet]);
        assert!(map.missing_required(true).is_empty());
        let error = map.check_required(false).unwrap_err();
        assert_eq!(error.code(), "missing_columns");
        assert!(error.message_vi().contains("Thôn"), "{}", error.message_vi());
    }

    #[test]
    fn no_header_is_an_error() {
        let t = table(vec![text_row(1, &["DANH SÁCH"]), text_row(2, &["a", "b", "c"])]);
        let error = detect_columns(&t).unwrap_err();
        assert_eq!(error.code(), "no_header");
        assert!(error.message_vi().contains("Họ và tên"));
    }

    #[test]
    fn the_officers_choice_replaces_the_guess_whole() {
        let t = table(vec![text_row(1, &["Họ và tên", "Năm sinh", "Xóm", "Khu vực", "Giới tính (1: Nam, 0: Nữ)"])]);
        let mut map = detect_columns(&t).unwrap();
        assert_eq!(map.column(Field::Hamlet), Some(2));
        let f = Some;
        map.choose(&[f(Field::FullName), f(Field::BirthYear), None, f(Field::Hamlet), f(Field::Sex)]).unwrap();
        assert_eq!(map.column(Field::Hamlet), Some(3));
        assert_eq!(map.unmatched, [2], "the column left without a field is listed as not used");
        assert_eq!(map.sex_codes, Some(SexCodes { male: "1".into(), female: "0".into() }));

        let before = map.clone();
        let twice = map.choose(&[f(Field::FullName), f(Field::FullName)]).unwrap_err();
        assert_eq!(twice, ImportError::FieldTwice { field: Field::FullName, first: 0, second: 1 });
        assert!(twice.message_vi().contains("Cột A và cột B"), "{}", twice.message_vi());
        let outside = map.choose(&[None, None, None, None, None, f(Field::Phone)]).unwrap_err();
        assert_eq!(outside.code(), "bad_column_map");
        assert_eq!(map, before, "a refused choice changes nothing");

        map.choose(&[f(Field::FullName), f(Field::BirthYear)]).unwrap();
        assert_eq!(map.missing_required(false), [Field::Hamlet]);
        assert_eq!(map.sex_codes, None, "no sex column, no codes");
    }

    fn workbook(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        for (name, rows) in sheets {
            let sheet = book.add_worksheet();
            sheet.set_name(*name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, text) in row.iter().enumerate() {
                    sheet.write_string(r as u32, c as u16, *text).unwrap();
                }
            }
        }
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn the_list_is_found_behind_a_cover_sheet_or_in_the_sheet_named() {
        let bytes = workbook(&[
            ("Bìa", &[&["CÔNG AN XÃ TÂN LẬP"], &["Báo cáo tháng 12"]]),
            ("DS chưa kích hoạt", &[&["STT", "Họ và tên", "Năm sinh", "Thôn"], &["1", "Lò Thị B", "1992", "Bản 1"]]),
            ("DS đã duyệt", &[&["Họ và tên", "Số CCCD", "Thôn"], &["Vì Văn C", "011092000123", "Bản 2"]]),
        ]);
        let (table, map) = read_list(&bytes, "ds.xlsx", None).unwrap();
        assert_eq!(table.sheet(), Some("DS chưa kích hoạt"), "the first sheet with a header");
        assert_eq!(table.sheet_names.len(), 3);
        assert_eq!(map.column(Field::BirthYear), Some(2));

        let (table, map) = read_list(&bytes, "ds.xlsx", Some("DS đã duyệt")).unwrap();
        assert_eq!(table.sheet(), Some("DS đã duyệt"));
        assert_eq!(map.column(Field::Cccd), Some(1));

        assert_eq!(read_list(&bytes, "ds.xlsx", Some("Bìa")).unwrap_err().code(), "no_header");
        assert_eq!(read_list(&bytes, "ds.xlsx", Some("Không có")).unwrap_err().code(), "sheet_not_found");
        let no_list = workbook(&[("Bìa", &[&["CÔNG AN XÃ"]]), ("Ghi chú", &[&["a", "b"]])]);
        assert_eq!(read_list(&no_list, "ds.xlsx", None).unwrap_err().code(), "no_header");
    }

    #[test]
    fn layouts_remember_corrections_by_folded_headers() {
        let t = table(vec![text_row(1, &["Họ và tên", "Năm sinh", "Xóm", "Khu vực"])]);
        let mut map = detect_columns(&t).unwrap();
        assert_eq!(map.column(Field::Hamlet), Some(2));
        map.set(Field::Hamlet, 3);
        map.set(Field::Address, 2);
        let layout = Layout::remember(&map);
        let json = serde_json::to_string(&layout).unwrap();
        let layout: Layout = serde_json::from_str(&json).unwrap();
        // The same headers, typed differently: upper case, no accents, NFD, extra spaces.
        let nfd: String = "Năm  sinh".nfd().collect();
        let t2 = table(vec![text_row(1, &["HO VA TEN", &nfd, "XÓM", "khu vực "])]);
        let mut map2 = detect_columns(&t2).unwrap();
        assert!(layout.apply(&mut map2));
        assert_eq!(map2.column(Field::Hamlet), Some(3));
        assert_eq!(map2.column(Field::Address), Some(2));
        assert!(map2.unmatched.is_empty());
        let t3 = table(vec![text_row(1, &["Họ và tên", "Năm sinh", "Thôn"])]);
        let mut map3 = detect_columns(&t3).unwrap();
        assert!(!layout.apply(&mut map3), "other headers, other layout");
    }
}
