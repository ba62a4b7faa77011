// What to tell people about a failed call: the server's words first, else ours by code/status.
import { ApiError } from '../api/http';
import { isMessageKey, translate, type Locale } from '../i18n/messages';
import { formatWait } from './format';

const BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
  500: 'internal',
  502: 'unavailable',
  503: 'unavailable',
  504: 'unavailable',
};

/** A message for `err`, with the wait appended when the server asks to retry later. */
export function errorMessage(err: unknown, locale: Locale): string {
  if (!(err instanceof ApiError)) return translate(locale, 'err.network');
  let text = err.message;
  if (!text) {
    const code = err.code || BY_STATUS[err.status] || '';
    const key = err.status === 0 ? 'err.network' : `err.${code}`;
    text = isMessageKey(key) ? translate(locale, key) : translate(locale, 'err.unknown', { status: err.status });
  }
  // the wait, unless the server's words already give it
  if (err.status === 429 && err.retryAfter != null && !text.includes(String(err.retryAfter))) {
    text = `${text} ${translate(locale, 'login.wait', { wait: formatWait(err.retryAfter, locale) })}`;
  }
  return text;
}
