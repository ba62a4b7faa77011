//! Sneakernet bundles: a device's unsent events as one file, signed by the device and sealed to
//! the server, for a commune with no signal for days (DESIGN.md, "Sneakernet").
//!
//! A `.gocua` file is a short plain-text header, a blank line, then a sealed box:
//!
//! ```text
//! GOCUA-BUNDLE
//! format: 1
//! device: 0198…                       the device that made it
//! server-key: 3f2a…                   fingerprint of the server key it is sealed to
//! created: 2025-07-01T08:00:00.000Z
//! events: 120
//!
//! <sealed box>
//! ```
//!
//! The header only lets a person (and the server) tell a bundle for another server from a damaged
//! one before trying to open it. The sealed box (libsodium's anonymous `crypto_box_seal`: X25519
//! and XSalsa20-Poly1305, so only the holder of the server's secret key reads it and any changed
//! byte is detected) holds `zstd(body ‖ signature)`: `body` is the JSON of [`Body`], which repeats
//! every header field (they must match), and `signature` is the device's ed25519 signature of
//! [`SIGNING_CONTEXT`] followed by exactly those JSON bytes. The server fingerprint sits inside the
//! signed part, so a bundle cannot be re-sealed to another server without the device's key.
//!
//! Exporting leaves the events in the outbox: they leave it only when the server acknowledges them
//! on a later sync (as duplicates once the bundle was imported).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, SecondsFormat, Utc};
use crypto_box::aead::OsRng;
use crypto_box::aead::rand_core::RngCore;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Error;
use crate::event::Event;
use crate::store::DeviceStore;
use crate::sync::protocol::{APP_VERSION, EnrollResponse, SCHEMA_VERSION};

/// The first line of every bundle.
pub const MAGIC: &str = "GOCUA-BUNDLE";
/// The bundle format this build writes and reads.
pub const FORMAT: u32 = 1;
/// The file name extension of bundles.
pub const EXTENSION: &str = "gocua";
/// The largest bundle file accepted.
pub const MAX_BUNDLE_BYTES: usize = 64 * 1024 * 1024;
/// The largest decompressed body accepted (a guard against decompression bombs).
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// The header ends within this many bytes.
const MAX_HEADER_BYTES: usize = 1024;
/// What the device's signature covers, before the body's bytes: no signature made for anything
/// else with the same key can pass for a bundle's.
pub const SIGNING_CONTEXT: &[u8] = b"GOCUA-BUNDLE/1 signed body\n";
/// Bundles are made rarely and carried over slow links: worth a higher level than pushes.
const ZSTD_LEVEL: i32 = 9;
const SIGNATURE_LEN: usize = ed25519_dalek::SIGNATURE_LENGTH;

/// Why a bundle cannot be made or opened. Messages are Vietnamese, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The file does not start like a bundle.
    #[error("Tệp này không phải gói dữ liệu Gõ Cửa / this file is not a Gõ Cửa bundle")]
    NotABundle,
    /// A bundle of a format this build does not read.
    #[error(
        "Gói dữ liệu định dạng {0} chưa được hỗ trợ: hãy cập nhật máy chủ / bundle format {0} is not supported: update the server"
    )]
    UnsupportedFormat(String),
    /// Sealed to another server's key.
    #[error(
        "Gói dữ liệu này được tạo cho máy chủ khác (khóa {bundle}, máy chủ này {server}) / this bundle was made for another server (key {bundle}; this server's is {server})"
    )]
    OtherServer {
        /// The fingerprint the bundle names.
        bundle: String,
        /// This server's current fingerprint.
        server: String,
    },
    /// Cannot be decrypted, decompressed or parsed, or its header does not match its contents.
    #[error("Gói dữ liệu bị hỏng hoặc đã bị sửa đổi ({vi}) / the bundle is damaged or was tampered with ({en})")]
    Damaged {
        /// What failed, in Vietnamese.
        vi: &'static str,
        /// What failed, in English.
        en: &'static str,
    },
    /// Larger than this build opens.
    #[error("Gói dữ liệu quá lớn / the bundle is too large")]
    TooLarge,
    /// The server does not know the device.
    #[error("Máy chủ không biết thiết bị {0} / unknown device {0}")]
    UnknownDevice(Uuid),
    /// The device was revoked.
    #[error("Thiết bị {0} đã bị thu hồi / device {0} has been revoked")]
    DeviceRevoked(Uuid),
    /// The device enrolled without a signing key (an older app).
    #[error(
        "Thiết bị {0} chưa đăng ký khóa ký (ứng dụng cũ) / device {0} has no signing key on file (enrolled by an older app)"
    )]
    NoDeviceKey(Uuid),
    /// The signature is not the device's.
    #[error("Chữ ký của gói không khớp khóa của thiết bị {0} / the bundle's signature does not match device {0}'s key")]
    BadSignature(Uuid),
    /// An event inside was recorded by another device.
    #[error(
        "Gói của thiết bị {device} chứa bản ghi {event} của thiết bị khác / the bundle of device {device} holds event {event} of another device"
    )]
    ForeignEvents {
        /// The bundle's device.
        device: Uuid,
        /// The first foreign event.
        event: Uuid,
    },
    /// Signed and intact, but with events this build cannot read (a newer app).
    #[error(
        "Gói có bản ghi máy chủ chưa đọc được (ứng dụng mới hơn máy chủ?) / the bundle holds events this server cannot read (is the app newer than the server?)"
    )]
    UnreadableEvents,
    /// A key that is not a valid key of its kind.
    #[error("Khóa không hợp lệ ({0}) / invalid key ({0})")]
    InvalidKey(&'static str),
    /// Export: the outbox is empty.
    #[error("Không có bản ghi nào chưa gửi để xuất / there are no unsent records to export")]
    NothingToExport,
    /// Export: the enrollment came without a server key (an older server).
    #[error(
        "Máy chủ chưa cấp khóa cho thiết bị này: hãy cập nhật máy chủ rồi đăng ký lại / the server gave this device no key: update the server and enroll again"
    )]
    NoServerKey,
    /// Export: this enrollment has no signing key (enrolled without one).
    #[error("Thiết bị này chưa có khóa ký: hãy đăng ký lại / this device has no signing key: enroll it again")]
    NoSigningKey,
}

impl BundleError {
    /// A stable code for logs, audits and the app.
    pub fn kind(&self) -> &'static str {
        match self {
            BundleError::NotABundle => "not_a_bundle",
            BundleError::UnsupportedFormat(_) => "unsupported_format",
            BundleError::OtherServer { .. } => "other_server",
            BundleError::Damaged { .. } => "damaged",
            BundleError::TooLarge => "too_large",
            BundleError::UnknownDevice(_) => "unknown_device",
            BundleError::DeviceRevoked(_) => "revoked_device",
            BundleError::NoDeviceKey(_) => "no_device_key",
            BundleError::BadSignature(_) => "bad_signature",
            BundleError::ForeignEvents { .. } => "foreign_events",
            BundleError::UnreadableEvents => "unreadable_events",
            BundleError::InvalidKey(_) => "invalid_key",
            BundleError::NothingToExport => "nothing_to_export",
            BundleError::NoServerKey => "no_server_key",
            BundleError::NoSigningKey => "no_signing_key",
        }
    }

    fn damaged(vi: &'static str, en: &'static str) -> Self {
        BundleError::Damaged { vi, en }
    }
}

/// The short fingerprint of a public key: hex of the first 16 bytes of its SHA-256.
pub fn fingerprint(public_key: &[u8; 32]) -> String {
    Sha256::digest(public_key)[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_key(text: &str, what: &'static str) -> Result<[u8; 32], BundleError> {
    BASE64.decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or(BundleError::InvalidKey(what))
}

fn key_bytes(bytes: &[u8], what: &'static str) -> Result<[u8; 32], BundleError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| BundleError::InvalidKey(what))
}

/// The server's X25519 key pair that bundles are sealed to. Its secret stays on the server.
#[derive(Clone)]
pub struct ServerKey(crypto_box::SecretKey);

impl ServerKey {
    /// A fresh random key pair.
    pub fn generate() -> Self {
        ServerKey(crypto_box::SecretKey::generate(&mut OsRng))
    }
    /// From the 32 secret bytes, as [`ServerKey::secret_bytes`] gave them.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        Ok(ServerKey(crypto_box::SecretKey::from_bytes(key_bytes(bytes, "server secret key")?)))
    }
    /// The 32 secret bytes, for the server's database only.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// The public half, which enrollments hand to devices.
    pub fn public_key(&self) -> ServerPublicKey {
        ServerPublicKey(self.0.public_key())
    }
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerKey").field("fingerprint", &self.public_key().fingerprint()).finish_non_exhaustive()
    }
}

/// The public half of a [`ServerKey`], as a device keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerPublicKey(crypto_box::PublicKey);

impl ServerPublicKey {
    /// Parses the base64 form.
    pub fn parse(text: &str) -> Result<Self, BundleError> {
        Ok(ServerPublicKey(crypto_box::PublicKey::from_bytes(decode_key(text, "server key")?)))
    }
    /// The base64 form.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0.as_bytes())
    }
    /// The fingerprint a bundle's header names.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.0.as_bytes())
    }
}

impl fmt::Debug for ServerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServerPublicKey").field(&self.fingerprint()).finish()
    }
}

/// A device's ed25519 signing key. Its secret stays on the device.
#[derive(Clone)]
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        let key = DeviceKey(SigningKey::from_bytes(&seed));
        seed.fill(0);
        key
    }
    /// From the 32-byte seed, as [`DeviceKey::secret_bytes`] gave it.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        Ok(DeviceKey(SigningKey::from_bytes(&key_bytes(bytes, "device secret key")?)))
    }
    /// The 32-byte seed, for the device's database only.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// The public half, which the enrollment sends to the server.
    pub fn public_key(&self) -> DevicePublicKey {
        DevicePublicKey(self.0.verifying_key())
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKey").field("public", &self.public_key().to_base64()).finish_non_exhaustive()
    }
}

/// The public half of a [`DeviceKey`], as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePublicKey(VerifyingKey);

impl DevicePublicKey {
    /// Parses the base64 form; refuses points that are not valid or are weak (small order).
    pub fn parse(text: &str) -> Result<Self, BundleError> {
        let key = VerifyingKey::from_bytes(&decode_key(text, "device key")?)
            .map_err(|_| BundleError::InvalidKey("device key"))?;
        if key.is_weak() {
            return Err(BundleError::InvalidKey("device key"));
        }
        Ok(DevicePublicKey(key))
    }
    /// The base64 form.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0.as_bytes())
    }
}

/// The plain-text header: readable without any key, and repeated inside the signed part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The bundle format.
    pub format: u32,
    /// The device that made it.
    pub device_id: Uuid,
    /// Fingerprint of the server key it is sealed to.
    pub server_key: String,
    /// When it was made (device clock, whole milliseconds).
    pub created_at: DateTime<Utc>,
    /// How many events it holds.
    pub events: u64,
}

impl Header {
    fn render(&self) -> String {
        format!(
            "{MAGIC}\nformat: {}\ndevice: {}\nserver-key: {}\ncreated: {}\nevents: {}\n\n",
            self.format,
            self.device_id,
            self.server_key,
            self.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.events
        )
    }

    /// A file name for the bundle: `gocua-<device>-<time>.gocua`.
    pub fn file_name(&self) -> String {
        let device = self.device_id.simple().to_string();
        format!("gocua-{}-{}.{EXTENSION}", &device[device.len() - 8..], self.created_at.format("%Y%m%d-%H%M%S"))
    }
}

/// The signed JSON inside the sealed box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body<E> {
    /// The bundle format (as in the header).
    pub format: u32,
    /// The device (as in the header).
    pub device_id: Uuid,
    /// The server key's fingerprint (as in the header).
    pub server_key: String,
    /// When it was made (as in the header).
    pub created_at: DateTime<Utc>,
    /// The event schema the app spoke, passed on to ingest as a push's would be.
    pub schema_version: u32,
    /// The app's version.
    pub app_version: String,
    /// The outbox events in sequence order.
    pub events: Vec<E>,
}

/// An opened, verified bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedBundle {
    /// Its header (checked against the signed contents).
    pub header: Header,
    /// The event schema the app spoke.
    pub schema_version: u32,
    /// The app's version.
    pub app_version: String,
    /// The events, in the order the device wrote them (sequence order).
    pub events: Vec<Event>,
}

/// Makes a bundle of `events` (which should be `device_id`'s outbox, in sequence order), signed
/// with `key` and sealed to `server`.
pub fn seal(
    events: &[Event],
    device_id: Uuid,
    key: &DeviceKey,
    server: &ServerPublicKey,
    created_at: DateTime<Utc>,
) -> Result<Vec<u8>, BundleError> {
    let created_at = DateTime::from_timestamp_millis(created_at.timestamp_millis()).unwrap_or(created_at);
    let body = Body {
        format: FORMAT,
        device_id,
        server_key: server.fingerprint(),
        created_at,
        schema_version: SCHEMA_VERSION,
        app_version: APP_VERSION.to_owned(),
        events: events.to_vec(),
    };
    let header = Header {
        format: FORMAT,
        device_id,
        server_key: body.server_key.clone(),
        created_at,
        events: events.len() as u64,
    };
    let signed = serde_json::to_vec(&body).map_err(|_| BundleError::UnreadableEvents)?;
    seal_signed_json(signed, &header, key, server)
}

/// Signs `json` (a body as [`seal`] writes it), compresses and seals it behind `header`. Public
/// for the fuzz target that feeds [`open`] well-sealed bodies of any content (`fuzz/`).
pub fn seal_signed_json(
    mut signed: Vec<u8>,
    header: &Header,
    key: &DeviceKey,
    server: &ServerPublicKey,
) -> Result<Vec<u8>, BundleError> {
    let signature = key.0.sign(&[SIGNING_CONTEXT, &signed].concat());
    signed.extend_from_slice(&signature.to_bytes());
    let compressed = zstd::encode_all(&signed[..], ZSTD_LEVEL).map_err(|_| BundleError::TooLarge)?;
    let sealed = server.0.seal(&mut OsRng, &compressed).map_err(|_| BundleError::TooLarge)?;
    let mut out = header.render().into_bytes();
    out.extend_from_slice(&sealed);
    if out.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge);
    }
    Ok(out)
}

/// Reads the plain header, without any key. Nothing in it is trusted until [`open`] checks it
/// against the signed contents.
pub fn read_header(bytes: &[u8]) -> Result<Header, BundleError> {
    split(bytes).map(|(header, _)| header)
}

fn split(bytes: &[u8]) -> Result<(Header, &[u8]), BundleError> {
    if !bytes.starts_with(format!("{MAGIC}\n").as_bytes()) {
        return Err(BundleError::NotABundle);
    }
    let unreadable = || BundleError::damaged("phần đầu không đọc được", "unreadable header");
    let end =
        bytes[..bytes.len().min(MAX_HEADER_BYTES)].windows(2).position(|w| w == b"\n\n").ok_or_else(unreadable)?;
    let text = std::str::from_utf8(&bytes[..end]).map_err(|_| unreadable())?;
    let mut fields = BTreeMap::new();
    for line in text.lines().skip(1) {
        let (key, value) = line.split_once(": ").ok_or_else(unreadable)?;
        if fields.insert(key, value).is_some() {
            return Err(unreadable());
        }
    }
    let format = fields.remove("format").ok_or_else(unreadable)?;
    if format != FORMAT.to_string() {
        return Err(BundleError::UnsupportedFormat(format.chars().take(16).collect()));
    }
    let mut field = |name: &str| fields.remove(name).ok_or_else(unreadable);
    let header = Header {
        format: FORMAT,
        device_id: field("device")?.parse().map_err(|_| unreadable())?,
        server_key: field("server-key")?.to_owned(),
        created_at: DateTime::parse_from_rfc3339(field("created")?).map_err(|_| unreadable())?.with_timezone(&Utc),
        events: field("events")?.parse().map_err(|_| unreadable())?,
    };
    if !fields.is_empty() || header.server_key.len() != 32 || !header.server_key.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(unreadable());
    }
    Ok((header, &bytes[end + 2..]))
}

/// Opens a bundle: checks it was sealed to `server`, decrypts and decompresses it, checks the
/// header against the signed contents, verifies the signature with the key `device_key` gives
/// for the device (or its refusal), and that every event is that device's.
pub fn open(
    bytes: &[u8],
    server: &ServerKey,
    device_key: impl FnOnce(Uuid) -> Result<DevicePublicKey, BundleError>,
) -> Result<OpenedBundle, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge);
    }
    let (header, sealed) = split(bytes)?;
    let ours = server.public_key().fingerprint();
    if header.server_key != ours {
        return Err(BundleError::OtherServer { bundle: header.server_key, server: ours });
    }
    let compressed = server
        .0
        .unseal(sealed)
        .map_err(|_| BundleError::damaged("không giải mã được", "it does not decrypt: altered or cut short"))?;
    let mut signed = Vec::new();
    zstd::stream::read::Decoder::new(&compressed[..])
        .and_then(|d| d.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut signed))
        .map_err(|_| BundleError::damaged("không giải nén được", "it does not decompress"))?;
    if signed.len() > MAX_BODY_BYTES {
        return Err(BundleError::TooLarge);
    }
    let Some(split_at) = signed.len().checked_sub(SIGNATURE_LEN) else {
        return Err(BundleError::damaged("thiếu chữ ký", "the signature is missing"));
    };
    let (json, signature) = signed.split_at(split_at);
    // Events stay raw until the signature is checked: an intact bundle from a newer app is not
    // "damaged".
    let body: Body<serde_json::Value> = serde_json::from_slice(json)
        .map_err(|_| BundleError::damaged("nội dung không đọc được", "unreadable contents"))?;
    let inner = Header {
        format: body.format,
        device_id: body.device_id,
        server_key: body.server_key.clone(),
        created_at: body.created_at,
        events: body.events.len() as u64,
    };
    if inner != header {
        return Err(BundleError::damaged("phần đầu không khớp nội dung", "the header does not match the contents"));
    }
    let key = device_key(body.device_id)?;
    let signature =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| BundleError::BadSignature(body.device_id))?;
    key.0
        .verify_strict(&[SIGNING_CONTEXT, json].concat(), &signature)
        .map_err(|_| BundleError::BadSignature(body.device_id))?;
    let events = body
        .events
        .into_iter()
        .map(serde_json::from_value::<Event>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| BundleError::UnreadableEvents)?;
    if let Some(foreign) = events.iter().find(|e| e.device_id != body.device_id) {
        return Err(BundleError::ForeignEvents { device: body.device_id, event: foreign.id });
    }
    Ok(OpenedBundle { header, schema_version: body.schema_version, app_version: body.app_version, events })
}

impl DeviceStore {
    /// The public key (base64) to send with the next enrollment: the pending signing key, made now
    /// if there is none. [`DeviceStore::save_enrollment`] binds it to the enrolled device.
    pub fn enrollment_key(&self) -> Result<String, Error> {
        let conn = self.connection();
        if let Some(key) = pending_key(conn)? {
            return Ok(key);
        }
        let key = DeviceKey::generate();
        let public = key.public_key().to_base64();
        conn.execute(
            "INSERT INTO signing_keys (public_key, secret_key, created_at)
             SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE device_id IS NULL)",
            params![public, key.secret_bytes().to_vec(), Utc::now().to_rfc3339()],
        )?;
        pending_key(conn)?.ok_or_else(|| Error::invalid_input("no pending signing key"))
    }

    /// Exports every outbox event, in sequence order, as a bundle for the server this device is
    /// enrolled with. The events stay in the outbox until a sync acknowledges them.
    pub fn export_bundle(&self, now: DateTime<Utc>) -> Result<Vec<u8>, Error> {
        self.enrollment()?.ok_or(Error::NotEnrolled)?;
        let events = self.outbox_batch(i64::MAX as usize, usize::MAX)?;
        if events.is_empty() {
            return Err(BundleError::NothingToExport.into());
        }
        self.export_bundle_of(&events, now)
    }

    /// A bundle of exactly `events`, signed with this enrollment's key (for [`export_bundle`]
    /// and tests; the server refuses events that are not this device's or out of order).
    ///
    /// [`export_bundle`]: DeviceStore::export_bundle
    pub fn export_bundle_of(&self, events: &[Event], now: DateTime<Utc>) -> Result<Vec<u8>, Error> {
        self.refuse_in_sandbox()?;
        let device_id = self.enrollment()?.ok_or(Error::NotEnrolled)?.device_id;
        let conn = self.connection();
        let server: Option<String> =
            conn.query_row("SELECT server_key FROM enrollment WHERE singleton = 1", [], |r| r.get(0))?;
        let server = ServerPublicKey::parse(&server.ok_or(BundleError::NoServerKey)?)?;
        let secret: Option<Vec<u8>> = conn
            .query_row("SELECT secret_key FROM signing_keys WHERE device_id = ?1", [device_id.to_string()], |r| {
                r.get(0)
            })
            .optional()?;
        let key = DeviceKey::from_secret_bytes(&secret.ok_or(BundleError::NoSigningKey)?)?;
        Ok(seal(events, device_id, &key, &server, now)?)
    }

    /// The server key this enrollment seals bundles to, if the server gave one.
    pub fn server_key(&self) -> Result<Option<ServerPublicKey>, Error> {
        let key: Option<String> = self
            .connection()
            .query_row("SELECT server_key FROM enrollment WHERE singleton = 1", [], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(key.and_then(|k| ServerPublicKey::parse(&k).ok()))
    }
}

fn pending_key(conn: &Connection) -> Result<Option<String>, Error> {
    Ok(conn.query_row("SELECT public_key FROM signing_keys WHERE device_id IS NULL", [], |r| r.get(0)).optional()?)
}

/// Called by [`DeviceStore::save_enrollment`] in its transaction, after the enrollment row is
/// written: keeps the server's key and binds the pending signing key to the new device. Keys of
/// earlier enrollments go (re-enrolling is refused while anything is unsent).
pub(crate) fn on_enrolled(conn: &Connection, response: &EnrollResponse) -> Result<(), Error> {
    let server_key = response.server_key.as_deref().and_then(|k| ServerPublicKey::parse(k).ok());
    conn.execute("UPDATE enrollment SET server_key = ?1 WHERE singleton = 1", [server_key.map(|k| k.to_base64())])?;
    let device_id = response.device_id.to_string();
    conn.execute(
        "DELETE FROM signing_keys WHERE device_id IS NOT NULL
           AND (device_id <> ?1 OR EXISTS (SELECT 1 FROM signing_keys WHERE device_id IS NULL))",
        [&device_id],
    )?;
    conn.execute("UPDATE signing_keys SET device_id = ?1 WHERE device_id IS NULL", [&device_id])?;
    Ok(())
}

#[cfg(test)]
mod tests;
