// The office's spot-check: draw a sample of claimed activations, record what the national
// system showed for each (offline; synced as events).
import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { CheckOutcome } from '../bindings/CheckOutcome';
import type { GeoPosition } from '../bindings/GeoPosition';
import type { SpotCheckView } from '../bindings/SpotCheckView';

/** The share drawn of each volunteer's claims unless the officer says otherwise. */
export const DEFAULT_PERCENT = 10;

/** The outcomes, in the order the screen offers them. */
export const OUTCOMES: readonly CheckOutcome[] = ['confirmed', 'not_found', 'wrong'];

/** The latest sample, or null before the first draw. */
export function currentSample(): Promise<SpotCheckView | null> {
  return call<SpotCheckView | null>('spot_check_current');
}

/** Draws a new sample of `percent` of each volunteer's claims. */
export function drawSample(percent: number): Promise<SpotCheckView | null> {
  return call<SpotCheckView | null>('spot_check_draw', { percent });
}

/** Records what the check of one claim found. */
export async function recordFinding(residentId: string, visitId: string, outcome: CheckOutcome): Promise<SpotCheckView | null> {
  const view = await call<SpotCheckView | null>('spot_check_record', { residentId, visitId, outcome });
  emitLocalChange();
  return view;
}

/** "67 %" of checked claims confirmed, or null before any is checked. */
export function confirmedPercent(confirmed: number, checked: number): number | null {
  return checked > 0 ? Math.round((confirmed / checked) * 100) : null;
}

/** Millionths of a degree as decimal degrees with six places, exactly: 21028500 → "21.028500". */
export function degrees(e6: number): string {
  const abs = Math.abs(e6);
  return `${e6 < 0 ? '-' : ''}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}

/** A visit's position as the spot-check shows it: the numbers, and a `geo:` link for a map app. */
export function positionLink(p: GeoPosition): { lat: string; lon: string; m: number; href: string } {
  const lat = degrees(p.lat_e6);
  const lon = degrees(p.lon_e6);
  return { lat, lon, m: p.accuracy_m, href: `geo:${lat},${lon}` };
}
