//! `gocua-server`: serve the sync API, or run admin commands on the same database.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use gocua_core::places::{Place, PlaceLevel};
use gocua_core::reasons::Reason;
use gocua_core::sync::protocol::Role;
use std::sync::Arc;

use gocua_core::scope::Scope;
use gocua_server::{AppState, admin, db, district};
use gocua_server_store::Store;
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(name = "gocua-server", version, about = "Gõ Cửa: máy chủ tổng hợp / aggregation server")]
struct Cli {
    /// How log lines are written to stderr: `text` for people, `json` (one object a line) for a
    /// log collector. The level is GOCUA_LOG (default info).
    #[arg(long, global = true, env = "GOCUA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync API.
    Serve {
        /// Address to listen on; port 0 picks a free port (the bound address is printed).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// A SQLite file path (created on first start), sqlite://PATH, or postgres://USER@HOST:PORT/DB.
        #[arg(long, env = "GOCUA_DATABASE")]
        database: String,
        /// A PostgreSQL hot standby of --database that pull pages may be read from.
        #[arg(long, env = "GOCUA_READ_DATABASE")]
        read_database: Option<String>,
        /// Seed the 2025 places, a demo commune and demo users, and print fresh enrollment codes.
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key).
        #[arg(long, env = "GOCUA_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = "GOCUA_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Serve plain HTTP on a non-loopback address anyway (behind a TLS proxy on the same host).
        #[arg(long)]
        insecure_http: bool,
        /// Serve Prometheus metrics at http://ADDR/metrics on a listener of its own (off unless
        /// given; keep it on loopback or a private network, never behind the public proxy).
        #[arg(long, env = "GOCUA_METRICS_LISTEN")]
        metrics_listen: Option<String>,
        /// Seconds of read-replica lag above which /api/v1/ready reports it (still answering 200).
        #[arg(long, env = "GOCUA_MAX_REPLICA_LAG", default_value_t = gocua_server::api::ready::DEFAULT_MAX_REPLICA_LAG.as_secs_f64())]
        max_replica_lag: f64,
        /// The district dashboard's built front end (web/dist), served at /dashboard/; without it
        /// only the dashboard's API is served.
        #[arg(long, env = "GOCUA_DASHBOARD_DIR")]
        dashboard_dir: Option<PathBuf>,
    },
    /// Administer the database (the server may be running).
    Admin {
        /// A SQLite file path, sqlite://PATH, or postgres://USER@HOST:PORT/DB.
        #[arg(long, env = "GOCUA_DATABASE")]
        database: String,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LevelArg {
    Province,
    District,
    Commune,
    Hamlet,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Volunteer,
    TeamLeader,
    CommunePolice,
    ProvincePolice,
    Trainer,
    Admin,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Load provinces and communes (default: the 2025 list built into the binary).
    ImportPlaces {
        /// A CSV with columns code,name,division_type,parent_code,parent_name.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Add or rename one place, e.g. a hamlet under a commune.
    AddPlace {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        level: LevelArg,
        #[arg(long)]
        parent: Option<String>,
        /// Local kind of unit: thôn, bản, ấp, tổ dân phố …
        #[arg(long, default_value = "thôn")]
        division_type: String,
    },
    /// Create a user; prints the user's id.
    AddUser {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The place the user works in; several places separated by commas (two hamlets).
        #[arg(long)]
        scope: String,
    },
    /// Reassign a user to another place; their phones follow on their next sync.
    SetScope {
        #[arg(long)]
        user: uuid::Uuid,
        /// The place the user works in from now on; several separated by commas. A household
        /// given on its own is named by its id.
        #[arg(long)]
        scope: String,
    },
    /// Give a user another role; their phones take it on at their next sync, dropping what
    /// the old role let them hold.
    SetRole {
        #[arg(long)]
        user: uuid::Uuid,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Issue a one-time enrollment code for a user; prints the code.
    CreateCode {
        #[arg(long)]
        user: uuid::Uuid,
        /// Hours the code stays valid.
        #[arg(long, default_value_t = 72)]
        hours: i64,
    },
    /// Add a province's own cannot-activate reason.
    AddReason {
        #[arg(long)]
        code: String,
        #[arg(long)]
        province: String,
        #[arg(long)]
        label_vi: String,
        #[arg(long)]
        label_en: String,
        /// "Có thể kích hoạt" later (otherwise "chưa thể kích hoạt").
        #[arg(long)]
        can_activate_later: bool,
        /// Only police roles may see it.
        #[arg(long)]
        police_only: bool,
        /// The volunteer must add a note.
        #[arg(long)]
        requires_note: bool,
        #[arg(long, default_value_t = 1000)]
        sort_order: i64,
    },
    /// List enrolled devices (id, name, user, last sync, revoked), optionally of one user.
    ListDevices {
        #[arg(long)]
        user: Option<uuid::Uuid>,
    },
    /// Revoke a lost or stolen device: it may no longer sync, and wipes its data at next contact.
    RevokeDevice {
        #[arg(long)]
        device: uuid::Uuid,
    },
    /// Check the audit log's hash chain from its first entry; exits non-zero if it was altered.
    VerifyAudit,
    /// Print, as JSON, everything held about one resident (their request to see their data).
    ExportResident {
        #[arg(long)]
        resident: uuid::Uuid,
        /// Who carries it out, for the audit (free text).
        #[arg(long)]
        by: String,
    },
    /// Erase one resident's name, CCCD, phone and visit notes on request, here and on every
    /// phone at its next pull; their counts stay.
    EraseResident {
        #[arg(long)]
        resident: uuid::Uuid,
        /// Who carries it out, for the audit (free text).
        #[arg(long)]
        by: String,
    },
    /// Seed the demo commune and print fresh codes.
    Demo,
    /// Copy the live SQLite database to a new file without stopping the server (PostgreSQL:
    /// use pg_dump, see the README). The copy carries a new epoch, so phones treat it as
    /// another database once it is restored.
    Backup {
        /// The file to write (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Give a restored database a new epoch (after pg_restore, see the README): phones download
    /// their scope again and send back what the restore lost.
    NewEpoch,
    /// Count the stored events by status (applied, rejected): a check an operator can run.
    CountEvents,
    /// Record the office's decisions as a police officer's, for the district: a JSON array of
    /// event payloads (assignments, campaigns and quotas, spot-check findings, merges, review
    /// resolutions …), checked by the same rules as a device's push; they reach the office and
    /// the phones at their next sync.
    RecordEvents {
        /// The officer (a commune or province police user's id).
        #[arg(long)]
        by: uuid::Uuid,
        /// The JSON file.
        file: PathBuf,
    },
    /// A place's report ("Phụ lục thống kê"): every unit just below it with its households,
    /// people, activations, reasons, quota, progress and rate; printed, and with --xlsx written
    /// as the appendix the police send. Without days or a campaign: the campaign running today
    /// at the place, else the last 7 days.
    Report {
        /// The place's code (a province, commune or hamlet).
        #[arg(long)]
        place: String,
        /// First day (YYYY-MM-DD or DD/MM/YYYY).
        #[arg(long, value_parser = parse_day, requires = "to")]
        from: Option<chrono::NaiveDate>,
        /// Last day, inclusive.
        #[arg(long, value_parser = parse_day, requires = "from")]
        to: Option<chrono::NaiveDate>,
        /// Follow this campaign (its window, quotas and target).
        #[arg(long, conflicts_with = "from")]
        campaign: Option<uuid::Uuid>,
        /// Write the appendix to this XLSX file.
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// Give a police user a password for the district dashboard (read from standard input,
    /// one line; at least 10 characters): there is no default password. Their open sessions end.
    SetPassword {
        /// The user (a commune or province police user's id).
        #[arg(long)]
        user: uuid::Uuid,
        /// The name they sign in with.
        #[arg(long)]
        login: String,
    },
    /// Write a named list of a place's people: activated (confirmed or not), absent, not
    /// eligible, or cannot activate by reason; XLSX or CSV (UTF-8 with a BOM) by the file's
    /// extension. Full CCCD numbers and police-only reasons only for police users; the export is
    /// audited.
    ExportList {
        /// Who exports it (a police user or a team leader, inside their places).
        #[arg(long)]
        by: uuid::Uuid,
        /// The place's code.
        #[arg(long)]
        place: String,
        /// Which list: activated, absent, not-eligible, cannot-activate.
        #[arg(long, value_parser = parse_list_kind)]
        list: gocua_core::report::lists::ListKind,
        /// The file to write (.xlsx or .csv).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a police list (CSV, XLSX, XLS, ODS) against a commune as the office's dry run does,
    /// printing every problem with its row; with --commit, record it as the officer's and write
    /// what undoing it takes to --undo-file.
    ImportList {
        /// The officer (a commune or province police user's id).
        #[arg(long)]
        by: uuid::Uuid,
        /// The commune's code.
        #[arg(long)]
        commune: String,
        /// The sheet to read (default: the first sheet that has a header).
        #[arg(long)]
        sheet: Option<String>,
        /// The year birth years are checked against (default: this year).
        #[arg(long)]
        year: Option<i32>,
        /// Record the list (without it, nothing is written).
        #[arg(long, requires = "undo_file")]
        commit: bool,
        /// Where --commit writes what undoing the import takes (a new file; it holds personal
        /// data: keep it as the list itself).
        #[arg(long)]
        undo_file: Option<PathBuf>,
        /// The list.
        file: PathBuf,
    },
    /// Undo a whole import from the file its --commit wrote: what it created is removed, the
    /// fields it changed go back unless changed since; visits recorded meanwhile are kept.
    UndoImport {
        /// The officer (a commune or province police user's id).
        #[arg(long)]
        by: uuid::Uuid,
        /// The file `import-list --commit --undo-file` wrote.
        undo_file: PathBuf,
    },
    /// Import a device's sneakernet bundle (.gocua) as if the device had pushed it.
    ImportBundle {
        /// The bundle file.
        file: PathBuf,
        /// Who imports it, for the audit (free text; default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
}

fn open(database: &str) -> Result<Arc<dyn Store>> {
    db::open(database, None).map_err(anyhow::Error::msg)
}

fn scope(arg: &str) -> Result<Scope> {
    Scope::parse_key(arg).map_err(|e| anyhow::anyhow!("{e}"))
}

fn print_demo(seed: &admin::DemoSeed) {
    println!("demo commune: {} ({})", seed.commune.name, seed.commune.code);
    for (name, role, code) in &seed.codes {
        println!("enrollment code for {name} [{}]: {code}", role.code());
    }
}

fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::Volunteer => Role::Volunteer,
        RoleArg::TeamLeader => Role::TeamLeader,
        RoleArg::CommunePolice => Role::CommunePolice,
        RoleArg::ProvincePolice => Role::ProvincePolice,
        RoleArg::Trainer => Role::Trainer,
        RoleArg::Admin => Role::Admin,
    }
}

fn level(arg: LevelArg) -> PlaceLevel {
    match arg {
        LevelArg::Province => PlaceLevel::Province,
        LevelArg::District => PlaceLevel::District,
        LevelArg::Commune => PlaceLevel::Commune,
        LevelArg::Hamlet => PlaceLevel::Hamlet,
    }
}

fn run_admin(database: &str, command: AdminCommand) -> Result<()> {
    let store = open(database)?;
    let store = &*store;
    match command {
        AdminCommand::ImportPlaces { csv } => {
            let text = match csv {
                Some(path) => {
                    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?
                }
                None => admin::ADMIN_UNITS_2025.to_owned(),
            };
            println!("imported {} places", admin::import_admin_units(store, &text)?);
        }
        AdminCommand::AddPlace { code, name, level: l, parent, division_type } => {
            admin::add_place(
                store,
                &Place { code: code.clone(), name, level: level(l), division_type, parent_code: parent },
            )?;
            println!("place {code} saved");
        }
        AdminCommand::AddUser { name, role: r, scope } => {
            println!("{}", admin::add_user(store, &name, role(r), &self::scope(&scope)?)?)
        }
        AdminCommand::SetScope { user, scope } => {
            admin::set_scope(store, user, &self::scope(&scope)?)?;
            println!("user {user} now works in {scope}");
        }
        AdminCommand::SetRole { user, role: r } => {
            let role = role(r);
            if admin::set_role(store, user, role)? {
                println!("user {user} is now {}: their phones follow on their next sync", role.code());
            } else {
                println!("user {user} already is {}", role.code());
            }
        }
        AdminCommand::CreateCode { user, hours } => println!("{}", admin::create_code(store, user, hours)?),
        AdminCommand::AddReason {
            code,
            province,
            label_vi,
            label_en,
            can_activate_later,
            police_only,
            requires_note,
            sort_order,
        } => {
            admin::add_reason(
                store,
                &Reason {
                    code: code.clone(),
                    label_vi,
                    label_en,
                    can_activate_later,
                    police_only,
                    requires_note,
                    province_code: Some(province),
                    sort_order,
                },
            )?;
            println!("reason {code} saved");
        }
        AdminCommand::ListDevices { user } => {
            for d in admin::list_devices(store, user)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    d.id,
                    d.name,
                    d.user_id,
                    d.last_seen_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into()),
                    d.revoked_at.map(|t| format!("revoked {}", t.to_rfc3339())).unwrap_or_else(|| "active".into())
                );
            }
        }
        AdminCommand::RevokeDevice { device } => {
            if admin::revoke_device(store, device)? {
                println!("device {device} revoked: it wipes its data at its next contact");
            } else {
                println!("device {device} was already revoked");
            }
        }
        AdminCommand::VerifyAudit => match gocua_server::audit::verify(store) {
            Ok(v) => println!("audit log intact: {} entries, head {}", v.entries, v.head),
            Err(broken) => bail!("{broken}"),
        },
        AdminCommand::ExportResident { resident, by } => {
            let export = gocua_server::resident_rights::export(store, resident, &by)?;
            println!("{}", serde_json::to_string_pretty(&export)?);
        }
        AdminCommand::EraseResident { resident, by } => {
            let erased = gocua_server::resident_rights::erase(store, resident, &by)?;
            for warning in &erased.warnings {
                eprintln!("cảnh báo / warning: {warning}");
            }
            let again = if erased.again { " (again)" } else { "" };
            println!(
                "resident {resident} erased{again}: {} events rewritten; phones of the place follow at their next pull",
                erased.events
            );
        }
        AdminCommand::Demo => print_demo(&admin::seed_demo(store)?),
        AdminCommand::ImportBundle { file, by } => import_bundle(store, &file, by)?,
        AdminCommand::RecordEvents { by, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("không đọc được tệp / cannot read {}", file.display()))?;
            let payloads: Vec<gocua_core::event::Payload> = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "tệp không phải danh sách bản ghi JSON / the file is not a JSON list of events: {} (dòng / line {})",
                    e,
                    e.line()
                )
            })?;
            print_recorded(&district::record(store, by, payloads)?)?;
        }
        AdminCommand::Report { place, from, to, campaign, xlsx } => {
            let range = match (from, to) {
                (Some(from), Some(to)) => Some(gocua_core::report::DayRange::new(from, to)?),
                _ => None,
            };
            let today = (chrono::Utc::now()
                + chrono::Duration::minutes(gocua_core::report::REPORT_UTC_OFFSET_MINUTES.into()))
            .date_naive();
            let request = gocua_server::reports::ReportRequest { place, range, campaign, today };
            let built = gocua_server::reports::report(store, &request)?;
            for line in gocua_server::reports::summary_lines(&built.report) {
                println!("{line}");
            }
            if let Some(path) = xlsx {
                let file = std::fs::File::create(&path)
                    .with_context(|| format!("không tạo được tệp / cannot create {}", path.display()))?;
                gocua_core::report::appendix::write(&built.report, &built.reasons, std::io::BufWriter::new(file))?;
                println!("đã ghi phụ lục vào {0} / appendix written to {0}", path.display());
            }
        }
        AdminCommand::SetPassword { user, login } => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("không đọc được mật khẩu / cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            gocua_server::dashboard::account::set_password(store, user, &login, password)?;
            println!("đã đặt mật khẩu bảng điều khiển cho {login} / dashboard password set for {login}");
        }
        AdminCommand::ExportList { by, place, list, out } => export_list(store, by, place, list, &out)?,
        AdminCommand::ImportList { by, commune, sheet, year, commit, undo_file, file } => {
            let list = ListArgs { by, commune: &commune, sheet: sheet.as_deref(), year, file: &file };
            import_list(store, &list, commit.then_some(()).and(undo_file.as_deref()))?
        }
        AdminCommand::UndoImport { by, undo_file } => {
            let text = std::fs::read_to_string(&undo_file)
                .with_context(|| format!("không đọc được tệp / cannot read {}", undo_file.display()))?;
            let record: gocua_import::UndoRecord = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("tệp hoàn tác không đọc được / unreadable undo file {}: {e}", undo_file.display())
            })?;
            let (counts, recorded) = district::undo_import(store, by, &record)?;
            println!(
                "hoàn tác: bỏ {0} hộ, {1} người; trả lại {2} bản ghi; giữ {3} trường đã sửa sau đó / undone: {0} \
                 households and {1} people removed, {2} records restored, {3} fields changed since kept",
                counts.households_removed, counts.people_removed, counts.records_restored, counts.fields_kept
            );
            print_recorded(&recorded)?;
        }
        AdminCommand::Backup { to } => {
            let info = store.backup(&to)?;
            println!(
                "đã sao lưu vào {0}: {1} byte, sự kiện đến server_seq {2}, epoch mới {3} / backup written to {0}: {1} \
                 bytes, events up to server_seq {2}, epoch {3} (a new one)",
                to.display(),
                info.bytes,
                info.last_server_seq,
                info.epoch
            );
        }
        AdminCommand::NewEpoch => {
            let change = admin::new_epoch(store)?;
            println!(
                "epoch {0} đã được thay bằng {1}: các điện thoại sẽ tải lại địa bàn và gửi lại những gì còn thiếu / \
                 epoch {0} replaced by {1}: phones download their scope again and resend what is missing",
                change.from, change.to
            );
        }
        AdminCommand::CountEvents => {
            let (applied, rejected) = gocua_server_store::run_read(store, |tx| {
                Ok::<_, gocua_server_store::StoreError>((tx.count_events("applied")?, tx.count_events("rejected")?))
            })?;
            println!("applied {applied}\nrejected {rejected}");
        }
    }
    Ok(())
}

/// A list's code, or the codes there are.
fn parse_list_kind(text: &str) -> Result<gocua_core::report::lists::ListKind, String> {
    use gocua_core::report::lists::ListKind;
    ListKind::from_code(text).ok_or_else(|| {
        let codes: Vec<&str> = ListKind::ALL.iter().map(|k| k.code()).collect();
        format!("không có danh sách {text}; có: {0} / no list {text}; there are: {0}", codes.join(", "))
    })
}

/// Writes a named list to `out` (XLSX or CSV by its extension).
fn export_list(
    store: &dyn Store,
    by: uuid::Uuid,
    place: String,
    kind: gocua_core::report::lists::ListKind,
    out: &std::path::Path,
) -> Result<()> {
    use gocua_core::report::lists::{CsvList, ListSink, XlsxList};
    let extension = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("xlsx" | "csv")) {
        bail!("tên tệp phải kết thúc bằng .xlsx hoặc .csv / the file must end in .xlsx or .csv: {}", out.display());
    }
    let file =
        std::fs::File::create(out).with_context(|| format!("không tạo được tệp / cannot create {}", out.display()))?;
    let file = std::io::BufWriter::new(file);
    let sink: Box<dyn ListSink> = if extension.as_deref() == Some("csv") {
        Box::new(CsvList::new(file, kind.title_vi())?)
    } else {
        // temp files of the sheets beside the output: on disk, where the file is going anyway
        let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        Box::new(XlsxList::new(file, kind.title_vi(), dir)?)
    };
    let request = gocua_server::reports::ListRequest { place, kind, user: by };
    match gocua_server::reports::export_list(store, &request, sink) {
        Ok(people) => {
            println!("đã ghi {people} người vào {0} / {people} people written to {0}", out.display());
            Ok(())
        }
        Err(e) => {
            // nothing half-written is left to be sent on
            let _ = std::fs::remove_file(out);
            Err(e.into())
        }
    }
}

/// A day as officers write it (DD/MM/YYYY) or as ISO 8601 (YYYY-MM-DD).
fn parse_day(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map_err(|_| format!("ngày không hợp lệ {text} (DD/MM/YYYY) / not a day: {text} (YYYY-MM-DD)"))
}

/// Prints a recording; fails when the rules rejected any of it.
fn print_recorded(recorded: &district::Recorded) -> Result<()> {
    for line in district::recorded_lines(recorded) {
        println!("{line}");
    }
    if !recorded.rejected.is_empty() {
        bail!("{} bản ghi bị từ chối / {} events rejected", recorded.rejected.len(), recorded.rejected.len());
    }
    Ok(())
}

/// What `import-list` was given.
struct ListArgs<'a> {
    by: uuid::Uuid,
    commune: &'a str,
    sheet: Option<&'a str>,
    year: Option<i32>,
    file: &'a std::path::Path,
}

/// `import-list`: a dry run, or with `undo_file` a commit that keeps its undo there.
fn import_list(store: &dyn Store, args: &ListArgs<'_>, undo_file: Option<&std::path::Path>) -> Result<()> {
    let file = args.file;
    let cannot_read = || format!("không đọc được tệp / cannot read {}", file.display());
    let size = std::fs::metadata(file).with_context(cannot_read)?.len();
    if size > gocua_import::read::MAX_FILE_BYTES as u64 {
        let e = gocua_import::ImportError::TooLarge { size: usize::try_from(size).unwrap_or(usize::MAX) };
        bail!("{} / {}", e.message_vi(), e.message_en());
    }
    // the undo file is made first: a commit never happens without a place to keep its undo
    let mut undo_out = undo_file.map(create_private).transpose()?;
    let bytes = std::fs::read(file).with_context(cannot_read)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let list = district::ListFile {
        bytes: &bytes,
        file_name: &name,
        sheet: args.sheet,
        commune: args.commune,
        current_year: args.year.unwrap_or_else(|| chrono::Datelike::year(&chrono::Utc::now().date_naive())),
    };
    let done = district::import_list(store, args.by, &list, undo_out.is_some());
    let done = match done {
        Ok(done) => done,
        Err(e) => {
            if let Some(path) = undo_file {
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
    };
    for line in district::report_lines(&done.report) {
        println!("{line}");
    }
    let Some(counts) = &done.counts else {
        println!("chạy thử: chưa ghi gì / dry run: nothing written (add --commit --undo-file FILE to record it)");
        return Ok(());
    };
    println!(
        "đã nhập: {0} hộ mới, {1} hộ cập nhật, {2} người mới, {3} người cập nhật, {4} không đổi / imported: {0} new \
         households, {1} updated, {2} new people, {3} updated, {4} unchanged",
        counts.households_created,
        counts.households_updated,
        counts.people_created,
        counts.people_updated,
        counts.unchanged
    );
    match (undo_out.as_mut(), &done.undo, undo_file) {
        (Some(out), Some(undo), _) => {
            use std::io::Write;
            serde_json::to_writer(&mut *out, undo)?;
            out.flush()?;
            println!("cách hoàn tác đã ghi vào tệp / the undo record was written to the undo file");
        }
        (_, None, Some(path)) => {
            // nothing was recorded: nothing to undo
            std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
        _ => {}
    }
    print_recorded(&done.recorded)
}

/// A new file only its owner may read (it holds personal data); never overwrites one.
fn create_private(path: &std::path::Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("không tạo được tệp mới / cannot create the new file {}", path.display()))
}

fn import_bundle(store: &dyn Store, file: &std::path::Path, by: Option<String>) -> Result<()> {
    let cannot_read = || format!("không đọc được tệp / cannot read {}", file.display());
    let size = std::fs::metadata(file).with_context(cannot_read)?.len();
    if size > gocua_core::bundle::MAX_BUNDLE_BYTES as u64 {
        bail!("{}", gocua_core::bundle::BundleError::TooLarge);
    }
    let bytes = std::fs::read(file).with_context(cannot_read)?;
    let by = by.or_else(|| std::env::var("USER").ok()).or_else(|| std::env::var("LOGNAME").ok()).unwrap_or_default();
    match gocua_server::bundle::import(store, &bytes, &by) {
        Ok(summary) => {
            println!("{summary}");
            Ok(())
        }
        Err(e) => bail!("không nhập được gói / bundle refused: {} [{}]: {e}", file.display(), e.kind()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// How `serve` speaks.
struct Transport {
    tls: Option<(PathBuf, PathBuf)>,
    insecure_http: bool,
}

/// What `serve` offers its operators.
struct Operations {
    metrics_listen: Option<String>,
    max_replica_lag: std::time::Duration,
    dashboard_dir: Option<PathBuf>,
}

/// Resolves once the shutdown signal came (or its sender is gone); one for each listener.
fn on_shutdown(
    stopping: &tokio::sync::watch::Receiver<bool>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut stopping = stopping.clone();
    async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    }
}

async fn run_serve(
    listen: String,
    database: String,
    read_database: Option<String>,
    demo: bool,
    transport: Transport,
    operations: Operations,
) -> Result<()> {
    // from now on SIGTERM or ctrl-c stops the server gracefully, even while it opens the database
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let grace = gocua_server::SHUTDOWN_GRACE;
        tracing::info!(?grace, "stopping: no new connections, finishing the requests in flight");
        let _ = stop.send(true);
    });
    let listener = TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match &operations.metrics_listen {
        Some(at) => Some(TcpListener::bind(at).await.with_context(|| format!("cannot listen on {at} for metrics"))?),
        None => None,
    };
    // personal data never crosses a network in the clear: plain HTTP only on this machine
    if transport.tls.is_none() && !addr.ip().is_loopback() && !transport.insecure_http {
        bail!(
            "không phục vụ HTTP thường trên {addr}: hãy dùng --tls-cert và --tls-key (hoặc --insecure-http sau \
             một proxy TLS trên cùng máy) / refusing plain HTTP on {addr}: use --tls-cert and --tls-key (or \
             --insecure-http behind a TLS proxy on the same host)"
        );
    }
    // the store's drivers block (the PostgreSQL client runs its own runtime): open and seed
    // it on a blocking thread
    let store = tokio::task::spawn_blocking(move || -> Result<_> {
        let store = db::open(&database, read_database.as_deref()).map_err(anyhow::Error::msg)?;
        if demo {
            print_demo(&admin::seed_demo(&*store)?);
        }
        Ok(store)
    })
    .await??;
    let mut state = AppState::new(store);
    state.max_replica_lag = operations.max_replica_lag;
    if let Some(dir) = &operations.dashboard_dir
        && !dir.join("index.html").is_file()
    {
        bail!(
            "không thấy bảng điều khiển trong {0} (hãy chạy: cd web && npm ci && npm run build) / no dashboard in {0} \
             (build it: cd web && npm ci && npm run build)",
            dir.display()
        );
    }
    state.dashboard = Arc::new(gocua_server::dashboard::DashboardConfig {
        assets: operations.dashboard_dir.clone(),
        secure_cookie: transport.tls.is_some() || transport.insecure_http,
        tempdir: std::env::temp_dir(),
    });
    // the report's counters: what pushes appended is folded in every few seconds
    let folding = tokio::spawn(gocua_server::reports::keep_counters(Arc::clone(&state.store), on_shutdown(&stopping)));
    let metrics = match metrics_listener {
        Some(listener) => {
            // printed before the "listening on" line, which readers of stdout wait for
            println!("gocua-server metrics on http://{}/metrics", listener.local_addr()?);
            let served = gocua_server::serve_metrics(listener, Arc::clone(&state.metrics), on_shutdown(&stopping));
            Some(tokio::spawn(served))
        }
        None => None,
    };
    match transport.tls {
        Some((cert, key)) => {
            // The tests and the run script read this exact line.
            println!("gocua-server listening on https://{addr}");
            let listener = listener.into_std()?;
            gocua_server::serve_tls(listener, state, &cert, &key, on_shutdown(&stopping))
                .await
                .with_context(|| format!("TLS with {} and {}", cert.display(), key.display()))?;
        }
        None => {
            if !addr.ip().is_loopback() {
                tracing::warn!("serving plain HTTP on a non-loopback address (--insecure-http)");
            }
            println!("gocua-server listening on http://{addr}");
            gocua_server::serve(listener, state, on_shutdown(&stopping)).await?;
        }
    }
    if let Some(metrics) = metrics {
        metrics.await.context("the metrics listener")??;
    }
    folding.await.context("the report counters' fold")?;
    tracing::info!("stopped");
    Ok(())
}

/// `GOCUA_LOG` (default `info`), with the database drivers held at `info` whatever it says: at
/// `debug` the PostgreSQL driver logs every statement's parameters, which are residents' names
/// and CCCD numbers.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GOCUA_LOG").unwrap_or_else(|_| "info".into());
    ["tokio_postgres=info", "postgres=info"]
        .into_iter()
        .fold(filter, |filter, directive| filter.add_directive(directive.parse().expect("a valid directive")))
}

/// Logs to stderr as `format` says, filtered by [`log_filter`]. JSON lines carry the same
/// fields as text ones (`timestamp`, `level`, `target`, `message` and the event's own fields at
/// the top level), never a span's: what a request's log says is only what its events say.
fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt().with_env_filter(log_filter()).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(false).with_span_list(false).with_ansi(false).init()
        }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Serve {
            listen,
            database,
            read_database,
            demo,
            tls_cert,
            tls_key,
            insecure_http,
            metrics_listen,
            max_replica_lag,
            dashboard_dir,
        } => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let transport = Transport { tls: tls_cert.zip(tls_key), insecure_http };
            let max_replica_lag = std::time::Duration::try_from_secs_f64(max_replica_lag).map_err(|_| {
                anyhow::anyhow!("--max-replica-lag: số giây, từ 0 trở lên / a number of seconds, 0 or more")
            })?;
            let operations = Operations { metrics_listen, max_replica_lag, dashboard_dir };
            rt.block_on(run_serve(listen, database, read_database, demo, transport, operations))
        }
        Command::Admin { database, command } => {
            if database.trim().is_empty() {
                bail!("--database is empty");
            }
            run_admin(&database, command)
        }
    }
}
