// The app's command names: included by build.rs (the app manifest, one `allow-…` permission
// each) and by the crate (tests check them against the capability file and the handler).
// Keep in step with `generate_handler!` in src/lib.rs.
/// Every command the UI may invoke.
pub const COMMANDS: [&str; 28] = [
    "app_info",
    "enroll",
    "list_hamlets",
    "list_reasons",
    "search_households",
    "get_household",
    "create_household",
    "survey_household",
    "add_resident",
    "get_resident",
    "record_visit",
    "sync_status",
    "sync_now",
    "list_rejected",
    "export_bundle",
    "enter_sandbox",
    "reset_sandbox",
    "leave_sandbox",
    "get_today",
    "set_daily_quota",
    "get_team",
    "mark_interactive",
    "save_draft",
    "load_draft",
    "clear_draft",
    "set_pin",
    "unlock",
    "lock_app",
];
