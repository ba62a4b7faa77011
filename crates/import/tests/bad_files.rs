//! Files that cannot be imported: each a specific error with a Vietnamese message, never a panic.

use gocua_import::read::MAX_FILE_BYTES;
use gocua_import::testdata::{GenSpec, generate};
use gocua_import::{
    ImportError, ReadOptions, WorkbookProblem, detect_columns, read_table, read_table_with, sheet_names,
};
use rust_xlsxwriter::Workbook;

fn assert_vietnamese_first(error: &ImportError) {
    let shown = error.to_string();
    assert!(shown.starts_with(&error.message_vi()), "{shown}");
    assert!(shown.ends_with(&error.message_en()), "{shown}");
    assert!(
        error.message_vi().chars().any(|c| "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ".contains(c)),
        "{shown}"
    );
}

fn sample_xlsx() -> Vec<u8> {
    generate(&GenSpec::new(50, 1)).unwrap().bytes
}

#[test]
fn empty_bytes() {
    let error = read_table(&[], "danh-sach.xlsx").unwrap_err();
    assert_eq!(error, ImportError::Empty);
    assert_eq!(error.message_vi(), "Tệp rỗng, không có dữ liệu.");
    assert_vietnamese_first(&error);
}

#[test]
fn a_text_file_named_xlsx() {
    let error = read_table("Họ và tên,Năm sinh\nA,1990\n".as_bytes(), "danh-sach.xlsx").unwrap_err();
    assert_eq!(error, ImportError::BadWorkbook { problem: WorkbookProblem::NotExcel });
    assert!(error.message_vi().contains("không phải bảng tính Excel"), "{}", error.message_vi());
    assert_vietnamese_first(&error);
}

#[test]
fn a_truncated_xlsx() {
    let bytes = sample_xlsx();
    for cut in [bytes.len() / 2, bytes.len() - 30, 100] {
        let error = read_table(&bytes[..cut], "danh-sach.xlsx").unwrap_err();
        assert_eq!(error, ImportError::BadWorkbook { problem: WorkbookProblem::Damaged }, "cut at {cut}");
        assert!(error.message_vi().contains("bị hỏng"), "{}", error.message_vi());
        assert_vietnamese_first(&error);
    }
}

#[test]
fn an_xlsx_whose_only_sheet_is_empty() {
    let mut workbook = Workbook::new();
    workbook.add_worksheet().set_name("Trang 1").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let error = read_table(&bytes, "trong.xlsx").unwrap_err();
    assert_eq!(error, ImportError::EmptySheet { sheet: "Trang 1".to_owned() });
    assert!(error.message_vi().contains("không có dữ liệu"));
    assert_vietnamese_first(&error);
}

#[test]
fn the_first_sheet_with_data_is_read_and_a_missing_named_sheet_is_an_error() {
    let mut workbook = Workbook::new();
    workbook.add_worksheet().set_name("Bìa").unwrap();
    let data = workbook.add_worksheet();
    data.set_name("Thôn 1").unwrap();
    data.write_string(0, 0, "Họ và tên").unwrap();
    data.write_string(0, 1, "Năm sinh").unwrap();
    data.write_string(1, 0, "Lò Văn A").unwrap();
    data.write_number(1, 1, 1990).unwrap();
    workbook.add_worksheet().set_name("Thôn 2").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    assert_eq!(sheet_names(&bytes, "a.xlsx").unwrap(), ["Bìa", "Thôn 1", "Thôn 2"]);
    let table = read_table(&bytes, "a.xlsx").unwrap();
    assert_eq!(table.sheet(), Some("Thôn 1"), "the first sheet that holds data");
    assert_eq!(table.sheet_names, ["Bìa", "Thôn 1", "Thôn 2"]);
    let named = read_table_with(&bytes, "a.xlsx", &ReadOptions { sheet: Some("Thôn 1".to_owned()) }).unwrap();
    assert_eq!(named.rows.len(), 2);
    let empty = read_table_with(&bytes, "a.xlsx", &ReadOptions { sheet: Some("Thôn 2".to_owned()) }).unwrap_err();
    assert_eq!(empty.code(), "empty_sheet");
    let missing = read_table_with(&bytes, "a.xlsx", &ReadOptions { sheet: Some("Thôn 9".to_owned()) }).unwrap_err();
    assert_eq!(
        missing,
        ImportError::SheetNotFound {
            name: "Thôn 9".to_owned(),
            available: vec!["Bìa".to_owned(), "Thôn 1".to_owned(), "Thôn 2".to_owned()]
        }
    );
    assert!(missing.message_vi().contains("Không có trang tính “Thôn 9”"), "{}", missing.message_vi());
    assert!(missing.message_vi().contains("Bìa, Thôn 1, Thôn 2"));
    assert_vietnamese_first(&missing);
}

#[test]
fn a_file_over_the_size_limit() {
    let mut bytes = sample_xlsx();
    bytes.resize(MAX_FILE_BYTES + 1, 0);
    let error = read_table(&bytes, "lon.xlsx").unwrap_err();
    assert_eq!(error, ImportError::TooLarge { size: MAX_FILE_BYTES + 1 });
    assert!(error.message_vi().contains("tối đa 50.0 MB"), "{}", error.message_vi());
    assert_vietnamese_first(&error);
}

#[test]
fn a_sheet_without_a_recognisable_header() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "BÁO CÁO TIẾN ĐỘ").unwrap();
    for r in 1..30u32 {
        sheet.write_string(r, 0, "Xã Hòa An").unwrap();
        sheet.write_number(r, 1, f64::from(r)).unwrap();
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let table = read_table(&bytes, "bao-cao.xlsx").unwrap();
    let error = detect_columns(&table).unwrap_err();
    assert_eq!(error, ImportError::NoHeader { rows_searched: 25 });
    assert!(error.message_vi().contains("Không tìm thấy dòng tiêu đề"));
    assert_vietnamese_first(&error);
}

#[test]
fn other_file_types_name_the_accepted_ones() {
    for (bytes, name) in [
        (b"%PDF-1.4\n...".as_slice(), "danh-sach.pdf"),
        (b"PK\x03\x04 word".as_slice(), "danh-sach.docx"),
        (b"\x89PNG\r\n\x1a\n".as_slice(), "anh.png"),
        (b"\x00\x00\x00\x01\xff\xfe\x00\x00\x07".as_slice(), "rac.csv"),
    ] {
        let error = read_table(bytes, name).unwrap_err();
        assert_eq!(error.code(), "unsupported_file_type", "{name}");
        assert!(error.message_vi().contains(".xlsx, .xlsm, .xls, .csv"), "{}", error.message_vi());
        assert_vietnamese_first(&error);
    }
}

#[test]
fn garbage_never_panics() {
    // Bytes that look like the start of each kind of file, then noise.
    let mut seed = 12345u64;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (seed >> 33) as u8
            })
            .collect()
    };
    let xlsx = sample_xlsx();
    for prefix in
        [b"PK\x03\x04".to_vec(), vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], vec![0xFF, 0xFE], vec![]]
    {
        for name in ["a.xlsx", "a.xls", "a.csv"] {
            let mut bytes = prefix.clone();
            bytes.extend(noise(2_000));
            let _ = read_table(&bytes, name).and_then(|t| detect_columns(&t));
        }
    }
    // An XLSX with bytes flipped in the middle.
    for at in [xlsx.len() / 3, xlsx.len() / 2, xlsx.len() * 2 / 3] {
        let mut bytes = xlsx.clone();
        for b in &mut bytes[at..at + 64] {
            *b ^= 0x5A;
        }
        let _ = read_table(&bytes, "a.xlsx").and_then(|t| detect_columns(&t));
    }
}
