// Which places of a lineage the user may open: their own places and everything below them.
import type { Place } from '$bindings/Place';

/** Whether `lineage[index]` is one of `mine` or below one of them (the lineage runs root first). */
export function inScope(lineage: Place[], index: number, mine: Place[]): boolean {
  const codes = new Set(mine.map((p) => p.code));
  return lineage.slice(0, index + 1).some((p) => codes.has(p.code));
}
