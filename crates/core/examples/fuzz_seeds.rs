//! Writes starting inputs for the fuzz targets in `fuzz/` (a real push body, a real bundle body
//! sealed the way the bundle target seals, a few lines of the place list), so the fuzzer begins
//! from well-formed data instead of guessing JSON. Usage:
//! `cargo run -p gocua-core --example fuzz_seeds -- DIR` (writes DIR/<target>/seed-*).

use chrono::{TimeZone, Utc};
use gocua_core::bundle::{Body, FORMAT, ServerKey};
use gocua_core::event::{Event, HouseholdCreated, Payload, ResidentAdded, ResidentFields};
use gocua_core::model::Sex;
use gocua_core::sync::protocol::{PushRequest, SCHEMA_VERSION};
use uuid::Uuid;

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into()));
    let device = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
    let author = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0002);
    let household = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0003);
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
    let event = |seq: u64, payload: Payload| Event {
        id: gocua_core::ids::event_id(device, seq),
        device_id: device,
        seq,
        author,
        device_time: at,
        payload,
    };
    let events = vec![
        event(
            1,
            Payload::HouseholdCreated(HouseholdCreated {
                household_id: household,
                hamlet_code: "03445-01".into(),
                address: "Số 1, Bản Nậm Củm".into(),
                head_name: "Hộ Mẫu".into(),
            }),
        ),
        event(
            2,
            Payload::ResidentAdded(ResidentAdded {
                resident_id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0004),
                household_id: household,
                fields: ResidentFields {
                    full_name: "Người Mẫu".into(),
                    birth_year: 1988,
                    sex: Sex::Female,
                    cccd: Some("038188654321".into()),
                    phone: None,
                },
            }),
        ),
    ];
    let push = PushRequest {
        schema_version: SCHEMA_VERSION,
        app_version: "0.1.0".into(),
        events: events.clone(),
        queued: None,
    };
    let write = |target: &str, name: &str, mode: Option<u8>, bytes: &[u8]| -> std::io::Result<()> {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        let mut data = mode.map(|m| vec![m]).unwrap_or_default();
        data.extend_from_slice(bytes);
        std::fs::write(folder.join(name), data)
    };
    write("push_decoder", "seed-plain", Some(0), &serde_json::to_vec(&push)?)?;
    // the key the bundle target seals to (fuzz/fuzz_targets/bundle_decoder.rs)
    let server = ServerKey::from_secret_bytes(&[7; 32]).expect("key");
    let body = Body {
        format: FORMAT,
        device_id: device,
        server_key: server.public_key().fingerprint(),
        created_at: at,
        schema_version: SCHEMA_VERSION,
        app_version: "0.1.0".into(),
        events,
    };
    write("bundle_decoder", "seed-sealed-body", Some(1), &serde_json::to_vec(&body)?)?;
    let places =
        "code,name,division_type,parent_code,parent_name\n12,Lai Châu,tỉnh,,\n3445,Xã Mường Tè,xã,12,Lai Châu\n";
    write("places_importer", "seed.csv", None, places.as_bytes())?;
    println!("seeds written under {}", dir.display());
    Ok(())
}
