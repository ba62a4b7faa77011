// The office's campaign screen against a fake backend: a first campaign set with the commune's
// quota, a hamlet's and a volunteer's; a bad number refused before anything is saved; and the
// phone's campaign card showing the quota given and the list of whom the volunteer guided.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CampaignView } from '../bindings/CampaignView';

const campaignView = vi.fn();
const saveCampaign = vi.fn();
const officePeople = vi.fn();
vi.mock('../api/campaigns', async (original) => ({
  ...(await original<typeof import('../api/campaigns')>()),
  campaignView: (...a: unknown[]) => campaignView(...a),
  saveCampaign: (...a: unknown[]) => saveCampaign(...a),
}));
vi.mock('../api/office', async (original) => ({
  ...(await original<typeof import('../api/office')>()),
  officePeople: (...a: unknown[]) => officePeople(...a),
}));

const { default: Campaign } = await import('./Campaign.svelte');
const { default: CampaignCard } = await import('../components/CampaignCard.svelte');
const { setLocale } = await import('../i18n/index.svelte');
const { catalog } = await import('../lib/catalog.svelte');
const { quotaNumber } = await import('../api/campaigns');

const q = (sel: string) => document.querySelector(sel);
const LAN = '0190a0c0-0000-7000-8000-00000000000a';

const view = (over: Partial<CampaignView> = {}): CampaignView => ({
  plan: {
    campaign_id: '0190a0c0-0000-7000-8000-000000000999',
    name: 'Cao điểm 60 ngày',
    place: '03445',
    starts: '2026-12-01',
    ends: '2027-01-29',
    target: 12354,
    per_official: 10,
    quotas: [
      { holder: { place: '03445-01' }, total: 200, per_day: 20 },
      { holder: { user: LAN }, total: 30, per_day: 3 },
    ],
  },
  day: 7,
  days: 60,
  activated: 2,
  activated_today: 1,
  quotas: [
    { quota: { holder: { place: '03445-01' }, total: 200, per_day: 20 }, name: 'Bản Nậm Củm', activated: 2, activated_today: 1 },
    { quota: { holder: { user: LAN }, total: 30, per_day: 3 }, name: 'Lò Thị Lan', activated: 2, activated_today: 1 },
  ],
  mine: { quota: { holder: { user: LAN }, total: 30, per_day: 3 }, name: 'Lò Thị Lan', activated: 2, activated_today: 1 },
  my_hamlets: [{ quota: { holder: { place: '03445-01' }, total: 200, per_day: 20 }, name: 'Bản Nậm Củm', activated: 2, activated_today: 1 }],
  guided: [
    {
      resident_id: '0190a0c0-0000-7000-8000-000000000101',
      full_name: 'Lò Văn Pọm',
      birth_year: 1988,
      head_name: 'Lò Văn Pọm',
      hamlet_code: '03445-01',
      status: 'activated_level1',
      activated_at: '2026-12-07T02:00:00Z',
    },
  ],
  ...over,
});

beforeEach(() => {
  for (const f of [campaignView, saveCampaign, officePeople]) f.mockReset();
  setLocale('vi');
  catalog.hamlets = [
    { code: '03445-01', name: 'Bản Nậm Củm', level: 'hamlet', division_type: 'bản', parent_code: '03445' },
    { code: '03445-02', name: 'Bản Phìn Khò', level: 'hamlet', division_type: 'bản', parent_code: '03445' },
  ];
  officePeople.mockResolvedValue({
    people: [{ person: { id: LAN, name: 'Lò Thị Lan', role: 'volunteer', places: ['03445-01'], devices: [] }, waiting: null }],
    hamlets: [],
    places: [],
    this_device: '',
  });
});

afterEach(() => cleanup());

describe('Campaign screen', () => {
  it('sets a first campaign with the commune, a hamlet and a volunteer given quotas', async () => {
    campaignView.mockResolvedValue(null);
    saveCampaign.mockResolvedValue(view());
    render(Campaign);
    await waitFor(() => expect(q('#campaign-none')).not.toBeNull());
    await fireEvent.input(q('#campaign-name')!, { target: { value: 'Cao điểm 60 ngày' } });
    await fireEvent.input(q('#campaign-target')!, { target: { value: '12354' } });
    await fireEvent.input(q("[data-holder='place:03445-01'] .quota-total")!, { target: { value: '200' } });
    await fireEvent.input(q("[data-holder='place:03445-01'] .quota-per-day")!, { target: { value: '20' } });
    await fireEvent.input(q(`[data-holder='user:${LAN}'] .quota-per-day`)!, { target: { value: '3' } });
    await fireEvent.submit(q('#campaign-form')!);
    await waitFor(() => expect(q('#campaign-saved')).not.toBeNull());
    const [plan, isNew] = saveCampaign.mock.calls[0];
    expect(isNew).toBe(true);
    expect(plan).toMatchObject({ name: 'Cao điểm 60 ngày', place: '03445', target: 12354, per_official: 10 });
    expect(plan.quotas).toEqual([
      { holder: { place: '03445-01' }, total: 200, per_day: 20 },
      { holder: { user: LAN }, total: null, per_day: 3 },
    ]);
    expect(q('#campaign-progress')?.textContent).toContain('Cả địa bàn: 2/12354');
    expect(q("[data-holder='place:03445-01'] .done")?.textContent).toBe('2 (1)');
  });

  it('refuses a quota that is not a whole positive number, saving nothing', async () => {
    campaignView.mockResolvedValue(view());
    render(Campaign);
    await waitFor(() => expect((q('#campaign-name') as HTMLInputElement).value).toBe('Cao điểm 60 ngày'));
    await fireEvent.input(q("[data-holder='place:03445-02'] .quota-total")!, { target: { value: '-5' } });
    await fireEvent.submit(q('#campaign-form')!);
    await waitFor(() => expect(q('#campaign-invalid')).not.toBeNull());
    expect(saveCampaign).not.toHaveBeenCalled();
    expect(quotaNumber(' 12 ')).toBe(12);
    expect(quotaNumber('')).toBeNull();
    expect(quotaNumber('0')).toBeUndefined();
    expect(quotaNumber('1.5')).toBeUndefined();
  });
});

describe('Campaign card on the phone', () => {
  it('shows the quota given, the day, and the list of whom she guided', async () => {
    campaignView.mockResolvedValue(view());
    render(CampaignCard);
    await waitFor(() => expect(q('#campaign-card')).not.toBeNull());
    expect(q('#campaign-when')?.textContent).toContain('Ngày 7/60');
    expect(q('#campaign-mine')?.textContent).toBe('Chỉ tiêu của bạn: 2/30');
    expect(q('#campaign-mine-day')?.textContent).toBe('Hôm nay: 1/3');
    expect(q('#campaign-guided')?.textContent?.trim()).toBe('Đã hướng dẫn kích hoạt thành công 1/10 người');
    await fireEvent.click(q('#campaign-list-toggle')!);
    expect(q('#campaign-list')?.textContent).toContain('Lò Văn Pọm (1988)');
  });

  it('shows nothing when no campaign reached the phone', async () => {
    campaignView.mockResolvedValue(null);
    render(CampaignCard);
    await waitFor(() => expect(campaignView).toHaveBeenCalled());
    expect(q('#campaign-card')).toBeNull();
  });
});
