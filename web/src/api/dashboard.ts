// The dashboard's endpoints: sign-in and out, the session, the report and the download links.
import { API_BASE, call } from './http';
import type { WebReport, WebSession } from './types';

/** What a report is asked for; null = the server's default (see `report`). */
export type Ask = {
  place: string | null;
  campaign: string | null;
  from: string | null;
  until: string | null;
};

export const DEFAULT_ASK: Ask = { place: null, campaign: null, from: null, until: null };

/** The named lists, as the server spells them in `/lists/<kind>.<format>`. */
export const LIST_KINDS = ['activated', 'absent', 'not-eligible', 'cannot-activate', 'everyone'] as const;
export type ListKind = (typeof LIST_KINDS)[number];
export const LIST_FORMATS = ['xlsx', 'csv'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

/** `?place=…&campaign=…` with only the parts that are set ('' when none). */
export function askQuery(ask: Partial<Ask>): string {
  const q = new URLSearchParams();
  for (const key of ['place', 'campaign', 'from', 'until'] as const) {
    const v = ask[key];
    if (v) q.set(key, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Signs in; the password goes to the server only and is not kept. */
export function login(userName: string, password: string): Promise<WebSession> {
  return call<WebSession>('login', { method: 'POST', body: { user_name: userName, password } });
}

/** Ends the session (the CSRF token proves the page asks it). */
export async function logout(csrf: string): Promise<void> {
  await call<null>('logout', { method: 'POST', csrf });
}

/** The current session; a 401 when not signed in or expired. */
export function session(): Promise<WebSession> {
  return call<WebSession>('session');
}

/** A place's report; no place = the user's first, no campaign nor days = the running campaign. */
export function report(ask: Ask): Promise<WebReport> {
  return call<WebReport>(`report${askQuery(ask)}`);
}

/** The statistics appendix of a place and period, as a download link. */
export function appendixUrl(ask: Ask): string {
  return `${API_BASE}appendix.xlsx${askQuery(ask)}`;
}

/** A named list of a place, as a download link. */
export function listUrl(kind: ListKind, format: ListFormat, place: string): string {
  return `${API_BASE}lists/${kind}.${format}${askQuery({ place })}`;
}
