import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { DuplicateHint } from '../bindings/DuplicateHint';
import type { GeoPosition } from '../bindings/GeoPosition';
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

/** How long the phone is given to say where it is, and how old a position it may reuse. */
export const POSITION_TIMEOUT_MS = 8_000;
export const POSITION_MAX_AGE_MS = 2 * 60_000;

const POSITION_CHOICE_KEY = 'gocua.visit.position';

/** Whether the volunteer chose, on this phone, to record where visits happen (off unless chosen). */
export function positionChosen(): boolean {
  try {
    return globalThis.localStorage?.getItem(POSITION_CHOICE_KEY) === '1';
  } catch {
    return false;
  }
}

/** Remembers that choice on this phone. */
export function choosePosition(on: boolean): void {
  try {
    globalThis.localStorage?.setItem(POSITION_CHOICE_KEY, on ? '1' : '0');
  } catch {
    // not remembered: the choice still holds while the form is open
  }
}

/** A browser position as a visit carries it (millionths of a degree, whole metres), or null when
 *  it is off the globe or vaguer than 100 km (the server would refuse it). */
export function toGeoPosition(coords: { latitude: number; longitude: number; accuracy: number }): GeoPosition | null {
  const lat_e6 = Math.round(coords.latitude * 1e6);
  const lon_e6 = Math.round(coords.longitude * 1e6);
  const accuracy_m = Math.max(1, Math.ceil(coords.accuracy));
  const ok =
    Number.isFinite(lat_e6) && Math.abs(lat_e6) <= 90_000_000 &&
    Number.isFinite(lon_e6) && Math.abs(lon_e6) <= 180_000_000 &&
    Number.isFinite(accuracy_m) && accuracy_m <= 100_000;
  return ok ? { lat_e6, lon_e6, accuracy_m } : null;
}

/** Where the phone is now, or null when it cannot say (no location service, permission denied,
 *  no fix within POSITION_TIMEOUT_MS). Never rejects, and ends even if the browser never answers. */
export function readPosition(): Promise<GeoPosition | null> {
  return new Promise((resolve) => {
    const geo = globalThis.navigator?.geolocation;
    if (!geo) {
      resolve(null);
      return;
    }
    let guard: ReturnType<typeof setTimeout> | undefined;
    const finish = (position: GeoPosition | null) => {
      clearTimeout(guard);
      resolve(position);
    };
    // some webviews ignore the timeout option: give up a little after it anyway
    guard = setTimeout(() => finish(null), POSITION_TIMEOUT_MS + 1_000);
    try {
      geo.getCurrentPosition(
        (p) => finish(toGeoPosition(p.coords)),
        () => finish(null),
        { enableHighAccuracy: true, timeout: POSITION_TIMEOUT_MS, maximumAge: POSITION_MAX_AGE_MS },
      );
    } catch {
      finish(null);
    }
  });
}
