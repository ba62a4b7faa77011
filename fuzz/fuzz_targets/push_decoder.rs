//! The server's push decoder on any bytes: the body as sent plain, or as `dcz` (dictionary zstd,
//! what the app sends), read into a `PushRequest` exactly as `POST /api/v1/sync/push` does. It
//! must answer every input with a value or an error, never a panic, a hang or a blow-up.
#![no_main]

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use gocua_core::sync::protocol::PushRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else { return };
    let mut headers = HeaderMap::new();
    match mode % 3 {
        0 => {}
        1 => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("dcz"));
        }
        _ => {
            // the fuzzer's bytes packed as the app packs them, so the JSON reader behind the
            // decompressor is reached too
            let packed = gocua_core::sync::dcz::encode(body).expect("dcz encode");
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("dcz"));
            let _ = gocua_server::api::json_body::<PushRequest>(&headers, Ok(Bytes::from(packed)));
            return;
        }
    }
    let _ = gocua_server::api::json_body::<PushRequest>(&headers, Ok(Bytes::copy_from_slice(body)));
});
