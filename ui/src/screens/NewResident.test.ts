// Adding a person on the spot: someone already held with the same CCCD, or the same name and
// birth year in the hamlet, is shown before saving; "add anyway" saves, and a changed name asks
// again.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const addResident = vi.fn();
const findDuplicates = vi.fn();
vi.mock('../api/residents', async (original) => ({
  ...(await original<typeof import('../api/residents')>()),
  addResident: (...a: unknown[]) => addResident(...a),
  findDuplicates: (...a: unknown[]) => findDuplicates(...a),
}));
vi.mock('../lib/draft.svelte', () => ({ keepDraft: () => ({ clear: async () => {} }) }));

const { default: NewResident } = await import('./NewResident.svelte');
const { setLocale } = await import('../i18n/index.svelte');

const q = (sel: string) => document.querySelector(sel);
const LAN = { resident_id: 'r9', household_id: 'h9', full_name: 'Lò Thị Lan', birth_year: 1990, hamlet_code: '03445-01', head_name: 'Lò Văn Chủ', same_cccd: false };

async function fill(name: string, year: string): Promise<void> {
  await fireEvent.input(q('#res-name')!, { target: { value: name } });
  await fireEvent.input(q('#res-birth-year')!, { target: { value: year } });
}

beforeEach(() => {
  addResident.mockReset().mockResolvedValue('r10');
  findDuplicates.mockReset();
  setLocale('vi');
});

afterEach(() => cleanup());

describe('New resident', () => {
  it('warns of a likely duplicate before saving, and saves only when asked again', async () => {
    findDuplicates.mockResolvedValue([LAN]);
    const onsaved = vi.fn();
    const onopenresident = vi.fn();
    render(NewResident, { householdId: 'h1', onsaved, onopenresident });
    await fill('Lò Thị Lan', '1990');
    await fireEvent.click(q('#res-save')!);
    await waitFor(() => expect(q('#duplicate-warning')).not.toBeNull());
    expect(q('#duplicate-warning')?.textContent).toContain('Cùng tên và năm sinh trong thôn: Lò Thị Lan (1990), hộ Lò Văn Chủ');
    expect(addResident).not.toHaveBeenCalled();
    expect(q('#res-save')?.textContent?.trim()).toBe('Vẫn thêm người này');
    await fireEvent.click(q('#duplicate-warning .open-duplicate')!);
    expect(onopenresident).toHaveBeenCalledWith('r9');
    await fireEvent.click(q('#res-save')!);
    await waitFor(() => expect(onsaved).toHaveBeenCalledWith('r10'));
    expect(findDuplicates).toHaveBeenCalledTimes(1);
    expect(addResident.mock.calls[0][0]).toMatchObject({ household_id: 'h1', full_name: 'Lò Thị Lan', birth_year: 1990 });
  });

  it('asks again when the name changes, and saves at once when nobody matches', async () => {
    findDuplicates.mockResolvedValueOnce([LAN]).mockResolvedValue([]);
    const onsaved = vi.fn();
    render(NewResident, { householdId: 'h1', onsaved });
    await fill('Lò Thị Lan', '1990');
    await fireEvent.click(q('#res-save')!);
    await waitFor(() => expect(q('#duplicate-warning')).not.toBeNull());
    await fill('Lò Thị Lanh', '1990');
    await fireEvent.click(q('#res-save')!);
    await waitFor(() => expect(onsaved).toHaveBeenCalledWith('r10'));
    expect(findDuplicates).toHaveBeenCalledTimes(2);
  });

  it('says a same CCCD in English too', async () => {
    setLocale('en');
    findDuplicates.mockResolvedValue([{ ...LAN, same_cccd: true }]);
    render(NewResident, { householdId: 'h1', onsaved: vi.fn() });
    await fill('Ai Khác', '2001');
    await fireEvent.click(q('#res-save')!);
    await waitFor(() => expect(q('#duplicate-warning')?.textContent).toContain('Same CCCD: Lò Thị Lan (1990)'));
  });
});
