// Figures derived from a unit's tally, as the appendix computes them.
import type { Tally } from '$bindings/Tally';

/** Activated accounts: level 1, level 2 and those who also used the portal. */
export function activated(t: Tally): number {
  return t.activated_level1 + t.activated_level2 + t.used_portal;
}

/** People the rate is counted on: residents less those out of the eligible count. */
export function eligible(t: Tally): number {
  return Math.max(0, t.residents - t.not_counted);
}

/** The cannot-activate reasons with a count, most first (ties by code). */
export function reasonCounts(t: Tally): { code: string; n: number }[] {
  return Object.entries(t.by_reason)
    .filter(([, n]) => n > 0)
    .map(([code, n]) => ({ code, n }))
    .sort((a, b) => b.n - a.n || a.code.localeCompare(b.code));
}
