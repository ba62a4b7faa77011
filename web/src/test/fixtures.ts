// Made-up places, people and numbers for the tests, and a fake server behind `fetch`.
import type { Place } from '$bindings/Place';
import type { PlaceLevel } from '$bindings/PlaceLevel';
import type { Tally } from '$bindings/Tally';
import type { UnitRow } from '$bindings/UnitRow';
import { vi } from 'vitest';
import type { WebReport, WebSession } from '../api/types';

export const tally = (over: Partial<Tally> = {}): Tally => ({
  households: 0, households_surveyed: 0, members: 0, smartphone_owners: 0, households_with_computer: 0,
  residents: 0, not_visited: 0, no_chip_cccd: 0, not_registered: 0, registered_pending: 0,
  approved_not_activated: 0, activated_level1: 0, activated_level2: 0, used_portal: 0, confirmed: 0,
  can_activate_later: 0, cannot_activate_yet: 0, by_reason: {}, not_counted: 0, activated_in_range: 0,
  visits_in_range: 0, referred_level2: 0, ...over,
});

export const place = (code: string, name: string, level: PlaceLevel, parent: string | null): Place => ({
  code, name, level, division_type: level === 'commune' ? 'xã' : level === 'hamlet' ? 'bản' : 'tỉnh', parent_code: parent,
});

export const PROVINCE = place('12', 'Tỉnh Lai Châu', 'province', null);
export const COMMUNE = place('03445', 'Xã Mường Tè', 'commune', '12');
export const HAMLET1 = place('03445-01', 'Bản Nậm Củm', 'hamlet', '03445');
export const HAMLET2 = place('03445-02', 'Bản Phìn Khò', 'hamlet', '03445');

const row = (p: Place, t: Partial<Tally>, rate: number | null, rank: number, quota: number | null): UnitRow => ({
  place: p, tally: tally(t), rate, quota, progress: quota ? (t.activated_in_range ?? 0) / quota : null, rank,
});

export const SESSION: WebSession = {
  user: { id: '0190a0c0-0000-7000-8000-000000000001', name: 'Đặng Văn Thử', role: 'commune_police', places: [COMMUNE] },
  csrf: 'csrf-token-123',
  expires_at: '2026-12-07T18:00:00+07:00',
};

export const CAMPAIGN_ID = '0190a0c0-0000-7000-8000-000000000999';

/** The commune's report: two hamlets, a week of days, one volunteer. */
export function communeReport(over: Partial<WebReport> = {}): WebReport {
  return {
    report: {
      range: { from: '2026-12-01', until: '2026-12-07' },
      campaign: null,
      rows: [
        row(HAMLET1, { residents: 1200, activated_level1: 400, activated_level2: 40, activated_in_range: 30 }, 0.457, 1, 60),
        row(HAMLET2, { residents: 10, activated_level2: 1, by_reason: { absent_unreachable: 2 } }, 0.1, 2, 6),
      ],
      total: {
        place: COMMUNE,
        tally: tally({
          residents: 1210, not_counted: 10, activated_level1: 400, activated_level2: 41, used_portal: 9, confirmed: 120,
          activated_in_range: 30, households: 300, households_surveyed: 250, members: 980, smartphone_owners: 700,
          households_with_computer: 35, registered_pending: 12, approved_not_activated: 7, referred_level2: 3, not_visited: 44,
          by_reason: { absent_unreachable: 2, abroad: 5, province_special: 1 },
        }),
        rate: 0.375, quota: 66, progress: 30 / 66, rank: 0,
      },
      days: [
        { day: '2026-12-05', activated: 4, visits: 10 },
        { day: '2026-12-06', activated: 0, visits: 3 },
        { day: '2026-12-07', activated: 12, visits: 25 },
      ],
      people: [
        { user_id: '0190a0c0-0000-7000-8000-00000000000a', name: 'Lò Thị Mẫu', activated: 30, visits: 90, referred: 3, quota: 50, progress: 0.6, rank: 1 },
      ],
      teams: [
        {
          leader: '0190a0c0-0000-7000-8000-00000000000b', name: 'Tổ trưởng Lò Văn An', hamlets: 2,
          tally: tally({ residents: 1210, activated_in_range: 30 }), rate: 0.375, quota: 40, progress: 0.75, rank: 1,
        },
      ],
    },
    lineage: [PROVINCE, COMMUNE],
    campaigns: [[CAMPAIGN_ID, 'Cao điểm 60 ngày']],
    police: false,
    may_export_lists: true,
    ...over,
  };
}

/** A hamlet's report: no rows, the total only. */
export function hamletReport(): WebReport {
  const base = communeReport();
  return {
    ...base,
    report: { ...base.report, rows: [], total: { ...base.report.rows[0], rank: 0 } },
    lineage: [PROVINCE, COMMUNE, HAMLET1],
  };
}

export type Call = { url: string; method: string; headers: Record<string, string>; body: unknown };
type Route = (call: Call) => Response | Promise<Response>;

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

export const problem = (status: number, kind: string, message: string, headers: Record<string, string> = {}) =>
  json(status, { kind, message }, headers);

/** Replaces `fetch` with `routes` keyed by "METHOD path" (path without the query); records calls. */
export function fakeServer(routes: Record<string, Route>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const headers = { ...((init.headers as Record<string, string>) ?? {}) };
    const call: Call = {
      url: input,
      method: init.method ?? 'GET',
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${input.split('?')[0]}`];
    if (!route) return problem(404, 'not_found', `no route ${call.method} ${input}`);
    return route(call);
  });
  return calls;
}
