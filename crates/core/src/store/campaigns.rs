//! Peak campaigns on the device (`campaign_set.v1`, kept in `campaigns`): the current one, and
//! progress against what it asks, counted from the visits this device holds. Only successful
//! activations count, each person once, on the day and by the person of their first activation
//! (the team view's rule), and only people still listed (not removed or merged away).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DeviceStore;
use super::today::day_bounds;
use crate::error::Error;
use crate::event::{CampaignSet, Quota, QuotaHolder};
use crate::funnel::FunnelState;

/// One quota with what was reached.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaProgress {
    /// The quota given.
    pub quota: Quota,
    /// Its holder's name: the hamlet's, or the person's ("" when not known here).
    pub name: String,
    /// Activations in the window so far.
    pub activated: u32,
    /// Of those, on the day asked about.
    pub activated_today: u32,
}

/// Someone this user guided to a successful activation in the campaign ("PL danh sách hướng
/// dẫn": the list the seeds ask every official to attach).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidedPerson {
    /// The person.
    pub resident_id: Uuid,
    /// Name.
    pub full_name: String,
    /// Birth year.
    pub birth_year: i32,
    /// Their household's head.
    pub head_name: String,
    /// Hamlet code.
    pub hamlet_code: String,
    /// The state their account reached.
    pub status: FunnelState,
    /// Their first activation, by the phone's clock (RFC 3339).
    pub activated_at: String,
}

/// A campaign as a device shows it on `date`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignView {
    /// The office's plan.
    pub plan: CampaignSet,
    /// Day of the campaign (1 = its first day; 0 before it starts; past the last after it ends).
    pub day: i64,
    /// Days in the window.
    pub days: i64,
    /// Activations in the window among the people this device holds.
    pub activated: u32,
    /// Of those, on `date`.
    pub activated_today: u32,
    /// Every quota of the plan with its progress (on a volunteer's phone, as far as it sees).
    pub quotas: Vec<QuotaProgress>,
    /// The quota given to this device's user, if any.
    pub mine: Option<QuotaProgress>,
    /// The quotas of the hamlets this device's user works in.
    pub my_hamlets: Vec<QuotaProgress>,
    /// The people this device's user guided to an activation in the window, newest first.
    pub guided: Vec<GuidedPerson>,
}

/// Each listed person's first activation: by whom, where, when.
struct First {
    author: String,
    hamlet: String,
    at: String,
}

impl DeviceStore {
    /// Every campaign held, the latest start first.
    pub fn campaigns(&self) -> Result<Vec<CampaignSet>, Error> {
        let mut stmt = self.conn.prepare("SELECT plan FROM campaigns ORDER BY starts DESC, id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for plan in rows {
            out.push(serde_json::from_str(&plan?)?);
        }
        Ok(out)
    }

    /// The campaign to show on `date`: the one running (the latest started), else the next to
    /// start, else the last that ended.
    pub fn current_campaign(&self, date: NaiveDate) -> Result<Option<CampaignSet>, Error> {
        let all = self.campaigns()?;
        let running = all.iter().filter(|c| c.starts <= date && date <= c.ends).max_by_key(|c| c.starts);
        let next = all.iter().filter(|c| c.starts > date).min_by_key(|c| c.starts);
        let last = all.iter().filter(|c| c.ends < date).max_by_key(|c| c.ends);
        Ok(running.or(next).or(last).cloned())
    }

    /// The current campaign on `date` (the phone's calendar day, `utc_offset_minutes` east of
    /// UTC) with its progress; `None` when no campaign reached this device.
    pub fn campaign_view(&self, date: NaiveDate, utc_offset_minutes: i32) -> Result<Option<CampaignView>, Error> {
        let Some(plan) = self.current_campaign(date)? else { return Ok(None) };
        let me = self.require_enrollment()?;
        let (window_start, _) = day_bounds(plan.starts, utc_offset_minutes);
        let (_, window_end) = day_bounds(plan.ends, utc_offset_minutes);
        let (today_start, today_end) = day_bounds(date, utc_offset_minutes);
        let firsts = crate::sql::first_activations();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT f.author, h.hamlet_code, f.at FROM ({firsts}) f
             JOIN residents r ON r.id = f.resident_id JOIN households h ON h.id = r.household_id
             WHERE r.removed IS NULL AND h.removed IS NULL AND f.at >= ?1 AND f.at < ?2"
        ))?;
        let firsts: Vec<First> = stmt
            .query_map(params![window_start, window_end], |r| {
                Ok(First { author: r.get(0)?, hamlet: r.get(1)?, at: r.get(2)? })
            })?
            .collect::<Result<_, _>>()?;
        let today = |f: &First| f.at >= today_start && f.at < today_end;
        let names: BTreeMap<String, String> = {
            let mut stmt = self.conn.prepare("SELECT id, name FROM people UNION ALL SELECT code, name FROM places")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
        };
        let progress = |quota: &Quota| {
            let key = match &quota.holder {
                QuotaHolder::Place(code) => code.clone(),
                QuotaHolder::User(id) => id.to_string(),
            };
            let counted: Vec<&First> = firsts
                .iter()
                .filter(|f| match &quota.holder {
                    QuotaHolder::Place(code) => &f.hamlet == code,
                    QuotaHolder::User(_) => f.author == key,
                })
                .collect();
            QuotaProgress {
                quota: quota.clone(),
                name: names.get(&key).cloned().unwrap_or_default(),
                activated: counted.len() as u32,
                activated_today: counted.iter().filter(|f| today(f)).count() as u32,
            }
        };
        let quotas: Vec<QuotaProgress> = plan.quotas.iter().map(progress).collect();
        let mine = quotas.iter().find(|q| q.quota.holder == QuotaHolder::User(me.user_id)).cloned();
        let my_hamlets = quotas
            .iter()
            .filter(|q| matches!(&q.quota.holder, QuotaHolder::Place(code) if me.scope.codes().contains(code)))
            .cloned()
            .collect();
        let guided = self.guided(me.user_id, &window_start, &window_end)?;
        let days = (plan.ends - plan.starts).num_days() + 1;
        let day = if date < plan.starts { 0 } else { (date - plan.starts).num_days() + 1 };
        Ok(Some(CampaignView {
            day,
            days,
            activated: firsts.len() as u32,
            activated_today: firsts.iter().filter(|f| today(f)).count() as u32,
            quotas,
            mine,
            my_hamlets,
            guided,
            plan,
        }))
    }

    /// The people `user` guided to their first activation between the bounds, newest first.
    fn guided(&self, user: Uuid, from: &str, until: &str) -> Result<Vec<GuidedPerson>, Error> {
        let firsts = crate::sql::first_activations();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.id, r.full_name, r.birth_year, h.head_name, h.hamlet_code, r.status, f.at FROM ({firsts}) f
             JOIN residents r ON r.id = f.resident_id JOIN households h ON h.id = r.household_id
             WHERE r.removed IS NULL AND h.removed IS NULL AND f.author = ?1 AND f.at >= ?2 AND f.at < ?3
             ORDER BY f.at DESC, r.id"
        ))?;
        let rows = stmt.query_map(params![user.to_string(), from, until], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i32>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, full_name, birth_year, head_name, hamlet_code, status, activated_at) = row?;
            out.push(GuidedPerson {
                resident_id: Uuid::parse_str(&id).map_err(|_| Error::invalid_input(format!("unreadable id {id}")))?,
                full_name,
                birth_year,
                head_name,
                hamlet_code,
                status: FunnelState::from_code(&status)
                    .ok_or_else(|| Error::invalid_input(format!("unknown state {status}")))?,
                activated_at,
            });
        }
        Ok(out)
    }

    /// The activations a day asked of this device's user on `date` by the campaign running
    /// then: their own quota's, else their hamlet's (a hamlet's "mỗi địa bàn … mỗi ngày"), else
    /// `None`.
    pub fn campaign_daily_quota(&self, date: NaiveDate) -> Result<Option<u32>, Error> {
        let Some(plan) = self.current_campaign(date)?.filter(|c| c.starts <= date && date <= c.ends) else {
            return Ok(None);
        };
        let me = self.require_enrollment()?;
        let own = plan.quotas.iter().find(|q| q.holder == QuotaHolder::User(me.user_id)).and_then(|q| q.per_day);
        let hamlet = || {
            plan.quotas.iter().find_map(|q| match &q.holder {
                QuotaHolder::Place(code) if me.scope.codes().contains(code) => q.per_day,
                _ => None,
            })
        };
        Ok(own.or_else(hamlet))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate, Utc};
    use uuid::Uuid;

    use crate::event::{
        CampaignSet, HouseholdCreated, Payload, Quota, QuotaHolder, ResidentAdded, ResidentFields, VisitRecorded,
    };
    use crate::fixtures;
    use crate::funnel::FunnelState;
    use crate::model::Sex;
    use crate::store::DeviceStore;
    use crate::store::today::VIETNAM_UTC_OFFSET_MINUTES;
    use crate::sync::protocol::Role;

    fn vietnam_today() -> NaiveDate {
        (Utc::now() + Duration::minutes(VIETNAM_UTC_OFFSET_MINUTES.into())).date_naive()
    }

    /// A person in `hamlet` visited once with `status`.
    fn person_visited(store: &mut DeviceStore, hamlet: &str, name: &str, status: FunnelState) -> Uuid {
        let (household_id, resident_id) = (Uuid::now_v7(), Uuid::now_v7());
        store
            .record(Payload::HouseholdCreated(HouseholdCreated {
                household_id,
                hamlet_code: hamlet.into(),
                address: "Số 1".into(),
                head_name: name.into(),
            }))
            .unwrap();
        let fields =
            ResidentFields { full_name: name.into(), birth_year: 1990, sex: Sex::Female, cccd: None, phone: None };
        store.record(Payload::ResidentAdded(ResidentAdded { resident_id, household_id, fields })).unwrap();
        store
            .record(Payload::VisitRecorded(VisitRecorded {
                visit_id: Uuid::now_v7(),
                resident_id,
                status,
                reason_code: None,
                action: None,
                follow_up: None,
                steps: vec![],
                note: None,
                position: None,
            }))
            .unwrap();
        resident_id
    }

    #[test]
    fn a_campaign_counts_first_activations_in_its_window_per_hamlet_and_person_and_lists_whom() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut response = fixtures::enroll_response(&store);
        response.user.role = Role::CommunePolice;
        let me = response.user.id;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let today = vietnam_today();
        assert!(store.campaign_view(today, VIETNAM_UTC_OFFSET_MINUTES).unwrap().is_none());

        let lan = person_visited(&mut store, "03445-01", "Lò Thị Lan", FunnelState::ActivatedLevel2);
        person_visited(&mut store, "03445-01", "Lò Văn Pọm", FunnelState::ActivatedLevel1);
        person_visited(&mut store, "03445-02", "Giàng Thị Mai", FunnelState::ActivatedLevel1);
        person_visited(&mut store, "03445-01", "Hà Văn Sơn", FunnelState::RegisteredPending);
        let quota = |holder, total, per_day| Quota { holder, total, per_day };
        let plan = CampaignSet {
            campaign_id: Uuid::now_v7(),
            name: "  Cao điểm   60 ngày ".into(),
            place: "03445".into(),
            starts: today - Duration::days(2),
            ends: today + Duration::days(57),
            target: Some(12_354),
            per_official: Some(10),
            quotas: vec![
                quota(QuotaHolder::User(me), Some(30), Some(2)),
                quota(QuotaHolder::Place("03445-01".into()), Some(200), Some(20)),
            ],
        };
        store.record(Payload::CampaignSet(plan.clone())).unwrap();

        let view = store.campaign_view(today, VIETNAM_UTC_OFFSET_MINUTES).unwrap().unwrap();
        assert_eq!(view.plan.name, "Cao điểm 60 ngày", "the name is cleaned");
        assert_eq!((view.day, view.days), (3, 60));
        assert_eq!((view.activated, view.activated_today), (3, 3), "registered is not activated");
        let mine = view.mine.as_ref().unwrap();
        assert_eq!((mine.activated, mine.quota.total), (3, Some(30)));
        let hamlet = view.quotas.iter().find(|q| q.quota.holder == QuotaHolder::Place("03445-01".into())).unwrap();
        assert_eq!((hamlet.activated, hamlet.activated_today), (2, 2));
        assert!(!hamlet.name.is_empty(), "the hamlet's name: {hamlet:?}");
        assert_eq!(view.guided.len(), 3);
        assert!(view.guided.iter().any(|g| g.resident_id == lan && g.status == FunnelState::ActivatedLevel2));
        assert_eq!(store.campaign_daily_quota(today).unwrap(), Some(2), "my own quota comes first");
        assert_eq!(store.today(today, VIETNAM_UTC_OFFSET_MINUTES).unwrap().quota, Some(2));

        // the same plan moved to start tomorrow: nothing counts yet, and no daily quota today
        let later = CampaignSet { starts: today + Duration::days(1), ..plan.clone() };
        store.record(Payload::CampaignSet(later)).unwrap();
        let view = store.campaign_view(today, VIETNAM_UTC_OFFSET_MINUTES).unwrap().unwrap();
        assert_eq!((view.day, view.activated, view.guided.len()), (0, 0, 0));
        assert_eq!(store.campaign_daily_quota(today).unwrap(), None);
        assert_eq!(store.campaigns().unwrap().len(), 1, "the latest plan replaces the campaign");
    }

    #[test]
    fn a_plan_with_a_bad_window_unknown_hamlet_or_repeated_holder_is_refused_whole() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut response = fixtures::enroll_response(&store);
        response.user.role = Role::CommunePolice;
        store.save_enrollment("http://127.0.0.1:9/", &response).unwrap();
        let today = vietnam_today();
        let hamlet = |code: &str| Quota { holder: QuotaHolder::Place(code.into()), total: Some(5), per_day: None };
        let plan = CampaignSet {
            campaign_id: Uuid::now_v7(),
            name: "Đợt 1".into(),
            place: "03445".into(),
            starts: today,
            ends: today - Duration::days(1),
            target: Some(0),
            per_official: None,
            quotas: vec![hamlet("03445-01"), hamlet("03445-01"), hamlet("99999-09")],
        };
        let err = store.record(Payload::CampaignSet(plan)).unwrap_err();
        let crate::error::Error::Invalid(errors) = err else { panic!("{err:?}") };
        let codes: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["ends_before_start", "out_of_range", "duplicate"]);
        assert!(store.campaigns().unwrap().is_empty(), "nothing stored");
        // a hamlet outside the campaign's place is the office's and the server's to refuse: a
        // volunteer's phone does not know every hamlet and must still apply the plan
        let plan = CampaignSet {
            campaign_id: Uuid::now_v7(),
            name: "Đợt 1".into(),
            place: "03445".into(),
            starts: today,
            ends: today,
            target: None,
            per_official: None,
            quotas: vec![hamlet("03445-01"), hamlet("99999-09")],
        };
        let view = crate::sql::projection::SqlView::new(store.connection());
        let errors = crate::reducer::campaign_place_errors(&view, &plan).unwrap();
        assert_eq!(errors.iter().map(|e| e.message_en.as_str()).collect::<Vec<_>>().len(), 1);
        assert!(errors[0].message_vi.contains("99999-09"));
    }
}
