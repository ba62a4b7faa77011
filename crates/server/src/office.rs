//! The office's server commands, for police devices (`/api/v1/office/…`): the people working
//! in the officer's places with their devices, a new volunteer or team leader with a one-time
//! enrollment code, a new code, a role switched between volunteer and team leader, a device
//! revoked. Each stays inside the officer's places, and
//! each change is audited with the officer's user and device.

use chrono::{Duration, Utc};
use gocua_core::places::PlaceLevel;
use gocua_core::scope::Scope;
use gocua_core::sync::office::{
    EnrollmentCode, NewPerson, NewPersonResponse, OFFICE_CODE_HOURS, OfficeDevice, OfficePeople, OfficePerson,
};
use gocua_core::sync::protocol::Role;
use gocua_core::validate;
use gocua_server_store::{CodeRow, DeviceKey, DeviceRow, Store, Tx, UserRow, place_path, run_read, run_write};
use uuid::Uuid;

use crate::auth::{AuthDevice, hash_secret, new_enrollment_code, normalize_code};
use crate::domain::Error;
use crate::policy::{self, Action};

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid { kind: "invalid", message: message.into() }
}

fn outside() -> Error {
    Error::Forbidden(
        "Người hoặc thiết bị này không thuộc địa bàn của bạn / this person or device is outside your places".into(),
    )
}

/// The officer's places and every place under them (a commune and its hamlets).
fn places_within(tx: &mut dyn Tx, device: &AuthDevice) -> Result<Vec<String>, Error> {
    let mut codes: Vec<String> = device.scope.scope().codes().to_vec();
    let mut next = 0;
    while next < codes.len() {
        let children = tx.children(&codes[next])?;
        codes.extend(children.into_iter().map(|p| p.code));
        next += 1;
    }
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// Whether every place of `scope` lies inside the officer's places.
fn inside(tx: &mut dyn Tx, device: &AuthDevice, codes: &[String]) -> Result<bool, Error> {
    for code in codes {
        match place_path(tx, code)? {
            Some(path) if device.scope.contains_path(&path) => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

fn device_view(d: DeviceRow) -> OfficeDevice {
    OfficeDevice {
        id: d.id,
        name: d.name,
        enrolled_at: d.enrolled_at,
        last_seen_at: d.last_seen_at,
        app_version: d.app_version,
        unsent: None,
        revoked_at: d.revoked_at,
    }
}

fn person_view(tx: &mut dyn Tx, user: UserRow) -> Result<OfficePerson, Error> {
    let rows = tx.devices(Some(user.id))?;
    let unsent = tx.unsent_counts(&rows.iter().map(|d| d.id).collect::<Vec<_>>())?;
    let devices = rows
        .into_iter()
        .map(|d| {
            let reported = unsent.iter().find(|(id, _)| *id == d.id).map(|(_, n)| *n);
            OfficeDevice { unsent: reported, ..device_view(d) }
        })
        .collect();
    Ok(OfficePerson { id: user.id, name: user.name, role: user.role, places: user.scope.codes().to_vec(), devices })
}

/// Everyone working in the officer's places (any of their places inside), by name, with their
/// devices.
pub fn people(store: &dyn Store, device: &AuthDevice) -> Result<OfficePeople, Error> {
    policy::require(device, Action::Office)?;
    run_read(store, |tx| {
        let codes = places_within(tx, device)?;
        let mut people = Vec::new();
        for user in tx.users_in(&codes)? {
            people.push(person_view(tx, user)?);
        }
        people.sort_by(|a: &OfficePerson, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(OfficePeople { people })
    })
}

/// A new one-time code for `user_id`, valid [`OFFICE_CODE_HOURS`]; only its hash is stored.
fn issue_code(tx: &mut dyn Tx, user_id: Uuid) -> Result<EnrollmentCode, Error> {
    let code = new_enrollment_code();
    let now = Utc::now();
    let expires_at = now + Duration::hours(OFFICE_CODE_HOURS);
    tx.insert_code(&CodeRow {
        code_hash: hash_secret(&normalize_code(&code)),
        user_id,
        created_at: now,
        expires_at,
        used_at: None,
    })?;
    Ok(EnrollmentCode { user_id, code, expires_at })
}

fn audit(tx: &mut dyn Tx, device: &AuthDevice, action: &'static str, detail: serde_json::Value) -> Result<(), Error> {
    crate::audit::append(
        tx,
        &crate::audit::Entry { actor_user: Some(device.user_id), actor_device: Some(device.device_id), action, detail },
    )?;
    Ok(())
}

/// Adds a volunteer or team leader working in places inside the officer's, with a first code.
pub fn add_person(store: &dyn Store, device: &AuthDevice, new: &NewPerson) -> Result<NewPersonResponse, Error> {
    policy::require(device, Action::Office)?;
    let name = validate::text_line("name", ("Họ và tên", "name"), &new.name).map_err(Error::field)?;
    if name.is_empty() {
        return Err(invalid("Hãy nhập họ và tên / the name is required"));
    }
    if !matches!(new.role, Role::Volunteer | Role::TeamLeader) {
        return Err(invalid(
            "Văn phòng chỉ thêm tình nguyện viên hoặc tổ trưởng / the office adds volunteers and team leaders only",
        ));
    }
    let scope = Scope::new(new.places.iter().cloned())
        .map_err(|_| invalid("Hãy chọn ít nhất một thôn/bản / choose at least one hamlet"))?;
    let user = UserRow { id: Uuid::now_v7(), name, role: new.role, scope, created_at: Utc::now() };
    run_write(store, |tx| {
        for code in user.scope.codes() {
            match tx.place(code)? {
                Some(place) if matches!(place.level, PlaceLevel::Hamlet | PlaceLevel::Commune) => {}
                _ => return Err(invalid(format!("Không có thôn/bản mã {code} / there is no hamlet {code}"))),
            }
        }
        if !inside(tx, device, user.scope.codes())? {
            return Err(outside());
        }
        tx.insert_user(&user)?;
        let code = issue_code(tx, user.id)?;
        audit(
            tx,
            device,
            "add_user",
            serde_json::json!({ "user": user.id, "role": user.role.code(), "scope": user.scope.key() }),
        )?;
        let person = person_view(tx, user.clone())?;
        Ok(NewPersonResponse { person, code })
    })
}

/// The user, when they work inside the officer's places.
fn user_inside(tx: &mut dyn Tx, device: &AuthDevice, user_id: Uuid) -> Result<UserRow, Error> {
    let user = tx.user(user_id)?.ok_or_else(outside)?;
    if !inside(tx, device, user.scope.codes())? {
        return Err(outside());
    }
    Ok(user)
}

/// A new one-time code for someone of the officer's places (a new phone, a lost code).
pub fn new_code(store: &dyn Store, device: &AuthDevice, user_id: Uuid) -> Result<EnrollmentCode, Error> {
    policy::require(device, Action::Office)?;
    run_write(store, |tx| {
        user_inside(tx, device, user_id)?;
        let code = issue_code(tx, user_id)?;
        audit(tx, device, "create_code", serde_json::json!({ "user": user_id }))?;
        Ok(code)
    })
}

/// Makes a volunteer of the officer's places a team leader, or a team leader a volunteer (a
/// police role is given at the command line only). Their phones take it on at their next sync.
/// Returns the person as the office lists them now.
pub fn set_role(store: &dyn Store, device: &AuthDevice, user_id: Uuid, role: Role) -> Result<OfficePerson, Error> {
    policy::require(device, Action::Office)?;
    if !matches!(role, Role::Volunteer | Role::TeamLeader) {
        return Err(invalid(
            "Văn phòng chỉ đổi giữa tình nguyện viên và tổ trưởng / the office switches between volunteer and team leader only",
        ));
    }
    run_write(store, |tx| {
        let user = user_inside(tx, device, user_id)?;
        if !matches!(user.role, Role::Volunteer | Role::TeamLeader) {
            return Err(invalid(
                "Văn phòng chỉ đổi vai trò của tình nguyện viên và tổ trưởng / the office changes the role of volunteers and team leaders only",
            ));
        }
        crate::admin::change_role(tx, user_id, role, Some(device))?;
        let user = tx.user(user_id)?.ok_or_else(outside)?;
        person_view(tx, user)
    })
}

/// Revokes a device of someone of the officer's places: its token stops at once, and the app
/// wipes its data at its next contact (locked or not). Returns whether this call revoked it.
pub fn revoke(store: &dyn Store, device: &AuthDevice, device_id: Uuid) -> Result<bool, Error> {
    policy::require(device, Action::Office)?;
    run_write(store, |tx| {
        let target = tx.device(DeviceKey::Id(device_id))?.ok_or_else(outside)?;
        user_inside(tx, device, target.user_id)?;
        let revoked = tx.revoke_device(device_id, Utc::now())?;
        if revoked {
            audit(tx, device, "revoke_device", serde_json::json!({ "device": device_id }))?;
        }
        Ok(revoked)
    })
}
