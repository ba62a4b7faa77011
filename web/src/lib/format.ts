// Number, rate and date formatting, explicit about the locale (vi: "45,7 %", en: "45.7%").
import { translate, type Locale } from '../i18n/messages';

/** A rate (0.457) as a percentage with one decimal; "—" when there is none. */
export function percent(rate: number | null | undefined, locale: Locale): string {
  if (rate == null || !Number.isFinite(rate)) return '—';
  const n = (rate * 100).toFixed(1);
  return locale === 'vi' ? `${n.replace('.', ',')} %` : `${n}%`;
}

/** A whole count with thousands grouped: "12.345" in vi, "12,345" in en. */
export function count(n: number | null | undefined, locale: Locale): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.trunc(Math.abs(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, locale === 'vi' ? '.' : ',');
  return sign + grouped;
}

/** A bar's width for a rate, clamped to 0–100 %: "45.7%" (CSS, not shown as text). */
export function barWidth(rate: number | null | undefined): string {
  const r = rate == null || !Number.isFinite(rate) ? 0 : rate;
  return `${Math.min(100, Math.max(0, r * 100)).toFixed(1)}%`;
}

/** "2026-12-07" → "07/12/2026"; anything else is returned unchanged. */
export function formatDate(ymd: string | null | undefined): string {
  if (!ymd) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : ymd;
}

/** A wait in seconds, in words: "45 giây", "5 phút", "2 phút 30 giây". */
export function formatWait(seconds: number, locale: Locale): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return translate(locale, 'time.seconds', { n: s });
  const m = Math.floor(s / 60);
  const rest = s % 60;
  return rest === 0
    ? translate(locale, 'time.minutes', { n: m })
    : translate(locale, 'time.minutes_seconds', { m, s: rest });
}

/** A local day as "YYYY-MM-DD". */
export function isoDay(d: Date): string {
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
