// The records the server rejected ("Bản ghi bị từ chối"): listed with the server's reasons, then
// corrected and sent again, sent again unchanged, or given up. Each action answers the list as it
// is then, and tells the sync bar (its count drops, the new record waits to be sent).
import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { RejectedRecord } from '../bindings/RejectedRecord';

export type { RejectedRecord };

/** The kinds of record the screen has a form for; the others are sent again unchanged or given up. */
export const CORRECTABLE: readonly string[] = ['household_created.v1', 'resident_added.v1', 'visit_recorded.v1'];

/** The records the server rejected that wait for the volunteer, oldest first. */
export function listRejected(): Promise<RejectedRecord[]> {
  return call<RejectedRecord[]>('list_rejected');
}

/** What a correction sends: the rejected record as it was (its kind and ids), with the form's
 *  values put over it. */
export function correctedPayload(record: RejectedRecord, form: object): Record<string, unknown> {
  return { ...record.payload, ...form, type: record.payload.type };
}

/** Sends a rejected record again, corrected (`payload` from `correctedPayload`). */
export async function resendRejected(eventId: string, payload: Record<string, unknown>): Promise<RejectedRecord[]> {
  const list = await call<RejectedRecord[]>('resend_rejected', { eventId, payload });
  emitLocalChange();
  return list;
}

/** Sends a rejected record again as it was (its household or person has been sent again since). */
export async function resendUnchanged(eventId: string): Promise<RejectedRecord[]> {
  const list = await call<RejectedRecord[]>('resend_unchanged', { eventId });
  emitLocalChange();
  return list;
}

/** Gives a rejected record up: nothing is sent, it leaves the list. */
export async function discardRejected(eventId: string): Promise<RejectedRecord[]> {
  const list = await call<RejectedRecord[]>('discard_rejected', { eventId });
  emitLocalChange();
  return list;
}
