//! Bundles: round trip through a device store, and every way a bundle must be refused.

use chrono::Utc;
use uuid::Uuid;

use super::*;
use crate::fixtures::{self, Rng};

/// A device store enrolled with a server holding `server`, its key sent at enrollment; with
/// `households` made-up households (one resident each) recorded and unsent.
fn device(server: &ServerKey, households: usize) -> (DeviceStore, DevicePublicKey) {
    let mut store = DeviceStore::open_in_memory().unwrap();
    let sent_key = store.enrollment_key().unwrap();
    let response =
        EnrollResponse { server_key: Some(server.public_key().to_base64()), ..fixtures::enroll_response(&store) };
    store.save_enrollment("http://127.0.0.1:9", &response).unwrap();
    let mut rng = Rng::new(11);
    for _ in 0..households {
        let (_, _, payloads) = fixtures::household_payloads(&mut rng, "03445-01", 1);
        for payload in payloads {
            store.record(payload).unwrap();
        }
    }
    (store, DevicePublicKey::parse(&sent_key).unwrap())
}

fn lookup(key: &DevicePublicKey) -> impl FnOnce(Uuid) -> Result<DevicePublicKey, BundleError> + '_ {
    move |_| Ok(key.clone())
}

/// Where the sealed part starts.
fn sealed_start(bundle: &[u8]) -> usize {
    bundle.windows(2).position(|w| w == b"\n\n").unwrap() + 2
}

#[test]
fn a_bundle_round_trips_and_the_events_stay_in_the_outbox() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 3);
    let outbox = store.outbox_batch(1000, usize::MAX).unwrap();
    assert_eq!(outbox.len(), 6);
    let now = Utc::now();
    let bundle = store.export_bundle(now).unwrap();

    let header = read_header(&bundle).unwrap();
    let device_id = store.enrollment().unwrap().unwrap().device_id;
    assert_eq!(header.device_id, device_id);
    assert_eq!(header.events, 6);
    assert_eq!(header.server_key, server.public_key().fingerprint());
    assert_eq!(header.created_at.timestamp_millis(), now.timestamp_millis());
    let text = String::from_utf8_lossy(&bundle[..sealed_start(&bundle)]);
    assert!(text.starts_with("GOCUA-BUNDLE\nformat: 1\n"), "{text}");
    assert!(header.file_name().ends_with(".gocua"));

    let mut asked = None;
    let opened = open(&bundle, &server, |id| {
        asked = Some(id);
        Ok(key.clone())
    })
    .unwrap();
    assert_eq!(asked, Some(device_id), "the key is looked up for the bundle's device");
    assert_eq!(opened.events, outbox, "all outbox events, in sequence order");
    assert_eq!(opened.header, header);
    assert_eq!(opened.schema_version, SCHEMA_VERSION);
    assert_eq!(store.unsent_count().unwrap(), 6, "exporting does not empty the outbox");

    // nothing personal is readable in the file without the server's key
    let name = match &outbox[0].payload {
        crate::event::Payload::HouseholdCreated(h) => h.head_name.clone(),
        other => panic!("unexpected first event {other:?}"),
    };
    assert!(!String::from_utf8_lossy(&bundle).contains(&name));
    // two exports of the same events are different files (fresh ephemeral keys)
    assert_ne!(store.export_bundle(now).unwrap(), bundle);
}

#[test]
fn any_changed_byte_in_the_sealed_part_is_refused_as_damaged() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 1);
    let bundle = store.export_bundle(Utc::now()).unwrap();
    let start = sealed_start(&bundle);
    assert!(bundle.len() - start > 32 + 16, "an ephemeral key, a tag and a body");
    for i in start..bundle.len() {
        let mut tampered = bundle.clone();
        tampered[i] ^= 0x01;
        let err = open(&tampered, &server, lookup(&key)).unwrap_err();
        assert!(matches!(err, BundleError::Damaged { .. }), "byte {i}: {err:?}");
    }
    // cut short, or with a byte added
    let err = open(&bundle[..bundle.len() - 1], &server, lookup(&key)).unwrap_err();
    assert!(matches!(err, BundleError::Damaged { .. }), "{err:?}");
    let mut longer = bundle.clone();
    longer.push(0);
    assert!(matches!(open(&longer, &server, lookup(&key)).unwrap_err(), BundleError::Damaged { .. }));
    // the intact one still opens
    assert!(open(&bundle, &server, lookup(&key)).is_ok());
    let message = BundleError::damaged("x", "y").to_string();
    assert!(message.starts_with("Gói dữ liệu bị hỏng") && message.contains(" / the bundle is damaged"), "{message}");
}

#[test]
fn a_header_that_does_not_match_the_signed_contents_is_damaged() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 2);
    let bundle = store.export_bundle(Utc::now()).unwrap();
    let start = sealed_start(&bundle);
    let header = String::from_utf8(bundle[..start].to_vec()).unwrap();
    for (from, to) in [("events: 4", "events: 3"), ("created: 20", "created: 19")] {
        assert!(header.contains(from), "{header}");
        let mut tampered = header.replacen(from, to, 1).into_bytes();
        tampered.extend_from_slice(&bundle[start..]);
        let err = open(&tampered, &server, lookup(&key)).unwrap_err();
        assert_eq!(err.kind(), "damaged", "{from}: {err}");
        assert!(err.to_string().contains("the header does not match the contents"), "{err}");
    }
    // a header cut off before its blank line
    let err = open(&bundle[..start - 1], &server, lookup(&key)).unwrap_err();
    assert_eq!(err.kind(), "damaged");
}

#[test]
fn a_bundle_for_another_server_is_told_apart_from_a_damaged_one() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 1);
    let bundle = store.export_bundle(Utc::now()).unwrap();
    let other = ServerKey::generate();
    let err = open(&bundle, &other, lookup(&key)).unwrap_err();
    assert_eq!(
        err,
        BundleError::OtherServer {
            bundle: server.public_key().fingerprint(),
            server: other.public_key().fingerprint()
        }
    );
    assert!(err.to_string().contains("máy chủ khác") && err.to_string().contains("another server"), "{err}");

    // a header edited to name this server still cannot be opened by it
    let text = String::from_utf8_lossy(&bundle[..sealed_start(&bundle)]).into_owned();
    let mut forged = text.replace(&server.public_key().fingerprint(), &other.public_key().fingerprint()).into_bytes();
    forged.extend_from_slice(&bundle[sealed_start(&bundle)..]);
    assert_eq!(open(&forged, &other, lookup(&key)).unwrap_err().kind(), "damaged");
}

#[test]
fn a_body_signed_by_another_key_is_refused() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 1);
    let device_id = store.enrollment().unwrap().unwrap().device_id;
    let events = store.outbox_batch(100, usize::MAX).unwrap();
    let impostor = DeviceKey::generate();
    let bundle = seal(&events, device_id, &impostor, &server.public_key(), Utc::now()).unwrap();
    let err = open(&bundle, &server, lookup(&key)).unwrap_err();
    assert_eq!(err, BundleError::BadSignature(device_id));
    assert!(err.to_string().contains("does not match device"), "{err}");
    // the same bundle verifies with the key that made it: only the key differs
    assert!(open(&bundle, &server, lookup(&impostor.public_key())).is_ok());
}

#[test]
fn events_of_another_device_inside_a_signed_bundle_are_refused() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 1);
    let device_id = store.enrollment().unwrap().unwrap().device_id;
    let mut events = store.outbox_batch(100, usize::MAX).unwrap();
    events[1].device_id = Uuid::now_v7();
    let bundle = store.export_bundle_of(&events, Utc::now()).unwrap();
    let err = open(&bundle, &server, lookup(&key)).unwrap_err();
    assert_eq!(err, BundleError::ForeignEvents { device: device_id, event: events[1].id });
}

#[test]
fn the_device_lookup_decides_unknown_and_revoked_devices() {
    let server = ServerKey::generate();
    let (store, _) = device(&server, 1);
    let bundle = store.export_bundle(Utc::now()).unwrap();
    let err = open(&bundle, &server, |id| Err(BundleError::UnknownDevice(id))).unwrap_err();
    assert_eq!(err.kind(), "unknown_device");
    let err = open(&bundle, &server, |id| Err(BundleError::DeviceRevoked(id))).unwrap_err();
    assert_eq!(err.kind(), "revoked_device");
}

#[test]
fn other_files_and_formats_are_named_as_such() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 1);
    assert_eq!(open(b"PK\x03\x04 a zip file", &server, lookup(&key)).unwrap_err(), BundleError::NotABundle);
    assert_eq!(open(b"", &server, lookup(&key)).unwrap_err(), BundleError::NotABundle);
    let bundle = store.export_bundle(Utc::now()).unwrap();
    let start = sealed_start(&bundle);
    let mut newer = String::from_utf8_lossy(&bundle[..start]).replace("format: 1", "format: 2").into_bytes();
    newer.extend_from_slice(&bundle[start..]);
    assert_eq!(open(&newer, &server, lookup(&key)).unwrap_err(), BundleError::UnsupportedFormat("2".into()));
}

#[test]
fn an_intact_bundle_with_events_this_build_cannot_read_is_not_called_damaged() {
    let server = ServerKey::generate();
    let (store, key) = device(&server, 1);
    let device_id = store.enrollment().unwrap().unwrap().device_id;
    let events = store.outbox_batch(100, usize::MAX).unwrap();
    // what a newer app would write: a payload type this build does not know
    let mut raw: Vec<serde_json::Value> = events.iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    raw[0]["payload"]["type"] = "household_created.v9".into();
    let created_at = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let body = Body {
        format: FORMAT,
        device_id,
        server_key: server.public_key().fingerprint(),
        created_at,
        schema_version: SCHEMA_VERSION + 1,
        app_version: "9.0.0".into(),
        events: raw,
    };
    let header = Header {
        format: FORMAT,
        device_id,
        server_key: body.server_key.clone(),
        created_at,
        events: events.len() as u64,
    };
    let secret = store
        .connection()
        .query_row("SELECT secret_key FROM signing_keys WHERE device_id = ?1", [device_id.to_string()], |r| {
            r.get::<_, Vec<u8>>(0)
        })
        .unwrap();
    let mut signed = serde_json::to_vec(&body).unwrap();
    let signature = DeviceKey::from_secret_bytes(&secret).unwrap().0.sign(&[SIGNING_CONTEXT, &signed].concat());
    signed.extend_from_slice(&signature.to_bytes());
    let mut bundle = header.render().into_bytes();
    bundle.extend(server.public_key().0.seal(&mut OsRng, &zstd::encode_all(&signed[..], 3).unwrap()).unwrap());
    assert_eq!(open(&bundle, &server, lookup(&key)).unwrap_err(), BundleError::UnreadableEvents);
}

#[test]
fn export_needs_unsent_events_a_server_key_and_a_signing_key() {
    let server = ServerKey::generate();
    let (store, _) = device(&server, 0);
    let err = store.export_bundle(Utc::now()).unwrap_err();
    assert!(matches!(err, Error::Bundle(BundleError::NothingToExport)), "{err:?}");

    let unenrolled = DeviceStore::open_in_memory().unwrap();
    assert!(matches!(unenrolled.export_bundle(Utc::now()).unwrap_err(), Error::NotEnrolled));

    // enrolled with an older server (no key), without having made a signing key
    let mut old = DeviceStore::open_in_memory().unwrap();
    let mut response = fixtures::enroll_response(&old);
    old.save_enrollment("http://127.0.0.1:9", &response).unwrap();
    let (_, _, payloads) = fixtures::household_payloads(&mut Rng::new(3), "03445-02", 0);
    old.record(payloads[0].clone()).unwrap();
    let err = old.export_bundle(Utc::now()).unwrap_err();
    assert!(matches!(err, Error::Bundle(BundleError::NoServerKey)), "{err:?}");
    assert!(err.to_string().contains("update the server"), "{err}");
    // a server key, but no signing key sent with this enrollment
    old.connection().execute("UPDATE enrollment SET server_key = ?1", [server.public_key().to_base64()]).unwrap();
    let err = old.export_bundle(Utc::now()).unwrap_err();
    assert!(matches!(err, Error::Bundle(BundleError::NoSigningKey)), "{err:?}");
    // an invalid server key in an answer is not kept
    response.server_key = Some("not a key".into());
    let mut fresh = DeviceStore::open_in_memory().unwrap();
    fresh.save_enrollment("http://127.0.0.1:9", &response).unwrap();
    assert_eq!(fresh.server_key().unwrap(), None);
}

#[test]
fn each_enrollment_gets_its_own_signing_key() {
    let mut store = DeviceStore::open_in_memory().unwrap();
    let first = store.enrollment_key().unwrap();
    assert_eq!(store.enrollment_key().unwrap(), first, "the pending key is kept until an enrollment uses it");
    assert!(DevicePublicKey::parse(&first).is_ok());
    let server = ServerKey::generate();
    let mut response =
        EnrollResponse { server_key: Some(server.public_key().to_base64()), ..fixtures::enroll_response(&store) };
    store.save_enrollment("http://127.0.0.1:9", &response).unwrap();
    assert_eq!(store.server_key().unwrap(), Some(server.public_key()));
    let second = store.enrollment_key().unwrap();
    assert_ne!(second, first, "a bound key is never handed out again");
    response.device_id = Uuid::now_v7();
    store.save_enrollment("http://127.0.0.1:9", &response).unwrap();
    let keys: Vec<(String, Option<String>)> = store
        .connection()
        .prepare("SELECT public_key, device_id FROM signing_keys")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(keys, vec![(second, Some(response.device_id.to_string()))], "the earlier enrollment's key is gone");
}

#[test]
fn keys_parse_strictly_and_debug_shows_no_secret() {
    assert_eq!(DevicePublicKey::parse("AAAA").unwrap_err(), BundleError::InvalidKey("device key"));
    // the identity point: a valid encoding, but of small order
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(DevicePublicKey::parse(&BASE64.encode(identity)).is_err());
    assert!(ServerPublicKey::parse("!!").is_err());
    let server = ServerKey::generate();
    assert_eq!(ServerKey::from_secret_bytes(&server.secret_bytes()).unwrap().public_key(), server.public_key());
    let device = DeviceKey::generate();
    let restored = DeviceKey::from_secret_bytes(&device.secret_bytes()).unwrap();
    assert_eq!(restored.public_key(), device.public_key());
    let secret_b64 = BASE64.encode(device.secret_bytes());
    assert!(!format!("{device:?}").contains(&secret_b64));
    let server_secret: String = server.secret_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(!format!("{server:?}").contains(&server_secret));
    assert_eq!(fingerprint(&[0; 32]).len(), 32);
}
