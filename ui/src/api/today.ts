import { call } from '../ipc';
import { todayIso } from '../lib/format';
import type { TeamView } from '../bindings/TeamView';
import type { TodayView } from '../bindings/TodayView';

/** The day's screen for the phone's own calendar day. */
export function getToday(now: Date = new Date()): Promise<TodayView> {
  // getTimezoneOffset counts minutes west of UTC; the backend wants east (Vietnam: 420)
  return call<TodayView>('get_today', { date: todayIso(now), utcOffsetMinutes: -now.getTimezoneOffset() });
}

/** Sets the day's quota the team leader gave, or clears it with `null`. */
export async function setDailyQuota(quota: number | null): Promise<void> {
  await call<null>('set_daily_quota', { quota });
}

/** The team's progress on the phone's own calendar day, those behind first. */
export function getTeam(now: Date = new Date()): Promise<TeamView> {
  return call<TeamView>('get_team', { date: todayIso(now), utcOffsetMinutes: -now.getTimezoneOffset() });
}
