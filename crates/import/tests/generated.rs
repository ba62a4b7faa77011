//! Generated police lists with planted errors: the report lists exactly what was planted, keys
//! are stable across re-imports and corrections, merged cells and formulas are read.

use std::collections::{BTreeMap, BTreeSet};

use gocua_import::testdata::{
    self, CURRENT_YEAR, DATA_START_ROW, GenFormat, GenSpec, Generated, Plant, PlantKind, generate,
};
use gocua_import::{Field, Plan, PlanOptions, Severity, detect_columns, plan, read_table};
use unicode_normalization::UnicodeNormalization;

fn plan_of(generated: &Generated) -> Plan {
    let table = read_table(&generated.bytes, &generated.file_name).unwrap();
    let map = detect_columns(&table).unwrap();
    assert_eq!(map.header_row, DATA_START_ROW - 1, "the header is found under the title rows");
    assert_eq!(map.data_start_row, DATA_START_ROW);
    for field in [Field::FullName, Field::BirthDate, Field::Sex, Field::Cccd, Field::Phone, Field::Hamlet] {
        assert!(map.column(field).is_some(), "{field:?} recognised");
    }
    let options = PlanOptions { key_namespace: "03445".to_owned(), ..PlanOptions::new(CURRENT_YEAR) };
    plan(&table, &map, &generated.known, &options, None).unwrap()
}

/// Three of each kind at seeded rows, and a few at rows chosen by hand.
fn plants() -> Vec<Plant> {
    let mut plants: Vec<Plant> =
        PlantKind::ALL.iter().flat_map(|kind| std::iter::repeat_n(Plant::seeded(*kind), 3)).collect();
    plants.push(Plant { kind: PlantKind::BadDate, row: Some(DATA_START_ROW) });
    plants.push(Plant { kind: PlantKind::MissingName, row: Some(DATA_START_ROW + 4_999) });
    plants
}

fn spec(format: GenFormat, corrected: bool) -> GenSpec {
    GenSpec { planted: plants(), format, corrected, ..GenSpec::new(5_000, 20_231_006) }
}

fn assert_exactly_planted(format: GenFormat) {
    let generated = generate(&spec(format, false)).unwrap();
    assert_eq!(generated.rows, 5_000);
    let result = plan_of(&generated);
    let report = &result.report;
    let all = [Severity::Error, Severity::Warning, Severity::Repaired];
    assert_eq!(
        report.row_codes(&all),
        generated.expected_codes(&all),
        "the report lists exactly the planted issues ({format:?})"
    );
    let planted_kinds: BTreeSet<PlantKind> = generated.planted.iter().map(|p| p.kind).collect();
    assert_eq!(planted_kinds.len(), PlantKind::ALL.len(), "every kind was planted");
    assert!(report.row_codes(&[Severity::Error]).len() >= 30);
    assert_eq!(report.row_codes(&[Severity::Repaired]).len(), 9);
    // Every issue is written for a person: both languages, the column named.
    for issue in report.issues.iter().filter(|i| i.row.is_some()) {
        assert!(!issue.message_vi.is_empty() && !issue.message_en.is_empty(), "{issue:?}");
        assert!(issue.column_header.is_some(), "{issue:?}");
    }
    let counts = &report.counts;
    assert_eq!(counts.rows_read, 5_000);
    assert_eq!(counts.rows_blank, 0);
    assert_eq!(counts.people_planned, generated.expected_people);
    assert_eq!(counts.households_planned, generated.expected_households);
    assert_eq!(counts.rows_left_out, 5_000 - generated.expected_people);
    assert_eq!(counts.rows_read, counts.people_planned + counts.rows_left_out + counts.rows_not_person);
    assert_eq!(counts.errors, report.issues.iter().filter(|i| i.severity == Severity::Error).count());
    assert_eq!(counts.repairs, 9);
    assert_eq!(counts.warnings, 0);
    assert_eq!(result.people.len(), counts.people_planned);
    assert_eq!(result.households.len(), counts.households_planned);

    // Rows with an error are out; repaired and silently fixed rows are in, with the right values.
    let error_rows: BTreeSet<u32> = report.row_codes(&[Severity::Error]).into_iter().map(|(r, _)| r).collect();
    let by_row: BTreeMap<u32, &gocua_import::ImportedPerson> = result.people.iter().map(|p| (p.row, p)).collect();
    for row in &error_rows {
        assert!(!by_row.contains_key(row), "row {row} has an error and is left out");
    }
    for planted in &generated.planted {
        let person = by_row.get(&planted.row);
        match planted.kind {
            PlantKind::LostLeadingZero => {
                let cccd = person.unwrap().fields.cccd.as_deref().unwrap();
                assert!(cccd.len() == 12 && cccd.starts_with('0'), "zero added back");
            }
            PlantKind::PhoneLostZero => {
                let phone = person.unwrap().fields.phone.as_deref().unwrap();
                assert!(phone.len() == 10 && phone.starts_with('0'));
            }
            PlantKind::DateSerial | PlantKind::DateText => {
                let p = person.unwrap();
                let date = p.birth_date.unwrap();
                assert!(date.day.is_some() && date.month.is_some());
                assert_eq!(date.year, p.fields.birth_year);
                if let Some(cccd) = &p.fields.cccd {
                    assert_eq!(cccd[4..6], format!("{:02}", p.fields.birth_year % 100), "day-month order kept");
                }
            }
            PlantKind::NfdText => {
                let name = &person.unwrap().fields.full_name;
                assert_eq!(*name, name.nfc().collect::<String>(), "NFD comes out NFC");
                assert!(!name.is_ascii(), "a Vietnamese name");
            }
            _ => {}
        }
    }
    // The duplicate is reported on both rows, naming the first.
    for planted in generated.planted.iter().filter(|p| p.kind == PlantKind::DuplicateCccd) {
        let first = planted.other_rows[0];
        let issue = report.for_row(planted.row).find(|i| i.code == "duplicate_cccd").unwrap();
        assert!(issue.message_vi.contains(&format!("dòng {first}")), "{}", issue.message_vi);
        assert!(report.for_row(first).any(|i| i.code == "duplicate_cccd"));
    }
    // Households: a head first, every member's household planned.
    let household_keys: BTreeSet<&str> = result.households.iter().map(|h| h.key.as_str()).collect();
    assert!(result.people.iter().all(|p| household_keys.contains(p.household_key.as_str())));
    assert!(result.households.iter().all(|h| !h.head_name.is_empty() && !h.member_rows.is_empty()));
    let with_head = result.households.iter().filter(|h| h.head_row.is_some()).count();
    assert!(with_head * 10 > result.households.len() * 9, "most households keep their head");
    let people_keys: BTreeSet<&str> = result.people.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(people_keys.len(), result.people.len(), "person keys are unique");
}

#[test]
fn xlsx_5000_rows_report_exactly_the_planted_issues() {
    assert_exactly_planted(GenFormat::Xlsx);
}

#[test]
fn csv_5000_rows_report_exactly_the_planted_issues() {
    assert_exactly_planted(GenFormat::Csv);
}

fn keys(plan: &Plan) -> BTreeMap<u32, (String, String)> {
    plan.people.iter().map(|p| (p.row, (p.key.clone(), p.household_key.clone()))).collect()
}

#[test]
fn reimport_gives_the_same_keys_and_a_corrected_copy_changes_only_the_corrected_rows() {
    for format in [GenFormat::Xlsx, GenFormat::Csv] {
        let planted = generate(&spec(format, false)).unwrap();
        let first = plan_of(&planted);
        let again = plan_of(&planted);
        assert_eq!(first, again, "the same file gives the same plan ({format:?})");

        let corrected = generate(&spec(format, true)).unwrap();
        assert!(corrected.expected.is_empty());
        let fixed = plan_of(&corrected);
        assert_eq!(fixed.report.counts.errors, 0, "{:?}", fixed.report.issues);
        assert_eq!(fixed.report.counts.people_planned, 5_000);
        let touched = planted.touched_rows();
        let (before, after) = (keys(&first), keys(&fixed));
        let before_people: BTreeMap<u32, _> = first.people.iter().map(|p| (p.row, p)).collect();
        let mut changed = BTreeSet::new();
        for (row, person) in fixed.people.iter().map(|p| (p.row, p)) {
            match before_people.get(&row) {
                Some(old) if *old == person => {}
                _ => {
                    changed.insert(row);
                }
            }
        }
        assert!(changed.is_subset(&touched), "only corrected rows differ: {:?}", changed.difference(&touched));
        for (row, k) in &before {
            if !touched.contains(row) {
                assert_eq!(after.get(row), Some(k), "row {row} keeps its keys");
            }
        }
        // The rows with an error come back once corrected.
        let error_rows: BTreeSet<u32> =
            first.report.row_codes(&[Severity::Error]).into_iter().map(|(r, _)| r).collect();
        assert!(error_rows.iter().all(|r| after.contains_key(r)));
        // Households untouched by the plants keep their keys.
        let untouched_households: BTreeSet<&str> = first
            .households
            .iter()
            .filter(|h| h.member_rows.iter().all(|r| !touched.contains(r)))
            .map(|h| h.key.as_str())
            .collect();
        let fixed_households: BTreeSet<&str> = fixed.households.iter().map(|h| h.key.as_str()).collect();
        assert!(untouched_households.is_subset(&fixed_households));
    }
}

#[test]
fn merged_hamlet_cells_are_filled_down_and_formulas_read_by_their_cached_values() {
    let spec = GenSpec {
        merge_hamlets: true,
        stt_formulas: true,
        planted: vec![Plant::seeded(PlantKind::UnknownHamlet), Plant::seeded(PlantKind::LostLeadingZero)],
        ..GenSpec::new(400, 99)
    };
    let generated = generate(&spec).unwrap();
    let table = read_table(&generated.bytes, &generated.file_name).unwrap();
    assert!(table.merged.iter().any(|m| m.filled_down && m.first_row >= DATA_START_ROW));
    assert!(table.merged.iter().any(|m| !m.filled_down && m.first_row == 1), "the title's merge is kept, not filled");
    // The STT formulas read as their cached numbers.
    let stt: Vec<String> =
        table.rows.iter().filter(|r| r.number >= DATA_START_ROW).take(3).map(|r| r.get(0).shown()).collect();
    assert_eq!(stt, ["1", "2", "3"]);
    let result = plan_of(&generated);
    let all = [Severity::Error, Severity::Warning, Severity::Repaired];
    assert_eq!(result.report.row_codes(&all), generated.expected_codes(&all));
    let merges = result.report.issues.iter().filter(|i| i.code == "merged_cell_filled").count();
    assert!(merges > 20, "{merges} merged households reported");
    let merge_issue = result.report.issues.iter().find(|i| i.code == "merged_cell_filled").unwrap();
    assert_eq!(merge_issue.field, Some(Field::Hamlet));
    assert!(merge_issue.message_vi.contains("Ô gộp"), "{}", merge_issue.message_vi);
    assert_eq!(result.report.counts.people_planned, generated.expected_people);
    assert_eq!(result.report.counts.households_planned, generated.expected_households);
    // Every member of a merged household got the hamlet.
    assert!(result.people.iter().all(|p| p.hamlet_code.starts_with("03445-")));
}

#[test]
fn formula_without_a_cached_value_and_error_cells_are_reported() {
    use rust_xlsxwriter::{Formula, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_formula_result_default("");
    for (c, h) in ["STT", "Họ và tên", "Năm sinh", "Giới tính", "Thôn"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [("Lò Văn Phóng", 1980, "Nam"), ("Lò Thị Lan", 1985, "Nữ"), ("Quàng Văn Sáng", 1990, "Nam")];
    for (i, (name, year, sex)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, f64::from(r)).unwrap();
        sheet.write_string(r, 1, *name).unwrap();
        sheet.write_number(r, 2, f64::from(*year)).unwrap();
        sheet.write_string(r, 3, *sex).unwrap();
        sheet.write_string(r, 4, "Bản Nà Hừ").unwrap();
    }
    // Row 3: the year is a formula never calculated; row 4: the hamlet is #REF!.
    sheet.write_formula(2, 2, Formula::new("=1985")).unwrap();
    sheet.write_formula(3, 4, Formula::new("=#REF!").set_result("#REF!")).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let table = read_table(&bytes, "x.xlsx").unwrap();
    assert_eq!(table.rows[2].get(2), &gocua_import::CellValue::FormulaWithoutValue);
    assert_eq!(table.rows[3].get(4), &gocua_import::CellValue::Error("#REF!".to_owned()));
    let map = detect_columns(&table).unwrap();
    let known = testdata::generate(&GenSpec::new(1, 1)).unwrap().known;
    let result = plan(&table, &map, &known, &PlanOptions::new(2026), None).unwrap();
    let codes = result.report.row_codes(&[Severity::Error, Severity::Warning, Severity::Repaired]);
    let expected: BTreeSet<(u32, String)> =
        [(3, "formula_without_value".to_owned()), (4, "cell_error".to_owned())].into_iter().collect();
    assert_eq!(codes, expected);
    assert_eq!(result.people.len(), 1);
    assert_eq!(result.people[0].fields.full_name, "Lò Văn Phóng");
    let issue = result.report.for_row(4).next().unwrap();
    assert_eq!(issue.value_shown.as_deref(), Some("#REF!"));
    assert!(issue.message_vi.contains("#REF!"));
}

#[test]
fn progress_is_reported_every_thousand_rows() {
    let generated = generate(&GenSpec { format: GenFormat::Csv, ..GenSpec::new(2_500, 3) }).unwrap();
    let table = read_table(&generated.bytes, &generated.file_name).unwrap();
    let map = detect_columns(&table).unwrap();
    let mut calls = Vec::new();
    let mut progress = |done: usize, total: usize| calls.push((done, total));
    let result = plan(&table, &map, &generated.known, &PlanOptions::new(CURRENT_YEAR), Some(&mut progress)).unwrap();
    assert_eq!(calls, [(0, 2_500), (1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]);
    assert_eq!(result.report.counts.people_planned, 2_500);
}
