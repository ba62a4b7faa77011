// The report asked for, kept in the page's query (?place=…&campaign=…), so links, reloads and the
// browser's Back button work; and where the campaign still applies after moving to another place.
import { askQuery, DEFAULT_ASK, type Ask } from '../api/dashboard';
import type { Place } from '$bindings/Place';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The ask in a query string; unknown or malformed parts are dropped. */
export function readAsk(search: string): Ask {
  const q = new URLSearchParams(search);
  const get = (k: string) => q.get(k) || null;
  const from = get('from');
  const until = get('until');
  const days = from != null && until != null && DAY.test(from) && DAY.test(until);
  return {
    place: get('place'),
    campaign: days ? null : get('campaign'),
    from: days ? from : null,
    until: days ? until : null,
  };
}

/** The page's own address for an ask (for links and history). */
export function askHref(ask: Ask): string {
  return askQuery(ask) || (typeof location === 'undefined' ? '?' : location.pathname);
}

/** Puts the ask in the address bar: a new history entry when `push`, else in place. */
export function writeAsk(ask: Ask, push: boolean): void {
  if (typeof history === 'undefined') return;
  const href = askHref(ask);
  if (push) history.pushState(null, '', href);
  else history.replaceState(null, '', href);
}

/** The current page's ask. */
export function currentAsk(): Ask {
  return typeof location === 'undefined' ? { ...DEFAULT_ASK } : readAsk(location.search);
}

/**
 * The ask for `target` keeping the period: a campaign is kept only when it runs at `target` or
 * above it (`campaignPlace` on the `lineage` from the root down to `target`).
 */
export function askForPlace(ask: Ask, target: string, lineage: Place[], campaignPlace: string | null): Ask {
  let campaign = ask.campaign;
  if (campaign != null) {
    const at = lineage.findIndex((p) => p.code === target);
    const runs = campaignPlace == null ? -1 : lineage.findIndex((p) => p.code === campaignPlace);
    // going down keeps it (target not on the lineage yet); going up needs the campaign above
    if (at >= 0 && (runs < 0 || runs > at)) campaign = null;
  }
  return { ...ask, place: target, campaign };
}
