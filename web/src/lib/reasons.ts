// Labels of the national cannot-activate reason codes; an unknown code shows as itself.
import { isMessageKey, translate, type Locale } from '../i18n/messages';

export function reasonLabel(code: string, locale: Locale): string {
  const key = `reason.${code}`;
  return isMessageKey(key) ? translate(locale, key) : code;
}
