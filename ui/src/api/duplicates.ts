// The office's possible duplicates: pairs of records that may be one person, merged (an event
// every device applies after syncing) or marked as two people.
import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { DuplicatePair } from '../bindings/DuplicatePair';

/** The pairs, same CCCD first. */
export function duplicatePairs(): Promise<DuplicatePair[]> {
  return call<DuplicatePair[]>('duplicate_pairs');
}

/** Merges `merged` into `kept`; the pairs left. */
export async function mergeResidents(kept: string, merged: string): Promise<DuplicatePair[]> {
  const pairs = await call<DuplicatePair[]>('merge_residents', { kept, merged });
  emitLocalChange();
  return pairs;
}

/** Marks the two as different people; the pairs left. */
export function markNotDuplicates(one: string, other: string): Promise<DuplicatePair[]> {
  return call<DuplicatePair[]>('mark_not_duplicates', { one, other });
}
