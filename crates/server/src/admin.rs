//! Admin operations on the server's store: places, users, one-time codes, reasons, devices,
//! demo data. Used by the `gocua-server admin …` commands and by `serve --demo`; each goes
//! through the same rules and store as the HTTP API.

use chrono::{Duration, Utc};
use gocua_core::fixtures;
use gocua_core::places::{self, Place, PlaceLevel};
use gocua_core::reasons::Reason;
use gocua_core::scope::Scope;
use gocua_core::sync::protocol::Role;
use gocua_core::validate;
use gocua_server_store::{CodeRow, DeviceRow, Store, UserRow, run_read, run_write};
use uuid::Uuid;

use crate::auth::{hash_secret, new_enrollment_code, normalize_code};
use crate::domain::Error;

/// The statistics office's 2025 list of provinces and communes, shipped in the binary.
pub const ADMIN_UNITS_2025: &str = include_str!("../../../data/vn-admin-units-2025.csv");

/// Errors of admin commands, worded for the person typing them.
pub type AdminError = Error;

fn invalid(message: String) -> Error {
    Error::invalid(message)
}

/// Loads provinces and communes from a CSV in the statistics office's format.
pub fn import_admin_units(store: &dyn Store, csv: &str) -> Result<usize, Error> {
    let mut list = places::read_admin_units_csv(csv.as_bytes())?;
    list.sort_by_key(|p| p.level);
    Ok(run_write(store, |tx| tx.upsert_places(&list))?)
}

/// Adds (or renames) one place; its parent must exist, one level up or more.
pub fn add_place(store: &dyn Store, place: &Place) -> Result<(), Error> {
    let name = validate::text_line("name", ("Tên địa bàn", "place name"), &place.name).map_err(Error::field)?;
    let place = &Place { name, ..place.clone() };
    if place.code.trim().is_empty() || place.name.is_empty() {
        return Err(invalid("mã và tên không được trống / code and name are required".into()));
    }
    run_write(store, |tx| {
        match (&place.parent_code, place.level) {
            (None, PlaceLevel::Province) => {}
            (None, _) => return Err(invalid(format!("{} cần nơi cấp trên / needs a parent", place.code))),
            (Some(parent), level) => {
                let parent = tx.place(parent)?.ok_or_else(|| {
                    invalid(format!("không có nơi cấp trên {parent} / unknown parent place {parent}"))
                })?;
                if parent.level >= level {
                    return Err(invalid(format!(
                        "{} ({}) không thể nằm dưới {} ({}) / a {} cannot sit under a {}",
                        place.code,
                        level.code(),
                        parent.code,
                        parent.level.code(),
                        level.code(),
                        parent.level.code()
                    )));
                }
            }
        }
        tx.upsert_places(std::slice::from_ref(place))?;
        Ok(())
    })
}

/// Checks that every place of a scope is known.
fn known_scope(tx: &mut dyn gocua_server_store::Tx, scope: &Scope) -> Result<(), Error> {
    for code in scope.codes() {
        // a place of the catalog, or a household given on its own
        if gocua_server_store::place_path(tx, code)?.is_none() {
            return Err(invalid(format!("không có địa bàn {code} / unknown scope place {code}")));
        }
    }
    Ok(())
}

/// Creates a user with a role and a scope (one place or several); returns the user's id.
pub fn add_user(store: &dyn Store, name: &str, role: Role, scope: &Scope) -> Result<Uuid, Error> {
    let name = validate::text_line("name", ("Tên người dùng", "user name"), name).map_err(Error::field)?;
    let name = name.as_str();
    if name.is_empty() {
        return Err(invalid("tên người dùng không được trống / the user name is required".into()));
    }
    let user =
        UserRow { id: Uuid::now_v7(), name: name.to_owned(), role, scope: scope.clone(), created_at: Utc::now() };
    run_write(store, |tx| {
        known_scope(tx, scope)?;
        tx.insert_user(&user)?;
        Ok(user.id)
    })
}

/// Reassigns a user to other places (e.g. the commune police move a volunteer to another
/// hamlet). Their phones learn it on the next pull, which answers `reset` with the new scope:
/// records of places that left the scope leave the phone, those of the new scope arrive. Unsent
/// records from the former places are still accepted.
pub fn set_scope(store: &dyn Store, user_id: Uuid, scope: &Scope) -> Result<(), Error> {
    run_write(store, |tx| {
        known_scope(tx, scope)?;
        change_scope(tx, user_id, scope, None)?;
        Ok(())
    })
}

/// Gives a user another role (an officer moved, a volunteer made team leader); their phones
/// take it on at their next sync, dropping what the old role let them hold.
pub fn set_role(store: &dyn Store, user_id: Uuid, role: Role) -> Result<bool, Error> {
    run_write(store, |tx| change_role(tx, user_id, role, None))
}

/// Gives a user `role` inside `tx`, audited as done by `actor` (a device's user; `None`: the
/// command line). Returns whether anything changed.
pub fn change_role(
    tx: &mut dyn gocua_server_store::Tx,
    user_id: Uuid,
    role: Role,
    actor: Option<&crate::auth::AuthDevice>,
) -> Result<bool, Error> {
    let user =
        tx.user(user_id)?.ok_or_else(|| invalid(format!("không có người dùng {user_id} / unknown user {user_id}")))?;
    if user.role == role {
        return Ok(false);
    }
    tx.set_user_role(user_id, role)?;
    // what a person may read changed: audited like a scope
    crate::audit::append(
        tx,
        &crate::audit::Entry {
            actor_user: actor.map(|d| d.user_id),
            actor_device: actor.map(|d| d.device_id),
            action: "set_role",
            detail: serde_json::json!({ "user": user_id, "from": user.role.code(), "to": role.code() }),
        },
    )?;
    Ok(true)
}

/// Gives a user `scope` inside `tx`: the places they leave are kept as former places (their
/// unsent records from there are still accepted), and the change is audited as done by `actor`
/// (a device's user; `None`: the command line). Returns whether anything changed.
pub fn change_scope(
    tx: &mut dyn gocua_server_store::Tx,
    user_id: Uuid,
    scope: &Scope,
    actor: Option<&crate::auth::AuthDevice>,
) -> Result<bool, Error> {
    let current = tx
        .user(user_id)?
        .ok_or_else(|| invalid(format!("không có người dùng {user_id} / unknown user {user_id}")))?
        .scope;
    if &current == scope {
        return Ok(false);
    }
    let left: Vec<String> = current.codes().iter().filter(|c| !scope.codes().contains(c)).cloned().collect();
    tx.add_former_places(user_id, &left, Utc::now())?;
    tx.set_user_scope(user_id, scope)?;
    // who may read which households changed: that is access to personal data
    crate::audit::append(
        tx,
        &crate::audit::Entry {
            actor_user: actor.map(|d| d.user_id),
            actor_device: actor.map(|d| d.device_id),
            action: "set_scope",
            detail: serde_json::json!({ "user": user_id, "from": current.key(), "to": scope.key() }),
        },
    )?;
    Ok(true)
}

/// Issues a one-time enrollment code for a user, valid for `hours`; only its hash is stored.
pub fn create_code(store: &dyn Store, user_id: Uuid, hours: i64) -> Result<String, Error> {
    if !(1..=24 * 30).contains(&hours) {
        return Err(invalid("thời hạn từ 1 đến 720 giờ / validity must be 1 to 720 hours".into()));
    }
    let code = new_enrollment_code();
    let now = Utc::now();
    let row = CodeRow {
        code_hash: hash_secret(&normalize_code(&code)),
        user_id,
        created_at: now,
        expires_at: now + Duration::hours(hours),
        used_at: None,
    };
    run_write(store, |tx| {
        if tx.user(user_id)?.is_none() {
            return Err(invalid(format!("không có người dùng {user_id} / unknown user {user_id}")));
        }
        tx.insert_code(&row)?;
        Ok(())
    })?;
    Ok(code)
}

/// The devices enrolled for `user` (or all), newest first.
pub fn list_devices(store: &dyn Store, user: Option<Uuid>) -> Result<Vec<DeviceRow>, Error> {
    Ok(run_read(store, |tx| tx.devices(user))?)
}

/// Revokes a device (a lost or stolen phone): its token stops working at once, and at its next
/// contact the app is told so and wipes its database and key. Revoking twice keeps the first
/// time. Returns whether this call revoked it.
pub fn revoke_device(store: &dyn Store, device_id: Uuid) -> Result<bool, Error> {
    run_write(store, |tx| {
        if tx.device(gocua_server_store::DeviceKey::Id(device_id))?.is_none() {
            return Err(invalid(format!("không có thiết bị {device_id} / unknown device {device_id}")));
        }
        let revoked = tx.revoke_device(device_id, Utc::now())?;
        if revoked {
            crate::audit::append(
                tx,
                &crate::audit::Entry::at_command_line("revoke_device", serde_json::json!({ "device": device_id })),
            )?;
        }
        Ok(revoked)
    })
}

/// The database's identity before and after [`new_epoch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochChange {
    /// The epoch it had.
    pub from: String,
    /// The one it has now.
    pub to: String,
}

/// Gives the database a new epoch, after it was restored from a backup that could not be given
/// one when it was made (a PostgreSQL `pg_dump`, or a copy of a stopped SQLite file). Every phone's
/// next pull then answers `reset`: the phone downloads its scope again and sends back every own
/// event it still holds, and the server keeps what it lacks and answers `duplicate` for the
/// rest. Without it a phone whose cursor lies inside the restored order would skip the events
/// that fill the order back up after the restore, and never send again what the restore lost.
/// Audited.
pub fn new_epoch(store: &dyn Store) -> Result<EpochChange, Error> {
    let to = gocua_server_store::new_epoch();
    run_write(store, |tx| {
        let from = tx.epoch()?;
        tx.set_epoch(&to)?;
        crate::audit::append(
            tx,
            &crate::audit::Entry::at_command_line("new_epoch", serde_json::json!({ "from": from, "to": to })),
        )?;
        Ok(EpochChange { from, to: to.clone() })
    })
}

/// Adds a province's own cannot-activate reason (national codes cannot be overwritten).
pub fn add_reason(store: &dyn Store, reason: &Reason) -> Result<(), Error> {
    let province = reason
        .province_code
        .as_deref()
        .ok_or_else(|| invalid("lý do bổ sung phải thuộc một tỉnh / an added reason belongs to a province".into()))?;
    if reason.code.is_empty() || !reason.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(invalid("mã lý do chỉ gồm chữ thường, số và dấu _ / reason codes use a-z, 0-9 and _".into()));
    }
    run_write(store, |tx| {
        match tx.place(province)? {
            Some(p) if p.level == PlaceLevel::Province => {}
            _ => return Err(invalid(format!("không có tỉnh {province} / unknown province {province}"))),
        }
        if let Some(existing) = tx.reasons()?.get(&reason.code)
            && existing.province_code.as_deref() != Some(province)
        {
            return Err(invalid(format!(
                "mã lý do {} đã được dùng / reason code {} is taken",
                reason.code, reason.code
            )));
        }
        tx.upsert_reasons(std::slice::from_ref(reason))?;
        Ok(())
    })
}

/// What `seed_demo` made: users and their one-time codes.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// The demo commune.
    pub commune: Place,
    /// (user name, role, code).
    pub codes: Vec<(String, Role, String)>,
}

/// Seeds the 2025 places, four made-up hamlets in Xã Mường Tè (Lai Châu), a volunteer and a
/// commune police officer, with fresh codes. Safe to run again: places are upserted and each
/// run adds a fresh code for the existing demo users.
pub fn seed_demo(store: &dyn Store) -> Result<DemoSeed, Error> {
    import_admin_units(store, ADMIN_UNITS_2025)?;
    let demo = gocua_core::fixtures::demo_places();
    run_write(store, |tx| tx.upsert_places(&demo))?;
    let commune = demo[1].clone();
    let scope = Scope::single(commune.code.clone());
    let mut codes = Vec::new();
    for (name, role) in [("Lò Thị Lan (demo)", Role::Volunteer), ("Công an xã Mường Tè (demo)", Role::CommunePolice)]
    {
        let existing = run_read(store, |tx| tx.user_named(name, &scope))?;
        let id = match existing {
            Some(user) => user.id,
            None => add_user(store, name, role, &scope)?,
        };
        codes.push((name.to_owned(), role, create_code(store, id, 72)?));
        if role == Role::CommunePolice {
            seed_demo_households(store, id, &commune.code)?;
        }
    }
    Ok(DemoSeed { commune, codes })
}

/// Twelve made-up households with residents and some visits, pushed through the normal ingest
/// path by a "demo list" device of the police user — once per database.
fn seed_demo_households(store: &dyn Store, police_user: Uuid, commune_code: &str) -> Result<(), Error> {
    let hamlets: Vec<String> = run_read(store, |tx| tx.children(commune_code))?.into_iter().map(|p| p.code).collect();
    let seeded = !run_read(store, |tx| tx.projection_in(&hamlets))?.households.is_empty();
    if seeded {
        return Ok(());
    }
    let device = crate::district::server_side_device(store, police_user, "demo list")?;
    let mut rng = fixtures::Rng::new(2025);
    let mut payloads = Vec::new();
    for i in 0..12 {
        let hamlet = &hamlets[i % hamlets.len().max(1)];
        let (_, residents, household) = fixtures::household_payloads(&mut rng, hamlet, 2 + i % 3);
        payloads.extend(household);
        for resident in residents.iter().take(i % 3) {
            payloads.push(fixtures::visit_payload(&mut rng, *resident, &["absent_unreachable", "no_smartphone"]));
        }
    }
    crate::district::record_as(store, &device, payloads)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store::{self, TestStore};

    fn db() -> TestStore {
        test_store::store()
    }

    #[test]
    fn the_real_list_imports_and_hamlets_attach_to_communes() {
        let store = db();
        let store = &*store;
        assert_eq!(import_admin_units(store, ADMIN_UNITS_2025).unwrap(), 34 + 3321);
        let hamlet = Place {
            code: "00004-01".into(),
            name: "Tổ dân phố 1".into(),
            level: PlaceLevel::Hamlet,
            division_type: "tổ dân phố".into(),
            parent_code: Some("00004".into()),
        };
        add_place(store, &hamlet).unwrap();
        let path = run_read(store, |tx| gocua_server_store::place_path(tx, "00004-01")).unwrap();
        assert_eq!(path.unwrap(), "/01/00004/00004-01/");
        let mut upside_down = hamlet.clone();
        upside_down.code = "x".into();
        upside_down.level = PlaceLevel::Province;
        upside_down.parent_code = Some("00004".into());
        assert!(add_place(store, &upside_down).unwrap_err().to_string().contains("cannot sit under"));
        let mut orphan = hamlet;
        orphan.parent_code = Some("99999".into());
        assert!(add_place(store, &orphan).unwrap_err().to_string().contains("unknown parent place 99999"));
    }

    #[test]
    fn users_codes_and_reasons_are_checked() {
        let store = db();
        let store = &*store;
        let seed = seed_demo(store).unwrap();
        assert_eq!(seed.codes.len(), 2);
        let nowhere = Scope::single("nowhere");
        assert!(add_user(store, "A", Role::Volunteer, &nowhere).unwrap_err().to_string().contains("unknown scope"));
        // names are clean text: no hidden characters, held composed (NFC)
        let commune = Scope::single("03445");
        let spoofed = add_user(store, "Lò Văn \u{202E}naL", Role::Volunteer, &commune).unwrap_err().to_string();
        assert!(spoofed.contains("U+202E") && spoofed.contains("không hợp lệ"), "{spoofed}");
        let decomposed = "Lò Thi\u{0323} A\u{0301}nh"; // the marks typed apart
        let id = add_user(store, decomposed, Role::Volunteer, &commune).unwrap();
        assert_eq!(run_read(store, |tx| tx.user(id)).unwrap().unwrap().name, "Lò Th\u{1ecb} \u{c1}nh");
        let place = Place {
            code: "03445-09".into(),
            name: "Bản\u{0}9".into(),
            level: PlaceLevel::Hamlet,
            division_type: "bản".into(),
            parent_code: Some("03445".into()),
        };
        assert!(add_place(store, &place).unwrap_err().to_string().contains("U+0000"));
        assert!(create_code(store, Uuid::now_v7(), 10).unwrap_err().to_string().contains("unknown user"));
        let reason = Reason {
            code: "lc_farming_season".into(),
            label_vi: "Đi nương, vắng nhà theo mùa vụ".into(),
            label_en: "Away at the fields for the season".into(),
            can_activate_later: true,
            police_only: false,
            requires_note: false,
            province_code: Some("12".into()),
            sort_order: 200,
        };
        add_reason(store, &reason).unwrap();
        let mut clash = reason.clone();
        clash.code = "in_prison".into();
        assert!(add_reason(store, &clash).unwrap_err().to_string().contains("taken"));
        // seeding again keeps the same users and hands out fresh codes
        let again = seed_demo(store).unwrap();
        let scope = Scope::single("03445");
        for (name, _, _) in &seed.codes {
            assert!(run_read(store, |tx| tx.user_named(name, &scope)).unwrap().is_some());
        }
        let households = run_read(store, |tx| tx.dump_projection()).unwrap().households.len();
        assert_eq!(households, 12, "demo households are seeded once");
        assert_ne!(again.codes[0].2, seed.codes[0].2);
    }

    #[test]
    fn a_user_may_be_given_several_hamlets_and_moved() {
        let store = db();
        let store = &*store;
        seed_demo(store).unwrap();
        let two = Scope::new(["03445-01", "03445-02"]).unwrap();
        let user = add_user(store, "Lò Văn Hai", Role::Volunteer, &two).unwrap();
        assert_eq!(run_read(store, |tx| tx.user(user)).unwrap().unwrap().scope, two);
        let moved = Scope::new(["03445-02", "03445-03"]).unwrap();
        set_scope(store, user, &moved).unwrap();
        let row = run_read(store, |tx| tx.user(user)).unwrap().unwrap();
        assert_eq!(row.scope, moved);
        assert_eq!(run_read(store, |tx| tx.former_places(user)).unwrap(), ["03445-01"], "only the hamlet that left");
    }

    #[test]
    fn a_new_epoch_replaces_the_old_one_and_is_audited() {
        let store = db();
        let store = &*store;
        let before = run_read(store, |tx| tx.epoch()).unwrap();
        let change = new_epoch(store).unwrap();
        assert_eq!(change.from, before);
        assert_ne!(change.to, before);
        assert_eq!(change.to.len(), 32);
        assert_eq!(run_read(store, |tx| tx.epoch()).unwrap(), change.to);
        let rows = run_read(store, |tx| tx.audit_rows(0, 10)).unwrap();
        assert_eq!(rows.iter().filter(|r| r.action == "new_epoch").count(), 1);
        assert!(crate::audit::verify(store).is_ok(), "the chain holds");
    }
}
