// Reports for team leaders and the office: a place's summary for a campaign or days, unit by
// unit, and its exports (the appendix, the named lists) through the system's save dialog.
import { call, callWithProgress } from '../ipc';
import { todayIso } from '../lib/format';
import type { ExportDone } from '../bindings/ExportDone';
import type { ExportProgress } from '../bindings/ExportProgress';
import type { ReportScreen } from '../bindings/ReportScreen';
import type { Role } from '../bindings/Role';

/** What the screen asks: a place (default: the device's), a campaign, or days. */
export interface ReportQuery {
  place?: string | null;
  campaign?: string | null;
  from?: string | null;
  until?: string | null;
}

/** The named lists, by code, in the order the screen offers them. */
export const LISTS = ['activated', 'absent', 'not-eligible', 'cannot-activate', 'everyone'] as const;
export type ListCode = (typeof LISTS)[number];

/** Whether `role` sees reports: team leaders and the police. */
export function mayReport(role: Role): boolean {
  return role === 'team_leader' || role === 'commune_police' || role === 'province_police';
}

function ask(q: ReportQuery, now: Date) {
  return { place: q.place ?? null, campaign: q.campaign ?? null, from: q.from ?? null, until: q.until ?? null, today: todayIso(now) };
}

/** The report `q` asks for. */
export function reportView(q: ReportQuery, now: Date = new Date()): Promise<ReportScreen> {
  return call<ReportScreen>('report_view', { ask: ask(q, now) });
}

/** Exports the appendix or a list to a file picked in the save dialog; null when none was picked. */
export function exportReport(
  q: ReportQuery,
  what: 'appendix' | ListCode,
  format: 'xlsx' | 'csv',
  onProgress?: (p: ExportProgress) => void,
  now: Date = new Date(),
): Promise<ExportDone | null> {
  return callWithProgress<ExportDone | null, ExportProgress>('report_export', { ask: { report: ask(q, now), what, format } }, onProgress);
}

/** A rate (0.4) as "40,0 %" (Vietnamese) or "40.0%"; "—" when there is none. */
export function percent(rate: number | null | undefined, locale: 'vi' | 'en'): string {
  if (rate == null || !Number.isFinite(rate)) return '—';
  const n = (rate * 100).toFixed(1);
  return locale === 'vi' ? `${n.replace('.', ',')} %` : `${n}%`;
}
