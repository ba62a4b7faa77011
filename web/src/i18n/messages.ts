// Pure message lookup, independent of the current locale (easy to test).
import { en } from './en';
import { vi, type MessageKey, type Messages } from './vi';

export type { MessageKey, Messages };

/** The languages the dashboard speaks; Vietnamese first. */
export type Locale = 'vi' | 'en';
export const DEFAULT_LOCALE: Locale = 'vi';

/** Values substituted for `{name}` placeholders. */
export type Params = Record<string, string | number>;

const catalogs: Record<Locale, Messages> = { vi, en };

/** Whether `key` is a message key (for keys built from server codes). */
export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(vi, key);
}

/** The message `key` in `locale`, with `{name}` placeholders filled. */
export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const template = catalogs[locale][key] ?? vi[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** Whether a stored value names a known locale. */
export function isLocale(value: unknown): value is Locale {
  return value === 'vi' || value === 'en';
}
