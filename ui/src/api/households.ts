import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import { todayIso } from '../lib/format';
import { isFunnelState } from '../lib/funnel';
import type { HouseholdDetail } from '../bindings/HouseholdDetail';
import type { HouseholdQuery } from '../bindings/HouseholdQuery';
import type { HouseholdSummary } from '../bindings/HouseholdSummary';
import type { HouseholdSurveyed } from '../bindings/HouseholdSurveyed';
import type { NewHousehold } from '../bindings/NewHousehold';
import type { StatusFilter } from '../bindings/StatusFilter';

/**
 * The value of the status filter select: "" (all), "unvisited", "follow_up_due", "done",
 * "cannot_activate" or a FunnelState code.
 */
export type StatusChoice = string;

/** Turns the status select's value into the backend's filter (`null` for all). */
export function statusFilterFrom(choice: StatusChoice): StatusFilter | null {
  if (choice === 'unvisited') return { kind: 'unvisited' };
  if (choice === 'cannot_activate') return { kind: 'cannot_activate' };
  if (choice === 'follow_up_due') return { kind: 'follow_up_due' };
  if (choice === 'done') return { kind: 'done' };
  if (isFunnelState(choice)) return { kind: 'state', state: choice };
  return null;
}

/** What the home screen filters by. */
export interface HouseholdSearch {
  text?: string;
  hamlet?: string;
  status?: StatusChoice;
  limit?: number | null;
  /** Households to skip: the next page as the volunteer scrolls. */
  offset?: number | null;
}

/** Builds the exact query the backend expects, with nulls for unused parts. */
export function buildQuery(search: HouseholdSearch = {}, now: Date = new Date()): HouseholdQuery {
  return {
    text: (search.text ?? '').trim(),
    hamlet_code: search.hamlet ? search.hamlet : null,
    status: statusFilterFrom(search.status ?? ''),
    limit: search.limit ?? null,
    offset: search.offset ?? null,
    // the phone's own calendar day decides which follow-ups are due
    today: todayIso(now),
  };
}

/** Households of my hamlets (diacritic-insensitive search happens in the backend). */
export function searchHouseholds(search: HouseholdSearch = {}): Promise<HouseholdSummary[]> {
  return call<HouseholdSummary[]>('search_households', { query: buildQuery(search) });
}

/** One household with its residents. */
export function getHousehold(id: string): Promise<HouseholdDetail> {
  return call<HouseholdDetail>('get_household', { id });
}

/** Creates a household; resolves to its new id. */
export async function createHousehold(form: NewHousehold): Promise<string> {
  const id = await call<string>('create_household', { form });
  emitLocalChange();
  return id;
}

/** Records the household survey. */
export async function surveyHousehold(survey: HouseholdSurveyed): Promise<void> {
  await call<null>('survey_household', { survey });
  emitLocalChange();
}
