//! Who may do what: each role's rights on the sync endpoints. The scope (which places) is
//! checked where the records are (`AuthDevice::may_push_at`, the pull's place check); this is
//! the role half of role × scope.
//!
//! | role            | push (record in the field) | pull (read its scope) | office (people, codes, revoke) |
//! | --------------- | -------------------------- | --------------------- | ------------------------------ |
//! | volunteer       | yes                        | yes                   | no                             |
//! | team leader     | yes                        | yes                   | no                             |
//! | commune police  | yes (spot-checks, fixes)   | yes                   | yes                            |
//! | province police | no (reads and reviews)     | yes                   | yes                            |
//! | trainer         | no: the sandbox only       | no                    | no                             |
//! | admin           | no: the server's CLI       | no                    | no: the server's CLI           |
//!
//! At the server's command line the police (commune and province) record the office's
//! decisions in their places (`district.rs`: `admin record-events`, `import-list`,
//! `undo-import`): the office's right, under the same push rules as a device's events.

use gocua_core::sync::protocol::Role;

use crate::auth::AuthDevice;
use crate::domain::Error;

/// What a device asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send records (`POST /api/v1/sync/push`, and a bundle import in its name).
    Push,
    /// Read its scope's records (`GET /api/v1/sync/pull`).
    Pull,
    /// Run the office: its places' people and devices, enrollment codes, revocations
    /// (`/api/v1/office/…`).
    Office,
    /// Export named lists of people (`reports::export_list`): the police, and a team leader
    /// for their places.
    Lists,
}

/// Whether `role` may do `action` at all (inside its scope).
pub fn allows(role: Role, action: Action) -> bool {
    match (role, action) {
        (Role::Volunteer | Role::TeamLeader | Role::CommunePolice, Action::Push | Action::Pull) => true,
        (Role::ProvincePolice, Action::Pull) => true,
        (Role::ProvincePolice, Action::Push) => false,
        (Role::CommunePolice | Role::ProvincePolice, Action::Office) => true,
        (Role::Volunteer | Role::TeamLeader, Action::Office) => false,
        (Role::CommunePolice | Role::ProvincePolice | Role::TeamLeader, Action::Lists) => true,
        (Role::Volunteer, Action::Lists) => false,
        (Role::Trainer | Role::Admin, _) => false,
    }
}

/// Refuses (403, saying why) what the device's role may not do.
pub fn require(device: &AuthDevice, action: Action) -> Result<(), Error> {
    require_role(device.role, action)
}

/// Refuses (403, saying why) what `role` may not do.
pub fn require_role(role: Role, action: Action) -> Result<(), Error> {
    if allows(role, action) {
        return Ok(());
    }
    let why = match (role, action) {
        (Role::Trainer, _) => {
            "Tài khoản giảng viên chỉ dùng dữ liệu tập huấn / a trainer's device works on training data only"
        }
        (Role::Admin, _) => {
            "Quản trị dùng lệnh trên máy chủ, không đồng bộ từ thiết bị / administrators work on the server, not \
             from a device"
        }
        (_, Action::Push) => {
            "Vai trò này chỉ được xem, không được gửi dữ liệu / this role may read but not send records"
        }
        (_, Action::Pull) => "Vai trò này không được tải dữ liệu / this role may not download records",
        (_, Action::Office) => "Chỉ công an xã, công an tỉnh dùng chức năng này / only the police may do this",
        (_, Action::Lists) => {
            "Chỉ công an và tổ trưởng xuất được danh sách công dân / only the police and team leaders may export \
             lists of people"
        }
    };
    Err(Error::Forbidden(why.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_field_roles_push_and_only_they_and_province_police_pull() {
        let pushers: Vec<Role> = Role::ALL.into_iter().filter(|r| allows(*r, Action::Push)).collect();
        assert_eq!(pushers, [Role::Volunteer, Role::TeamLeader, Role::CommunePolice]);
        let pullers: Vec<Role> = Role::ALL.into_iter().filter(|r| allows(*r, Action::Pull)).collect();
        assert_eq!(pullers, [Role::Volunteer, Role::TeamLeader, Role::CommunePolice, Role::ProvincePolice]);
        let office: Vec<Role> = Role::ALL.into_iter().filter(|r| allows(*r, Action::Office)).collect();
        assert_eq!(office, [Role::CommunePolice, Role::ProvincePolice]);
    }
}
