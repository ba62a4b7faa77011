// The office's spot-check: draw a sample of claimed activations, record what the national
// system showed for each (offline; synced as events).
import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { CheckOutcome } from '../bindings/CheckOutcome';
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
