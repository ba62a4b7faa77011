// The current locale (reactive, remembered in localStorage) and `t()`.
import { DEFAULT_LOCALE, isLocale, translate, type Locale, type MessageKey, type Params } from './messages';

export type { Locale, MessageKey, Params };

const STORAGE_KEY = 'gocua.dashboard.locale';

function loadLocale(): Locale {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (isLocale(stored)) return stored;
  } catch {
    // Storage can be unavailable; Vietnamese then.
  }
  return DEFAULT_LOCALE;
}

const state = $state<{ current: Locale }>({ current: loadLocale() });

function applyToDocument(locale: Locale): void {
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}
applyToDocument(state.current);

/** The current locale, reactive where read inside components. */
export function getLocale(): Locale {
  return state.current;
}

/** Changes and remembers the locale. */
export function setLocale(locale: Locale): void {
  state.current = locale;
  applyToDocument(locale);
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  } catch {
    // Not remembered; the choice still holds until the page is left.
  }
}

/** Switches between Vietnamese and English. */
export function toggleLocale(): void {
  setLocale(state.current === 'vi' ? 'en' : 'vi');
}

/** The message `key` in the current locale. */
export function t(key: MessageKey, params?: Params): string {
  return translate(state.current, key, params);
}
