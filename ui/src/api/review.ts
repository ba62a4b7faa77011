// The review queue: records two edits flagged, settled by the police or a team leader (an event).
import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { ReviewItem } from '../bindings/ReviewItem';

/** The flagged records, by hamlet and name. */
export function reviewQueue(): Promise<ReviewItem[]> {
  return call<ReviewItem[]>('review_queue');
}

/** Settles one record as seen at `baseVersion`; the queue left. */
export async function resolveReview(recordId: string, baseVersion: number, resolution: 'kept' | 'corrected'): Promise<ReviewItem[]> {
  const queue = await call<ReviewItem[]>('resolve_review', { recordId, baseVersion, resolution });
  emitLocalChange();
  return queue;
}
