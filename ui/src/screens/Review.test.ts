// The review queue against a fake backend: each flagged record with why, opened on request,
// settled as kept or corrected with the version seen.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReviewItem } from '../bindings/ReviewItem';

const reviewQueue = vi.fn();
const resolveReview = vi.fn();
vi.mock('../api/review', () => ({
  reviewQueue: (...a: unknown[]) => reviewQueue(...a),
  resolveReview: (...a: unknown[]) => resolveReview(...a),
}));

const { default: Review } = await import('./Review.svelte');
const { setLocale } = await import('../i18n/index.svelte');

const q = (sel: string) => document.querySelector(sel);
const HOME = '0190a0c0-0000-7000-8000-000000000001';
const PERSON = '0190a0c0-0000-7000-8000-000000000002';
const VISIT = '0190a0c0-0000-7000-8000-000000000003';
const plain = { is_visit: false, resident_id: null, recorded_at: null };
const items: ReviewItem[] = [
  { ...plain, record_id: HOME, household_id: HOME, is_person: false, title: 'Lò Văn Chủ', household: 'Lò Văn Chủ, Số 21', hamlet_code: '03445-01', review: 'conflict', version: 3 },
  { ...plain, resident_id: PERSON, record_id: PERSON, household_id: HOME, is_person: true, title: 'Lò Thị Lan', household: 'Lò Văn Chủ, Số 21', hamlet_code: '03445-01', review: 'parallel_update', version: 2 },
];
const clockVisit: ReviewItem = {
  record_id: VISIT,
  household_id: HOME,
  is_person: false,
  is_visit: true,
  resident_id: PERSON,
  recorded_at: '2027-12-07T02:30:00Z',
  title: 'Lò Thị Lan',
  household: 'Lò Văn Chủ, Số 21',
  hamlet_code: '03445-01',
  review: 'clock_ahead',
  version: 0,
};

beforeEach(() => {
  reviewQueue.mockReset();
  resolveReview.mockReset();
  setLocale('vi');
});
afterEach(() => cleanup());

describe('Review queue', () => {
  it('lists why each record is flagged, opens it, and settles it with the version seen', async () => {
    reviewQueue.mockResolvedValue(items);
    resolveReview.mockResolvedValue([items[1]]);
    const onopenhousehold = vi.fn();
    const onopenresident = vi.fn();
    render(Review, { onopenhousehold, onopenresident });
    await waitFor(() => expect(document.querySelectorAll('#review-items .review-item')).toHaveLength(2));
    expect(q(`[data-record='${HOME}']`)?.textContent).toContain('Xung đột');
    expect(q(`[data-record='${PERSON}']`)?.textContent).toContain('Sửa song song');
    await fireEvent.click(q(`[data-record='${PERSON}'] .review-open`)!);
    expect(onopenresident).toHaveBeenCalledWith(PERSON);
    await fireEvent.click(q(`[data-record='${HOME}'] .review-open`)!);
    expect(onopenhousehold).toHaveBeenCalledWith(HOME);
    await fireEvent.click(q(`[data-record='${HOME}'] .review-keep`)!);
    await waitFor(() => expect(document.querySelectorAll('#review-items .review-item')).toHaveLength(1));
    expect(resolveReview).toHaveBeenCalledWith(HOME, 3, 'kept');
    expect(q('#review-done')).not.toBeNull();
  });

  it('lists a visit recorded under a wrong clock with the phone\'s time, opens its person and settles it', async () => {
    reviewQueue.mockResolvedValue([clockVisit]);
    resolveReview.mockResolvedValue([]);
    const onopenresident = vi.fn();
    render(Review, { onopenhousehold: vi.fn(), onopenresident });
    await waitFor(() => expect(q(`[data-record='${VISIT}']`)).not.toBeNull());
    const card = q(`[data-record='${VISIT}']`)!;
    expect(card.textContent).toContain('Lượt thăm: Lò Thị Lan');
    expect(card.textContent).toContain('Đồng hồ điện thoại chạy nhanh');
    expect(card.querySelector('.recorded-at')?.textContent).toContain('2027');
    await fireEvent.click(card.querySelector('.review-open')!);
    expect(onopenresident).toHaveBeenCalledWith(PERSON);
    await fireEvent.click(card.querySelector('.review-keep')!);
    await waitFor(() => expect(q('#review-none')).not.toBeNull());
    expect(resolveReview).toHaveBeenCalledWith(VISIT, 0, 'kept');
  });

  it('says when nothing waits', async () => {
    reviewQueue.mockResolvedValue([]);
    render(Review, { onopenhousehold: vi.fn(), onopenresident: vi.fn() });
    await waitFor(() => expect(q('#review-none')?.textContent).toBe('Không có bản ghi nào cần xem lại.'));
  });
});
