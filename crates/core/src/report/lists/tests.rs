//! The named lists: who is on which, what a reader who is not the police sees, CSV with its
//! byte-order mark, XLSX going on to another sheet.

use calamine::{Reader, Xlsx};

use super::*;
use crate::store::DeviceStore;

fn reasons() -> ReasonCatalog {
    DeviceStore::open_in_memory().unwrap().reasons().unwrap()
}

fn person(n: u128, status: Option<FunnelState>, reason: Option<&str>) -> ListRow {
    ListRow {
        resident_id: Uuid::from_u128(n),
        full_name: format!("Lò Thị Lan {n}"),
        birth_year: 1980,
        sex: Sex::Female,
        cccd: Some("012180001234".into()),
        phone: Some("0912345678".into()),
        head_name: "Lò Văn Páo".into(),
        address: "Số 3 đường Đầu bản".into(),
        hamlet_code: "03445-01".into(),
        status,
        reason_code: reason.map(str::to_owned),
        claim_check: None,
        activated_at: None,
        activated_by: None,
    }
}

#[test]
fn each_list_takes_its_people() {
    let activated = person(1, Some(FunnelState::ActivatedLevel2), Some("refused"));
    let absent = person(2, Some(FunnelState::NotRegistered), Some("absent_unreachable"));
    let deceased = person(3, Some(FunnelState::NotRegistered), Some("deceased"));
    let no_reason = person(4, Some(FunnelState::NotRegistered), None);
    let on = |kind: ListKind| {
        [&activated, &absent, &deceased, &no_reason]
            .iter()
            .filter(|p| kind.includes(p))
            .map(|p| p.birth_year + p.resident_id.as_u128() as i32)
            .collect::<Vec<_>>()
    };
    assert_eq!(on(ListKind::Activated), [1981]);
    assert_eq!(on(ListKind::Absent), [1982]);
    assert_eq!(on(ListKind::NotEligible), [1983]);
    assert_eq!(on(ListKind::CannotActivate), [1982, 1983]);
    assert_eq!(on(ListKind::Everyone), [1981, 1982, 1983, 1984]);
    assert_eq!(ListKind::from_code("not-eligible"), Some(ListKind::NotEligible));
    assert_eq!(ListKind::from_code("everyone"), Some(ListKind::Everyone));
    assert_eq!(ListKind::from_code("nobody"), None);
}

#[test]
fn only_the_police_see_full_cccd_numbers_and_police_only_reasons() {
    let reasons = reasons();
    let names = |_: Uuid| "Công an xã".to_owned();
    let places = |_: &str| "Bản Nậm Củm".to_owned();
    let prison = person(1, Some(FunnelState::NotRegistered), Some("in_prison"));
    let police = Cells::new(&reasons, &names, &places, true).of(&prison);
    let others = Cells::new(&reasons, &names, &places, false).of(&prison);
    assert_eq!((police[3].as_str(), police[9].as_str()), ("012180001234", "Đi tù"));
    assert_eq!(others[3], "**********34");
    assert_ne!(others[9], "Đi tù");
    assert_eq!(others[9], reasons.get(WITHHELD_REASON).unwrap().label_vi);
    assert_eq!((others[7].as_str(), others[2].as_str()), ("Bản Nậm Củm", "Nữ"));
}

#[test]
fn a_csv_list_starts_with_a_byte_order_mark_and_lists_by_reason_in_catalog_order() {
    let reasons = reasons();
    let names = |_: Uuid| String::new();
    let places = |code: &str| code.to_owned();
    let cells = Cells::new(&reasons, &names, &places, true);
    let mut out = Vec::new();
    let sink = Box::new(CsvList::new(&mut out, ListKind::CannotActivate.title_vi()).unwrap());
    let hamlet = [
        person(1, Some(FunnelState::NotRegistered), Some("refused")),
        person(2, Some(FunnelState::NotRegistered), Some("abroad")),
        person(3, Some(FunnelState::ActivatedLevel1), None),
        person(4, Some(FunnelState::NotRegistered), Some("refused")),
    ];
    let written =
        write_list(ListKind::CannotActivate, &["03445-01".into()], |_| Ok::<_, Error>(hamlet.to_vec()), &cells, sink)
            .unwrap();
    assert_eq!(written, 3);
    let text = String::from_utf8(out).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark first");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("\"{}\"", ListKind::CannotActivate.title_vi()));
    assert!(lines[1].starts_with("STT,Họ và tên,Năm sinh"));
    // "Đi nước ngoài" comes before "Từ chối" in the catalog; within a reason, the hamlet's order
    let people: Vec<(&str, &str)> =
        lines[2..].iter().map(|l| (l.split(',').next().unwrap(), l.split(',').nth(1).unwrap())).collect();
    assert_eq!(people, [("1", "Lò Thị Lan 2"), ("2", "Lò Thị Lan 1"), ("3", "Lò Thị Lan 4")]);
}

#[test]
fn an_xlsx_list_goes_on_to_another_sheet_when_one_is_full() {
    let reasons = reasons();
    let names = |_: Uuid| String::new();
    let places = |code: &str| code.to_owned();
    let cells = Cells::new(&reasons, &names, &places, true);
    let dir = tempfile::tempdir().unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    let sink = XlsxList::new(&mut out, ListKind::Activated.title_vi(), dir.path()).unwrap().with_rows_per_sheet(3);
    let people: Vec<ListRow> = (1..=7).map(|n| person(n, Some(FunnelState::ActivatedLevel1), None)).collect();
    let written = write_list(
        ListKind::Activated,
        &["03445-01".into()],
        |_| Ok::<_, Error>(people.clone()),
        &cells,
        Box::new(sink),
    )
    .unwrap();
    assert_eq!(written, 7);
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(out.into_inner())).unwrap();
    assert_eq!(book.sheet_names(), ["Danh sách", "Danh sách (2)", "Danh sách (3)"]);
    let mut numbers = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        let rows: Vec<_> = range.rows().collect();
        assert_eq!(rows[0][0].to_string(), ListKind::Activated.title_vi());
        assert_eq!(rows[1].iter().map(|c| c.to_string()).collect::<Vec<_>>(), HEADERS);
        for row in &rows[2..] {
            numbers.push(row[0].to_string());
            assert_eq!(row[4].to_string(), "012180001234", "a CCCD stays text, its leading zero kept");
        }
    }
    assert_eq!(numbers, ["1", "2", "3", "4", "5", "6", "7"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temp file left behind");
}

#[test]
fn a_full_sheet_ends_on_excel_s_last_row() {
    // the last person of a full sheet sits on the last row Excel has; one more would not fit
    let last = LIST_HEAD_ROWS + ROWS_PER_SHEET - 1;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(last, 0, "the last person").expect("the last row Excel has");
    assert!(sheet.write_string(last + 1, 0, "one too many").is_err(), "past Excel's rows");
}
