import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { NewResident } from '../bindings/NewResident';
import type { NewVisit } from '../bindings/NewVisit';
import type { ResidentDetail } from '../bindings/ResidentDetail';

/** Adds a person to a household; resolves to their new id. */
export async function addResident(form: NewResident): Promise<string> {
  const id = await call<string>('add_resident', { form });
  emitLocalChange();
  return id;
}

/** One person with their visits (newest first). */
export function getResident(id: string): Promise<ResidentDetail> {
  return call<ResidentDetail>('get_resident', { id });
}

/** Records a visit outcome; resolves to the visit's id. */
export async function recordVisit(form: NewVisit): Promise<string> {
  const id = await call<string>('record_visit', { form });
  emitLocalChange();
  return id;
}
