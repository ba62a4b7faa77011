//! The sync bar: status, "Đồng bộ ngay", and the sneakernet bundle file for days without
//! signal. The records the server rejected have a screen of their own (`rejected.rs`).

use tauri::{AppHandle, Manager, Runtime, State};
use tokio::time::Instant;

use crate::error::CommandError;
use crate::state::AppState;
use crate::views::{BundleExport, SyncView};

/// Counts from the store plus what the worker is doing.
#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncView, CommandError> {
    let counts = state.with_store(|s| s.sync_status()).await?;
    let worker = state.sync.status();
    let now = Instant::now();
    Ok(SyncView {
        phase: worker.phase,
        unsent: counts.unsent,
        rejected: counts.rejected,
        last_success: counts.last_success,
        progress: worker.progress,
        message: worker.message,
        next_retry_secs: worker.next_round.map(|t| t.saturating_duration_since(now).as_secs()),
    })
}

/// Starts a round now; progress shows in [`sync_status`].
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.sync.nudge();
    Ok(())
}

/// Writes every unsent record into one signed file, encrypted for the server, that can travel
/// to the commune office (USB, Zalo, Bluetooth). The records stay queued: the next sync
/// acknowledges them as already received. The folder is `GOCUA_BUNDLE_DIR`, else Downloads,
/// else the app's data folder.
#[tauri::command]
pub async fn export_bundle<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<BundleExport, CommandError> {
    let dir = std::env::var_os("GOCUA_BUNDLE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| app.path().download_dir().ok())
        .or_else(|| app.path().app_data_dir().ok().map(|d| d.join("bundles")))
        .ok_or_else(|| {
            CommandError::new("internal", "Không tìm được thư mục để lưu tệp / no folder to save the file in")
        })?;
    let (bytes, events) = state
        .with_store(|s| {
            let events = s.unsent_count()?;
            Ok((s.export_bundle(chrono::Utc::now())?, events))
        })
        .await?;
    let name = format!("gocua-{}.gocua", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    let path = dir.join(name);
    let write = |dir: &std::path::Path, path: &std::path::Path| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(path, &bytes)
    };
    write(&dir, &path).map_err(|e| {
        CommandError::new("io", format!("Không ghi được tệp {} / cannot write {}: {e}", path.display(), path.display()))
    })?;
    Ok(BundleExport { path: path.display().to_string(), events })
}
