//! The bundle decoder (`gocua_core::bundle::open`, what `admin import-bundle` runs) on any
//! bytes as a file, and on any body that is properly signed, compressed and sealed — so the
//! fuzzer reaches the JSON and event parsing behind the cryptography, not only the header.
#![no_main]

use std::sync::OnceLock;

use gocua_core::bundle::{self, Body, DeviceKey, Header, ServerKey};
use libfuzzer_sys::fuzz_target;

fn keys() -> &'static (ServerKey, DeviceKey) {
    static KEYS: OnceLock<(ServerKey, DeviceKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (ServerKey::from_secret_bytes(&[7; 32]).unwrap(), DeviceKey::from_secret_bytes(&[9; 32]).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (server, device) = keys();
    let device_public = device.public_key();
    let sealed = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        // the header the body claims, or a made-up one when it claims nothing readable
        let header = match serde_json::from_slice::<Body<serde_json::Value>>(rest) {
            Ok(body) => Header {
                format: body.format,
                device_id: body.device_id,
                server_key: body.server_key,
                created_at: body.created_at,
                events: body.events.len() as u64,
            },
            Err(_) => Header {
                format: bundle::FORMAT,
                device_id: uuid::Uuid::nil(),
                server_key: server.public_key().fingerprint(),
                created_at: chrono::DateTime::UNIX_EPOCH,
                events: 0,
            },
        };
        match bundle::seal_signed_json(rest.to_vec(), &header, device, &server.public_key()) {
            Ok(bytes) => bytes,
            Err(_) => return,
        }
    };
    let _ = bundle::read_header(&sealed);
    let _ = bundle::open(&sealed, server, |_| Ok(device_public.clone()));
});
