// Pure message lookup, independent of the current locale (easy to test).
import { en } from './en';
import { vi, type MessageKey, type Messages } from './vi';

export type { MessageKey, Messages };

/** The languages the app speaks; Vietnamese first. */
export type Locale = 'vi' | 'en';
export const LOCALES: readonly Locale[] = ['vi', 'en'];
export const DEFAULT_LOCALE: Locale = 'vi';

/** Values substituted for `{name}` placeholders. */
export type Params = Record<string, string | number>;

export const catalogs: Record<Locale, Messages> = { vi, en };

/** Fills `{name}` placeholders; unknown placeholders are left as they are. */
export function format(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** The message `key` in `locale`, with placeholders filled. */
export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const template = catalogs[locale][key] ?? catalogs[DEFAULT_LOCALE][key] ?? key;
  return format(template, params);
}

/** Whether a stored value names a known locale. */
export function isLocale(value: unknown): value is Locale {
  return value === 'vi' || value === 'en';
}
