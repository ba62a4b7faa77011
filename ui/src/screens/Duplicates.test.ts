// The possible-duplicates screen against a fake backend: each pair with the imported record to
// keep first, a merge only after a confirmation (and the other way round after "keep the other"),
// two people marked as different, and a pair across hamlets that cannot be merged.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DuplicatePair } from '../bindings/DuplicatePair';
import type { PairSide } from '../bindings/PairSide';

const duplicatePairs = vi.fn();
const mergeResidents = vi.fn();
const markNotDuplicates = vi.fn();
vi.mock('../api/duplicates', () => ({
  duplicatePairs: (...a: unknown[]) => duplicatePairs(...a),
  mergeResidents: (...a: unknown[]) => mergeResidents(...a),
  markNotDuplicates: (...a: unknown[]) => markNotDuplicates(...a),
}));

const { default: Duplicates } = await import('./Duplicates.svelte');
const { setLocale } = await import('../i18n/index.svelte');

const q = (sel: string) => document.querySelector(sel);
const qa = (sel: string) => Array.from(document.querySelectorAll(sel));

const side = (id: string, imported: boolean, hamlet = '03445-01', over: Partial<PairSide> = {}): PairSide => ({
  resident_id: id,
  full_name: 'Lò Thị Lan',
  birth_year: 1990,
  sex: 'female',
  cccd: imported ? '011190000123' : null,
  phone: imported ? null : '0912345678',
  head_name: imported ? 'Lò Văn Chủ' : 'Lò Văn Phóng',
  address: imported ? 'Số 7' : 'Số 3',
  hamlet_code: hamlet,
  status: imported ? null : 'activated_level1',
  visit_count: imported ? 0 : 2,
  imported,
  ...over,
});
const LISTED = '0190a0c0-0000-7000-8000-00000000000a';
const TYPED = '0190a0c0-0000-7000-8000-00000000000b';
const pair: DuplicatePair = { a: side(LISTED, true), b: side(TYPED, false), same_cccd: false, same_hamlet: true };
const elsewhere: DuplicatePair = {
  a: side('0190a0c0-0000-7000-8000-00000000000c', true, '03445-01', { full_name: 'Giàng Thị Mai' }),
  b: side('0190a0c0-0000-7000-8000-00000000000d', false, '03445-02', { full_name: 'Giàng Thị Mai', cccd: '011190000999' }),
  same_cccd: true,
  same_hamlet: false,
};

beforeEach(() => {
  for (const f of [duplicatePairs, mergeResidents, markNotDuplicates]) f.mockReset();
  setLocale('vi');
});

afterEach(() => cleanup());

describe('Possible duplicates screen', () => {
  it('shows each pair with the imported record to keep first, and merges after a confirmation', async () => {
    duplicatePairs.mockResolvedValue([pair]);
    mergeResidents.mockResolvedValue([]);
    render(Duplicates);
    await waitFor(() => expect(qa('#dup-pairs .pair')).toHaveLength(1));
    const sides = qa('#dup-pairs .side');
    expect(sides[0].textContent).toContain('Giữ');
    expect(sides[0].textContent).toContain('Từ danh sách đã nhập');
    expect(sides[0].textContent).toContain('CCCD 011190000123');
    expect(sides[1].textContent).toContain('Nhập tại nhà');
    expect(sides[1].textContent).toContain('2 lượt thăm');
    expect(q('.why')?.textContent).toBe('Cùng họ tên và năm sinh');

    await fireEvent.click(q('.dup-merge')!);
    expect(mergeResidents).not.toHaveBeenCalled();
    expect(q('#dup-confirm-text')?.textContent).toContain('Không hoàn tác được');
    await fireEvent.click(q('.dup-confirm')!);
    await waitFor(() => expect(q('#dup-none')).not.toBeNull());
    expect(mergeResidents).toHaveBeenCalledWith(LISTED, TYPED);
    expect(q('#dup-merged')?.textContent).toContain('Đã gộp');
  });

  it('keeps the other record when the officer says so', async () => {
    duplicatePairs.mockResolvedValue([pair]);
    mergeResidents.mockResolvedValue([]);
    render(Duplicates);
    await waitFor(() => expect(q('.dup-swap')).not.toBeNull());
    await fireEvent.click(q('.dup-swap')!);
    expect(q('#dup-pairs .pair')?.getAttribute('data-kept')).toBe(TYPED);
    await fireEvent.click(q('.dup-merge')!);
    await fireEvent.click(q('.dup-confirm')!);
    await waitFor(() => expect(mergeResidents).toHaveBeenCalledWith(TYPED, LISTED));
  });

  it('marks two different people, and cannot merge across hamlets', async () => {
    duplicatePairs.mockResolvedValue([elsewhere, pair]);
    markNotDuplicates.mockResolvedValue([elsewhere]);
    render(Duplicates);
    await waitFor(() => expect(qa('#dup-pairs .pair')).toHaveLength(2));
    const [first, second] = qa('#dup-pairs .pair');
    expect(first.querySelector('.dup-merge')).toBeNull();
    expect(first.querySelector('.other-hamlets')?.textContent).toContain('không gộp được');
    expect(first.querySelector('.why')?.textContent).toBe('Cùng số CCCD');
    await fireEvent.click(second.querySelector('.dup-not-same')!);
    await waitFor(() => expect(qa('#dup-pairs .pair')).toHaveLength(1));
    expect(markNotDuplicates).toHaveBeenCalledWith(LISTED, TYPED);
  });

  it('says so in English too', async () => {
    setLocale('en');
    duplicatePairs.mockResolvedValue([]);
    render(Duplicates);
    await waitFor(() => expect(q('#dup-none')?.textContent).toBe('No possible duplicates.'));
  });
});
