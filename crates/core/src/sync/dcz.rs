//! Dictionary-compressed bodies: `Content-Encoding: dcz` as RFC 9842 defines it, zstd with a
//! dictionary both sides already hold, the body opening with the dictionary's SHA-256. Pushes
//! are sent so; pull pages are answered so when the app names the dictionary it holds in
//! `Available-Dictionary` and accepts `dcz`.
//!
//! A push of 100 events is small enough that plain zstd spends much of it learning the shape of
//! the JSON (the keys, the event types, the common family names). The dictionary teaches that
//! shape up front, so the bytes on a 2G link carry mostly what the volunteer recorded.
//! Dictionaries are never changed: a new one gets a new file, and the server keeps every one an
//! app in the field may still use.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

/// The dictionary this build compresses pushes (and reads pull pages) with: made-up sample
/// events of every kind and common Vietnamese name parts, no real person
/// (`scripts/make-push-dictionary.py`).
pub const PUSH_DICTIONARY_V1: &[u8] = include_bytes!("push-dictionary-v1.txt");
/// Every dictionary the server can read, newest first.
const KNOWN: [&[u8]; 1] = [PUSH_DICTIONARY_V1];
/// The content coding's name.
pub const CONTENT_ENCODING: &str = "dcz";
/// zstd level of push bodies: the phone spends milliseconds, the 2G link saves seconds.
pub const LEVEL: i32 = 19;
/// zstd level of pull pages, which the server compresses for every phone. Measured on a
/// commune's first download (BENCHMARKS.md, issue 13): level 9 gives 21.4 bytes per event in
/// 0.23 s of server CPU for 45,000 events; level 19 18.6 bytes in 3.0 s (13 times the CPU for
/// 13 % fewer bytes); level 12 is larger than 9 there.
pub const PULL_LEVEL: i32 = 9;
/// The request header naming the dictionary a client holds (RFC 9842: `:base64 SHA-256:`).
pub const AVAILABLE_DICTIONARY: &str = "available-dictionary";
/// RFC 9842's header: a zstd skippable frame of 32 bytes, holding the dictionary's hash.
const MAGIC: [u8; 8] = [0x5e, 0x2a, 0x4d, 0x18, 0x20, 0x00, 0x00, 0x00];
const HEADER_LEN: usize = MAGIC.len() + 32;
/// The largest zstd window a body may ask the reader to keep (8 MiB).
const MAX_WINDOW_LOG: u32 = 23;

/// Why a `dcz` body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DczError {
    /// It does not start with the `dcz` header.
    #[error("dữ liệu không phải dcz / the body is not dcz-encoded")]
    NotDcz,
    /// It was compressed with a dictionary this server does not have.
    #[error("từ điển nén không rõ, hãy cập nhật máy chủ / unknown compression dictionary {0}")]
    UnknownDictionary(String),
    /// It unpacks to more than the limit.
    #[error("dữ liệu sau giải nén vượt {0} byte / the body unpacks to more than {0} bytes")]
    TooLarge(usize),
    /// The zstd stream is damaged.
    #[error("dữ liệu nén hỏng / damaged compressed body: {0}")]
    Corrupt(String),
}

fn hash(dictionary: &[u8]) -> [u8; 32] {
    Sha256::digest(dictionary).into()
}

/// Compresses a body with the current dictionary.
pub fn encode(body: &[u8]) -> std::io::Result<Vec<u8>> {
    encode_with(body, PUSH_DICTIONARY_V1, LEVEL)
}

/// Compresses a body with `dictionary` at zstd `level`.
pub fn encode_with(body: &[u8], dictionary: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() / 8);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&hash(dictionary));
    out.extend(zstd::bulk::Compressor::with_dictionary(level, dictionary)?.compress(body)?);
    Ok(out)
}

/// The `Available-Dictionary` value of the current dictionary, which an app sends with a pull.
pub fn available_dictionary() -> String {
    format!(":{}:", BASE64.encode(hash(PUSH_DICTIONARY_V1)))
}

/// The dictionary an `Available-Dictionary` value names, when this build has it.
pub fn dictionary_named(available: &str) -> Option<&'static [u8]> {
    let named = BASE64.decode(available.trim().strip_prefix(':')?.strip_suffix(':')?).ok()?;
    KNOWN.into_iter().find(|d| hash(d)[..] == named[..])
}

/// Whether an `Accept-Encoding` value accepts `dcz` (a `q=0` refuses it).
pub fn accepted(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        parts.next().is_some_and(|name| name.eq_ignore_ascii_case(CONTENT_ENCODING))
            && !parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0)))
    })
}

/// Decompresses a body, refusing one that would unpack to more than `max_bytes`.
pub fn decode(body: &[u8], max_bytes: usize) -> Result<Vec<u8>, DczError> {
    if body.len() < HEADER_LEN || body[..MAGIC.len()] != MAGIC {
        return Err(DczError::NotDcz);
    }
    let named = &body[MAGIC.len()..HEADER_LEN];
    let dictionary = KNOWN
        .into_iter()
        .find(|d| hash(d)[..] == *named)
        .ok_or_else(|| DczError::UnknownDictionary(hex::encode(&named[..8])))?;
    let mut decoder = zstd::stream::read::Decoder::with_dictionary(&body[HEADER_LEN..], dictionary)
        .map_err(|e| DczError::Corrupt(e.to_string()))?;
    decoder.window_log_max(MAX_WINDOW_LOG).map_err(|e| DczError::Corrupt(e.to_string()))?;
    let mut out = Vec::new();
    decoder.take(max_bytes as u64 + 1).read_to_end(&mut out).map_err(|e| DczError::Corrupt(e.to_string()))?;
    if out.len() > max_bytes {
        return Err(DczError::TooLarge(max_bytes));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_round_trips_and_is_smaller_than_plain_zstd() {
        let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/src/sync/push-dictionary-v1.txt")).unwrap();
        let body = String::from_utf8(body).unwrap().replace("Nguyễn", "Trần").into_bytes();
        let packed = encode(&body).unwrap();
        assert_eq!(decode(&packed, body.len()).unwrap(), body);
        assert!(packed.len() < zstd::encode_all(&body[..], LEVEL).unwrap().len());
    }

    #[test]
    fn an_answer_names_its_dictionary_as_the_app_does() {
        let available = available_dictionary();
        assert_eq!(dictionary_named(&available), Some(PUSH_DICTIONARY_V1));
        assert_eq!(dictionary_named(&format!(" {available} ")), Some(PUSH_DICTIONARY_V1));
        assert_eq!(dictionary_named(":AAAA:"), None, "a dictionary this build does not have");
        assert_eq!(dictionary_named("not base64"), None);
        let body = br#"{"runs":[],"cursor":0}"#.repeat(20);
        let packed = encode_with(&body, PUSH_DICTIONARY_V1, PULL_LEVEL).unwrap();
        assert_eq!(decode(&packed, body.len()).unwrap(), body);
        assert!(accepted("dcz, zstd"));
        assert!(accepted("zstd;q=1.0, DCZ;q=0.5"));
        assert!(!accepted("zstd, gzip"));
        assert!(!accepted("dcz;q=0, zstd"));
        assert!(!accepted("dczz"));
    }

    #[test]
    fn a_shipped_dictionary_never_changes() {
        // apps in the field compress with it: a better dictionary is a new file (v2) added to
        // `KNOWN`, never an edit of this one
        let pinned = "1bd1a2a0c582dab46573cf6d6b97dd49a53e65ec7bdd04eb242fc03595d817a0";
        assert_eq!(hex::encode(hash(PUSH_DICTIONARY_V1)), pinned);
    }

    #[test]
    fn bad_bodies_get_a_specific_error() {
        let body = br#"{"schema_version":3,"events":[]}"#.repeat(50);
        let packed = encode(&body).unwrap();
        assert_eq!(decode(&packed, body.len() - 1), Err(DczError::TooLarge(body.len() - 1)));
        assert_eq!(decode(&zstd::encode_all(&body[..], 3).unwrap(), body.len()), Err(DczError::NotDcz));
        let mut foreign = packed.clone();
        foreign[MAGIC.len()] ^= 1;
        assert!(matches!(decode(&foreign, body.len()), Err(DczError::UnknownDictionary(_))));
        let mut damaged = packed.clone();
        let last = damaged.len() - 3;
        damaged[last] ^= 0xff;
        assert!(
            matches!(decode(&damaged, body.len()), Err(DczError::Corrupt(_))),
            "{:?}",
            decode(&damaged, body.len())
        );
        assert!(matches!(decode(&packed[..packed.len() - 5], body.len()), Err(DczError::Corrupt(_))));
    }
}
