//! Desktop entry point: refuse clearly when there is no display, then run the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    gocua_app_lib::started_at();
    #[cfg(target_os = "linux")]
    {
        let no_display = std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty())
            && std::env::var_os("WAYLAND_DISPLAY").is_none_or(|d| d.is_empty());
        if no_display || gtk::init().is_err() {
            eprintln!(
                "gocua-app: không có màn hình để mở cửa sổ (DISPLAY/WAYLAND_DISPLAY) / no display to open a window on \
                 (set DISPLAY, or run under xvfb-run)"
            );
            std::process::exit(2);
        }
    }
    gocua_app_lib::run();
}
