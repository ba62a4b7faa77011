// The spot-check screen against a fake backend: nothing drawn yet, a draw at the officer's rate,
// the rates per volunteer, and a finding recorded per claim with the chosen one shown.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SpotCheckView } from '../bindings/SpotCheckView';

const currentSample = vi.fn();
const drawSample = vi.fn();
const recordFinding = vi.fn();
vi.mock('../api/spotcheck', async (original) => ({
  ...(await original<typeof import('../api/spotcheck')>()),
  currentSample: (...a: unknown[]) => currentSample(...a),
  drawSample: (...a: unknown[]) => drawSample(...a),
  recordFinding: (...a: unknown[]) => recordFinding(...a),
}));

const { default: SpotCheck } = await import('./SpotCheck.svelte');
const { setLocale } = await import('../i18n/index.svelte');
const { confirmedPercent, degrees } = await import('../api/spotcheck');

const q = (sel: string) => document.querySelector(sel);
const qa = (sel: string) => Array.from(document.querySelectorAll(sel));

const LAN = '0190a0c0-0000-7000-8000-00000000000a';
const item = (n: number, outcome: SpotCheckView['items'][number]['outcome'] = null) => ({
  resident_id: `0190a0c0-0000-7000-8000-0000000001${n}0`,
  full_name: `Người số ${n}`,
  birth_year: 1990 + n,
  cccd: `01209000012${n}`,
  hamlet_code: '03445-01',
  visit_id: `0190a0c0-0000-7000-8000-0000000002${n}0`,
  claimed: 'activated_level1' as const,
  claimed_at: '2026-12-05T03:00:00Z',
  author: LAN,
  outcome,
  position: null,
});
const sample = (first: SpotCheckView['items'][number]['outcome'] = null): SpotCheckView => ({
  id: '0190a0c0-0000-7000-8000-000000000999',
  percent: 10,
  seed: 's',
  drawn_at: '2026-12-07T01:00:00Z',
  items: [item(1, first), item(2)],
  authors: [{ author: LAN, name: 'Lò Thị Lan', claims: 15, drawn: 2, checked: first ? 1 : 0, confirmed: first === 'confirmed' ? 1 : 0 }],
});

beforeEach(() => {
  for (const f of [currentSample, drawSample, recordFinding]) f.mockReset();
  setLocale('vi');
});

afterEach(() => cleanup());

describe('Spot-check screen', () => {
  it('draws at the rate the officer sets, 10 % unless changed', async () => {
    currentSample.mockResolvedValue(null);
    drawSample.mockResolvedValue(sample());
    render(SpotCheck);
    await waitFor(() => expect(q('#spot-none')).not.toBeNull());
    expect((q('#spot-percent') as HTMLInputElement).value).toBe('10');
    await fireEvent.input(q('#spot-percent')!, { target: { value: '20' } });
    await fireEvent.submit(q('#spot-draw')!);
    await waitFor(() => expect(qa('#spot-items .item')).toHaveLength(2));
    expect(drawSample).toHaveBeenCalledWith(20);
    expect(q('#spot-rates [data-author]')?.textContent).toContain('Lò Thị Lan');
    expect(q('#spot-items .item')?.textContent).toContain('Báo Đã kích hoạt mức 1 — Lò Thị Lan');
  });

  it('records a finding and shows it chosen, with the confirmation rate', async () => {
    currentSample.mockResolvedValue(sample());
    recordFinding.mockResolvedValue(sample('confirmed'));
    render(SpotCheck);
    await waitFor(() => expect(qa('#spot-items .item')).toHaveLength(2));
    const first = q('#spot-items .item')!;
    await fireEvent.click(first.querySelector('.outcome-confirmed')!);
    await waitFor(() => expect(q('#spot-items .item')?.getAttribute('data-outcome')).toBe('confirmed'));
    expect(recordFinding).toHaveBeenCalledWith(item(1).resident_id, item(1).visit_id, 'confirmed');
    expect(q('#spot-items .item .outcome-confirmed')?.getAttribute('aria-pressed')).toBe('true');
    expect(q('#spot-rates .rate')?.textContent).toBe('1 (100%)');
  });

  it('speaks English', async () => {
    setLocale('en');
    currentSample.mockResolvedValue(sample());
    render(SpotCheck);
    await waitFor(() => expect(q('#spot-items .outcome-not_found')?.textContent?.trim()).toBe('Not found'));
  });

  it('shows where the claiming visit happened when it says, as a link for a map app', async () => {
    const where = sample();
    where.items[0].position = { lat_e6: 21028500, lon_e6: 105854200, accuracy_m: 15 };
    currentSample.mockResolvedValue(where);
    render(SpotCheck);
    await waitFor(() => expect(qa('#spot-items .item')).toHaveLength(2));
    const [first, second] = qa('#spot-items .item');
    const link = first.querySelector<HTMLAnchorElement>('.position a')!;
    expect(link.textContent).toBe('Vị trí: 21.028500, 105.854200 (±15 m)');
    expect(link.getAttribute('href')).toBe('geo:21.028500,105.854200');
    expect(second.querySelector('.position')).toBeNull();
    expect(degrees(-1)).toBe('-0.000001');
    expect(degrees(-180000000)).toBe('-180.000000');
  });

  it('rounds the confirmation rate and has none before a check', () => {
    expect(confirmedPercent(2, 3)).toBe(67);
    expect(confirmedPercent(0, 0)).toBeNull();
  });
});
