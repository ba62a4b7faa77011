import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { DuplicateHint } from '../bindings/DuplicateHint';
import type { NewResident } from '../bindings/NewResident';
import type { NewVisit } from '../bindings/NewVisit';
import type { ResidentDetail } from '../bindings/ResidentDetail';

/** Adds a person to a household; resolves to their new id. */
export async function addResident(form: NewResident): Promise<string> {
  const id = await call<string>('add_resident', { form });
  emitLocalChange();
  return id;
}

/** People held who may be the one being added: the same CCCD anywhere, or the same name and
 *  birth year in the household's hamlet. A warning, never a refusal. */
export function findDuplicates(form: NewResident): Promise<DuplicateHint[]> {
  return call<DuplicateHint[]>('find_duplicates', {
    householdId: form.household_id,
    fullName: form.full_name,
    birthYear: form.birth_year,
    cccd: form.cccd,
  });
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
