//! Enrollment: who this device is, and joining a server with a one-time code.

use gocua_core::sql::catalog;
use gocua_core::sync::protocol::APP_VERSION;
use gocua_http_client::HttpTransport;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;
use crate::views::{AppInfo, EnrollmentView, LockView};

/// The enrollment (if any) and defaults for the first screen.
#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let lock = LockView {
        has_pin: state.lock.has_pin(),
        locked: state.lock.is_locked(),
        idle_seconds: state.lock.idle_seconds,
    };
    // locked: nothing is read (the database is closed); the UI shows the PIN screen
    let (enrollment, sandbox) = if lock.locked {
        (None, false)
    } else {
        state.with_store(|s| Ok((current_enrollment(s)?, s.is_sandbox()?))).await?
    };
    Ok(AppInfo {
        enrollment,
        default_server_url: std::env::var("GOCUA_SERVER_URL").ok(),
        version: APP_VERSION.to_owned(),
        sandbox,
        wiped: state.sync.status().wiped,
        lock,
        retention_days: crate::worker::retention_days(),
    })
}

fn current_enrollment(store: &mut gocua_core::store::DeviceStore) -> Result<Option<EnrollmentView>, gocua_core::Error> {
    let Some(e) = store.enrollment()? else { return Ok(None) };
    // a scope of several places reads as their names, comma-separated
    let mut names = Vec::new();
    for code in e.scope.codes() {
        names.extend(catalog::place(store.connection(), code)?.map(|p| p.name));
    }
    let name = names.join(", ");
    Ok(Some(EnrollmentView::new(&e, name)))
}

/// Joins a server with a one-time code, sets the app lock's PIN, then starts syncing.
#[tauri::command]
pub async fn enroll(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
    device_name: String,
    pin: String,
    pin_confirm: String,
) -> Result<EnrollmentView, CommandError> {
    // the PIN is checked before the one-time code is spent, and set once it is
    crate::applock::check_format(&pin)?;
    if pin != pin_confirm {
        return Err(crate::applock::PinError::Mismatch.into());
    }
    let view = enroll_with(&state, &server_url, &code, &device_name).await?;
    super::lock::save_new_pin(&state, &pin, &pin_confirm).await?;
    Ok(view)
}

/// The body of [`enroll`], also used for the start-up auto-enrollment of the run script.
pub async fn enroll_with(
    state: &AppState,
    server_url: &str,
    code: &str,
    device_name: &str,
) -> Result<EnrollmentView, CommandError> {
    let server_url = server_url.trim().trim_end_matches('/').to_owned();
    if !(server_url.starts_with("http://") || server_url.starts_with("https://")) {
        return Err(CommandError::new(
            "invalid",
            "Địa chỉ máy chủ phải bắt đầu bằng http:// hoặc https:// / The server address must start with http:// or https://",
        ));
    }
    if code.trim().is_empty() {
        return Err(CommandError::new("invalid", "Chưa nhập mã đăng ký / The enrollment code is missing"));
    }
    // the key that will sign this phone's sneakernet bundles
    let key = state.with_store(|store| store.enrollment_key()).await?;
    let response = HttpTransport::new(&server_url)?.enroll_with_key(code, device_name, Some(&key)).await?;
    let probe = crate::revocation::ProbeRecord::of(&server_url, &response);
    let view = state
        .with_store(move |store| {
            store.save_enrollment(&server_url, &response)?;
            current_enrollment(store)
        })
        .await?
        .ok_or_else(|| CommandError::new("internal", "enrollment not saved"))?;
    // outside the database, for the check a locked app makes (`revocation`). Without it (a
    // server that gave none, or a key store that failed here) the device learns of a
    // revocation at its next sync, as before: the enrollment stands.
    let (vault, paths) = (state.vault.clone(), state.paths.clone());
    let filed =
        tauri::async_runtime::spawn_blocking(move || crate::revocation::file_probe(vault.as_ref(), &paths.real, probe))
            .await;
    if let Some(e) = match filed {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    } {
        eprintln!("gocua-app: không lưu được mã kiểm tra thu hồi / could not file the revocation probe: {e}");
    }
    state.sync.nudge();
    Ok(view)
}

/// The UI's first screen is up and answered its first data call: logs the start-to-interactive
/// time (since the process started) for `scripts/bench-start.sh`, which sets
/// `GOCUA_EXIT_WHEN_INTERACTIVE=1` to end the app right after.
#[tauri::command]
pub async fn mark_interactive() -> Result<(), CommandError> {
    let since_start = crate::started_at().elapsed();
    eprintln!("gocua-app: interactive {} ms after start", since_start.as_millis());
    if std::env::var_os("GOCUA_EXIT_WHEN_INTERACTIVE").is_some() {
        std::process::exit(0);
    }
    Ok(())
}
