//! The Gõ Cửa field app: a thin Tauri 2 shell. Commands live in `commands/`, the store and all
//! rules in `gocua-core`; this file only wires them.

pub mod applock;
pub mod commands;
pub mod error;
pub mod keyvault;
pub mod revocation;
pub mod state;
pub mod views;
pub mod worker;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use gocua_core::store::DeviceStore;
use tauri::{Manager, Runtime};

use crate::keyvault::{KeyVault, OsKeyring};
use crate::state::{AppState, StorePaths, open_real_store, wipe_and_unlock};

/// Where the device database lives: `$GOCUA_DEVICE_DB`, else `gocua.sqlite` in the app's data
/// folder (which follows `XDG_DATA_HOME` on Linux).
fn database_path<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("GOCUA_DEVICE_DB") {
        return Ok(PathBuf::from(path));
    }
    let dir = app.path().app_data_dir()?;
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("gocua.sqlite"))
}

/// The exit status when the device database cannot be opened (no OS key store, lost key).
pub const EXIT_NO_KEY_STORE: i32 = 3;

/// Builds the app on any runtime (tests pass `tauri::test::mock_builder()`).
pub fn build_app<R: Runtime>(builder: tauri::Builder<R>, context: tauri::Context<R>) -> tauri::Result<tauri::App<R>> {
    builder
        .plugin(tauri_plugin_dialog::init())
        .manage(commands::import::ImportState::default())
        .setup(|app| {
            let paths = StorePaths::beside(database_path(app)?);
            // the app always starts on real data; training mode is entered on purpose
            if let Err(e) = keyvault::init_platform_store() {
                no_key_store(&e.to_string());
            }
            let vault: Arc<dyn KeyVault> = Arc::new(OsKeyring);
            // with a PIN set, the app starts locked: the database stays closed until the PIN
            let opened = match applock::load_record(vault.as_ref(), &paths.real) {
                Ok(Some(_)) => Ok((DeviceStore::open_in_memory(), true)),
                Ok(None) => Ok((open_real_store(&paths.real, vault.as_ref()), false)),
                Err(e) => Err(e.to_string()),
            };
            let (store, has_pin) = match opened {
                Ok((Ok(store), has_pin)) => (Arc::new(Mutex::new(store)), has_pin),
                Ok((Err(e), _)) => no_key_store(&e.to_string()),
                Err(e) => no_key_store(&e),
            };
            let lock = Arc::new(applock::AppLock::new(has_pin));
            let paths = Arc::new(paths);
            let on_revoked: worker::OnRevoked = {
                let (store, paths, vault, lock) =
                    (Arc::clone(&store), Arc::clone(&paths), Arc::clone(&vault), Arc::clone(&lock));
                Arc::new(move || wipe_and_unlock(&store, &paths, vault.as_ref(), &lock))
            };
            let sync = worker::spawn(Arc::clone(&store), worker::WorkerConfig::from_env(), on_revoked);
            let state = AppState { store, sync, paths, vault, lock };
            app.manage(state.clone());
            // while locked, the server is asked with the revocation probe instead
            revocation::spawn(state.clone(), revocation::check_interval());
            auto_enroll(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::enrollment::app_info,
            commands::enrollment::enroll,
            commands::enrollment::mark_interactive,
            commands::households::list_hamlets,
            commands::households::search_households,
            commands::households::get_household,
            commands::households::create_household,
            commands::households::survey_household,
            commands::residents::add_resident,
            commands::residents::find_duplicates,
            commands::residents::get_resident,
            commands::residents::record_visit,
            commands::residents::list_reasons,
            commands::sync::sync_status,
            commands::sync::sync_now,
            commands::rejected::list_rejected,
            commands::rejected::resend_rejected,
            commands::rejected::resend_unchanged,
            commands::rejected::discard_rejected,
            commands::sync::export_bundle,
            commands::sandbox::enter_sandbox,
            commands::sandbox::reset_sandbox,
            commands::sandbox::leave_sandbox,
            commands::today::get_today,
            commands::today::set_daily_quota,
            commands::today::get_team,
            commands::drafts::save_draft,
            commands::drafts::load_draft,
            commands::drafts::clear_draft,
            commands::lock::set_pin,
            commands::lock::change_pin,
            commands::lock::unlock,
            commands::lock::lock_app,
            commands::lock::wipe_forgotten,
            commands::import::import_preview,
            commands::import::import_choose_sheet,
            commands::import::import_set_columns,
            commands::import::import_commit,
            commands::import::import_history,
            commands::import::import_undo,
            commands::office::office_people,
            commands::office::office_add_person,
            commands::office::office_new_code,
            commands::office::office_revoke_device,
            commands::office::office_set_role,
            commands::office::office_assign,
            commands::spotcheck::spot_check_current,
            commands::spotcheck::spot_check_draw,
            commands::spotcheck::spot_check_record,
            commands::duplicates::duplicate_pairs,
            commands::duplicates::merge_residents,
            commands::duplicates::mark_not_duplicates,
            commands::campaigns::campaign_view,
            commands::campaigns::campaign_save,
            commands::reports::report_view,
            commands::reports::report_export,
            commands::review::review_queue,
            commands::review::resolve_review,
        ])
        .build(context)
}

/// Nothing is opened or created without its key: says why and stops.
fn no_key_store(reason: &str) -> ! {
    eprintln!("gocua-app: không mở được dữ liệu của máy / cannot open this device's data: {reason}");
    std::process::exit(EXIT_NO_KEY_STORE);
}

/// With `GOCUA_SERVER_URL` and `GOCUA_ENROLL_CODE` set (the run script does), a device that is
/// not enrolled yet enrolls itself at start-up.
fn auto_enroll(state: AppState) {
    let (Ok(url), Ok(code)) = (std::env::var("GOCUA_SERVER_URL"), std::env::var("GOCUA_ENROLL_CODE")) else {
        return;
    };
    if state.lock.is_locked() {
        return; // a PIN is set: the device is enrolled already
    }
    tauri::async_runtime::spawn(async move {
        let enrolled = state.with_store(|s| s.enrollment()).await.ok().flatten().is_some();
        if !enrolled && let Err(e) = commands::enrollment::enroll_with(&state, &url, &code, "Gõ Cửa desktop").await {
            eprintln!("gocua-app: tự đăng ký thất bại / auto-enrollment failed: {e}");
        }
    });
}

static STARTED_AT: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// When the process started (the first call, from `main`, sets it).
pub fn started_at() -> std::time::Instant {
    *STARTED_AT.get_or_init(std::time::Instant::now)
}

/// Runs the desktop (or mobile) app.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    started_at();
    match build_app(tauri::Builder::default(), tauri::generate_context!()) {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            eprintln!("gocua-app: không khởi động được / cannot start: {e}");
            std::process::exit(1);
        }
    }
}
