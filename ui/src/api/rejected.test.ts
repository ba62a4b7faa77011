// The rejected records' commands: names, camelCase arguments, the corrected payload keeping the
// rejected record's kind and ids, and the sync bar told after each action.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const call = vi.fn();
vi.mock('../ipc', () => ({ call: (...args: unknown[]) => call(...args) }));

const rejected = await import('./rejected');
const { onLocalChange } = await import('../lib/changes');

beforeEach(() => {
  call.mockReset();
  call.mockResolvedValue([]);
});

describe('rejected records commands', () => {
  it('name the event in camelCase and tell the sync bar', async () => {
    const told = vi.fn();
    const off = onLocalChange(told);
    await rejected.listRejected();
    expect(call).toHaveBeenLastCalledWith('list_rejected');
    await rejected.resendUnchanged('e1');
    expect(call).toHaveBeenLastCalledWith('resend_unchanged', { eventId: 'e1' });
    await rejected.discardRejected('e2');
    expect(call).toHaveBeenLastCalledWith('discard_rejected', { eventId: 'e2' });
    await rejected.resendRejected('e3', { type: 'household_created.v1' });
    expect(call).toHaveBeenLastCalledWith('resend_rejected', { eventId: 'e3', payload: { type: 'household_created.v1' } });
    expect(told).toHaveBeenCalledTimes(3);
    off();
  });

  it('put a form over the rejected payload, never changing its kind', () => {
    const record = {
      payload: { type: 'resident_added.v1', resident_id: 'r1', household_id: 'h1', full_name: 'Lo Thi Lan', birth_year: 1909 },
    } as unknown as Parameters<typeof rejected.correctedPayload>[0];
    expect(rejected.correctedPayload(record, { household_id: 'h1', full_name: 'Lò Thị Lan', birth_year: 1990, type: 'x' })).toEqual({
      type: 'resident_added.v1',
      resident_id: 'r1',
      household_id: 'h1',
      full_name: 'Lò Thị Lan',
      birth_year: 1990,
    });
  });
});
