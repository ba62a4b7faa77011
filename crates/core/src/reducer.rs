//! The one deterministic reducer that turns events into current state, on device and server.
//!
//! `reduce` reads current state through [`StateView`] and returns the [`Change`]s an event makes,
//! or the field errors that make it invalid. Stores apply the changes in the same transaction as
//! they store the event, so both sides derive the same state from the same events.

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::event::{
    CampaignSet, Event, HouseholdPatch, Payload, QuotaHolder, ResidentFields, ResidentPatch, ResidentsMerged,
};
use crate::model::{Assignment, Household, Resident, Review, Visit};
use crate::places::{Place, PlaceLevel};
use crate::privacy;
use crate::reasons::{Reason, ReasonCatalog};
use crate::validate::{self, FieldError};

/// Read access to current state, as a store or an in-memory projection provides it.
pub trait StateView {
    /// A household by id.
    fn household(&self, id: Uuid) -> Result<Option<Household>, Error>;
    /// A resident by id.
    fn resident(&self, id: Uuid) -> Result<Option<Resident>, Error>;
    /// Whether a visit id is taken.
    fn visit_exists(&self, id: Uuid) -> Result<bool, Error>;
    /// A place by code.
    fn place(&self, code: &str) -> Result<Option<Place>, Error>;
    /// A cannot-activate reason by code.
    fn reason(&self, code: &str) -> Result<Option<Reason>, Error>;
}

/// One change to current state made by one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Insert or replace a household.
    PutHousehold(Household),
    /// Insert or replace a resident.
    PutResident(Resident),
    /// Append a visit.
    AddVisit(Visit),
    /// Replace who works where for one user (an office's assignment).
    PutAssignment(Assignment),
    /// Insert or replace a campaign with its quotas (the office's plan).
    PutCampaign(CampaignSet),
    /// Every visit of one person now belongs to another (a merge of two records of one person).
    MoveVisits {
        /// The merged record.
        from: Uuid,
        /// The record kept.
        to: Uuid,
    },
    /// A visit's review set or cleared (a wrong clock flagged by the server; a resolution).
    VisitReview {
        /// The visit.
        visit_id: Uuid,
        /// Its review now.
        review: Option<Review>,
    },
    /// No change to state: the event earned this review (an edit from an old version). The
    /// server answers it as `flagged`.
    Flagged(Review),
}

/// Why `reduce` produced no changes.
#[derive(Debug, thiserror::Error)]
pub enum ReduceError {
    /// The event is permanently invalid against current state.
    #[error("event rejected: {0:?}")]
    Rejected(Vec<FieldError>),
    /// State could not be read.
    #[error(transparent)]
    Store(#[from] Error),
}

const MAX_ADDRESS: usize = 200;
const MAX_NOTE: usize = 500;
const MAX_MEMBERS: u32 = 60;
/// The most places one assignment gives.
pub const MAX_ASSIGNED_PLACES: usize = 100;

fn reject<T>(field: &str, code: &str, vi: impl Into<String>, en: impl Into<String>) -> Result<T, ReduceError> {
    Err(ReduceError::Rejected(vec![FieldError::new(field, code, vi, en)]))
}

fn field(result: Result<impl Sized, FieldError>, errors: &mut Vec<FieldError>) {
    if let Err(e) = result {
        errors.push(e);
    }
}

/// Computes the changes `event` makes to the state seen through `view`.
pub fn reduce(view: &impl StateView, event: &Event) -> Result<Vec<Change>, ReduceError> {
    match &event.payload {
        Payload::HouseholdCreated(p) => {
            if view.household(p.household_id)?.is_some() {
                return reject("household_id", "duplicate_id", "Hộ này đã tồn tại.", "This household already exists.");
            }
            match view.place(&p.hamlet_code)? {
                Some(place) if place.level == PlaceLevel::Hamlet => {}
                _ => {
                    return reject(
                        "hamlet_code",
                        "unknown_hamlet",
                        format!("Không có thôn/bản/tổ dân phố mã {}.", p.hamlet_code),
                        format!("There is no hamlet with code {}.", p.hamlet_code),
                    );
                }
            }
            let mut errors = Vec::new();
            let head = validate::full_name(&p.head_name).map_err(|mut e| {
                e.field = "head_name".into();
                e
            });
            let address = address(&p.address);
            field(head.clone(), &mut errors);
            field(address.clone(), &mut errors);
            if !errors.is_empty() {
                return Err(ReduceError::Rejected(errors));
            }
            Ok(vec![Change::PutHousehold(Household {
                id: p.household_id,
                hamlet_code: p.hamlet_code.clone(),
                address: address.unwrap_or_default(),
                head_name: head.unwrap_or_default(),
                members: None,
                smartphones: None,
                has_internet_computer: None,
                version: 1,
                review: None,
                field_versions: BTreeMap::new(),
                removed: None,
            })])
        }
        Payload::HouseholdSurveyed(p) => {
            let mut household = existing_household(view, p.household_id)?;
            if p.members == 0 || p.members > MAX_MEMBERS {
                return reject(
                    "members",
                    "members_out_of_range",
                    format!("Số nhân khẩu phải từ 1 đến {MAX_MEMBERS}."),
                    format!("Members must be between 1 and {MAX_MEMBERS}."),
                );
            }
            if p.smartphones > p.members {
                return reject(
                    "smartphones",
                    "smartphones_exceed_members",
                    "Số người có điện thoại thông minh không thể lớn hơn số nhân khẩu.",
                    "Smartphone owners cannot outnumber the household's members.",
                );
            }
            household.members = Some(p.members);
            household.smartphones = Some(p.smartphones);
            household.has_internet_computer = Some(p.has_internet_computer);
            Ok(vec![Change::PutHousehold(household)])
        }
        Payload::HouseholdEdited(p) => {
            // v1 carried every field: it reads as a patch of all of them.
            let patch = HouseholdPatch {
                household_id: p.household_id,
                base_version: p.base_version,
                address: Some(p.address.clone()),
                head_name: Some(p.head_name.clone()),
            };
            household_patch(view, &patch)
        }
        Payload::HouseholdPatched(p) => household_patch(view, p),
        Payload::HouseholdRemoved(p) => {
            let mut household = existing_household(view, p.household_id)?;
            removal_reason(&p.reason)?;
            if household.removed.is_some() {
                return Ok(vec![]);
            }
            household.removed = Some(p.reason.clone());
            Ok(vec![Change::PutHousehold(household)])
        }
        Payload::ResidentRemoved(p) => {
            let mut resident = existing_resident(view, p.resident_id)?;
            removal_reason(&p.reason)?;
            if resident.removed.is_some() {
                return Ok(vec![]);
            }
            resident.removed = Some(p.reason.clone());
            Ok(vec![Change::PutResident(resident)])
        }
        Payload::AssignmentSet(p) => {
            let places = match crate::scope::Scope::new(p.places.iter().cloned()) {
                Ok(scope) if scope.codes().len() <= MAX_ASSIGNED_PLACES => scope,
                Ok(_) => {
                    return reject(
                        "places",
                        "too_many",
                        format!("Một người được phân công tối đa {MAX_ASSIGNED_PLACES} địa bàn."),
                        format!("A person is assigned at most {MAX_ASSIGNED_PLACES} places."),
                    );
                }
                Err(_) => {
                    return reject(
                        "places",
                        "required",
                        "Hãy chọn ít nhất một thôn/bản/tổ dân phố.",
                        "Choose at least one hamlet.",
                    );
                }
            };
            for code in places.codes() {
                // a household may be given on its own, by its id
                let known = match crate::places::household_of(code) {
                    Some(id) => view.household(id)?.is_some_and(|h| h.removed.is_none()),
                    None => {
                        view.place(code)?.is_some_and(|p| matches!(p.level, PlaceLevel::Hamlet | PlaceLevel::Commune))
                    }
                };
                if !known {
                    return reject(
                        "places",
                        "unknown_place",
                        format!("Không có thôn/bản, xã hay hộ mã {code}."),
                        format!("There is no hamlet, commune or household with code {code}."),
                    );
                }
            }
            Ok(vec![Change::PutAssignment(Assignment {
                user_id: p.user_id,
                places: places.codes().to_vec(),
                assigned_by: event.author,
            })])
        }
        Payload::ClaimChecked(p) => {
            let mut resident = live_resident(view, p.resident_id)?;
            if !view.visit_exists(p.visit_id)? {
                return reject("visit_id", "unknown_visit", "Không tìm thấy lượt thăm này.", "Unknown visit.");
            }
            resident.claim_check = Some(p.outcome);
            resident.checked_visit = Some(p.visit_id);
            Ok(vec![Change::PutResident(resident)])
        }
        Payload::ResidentsMerged(p) => merge(view, p),
        Payload::CampaignSet(p) => campaign(view, p),
        Payload::ReviewResolved(p) => resolve_review(view, p),
        Payload::ResidentAdded(p) => {
            existing_household(view, p.household_id)?;
            if view.resident(p.resident_id)?.is_some() {
                return reject(
                    "resident_id",
                    "duplicate_id",
                    "Người này đã có trong danh sách.",
                    "This person already exists.",
                );
            }
            let fields = resident_fields(&p.fields, event)?;
            Ok(vec![Change::PutResident(Resident {
                id: p.resident_id,
                household_id: p.household_id,
                full_name: fields.full_name,
                birth_year: fields.birth_year,
                sex: fields.sex,
                cccd: fields.cccd,
                phone: fields.phone,
                version: 1,
                review: None,
                field_versions: BTreeMap::new(),
                status: None,
                reason_code: None,
                follow_up: None,
                deciding_visit: None,
                visit_count: 0,
                removed: None,
                claim_check: None,
                checked_visit: None,
                merged_into: None,
            })])
        }
        Payload::ResidentEdited(p) => {
            let f = &p.fields;
            let patch = ResidentPatch {
                resident_id: p.resident_id,
                base_version: p.base_version,
                full_name: Some(f.full_name.clone()),
                birth_year: Some(f.birth_year),
                sex: Some(f.sex),
                cccd: Some(f.cccd.clone().unwrap_or_default()),
                phone: Some(f.phone.clone().unwrap_or_default()),
            };
            resident_patch(view, &patch, event)
        }
        Payload::ResidentPatched(p) => resident_patch(view, p, event),
        Payload::VisitRecorded(p) => {
            // a visit to a record since merged lands on the person kept
            let mut resident = live_resident(view, p.resident_id)?;
            if view.visit_exists(p.visit_id)? {
                return reject(
                    "visit_id",
                    "duplicate_id",
                    "Lượt thăm này đã được ghi.",
                    "This visit is already recorded.",
                );
            }
            let note = match p.note.as_deref().map(|n| validate::text_block("note", ("Ghi chú", "note"), n)) {
                Some(Err(e)) => return Err(ReduceError::Rejected(vec![e])),
                Some(Ok(n)) => Some(n).filter(|n| !n.is_empty()),
                None => None,
            };
            if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
                return reject(
                    "note",
                    "too_long",
                    format!("Ghi chú dài quá {MAX_NOTE} ký tự."),
                    format!("The note is longer than {MAX_NOTE} characters."),
                );
            }
            if let Some(position) = &p.position
                && let Err(e) = validate::position(position)
            {
                return Err(ReduceError::Rejected(vec![e]));
            }
            // the outcome follows the checklist: a status below what the ticked steps prove is a
            // contradiction (typed twice, differently), never silently kept
            if let Some(implied) = crate::funnel::ChecklistStep::outcome(&p.steps)
                && p.status < implied
            {
                return reject(
                    "status",
                    "contradicts_checklist",
                    format!("Các bước đã đánh dấu cho thấy \"{}\", không khớp tình trạng đã chọn.", implied.label_vi()),
                    format!("The ticked steps mean \"{}\", which the chosen state contradicts.", implied.label_en()),
                );
            }
            if let Some(code) = &p.reason_code {
                let Some(reason) = view.reason(code)? else {
                    return reject(
                        "reason_code",
                        "unknown_reason",
                        format!("Lý do \"{code}\" không có trong danh mục."),
                        format!("Reason \"{code}\" is not in the catalog."),
                    );
                };
                if let Some(province) = &reason.province_code {
                    let household = existing_household(view, resident.household_id)?;
                    if province_of(view, &household.hamlet_code)?.as_deref() != Some(province.as_str()) {
                        return reject(
                            "reason_code",
                            "unknown_reason",
                            format!("Lý do \"{code}\" không áp dụng cho tỉnh này."),
                            format!("Reason \"{code}\" does not apply in this province."),
                        );
                    }
                }
                if p.status.is_activated() {
                    return reject(
                        "reason_code",
                        "reason_with_activated",
                        "Đã kích hoạt thì không ghi lý do chưa thể kích hoạt.",
                        "An activated account takes no cannot-activate reason.",
                    );
                }
                if reason.requires_note && note.is_none() {
                    return reject(
                        "note",
                        "note_required",
                        format!("Lý do \"{}\" cần ghi chú cụ thể.", reason.label_vi),
                        format!("Reason \"{}\" needs a note.", reason.label_en),
                    );
                }
            }
            let visit = Visit {
                id: p.visit_id,
                resident_id: resident.id,
                status: p.status,
                reason_code: p.reason_code.clone(),
                action: p.action,
                follow_up: p.follow_up,
                steps: p.steps.clone(),
                note,
                position: p.position,
                review: None,
                author: event.author,
                device_id: event.device_id,
                device_time: event.device_time,
            };
            // IMPORTANT: the deciding visit is the furthest funnel state, ties broken by visit id,
            // never by arrival order or device clock, so every order of the same visits agrees.
            let decides = match (resident.status, resident.deciding_visit) {
                (Some(status), Some(id)) => (visit.status, visit.id) > (status, id),
                _ => true,
            };
            if decides {
                resident.status = Some(visit.status);
                resident.reason_code = visit.reason_code.clone();
                resident.follow_up = visit.follow_up;
                resident.deciding_visit = Some(visit.id);
            }
            resident.visit_count += 1;
            Ok(vec![Change::PutResident(resident), Change::AddVisit(visit)])
        }
    }
}

pub use crate::event::REMOVAL_REASONS;

fn removal_reason(reason: &str) -> Result<(), ReduceError> {
    if REMOVAL_REASONS.contains(&reason) {
        return Ok(());
    }
    reject(
        "reason",
        "unknown_removal_reason",
        format!("Lý do xoá \"{reason}\" không hợp lệ."),
        format!("\"{reason}\" is not a reason to remove a record."),
    )
}

/// The review an edit based on `base` earns, given the record's version and which version last
/// changed each field it changes. `None` when nobody changed the record since `base`.
fn review_for(
    base: u32,
    version: u32,
    field_versions: &BTreeMap<String, u32>,
    changed: &[&'static str],
) -> Option<Review> {
    if base >= version {
        return None;
    }
    if changed.iter().any(|f| field_versions.get(*f).copied().unwrap_or(1) > base) {
        Some(Review::Conflict)
    } else {
        Some(Review::ParallelUpdate)
    }
}

/// Bumps the version, stamps the changed fields with it and records the review earned.
fn stamp(
    version: &mut u32,
    review: &mut Option<Review>,
    field_versions: &mut BTreeMap<String, u32>,
    base: u32,
    changed: &[&'static str],
) -> Option<Review> {
    let earned = review_for(base, *version, field_versions, changed);
    *review = (*review).max(earned);
    *version += 1;
    for f in changed {
        field_versions.insert((*f).to_owned(), *version);
    }
    earned
}

fn household_patch(view: &impl StateView, p: &HouseholdPatch) -> Result<Vec<Change>, ReduceError> {
    let mut household = existing_household(view, p.household_id)?;
    let mut errors = Vec::new();
    let mut changed = Vec::new();
    if let Some(name) = &p.head_name {
        match validate::full_name(name) {
            Ok(name) if name != household.head_name => {
                household.head_name = name;
                changed.push("head_name");
            }
            Ok(_) => {}
            Err(mut e) => {
                e.field = "head_name".into();
                errors.push(e);
            }
        }
    }
    if let Some(addr) = &p.address {
        match address(addr) {
            Ok(addr) if addr != household.address => {
                household.address = addr;
                changed.push("address");
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ReduceError::Rejected(errors));
    }
    let earned =
        stamp(&mut household.version, &mut household.review, &mut household.field_versions, p.base_version, &changed);
    Ok([Change::PutHousehold(household)].into_iter().chain(earned.map(Change::Flagged)).collect())
}

fn resident_patch(view: &impl StateView, p: &ResidentPatch, event: &Event) -> Result<Vec<Change>, ReduceError> {
    let mut resident = existing_resident(view, p.resident_id)?;
    let blank_to_none = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let merged = ResidentFields {
        full_name: p.full_name.clone().unwrap_or_else(|| resident.full_name.clone()),
        birth_year: p.birth_year.unwrap_or(resident.birth_year),
        sex: p.sex.unwrap_or(resident.sex),
        cccd: p.cccd.as_deref().map_or_else(|| resident.cccd.clone(), blank_to_none),
        phone: p.phone.as_deref().map_or_else(|| resident.phone.clone(), blank_to_none),
    };
    let fields = resident_fields(&merged, event)?;
    let mut changed = Vec::new();
    if fields.full_name != resident.full_name {
        changed.push("full_name");
    }
    if fields.birth_year != resident.birth_year {
        changed.push("birth_year");
    }
    if fields.sex != resident.sex {
        changed.push("sex");
    }
    if fields.cccd != resident.cccd {
        changed.push("cccd");
    }
    if fields.phone != resident.phone {
        changed.push("phone");
    }
    let earned =
        stamp(&mut resident.version, &mut resident.review, &mut resident.field_versions, p.base_version, &changed);
    resident.full_name = fields.full_name;
    resident.birth_year = fields.birth_year;
    resident.sex = fields.sex;
    resident.cccd = fields.cccd;
    resident.phone = fields.phone;
    Ok([Change::PutResident(resident)].into_iter().chain(earned.map(Change::Flagged)).collect())
}

fn address(input: &str) -> Result<String, FieldError> {
    let trimmed = validate::text_line("address", ("Địa chỉ", "address"), input)?;
    if trimmed.is_empty() {
        Err(FieldError::new("address", "required", "Chưa nhập địa chỉ.", "The address is missing."))
    } else if trimmed.chars().count() > MAX_ADDRESS {
        Err(FieldError::new(
            "address",
            "too_long",
            format!("Địa chỉ dài quá {MAX_ADDRESS} ký tự."),
            format!("The address is longer than {MAX_ADDRESS} characters."),
        ))
    } else {
        Ok(trimmed)
    }
}

fn resident_fields(fields: &ResidentFields, event: &Event) -> Result<ResidentFields, ReduceError> {
    let mut errors = Vec::new();
    let name = validate::full_name(&fields.full_name);
    // The event's own clock bounds the year, so every replica judges the event alike.
    let year = validate::birth_year(fields.birth_year, event.device_time.year());
    let cccd = fields
        .cccd
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        // a masked number (see `privacy`) is what a non-police phone holds of a real one the
        // server checked: kept as it is; typing one is refused before the reducer
        .map(|c| {
            if privacy::is_masked_cccd(c) { Ok(c.to_owned()) } else { validate::cccd(c, fields.birth_year, fields.sex) }
        });
    let phone = fields.phone.as_deref().filter(|c| !c.trim().is_empty()).map(validate::phone);
    field(name.clone(), &mut errors);
    field(year, &mut errors);
    if let Some(r) = &cccd {
        field(r.clone(), &mut errors);
    }
    if let Some(r) = &phone {
        field(r.clone(), &mut errors);
    }
    if !errors.is_empty() {
        return Err(ReduceError::Rejected(errors));
    }
    Ok(ResidentFields {
        full_name: name.unwrap_or_default(),
        birth_year: fields.birth_year,
        sex: fields.sex,
        cccd: cccd.and_then(Result::ok),
        phone: phone.and_then(Result::ok),
    })
}

fn existing_household(view: &impl StateView, id: Uuid) -> Result<Household, ReduceError> {
    view.household(id)?
        .map_or_else(|| reject("household_id", "unknown_household", "Không tìm thấy hộ này.", "Unknown household."), Ok)
}

fn existing_resident(view: &impl StateView, id: Uuid) -> Result<Resident, ReduceError> {
    view.resident(id)?
        .map_or_else(|| reject("resident_id", "unknown_resident", "Không tìm thấy người này.", "Unknown person."), Ok)
}

/// The longest campaign window, in days.
pub const MAX_CAMPAIGN_DAYS: i64 = 366;
/// The most quotas one campaign gives.
pub const MAX_QUOTAS: usize = 2_000;
/// The largest target or quota (a province's campaign).
pub const MAX_TARGET: u32 = 10_000_000;
/// The most citizens asked of one official.
pub const MAX_PER_OFFICIAL: u32 = 1_000;

/// `campaign_set.v1`: a clean name, a known place of commune level or above, a window of at most
/// [`MAX_CAMPAIGN_DAYS`], numbers in range, each holder once. Whether each hamlet is one of the
/// campaign's is [`campaign_place_errors`]'s to say where the whole place is known (the server,
/// the office): a volunteer's phone knows only its own hamlets, and must still apply the plan.
fn campaign(view: &impl StateView, p: &CampaignSet) -> Result<Vec<Change>, ReduceError> {
    let mut errors = Vec::new();
    let mut plan = p.clone();
    match validate::text_line("name", ("Tên đợt", "campaign name"), &p.name) {
        Ok(name) if name.is_empty() => {
            errors.push(FieldError::new("name", "required", "Hãy đặt tên cho đợt.", "Give the campaign a name."))
        }
        Ok(name) if name.chars().count() > 100 => errors.push(FieldError::new(
            "name",
            "too_long",
            "Tên đợt dài quá 100 ký tự.",
            "The campaign name is longer than 100 characters.",
        )),
        Ok(name) => plan.name = name,
        Err(e) => errors.push(e),
    }
    match view.place(&p.place)? {
        Some(place) if place.level != PlaceLevel::Hamlet => {}
        _ => errors.push(FieldError::new(
            "place",
            "unknown_place",
            format!("Không có xã, huyện hay tỉnh mã {}.", p.place),
            format!("There is no commune, district or province with code {}.", p.place),
        )),
    }
    let days = (p.ends - p.starts).num_days();
    if days < 0 {
        errors.push(FieldError::new(
            "ends",
            "ends_before_start",
            "Ngày kết thúc phải sau ngày bắt đầu.",
            "The last day must not come before the first.",
        ));
    } else if days >= MAX_CAMPAIGN_DAYS {
        errors.push(FieldError::new(
            "ends",
            "too_long",
            format!("Một đợt dài tối đa {MAX_CAMPAIGN_DAYS} ngày."),
            format!("A campaign lasts at most {MAX_CAMPAIGN_DAYS} days."),
        ));
    }
    let in_range = |n: Option<u32>, max: u32| n.is_none_or(|n| (1..=max).contains(&n));
    if !in_range(p.target, MAX_TARGET) {
        errors.push(FieldError::new(
            "target",
            "out_of_range",
            format!("Chỉ tiêu phải từ 1 đến {MAX_TARGET}."),
            format!("The target must be between 1 and {MAX_TARGET}."),
        ));
    }
    if !in_range(p.per_official, MAX_PER_OFFICIAL) {
        errors.push(FieldError::new(
            "per_official",
            "out_of_range",
            format!("Số người mỗi cán bộ hướng dẫn phải từ 1 đến {MAX_PER_OFFICIAL}."),
            format!("Citizens per official must be between 1 and {MAX_PER_OFFICIAL}."),
        ));
    }
    if p.quotas.len() > MAX_QUOTAS {
        errors.push(FieldError::new(
            "quotas",
            "too_many",
            format!("Một đợt giao tối đa {MAX_QUOTAS} chỉ tiêu."),
            format!("A campaign gives at most {MAX_QUOTAS} quotas."),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for quota in &p.quotas {
        let who = match &quota.holder {
            QuotaHolder::Place(code) => code.clone(),
            QuotaHolder::User(id) => id.to_string(),
        };
        if !seen.insert(&quota.holder) {
            errors.push(FieldError::new(
                "quotas",
                "duplicate",
                format!("Chỉ tiêu của {who} được giao hai lần."),
                format!("{who} is given a quota twice."),
            ));
        }
        if quota.total.is_none() && quota.per_day.is_none()
            || !in_range(quota.total, MAX_TARGET)
            || !in_range(quota.per_day, MAX_TARGET)
        {
            errors.push(FieldError::new(
                "quotas",
                "out_of_range",
                format!("Chỉ tiêu của {who} phải là số từ 1 đến {MAX_TARGET}."),
                format!("The quota of {who} must be a number between 1 and {MAX_TARGET}."),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ReduceError::Rejected(errors));
    }
    plan.quotas.sort_by(|a, b| a.holder.cmp(&b.holder));
    Ok(vec![Change::PutCampaign(plan)])
}

/// `review_resolved.v1`: clears the flag of the household or person named, unless it changed
/// since the version the reviewer saw.
fn resolve_review(view: &impl StateView, p: &crate::event::ReviewResolved) -> Result<Vec<Change>, ReduceError> {
    if !crate::event::REVIEW_RESOLUTIONS.contains(&p.resolution.as_str()) {
        return reject(
            "resolution",
            "unknown_resolution",
            format!("Cách xử lý \"{}\" không hợp lệ.", p.resolution),
            format!("\"{}\" is not a resolution.", p.resolution),
        );
    }
    if let Some(mut household) = view.household(p.record_id)? {
        if household.review.is_none() || household.version > p.base_version {
            return Ok(vec![]);
        }
        household.review = None;
        return Ok(vec![Change::PutHousehold(household)]);
    }
    if let Some(mut resident) = view.resident(p.record_id)? {
        if resident.review.is_none() || resident.version > p.base_version {
            return Ok(vec![]);
        }
        resident.review = None;
        return Ok(vec![Change::PutResident(resident)]);
    }
    // a visit (recorded with a wrong clock) never changes: its resolution always holds
    if view.visit_exists(p.record_id)? {
        return Ok(vec![Change::VisitReview { visit_id: p.record_id, review: None }]);
    }
    reject("record_id", "unknown_record", "Không tìm thấy bản ghi này.", "Unknown record.")
}

/// The changes of an event whose recording phone's clock the server clamped: its visit awaits a
/// look in the review queue (`review`). The server, the phone that pushed it and every phone
/// that pulls it flag it the same way, and a replay again.
pub fn with_clock(mut changes: Vec<Change>, review: Option<Review>) -> Vec<Change> {
    if review.is_some() {
        for change in &mut changes {
            if let Change::AddVisit(visit) = change {
                visit.review = review;
            }
        }
    }
    changes
}

/// The hamlets of `plan`'s quotas that are not hamlets under its place, as field errors.
pub fn campaign_place_errors(view: &impl StateView, plan: &CampaignSet) -> Result<Vec<FieldError>, Error> {
    let mut errors = Vec::new();
    for quota in &plan.quotas {
        let QuotaHolder::Place(code) = &quota.holder else { continue };
        let under = match view.place(code)? {
            Some(place) if place.level == PlaceLevel::Hamlet => {
                let mut parent = place.parent_code;
                let mut found = false;
                for _ in 0..16 {
                    match parent {
                        Some(p) if p == plan.place => {
                            found = true;
                            break;
                        }
                        Some(p) => parent = view.place(&p)?.and_then(|place| place.parent_code),
                        None => break,
                    }
                }
                found
            }
            _ => false,
        };
        if !under {
            errors.push(FieldError::new(
                "quotas",
                "unknown_hamlet",
                format!("Không có thôn/bản/tổ dân phố mã {code} trong địa bàn của đợt."),
                format!("There is no hamlet with code {code} in the campaign's place."),
            ));
        }
    }
    Ok(errors)
}

/// How many merges a visit follows to the person kept (a merged record merged again).
const MAX_MERGE_HOPS: usize = 16;

/// The resident `id` names, or the one it was merged into (through merges of merges).
fn live_resident(view: &impl StateView, id: Uuid) -> Result<Resident, ReduceError> {
    let mut resident = existing_resident(view, id)?;
    for _ in 0..MAX_MERGE_HOPS {
        match resident.merged_into {
            Some(kept) => resident = existing_resident(view, kept)?,
            None => return Ok(resident),
        }
    }
    reject("resident_id", "merge_loop", "Chuỗi gộp bản ghi quá dài.", "Too many merges in a row.")
}

/// `residents_merged.v1`: the kept record takes the other's visits, its furthest outcome (by the
/// same rule as a visit: state, then visit id), its visit count, the CCCD, phone and spot-check
/// finding it lacked; the other becomes a tombstone pointing at it.
fn merge(view: &impl StateView, p: &ResidentsMerged) -> Result<Vec<Change>, ReduceError> {
    if p.kept == p.merged {
        return reject(
            "merged",
            "same_person",
            "Không thể gộp một người với chính họ.",
            "A record cannot merge with itself.",
        );
    }
    let mut kept = existing_resident(view, p.kept)?;
    let mut merged = existing_resident(view, p.merged)?;
    if merged.merged_into == Some(kept.id) {
        return Ok(vec![]); // the same merge again (two office devices)
    }
    if kept.removed.is_some() || merged.removed.is_some() {
        return reject(
            "merged",
            "removed",
            "Một trong hai người đã bị xoá hoặc đã được gộp: không gộp được nữa.",
            "One of the two was removed or merged already: they cannot be merged.",
        );
    }
    let (kept_home, merged_home) =
        (existing_household(view, kept.household_id)?, existing_household(view, merged.household_id)?);
    if kept_home.hamlet_code != merged_home.hamlet_code {
        return reject(
            "merged",
            "different_hamlets",
            "Chỉ gộp được hai người cùng một thôn/bản/tổ dân phố.",
            "Only two records in the same hamlet can be merged.",
        );
    }
    let furthest = |r: &Resident| r.status.zip(r.deciding_visit);
    if furthest(&merged) > furthest(&kept) {
        kept.status = merged.status;
        kept.reason_code = merged.reason_code.clone();
        kept.follow_up = merged.follow_up;
        kept.deciding_visit = merged.deciding_visit;
    }
    kept.visit_count += merged.visit_count;
    if kept.claim_check.is_none() {
        kept.claim_check = merged.claim_check;
        kept.checked_visit = merged.checked_visit;
    }
    let mut filled = Vec::new();
    if kept.cccd.is_none() && merged.cccd.is_some() {
        kept.cccd = merged.cccd.clone();
        filled.push("cccd");
    }
    if kept.phone.is_none() && merged.phone.is_some() {
        kept.phone = merged.phone.clone();
        filled.push("phone");
    }
    if !filled.is_empty() {
        let base = kept.version;
        stamp(&mut kept.version, &mut kept.review, &mut kept.field_versions, base, &filled);
    }
    // the tombstone keeps no outcome: merged before or after its visits, it ends the same
    merged.removed = Some(crate::event::MERGED.to_owned());
    merged.merged_into = Some(kept.id);
    (merged.visit_count, merged.status, merged.reason_code, merged.follow_up) = (0, None, None, None);
    (merged.deciding_visit, merged.claim_check, merged.checked_visit) = (None, None, None);
    let (from, to) = (merged.id, kept.id);
    Ok(vec![Change::PutResident(kept), Change::PutResident(merged), Change::MoveVisits { from, to }])
}

/// Walks up from a place to its province; `None` if the chain breaks.
pub fn province_of(view: &impl StateView, code: &str) -> Result<Option<String>, Error> {
    let mut current = view.place(code)?;
    for _ in 0..16 {
        match current {
            Some(p) if p.level == PlaceLevel::Province => return Ok(Some(p.code)),
            Some(p) => match p.parent_code {
                Some(parent) => current = view.place(&parent)?,
                None => return Ok(None),
            },
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// Current state as plain maps: what stores dump for comparison, and what tests reduce into.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    /// Households by id.
    pub households: BTreeMap<Uuid, Household>,
    /// Residents by id.
    pub residents: BTreeMap<Uuid, Resident>,
    /// Visits by id.
    pub visits: BTreeMap<Uuid, Visit>,
}

impl Projection {
    /// Applies changes returned by [`reduce`].
    pub fn apply(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::PutHousehold(h) => {
                    self.households.insert(h.id, h);
                }
                Change::PutResident(r) => {
                    self.residents.insert(r.id, r);
                }
                Change::AddVisit(v) => {
                    self.visits.insert(v.id, v);
                }
                Change::MoveVisits { from, to } => {
                    for visit in self.visits.values_mut().filter(|v| v.resident_id == from) {
                        visit.resident_id = to;
                    }
                }
                Change::VisitReview { visit_id, review } => {
                    if let Some(visit) = self.visits.get_mut(&visit_id) {
                        visit.review = review;
                    }
                }
                // campaigns, like assignments, are plans rather than records: the device keeps
                // them in its `campaigns` table, the server in its events
                Change::PutCampaign(_) => {}
                // who works where is not a record: the device keeps it in its `assignments`
                // table, the server in the users' scopes
                Change::PutAssignment(_) | Change::Flagged(_) => {}
            }
        }
    }
}

/// An in-memory replica: a projection plus the places and reasons it is checked against.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    /// Current state.
    pub projection: Projection,
    /// Known places by code.
    pub places: HashMap<String, Place>,
    /// Known reasons.
    pub reasons: ReasonCatalog,
}

impl MemoryState {
    /// Builds a replica over places and reasons.
    pub fn new(places: impl IntoIterator<Item = Place>, reasons: ReasonCatalog) -> Self {
        MemoryState {
            projection: Projection::default(),
            places: places.into_iter().map(|p| (p.code.clone(), p)).collect(),
            reasons,
        }
    }

    /// Reduces one event into the projection; returns its field errors when it is invalid.
    pub fn apply(&mut self, event: &Event) -> Result<(), Vec<FieldError>> {
        match reduce(self, event) {
            Ok(changes) => {
                self.projection.apply(changes);
                Ok(())
            }
            Err(ReduceError::Rejected(errors)) => Err(errors),
            Err(ReduceError::Store(e)) => unreachable!("in-memory reads cannot fail: {e}"),
        }
    }
}

impl StateView for MemoryState {
    fn household(&self, id: Uuid) -> Result<Option<Household>, Error> {
        Ok(self.projection.households.get(&id).cloned())
    }
    fn resident(&self, id: Uuid) -> Result<Option<Resident>, Error> {
        Ok(self.projection.residents.get(&id).cloned())
    }
    fn visit_exists(&self, id: Uuid) -> Result<bool, Error> {
        Ok(self.projection.visits.contains_key(&id))
    }
    fn place(&self, code: &str) -> Result<Option<Place>, Error> {
        Ok(self.places.get(code).cloned())
    }
    fn reason(&self, code: &str) -> Result<Option<Reason>, Error> {
        Ok(self.reasons.get(code).cloned())
    }
}

#[cfg(test)]
mod tests;
