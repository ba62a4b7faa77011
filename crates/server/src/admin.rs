//! Admin operations on the server database: places, users, one-time codes, reasons, demo data.
//! Used by the `gocua-server admin …` commands and by `serve --demo`.

use chrono::{Duration, Utc};
use gocua_core::event::Event;
use gocua_core::fixtures;
use gocua_core::places::{self, Place, PlaceLevel};
use gocua_core::reasons::Reason;
use gocua_core::sql::catalog;
use gocua_core::sync::protocol::{APP_VERSION, PushRequest, Role, SCHEMA_VERSION};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::auth::{hash_secret, new_enrollment_code, normalize_code};

/// The statistics office's 2025 list of provinces and communes, shipped in the binary.
pub const ADMIN_UNITS_2025: &str = include_str!("../../../data/vn-admin-units-2025.csv");

/// Errors of admin commands, worded for the person typing them.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// Core or database failure.
    #[error(transparent)]
    Core(#[from] gocua_core::Error),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
}

/// Loads provinces and communes from a CSV in the statistics office's format.
pub fn import_admin_units(conn: &mut Connection, csv: &str) -> Result<usize, AdminError> {
    let mut list = places::read_admin_units_csv(csv.as_bytes())?;
    list.sort_by_key(|p| p.level);
    let tx = conn.transaction()?;
    let n = catalog::upsert_places(&tx, &list)?;
    tx.commit()?;
    Ok(n)
}

/// Adds (or renames) one place; its parent must exist, one level up or more.
pub fn add_place(conn: &Connection, place: &Place) -> Result<(), AdminError> {
    if place.code.trim().is_empty() || place.name.trim().is_empty() {
        return Err(AdminError::Invalid("mã và tên không được trống / code and name are required".into()));
    }
    match (&place.parent_code, place.level) {
        (None, PlaceLevel::Province) => {}
        (None, _) => return Err(AdminError::Invalid(format!("{} cần nơi cấp trên / needs a parent", place.code))),
        (Some(parent), level) => {
            let parent = catalog::place(conn, parent)?.ok_or_else(|| {
                AdminError::Invalid(format!("không có nơi cấp trên {parent} / unknown parent place {parent}"))
            })?;
            if parent.level >= level {
                return Err(AdminError::Invalid(format!(
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
    catalog::upsert_places(conn, std::slice::from_ref(place))?;
    Ok(())
}

/// Creates a user with a role and a scope; returns the user's id.
pub fn add_user(conn: &Connection, name: &str, role: Role, scope_code: &str) -> Result<Uuid, AdminError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid("tên người dùng không được trống / the user name is required".into()));
    }
    if catalog::place(conn, scope_code)?.is_none() {
        return Err(AdminError::Invalid(format!("không có địa bàn {scope_code} / unknown scope place {scope_code}")));
    }
    let id = Uuid::now_v7();
    conn.execute(
        "INSERT INTO users (id, name, role, scope_code, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.to_string(), name, role.code(), scope_code, Utc::now().to_rfc3339()],
    )?;
    Ok(id)
}

/// Reassigns a user to another place (e.g. the commune police move a volunteer to another
/// hamlet). Their phones learn it on the next pull, which answers `reset` with the new scope:
/// records of places that left the scope leave the phone, those of the new scope arrive. Unsent
/// records from the former place are still accepted.
pub fn set_scope(conn: &mut Connection, user_id: Uuid, scope_code: &str) -> Result<(), AdminError> {
    if catalog::place(conn, scope_code)?.is_none() {
        return Err(AdminError::Invalid(format!("không có địa bàn {scope_code} / unknown scope place {scope_code}")));
    }
    let tx = conn.transaction()?;
    let current: Option<String> =
        tx.query_row("SELECT scope_code FROM users WHERE id = ?1", [user_id.to_string()], |r| r.get(0)).optional()?;
    let Some(current) = current else {
        return Err(AdminError::Invalid(format!("không có người dùng {user_id} / unknown user {user_id}")));
    };
    if current != scope_code {
        tx.execute(
            "INSERT OR REPLACE INTO former_scopes (user_id, scope_code, until) VALUES (?1, ?2, ?3)",
            params![user_id.to_string(), current, Utc::now().to_rfc3339()],
        )?;
        tx.execute("UPDATE users SET scope_code = ?2 WHERE id = ?1", params![user_id.to_string(), scope_code])?;
        // who may read which households changed: that is access to personal data
        crate::audit::append(
            &tx,
            &crate::audit::Entry::at_command_line(
                "set_scope",
                serde_json::json!({ "user": user_id, "from": current, "to": scope_code }),
            ),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Issues a one-time enrollment code for a user, valid for `hours`; only its hash is stored.
pub fn create_code(conn: &Connection, user_id: Uuid, hours: i64) -> Result<String, AdminError> {
    let known =
        conn.query_row("SELECT 1 FROM users WHERE id = ?1", [user_id.to_string()], |_| Ok(())).optional()?.is_some();
    if !known {
        return Err(AdminError::Invalid(format!("không có người dùng {user_id} / unknown user {user_id}")));
    }
    if !(1..=24 * 30).contains(&hours) {
        return Err(AdminError::Invalid("thời hạn từ 1 đến 720 giờ / validity must be 1 to 720 hours".into()));
    }
    let code = new_enrollment_code();
    let now = Utc::now();
    conn.execute(
        "INSERT INTO enrollment_codes (code_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            hash_secret(&normalize_code(&code)),
            user_id.to_string(),
            now.to_rfc3339(),
            (now + Duration::hours(hours)).to_rfc3339()
        ],
    )?;
    Ok(code)
}

/// One enrolled device, as `list-devices` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Device id.
    pub id: Uuid,
    /// The name given at enrollment.
    pub name: String,
    /// Its user's id.
    pub user_id: Uuid,
    /// When it last synced, if ever.
    pub last_seen_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// The devices enrolled for `user` (or all), newest first.
pub fn list_devices(conn: &Connection, user: Option<Uuid>) -> Result<Vec<DeviceRow>, AdminError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, user_id, last_seen_at, revoked_at FROM devices
         WHERE ?1 IS NULL OR user_id = ?1 ORDER BY enrolled_at DESC, id",
    )?;
    let rows = stmt.query_map([user.map(|u| u.to_string())], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, user_id, last_seen_at, revoked_at) = row?;
        out.push(DeviceRow {
            id: id.parse().map_err(|_| AdminError::Invalid(format!("bad device id {id}")))?,
            name,
            user_id: user_id.parse().map_err(|_| AdminError::Invalid(format!("bad user id {user_id}")))?,
            last_seen_at,
            revoked_at,
        });
    }
    Ok(out)
}

/// Revokes a device (a lost or stolen phone): its token stops working at once, and at its next
/// contact the app is told so and wipes its database and key. Revoking twice keeps the first
/// time. Returns whether this call revoked it.
pub fn revoke_device(conn: &Connection, device_id: Uuid) -> Result<bool, AdminError> {
    let known = conn.query_row("SELECT revoked_at IS NULL FROM devices WHERE id = ?1", [device_id.to_string()], |r| {
        r.get::<_, bool>(0)
    });
    match known.optional()? {
        None => Err(AdminError::Invalid(format!("không có thiết bị {device_id} / unknown device {device_id}"))),
        Some(false) => Ok(false),
        Some(true) => {
            let tx = conn.unchecked_transaction()?;
            tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![device_id.to_string(), Utc::now().to_rfc3339()],
            )?;
            crate::audit::append(
                &tx,
                &crate::audit::Entry::at_command_line("revoke_device", serde_json::json!({ "device": device_id })),
            )?;
            tx.commit()?;
            Ok(true)
        }
    }
}

/// Adds a province's own cannot-activate reason (national codes cannot be overwritten).
pub fn add_reason(conn: &Connection, reason: &Reason) -> Result<(), AdminError> {
    let province = reason.province_code.as_deref().ok_or_else(|| {
        AdminError::Invalid("lý do bổ sung phải thuộc một tỉnh / an added reason belongs to a province".into())
    })?;
    match catalog::place(conn, province)? {
        Some(p) if p.level == PlaceLevel::Province => {}
        _ => return Err(AdminError::Invalid(format!("không có tỉnh {province} / unknown province {province}"))),
    }
    if let Some(existing) = catalog::reason(conn, &reason.code)?
        && existing.province_code.as_deref() != Some(province)
    {
        return Err(AdminError::Invalid(format!(
            "mã lý do {} đã được dùng / reason code {} is taken",
            reason.code, reason.code
        )));
    }
    if reason.code.is_empty() || !reason.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(AdminError::Invalid(
            "mã lý do chỉ gồm chữ thường, số và dấu _ / reason codes use a-z, 0-9 and _".into(),
        ));
    }
    catalog::upsert_reasons(conn, std::slice::from_ref(reason))?;
    Ok(())
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
pub fn seed_demo(conn: &mut Connection) -> Result<DemoSeed, AdminError> {
    import_admin_units(conn, ADMIN_UNITS_2025)?;
    let demo = gocua_core::fixtures::demo_places();
    let tx = conn.transaction()?;
    catalog::upsert_places(&tx, &demo)?;
    tx.commit()?;
    let commune = demo[1].clone();
    let mut codes = Vec::new();
    for (name, role) in [("Lò Thị Lan (demo)", Role::Volunteer), ("Công an xã Mường Tè (demo)", Role::CommunePolice)]
    {
        let existing: Option<String> = conn
            .query_row("SELECT id FROM users WHERE name = ?1 AND scope_code = ?2", params![name, commune.code], |r| {
                r.get(0)
            })
            .optional()?;
        let id = match existing.and_then(|s| Uuid::parse_str(&s).ok()) {
            Some(id) => id,
            None => add_user(conn, name, role, &commune.code)?,
        };
        codes.push((name.to_owned(), role, create_code(conn, id, 72)?));
        if role == Role::CommunePolice {
            seed_demo_households(conn, id, &commune.code)?;
        }
    }
    Ok(DemoSeed { commune, codes })
}

/// Twelve made-up households with residents and some visits, pushed through the normal ingest
/// path by a "demo list" device of the police user — once per database.
fn seed_demo_households(conn: &mut Connection, police_user: Uuid, commune_code: &str) -> Result<(), AdminError> {
    let existing: i64 = conn.query_row(
        "SELECT count(*) FROM households h JOIN places p ON p.code = h.hamlet_code WHERE p.parent_code = ?1",
        [commune_code],
        |r| r.get(0),
    )?;
    if existing > 0 {
        return Ok(());
    }
    let device_id = Uuid::now_v7();
    conn.execute(
        "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at) VALUES (?1, ?2, 'demo list', ?3, ?4)",
        params![
            device_id.to_string(),
            police_user.to_string(),
            hash_secret(&crate::auth::new_token()),
            Utc::now().to_rfc3339()
        ],
    )?;
    let device = crate::auth::AuthDevice {
        device_id,
        user_id: police_user,
        role: Role::CommunePolice,
        scope_code: commune_code.to_owned(),
        scope_path: catalog::place_path(conn, commune_code)?.unwrap_or_default(),
        former_paths: vec![],
    };
    let mut rng = fixtures::Rng::new(2025);
    let hamlets: Vec<String> = catalog::children(conn, commune_code)?.into_iter().map(|p| p.code).collect();
    let mut payloads = Vec::new();
    for i in 0..12 {
        let hamlet = &hamlets[i % hamlets.len().max(1)];
        let (_, residents, household) = fixtures::household_payloads(&mut rng, hamlet, 2 + i % 3);
        payloads.extend(household);
        for resident in residents.iter().take(i % 3) {
            payloads.push(fixtures::visit_payload(&mut rng, *resident, &["absent_unreachable", "no_smartphone"]));
        }
    }
    let events = payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| Event {
            id: Uuid::now_v7(),
            device_id,
            seq: i as u64 + 1,
            author: police_user,
            device_time: Utc::now(),
            payload: p,
        })
        .collect();
    let request = PushRequest { schema_version: SCHEMA_VERSION, app_version: APP_VERSION.to_owned(), events };
    crate::sync::push::push(conn, &device, &request).map_err(|e| AdminError::Invalid(e.message))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        crate::db::open_sqlite(std::path::Path::new(":memory:")).unwrap()
    }

    #[test]
    fn the_real_list_imports_and_hamlets_attach_to_communes() {
        let mut conn = db();
        assert_eq!(import_admin_units(&mut conn, ADMIN_UNITS_2025).unwrap(), 34 + 3321);
        let hamlet = Place {
            code: "00004-01".into(),
            name: "Tổ dân phố 1".into(),
            level: PlaceLevel::Hamlet,
            division_type: "tổ dân phố".into(),
            parent_code: Some("00004".into()),
        };
        add_place(&conn, &hamlet).unwrap();
        assert_eq!(catalog::place_path(&conn, "00004-01").unwrap().unwrap(), "/01/00004/00004-01/");
        let mut upside_down = hamlet.clone();
        upside_down.code = "x".into();
        upside_down.level = PlaceLevel::Province;
        upside_down.parent_code = Some("00004".into());
        assert!(add_place(&conn, &upside_down).unwrap_err().to_string().contains("cannot sit under"));
        let mut orphan = hamlet;
        orphan.parent_code = Some("99999".into());
        assert!(add_place(&conn, &orphan).unwrap_err().to_string().contains("unknown parent place 99999"));
    }

    #[test]
    fn users_codes_and_reasons_are_checked() {
        let mut conn = db();
        let seed = seed_demo(&mut conn).unwrap();
        assert_eq!(seed.codes.len(), 2);
        assert!(add_user(&conn, "A", Role::Volunteer, "nowhere").unwrap_err().to_string().contains("unknown scope"));
        assert!(create_code(&conn, Uuid::now_v7(), 10).unwrap_err().to_string().contains("unknown user"));
        let stored: String =
            conn.query_row("SELECT code_hash FROM enrollment_codes LIMIT 1", [], |r| r.get(0)).unwrap();
        assert!(seed.codes.iter().all(|(_, _, code)| !stored.contains(&normalize_code(code))));
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
        add_reason(&conn, &reason).unwrap();
        let mut clash = reason.clone();
        clash.code = "in_prison".into();
        assert!(add_reason(&conn, &clash).unwrap_err().to_string().contains("taken"));
        // seeding again keeps the same users and hands out fresh codes
        let again = seed_demo(&mut conn).unwrap();
        let users: i64 = conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
        assert_eq!(users, 2);
        let households: i64 = conn.query_row("SELECT count(*) FROM households", [], |r| r.get(0)).unwrap();
        assert_eq!(households, 12, "demo households are seeded once");
        assert_ne!(again.codes[0].2, seed.codes[0].2);
    }
}
