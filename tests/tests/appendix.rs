//! The appendix ("Phụ lục thống kê") the police send, end to end: a known campaign made with the
//! simulator (three phones' field work synced to the real server) and an officer's decisions
//! (the campaign with its hamlet quotas, household surveys, spot-check findings), exported by
//! the server's command line, then read by LibreOffice (`soffice --headless --convert-to csv`, a
//! real reader nobody here wrote). Every total and rate it shows must equal a count made here
//! straight from the server's database with SQL of this test's own.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, Utc};
use gocua_core::event::{CampaignSet, ClaimChecked, HouseholdSurveyed, Payload, Quota, QuotaHolder};
use gocua_core::report::{DayRange, REPORT_UTC_OFFSET_MINUTES, appendix, lists};
use gocua_core::spotcheck::CheckOutcome;
use gocua_e2e::TestServer;
use uuid::Uuid;

const HAMLETS: [(&str, &str); 2] = [("03445-01", "Bản Nậm Củm"), ("03445-02", "Bản Phìn Khò")];

/// Converts sheet `sheet` (1-based) of `xlsx` to CSV with LibreOffice, with a profile of its
/// own; returns the CSV's text.
fn libreoffice_csv(xlsx: &Path, sheet: u32, out: &Path) -> String {
    // , separator; " quotes; UTF-8; raw values (not as shown), so a rate is 0.4, not 40,0%
    let filter = format!("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet}");
    soffice(&filter, xlsx, out, None);
    // with a sheet asked, the file is named after it: appendix-<sheet name>.csv
    let written: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    assert_eq!(written.len(), 1, "soffice wrote {written:?}");
    let text = std::fs::read_to_string(&written[0]).unwrap();
    std::fs::remove_file(&written[0]).unwrap();
    assert!(!text.is_empty(), "soffice wrote an empty file");
    text
}

/// Runs `soffice --convert-to <to> <file>` into `out`, with a profile of its own, reading the
/// file with the import filter `infilter` when given.
fn soffice(to: &str, file: &Path, out: &Path, infilter: Option<&str>) {
    let mut command = Command::new("soffice");
    if let Some(filter) = infilter {
        command.arg(format!("--infilter={filter}"));
    }
    let run = command
        .arg(format!("-env:UserInstallation=file://{}", out.join("lo-profile").display()))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out)
        .arg(file)
        .output()
        .expect("soffice runs (Debian's libreoffice-calc-nogui; scripts/test.sh installs it)");
    assert!(run.status.success(), "soffice: {}", String::from_utf8_lossy(&run.stderr));
}

/// The people of a named list as LibreOffice reads it: (name, birth year, CCCD cell).
fn list_people(csv_text: &str) -> Vec<(String, String, String)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv_text.as_bytes());
    let records: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    let header_at = records.iter().position(|r| r.first().is_some_and(|c| c == "STT")).expect("a header row");
    assert_eq!(records[header_at], lists::HEADERS, "the list's headers, in Vietnamese, intact");
    records[header_at + 1..].iter().map(|r| (r[1].clone(), r[2].clone(), r[4].clone())).collect()
}

/// Exports list `kind` of the commune as `by` to `file`.
fn export(server: &TestServer, by: &str, kind: &str, file: &Path) -> gocua_e2e::AdminRun {
    server.admin_run(&[
        OsStr::new("export-list"),
        OsStr::new("--by"),
        OsStr::new(by),
        OsStr::new("--place"),
        OsStr::new("03445"),
        OsStr::new("--list"),
        OsStr::new(kind),
        OsStr::new("--out"),
        file.as_os_str(),
    ])
}

/// The data rows under the column headers, by the text of their second cell (the unit).
fn rows_by_unit(csv_text: &str) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv_text.as_bytes());
    let records: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    let header_at = records.iter().position(|r| r.first().is_some_and(|c| c == "STT")).expect("a header row");
    assert_eq!(header_at as u32, appendix::HEADER_ROWS - 1, "the column headers sit where the sheet freezes them");
    let rows = records[header_at + 1..].iter().map(|r| (r[1].clone(), r.clone())).collect();
    (records[header_at].clone(), rows)
}

/// A count made with the test's own SQL on the server's database (both dialects).
fn count(server: &TestServer, sql: &str) -> BTreeMap<String, u64> {
    server.sql_text_rows(sql).into_iter().map(|r| (r[0].clone(), r[1].parse().unwrap())).collect()
}

struct Expected {
    by_hamlet: BTreeMap<&'static str, BTreeMap<&'static str, f64>>,
}

fn expected(server: &TestServer, window: &DayRange) -> Expected {
    let listed = "FROM residents r JOIN households h ON h.id = r.household_id
                  WHERE r.removed IS NULL AND h.removed IS NULL";
    let activated = "('activated_level1', 'activated_level2', 'used_portal')";
    let per = |select: &str, filter: &str| {
        count(server, &format!("SELECT h.hamlet_code, CAST({select} AS TEXT) {listed} {filter} GROUP BY h.hamlet_code"))
    };
    let households = |select: &str| {
        count(
            server,
            &format!(
                "SELECT hamlet_code, CAST({select} AS TEXT) FROM households WHERE removed IS NULL GROUP BY hamlet_code"
            ),
        )
    };
    let (start, end) = window.bounds_text();
    let firsts = format!(
        "SELECT h.hamlet_code, CAST(count(*) AS TEXT) FROM
           (SELECT resident_id, min(device_time) AS at FROM visits WHERE status IN {activated} GROUP BY resident_id) f
         JOIN residents r ON r.id = f.resident_id JOIN households h ON h.id = r.household_id
         WHERE r.removed IS NULL AND h.removed IS NULL AND f.at >= '{start}' AND f.at < '{end}'
         GROUP BY h.hamlet_code"
    );
    let columns: Vec<(&'static str, BTreeMap<String, u64>)> = vec![
        ("Tổng số hộ", households("count(*)")),
        ("Số hộ đã khảo sát", households("count(members)")),
        ("Số nhân khẩu (hộ đã khảo sát)", households("coalesce(sum(members), 0)")),
        ("Số người sử dụng điện thoại thông minh", households("coalesce(sum(smartphones), 0)")),
        (
            "Số hộ có máy tính kết nối mạng Internet",
            households("sum(CASE WHEN has_internet_computer THEN 1 ELSE 0 END)"),
        ),
        ("Tổng số công dân", per("count(*)", "")),
        (
            "Số công dân đủ điều kiện",
            per(
                "count(*)",
                &format!(
                    "AND (r.reason_code IS NULL OR r.status IN {activated}
                          OR r.reason_code NOT IN ('not_eligible', 'deceased', 'moved_away'))"
                ),
            ),
        ),
        ("Đã kích hoạt mức 1", per("count(*)", "AND r.status = 'activated_level1'")),
        ("Đã kích hoạt mức 2", per("count(*)", "AND r.status = 'activated_level2'")),
        ("Đã dùng VNeID đăng nhập Cổng DVC", per("count(*)", "AND r.status = 'used_portal'")),
        ("Tổng số đã kích hoạt", per("count(*)", &format!("AND r.status IN {activated}"))),
        (
            "Trong đó: đã kiểm tra xác nhận",
            per("count(*)", &format!("AND r.status IN {activated} AND r.claim_check = 'confirmed'")),
        ),
        ("Đã đăng ký, chờ phê duyệt", per("count(*)", "AND r.status = 'registered_pending'")),
        ("Đã phê duyệt, chưa kích hoạt", per("count(*)", "AND r.status = 'approved_not_activated'")),
        ("Chưa đăng ký", per("count(*)", "AND r.status = 'not_registered'")),
        ("Chưa có CCCD gắn chip", per("count(*)", "AND r.status = 'no_chip_cccd'")),
        ("Chưa rà soát", per("count(*)", "AND r.status IS NULL")),
        (
            "Không có mặt",
            per("count(*)", &format!("AND r.reason_code = 'absent_unreachable' AND r.status NOT IN {activated}")),
        ),
        ("Từ chối", per("count(*)", &format!("AND r.reason_code = 'refused' AND r.status NOT IN {activated}"))),
        (
            "Có thể kích hoạt",
            per(
                "count(*)",
                &format!(
                    "AND r.status NOT IN {activated}
                     AND r.reason_code IN (SELECT code FROM reasons WHERE can_activate_later = {})",
                    if server.database().starts_with("postgres") { "true" } else { "1" }
                ),
            ),
        ),
        ("Kích hoạt mới trong kỳ", count(server, &firsts)),
    ];
    let mut by_hamlet: BTreeMap<&'static str, BTreeMap<&'static str, f64>> = BTreeMap::new();
    for (hamlet, _) in HAMLETS {
        let cells = by_hamlet.entry(hamlet).or_default();
        for (header, counts) in &columns {
            cells.insert(header, counts.get(hamlet).copied().unwrap_or(0) as f64);
        }
    }
    Expected { by_hamlet }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_appendix_libreoffice_reads_equals_a_count_straight_from_the_database() {
    let server = TestServer::start().await;
    server.add_places();
    let sim = gocua_e2e::server_bin().with_file_name("gocua-sim");
    let out = Command::new(&sim)
        .args(["--server", &server.url, "--devices", "3", "--visits", "120", "--seed", "15", "--admin-database"])
        .arg(server.database())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", sim.display()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // the office's decisions, recorded by the commune police at the server: surveys of every
    // other household, a spot-check confirming every other activation, one finding it wrong,
    // and the campaign with its hamlet quotas
    let officer =
        server.admin(&["add-user", "--name", "Trần Văn Công", "--role", "commune-police", "--scope", "03445"]);
    let projection = server.projection();
    let mut payloads = Vec::new();
    let mut households: Vec<_> = projection.households.values().collect();
    households.sort_by_key(|h| h.id);
    for (i, h) in households.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let members = 2 + (i % 5) as u32;
        payloads.push(Payload::HouseholdSurveyed(HouseholdSurveyed {
            household_id: h.id,
            members,
            smartphones: (i % 3) as u32,
            has_internet_computer: i % 4 == 0,
        }));
    }
    let mut activated: Vec<_> =
        projection.residents.values().filter(|r| r.status.is_some_and(|s| s.is_activated())).collect();
    activated.sort_by_key(|r| r.id);
    assert!(activated.len() > 20, "the simulator activates people: {}", activated.len());
    for (i, r) in activated.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let outcome = if i == 0 { CheckOutcome::Wrong } else { CheckOutcome::Confirmed };
        payloads.push(Payload::ClaimChecked(ClaimChecked {
            resident_id: r.id,
            visit_id: r.deciding_visit.expect("an activated person's deciding visit"),
            outcome,
        }));
    }
    let today = (Utc::now() + Duration::minutes(REPORT_UTC_OFFSET_MINUTES.into())).date_naive();
    let window = DayRange::new(today - Duration::days(10), today + Duration::days(20)).unwrap();
    let campaign = CampaignSet {
        campaign_id: Uuid::now_v7(),
        name: "Cao điểm 30 ngày kích hoạt tài khoản định danh điện tử".into(),
        place: "03445".into(),
        starts: window.from,
        ends: window.until,
        target: None,
        per_official: Some(10),
        quotas: vec![
            Quota { holder: QuotaHolder::Place("03445-01".into()), total: Some(40), per_day: Some(3) },
            Quota { holder: QuotaHolder::Place("03445-02".into()), total: Some(25), per_day: None },
        ],
    };
    payloads.push(Payload::CampaignSet(campaign.clone()));
    let decisions = server.temp_path("decisions.json");
    std::fs::write(&decisions, serde_json::to_vec(&payloads).unwrap()).unwrap();
    let recorded = server.admin_run(&[
        OsStr::new("record-events"),
        OsStr::new("--by"),
        OsStr::new(&officer),
        decisions.as_os_str(),
    ]);
    assert!(recorded.success, "{}\n{}", recorded.stdout, recorded.stderr);
    assert!(recorded.stdout.contains(", 0 rejected"), "{}", recorded.stdout);

    // the appendix of the campaign, exported at the command line
    let xlsx = server.temp_path("appendix.xlsx");
    let id = campaign.campaign_id.to_string();
    let run = server.admin_run(&[
        OsStr::new("report"),
        OsStr::new("--place"),
        OsStr::new("03445"),
        OsStr::new("--campaign"),
        OsStr::new(&id),
        OsStr::new("--xlsx"),
        xlsx.as_os_str(),
    ]);
    assert!(run.success, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Xã Mường Tè — Cao điểm 30 ngày"), "{}", run.stdout);

    let out_dir = server.temp_path("csv");
    std::fs::create_dir_all(&out_dir).unwrap();
    let (headers, rows) = rows_by_unit(&libreoffice_csv(&xlsx, 1, &out_dir));
    assert_eq!(headers, appendix::unit_headers(), "the appendix's headers, in Vietnamese, intact");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let num = |row: &[String], name: &str| -> f64 {
        let cell = &row[col(name)];
        // LibreOffice keeps a percentage's sign even as a raw value ("46.6666666666667%")
        let (digits, scale) = cell.strip_suffix('%').map_or((cell.as_str(), 1.0), |d| (d, 100.0));
        digits.parse::<f64>().unwrap_or_else(|_| panic!("{name}: {cell:?} is not a number")) / scale
    };
    let expected = expected(&server, &window);
    assert_eq!(rows.len(), 3, "two hamlets and the total: {rows:?}");
    let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
    for (code, name) in HAMLETS {
        let row = rows.get(name).unwrap_or_else(|| panic!("no row named {name} (Vietnamese names intact): {rows:?}"));
        for (header, want) in &expected.by_hamlet[code] {
            assert_eq!(num(row, header), *want, "{name}: {header}");
            *sums.entry(header).or_default() += want;
        }
        let want = &expected.by_hamlet[code];
        let rate = want["Tổng số đã kích hoạt"] / want["Số công dân đủ điều kiện"];
        assert!((num(row, "Tỷ lệ kích hoạt / đủ điều kiện (%)") - rate).abs() < 1e-9, "{name}: the rate");
        let quota = if code == "03445-01" { 40.0 } else { 25.0 };
        assert_eq!(num(row, "Chỉ tiêu"), quota, "{name}: its quota");
        let progress = num(row, "Kích hoạt mới trong kỳ") / quota;
        assert!((num(row, "Tiến độ (%)") - progress).abs() < 1e-9, "{name}: progress");
    }
    assert!(sums["Trong đó: đã kiểm tra xác nhận"] > 0.0 && sums["Số hộ đã khảo sát"] > 0.0);
    assert!(sums["Kích hoạt mới trong kỳ"] > 0.0 && sums["Không có mặt"] > 0.0);
    let total = &rows[appendix::TOTAL_LABEL];
    for (header, sum) in &sums {
        assert_eq!(num(total, header), *sum, "total: {header}");
    }
    assert_eq!(num(total, "Chỉ tiêu"), 65.0, "the commune's quota is its hamlets'");
    let total_rate = sums["Tổng số đã kích hoạt"] / sums["Số công dân đủ điều kiện"];
    assert!((num(total, "Tỷ lệ kích hoạt / đủ điều kiện (%)") - total_rate).abs() < 1e-9);

    // the days sheet: one row a day of the window, adding up to the new activations
    let days_csv = libreoffice_csv(&xlsx, 3, &out_dir);
    let (day_headers, days) = rows_by_unit(&days_csv);
    assert_eq!(day_headers[1], "Ngày");
    assert_eq!(days.len() as i64, (window.until - window.from).num_days() + 1);
    assert!(days.contains_key(&today.format("%d/%m/%Y").to_string()));
    let by_day: f64 = days.values().map(|r| r[2].parse::<f64>().unwrap()).sum();
    assert_eq!(by_day, sums["Kích hoạt mới trong kỳ"]);

    // the named lists: the activated, as CSV (UTF-8 with a BOM) and as XLSX, opened by
    // LibreOffice, name exactly the activated people the database holds, Vietnamese intact
    let activated_sql = "SELECT r.full_name, CAST(r.birth_year AS TEXT), coalesce(r.cccd, '')
         FROM residents r JOIN households h ON h.id = r.household_id
         WHERE r.removed IS NULL AND h.removed IS NULL
           AND r.status IN ('activated_level1', 'activated_level2', 'used_portal')";
    let mut want: Vec<(String, String, String)> =
        server.sql_text_rows(activated_sql).into_iter().map(|r| (r[0].clone(), r[1].clone(), r[2].clone())).collect();
    want.sort();
    assert!(want.iter().any(|(name, _, _)| !name.is_ascii()), "Vietnamese names to keep intact");
    let csv_list = server.temp_path("activated.csv");
    let run = export(&server, &officer, "activated", &csv_list);
    assert!(run.success, "{}", run.stderr);
    assert!(std::fs::read(&csv_list).unwrap().starts_with("\u{feff}".as_bytes()), "a byte-order mark first");
    let lists_dir = server.temp_path("lists");
    std::fs::create_dir_all(&lists_dir).unwrap();
    // opened as a spreadsheet, saved, and read back. LibreOffice 7.4 run headless takes the
    // encoding from its filter, not from the byte-order mark (Excel takes the mark), and reads
    // a CCCD as a number (dropping its leading zero) unless its column is said to be text: both
    // said as someone opening the file picks them in LibreOffice's import dialog (UTF-8; the
    // CCCD and phone columns, 5 and 6, as text)
    soffice("xlsx", &csv_list, &lists_dir, Some("Text - txt - csv (StarCalc):44,34,76,1,5/2/6/2"));
    let mut from_csv = list_people(&libreoffice_csv(&lists_dir.join("activated.xlsx"), 1, &out_dir));
    from_csv.sort();
    assert_eq!(from_csv, want, "the CSV list as LibreOffice opens it");
    let xlsx_list = server.temp_path("activated.xlsx");
    assert!(export(&server, &officer, "activated", &xlsx_list).success);
    let mut from_xlsx = list_people(&libreoffice_csv(&xlsx_list, 1, &out_dir));
    from_xlsx.sort();
    assert_eq!(from_xlsx, want, "the XLSX list");

    // a team leader's list masks CCCD numbers; a volunteer exports none; every export audited
    let leader = server.admin(&["add-user", "--name", "Lò Văn Tâm", "--role", "team-leader", "--scope", "03445"]);
    let leader_list = server.temp_path("leader.csv");
    assert!(export(&server, &leader, "activated", &leader_list).success);
    let text = std::fs::read_to_string(&leader_list).unwrap();
    let cccds: Vec<String> = list_people(text.trim_start_matches('\u{feff}')).into_iter().map(|p| p.2).collect();
    assert!(cccds.iter().any(|c| !c.is_empty()), "CCCD cells, masked");
    assert!(cccds.iter().all(|c| c.is_empty() || c.starts_with("**********")), "{cccds:?}");
    let volunteer = server.sql_text_rows("SELECT CAST(id AS TEXT) FROM users WHERE role = 'volunteer'")[0][0].clone();
    let refused = export(&server, &volunteer, "absent", &server.temp_path("volunteer.csv"));
    assert!(!refused.success && refused.stderr.contains("Chỉ công an và tổ trưởng"), "{}", refused.stderr);
    assert!(!server.temp_path("volunteer.csv").exists(), "nothing left half-written");
    let audited = server.sql_text_rows("SELECT CAST(detail AS TEXT) FROM audit_log WHERE action = 'export_list'");
    assert_eq!(audited.len(), 3, "{audited:?}");
    assert!(audited.iter().all(|d| !d[0].contains(&want[0].0)), "no name in the audit");
}
