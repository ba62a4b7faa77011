//! Made-up police lists for tests and benchmarks (feature `testdata`): a realistic "DC01 mở
//! rộng" extract as XLSX or CSV — title rows above the header, households with their head
//! first, valid CCCD numbers consistent with birth year and sex, phones — with chosen errors
//! planted at chosen or seeded rows, and the exact `(row, code)` list the report must show.
//!
//! Every name is drawn from short lists of common Vietnamese family, middle and given names;
//! no real person's data is used. Deterministic for a seed.

use std::collections::{BTreeSet, HashSet};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula, Workbook, XlsxError};
use unicode_normalization::UnicodeNormalization;

use crate::plan::{Known, KnownHamlet, Severity};

/// The first data row of a generated list (three title rows, a blank row, the header).
pub const DATA_START_ROW: u32 = 6;

/// The current year the generated lists are valid for (every birth year is at most 2012).
pub const CURRENT_YEAR: i32 = 2026;

/// The generated file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenFormat {
    /// An XLSX workbook: dates as date cells, CCCDs and phones as text cells.
    Xlsx,
    /// A CSV in UTF-8 with a BOM (Excel's "CSV UTF-8"), comma-delimited.
    Csv,
}

/// An error (or repair) to plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlantKind {
    /// A letter O for a zero in the CCCD → `cccd_format`.
    BadCccd,
    /// The CCCD's year digits changed → `cccd_birth_year_mismatch`.
    CccdYearMismatch,
    /// The CCCD's sex digit flipped → `cccd_sex_mismatch`.
    CccdSexMismatch,
    /// An earlier row's CCCD (with its birth date and sex) copied here → `duplicate_cccd` on
    /// both rows.
    DuplicateCccd,
    /// A hamlet the commune does not have → `hamlet_unknown`.
    UnknownHamlet,
    /// The name cell left empty → `required`.
    MissingName,
    /// The CCCD as a number (XLSX) or digits without the leading zeros (CSV) → repaired
    /// `cccd_leading_zero`.
    LostLeadingZero,
    /// The CCCD as Excel shows a big number, `1,2089E+10` → `cccd_scientific`.
    ScientificNotation,
    /// The birth date as an Excel serial number → repaired `date_from_serial`.
    DateSerial,
    /// The birth date as text `d/m/yyyy` (XLSX) or `d-m-yyyy` (CSV): read, no issue.
    DateText,
    /// An impossible date, 31 February → `date_invalid`.
    BadDate,
    /// The name decomposed (NFD): read as NFC, no issue.
    NfdText,
    /// A right-to-left override in the name → `forbidden_character`.
    BidiOverride,
    /// The phone as a number without its 0 → repaired `phone_leading_zero`.
    PhoneLostZero,
}

impl PlantKind {
    /// Every kind.
    pub const ALL: [PlantKind; 14] = [
        PlantKind::BadCccd,
        PlantKind::CccdYearMismatch,
        PlantKind::CccdSexMismatch,
        PlantKind::DuplicateCccd,
        PlantKind::UnknownHamlet,
        PlantKind::MissingName,
        PlantKind::LostLeadingZero,
        PlantKind::ScientificNotation,
        PlantKind::DateSerial,
        PlantKind::DateText,
        PlantKind::BadDate,
        PlantKind::NfdText,
        PlantKind::BidiOverride,
        PlantKind::PhoneLostZero,
    ];

    /// The issue the report must show for it, if any.
    pub fn expected(self) -> Option<(&'static str, Severity)> {
        match self {
            PlantKind::BadCccd => Some(("cccd_format", Severity::Error)),
            PlantKind::CccdYearMismatch => Some(("cccd_birth_year_mismatch", Severity::Error)),
            PlantKind::CccdSexMismatch => Some(("cccd_sex_mismatch", Severity::Error)),
            PlantKind::DuplicateCccd => Some(("duplicate_cccd", Severity::Error)),
            PlantKind::UnknownHamlet => Some(("hamlet_unknown", Severity::Error)),
            PlantKind::MissingName => Some(("required", Severity::Error)),
            PlantKind::LostLeadingZero => Some(("cccd_leading_zero", Severity::Repaired)),
            PlantKind::ScientificNotation => Some(("cccd_scientific", Severity::Error)),
            PlantKind::DateSerial => Some(("date_from_serial", Severity::Repaired)),
            PlantKind::DateText | PlantKind::NfdText => None,
            PlantKind::BadDate => Some(("date_invalid", Severity::Error)),
            PlantKind::BidiOverride => Some(("forbidden_character", Severity::Error)),
            PlantKind::PhoneLostZero => Some(("phone_leading_zero", Severity::Repaired)),
        }
    }

    fn needs_cccd(self) -> bool {
        matches!(
            self,
            PlantKind::BadCccd
                | PlantKind::CccdYearMismatch
                | PlantKind::CccdSexMismatch
                | PlantKind::DuplicateCccd
                | PlantKind::LostLeadingZero
                | PlantKind::ScientificNotation
        )
    }
}

/// One planted error: at a sheet row (≥ [`DATA_START_ROW`]) or, with `row: None`, at a row
/// the seed picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plant {
    /// What to plant.
    pub kind: PlantKind,
    /// Where (the sheet's row number), or `None` for a seeded choice.
    pub row: Option<u32>,
}

impl Plant {
    /// A plant at a row the seed picks.
    pub fn seeded(kind: PlantKind) -> Plant {
        Plant { kind, row: None }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSpec {
    /// Data rows (people).
    pub rows: usize,
    /// The seed: the same spec gives the same bytes.
    pub seed: u64,
    /// How many hamlets the commune has (at least 1).
    pub hamlets: usize,
    /// The errors to plant.
    pub planted: Vec<Plant>,
    /// XLSX or CSV.
    pub format: GenFormat,
    /// Write the list without the planted errors (the officer's corrected copy): the same
    /// bytes everywhere else, the plants' rows chosen the same way.
    pub corrected: bool,
    /// XLSX only: merge each household's hamlet cells into one (a common layout).
    pub merge_hamlets: bool,
    /// XLSX only: write the STT column as formulas (`=A6+1`) with their cached results.
    pub stt_formulas: bool,
}

impl GenSpec {
    /// A spec with the given size and seed, 12 hamlets, no plants, XLSX.
    pub fn new(rows: usize, seed: u64) -> GenSpec {
        GenSpec {
            rows,
            seed,
            hamlets: 12,
            planted: Vec::new(),
            format: GenFormat::Xlsx,
            corrected: false,
            merge_hamlets: false,
            stt_formulas: false,
        }
    }
}

/// An issue the report must list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExpectedIssue {
    /// The sheet's row number.
    pub row: u32,
    /// The issue's code.
    pub code: String,
    /// Its severity.
    pub severity: Severity,
}

/// Where a plant went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// What.
    pub kind: PlantKind,
    /// The row changed.
    pub row: u32,
    /// Other rows involved (the original of a duplicated CCCD).
    pub other_rows: Vec<u32>,
}

/// A generated list.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The file.
    pub bytes: Vec<u8>,
    /// A file name with the right extension.
    pub file_name: String,
    /// The commune's hamlets (what an app would hold as [`Known`]).
    pub known: Known,
    /// The issues the report must list (none for a corrected copy).
    pub expected: Vec<ExpectedIssue>,
    /// Where each plant went (also for a corrected copy).
    pub planted: Vec<Planted>,
    /// Data rows written.
    pub rows: usize,
    /// People the plan must hold.
    pub expected_people: usize,
    /// Households the plan must hold.
    pub expected_households: usize,
}

impl Generated {
    /// The places an office of commune 03445 holds for this list: the demo province and
    /// commune of `gocua_core::fixtures` and the list's hamlets.
    pub fn places(&self) -> Vec<gocua_core::places::Place> {
        use gocua_core::places::{Place, PlaceLevel};
        let mut places: Vec<Place> = gocua_core::fixtures::demo_places().into_iter().take(2).collect();
        places.extend(self.known.hamlets.iter().map(|h| Place {
            code: h.code.clone(),
            name: h.name.clone(),
            level: PlaceLevel::Hamlet,
            division_type: "thôn".into(),
            parent_code: Some("03445".into()),
        }));
        places
    }

    /// Every row a plant touched (changed, or involved like a duplicate's original).
    pub fn touched_rows(&self) -> BTreeSet<u32> {
        self.planted.iter().flat_map(|p| std::iter::once(p.row).chain(p.other_rows.iter().copied())).collect()
    }

    /// The expected `(row, code)` pairs of the given severities.
    pub fn expected_codes(&self, severities: &[Severity]) -> BTreeSet<(u32, String)> {
        self.expected.iter().filter(|e| severities.contains(&e.severity)).map(|e| (e.row, e.code.clone())).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Made-up people

const FAMILY: [&str; 28] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý", "Lò", "Quàng", "Tòng", "Cầm", "Hà", "Vàng", "Sùng", "Thào", "Giàng", "Lường", "Điêu", "Đinh",
];
const MIDDLE_MALE: [&str; 9] = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Xuân", "Bá"];
const MIDDLE_FEMALE: [&str; 8] = ["Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ", "Diệu", "Hồng"];
const GIVEN_MALE: [&str; 24] = [
    "An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn", "Tài", "Thắng", "Tuấn",
    "Việt", "Vinh", "Hải", "Hiếu", "Lâm", "Phúc", "Định", "Khải", "Toàn", "Đạt",
];
const GIVEN_FEMALE: [&str; 24] = [
    "Anh", "Bích", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung", "Phương",
    "Quyên", "Thảo", "Trang", "Tuyết", "Vân", "Yến", "Ánh", "Ngân", "Huệ", "Loan",
];
const HAMLET_BODIES: [&str; 16] = [
    "Nà Hừ",
    "Mỹ Lợi",
    "Phú Hòa",
    "Tân Thành",
    "Đồng Tâm",
    "Hòa Bình",
    "Bình An",
    "Thạnh Phú",
    "Long Hưng",
    "Pa Ủ",
    "Huổi Luông",
    "Tả Phìn",
    "An Khánh",
    "Phước Thạnh",
    "Vĩnh Kim",
    "Nậm Khao",
];
const HAMLET_KINDS: [&str; 4] = ["Thôn", "Ấp", "Bản", "Tổ dân phố"];
/// Province codes of birth registration (all start with 0, as every province's does).
const PROVINCES: [&str; 10] = ["001", "002", "012", "014", "022", "036", "038", "079", "082", "096"];
const COLUMNS: [&str; 11] = [
    "STT",
    "Họ và tên",
    "Ngày, tháng, năm sinh",
    "Giới tính",
    "Số CCCD",
    "Số điện thoại",
    "Nơi thường trú",
    "Thôn, ấp",
    "Chủ hộ",
    "Quan hệ với chủ hộ",
    "Tình trạng",
];
const COL_STT: usize = 0;
const COL_NAME: usize = 1;
const COL_BIRTH: usize = 2;
const COL_SEX: usize = 3;
const COL_CCCD: usize = 4;
const COL_PHONE: usize = 5;
const COL_HAMLET: usize = 7;

/// A generated cell.
#[derive(Debug, Clone, PartialEq)]
enum GenCell {
    Empty,
    Text(String),
    Number(f64),
    Date(i32, u32, u32),
}

#[derive(Debug, Clone)]
struct Person {
    cells: Vec<GenCell>,
    household: usize,
    birth: (i32, u32, u32),
    male: bool,
    cccd: Option<String>,
    phone: Option<String>,
}

fn hamlet_names(n: usize) -> Vec<KnownHamlet> {
    (0..n.max(1))
        .map(|i| {
            let kind = HAMLET_KINDS[i % HAMLET_KINDS.len()];
            let name = match HAMLET_BODIES.get(i) {
                Some(body) => format!("{kind} {body}"),
                None => format!("{kind} {}", i + 1),
            };
            KnownHamlet { code: format!("03445-{:02}", i + 1), name }
        })
        .collect()
}

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn cccd_for(rng: &mut StdRng, year: i32, male: bool, used: &mut HashSet<String>) -> String {
    loop {
        let province = PROVINCES.choose(rng).copied().unwrap_or("001");
        let century = (year - 1900) / 100;
        let sex_digit = century * 2 + i32::from(!male);
        let serial: u32 = rng.random_range(1..1_000_000);
        let cccd = format!("{province}{sex_digit}{:02}{serial:06}", year % 100);
        if used.insert(cccd.clone()) {
            return cccd;
        }
    }
}

fn excel_serial(y: i32, m: u32, d: u32) -> f64 {
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    (date - base).num_days() as f64
}

/// How Excel shows a 12-digit number in a narrow General column, Vietnamese decimal comma.
fn scientific(cccd: &str) -> String {
    let n: f64 = cccd.parse().unwrap_or(0.0);
    let exponent = n.log10().floor() as i32;
    let mantissa = n / 10f64.powi(exponent);
    let text = format!("{mantissa:.5}");
    let text = text.trim_end_matches('0').trim_end_matches('.').replace('.', ",");
    format!("{text}E+{exponent}")
}

fn people(spec: &GenSpec, hamlets: &[KnownHamlet], rng: &mut StdRng) -> (Vec<Person>, usize) {
    let mut out = Vec::with_capacity(spec.rows);
    let mut used_cccd = HashSet::new();
    let mut house_numbers = vec![0u32; hamlets.len()];
    let mut household = 0usize;
    while out.len() < spec.rows {
        let size = rng.random_range(1..=6).min(spec.rows - out.len());
        let h = rng.random_range(0..hamlets.len());
        house_numbers[h] += 1;
        let hamlet = &hamlets[h];
        // How the hamlet is written: as named, in capitals, or without its kind word.
        let hamlet_text = match rng.random_range(0..3) {
            0 => hamlet.name.clone(),
            1 => hamlet.name.to_uppercase(),
            _ => HAMLET_KINDS
                .iter()
                .find_map(|kind| hamlet.name.strip_prefix(kind))
                .map_or(hamlet.name.clone(), |body| body.trim().to_owned()),
        };
        let address = format!("Số {}, {}", house_numbers[h], hamlet.name);
        let family = *FAMILY.choose(rng).unwrap_or(&"Nguyễn");
        let head_year = rng.random_range(1945..=1995);
        let mut seen: HashSet<(String, i32)> = HashSet::new();
        let mut head_name = String::new();
        let status = if rng.random_bool(0.7) { "Chưa đăng ký" } else { "Đã duyệt chưa kích hoạt" };
        for k in 0..size {
            let (relation, male, year) = match k {
                0 => ("Chủ hộ", rng.random_bool(0.6), head_year),
                1 => ("Vợ/Chồng", rng.random_bool(0.4), (head_year + rng.random_range(-5..=5)).min(2008)),
                5 => ("Mẹ", false, (head_year - rng.random_range(20..=30)).max(1926)),
                _ => ("Con", rng.random_bool(0.5), (head_year + rng.random_range(20..=35)).min(2012)),
            };
            let relation = match (relation, male, k) {
                ("Vợ/Chồng", true, _) => "Chồng",
                ("Vợ/Chồng", false, _) => "Vợ",
                (r, _, _) => r,
            };
            let last = if k == 0 || relation == "Con" { family } else { *FAMILY.choose(rng).unwrap_or(&"Lê") };
            let (middle, given) = if male {
                (*MIDDLE_MALE.choose(rng).unwrap_or(&"Văn"), GIVEN_MALE.as_slice())
            } else {
                (*MIDDLE_FEMALE.choose(rng).unwrap_or(&"Thị"), GIVEN_FEMALE.as_slice())
            };
            let mut name = format!("{last} {middle} {}", given.choose(rng).unwrap_or(&"An"));
            let mut tries = 0;
            while !seen.insert((name.clone(), year)) && tries < 50 {
                name = format!("{last} {middle} {}", given.choose(rng).unwrap_or(&"An"));
                tries += 1;
            }
            if k == 0 {
                head_name = name.clone();
            }
            let month = rng.random_range(1..=12);
            let day = rng.random_range(1..=days_in(year, month));
            let cccd = rng.random_bool(0.97).then(|| cccd_for(rng, year, male, &mut used_cccd));
            let phone = rng.random_bool(0.7).then(|| {
                let second = *[3u32, 5, 7, 8, 9].choose(rng).unwrap_or(&9);
                format!("0{second}{:08}", rng.random_range(0..100_000_000u32))
            });
            let cells = vec![
                GenCell::Number((out.len() + 1) as f64),
                GenCell::Text(name),
                GenCell::Date(year, month, day),
                GenCell::Text(if male { "Nam" } else { "Nữ" }.to_owned()),
                cccd.clone().map_or(GenCell::Empty, GenCell::Text),
                phone.clone().map_or(GenCell::Empty, GenCell::Text),
                GenCell::Text(address.clone()),
                GenCell::Text(hamlet_text.clone()),
                GenCell::Text(head_name.clone()),
                GenCell::Text(relation.to_owned()),
                GenCell::Text(status.to_owned()),
            ];
            out.push(Person { cells, household, birth: (year, month, day), male, cccd, phone });
        }
        household += 1;
    }
    (out, household)
}

fn row_of(index: usize) -> u32 {
    DATA_START_ROW + index as u32
}

/// Generates a list as the spec says.
pub fn generate(spec: &GenSpec) -> Result<Generated, XlsxError> {
    let hamlets = hamlet_names(spec.hamlets);
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let (mut rows, household_count) = people(spec, &hamlets, &mut rng);
    // The plants' rows come from their own generator, so planting never changes the rest.
    let mut plant_rng = StdRng::seed_from_u64(spec.seed ^ 0x5EED_F00D_u64);
    let household_sizes = {
        let mut sizes = vec![0usize; household_count];
        for p in &rows {
            sizes[p.household] += 1;
        }
        sizes
    };
    let mut taken: HashSet<usize> = HashSet::new();
    let mut planted = Vec::new();
    for plant in &spec.planted {
        let fits = |i: usize, taken: &HashSet<usize>| {
            let p: &Person = &rows[i];
            !taken.contains(&i)
                && (!plant.kind.needs_cccd() || p.cccd.is_some())
                && (plant.kind != PlantKind::PhoneLostZero || p.phone.is_some())
                && (plant.kind != PlantKind::UnknownHamlet || !spec.merge_hamlets || household_sizes[p.household] == 1)
        };
        let index = match plant.row {
            Some(row) => (row.saturating_sub(DATA_START_ROW)) as usize,
            None => {
                let candidates: Vec<usize> = (1..rows.len()).filter(|i| fits(*i, &taken)).collect();
                *candidates.choose(&mut plant_rng).unwrap_or(&0)
            }
        };
        if index >= rows.len() {
            continue;
        }
        let mut other_rows = Vec::new();
        if plant.kind == PlantKind::DuplicateCccd {
            let sources: Vec<usize> =
                (0..index).filter(|i| rows[*i].cccd.is_some() && !taken.contains(i) && *i != index).collect();
            let Some(&source) = sources.choose(&mut plant_rng) else { continue };
            taken.insert(index);
            {
                taken.insert(source);
                other_rows.push(row_of(source));
                if !spec.corrected {
                    let (cccd, birth, male) = (rows[source].cccd.clone(), rows[source].birth, rows[source].male);
                    let p = &mut rows[index];
                    p.cccd = cccd.clone();
                    p.birth = birth;
                    p.male = male;
                    p.cells[COL_CCCD] = cccd.map_or(GenCell::Empty, GenCell::Text);
                    p.cells[COL_BIRTH] = GenCell::Date(birth.0, birth.1, birth.2);
                    p.cells[COL_SEX] = GenCell::Text(if male { "Nam" } else { "Nữ" }.to_owned());
                }
            }
        } else {
            taken.insert(index);
            if !spec.corrected {
                plant_into(&mut rows[index], plant.kind, spec.format);
            }
        }
        planted.push(Planted { kind: plant.kind, row: row_of(index), other_rows });
    }

    let mut expected = Vec::new();
    if !spec.corrected {
        for p in &planted {
            if let Some((code, severity)) = p.kind.expected() {
                for row in std::iter::once(p.row).chain(p.other_rows.iter().copied()) {
                    expected.push(ExpectedIssue { row, code: code.to_owned(), severity });
                }
            }
        }
    }
    let mut merged_rows = Vec::new();
    if spec.merge_hamlets && spec.format == GenFormat::Xlsx {
        let mut start = 0;
        while start < rows.len() {
            let mut end = start;
            while end + 1 < rows.len() && rows[end + 1].household == rows[start].household {
                end += 1;
            }
            if end > start {
                merged_rows.push((start, end));
                expected.push(ExpectedIssue {
                    row: row_of(start),
                    code: "merged_cell_filled".to_owned(),
                    severity: Severity::Repaired,
                });
            }
            start = end + 1;
        }
    }
    expected.sort();
    let error_rows: HashSet<u32> = expected.iter().filter(|e| e.severity == Severity::Error).map(|e| e.row).collect();
    let expected_people = rows.len() - error_rows.len();
    let mut live_households = HashSet::new();
    for (i, p) in rows.iter().enumerate() {
        if !error_rows.contains(&row_of(i)) {
            live_households.insert(p.household);
        }
    }
    let (bytes, file_name) = match spec.format {
        GenFormat::Xlsx => (write_xlsx(&rows, &merged_rows, spec.stt_formulas)?, "danh-sach-dc01.xlsx"),
        GenFormat::Csv => (write_csv(&rows), "danh-sach-dc01.csv"),
    };
    Ok(Generated {
        bytes,
        file_name: file_name.to_owned(),
        known: Known { hamlets, residents: Vec::new() },
        expected,
        planted,
        rows: rows.len(),
        expected_people,
        expected_households: live_households.len(),
    })
}

fn plant_into(p: &mut Person, kind: PlantKind, format: GenFormat) {
    let cccd = p.cccd.clone().unwrap_or_default();
    let (y, m, d) = p.birth;
    let name = match &p.cells[COL_NAME] {
        GenCell::Text(t) => t.clone(),
        _ => String::new(),
    };
    match kind {
        PlantKind::BadCccd => {
            // A letter O typed for a zero.
            p.cells[COL_CCCD] = GenCell::Text(cccd.replacen('0', "O", 1));
        }
        PlantKind::CccdYearMismatch => {
            let yy: u32 = cccd[4..6].parse().unwrap_or(0);
            let other = format!("{}{:02}{}", &cccd[..4], (yy + 1) % 100, &cccd[6..]);
            p.cells[COL_CCCD] = GenCell::Text(other);
        }
        PlantKind::CccdSexMismatch => {
            let digit = cccd.as_bytes()[3] - b'0';
            let flipped = if digit.is_multiple_of(2) { digit + 1 } else { digit - 1 };
            p.cells[COL_CCCD] = GenCell::Text(format!("{}{flipped}{}", &cccd[..3], &cccd[4..]));
        }
        PlantKind::DuplicateCccd => {}
        PlantKind::UnknownHamlet => p.cells[COL_HAMLET] = GenCell::Text("Xóm Mới Lập".to_owned()),
        PlantKind::MissingName => p.cells[COL_NAME] = GenCell::Empty,
        PlantKind::LostLeadingZero => {
            p.cells[COL_CCCD] = match format {
                GenFormat::Xlsx => GenCell::Number(cccd.parse().unwrap_or(0.0)),
                GenFormat::Csv => GenCell::Text(cccd.trim_start_matches('0').to_owned()),
            }
        }
        PlantKind::ScientificNotation => p.cells[COL_CCCD] = GenCell::Text(scientific(&cccd)),
        PlantKind::DateSerial => {
            p.cells[COL_BIRTH] = match format {
                GenFormat::Xlsx => GenCell::Number(excel_serial(y, m, d)),
                GenFormat::Csv => GenCell::Text(format!("{}", excel_serial(y, m, d))),
            }
        }
        PlantKind::DateText => {
            p.cells[COL_BIRTH] = GenCell::Text(match format {
                GenFormat::Xlsx => format!("{d}/{m}/{y}"),
                GenFormat::Csv => format!("{d}-{m}-{y}"),
            })
        }
        PlantKind::BadDate => p.cells[COL_BIRTH] = GenCell::Text(format!("31/02/{y}")),
        PlantKind::NfdText => p.cells[COL_NAME] = GenCell::Text(name.nfd().collect()),
        PlantKind::BidiOverride => {
            let (first, rest) = name.split_once(' ').unwrap_or((name.as_str(), ""));
            p.cells[COL_NAME] = GenCell::Text(format!("{first} \u{202E}{rest}"));
        }
        PlantKind::PhoneLostZero => {
            let phone = p.phone.clone().unwrap_or_default();
            p.cells[COL_PHONE] = match format {
                GenFormat::Xlsx => GenCell::Number(phone.parse().unwrap_or(0.0)),
                GenFormat::Csv => GenCell::Text(phone.trim_start_matches('0').to_owned()),
            }
        }
    }
}

const TITLES: [&str; 3] = [
    "CÔNG AN XÃ HÒA AN",
    "DANH SÁCH CÔNG DÂN CÓ CCCD CHƯA ĐĂNG KÝ / ĐÃ DUYỆT CHƯA KÍCH HOẠT TÀI KHOẢN ĐỊNH DANH ĐIỆN TỬ",
    "(Trích xuất từ phân hệ DC01 mở rộng – dữ liệu mẫu, không phải người thật)",
];

fn write_xlsx(rows: &[Person], merged: &[(usize, usize)], stt_formulas: bool) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // A fixed creation time, so the same spec gives the same bytes.
    let created = ExcelDateTime::from_ymd(2023, 10, 6)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = workbook.add_worksheet();
    sheet.set_name("Danh sách")?;
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let last_col = (COLUMNS.len() - 1) as u16;
    for (r, title) in TITLES.iter().enumerate() {
        sheet.merge_range(r as u32, 0, r as u32, last_col, title, &bold)?;
    }
    let header_row = DATA_START_ROW - 2;
    for (c, header) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(header_row, c as u16, *header, &bold)?;
    }
    for (i, p) in rows.iter().enumerate() {
        let r = DATA_START_ROW - 1 + i as u32;
        for (c, cell) in p.cells.iter().enumerate() {
            let c16 = c as u16;
            if c == COL_STT && stt_formulas && i > 0 {
                let formula = Formula::new(format!("=A{}+1", r)).set_result((i + 1).to_string());
                sheet.write_formula(r, c16, formula)?;
                continue;
            }
            if c == COL_HAMLET && merged.iter().any(|(s, e)| i > *s && i <= *e) {
                continue;
            }
            match cell {
                GenCell::Empty => {}
                GenCell::Text(t) => {
                    sheet.write_string(r, c16, t)?;
                }
                GenCell::Number(n) => {
                    sheet.write_number(r, c16, *n)?;
                }
                GenCell::Date(y, m, d) => {
                    let date = ExcelDateTime::from_ymd(*y as u16, *m as u8, *d as u8)?;
                    sheet.write_datetime_with_format(r, c16, &date, &date_format)?;
                }
            }
        }
    }
    let plain = Format::new();
    for (s, e) in merged {
        let text = match &rows[*s].cells[COL_HAMLET] {
            GenCell::Text(t) => t.clone(),
            _ => String::new(),
        };
        let (first, last) = (DATA_START_ROW - 1 + *s as u32, DATA_START_ROW - 1 + *e as u32);
        sheet.merge_range(first, COL_HAMLET as u16, last, COL_HAMLET as u16, &text, &plain)?;
    }
    workbook.save_to_buffer()
}

fn write_csv(rows: &[Person]) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(&mut out);
        let mut write = |record: Vec<String>| {
            // Writing to memory cannot fail.
            let _ = writer.write_record(&record);
        };
        for title in TITLES {
            write(vec![title.to_owned()]);
        }
        write(vec![String::new()]);
        write(COLUMNS.iter().map(|c| (*c).to_owned()).collect());
        for p in rows {
            write(
                p.cells
                    .iter()
                    .map(|cell| match cell {
                        GenCell::Empty => String::new(),
                        GenCell::Text(t) => t.clone(),
                        GenCell::Number(n) => crate::read::format_float(*n),
                        GenCell::Date(y, m, d) => format!("{d:02}/{m:02}/{y}"),
                    })
                    .collect(),
            );
        }
        let _ = writer.flush();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scientific_looks_like_excel() {
        assert_eq!(scientific("012089000123"), "1,2089E+10");
        assert_eq!(scientific("079190123456"), "7,91901E+10");
    }

    #[test]
    fn same_seed_same_bytes() {
        for format in [GenFormat::Csv, GenFormat::Xlsx] {
            let spec = GenSpec { format, ..GenSpec::new(300, 7) };
            assert_eq!(generate(&spec).unwrap().bytes, generate(&spec).unwrap().bytes, "{format:?}");
            let other = GenSpec { seed: 8, ..spec.clone() };
            assert_ne!(generate(&spec).unwrap().bytes, generate(&other).unwrap().bytes, "{format:?}");
        }
    }
}
