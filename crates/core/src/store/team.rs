//! The team leader's view ("5 rõ": rõ người, rõ việc, rõ tiến độ, rõ kết quả, rõ trách nhiệm):
//! each volunteer's activations today and in the campaign against the daily quota, and who is
//! behind. Built from the visits the leader's phone pulled; names come from the pull pages.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DeviceStore;
use super::today::day_bounds;
use crate::error::Error;
use crate::sync::protocol::Role;

/// One person's progress.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberProgress {
    /// The user.
    pub user_id: Uuid,
    /// Their name ("" when no pull page named them yet).
    pub name: String,
    /// Their role, when known.
    pub role: Option<Role>,
    /// People they activated today for the first time.
    pub activated_today: u32,
    /// People they activated in the whole campaign.
    pub activated_total: u32,
    /// People they visited today.
    pub visited_today: u32,
    /// People due a return visit whose last deciding visit was theirs.
    pub follow_ups_due: u32,
    /// Activations asked of them today: their quota in the running campaign, else the leader's
    /// daily quota.
    pub quota_today: Option<u32>,
    /// Below today's quota.
    pub behind: bool,
    /// Their claimed activations the police spot-checked (`crate::spotcheck`).
    pub checked: u32,
    /// Of those, confirmed in the national system.
    pub confirmed: u32,
    /// Of those, found wrong or not found: flagged wherever activations are counted.
    pub found_wrong: u32,
}

/// The team's screen.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    /// The leader's date.
    pub date: NaiveDate,
    /// Activations asked of each person today (the leader's daily quota).
    pub quota: Option<u32>,
    /// Everyone, those behind first (fewest activations first), then by name.
    pub members: Vec<MemberProgress>,
    /// The team's activations today.
    pub activated_today: u32,
    /// The team's activations in the campaign.
    pub activated_total: u32,
}

/// The entry of user `id`, made empty on first sight.
fn member<'a>(members: &'a mut BTreeMap<String, MemberProgress>, id: &str) -> Result<&'a mut MemberProgress, Error> {
    let user_id = id.parse().map_err(|_| Error::invalid_input(format!("unreadable author {id}")))?;
    Ok(members.entry(id.to_owned()).or_insert_with(|| MemberProgress {
        user_id,
        name: String::new(),
        role: None,
        activated_today: 0,
        activated_total: 0,
        visited_today: 0,
        follow_ups_due: 0,
        quota_today: None,
        behind: false,
        checked: 0,
        confirmed: 0,
        found_wrong: 0,
    }))
}

impl DeviceStore {
    /// The team's progress on `date` (the phone's calendar day, `utc_offset_minutes` east of
    /// UTC): everyone who recorded visits in this phone's scope, and everyone named by a pull.
    pub fn team(&self, date: NaiveDate, utc_offset_minutes: i32) -> Result<TeamView, Error> {
        let me = self.require_enrollment()?;
        let (start, end) = day_bounds(date, utc_offset_minutes);
        let quota = self.daily_quota()?;
        let mut members: BTreeMap<String, MemberProgress> = BTreeMap::new();
        member(&mut members, &me.user_id.to_string())?;
        let firsts = crate::sql::first_activations();
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT author, count(*), sum(at >= ?1 AND at < ?2) FROM ({firsts}) GROUP BY author"))?;
        for row in stmt.query_map(params![start, end], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))? {
            let (author, total, today): (String, u32, u32) = row?;
            let m = member(&mut members, &author)?;
            (m.activated_total, m.activated_today) = (total, today);
        }
        let mut stmt = self.conn.prepare(
            "SELECT author, count(DISTINCT resident_id) FROM visits
             WHERE device_time >= ?1 AND device_time < ?2 GROUP BY author",
        )?;
        for row in stmt.query_map(params![start, end], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
            let (author, n): (String, u32) = row?;
            member(&mut members, &author)?.visited_today = n;
        }
        let mut stmt = self.conn.prepare(
            "SELECT v.author, count(*) FROM residents r JOIN households h ON h.id = r.household_id
             JOIN visits v ON v.id = r.deciding_visit
             WHERE h.removed IS NULL AND r.removed IS NULL AND r.follow_up IS NOT NULL AND r.follow_up <= ?1
             GROUP BY v.author",
        )?;
        for row in stmt.query_map([date.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
            let (author, n): (String, u32) = row?;
            member(&mut members, &author)?.follow_ups_due = n;
        }
        // spot-checks of each person's claims, while the checked visit still decides
        let mut stmt = self.conn.prepare(
            "SELECT v.author, count(*), sum(r.claim_check = 'confirmed') FROM residents r
             JOIN visits v ON v.id = r.deciding_visit
             WHERE r.claim_check IS NOT NULL AND r.checked_visit = r.deciding_visit AND r.removed IS NULL
             GROUP BY v.author",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?, r.get::<_, u32>(2)?)))? {
            let (author, checked, confirmed): (String, u32, u32) = row?;
            let m = member(&mut members, &author)?;
            (m.checked, m.confirmed, m.found_wrong) = (checked, confirmed, checked - confirmed);
        }
        let mut stmt = self.conn.prepare("SELECT id, name, role FROM people")?;
        let people =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        for row in people {
            let (id, name, role) = row?;
            let role = Role::from_code(&role);
            if matches!(role, Some(Role::Volunteer | Role::TeamLeader)) || members.contains_key(&id) {
                let m = member(&mut members, &id)?;
                (m.name, m.role) = (name, role);
            }
        }
        if let Some(m) = members.get_mut(&me.user_id.to_string()) {
            (m.name, m.role) = (me.user_name.clone(), Some(me.role));
        }
        // the office's quota for a person, in the campaign running today, comes before the leader's
        let given: BTreeMap<Uuid, u32> = self
            .current_campaign(date)?
            .filter(|c| c.starts <= date && date <= c.ends)
            .map(|c| {
                c.quotas
                    .into_iter()
                    .filter_map(|q| match q.holder {
                        crate::event::QuotaHolder::User(id) => q.per_day.map(|n| (id, n)),
                        crate::event::QuotaHolder::Place(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut members: Vec<MemberProgress> = members.into_values().collect();
        for m in &mut members {
            m.quota_today = given.get(&m.user_id).copied().or(quota);
            m.behind = m.quota_today.is_some_and(|q| m.activated_today < q);
        }
        members.sort_by(|a, b| (!a.behind, a.activated_today, &a.name).cmp(&(!b.behind, b.activated_today, &b.name)));
        Ok(TeamView {
            date,
            quota,
            activated_today: members.iter().map(|m| m.activated_today).sum(),
            activated_total: members.iter().map(|m| m.activated_total).sum(),
            members,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Payload, VisitRecorded};
    use crate::fixtures::{self, Rng};
    use crate::funnel::FunnelState;
    use crate::store::today::VIETNAM_UTC_OFFSET_MINUTES;
    use crate::sync::protocol::{PullResponse, PulledEvent, UserInfo};

    /// Another volunteer's phone: a household of `n` people, the first `activated` of them
    /// activated at `time`.
    fn their_day(rng: &mut Rng, author: Uuid, n: usize, activated: usize, time: &str) -> Vec<Event> {
        let device = Uuid::now_v7();
        let (_, residents, mut payloads) = fixtures::household_payloads(rng, "03445-01", n);
        for (i, resident_id) in residents.into_iter().enumerate() {
            let status = if i < activated { FunnelState::ActivatedLevel1 } else { FunnelState::NotRegistered };
            payloads.push(Payload::VisitRecorded(VisitRecorded {
                steps: Vec::new(),
                visit_id: Uuid::now_v7(),
                resident_id,
                status,
                reason_code: (i >= activated).then(|| "refused".into()),
                action: None,
                follow_up: None,
                note: None,
                position: None,
            }));
        }
        payloads
            .into_iter()
            .zip(1..)
            .map(|(p, seq)| Event { device_time: time.parse().unwrap(), ..fixtures::event(device, author, seq, p) })
            .collect()
    }

    #[test]
    fn the_leader_sees_each_volunteer_against_the_quota_and_who_is_behind() {
        let mut store = DeviceStore::open_in_memory().unwrap();
        let mut enrollment = fixtures::enroll_response(&store);
        enrollment.user = UserInfo { name: "Tổ trưởng Hà".into(), role: Role::TeamLeader, ..enrollment.user };
        store.save_enrollment("http://127.0.0.1:9", &enrollment).unwrap();
        let (lan, mo) = (Uuid::now_v7(), Uuid::now_v7());
        let mut rng = Rng::new(11);
        let mut events = their_day(&mut rng, lan, 3, 2, "2026-11-22T03:00:00Z");
        events.extend(their_day(&mut rng, mo, 2, 1, "2026-11-20T03:00:00Z"));
        let page = PullResponse {
            events: events.into_iter().zip(1..).map(|(event, server_seq)| PulledEvent { server_seq, event }).collect(),
            cursor: 99,
            epoch: "db".into(),
            people: vec![
                UserInfo { id: lan, name: "Lò Thị Lan".into(), role: Role::Volunteer },
                UserInfo { id: mo, name: "Mùa A Mỏ".into(), role: Role::Volunteer },
            ],
            ..PullResponse::default()
        };
        store.apply_pull_page(&page).unwrap();
        store.set_daily_quota(Some(2)).unwrap();
        let view = store.team("2026-11-22".parse().unwrap(), VIETNAM_UTC_OFFSET_MINUTES).unwrap();
        let row = |name: &str| view.members.iter().find(|m| m.name == name).unwrap().clone();
        let (l, m) = (row("Lò Thị Lan"), row("Mùa A Mỏ"));
        assert_eq!((l.activated_today, l.activated_total, l.visited_today, l.behind), (2, 2, 3, false));
        assert_eq!((m.activated_today, m.activated_total, m.visited_today, m.behind), (0, 1, 0, true));
        assert_eq!((view.activated_today, view.activated_total, view.members.len()), (2, 3, 3));
        assert!(
            view.members[0].behind && view.members.last().unwrap().name == "Lò Thị Lan",
            "who is behind comes first"
        );
        assert!(view.members.iter().any(|p| p.name == "Tổ trưởng Hà"), "the leader counts too");
        assert_eq!((l.quota_today, m.quota_today), (Some(2), Some(2)));

        // the office's campaign asks Lan for 3 a day: she is behind now, Mỏ keeps the leader's 2
        let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
        let plan = crate::event::CampaignSet {
            campaign_id: Uuid::now_v7(),
            name: "Cao điểm".into(),
            place: "03445".into(),
            starts: day("2026-11-20"),
            ends: day("2026-12-20"),
            target: None,
            per_official: Some(10),
            quotas: vec![crate::event::Quota {
                holder: crate::event::QuotaHolder::User(lan),
                total: None,
                per_day: Some(3),
            }],
        };
        let event = fixtures::event(Uuid::now_v7(), Uuid::now_v7(), 1, Payload::CampaignSet(plan));
        let page = PullResponse {
            events: vec![PulledEvent { server_seq: 100, event }],
            cursor: 100,
            epoch: "db".into(),
            ..PullResponse::default()
        };
        store.apply_pull_page(&page).unwrap();
        let view = store.team(day("2026-11-22"), VIETNAM_UTC_OFFSET_MINUTES).unwrap();
        let (l, m) = (row_of(&view, "Lò Thị Lan"), row_of(&view, "Mùa A Mỏ"));
        assert_eq!((l.quota_today, l.behind), (Some(3), true), "the campaign's quota for her");
        assert_eq!((m.quota_today, m.behind), (Some(2), true), "the leader's for him");
        let outside = store.team(day("2026-12-21"), VIETNAM_UTC_OFFSET_MINUTES).unwrap();
        assert_eq!(row_of(&outside, "Lò Thị Lan").quota_today, Some(2), "after the campaign, the leader's again");
    }

    fn row_of(view: &TeamView, name: &str) -> MemberProgress {
        view.members.iter().find(|m| m.name == name).unwrap().clone()
    }
}
