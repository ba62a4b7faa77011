//! Tauri build script: the app manifest lists our own commands, so each gets an `allow-…`
//! permission and the capability file grants exactly those and nothing else.

include!("src/commands/names.rs");

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&COMMANDS)),
    )
    .expect("tauri build script");
}
