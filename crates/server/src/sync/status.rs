//! The revocation check a locked app makes: a device's id and its revocation probe (the second
//! secret of its enrollment, kept outside the app's encrypted database) answer whether the
//! device is still enrolled, and nothing else.

use gocua_core::sync::status::{DeviceState, DeviceStatusRequest};
use gocua_server_store::{ProbeRow, Store, run_read};

use crate::auth::hash_secret;
use crate::domain::Error;

/// The one refusal: an unknown device, a wrong probe and a device enrolled before probes
/// existed are not told apart.
fn unknown_probe() -> Error {
    Error::Unauthenticated {
        kind: "unauthorized",
        message: "Mã kiểm tra thiết bị không hợp lệ / Unknown device or revocation probe".into(),
    }
}

/// Whether the device `request` names is active or revoked, if its probe is the one it was
/// given at enrollment. Reads one row of `devices` and no personal data.
pub fn device_status(store: &dyn Store, request: &DeviceStatusRequest) -> Result<DeviceState, Error> {
    let offered = hash_secret(&request.probe);
    let row = run_read(store, |tx| Ok::<_, Error>(tx.probe_status(request.device_id)?))?;
    match row {
        Some(ProbeRow { probe_hash: Some(kept), revoked_at }) if same(kept.as_bytes(), offered.as_bytes()) => {
            Ok(if revoked_at.is_some() { DeviceState::Revoked } else { DeviceState::Active })
        }
        _ => Err(unknown_probe()),
    }
}

/// Compares two hashes in time that does not depend on where they first differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use gocua_core::scope::Scope;
    use gocua_core::sync::protocol::{APP_VERSION, EnrollRequest, Role, SCHEMA_VERSION};
    use gocua_server_store::{DeviceKey, run_write};
    use uuid::Uuid;

    use super::*;
    use crate::test_store;

    /// Enrolls a volunteer's device on the demo places; returns its id and probe.
    fn enrolled(store: &dyn Store) -> (Uuid, String) {
        run_write(store, |tx| tx.upsert_places(&gocua_core::fixtures::demo_places())).unwrap();
        let user = crate::admin::add_user(store, "Lò Thị Lan", Role::Volunteer, &Scope::single("03445")).unwrap();
        let code = crate::admin::create_code(store, user, 1).unwrap();
        let request = EnrollRequest {
            code,
            device_name: "Điện thoại của Lan".into(),
            schema_version: SCHEMA_VERSION,
            app_version: APP_VERSION.into(),
            signing_key: None,
        };
        let response = crate::sync::enroll::enroll(store, &request).unwrap();
        let probe = response.revocation_probe.expect("enrollment gives a probe");
        assert_ne!(probe, response.token, "the probe is a secret of its own");
        (response.device_id, probe)
    }

    fn ask(store: &dyn Store, device_id: Uuid, probe: &str) -> Result<DeviceState, Error> {
        device_status(store, &DeviceStatusRequest { device_id, probe: probe.into() })
    }

    #[test]
    fn the_probe_answers_active_then_revoked_and_anything_else_is_refused_alike() {
        let store = test_store::store();
        let store = &*store;
        let (device, probe) = enrolled(store);
        assert_eq!(ask(store, device, &probe), Ok(DeviceState::Active));

        // only the probe's hash is kept, beside the token's
        let kept = run_read(store, |tx| tx.probe_status(device)).unwrap().unwrap();
        assert_eq!(kept.probe_hash.as_deref(), Some(hash_secret(&probe).as_str()));
        let row = run_read(store, |tx| tx.device(DeviceKey::Id(device))).unwrap().unwrap();
        assert_ne!(row.token_hash, hash_secret(&probe));

        let refused = unknown_probe();
        let wrong = format!("{probe}x");
        assert_eq!(ask(store, device, &wrong), Err(refused.clone()), "a wrong probe");
        assert_eq!(ask(store, device, ""), Err(refused.clone()), "no probe");
        assert_eq!(ask(store, Uuid::now_v7(), &probe), Err(refused.clone()), "an unknown device");
        let token = run_read(store, |tx| tx.device(DeviceKey::Id(device))).unwrap().unwrap().token_hash;
        assert_eq!(ask(store, device, &token), Err(refused.clone()), "the token's hash is no probe");

        assert!(crate::admin::revoke_device(store, device).unwrap());
        assert_eq!(ask(store, device, &probe), Ok(DeviceState::Revoked));
        assert_eq!(ask(store, device, &wrong), Err(refused.clone()), "revoked or not, a wrong probe learns nothing");

        // what a handler answers for it
        assert_eq!(crate::error::ApiError::from(refused).status.as_u16(), 401);
    }

    #[test]
    fn a_device_enrolled_before_probes_is_refused() {
        let store = test_store::store();
        let store = &*store;
        // the demo seed's list device is inserted without a probe, as older devices were
        let (device, _) = enrolled(store);
        crate::admin::seed_demo(store).unwrap();
        let devices = run_read(store, |tx| tx.devices(None)).unwrap();
        let old = devices.iter().find(|d| d.id != device).expect("the demo list device").id;
        assert_eq!(run_read(store, |tx| tx.probe_status(old)).unwrap().unwrap().probe_hash, None);
        assert_eq!(ask(store, old, ""), Err(unknown_probe()));
        assert_eq!(ask(store, old, &hash_secret("")), Err(unknown_probe()));
    }

    #[test]
    fn hashes_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd") && !same(b"abc", b"ab") && !same(b"", b"a"));
    }
}
