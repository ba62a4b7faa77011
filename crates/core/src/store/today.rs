//! The volunteer's day ("Hôm nay"): accounts activated today against the daily quota (only
//! successful activations count), the people due a return visit, and what is still unsent.

use chrono::{Duration, NaiveDate, NaiveTime};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{DeviceStore, get_meta, set_meta};
use crate::error::Error;
use crate::funnel::{FunnelState, VisitAction};

/// Vietnam's offset from UTC in minutes (no daylight saving): a day there runs 17:00 UTC to
/// 17:00 UTC. Phones say their own offset; this is what they say in Vietnam.
pub const VIETNAM_UTC_OFFSET_MINUTES: i32 = 7 * 60;
/// The most follow-ups listed on the day's screen (the count says how many in all).
const MAX_FOLLOW_UPS: u32 = 50;
/// The daily quota in `sync_meta`.
const META_DAILY_QUOTA: &str = "daily_quota";

/// One person due a return visit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// The person.
    pub resident_id: Uuid,
    /// Their name.
    pub full_name: String,
    /// Their household.
    pub household_id: Uuid,
    /// The head of the household, to find the house.
    pub head_name: String,
    /// The household's address.
    pub address: String,
    /// Its hamlet.
    pub hamlet_code: String,
    /// Where they are in the funnel.
    pub status: Option<FunnelState>,
    /// Why they could not be activated yet, if classified.
    pub reason_code: Option<String>,
    /// What the last deciding visit did (e.g. referred for level 2).
    pub action: Option<VisitAction>,
    /// The day the return visit was planned for.
    pub due: NaiveDate,
}

/// The day's screen.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodayView {
    /// The volunteer's date.
    pub date: NaiveDate,
    /// Activations asked for today: the running campaign's quota for this volunteer or their
    /// hamlet, else the one the volunteer set as the team leader gave it.
    pub quota: Option<u32>,
    /// The quota is the campaign's (the office's), not the volunteer's own.
    pub quota_from_campaign: bool,
    /// People whose account this volunteer activated today for the first time.
    pub activated: u32,
    /// People this volunteer visited today.
    pub visited: u32,
    /// People due a return visit (planned for today or earlier) whose last deciding visit was
    /// this volunteer's, oldest first, at most 50.
    pub follow_ups: Vec<FollowUp>,
    /// How many are due in all.
    pub follow_ups_due: u32,
    /// Records not yet sent.
    pub unsent: u64,
}

/// A text column read as a serde value (ids, dates and codes are stored as their JSON strings).
fn parse<T: serde::de::DeserializeOwned>(i: usize, text: String) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(text))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// The UTC bounds of the phone's calendar day (its clock `utc_offset_minutes` east of UTC), as
/// the stored times are written.
pub(super) fn day_bounds(date: NaiveDate, utc_offset_minutes: i32) -> (String, String) {
    // no clock on Earth is further than 14 hours from UTC
    let utc_offset_minutes = utc_offset_minutes.clamp(-14 * 60, 14 * 60);
    let start = date.and_time(NaiveTime::MIN).and_utc() - Duration::minutes(i64::from(utc_offset_minutes));
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    (fmt(start), fmt(start + Duration::days(1)))
}

impl DeviceStore {
    /// The day's screen for `date`, the calendar day of a phone whose clock is
    /// `utc_offset_minutes` east of UTC ([`VIETNAM_UTC_OFFSET_MINUTES`] in Vietnam).
    pub fn today(&self, date: NaiveDate, utc_offset_minutes: i32) -> Result<TodayView, Error> {
        let me = self.require_enrollment()?.user_id.to_string();
        let (start, end) = day_bounds(date, utc_offset_minutes);
        let activated_codes = crate::sql::activated_states();
        // first activations only: a person already activated before today does not count again
        let activated: u32 = self.conn.query_row(
            &format!(
                "SELECT count(DISTINCT v.resident_id) FROM visits v
                 WHERE v.author = ?1 AND v.device_time >= ?2 AND v.device_time < ?3
                   AND v.status IN ({activated_codes})
                   AND NOT EXISTS (SELECT 1 FROM visits p WHERE p.resident_id = v.resident_id
                       AND p.status IN ({activated_codes}) AND p.device_time < ?2)"
            ),
            params![me, start, end],
            |r| r.get(0),
        )?;
        let visited: u32 = self.conn.query_row(
            "SELECT count(DISTINCT resident_id) FROM visits
             WHERE author = ?1 AND device_time >= ?2 AND device_time < ?3",
            params![me, start, end],
            |r| r.get(0),
        )?;
        let due_filter = "FROM residents r JOIN households h ON h.id = r.household_id
             JOIN visits v ON v.id = r.deciding_visit
             WHERE h.removed IS NULL AND r.removed IS NULL AND r.follow_up IS NOT NULL AND r.follow_up <= ?1
               AND v.author = ?2";
        let today = date.to_string();
        let follow_ups_due: u32 =
            self.conn.query_row(&format!("SELECT count(*) {due_filter}"), params![today, me], |r| r.get(0))?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.id, r.full_name, h.id, h.head_name, h.address, h.hamlet_code, r.status, r.reason_code,
                    v.action, r.follow_up
             {due_filter} ORDER BY r.follow_up, h.hamlet_code, h.search_key, r.search_key LIMIT ?3"
        ))?;
        let follow_ups = stmt
            .query_map(params![today, me, MAX_FOLLOW_UPS], |row| {
                let text = |i: usize| -> rusqlite::Result<Option<String>> { row.get(i) };
                Ok(FollowUp {
                    resident_id: parse(0, row.get(0)?)?,
                    full_name: row.get(1)?,
                    household_id: parse(2, row.get(2)?)?,
                    head_name: row.get(3)?,
                    address: row.get(4)?,
                    hamlet_code: row.get(5)?,
                    status: text(6)?.map(|s| parse(6, s)).transpose()?,
                    reason_code: text(7)?,
                    action: text(8)?.map(|s| parse(8, s)).transpose()?,
                    due: parse(9, row.get(9)?)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let given = self.campaign_daily_quota(date)?;
        Ok(TodayView {
            date,
            quota_from_campaign: given.is_some(),
            quota: given.or(self.daily_quota()?),
            activated,
            visited,
            follow_ups,
            follow_ups_due,
            unsent: self.unsent_count()?,
        })
    }

    /// The daily quota the volunteer set, if any.
    pub fn daily_quota(&self) -> Result<Option<u32>, Error> {
        Ok(get_meta(&self.conn, META_DAILY_QUOTA)?.and_then(|v| v.parse().ok()))
    }

    /// Sets (or, with `None`, clears) the daily quota; at most 1,000 a day.
    pub fn set_daily_quota(&mut self, quota: Option<u32>) -> Result<(), Error> {
        match quota {
            Some(n) if n == 0 || n > 1000 => Err(Error::field(crate::validate::FieldError::new(
                "quota",
                "out_of_range",
                "Chỉ tiêu phải từ 1 đến 1000.",
                "The quota must be between 1 and 1000.",
            ))),
            Some(n) => set_meta(&self.conn, META_DAILY_QUOTA, &n.to_string()),
            None => {
                self.conn.execute("DELETE FROM sync_meta WHERE key = ?1", [META_DAILY_QUOTA])?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::event::{Payload, ResidentFields, VisitRecorded};
    use crate::fixtures;
    use crate::forms::{NewHousehold, NewResident};
    use crate::model::Sex;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    struct Day {
        store: DeviceStore,
        people: Vec<Uuid>,
    }

    impl Day {
        fn new() -> Day {
            let mut store = DeviceStore::open_in_memory().unwrap();
            store.save_enrollment("http://127.0.0.1:9", &fixtures::enroll_response(&store)).unwrap();
            let household = NewHousehold {
                hamlet_code: "03445-01".into(),
                address: "Số 5, Bản Nậm Củm".into(),
                head_name: "Lò Văn Páo".into(),
            };
            let household_id = store.create_household(household).unwrap();
            let people = ["Lò Văn Páo", "Lò Thị Mỷ", "Lò Văn Dơ", "Lò Thị Sính"]
                .into_iter()
                .map(|name| {
                    let fields = ResidentFields {
                        full_name: name.into(),
                        birth_year: 1980,
                        sex: Sex::Male,
                        cccd: None,
                        phone: None,
                    };
                    store.add_resident(NewResident { household_id, fields }).unwrap()
                })
                .collect();
            Day { store, people }
        }

        fn visit(&mut self, person: usize, status: FunnelState, reason: Option<&str>, due: Option<&str>, time: &str) {
            let visit = VisitRecorded {
                steps: Vec::new(),
                visit_id: self.store.new_record_id().unwrap(),
                resident_id: self.people[person],
                status,
                reason_code: reason.map(Into::into),
                action: None,
                follow_up: due.map(|d| d.parse().unwrap()),
                note: None,
                position: None,
            };
            self.store.record_at(Payload::VisitRecorded(visit), at(time)).unwrap();
        }
    }

    #[test]
    fn only_first_activations_of_the_vietnamese_day_count_toward_the_quota() {
        let mut day = Day::new();
        let date: NaiveDate = "2026-11-22".parse().unwrap();
        // 06:30 in Vietnam on the 22nd is 23:30 UTC on the 21st
        day.visit(0, FunnelState::ActivatedLevel1, None, None, "2026-11-21T23:30:00Z");
        // activated yesterday (Vietnam time), visited again today: no new activation
        day.visit(1, FunnelState::ActivatedLevel1, None, None, "2026-11-21T10:00:00Z");
        day.visit(1, FunnelState::UsedPortal, None, None, "2026-11-22T03:00:00Z");
        // 17:30 UTC on the 22nd is already the 23rd in Vietnam
        day.visit(2, FunnelState::ActivatedLevel2, None, None, "2026-11-22T17:30:00Z");
        day.store.set_daily_quota(Some(20)).unwrap();
        let view = day.store.today(date, VIETNAM_UTC_OFFSET_MINUTES).unwrap();
        assert_eq!((view.activated, view.visited, view.quota), (1, 2, Some(20)));
        assert_eq!(day.store.today("2026-11-23".parse().unwrap(), VIETNAM_UTC_OFFSET_MINUTES).unwrap().activated, 1);
        // a phone on UTC time cuts the days elsewhere: 23:30 on the 21st is the 21st there
        assert_eq!(day.store.today(date, 0).unwrap().activated, 1);
        assert_eq!(day.store.today("2026-11-21".parse().unwrap(), 0).unwrap().activated, 2);
        assert!(day.store.set_daily_quota(Some(0)).is_err());
        day.store.set_daily_quota(None).unwrap();
        assert_eq!(day.store.today(date, VIETNAM_UTC_OFFSET_MINUTES).unwrap().quota, None);
    }

    #[test]
    fn a_follow_up_comes_back_due_on_its_day_and_leaves_when_settled() {
        let mut day = Day::new();
        day.visit(
            0,
            FunnelState::NotRegistered,
            Some("absent_unreachable"),
            Some("2026-11-23"),
            "2026-11-22T02:00:00Z",
        );
        day.visit(1, FunnelState::RegisteredPending, None, Some("2026-11-20"), "2026-11-19T02:00:00Z");
        let due = |day: &Day, date: &str| -> Vec<String> {
            let view = day.store.today(date.parse().unwrap(), VIETNAM_UTC_OFFSET_MINUTES).unwrap();
            assert_eq!(view.follow_ups_due as usize, view.follow_ups.len());
            view.follow_ups.iter().map(|f| f.full_name.clone()).collect()
        };
        assert_eq!(due(&day, "2026-11-22"), ["Lò Thị Mỷ"]);
        assert_eq!(due(&day, "2026-11-23"), ["Lò Thị Mỷ", "Lò Văn Páo"], "oldest first; the absent one is due now");
        let first = &day.store.today("2026-11-23".parse().unwrap(), VIETNAM_UTC_OFFSET_MINUTES).unwrap().follow_ups[0];
        assert_eq!(
            (first.status, first.due.to_string().as_str()),
            (Some(FunnelState::RegisteredPending), "2026-11-20")
        );
        // the approval came: activated on the return visit, no longer due
        day.visit(1, FunnelState::ActivatedLevel1, None, None, "2026-11-23T02:00:00Z");
        assert_eq!(due(&day, "2026-11-23"), ["Lò Văn Páo"]);
    }
}
