//! The place-list importer (`admin import-places --csv`, the statistics office's format) on any
//! bytes: a list or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(places) = gocua_core::places::read_admin_units_csv(data) {
        for place in &places {
            assert!(!place.code.is_empty(), "an imported place has a code");
        }
    }
});
