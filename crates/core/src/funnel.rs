//! The per-person activation funnel of DOMAIN.md and what a visit may do about it.

use serde::{Deserialize, Serialize};

/// Where a person stands with their VNeID e-ID account, in funnel order.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelState {
    /// Chưa có CCCD gắn chip: must apply for a chip ID card at the police first.
    NoChipCccd,
    /// Chưa đăng ký: has a CCCD, never registered an e-ID account.
    NotRegistered,
    /// Đã đăng ký, chờ phê duyệt: registration waiting for C06 approval.
    RegisteredPending,
    /// Đã phê duyệt, chưa kích hoạt: approved (SMS sent) but not activated in the app.
    ApprovedNotActivated,
    /// Đã kích hoạt mức 1: level 1, self-registered on the person's own smartphone.
    ActivatedLevel1,
    /// Đã kích hoạt mức 2: level 2, registered at the police counter with the CCCD card.
    ActivatedLevel2,
    /// Đã dùng VNeID đăng nhập Cổng DVC: logged into the National Public Service Portal.
    UsedPortal,
}

impl FunnelState {
    /// Every state, in funnel order.
    pub const ALL: [FunnelState; 7] = [
        FunnelState::NoChipCccd,
        FunnelState::NotRegistered,
        FunnelState::RegisteredPending,
        FunnelState::ApprovedNotActivated,
        FunnelState::ActivatedLevel1,
        FunnelState::ActivatedLevel2,
        FunnelState::UsedPortal,
    ];

    /// The stable wire and database code.
    pub fn code(self) -> &'static str {
        match self {
            FunnelState::NoChipCccd => "no_chip_cccd",
            FunnelState::NotRegistered => "not_registered",
            FunnelState::RegisteredPending => "registered_pending",
            FunnelState::ApprovedNotActivated => "approved_not_activated",
            FunnelState::ActivatedLevel1 => "activated_level1",
            FunnelState::ActivatedLevel2 => "activated_level2",
            FunnelState::UsedPortal => "used_portal",
        }
    }

    /// Parses a code written by [`FunnelState::code`].
    pub fn from_code(code: &str) -> Option<FunnelState> {
        FunnelState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The Vietnamese label, in the words of the campaign plans.
    pub fn label_vi(self) -> &'static str {
        match self {
            FunnelState::NoChipCccd => "Chưa có CCCD gắn chip",
            FunnelState::NotRegistered => "Chưa đăng ký",
            FunnelState::RegisteredPending => "Đã đăng ký, chờ phê duyệt",
            FunnelState::ApprovedNotActivated => "Đã phê duyệt, chưa kích hoạt",
            FunnelState::ActivatedLevel1 => "Đã kích hoạt mức 1",
            FunnelState::ActivatedLevel2 => "Đã kích hoạt mức 2",
            FunnelState::UsedPortal => "Đã dùng VNeID đăng nhập Cổng DVC",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            FunnelState::NoChipCccd => "No chip-based ID card yet",
            FunnelState::NotRegistered => "Not registered",
            FunnelState::RegisteredPending => "Registered, awaiting approval",
            FunnelState::ApprovedNotActivated => "Approved, not activated",
            FunnelState::ActivatedLevel1 => "Activated, level 1",
            FunnelState::ActivatedLevel2 => "Activated, level 2",
            FunnelState::UsedPortal => "Used VNeID on the public-service portal",
        }
    }

    /// Only successfully activated accounts count toward quotas.
    pub fn is_activated(self) -> bool {
        self >= FunnelState::ActivatedLevel1
    }
}

/// What the volunteer did for the person during a visit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitAction {
    /// Cài đặt ứng dụng VNeID: installed the VNeID app.
    InstalledApp,
    /// Hướng dẫn đăng ký mức 1: guided a level-1 registration on the phone.
    GuidedLevel1,
    /// Hướng dẫn đến Công an xã đăng ký mức 2: referred to the commune police for level 2.
    ReferredLevel2,
    /// Hướng dẫn kích hoạt: guided the activation with the SMS code.
    GuidedActivation,
    /// Hướng dẫn đăng nhập Cổng DVC: guided a log-in to the public-service portal.
    GuidedPortal,
}

impl VisitAction {
    /// The Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            VisitAction::InstalledApp => "Cài đặt ứng dụng VNeID",
            VisitAction::GuidedLevel1 => "Hướng dẫn đăng ký mức 1",
            VisitAction::ReferredLevel2 => "Hướng dẫn đến Công an xã đăng ký mức 2",
            VisitAction::GuidedActivation => "Hướng dẫn kích hoạt tài khoản",
            VisitAction::GuidedPortal => "Hướng dẫn đăng nhập Cổng dịch vụ công",
        }
    }
}

/// One step of the guidance checklist, in the order volunteers teach it: install VNeID →
/// register level 1 on the person's phone → face check → activate with the SMS code → log into
/// the National Public Service Portal; or refer to the commune police for level 2.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecklistStep {
    /// Cài đặt ứng dụng VNeID.
    InstallApp,
    /// Đăng ký tài khoản mức 1 trên điện thoại của người dân.
    RegisterLevel1,
    /// Xác thực khuôn mặt.
    FaceCheck,
    /// Kích hoạt bằng mã SMS.
    ActivateSms,
    /// Đăng nhập Cổng Dịch vụ công quốc gia bằng VNeID.
    PortalLogin,
    /// Hướng dẫn đến Công an xã đăng ký mức 2.
    ReferLevel2,
}

impl ChecklistStep {
    /// Every step, in teaching order (the level-2 referral last: it replaces the others).
    pub const ALL: [ChecklistStep; 6] = [
        ChecklistStep::InstallApp,
        ChecklistStep::RegisterLevel1,
        ChecklistStep::FaceCheck,
        ChecklistStep::ActivateSms,
        ChecklistStep::PortalLogin,
        ChecklistStep::ReferLevel2,
    ];

    /// The least funnel state a person has reached once this step is done, if it says one.
    pub fn implies(self) -> Option<FunnelState> {
        match self {
            ChecklistStep::InstallApp | ChecklistStep::ReferLevel2 => None,
            ChecklistStep::RegisterLevel1 | ChecklistStep::FaceCheck => Some(FunnelState::RegisteredPending),
            ChecklistStep::ActivateSms => Some(FunnelState::ActivatedLevel1),
            ChecklistStep::PortalLogin => Some(FunnelState::UsedPortal),
        }
    }

    /// The outcome the ticked steps make: the furthest state they imply, `None` when they imply
    /// none (the volunteer then says where the person stands).
    pub fn outcome(steps: &[ChecklistStep]) -> Option<FunnelState> {
        steps.iter().filter_map(|s| s.implies()).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_follows_the_furthest_ticked_step() {
        use ChecklistStep::*;
        assert_eq!(ChecklistStep::outcome(&[]), None);
        assert_eq!(ChecklistStep::outcome(&[InstallApp]), None);
        assert_eq!(
            ChecklistStep::outcome(&[InstallApp, RegisterLevel1, FaceCheck]),
            Some(FunnelState::RegisteredPending)
        );
        assert_eq!(ChecklistStep::outcome(&[FaceCheck, ActivateSms, InstallApp]), Some(FunnelState::ActivatedLevel1));
        assert_eq!(ChecklistStep::outcome(&ChecklistStep::ALL), Some(FunnelState::UsedPortal));
        assert_eq!(ChecklistStep::outcome(&[ReferLevel2]), None);
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for s in FunnelState::ALL {
            assert_eq!(FunnelState::from_code(s.code()), Some(s));
            assert!(seen.insert(s.code()));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
        }
        assert_eq!(FunnelState::from_code("activated"), None);
    }

    #[test]
    fn only_the_last_three_states_count_as_activated() {
        let activated: Vec<_> = FunnelState::ALL.into_iter().filter(|s| s.is_activated()).collect();
        assert_eq!(activated, [FunnelState::ActivatedLevel1, FunnelState::ActivatedLevel2, FunnelState::UsedPortal]);
    }
}
