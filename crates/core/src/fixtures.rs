//! Made-up, deterministic sample data (never real people): for tests, demos and the simulator.

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use crate::event::{Event, HouseholdCreated, Payload, ResidentAdded, ResidentFields, VisitRecorded};
use crate::funnel::FunnelState;
use crate::model::Sex;
use crate::places::{Place, PlaceLevel};

/// A small seeded generator (xorshift64*), so fixtures need no `rand` and repeat exactly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// One item of a slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// A UUIDv7-shaped id from the generator (time part fixed), for reproducible fixtures.
    pub fn uuid(&mut self) -> Uuid {
        let bytes = ((u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())).to_be_bytes();
        uuid::Builder::from_unix_timestamp_millis(
            1_700_000_000_000 + self.below(1 << 30),
            &bytes[..10].try_into().unwrap_or([0; 10]),
        )
        .into_uuid()
    }
}

const FAMILY: [&str; 12] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Lò", "Lý", "Hà"];
const MIDDLE_M: [&str; 4] = ["Văn", "Đức", "Minh", "Quang"];
const MIDDLE_F: [&str; 4] = ["Thị", "Ngọc", "Thu", "Mai"];
const GIVEN: [&str; 12] =
    ["An", "Bình", "Chiến", "Dũng", "Giang", "Hoa", "Khánh", "Lan", "Nga", "Phóng", "Thảo", "Tuấn"];

/// A made-up Vietnamese name for a sex.
pub fn name(rng: &mut Rng, sex: Sex) -> String {
    let middle = match sex {
        Sex::Male => rng.pick(&MIDDLE_M),
        Sex::Female => rng.pick(&MIDDLE_F),
    };
    format!("{} {} {}", rng.pick(&FAMILY), middle, rng.pick(&GIVEN))
}

/// A CCCD number consistent with a birth year and sex (province digits 012, random serial).
pub fn cccd(rng: &mut Rng, birth_year: i32, sex: Sex) -> String {
    let century = (birth_year - 1900).div_euclid(100);
    let digit = century * 2 + i32::from(sex == Sex::Female);
    format!("012{digit}{:02}{:06}", birth_year.rem_euclid(100), rng.below(1_000_000))
}

/// A mobile number.
pub fn phone(rng: &mut Rng) -> String {
    format!("0{}{:08}", rng.pick(&[3, 5, 7, 8, 9]), rng.below(100_000_000))
}

/// Lai Châu province, Xã Mường Tè (real codes) and four made-up hamlets under it.
pub fn demo_places() -> Vec<Place> {
    let mut places = vec![
        Place {
            code: "12".into(),
            name: "Lai Châu".into(),
            level: PlaceLevel::Province,
            division_type: "tỉnh".into(),
            parent_code: None,
        },
        Place {
            code: "03445".into(),
            name: "Xã Mường Tè".into(),
            level: PlaceLevel::Commune,
            division_type: "xã".into(),
            parent_code: Some("12".into()),
        },
    ];
    for (i, name) in ["Bản Nậm Củm", "Bản Phìn Khò", "Bản Mường Tè", "Bản Pa Ủ"].iter().enumerate()
    {
        places.push(Place {
            code: format!("03445-{:02}", i + 1),
            name: (*name).into(),
            level: PlaceLevel::Hamlet,
            division_type: "bản".into(),
            parent_code: Some("03445".into()),
        });
    }
    places
}

/// The time fixtures stamp on events.
pub fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).single().unwrap_or_default()
}

/// Payloads for one household in `hamlet_code` with `residents` made-up people.
pub fn household_payloads(rng: &mut Rng, hamlet_code: &str, residents: usize) -> (Uuid, Vec<Uuid>, Vec<Payload>) {
    let household_id = rng.uuid();
    let head_sex = if rng.below(2) == 0 { Sex::Male } else { Sex::Female };
    let mut payloads = vec![Payload::HouseholdCreated(HouseholdCreated {
        household_id,
        hamlet_code: hamlet_code.to_owned(),
        address: format!("Số {} đường {}", rng.below(200) + 1, rng.pick(&["Trung tâm", "Bờ suối", "Đầu bản"])),
        head_name: name(rng, head_sex),
    })];
    let mut ids = Vec::new();
    for _ in 0..residents {
        let sex = if rng.below(2) == 0 { Sex::Male } else { Sex::Female };
        let birth_year = 1945 + rng.below(63) as i32;
        let resident_id = rng.uuid();
        ids.push(resident_id);
        payloads.push(Payload::ResidentAdded(ResidentAdded {
            resident_id,
            household_id,
            fields: ResidentFields {
                full_name: name(rng, sex),
                birth_year,
                sex,
                cccd: (rng.below(4) > 0).then(|| cccd(rng, birth_year, sex)),
                phone: (rng.below(3) > 0).then(|| phone(rng)),
            },
        }));
    }
    (household_id, ids, payloads)
}

/// A visit outcome: a random state; a reason from `reason_codes` when not activated.
pub fn visit_payload(rng: &mut Rng, resident_id: Uuid, reason_codes: &[&str]) -> Payload {
    let status = *rng.pick(&FunnelState::ALL);
    let reason_code = (!status.is_activated() && rng.below(2) == 0 && !reason_codes.is_empty())
        .then(|| (*rng.pick(reason_codes)).to_owned());
    Payload::VisitRecorded(VisitRecorded {
        steps: Vec::new(),
        visit_id: rng.uuid(),
        resident_id,
        status,
        note: reason_code.as_deref().filter(|c| *c == "other").map(|_| "Ghi chú thử nghiệm".to_owned()),
        reason_code,
        action: None,
        follow_up: None,
        position: None,
    })
}

/// Wraps a payload in an event of `device_id` at `seq`.
pub fn event(device_id: Uuid, author: Uuid, seq: u64, payload: Payload) -> Event {
    Event { id: Uuid::now_v7(), device_id, seq, author, device_time: fixed_time(), payload }
}

/// A made-up enrollment answer for a volunteer of Xã Mường Tè (demo places, the reasons the
/// store was seeded with, no server key): what tests enroll a store with.
pub fn enroll_response(store: &crate::store::DeviceStore) -> crate::sync::protocol::EnrollResponse {
    use crate::sync::protocol::{EnrollResponse, Role, UserInfo};
    let places = demo_places();
    EnrollResponse {
        device_id: Uuid::now_v7(),
        token: "test-token".into(),
        user: UserInfo { id: Uuid::now_v7(), name: "Lò Thị Lan".into(), role: Role::Volunteer },
        scope: places[1].clone(),
        scopes: vec![],
        places,
        reasons: store.reasons().map(|r| r.all().to_vec()).unwrap_or_default(),
        server_time: Utc::now(),
        server_key: None,
        revocation_probe: None,
    }
}

/// A valid CCCD made up for the leak tests (Thanh Hóa, a woman born in 1988): no real person's.
pub const SENTINEL_CCCD: &str = "038188654321";
/// The sentinel resident's made-up name.
pub const SENTINEL_NAME: &str = "Vi Thị Sentinel";
/// The sentinel resident's made-up phone number.
pub const SENTINEL_PHONE: &str = "0987650321";

/// Records (on an enrolled store) a household in 03445-01 headed by the sentinel resident, who
/// carries [`SENTINEL_CCCD`] and [`SENTINEL_PHONE`]; returns the household's id.
pub fn record_sentinel_household(store: &mut crate::store::DeviceStore) -> Uuid {
    let household = store.new_record_id().expect("record id");
    store
        .record(Payload::HouseholdCreated(HouseholdCreated {
            household_id: household,
            hamlet_code: "03445-01".into(),
            address: "Bản Nậm Củm".into(),
            head_name: SENTINEL_NAME.into(),
        }))
        .expect("sentinel household");
    let resident = store.new_record_id().expect("record id");
    store
        .record(Payload::ResidentAdded(ResidentAdded {
            resident_id: resident,
            household_id: household,
            fields: ResidentFields {
                full_name: SENTINEL_NAME.into(),
                birth_year: 1988,
                sex: Sex::Female,
                cccd: Some(SENTINEL_CCCD.into()),
                phone: Some(SENTINEL_PHONE.into()),
            },
        }))
        .expect("sentinel resident");
    household
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_cccd_numbers_pass_validation() {
        let mut rng = Rng::new(7);
        for _ in 0..500 {
            let sex = if rng.below(2) == 0 { Sex::Male } else { Sex::Female };
            let year = 1900 + rng.below(126) as i32;
            let c = cccd(&mut rng, year, sex);
            crate::validate::cccd(&c, year, sex).unwrap();
            crate::validate::phone(&phone(&mut rng)).unwrap();
        }
    }
}
