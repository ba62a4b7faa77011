// Formatting helpers: CCCD masking, dates and the last-sync time. Pure and locale-explicit.
import { translate, type Locale } from '../i18n/messages';

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Masks a CCCD number except its last 4 digits: "001090000123" → "********0123". */
export function maskCccd(cccd: string | null | undefined): string {
  if (!cccd) return '';
  const digits = cccd.replace(/\s+/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return '*'.repeat(digits.length - 4) + digits.slice(-4);
}

/** "HH:mm dd/MM" in local time; the year is added when it is not `now`'s year. */
export function formatClock(date: Date, now: Date = new Date()): string {
  const base = `${pad2(date.getHours())}:${pad2(date.getMinutes())} ${pad2(date.getDate())}/${pad2(date.getMonth() + 1)}`;
  return date.getFullYear() === now.getFullYear() ? base : `${base}/${date.getFullYear()}`;
}

/** "vừa xong" under a minute, "N phút trước" under an hour, otherwise null. */
export function formatRelative(date: Date, now: Date, locale: Locale): string | null {
  const seconds = (now.getTime() - date.getTime()) / 1000;
  if (seconds < 60) return translate(locale, 'sync.just_now');
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return translate(locale, 'sync.minutes_ago', { n: minutes });
  return null;
}

/**
 * The last successful sync, for the sync bar: absolute "HH:mm dd/MM", followed by a relative
 * hint within the last hour ("14:05 22/11 (3 phút trước)"). Null when never synced.
 */
export function formatLastSync(iso: string | null | undefined, now: Date, locale: Locale): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const absolute = formatClock(date, now);
  const relative = formatRelative(date, now, locale);
  return relative ? `${absolute} (${relative})` : absolute;
}

/** "2025-11-22" → "22/11/2025"; anything else is returned unchanged. */
export function formatDate(ymd: string | null | undefined): string {
  if (!ymd) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : ymd;
}

/** An RFC 3339 time as "HH:mm dd/MM/yyyy" in local time. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())} ${pad2(d.getDate())}/${pad2(d.getMonth() + 1)}/${d.getFullYear()}`;
}

/** Today's local date as "YYYY-MM-DD" (for a date input's `min`). */
export function todayIso(now: Date = new Date()): string {
  return `${now.getFullYear()}-${pad2(now.getMonth() + 1)}-${pad2(now.getDate())}`;
}

/** A typed enrollment code in its canonical shape: upper case, "XXXX-XXXX" when 8 characters. */
export function normalizeCode(input: string): string {
  const compact = input.replace(/[^0-9a-z]/gi, '').toUpperCase();
  return compact.length === 8 ? `${compact.slice(0, 4)}-${compact.slice(4)}` : input.trim().toUpperCase();
}

/** "12" → 12; "", "1.5", "-3", "abc" → null. */
export function parseWhole(input: string | number | null | undefined): number | null {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : null;
  const s = (input ?? '').trim();
  return /^\d{1,9}$/.test(s) ? Number(s) : null;
}
