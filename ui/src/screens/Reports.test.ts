// The report screen against a fake backend: the totals, rate and progress of the commune, its
// hamlets ranked, a hamlet opened and the way back up, days asked for, an export with its
// progress and where the file went, and a refusal shown as the backend words it.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReportScreen } from '../bindings/ReportScreen';
import type { Tally } from '../bindings/Tally';
import type { UnitRow } from '../bindings/UnitRow';

const reportView = vi.fn();
const exportReport = vi.fn();
vi.mock('../api/reports', async (original) => ({
  ...(await original<typeof import('../api/reports')>()),
  reportView: (...a: unknown[]) => reportView(...a),
  exportReport: (...a: unknown[]) => exportReport(...a),
}));

const { default: Reports } = await import('./Reports.svelte');
const { setLocale } = await import('../i18n/index.svelte');
const { catalog } = await import('../lib/catalog.svelte');
const { percent } = await import('../api/reports');

const q = (sel: string) => document.querySelector(sel);

const tally = (over: Partial<Tally> = {}): Tally => ({
  households: 0, households_surveyed: 0, members: 0, smartphone_owners: 0, households_with_computer: 0,
  residents: 0, not_visited: 0, no_chip_cccd: 0, not_registered: 0, registered_pending: 0,
  approved_not_activated: 0, activated_level1: 0, activated_level2: 0, used_portal: 0, confirmed: 0,
  can_activate_later: 0, cannot_activate_yet: 0, by_reason: {}, not_counted: 0, activated_in_range: 0,
  visits_in_range: 0, referred_level2: 0, ...over,
});

const place = (code: string, name: string, level: 'commune' | 'hamlet', parent: string | null) => ({
  code, name, level, division_type: level === 'commune' ? 'xã' : 'bản', parent_code: parent,
});

const row = (code: string, name: string, t: Partial<Tally>, rate: number | null, rank: number, quota: number | null = null): UnitRow => ({
  place: place(code, name, 'hamlet', '03445'), tally: tally(t), rate, quota,
  progress: quota ? (t.activated_in_range ?? 0) / quota : null, rank,
});

const screen = (over: Partial<ReportScreen['report']> = {}): ReportScreen => ({
  report: {
    range: { from: '2026-12-01', until: '2026-12-07' },
    campaign: null,
    rows: [
      row('03445-01', 'Bản Nậm Củm', { residents: 10, activated_level1: 4, activated_in_range: 3 }, 0.4, 1, 6),
      row('03445-02', 'Bản Phìn Khò', { residents: 10, activated_level2: 1, by_reason: { absent_unreachable: 2 } }, 0.1, 2, 6),
    ],
    total: {
      place: place('03445', 'Xã Mường Tè', 'commune', '12'),
      tally: tally({ residents: 20, activated_level1: 4, activated_level2: 1, confirmed: 2, activated_in_range: 3, households: 6, households_surveyed: 4, by_reason: { absent_unreachable: 2 } }),
      rate: 0.25, quota: 12, progress: 0.25, rank: 0,
    },
    days: [
      { day: '2026-12-06', activated: 1, visits: 4 },
      { day: '2026-12-07', activated: 2, visits: 5 },
    ],
    people: [{ user_id: '0190a0c0-0000-7000-8000-00000000000a', name: 'Lò Thị Lan', activated: 3, visits: 9, referred: 0, quota: 10, progress: 0.3, rank: 1 }],
    teams: [],
    ...over,
  },
  home_place: '03445',
  campaigns: [['0190a0c0-0000-7000-8000-000000000999', 'Cao điểm 60 ngày']],
  police: true,
});

beforeEach(() => {
  reportView.mockReset();
  exportReport.mockReset();
  setLocale('vi');
  catalog.reasons = [{ code: 'absent_unreachable', label_vi: 'Vắng mặt, không liên lạc được', label_en: 'Absent', can_activate_later: true, police_only: false, requires_note: false, province_code: null, sort_order: 30 }];
});

afterEach(() => cleanup());

describe('Report screen', () => {
  it('shows the place, its rate and progress, the hamlets ranked and the reasons', async () => {
    reportView.mockResolvedValue(screen());
    render(Reports);
    await waitFor(() => expect(q('#report-place')?.textContent).toBe('Xã Mường Tè'));
    expect(reportView.mock.calls[0][0]).toEqual({ place: null, campaign: null, from: null, until: null });
    expect(q('#report-activated')?.textContent).toBe('5');
    expect(q('#report-rate')?.textContent).toContain('25,0 %');
    expect(q('#report-progress')?.textContent).toContain('25,0 %');
    expect(q('#report-range')?.textContent).toContain('01/12/2026');
    expect(document.querySelectorAll('#report-trend rect').length).toBe(2);
    const rows = [...document.querySelectorAll('#report-units tbody tr')].map((r) => r.textContent);
    expect(rows[0]).toContain('Bản Nậm Củm');
    expect(rows[0]).toContain('40,0 %');
    expect(q('#report-reasons')?.textContent).toContain('Vắng mặt, không liên lạc được 2');
    expect(q('#report-people')?.textContent).toContain('Lò Thị Lan');
  });

  it('shows each team leader\'s hamlets summed, and no team table where the device knows no team', async () => {
    const team = {
      leader: '0190a0c0-0000-7000-8000-00000000000b', name: 'Giàng A Páo', hamlets: 2, rate: 0.25, quota: 8,
      progress: 0.375, rank: 1, tally: tally({ residents: 20, activated_level1: 5, activated_in_range: 3 }),
    };
    reportView.mockResolvedValue(screen({ teams: [team] }));
    render(Reports);
    await waitFor(() => expect(q('#report-teams')).not.toBeNull());
    const cells = [...document.querySelectorAll('#report-teams tbody td')].map((c) => c.textContent?.trim());
    expect(cells).toEqual(['1', 'Giàng A Páo', '2', '25,0 %', '3', '8', '37,5 %']);
    expect(document.body.textContent).toContain('Theo tổ công tác');
    cleanup();
    reportView.mockResolvedValue(screen());
    render(Reports);
    await waitFor(() => expect(q('#report-place')?.textContent).toBe('Xã Mường Tè'));
    expect(q('#report-teams')).toBeNull();
  });

  it('opens a hamlet and goes back up to the commune', async () => {
    reportView.mockResolvedValue(screen());
    render(Reports);
    await waitFor(() => expect(q("[data-place='03445-01'] .open-unit")).not.toBeNull());
    reportView.mockResolvedValue(screen({ rows: [], total: { ...screen().report.rows[0], rank: 0 } }));
    await fireEvent.click(q("[data-place='03445-01'] .open-unit")!);
    await waitFor(() => expect(q('#report-place')?.textContent).toBe('Bản Nậm Củm'));
    expect(reportView.mock.calls[1][0]).toMatchObject({ place: '03445-01' });
    reportView.mockResolvedValue(screen());
    await fireEvent.click(q('.trail .up')!);
    await waitFor(() => expect(q('#report-place')?.textContent).toBe('Xã Mường Tè'));
    expect(reportView.mock.calls[2][0]).toMatchObject({ place: null });
  });

  it('asks for days, exports a list with its progress, and shows a refusal in the backend words', async () => {
    reportView.mockResolvedValue(screen());
    render(Reports);
    await waitFor(() => expect(q('#report-period')).not.toBeNull());
    await fireEvent.change(q('#report-period')!, { target: { value: 'days' } });
    await fireEvent.input(q('#report-from')!, { target: { value: '2026-11-01' } });
    await fireEvent.input(q('#report-until')!, { target: { value: '2026-11-30' } });
    await fireEvent.click(q('#report-show')!);
    await waitFor(() => expect(reportView.mock.lastCall?.[0]).toEqual({ place: null, campaign: null, from: '2026-11-01', until: '2026-11-30' }));

    exportReport.mockImplementation(async (_q, _what, _format, onProgress: (p: { done: number; of: number }) => void) => {
      onProgress({ done: 1, of: 2 });
      await tick();
      expect(q('#export-progress')?.getAttribute('aria-valuenow')).toBe('1');
      return { path: '/home/lan/Tải về/danh-sach.csv', people: 5 };
    });
    await fireEvent.change(q('#export-list-kind')!, { target: { value: 'absent' } });
    await fireEvent.change(q('#export-format')!, { target: { value: 'csv' } });
    await fireEvent.click(q('#export-list')!);
    await waitFor(() => expect(q('#export-result')?.textContent).toContain('Đã lưu danh sách 5 người vào /home/lan/Tải về/danh-sach.csv'));
    expect(exportReport.mock.calls[0].slice(1, 3)).toEqual(['absent', 'csv']);
    expect(q('#export-progress')).toBeNull();

    exportReport.mockRejectedValue({ kind: 'refused', message: 'Dữ liệu tập huấn không bao giờ được gửi đi', fields: [] });
    await fireEvent.click(q('#export-appendix')!);
    await waitFor(() => expect(q('#export-result')?.textContent).toBe('Dữ liệu tập huấn không bao giờ được gửi đi'));
  });

  it('writes rates as the reader reads them', () => {
    expect(percent(0.4567, 'vi')).toBe('45,7 %');
    expect(percent(0.4567, 'en')).toBe('45.7%');
    expect(percent(null, 'vi')).toBe('—');
  });
});
