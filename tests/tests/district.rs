//! The office's actions as server commands, for the district and province police: a police
//! list checked and imported at the server's command line (the same dry run as the office's,
//! every planted error with its row; the same record ids, so the office importing the same list
//! changes nothing), the whole import undone, and the office's decisions recorded as an
//! officer's events. All of it goes through the push rules and reaches the phones at their next
//! sync; anyone but the police, or a commune outside the officer's places, is refused.

use std::collections::BTreeSet;
use std::ffi::OsStr;

use gocua_core::event::IMPORT_UNDONE;
use gocua_core::sql::projection::SqlView;
use gocua_core::store::{DeviceStore, HouseholdQuery};
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};
use gocua_import::testdata::{CURRENT_YEAR, GenFormat, GenSpec, Plant, PlantKind, generate};
use gocua_import::{Known, KnownHamlet, KnownResident, PlanOptions, Severity, events_for, plan, read_list};
use gocua_server_store::run_read;
use uuid::Uuid;

fn listed(store: &DeviceStore) -> usize {
    store.households(&HouseholdQuery { limit: Some(10_000), ..HouseholdQuery::default() }).unwrap().len()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_imports_a_list_undoes_it_and_records_the_office_s_decisions_at_the_command_line() {
    let planted = [PlantKind::BadCccd, PlantKind::UnknownHamlet, PlantKind::DuplicateCccd, PlantKind::LostLeadingZero]
        .into_iter()
        .map(Plant::seeded)
        .collect();
    let list = generate(&GenSpec { hamlets: 2, planted, format: GenFormat::Xlsx, ..GenSpec::new(400, 33) }).unwrap();
    let server = TestServer::start().await;
    assert_eq!(server.admin(&["import-places"]), "imported 3355 places");
    server.add_hamlets("03445", list.known.hamlets.iter().map(|h| (h.code.as_str(), h.name.as_str())));
    server.add_hamlets("03637", [("03637-01", "Bản Mường Kim")]);
    // the province police of Lai Châu, working at the server
    let officer = server.admin(&["add-user", "--name", "Đèo Văn Hùng", "--role", "province-police", "--scope", "12"]);
    let file = server.temp_path(&list.file_name);
    std::fs::write(&file, &list.bytes).unwrap();
    let year = CURRENT_YEAR.to_string();
    let import_args = |extra: &[&OsStr]| {
        let mut args =
            vec![os("import-list"), os("--by"), os(&officer), os("--commune"), os("03445"), os("--year"), os(&year)];
        args.extend_from_slice(extra);
        args.push(file.as_os_str());
        server.admin_run(&args)
    };

    // the dry run lists exactly the planted errors with their rows, and writes nothing
    let dry = import_args(&[]);
    assert!(dry.success, "{}", dry.stderr);
    let printed: BTreeSet<(u32, String)> = dry
        .stdout
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("dòng / row ")?;
            let (row, rest) = rest.split_once(' ')?;
            let code = rest.split_once(": ")?.1.split_once(']')?.0;
            rest.starts_with("[lỗi / error").then(|| (row.parse().unwrap(), code.to_owned()))
        })
        .collect();
    let expected: BTreeSet<(u32, String)> =
        list.expected.iter().filter(|i| i.severity == Severity::Error).map(|i| (i.row, i.code.clone())).collect();
    assert!(!expected.is_empty());
    assert_eq!(printed, expected, "{}", dry.stdout);
    assert!(dry.stdout.contains("chạy thử: chưa ghi gì"), "{}", dry.stdout);
    assert!(server.projection().households.is_empty(), "a dry run writes nothing");

    // a volunteer's phone of the commune, and the commune's office
    let phone_code = server.volunteer_code("Lò Thị Lan", "03445");
    let (phone, phone_link) = enrolled_device(&server, "phone.sqlite", &phone_code).await;
    let office_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (office, office_link) = enrolled_device(&server, "office.sqlite", &office_code).await;

    // committed: on the server, then on the phone at its next sync
    let undo_file = server.temp_path("undo.json");
    let committed = import_args(&[os("--commit"), os("--undo-file"), undo_file.as_os_str()]);
    assert!(committed.success, "{}", committed.stderr);
    assert!(committed.stdout.contains(", 0 bị từ chối"), "{}", committed.stdout);
    let households = server.projection().households.len();
    let people = server.projection().residents.len();
    assert!(households > 50 && people > 300, "{households} households, {people} people");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&undo_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the undo record holds personal data: its owner's alone");
    }
    sync_once(&phone, &phone_link).await.unwrap();
    assert_eq!(listed(&phone.lock().unwrap()), households);

    // the same list again changes nothing, and the undo file of a commit that recorded nothing
    // is not left behind
    let again_undo = server.temp_path("again.json");
    let again = import_args(&[os("--commit"), os("--undo-file"), again_undo.as_os_str()]);
    assert!(again.success, "{}", again.stderr);
    assert!(
        again.stdout.contains("đã nhập: 0 hộ mới, 0 hộ cập nhật, 0 người mới, 0 người cập nhật"),
        "{}",
        again.stdout
    );
    assert!(!again_undo.exists());
    assert_eq!(server.projection().residents.len(), people);

    // the commune's office, importing the same list, names the same records: nothing new
    sync_once(&office, &office_link).await.unwrap();
    {
        let office = office.lock().unwrap();
        let (table, map) = read_list(&list.bytes, &list.file_name, None).unwrap();
        let hamlets =
            office.hamlets().unwrap().into_iter().map(|p| KnownHamlet { code: p.code, name: p.name }).collect();
        let known = Known { hamlets, residents: KnownResident::all_in(&office.projection().unwrap()) };
        let options = PlanOptions { key_namespace: "03445".into(), ..PlanOptions::new(CURRENT_YEAR) };
        let planned = plan(&table, &map, &known, &options, None).unwrap();
        let events = events_for(&planned, &SqlView::new(office.connection())).unwrap();
        assert!(events.payloads.is_empty(), "the office's import of the same list records nothing");
        assert_eq!(events.counts.unchanged, households + people);
    }

    // undone at the command line: gone from the server, and from the phone at its next sync
    let undone = server.admin_run(&[os("undo-import"), os("--by"), os(&officer), undo_file.as_os_str()]);
    assert!(undone.success, "{}", undone.stderr);
    assert!(undone.stdout.contains(&format!("bỏ {households} hộ, {people} người")), "{}", undone.stdout);
    let on_server = server.projection();
    assert!(on_server.households.values().all(|h| h.removed.as_deref() == Some(IMPORT_UNDONE)));
    assert!(on_server.residents.values().all(|r| r.removed.as_deref() == Some(IMPORT_UNDONE)));
    sync_once(&phone, &phone_link).await.unwrap();
    assert_eq!(listed(&phone.lock().unwrap()), 0, "gone from the phone");
    let twice = server.admin_run(&[os("undo-import"), os("--by"), os(&officer), undo_file.as_os_str()]);
    assert!(
        twice.success && twice.stdout.contains("bỏ 0 hộ, 0 người"),
        "undoing twice changes nothing: {}",
        twice.stdout
    );

    // the office's decisions as events: the volunteer is given hamlet 01 …
    let lan = phone.lock().unwrap().enrollment().unwrap().unwrap().user_id;
    let decisions = server.temp_path("decisions.json");
    std::fs::write(
        &decisions,
        format!(r#"[{{"type": "assignment_set.v1", "user_id": "{lan}", "places": ["03445-01"]}}]"#),
    )
    .unwrap();
    let recorded = server.admin_run(&[os("record-events"), os("--by"), os(&officer), decisions.as_os_str()]);
    assert!(recorded.success, "{}", recorded.stderr);
    assert!(recorded.stdout.starts_with("đã ghi 1 bản ghi, 0 bị từ chối"), "{}", recorded.stdout);
    let scope = server.with_store(|store| run_read(store, |tx| tx.user(lan)).unwrap().unwrap().scope.key());
    assert_eq!(scope, "03445-01");
    let report = sync_once(&phone, &phone_link).await.unwrap();
    assert_eq!(report.resets, 1, "the phone moves to its hamlet: {report:?}");
    assert_eq!(phone.lock().unwrap().enrollment().unwrap().unwrap().scope.key(), "03445-01");

    // … and one the rules reject (an officer is not assigned places) is stored rejected, said
    // with its reason, and fails the command
    let officer_id = Uuid::parse_str(&officer).unwrap();
    std::fs::write(
        &decisions,
        format!(r#"[{{"type": "assignment_set.v1", "user_id": "{officer_id}", "places": ["03445-01"]}}]"#),
    )
    .unwrap();
    let rejected = server.admin_run(&[os("record-events"), os("--by"), os(&officer), decisions.as_os_str()]);
    assert!(!rejected.success);
    assert!(rejected.stdout.contains("[user_id: not_assignable] Chỉ phân công địa bàn"), "{}", rejected.stdout);
    assert!(rejected.stderr.contains("1 bản ghi bị từ chối"), "{}", rejected.stderr);

    // not a JSON list of events: said so, nothing recorded
    std::fs::write(&decisions, "[{\"type\": \"no_such_event.v1\"}]").unwrap();
    let broken = server.admin_run(&[os("record-events"), os("--by"), os(&officer), decisions.as_os_str()]);
    assert!(!broken.success && broken.stderr.contains("tệp không phải danh sách bản ghi JSON"), "{}", broken.stderr);

    // a volunteer cannot act for the office, and a commune officer only in their commune
    let refused = server.admin_run(&[os("record-events"), os("--by"), os(&lan.to_string()), decisions.as_os_str()]);
    assert!(!refused.success);
    let volunteer_import = server.admin_run(&[
        os("import-list"),
        os("--by"),
        os(&lan.to_string()),
        os("--commune"),
        os("03445"),
        file.as_os_str(),
    ]);
    assert!(!volunteer_import.success && volunteer_import.stderr.contains("Chỉ công an xã, công an tỉnh"));
    let commune_officer =
        server.admin(&["add-user", "--name", "Vàng A Sử", "--role", "commune-police", "--scope", "03445"]);
    let elsewhere = server.admin_run(&[
        os("import-list"),
        os("--by"),
        os(&commune_officer),
        os("--commune"),
        os("03637"),
        file.as_os_str(),
    ]);
    assert!(!elsewhere.success && elsewhere.stderr.contains("nằm ngoài địa bàn của bạn"), "{}", elsewhere.stderr);
    assert_eq!(server.projection().residents.len(), people, "the refusals wrote nothing");
}
