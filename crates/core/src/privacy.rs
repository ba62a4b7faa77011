//! Who sees what: full CCCD numbers and police-only reasons reach police roles only.
//!
//! Everyone else (volunteers, team leaders) gets the last two digits of a CCCD, no visit's
//! position and, for a visit whose reason is police-only, the marker reason [`WITHHELD_REASON`]
//! with its note and date dropped. The server masks what it sends ([`mask_payload`]); devices and the server refuse a
//! masked value coming back as if someone had typed it ([`refuse_masked_input`]).

use crate::event::Payload;
use crate::sync::protocol::Role;
use crate::validate::FieldError;

/// The reason a non-police reader sees in place of a police-only one (seeded by the common
/// migration `0005_withheld_reason`, never offered in a form).
pub const WITHHELD_REASON: &str = "withheld";

/// Digits of a CCCD kept visible when masked: enough to tell two neighbours apart at the door.
/// Not more: the first six digits follow from the birth province, sex and year, so each digit
/// shown of the six-digit serial divides the guesses left by ten (two shown: 10,000 remain).
const SHOWN_DIGITS: usize = 2;
/// Length of a CCCD number.
const CCCD_LEN: usize = 12;

/// Whether `role` sees full CCCD numbers and police-only reasons.
pub fn sees_everything(role: Role) -> bool {
    role.is_police()
}

/// `012089000123` → `**********23`. Anything that is not twelve digits is masked whole.
pub fn mask_cccd(cccd: &str) -> String {
    let cccd = cccd.trim();
    if cccd.len() == CCCD_LEN && cccd.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}{}", "*".repeat(CCCD_LEN - SHOWN_DIGITS), &cccd[CCCD_LEN - SHOWN_DIGITS..])
    } else {
        "*".repeat(CCCD_LEN)
    }
}

/// Whether `value` is a masked CCCD as [`mask_cccd`] writes it.
pub fn is_masked_cccd(value: &str) -> bool {
    value.len() == CCCD_LEN
        && value.bytes().take(CCCD_LEN - SHOWN_DIGITS).all(|b| b == b'*')
        && value.bytes().skip(CCCD_LEN - SHOWN_DIGITS).all(|b| b.is_ascii_digit() || b == b'*')
}

/// Masks one payload for a reader who does not see everything. `police_only` says whether a
/// reason code is sensitive.
pub fn mask_payload(payload: &mut Payload, police_only: impl Fn(&str) -> bool) {
    let mask = |cccd: &mut Option<String>| {
        if let Some(value) = cccd.as_mut().filter(|v| !v.trim().is_empty()) {
            *value = mask_cccd(value);
        }
    };
    match payload {
        Payload::ResidentAdded(p) => mask(&mut p.fields.cccd),
        Payload::ResidentEdited(p) => mask(&mut p.fields.cccd),
        Payload::ResidentPatched(p) => mask(&mut p.cccd),
        Payload::VisitRecorded(p) => {
            // where the phone was is for the police's spot-check only
            p.position = None;
            if p.reason_code.as_deref().is_some_and(police_only) {
                p.reason_code = Some(WITHHELD_REASON.to_owned());
                p.note = None;
                p.follow_up = None;
            }
        }
        Payload::HouseholdCreated(_)
        | Payload::HouseholdSurveyed(_)
        | Payload::HouseholdEdited(_)
        | Payload::HouseholdPatched(_)
        | Payload::HouseholdRemoved(_)
        | Payload::ResidentRemoved(_)
        | Payload::AssignmentSet(_)
        | Payload::ClaimChecked(_)
        | Payload::ResidentsMerged(_)
        | Payload::CampaignSet(_)
        | Payload::ReviewResolved(_) => {}
    }
}

/// The errors of a payload recorded by a user of `role`: a masked CCCD or the withheld marker
/// never comes from a person's card or a visit, a police-only reason is police's to record, and
/// so are the undo of an import (a removal for `import_undone`), an assignment of places, the
/// merge of two records of one person and a campaign's plan.
pub fn refuse_masked_input(payload: &Payload, role: Role, police_only: impl Fn(&str) -> bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let cccd = match payload {
        Payload::ResidentAdded(p) => p.fields.cccd.as_deref(),
        Payload::ResidentEdited(p) => p.fields.cccd.as_deref(),
        Payload::ResidentPatched(p) => p.cccd.as_deref(),
        _ => None,
    };
    if cccd.is_some_and(|c| c.contains('*')) {
        errors.push(FieldError::new(
            "cccd",
            "cccd_masked",
            "Số CCCD đang bị che: hãy nhập đủ 12 số trên thẻ, hoặc để nguyên.",
            "This CCCD number is masked: type all 12 digits from the card, or leave it unchanged.",
        ));
    }
    if let Payload::VisitRecorded(p) = payload
        && let Some(code) = p.reason_code.as_deref()
    {
        if code == WITHHELD_REASON {
            errors.push(FieldError::new(
                "reason_code",
                "reason_withheld",
                "Lý do này chỉ để hiển thị, không chọn được.",
                "This reason is only shown, never chosen.",
            ));
        } else if police_only(code) && !sees_everything(role) {
            errors.push(FieldError::new(
                "reason_code",
                "reason_police_only",
                "Chỉ công an được ghi lý do này.",
                "Only the police may record this reason.",
            ));
        }
    }
    let undoes_import = match payload {
        Payload::HouseholdRemoved(p) => p.reason == crate::event::IMPORT_UNDONE,
        Payload::ResidentRemoved(p) => p.reason == crate::event::IMPORT_UNDONE,
        _ => false,
    };
    let runs_the_office = role.is_police() || role == Role::Admin;
    if undoes_import && !runs_the_office {
        errors.push(FieldError::new(
            "reason",
            "reason_police_only",
            "Chỉ công an được hoàn tác một lần nhập danh sách.",
            "Only the police may undo an imported list.",
        ));
    }
    if matches!(payload, Payload::ClaimChecked(_)) && !role.is_police() {
        errors.push(FieldError::new(
            "outcome",
            "police_only",
            "Chỉ công an được ghi kết quả kiểm tra xác suất.",
            "Only the police record spot-check findings.",
        ));
    }
    if matches!(payload, Payload::AssignmentSet(_)) && !runs_the_office {
        errors.push(FieldError::new(
            "places",
            "police_only",
            "Chỉ công an được phân công địa bàn.",
            "Only the police may assign places.",
        ));
    }
    if matches!(payload, Payload::ReviewResolved(_)) && !(role.is_police() || role == Role::TeamLeader) {
        errors.push(FieldError::new(
            "resolution",
            "police_only",
            "Chỉ công an và tổ trưởng được xử lý bản ghi cần xem lại.",
            "Only the police and team leaders settle records flagged for review.",
        ));
    }
    if matches!(payload, Payload::CampaignSet(_)) && !role.is_police() {
        errors.push(FieldError::new(
            "quotas",
            "police_only",
            "Chỉ công an được lập đợt và giao chỉ tiêu.",
            "Only the police may set campaigns and quotas.",
        ));
    }
    if matches!(payload, Payload::ResidentsMerged(_)) && !role.is_police() {
        errors.push(FieldError::new(
            "merged",
            "police_only",
            "Chỉ công an được gộp hai bản ghi của một người.",
            "Only the police may merge two records of one person.",
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ResidentAdded, ResidentFields, ResidentPatch, VisitRecorded};
    use crate::funnel::FunnelState;
    use crate::model::Sex;
    use uuid::Uuid;

    fn added(cccd: Option<&str>) -> Payload {
        Payload::ResidentAdded(ResidentAdded {
            resident_id: Uuid::nil(),
            household_id: Uuid::nil(),
            fields: ResidentFields {
                full_name: "Lò Văn A".into(),
                birth_year: 1989,
                sex: Sex::Male,
                cccd: cccd.map(str::to_owned),
                phone: None,
            },
        })
    }

    fn visit(reason: &str) -> Payload {
        Payload::VisitRecorded(VisitRecorded {
            visit_id: Uuid::nil(),
            resident_id: Uuid::nil(),
            status: FunnelState::NoChipCccd,
            reason_code: Some(reason.into()),
            action: None,
            follow_up: chrono::NaiveDate::from_ymd_opt(2027, 1, 1),
            steps: vec![],
            note: Some("ở trại giam".into()),
            position: None,
        })
    }

    #[test]
    fn masks_all_but_the_last_four_digits() {
        assert_eq!(mask_cccd("012089000123"), "**********23");
        assert_eq!(mask_cccd("12345"), "************");
        assert!(is_masked_cccd("**********23"));
        assert!(is_masked_cccd("************"));
        assert!(!is_masked_cccd("012089000123"));
        assert!(!is_masked_cccd("*********123"));
    }

    #[test]
    fn a_masked_payload_holds_no_full_cccd_and_no_sensitive_reason() {
        let mut p = added(Some("012089000123"));
        mask_payload(&mut p, |_| false);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("012089000123"), "{json}");
        assert!(json.contains("**********23"), "{json}");

        let mut patch = Payload::ResidentPatched(ResidentPatch { cccd: Some("".into()), ..Default::default() });
        mask_payload(&mut patch, |_| false);
        assert!(
            matches!(&patch, Payload::ResidentPatched(p) if p.cccd.as_deref() == Some("")),
            "a clear stays a clear"
        );

        let mut v = visit("in_prison");
        mask_payload(&mut v, |code| code == "in_prison");
        let Payload::VisitRecorded(v) = v else { unreachable!() };
        assert_eq!(v.reason_code.as_deref(), Some(WITHHELD_REASON));
        assert_eq!((v.note, v.follow_up), (None, None));

        let mut plain = visit("abroad");
        mask_payload(&mut plain, |code| code == "in_prison");
        assert_eq!(plain, visit("abroad"), "an ordinary reason is left as it is");
    }

    #[test]
    fn a_visits_position_reaches_the_police_only() {
        use crate::event::GeoPosition;
        let here = GeoPosition { lat_e6: 21_028_500, lon_e6: 105_854_200, accuracy_m: 15 };
        let with_position = |reason: &str| {
            let Payload::VisitRecorded(mut v) = visit(reason) else { unreachable!() };
            v.position = Some(here);
            Payload::VisitRecorded(v)
        };
        for (reason, police_only) in [("abroad", false), ("in_prison", true)] {
            let mut masked = with_position(reason);
            mask_payload(&mut masked, |code| code == "in_prison");
            let Payload::VisitRecorded(v) = &masked else { unreachable!() };
            assert_eq!(v.position, None, "{reason}");
            let json = serde_json::to_string(&masked).unwrap();
            assert!(!json.contains("position") && !json.contains("21028500"), "{json}");
            assert_eq!(v.reason_code.as_deref() == Some(WITHHELD_REASON), police_only, "{reason}");
        }
        // what is masked is the position alone: the rest of an ordinary visit stays as recorded
        let mut masked = with_position("abroad");
        mask_payload(&mut masked, |_| false);
        assert_eq!(masked, visit("abroad"));
        // the police are never masked (the server calls mask_payload for other roles only)
        assert!(sees_everything(Role::CommunePolice) && sees_everything(Role::ProvincePolice));
        for role in [Role::Volunteer, Role::TeamLeader, Role::Trainer, Role::Admin] {
            assert!(!sees_everything(role), "{role:?}");
        }
        // a position is nobody's masked input: anyone may record one
        assert!(refuse_masked_input(&with_position("abroad"), Role::Volunteer, |_| false).is_empty());
    }

    #[test]
    fn masked_values_and_police_reasons_are_refused_as_input() {
        let sensitive = |code: &str| code == "in_prison";
        let codes = |errors: Vec<FieldError>| errors.into_iter().map(|e| e.code).collect::<Vec<_>>();
        assert_eq!(
            codes(refuse_masked_input(&added(Some("**********23")), Role::CommunePolice, sensitive)),
            ["cccd_masked"]
        );
        assert!(refuse_masked_input(&added(Some("012089000123")), Role::Volunteer, sensitive).is_empty());
        assert_eq!(codes(refuse_masked_input(&visit("in_prison"), Role::Volunteer, sensitive)), ["reason_police_only"]);
        assert!(refuse_masked_input(&visit("in_prison"), Role::CommunePolice, sensitive).is_empty());
        assert_eq!(
            codes(refuse_masked_input(&visit(WITHHELD_REASON), Role::CommunePolice, sensitive)),
            ["reason_withheld"]
        );
    }

    #[test]
    fn only_the_police_and_administrators_undo_an_import_or_assign_places() {
        use crate::event::{HouseholdRemoved, IMPORT_UNDONE, ResidentRemoved};
        let none = |_: &str| false;
        let undo = Payload::ResidentRemoved(ResidentRemoved { resident_id: Uuid::nil(), reason: IMPORT_UNDONE.into() });
        let household =
            Payload::HouseholdRemoved(HouseholdRemoved { household_id: Uuid::nil(), reason: IMPORT_UNDONE.into() });
        for role in [Role::Volunteer, Role::TeamLeader, Role::Trainer] {
            assert_eq!(refuse_masked_input(&undo, role, none)[0].code, "reason_police_only", "{role:?}");
            assert_eq!(refuse_masked_input(&household, role, none).len(), 1, "{role:?}");
        }
        for role in [Role::CommunePolice, Role::ProvincePolice, Role::Admin] {
            assert!(refuse_masked_input(&undo, role, none).is_empty(), "{role:?}");
        }
        let assign = Payload::AssignmentSet(crate::event::AssignmentSet {
            user_id: Uuid::nil(),
            places: vec!["03445-01".into()],
        });
        assert_eq!(refuse_masked_input(&assign, Role::TeamLeader, none)[0].code, "police_only");
        assert!(refuse_masked_input(&assign, Role::CommunePolice, none).is_empty());
        let duplicate =
            Payload::ResidentRemoved(ResidentRemoved { resident_id: Uuid::nil(), reason: "duplicate".into() });
        assert!(refuse_masked_input(&duplicate, Role::Volunteer, none).is_empty(), "other removals are anyone's");
    }

    #[test]
    fn only_the_police_merge_two_records_of_one_person() {
        let none = |_: &str| false;
        let merge = Payload::ResidentsMerged(crate::event::ResidentsMerged { kept: Uuid::nil(), merged: Uuid::max() });
        for role in [Role::Volunteer, Role::TeamLeader, Role::Trainer, Role::Admin] {
            assert_eq!(refuse_masked_input(&merge, role, none)[0].code, "police_only", "{role:?}");
        }
        for role in [Role::CommunePolice, Role::ProvincePolice] {
            assert!(refuse_masked_input(&merge, role, none).is_empty(), "{role:?}");
        }
    }

    #[test]
    fn only_the_police_set_campaigns_and_quotas() {
        let none = |_: &str| false;
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let plan = Payload::CampaignSet(crate::event::CampaignSet {
            campaign_id: Uuid::nil(),
            name: "Đợt 1".into(),
            place: "03445".into(),
            starts: day,
            ends: day,
            target: None,
            per_official: Some(10),
            quotas: vec![],
        });
        for role in [Role::Volunteer, Role::TeamLeader, Role::Trainer, Role::Admin] {
            assert_eq!(refuse_masked_input(&plan, role, none)[0].code, "police_only", "{role:?}");
        }
        assert!(refuse_masked_input(&plan, Role::CommunePolice, none).is_empty());
    }
}
