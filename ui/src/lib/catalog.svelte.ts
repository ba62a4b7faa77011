// Data every screen needs and that rarely changes: my hamlets and the cannot-activate reasons.
import { listHamlets, listReasons } from '../api/app';
import type { Place } from '../bindings/Place';
import type { Reason } from '../bindings/Reason';
import type { Role } from '../bindings/Role';
import type { FunnelState } from '../bindings/FunnelState';
import { pick } from '../i18n/index.svelte';
import { isActivated } from './funnel';

export const catalog = $state<{ hamlets: Place[]; reasons: Reason[]; loaded: boolean }>({
  hamlets: [],
  reasons: [],
  loaded: false,
});

/** Loads (or reloads) hamlets and reasons; failures leave the previous lists. */
export async function loadCatalog(): Promise<void> {
  const [hamlets, reasons] = await Promise.allSettled([listHamlets(), listReasons()]);
  if (hamlets.status === 'fulfilled') catalog.hamlets = hamlets.value;
  if (reasons.status === 'fulfilled') {
    catalog.reasons = [...reasons.value].sort((a, b) => a.sort_order - b.sort_order);
  }
  catalog.loaded = true;
}

/** A hamlet's name, or its code when unknown. */
export function hamletName(code: string): string {
  return catalog.hamlets.find((p) => p.code === code)?.name ?? code;
}

/** A reason's label in the current locale, or its code when unknown. */
export function reasonLabel(code: string | null | undefined): string {
  if (!code) return '';
  const r = catalog.reasons.find((x) => x.code === code);
  return r ? pick(r.label_vi, r.label_en) : code;
}

const POLICE: readonly Role[] = ['commune_police', 'province_police'];

/** What a non-police phone shows in place of a police-only reason: shown, never chosen. */
export const WITHHELD_REASON = 'withheld';

/** The reasons this user may choose: police-only reasons only for police roles, never the
 *  withheld marker. */
export function reasonsFor(reasons: readonly Reason[], role: Role | null | undefined): Reason[] {
  const police = role != null && POLICE.includes(role);
  return reasons.filter((r) => r.code !== WITHHELD_REASON && (police || !r.police_only));
}

/** Whether a status takes a cannot-activate reason. */
export function takesReason(status: FunnelState | '' | null | undefined): boolean {
  return !status || !isActivated(status);
}
