//! The planning rules on small hand-written lists: duplicates, existing residents, hamlets,
//! the Nam/Nữ pair, households and their heads, blank and footer rows.

use std::collections::BTreeSet;

use gocua_core::model::Sex;
use gocua_import::{
    Field, ImportError, Known, KnownHamlet, KnownResident, ListKind, Plan, PlanOptions, Severity, detect_columns, plan,
    read_table,
};
use uuid::Uuid;

fn known() -> Known {
    Known {
        hamlets: vec![
            KnownHamlet { code: "H1".into(), name: "Ấp Mỹ Lợi".into() },
            KnownHamlet { code: "H2".into(), name: "Thôn 1".into() },
            KnownHamlet { code: "H3".into(), name: "Tổ 1".into() },
            KnownHamlet { code: "H4".into(), name: "Bản Nà Hừ".into() },
        ],
        residents: Vec::new(),
    }
}

fn options() -> PlanOptions {
    PlanOptions::new(2026)
}

fn run(csv: &str, known: &Known, options: &PlanOptions) -> Result<Plan, ImportError> {
    let table = read_table(csv.as_bytes(), "ds.csv")?;
    let map = detect_columns(&table)?;
    plan(&table, &map, known, options, None)
}

fn codes(plan: &Plan) -> BTreeSet<(u32, String)> {
    plan.report.row_codes(&[Severity::Error, Severity::Warning, Severity::Repaired])
}

fn set(items: &[(u32, &str)]) -> BTreeSet<(u32, String)> {
    items.iter().map(|(r, c)| (*r, (*c).to_owned())).collect()
}

const HEADER: &str = "STT,Họ và tên,Năm sinh,Giới tính,Số CCCD,Thôn\n";

#[test]
fn a_cccd_on_several_rows_is_reported_on_every_row_naming_the_first() {
    let csv = format!(
        "{HEADER}1,Lò Văn A,1989,Nam,012089000123,Bản Nà Hừ\n2,Lò Văn B,1989,Nam,012089000123,Bản Nà Hừ\n3,Lò Văn C,1989,Nam,012089000999,Bản Nà Hừ\n4,Lò Văn D,1989,Nam,012 089 000 123,Bản Nà Hừ\n"
    );
    let result = run(&csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(2, "duplicate_cccd"), (3, "duplicate_cccd"), (5, "duplicate_cccd")]));
    assert_eq!(result.people.len(), 1);
    assert_eq!(result.people[0].row, 4);
    let first = result.report.for_row(2).next().unwrap();
    assert!(first.message_vi.contains("dòng 2 (đầu tiên) và dòng 3, 5"), "{}", first.message_vi);
    let later = result.report.for_row(5).next().unwrap();
    assert_eq!(later.message_vi, "Số CCCD trùng với dòng 2.");
    assert_eq!(later.column_header.as_deref(), Some("Số CCCD"));
    assert_eq!(later.value_shown.as_deref(), Some("012089000123"));
}

#[test]
fn residents_already_held_are_duplicates_unless_they_came_from_this_import() {
    let csv = format!(
        "{HEADER}1,Lò Văn A,1989,Nam,012089000123,Bản Nà Hừ\n2,Lò Thị Bình,1990,Nữ,,Bản Nà Hừ\n3,Quàng Văn C,1991,Nam,012091000777,Bản Nà Hừ\n"
    );
    let first = run(&csv, &known(), &options()).unwrap();
    assert!(codes(&first).is_empty());
    let mut k = known();
    // Row 2's person was entered by hand in the field; row 3's came from this very import.
    k.residents.push(KnownResident {
        id: Uuid::now_v7(),
        full_name: "Lò Văn A".into(),
        birth_year: 1989,
        hamlet_code: "H4".into(),
        cccd: Some("012089000123".into()),
    });
    k.residents.push(KnownResident {
        id: Uuid::now_v7(),
        full_name: "LO THI BINH".into(),
        birth_year: 1990,
        hamlet_code: "H4".into(),
        cccd: None,
    });
    let imported = first.people.iter().find(|p| p.row == 4).unwrap();
    k.residents.push(KnownResident {
        id: imported.id(),
        full_name: "Quàng Văn C".into(),
        birth_year: 1991,
        hamlet_code: "H4".into(),
        cccd: Some("012091000777".into()),
    });
    let again = run(&csv, &k, &options()).unwrap();
    assert_eq!(codes(&again), set(&[(2, "cccd_exists"), (3, "possible_existing")]));
    assert_eq!(again.people.iter().map(|p| p.row).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(again.people[1].key, imported.key, "the same key again");
}

#[test]
fn hamlets_match_folded_and_without_their_kind_word() {
    let csv = format!(
        "{HEADER}1,A Một,1990,Nam,,Mỹ Lợi\n2,A Hai,1990,Nam,,AP MY LOI\n3,A Ba,1990,Nam,,ấp  mỹ lợi\n4,A Bốn,1990,Nam,,Ấp Mỹ Lợi B\n5,A Năm,1990,Nam,,1\n6,A Sáu,1990,Nam,,thôn 1\n7,A Bảy,1990,Nam,,H3\n8,A Tám,1990,Nam,,\n"
    );
    let result = run(&csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(5, "hamlet_unknown"), (6, "hamlet_ambiguous"), (9, "required")]));
    let hamlets: Vec<(u32, &str)> = result.people.iter().map(|p| (p.row, p.hamlet_code.as_str())).collect();
    assert_eq!(hamlets, [(2, "H1"), (3, "H1"), (4, "H1"), (7, "H2"), (8, "H3")]);
    let unknown = result.report.for_row(5).next().unwrap();
    assert!(unknown.message_vi.contains("4 thôn/ấp"), "{}", unknown.message_vi);
    let ambiguous = result.report.for_row(6).next().unwrap();
    assert!(ambiguous.message_vi.contains("Thôn 1, Tổ 1"), "{}", ambiguous.message_vi);
}

#[test]
fn a_default_hamlet_fills_a_file_without_a_hamlet_column() {
    let csv = "Họ và tên,Năm sinh,Giới tính\nLò Văn A,1990,Nam\n";
    let missing = run(csv, &known(), &options()).unwrap_err();
    assert_eq!(missing, ImportError::MissingColumns { missing: vec![Field::Hamlet] });
    let with_default = PlanOptions { default_hamlet: Some("H4".into()), ..options() };
    let result = run(csv, &known(), &with_default).unwrap();
    assert_eq!(result.people[0].hamlet_code, "H4");
    let unknown = PlanOptions { default_hamlet: Some("H9".into()), ..options() };
    assert_eq!(run(csv, &known(), &unknown).unwrap_err().code(), "unknown_default_hamlet");
    let no_birth = run("Họ và tên,Giới tính,Thôn\nA,Nam,Thôn 1\n", &known(), &options()).unwrap_err();
    assert_eq!(no_birth, ImportError::MissingColumns { missing: vec![Field::BirthDate] });
}

#[test]
fn the_nam_nu_pair_gives_sex_and_birth_date() {
    let csv = "TT,Họ và tên,Ngày tháng năm sinh,,Thôn\n,,Nam,Nữ,\n1,Lò Văn A,03/04/1990,,Thôn 1\n2,Lò Thị B,,1992,Thôn 1\n3,Lò Thị C,1990,1991,Thôn 1\n4,Lò Văn D,,,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(5, "sex_both_columns"), (6, "required")]));
    let a = &result.people[0];
    assert_eq!((a.fields.sex, a.fields.birth_year), (Sex::Male, 1990));
    assert_eq!(a.birth_date.unwrap().month, Some(4), "day first: 03/04 is the 3rd of April");
    let b = &result.people[1];
    assert_eq!((b.fields.sex, b.fields.birth_year), (Sex::Female, 1992));

    // Marks under Nam/Nữ with a separate year column.
    let marks = "Họ và tên,Năm sinh,Nam,Nữ,Thôn\nLò Văn A,1990,x,,Thôn 1\nLò Thị B,1991,,X,Thôn 1\n";
    let result = run(marks, &known(), &options()).unwrap();
    assert!(codes(&result).is_empty());
    assert_eq!(result.people.iter().map(|p| p.fields.sex).collect::<Vec<_>>(), [Sex::Male, Sex::Female]);
}

#[test]
fn sex_digits_follow_the_header_and_a_missing_sex_comes_from_the_cccd() {
    let csv = "Họ và tên,Năm sinh,Giới tính (1: Nam; 0: Nữ),Số CCCD,Thôn\nA,1989,1,,Thôn 1\nB,1989,0,,Thôn 1\nC,1989,,012189000123,Thôn 1\nD,1989,,,Thôn 1\nE,1989,2,,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(4, "sex_from_cccd"), (5, "required"), (6, "sex_format")]));
    let sexes: Vec<Sex> = result.people.iter().map(|p| p.fields.sex).collect();
    assert_eq!(sexes, [Sex::Male, Sex::Female, Sex::Female]);

    // No sex column at all: the CCCD tells, a file-level warning says so.
    let csv = "Họ và tên,Năm sinh,Số CCCD,Thôn\nA,1989,012189000123,Thôn 1\nB,1989,,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(3, "required")]));
    assert_eq!(result.people[0].fields.sex, Sex::Female);
    assert!(result.report.issues.iter().any(|i| i.row.is_none() && i.code == "no_sex_column"));
}

#[test]
fn birth_date_and_year_must_agree_and_be_in_range() {
    let csv = "Họ và tên,Ngày sinh,Năm sinh,Giới tính,Số CCCD,Thôn\nA,03/04/1990,1990,Nam,,Thôn 1\nB,03/04/1990,1991,Nam,,Thôn 1\nC,1899,,Nam,,Thôn 1\nD,2030,,Nữ,,Thôn 1\nE,,,Nam,,Thôn 1\nF,1988,,Nam,012089000123,Thôn 1\nG,1989,,Nữ,012089000124,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(
        codes(&result),
        set(&[
            (3, "birth_year_mismatch"),
            (4, "birth_year_out_of_range"),
            (5, "birth_year_out_of_range"),
            (6, "required"),
            (7, "cccd_birth_year_mismatch"),
            (8, "cccd_sex_mismatch"),
        ])
    );
    assert_eq!(result.people.len(), 1);
}

#[test]
fn warnings_keep_the_person() {
    let csv = "Họ và tên,Năm sinh,Giới tính,CCCD/CMND,SĐT,Thôn\nA,1990,Nam,012345678,0912 345 678,Thôn 1\nB,1990,Nữ,012190000123,12345,Thôn 1\nC,1990,Nữ,chưa cấp,388123456,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(
        codes(&result),
        set(&[(2, "cmnd_not_cccd"), (3, "phone_format"), (4, "cccd_not_number"), (4, "phone_leading_zero")])
    );
    assert_eq!(result.people.len(), 3);
    assert_eq!(result.people[0].fields.cccd, None);
    assert_eq!(result.people[0].fields.phone.as_deref(), Some("0912345678"));
    assert_eq!(result.people[1].fields.phone, None);
    assert_eq!(result.people[2].fields.phone.as_deref(), Some("0388123456"));
    let severities: BTreeSet<Severity> = result.report.issues.iter().map(|i| i.severity).collect();
    assert!(!severities.contains(&Severity::Error));
    // the three above and the file's: no address column, the hamlet's name is the address
    assert_eq!(result.report.counts.warnings, 4);
    assert!(result.report.issues.iter().any(|i| i.row.is_none() && i.code == "no_address_column"));
    assert!(result.households.iter().all(|h| !h.address.is_empty()), "every household has an address");
    assert_eq!(result.report.counts.repairs, 1);
}

#[test]
fn blank_rows_stt_only_rows_and_footers_are_skipped() {
    let csv = "DANH SÁCH\n\nSTT,Họ và tên,Năm sinh,Giới tính,Thôn\n1,Lò Văn A,1990,Nam,Thôn 1\n,,,,\n2,,,,\n3,Lò Thị B,1991,Nữ,Thôn 1\n,Tổng cộng: 2 người,,,\n,Người lập biểu,,,\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(8, "row_not_person"), (9, "row_not_person")]));
    let c = &result.report.counts;
    assert_eq!((c.rows_read, c.rows_blank, c.rows_not_person, c.people_planned), (4, 1, 2, 2));
    assert_eq!(result.people.iter().map(|p| p.row).collect::<Vec<_>>(), [4, 7]);
}

#[test]
fn households_group_by_code_then_address_and_head_then_address() {
    // By the household code column.
    let csv = "Mã hộ,Họ và tên,Năm sinh,Giới tính,Quan hệ với chủ hộ,Thôn\nHK01,Lò Văn A,1960,Nam,Chủ hộ,Thôn 1\nHK01,Lò Thị B,1962,Nữ,Vợ,Thôn 1\nHK02,Cầm Văn C,1970,Nam,Chủ hộ,Thôn 1\nHK01,Lò Văn D,1990,Nam,Con,Thôn 1\nHK02,Cầm Văn E,1971,Nam,CHỦ HỘ,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(6, "household_two_heads")]));
    assert_eq!(result.households.len(), 2);
    assert_eq!(result.households[0].member_rows, [2, 3, 5]);
    assert_eq!(result.households[0].head_row, Some(2));
    assert_eq!(result.households[0].head_name, "Lò Văn A");
    assert_eq!(result.households[0].household_code.as_deref(), Some("HK01"));
    assert!(result.people[0].is_head && !result.people[1].is_head);

    // By address and head's name; by address alone when the head column is empty.
    let csv = "Họ và tên,Năm sinh,Giới tính,Địa chỉ,Chủ hộ,Thôn\nLò Văn A,1960,Nam,Số 1,Lò Văn A,Thôn 1\nLò Thị B,1962,Nữ,số  1,LÒ VĂN A,Thôn 1\nCầm Văn C,1970,Nam,Số 1,Cầm Văn C,Thôn 1\nLò Văn D,1990,Nam,Số 2,,Thôn 1\nLò Văn E,1991,Nam,Số 2,,Thôn 1\nLò Văn G,1992,Nam,,,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(7, "address_from_hamlet")]), "a household without an address is told");
    let members: Vec<Vec<u32>> = result.households.iter().map(|h| h.member_rows.clone()).collect();
    assert_eq!(members, [vec![2, 3], vec![4], vec![5, 6], vec![7]]);
    assert_eq!(result.households[3].address, "Thôn 1", "the hamlet's name stands in");
    assert_eq!(result.households[0].head_row, Some(2), "no relation column: the head is the one named as head");
    assert_eq!(result.households[2].head_name, "Lò Văn D", "no head named: the first member");
}

#[test]
fn keys_do_not_depend_on_row_order_or_spelling_of_the_same_values() {
    let a = format!("{HEADER}1,Lò Văn A,1989,Nam,012089000123,Bản Nà Hừ\n2,Lò Thị B,1990,Nữ,,Bản Nà Hừ\n");
    let b = format!("{HEADER}1,Lò Thị B,1990,Nữ,,BẢN NÀ HỪ\n2,Lò Văn A,1989,Nam,012.089.000.123,Nà Hừ\n");
    let (pa, pb) = (run(&a, &known(), &options()).unwrap(), run(&b, &known(), &options()).unwrap());
    let keys = |p: &Plan| p.people.iter().map(|x| x.key.clone()).collect::<BTreeSet<_>>();
    assert_eq!(keys(&pa), keys(&pb));
    let other_namespace = PlanOptions { key_namespace: "other".into(), ..options() };
    let pc = run(&a, &known(), &other_namespace).unwrap();
    assert!(keys(&pa).is_disjoint(&keys(&pc)), "another namespace, other keys");
}

#[test]
fn a_repeated_person_without_cccd_is_left_out_after_the_first() {
    let csv = format!("{HEADER}1,Lò Thị B,1990,Nữ,,Bản Nà Hừ\n2,LÒ THỊ B,1990,Nữ,,Bản Nà Hừ\n");
    let result = run(&csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(3, "duplicate_person")]));
    assert_eq!(result.people.len(), 1);
}

#[test]
fn status_column_sets_the_list_kind() {
    let csv = "Họ và tên,Năm sinh,Giới tính,Thôn,Tình trạng\nA,1990,Nam,Thôn 1,Chưa đăng ký\nB,1990,Nam,Thôn 1,Đã duyệt chưa kích hoạt\nC,1990,Nam,Thôn 1,đi làm ăn xa\nD,1990,Nam,Thôn 1,\n";
    let defaulted = PlanOptions { default_list_kind: Some(ListKind::NotRegistered), ..options() };
    let result = run(csv, &known(), &defaulted).unwrap();
    let kinds: Vec<Option<ListKind>> = result.people.iter().map(|p| p.list_kind).collect();
    assert_eq!(
        kinds,
        [
            Some(ListKind::NotRegistered),
            Some(ListKind::ApprovedNotActivated),
            Some(ListKind::NotRegistered),
            Some(ListKind::NotRegistered)
        ]
    );
    assert_eq!(result.people[2].status_text.as_deref(), Some("đi làm ăn xa"));
}

#[test]
fn forbidden_characters_are_refused_by_name_in_any_text_field() {
    let csv =
        "Họ và tên,Năm sinh,Giới tính,Địa chỉ,Thôn\nA\u{202E}B,1990,Nam,x,Thôn 1\nC,1990,Nam,số\u{0007}1,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert_eq!(codes(&result), set(&[(2, "forbidden_character"), (3, "forbidden_character")]));
    let issue = result.report.for_row(3).next().unwrap();
    assert_eq!(issue.field, Some(Field::Address));
    assert!(issue.message_vi.contains("U+0007"), "{}", issue.message_vi);
}

#[test]
fn debug_output_holds_no_personal_data() {
    let csv = format!("{HEADER}1,Lò Văn Bí Mật,1989,Nam,012089000123,Bản Nà Hừ\n2,X,1989,Nam,012089000123,Bản Nà Hừ\n");
    let result = run(&csv, &known(), &options()).unwrap();
    let table = read_table(csv.as_bytes(), "ds.csv").unwrap();
    let shown = format!("{result:?} {table:?}");
    assert!(!shown.contains("Bí Mật") && !shown.contains("012089000123"), "{shown}");
}

#[test]
fn a_header_repeated_on_every_printed_page_is_skipped() {
    let csv = "STT,Họ và tên,Năm sinh,Giới tính,Thôn\n(1),(2),(3),(4),(5)\n1,Lò Văn A,1990,Nam,Thôn 1\nSTT,HỌ VÀ TÊN,NĂM SINH,GIỚI TÍNH,THÔN\n(1),(2),(3),(4),(5)\n2,Lò Thị B,1991,Nữ,Thôn 1\n";
    let result = run(csv, &known(), &options()).unwrap();
    assert!(codes(&result).is_empty(), "{:?}", result.report.issues);
    let c = &result.report.counts;
    assert_eq!((c.rows_read, c.rows_header_repeated, c.people_planned), (2, 2, 2));
    assert_eq!(result.people.iter().map(|p| p.row).collect::<Vec<_>>(), [3, 6]);
}
