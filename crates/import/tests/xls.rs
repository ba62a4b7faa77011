//! The old binary format (.xls), read through calamine like XLSX: a fixture written by xlwt
//! (`fixtures/make_xls.py`, made-up people).

use std::collections::BTreeSet;

use gocua_core::model::Sex;
use gocua_import::{Known, KnownHamlet, PlanOptions, Severity, Source, detect_columns, plan, read_table};

const SAMPLE: &[u8] = include_bytes!("fixtures/dc01-sample.xls");

#[test]
fn an_xls_list_is_read_merged_cells_filled_and_planned() {
    let table = read_table(SAMPLE, "dc01-sample.xls").unwrap();
    assert_eq!(table.source, Source::Xls { sheet: "DC01".to_owned() }, "the first sheet with data");
    assert_eq!(table.sheet_names, ["Bìa", "DC01"]);
    let map = detect_columns(&table).unwrap();
    assert_eq!((map.header_row, map.data_start_row), (3, 4));
    assert!(table.merged.iter().any(|m| m.first_row == 4 && m.last_row == 5 && m.filled_down));
    let known = Known {
        hamlets: vec![KnownHamlet { code: "03445-01".to_owned(), name: "Bản Nà Hừ".to_owned() }],
        residents: Vec::new(),
    };
    let result = plan(&table, &map, &known, &PlanOptions::new(2026), None).unwrap();
    let codes = result.report.row_codes(&[Severity::Error, Severity::Warning, Severity::Repaired]);
    let expected: BTreeSet<(u32, String)> =
        [(4, "merged_cell_filled".to_owned()), (5, "cccd_leading_zero".to_owned())].into_iter().collect();
    assert_eq!(codes, expected);
    let people: Vec<(&str, i32, Sex, Option<&str>)> = result
        .people
        .iter()
        .map(|p| (p.fields.full_name.as_str(), p.fields.birth_year, p.fields.sex, p.fields.cccd.as_deref()))
        .collect();
    assert_eq!(
        people,
        [
            ("Lò Văn Phóng", 1989, Sex::Male, Some("012089000123")),
            ("Lò Thị Lan", 1991, Sex::Female, Some("012191000456")),
            ("Quàng Văn Sáng", 2001, Sex::Male, Some("012201000789")),
        ]
    );
    assert_eq!(result.people[0].birth_date.unwrap().day, Some(3), "a date cell, day first");
    assert!(result.people.iter().all(|p| p.hamlet_code == "03445-01"));
}
