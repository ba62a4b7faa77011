import { describe, expect, it } from 'vitest';
import type { Reason } from '../bindings/Reason';
import { reasonsFor, WITHHELD_REASON } from './catalog.svelte';

const reason = (code: string, police_only = false): Reason => ({
  code,
  label_vi: code,
  label_en: code,
  can_activate_later: false,
  police_only,
  requires_note: false,
  province_code: null,
  sort_order: 1,
});

const ALL = [reason('abroad'), reason('in_prison', true), reason(WITHHELD_REASON)];

describe('reasonsFor', () => {
  it('offers police-only reasons to police roles only', () => {
    expect(reasonsFor(ALL, 'volunteer').map((r) => r.code)).toEqual(['abroad']);
    expect(reasonsFor(ALL, 'team_leader').map((r) => r.code)).toEqual(['abroad']);
    expect(reasonsFor(ALL, 'commune_police').map((r) => r.code)).toEqual(['abroad', 'in_prison']);
  });

  it('never offers the withheld marker, to anyone', () => {
    for (const role of ['volunteer', 'province_police', null] as const) {
      expect(reasonsFor(ALL, role).map((r) => r.code)).not.toContain(WITHHELD_REASON);
    }
  });
});
