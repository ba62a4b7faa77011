import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Reason } from '../bindings/Reason';

const recordVisit = vi.fn();
vi.mock('../api/residents', async (original) => ({
  ...(await original<typeof import('../api/residents')>()),
  recordVisit: (...args: unknown[]) => recordVisit(...args),
}));
const drafts = { save: vi.fn(), load: vi.fn(), clear: vi.fn() };
vi.mock('../api/drafts', () => ({
  saveDraft: (...args: unknown[]) => drafts.save(...args),
  loadDraft: (...args: unknown[]) => drafts.load(...args),
  clearDraft: (...args: unknown[]) => drafts.clear(...args),
}));

const { default: VisitForm } = await import('./VisitForm.svelte');
const { setLocale } = await import('../i18n/index.svelte');
const { todayIso } = await import('../lib/format');

const reason = (code: string, over: Partial<Reason> = {}): Reason => ({
  code,
  label_vi: `VI ${code}`,
  label_en: `EN ${code}`,
  can_activate_later: true,
  police_only: false,
  requires_note: false,
  province_code: null,
  sort_order: 1,
  ...over,
});

const REASONS = [reason('away_for_work'), reason('no_phone', { can_activate_later: false, sort_order: 2 }), reason('other', { requires_note: true, sort_order: 3 })];

const q = <T extends Element>(sel: string) => document.querySelector<T>(sel);

async function choose(select: string, value: string): Promise<void> {
  const el = q<HTMLSelectElement>(select)!;
  el.value = value;
  await fireEvent.change(el);
}

beforeEach(() => {
  recordVisit.mockReset();
  drafts.save.mockReset().mockResolvedValue(undefined);
  drafts.load.mockReset().mockResolvedValue(null);
  drafts.clear.mockReset().mockResolvedValue(undefined);
  setLocale('vi');
  localStorage.clear();
});

describe('VisitForm', () => {
  it('starts on "— chọn —" with all 7 states and the reason select shown', () => {
    render(VisitForm, { residentId: 'r-1', reasons: REASONS });
    const status = q<HTMLSelectElement>('#visit-status')!;
    expect(status.value).toBe('');
    expect(status.options[0].textContent).toBe('— chọn —');
    expect([...status.options].slice(1).map((o) => o.value)).toHaveLength(7);
    const reasonSelect = q<HTMLSelectElement>('#visit-reason')!;
    expect(reasonSelect).not.toBeNull();
    expect(reasonSelect.options[0].value).toBe('');
    expect(reasonSelect.options[0].textContent).toBe('— không có —');
    // Grouped: "can activate later" reasons first, then "cannot activate yet", each by sort order.
    expect([...reasonSelect.options].map((o) => o.value)).toEqual(['', 'away_for_work', 'other', 'no_phone']);
    expect([...reasonSelect.querySelectorAll('optgroup')].map((g) => g.label)).toEqual(['Có thể kích hoạt sau', 'Chưa thể kích hoạt']);
    expect(reasonSelect.querySelector('option[value="away_for_work"]')!.textContent).toBe('VI away_for_work');
  });

  it('hides the reason select for activated states and shows it otherwise', async () => {
    render(VisitForm, { residentId: 'r-1', reasons: REASONS });
    for (const s of ['activated_level1', 'activated_level2', 'used_portal']) {
      await choose('#visit-status', s);
      expect(q('#visit-reason'), s).toBeNull();
    }
    for (const s of ['no_chip_cccd', 'not_registered', 'registered_pending', 'approved_not_activated']) {
      await choose('#visit-status', s);
      expect(q('#visit-reason'), s).not.toBeNull();
    }
  });

  it('drops a chosen reason when the state becomes activated', async () => {
    recordVisit.mockResolvedValue('v-1');
    render(VisitForm, { residentId: 'r-1', reasons: REASONS });
    await choose('#visit-status', 'approved_not_activated');
    await choose('#visit-reason', 'no_phone');
    await choose('#visit-status', 'activated_level2');
    await fireEvent.submit(q('form')!);
    await waitFor(() => expect(recordVisit).toHaveBeenCalledTimes(1));
    expect(recordVisit.mock.calls[0][0]).toEqual({
      resident_id: 'r-1',
      status: 'activated_level2',
      reason_code: null,
      action: null,
      follow_up: null,
      steps: [],
      note: null,
    });
  });

  it('sends the whole form and confirms', async () => {
    recordVisit.mockResolvedValue('v-2');
    const onsaved = vi.fn();
    render(VisitForm, { residentId: 'r-9', reasons: REASONS, onsaved });
    await choose('#visit-status', 'not_registered');
    await choose('#visit-reason', 'away_for_work');
    await choose('#visit-action', 'guided_level1');
    await fireEvent.input(q('#visit-follow-up')!, { target: { value: '2030-01-15' } });
    await fireEvent.input(q('#visit-note')!, { target: { value: '  đi làm xa  ' } });
    await fireEvent.click(q('#visit-save')!);
    await waitFor(() => expect(q('#visit-saved')).not.toBeNull());
    expect(recordVisit.mock.calls[0][0]).toEqual({
      resident_id: 'r-9',
      status: 'not_registered',
      reason_code: 'away_for_work',
      action: 'guided_level1',
      follow_up: '2030-01-15',
      steps: [],
      note: 'đi làm xa',
    });
    expect(onsaved).toHaveBeenCalledWith('v-2');
    expect(q<HTMLSelectElement>('#visit-status')!.value).toBe('');
  });

  it('renders field errors next to their fields, in the current language', async () => {
    recordVisit.mockRejectedValue({
      kind: 'invalid',
      message: 'Dữ liệu chưa hợp lệ / Some fields need fixing',
      fields: [
        { field: 'note', code: 'too_long', message_vi: 'Ghi chú dài quá.', message_en: 'The note is too long.' },
        { field: 'reason_code', code: 'unknown_reason', message_vi: 'Lý do không có.', message_en: 'Unknown reason.' },
      ],
    });
    render(VisitForm, { residentId: 'r-1', reasons: REASONS });
    await choose('#visit-status', 'not_registered');
    await fireEvent.click(q('#visit-save')!);
    await waitFor(() => expect(q('.field-error[data-field="note"]')).not.toBeNull());

    const noteError = q('.field-error[data-field="note"]')!;
    expect(noteError.textContent?.trim()).toBe('Ghi chú dài quá.');
    expect(noteError.closest('.field')!.querySelector('#visit-note')).not.toBeNull();
    expect(q('#visit-note')!.getAttribute('aria-invalid')).toBe('true');

    const reasonError = q('.field-error[data-field="reason_code"]')!;
    expect(reasonError.closest('.field')!.querySelector('#visit-reason')).not.toBeNull();
    expect(q('#visit-saved')).toBeNull();
    // All errors belong to shown fields: no form-level message.
    expect(q('#form-error')).toBeNull();

    setLocale('en');
    await waitFor(() => expect(q('.field-error[data-field="note"]')!.textContent?.trim()).toBe('The note is too long.'));
  });

  it('asks for a state before sending', async () => {
    render(VisitForm, { residentId: 'r-1', reasons: REASONS });
    await fireEvent.click(q('#visit-save')!);
    expect(recordVisit).not.toHaveBeenCalled();
    const err = q('.field-error[data-field="status"]')!;
    expect(err.closest('.field')!.querySelector('#visit-status')).not.toBeNull();
  });

  it('asks for a note when the reason requires one', async () => {
    render(VisitForm, { residentId: 'r-1', reasons: REASONS });
    await choose('#visit-status', 'no_chip_cccd');
    await choose('#visit-reason', 'other');
    expect(screen.getByText('Lý do này cần ghi chú cụ thể.')).toBeTruthy();
    await fireEvent.click(q('#visit-save')!);
    expect(recordVisit).not.toHaveBeenCalled();
    expect(q('.field-error[data-field="note"]')).not.toBeNull();
  });

  it('shows a non-field error in #form-error', async () => {
    recordVisit.mockRejectedValue('disk full');
    render(VisitForm, { residentId: 'r-1', reasons: REASONS });
    await choose('#visit-status', 'used_portal');
    await fireEvent.click(q('#visit-save')!);
    await waitFor(() => expect(q('#form-error')).not.toBeNull());
  });

  it('derives the state from the ticked checklist steps and records each step', async () => {
    recordVisit.mockResolvedValue('v-2');
    render(VisitForm, { residentId: 'r-3', reasons: REASONS });
    await fireEvent.click(q('#step-install_app')!);
    expect(q<HTMLSelectElement>('#visit-status')!.value).toBe('');
    await fireEvent.click(q('#step-register_level1')!);
    await fireEvent.click(q('#step-face_check')!);
    expect(q<HTMLSelectElement>('#visit-status')!.value).toBe('registered_pending');
    expect(q('#checklist-outcome')!.textContent).toContain('chờ phê duyệt');
    await fireEvent.click(q('#step-activate_sms')!);
    expect(q<HTMLSelectElement>('#visit-status')!.value).toBe('activated_level1');
    const below = [...q<HTMLSelectElement>('#visit-status')!.options].filter((o) => o.disabled).map((o) => o.value);
    expect(below).toEqual(['no_chip_cccd', 'not_registered', 'registered_pending', 'approved_not_activated']);
    await fireEvent.submit(q('form')!);
    await waitFor(() => expect(recordVisit).toHaveBeenCalledTimes(1));
    expect(recordVisit.mock.calls[0][0]).toMatchObject({
      status: 'activated_level1',
      steps: ['install_app', 'register_level1', 'face_check', 'activate_sms'],
    });
  });

  it('a level-2 referral plans a return visit in a week', async () => {
    render(VisitForm, { residentId: 'r-4', reasons: REASONS });
    await fireEvent.click(q('#step-refer_level2')!);
    const inAWeek = new Date();
    inAWeek.setDate(inAWeek.getDate() + 7);
    expect(q<HTMLInputElement>('#visit-follow-up')!.value).toBe(todayIso(inAWeek));
  });

  it('keeps a draft in the device store: restored on opening, saved as typed, forgotten once saved', async () => {
    drafts.load.mockResolvedValue(JSON.stringify({ status: 'not_registered', note: 'Hẹn chiều quay lại', steps: ['install_app'] }));
    recordVisit.mockResolvedValue('v-9');
    render(VisitForm, { residentId: 'r-7', reasons: REASONS });
    await waitFor(() => expect(q<HTMLTextAreaElement>('#visit-note')!.value).toBe('Hẹn chiều quay lại'));
    expect(drafts.load).toHaveBeenCalledWith('visit:r-7');
    expect(q<HTMLSelectElement>('#visit-status')!.value).toBe('not_registered');
    expect(q<HTMLInputElement>('#step-install_app')!.checked).toBe(true);
    await fireEvent.input(q('#visit-note')!, { target: { value: 'Hẹn chiều quay lại, mang CCCD' } });
    await waitFor(() => expect(drafts.save).toHaveBeenCalled(), { timeout: 2000 });
    const [key, value] = drafts.save.mock.calls[drafts.save.mock.calls.length - 1];
    expect(key).toBe('visit:r-7');
    expect(JSON.parse(value)).toMatchObject({ note: 'Hẹn chiều quay lại, mang CCCD', status: 'not_registered' });
    await fireEvent.submit(q('form')!);
    await waitFor(() => expect(drafts.clear).toHaveBeenCalledWith('visit:r-7'));
  });

  describe('the position of the visit', () => {
    const HANOI = { latitude: 21.0285, longitude: 105.8542, accuracy: 14.2 };
    type Success = (p: { coords: typeof HANOI }) => void;
    type Failure = (e: { code: number; message: string }) => void;
    const getCurrentPosition = vi.fn<(ok: Success, fail: Failure, options: PositionOptions) => void>();
    const original = Object.getOwnPropertyDescriptor(globalThis.navigator, 'geolocation');

    beforeEach(() => {
      getCurrentPosition.mockReset();
      Object.defineProperty(globalThis.navigator, 'geolocation', { value: { getCurrentPosition }, configurable: true });
    });
    afterEach(() => {
      if (original) Object.defineProperty(globalThis.navigator, 'geolocation', original);
      else Reflect.deleteProperty(globalThis.navigator, 'geolocation');
      vi.useRealTimers();
    });

    async function fillAndSave(): Promise<void> {
      await choose('#visit-status', 'activated_level1');
      await fireEvent.click(q('#visit-save')!);
      await waitFor(() => expect(q('#visit-saved')).not.toBeNull());
    }

    it('is never asked for unless the box is ticked', async () => {
      recordVisit.mockResolvedValue('v-1');
      render(VisitForm, { residentId: 'r-1', reasons: REASONS });
      expect(q<HTMLInputElement>('#visit-pos-ask')!.checked).toBe(false);
      expect(q('#visit-pos-ask')!.closest('label')!.textContent).toContain('Ghi vị trí lần gặp (không bắt buộc)');
      await fillAndSave();
      expect(getCurrentPosition).not.toHaveBeenCalled();
      expect(recordVisit.mock.calls[0][0]).not.toHaveProperty('position');
      expect(q('#visit-pos-missing')).toBeNull();
    });

    it('is sent with the visit once the ticked box has one, and the choice is remembered', async () => {
      getCurrentPosition.mockImplementation((ok) => setTimeout(() => ok({ coords: HANOI }), 5));
      recordVisit.mockResolvedValue('v-1');
      const { unmount } = render(VisitForm, { residentId: 'r-1', reasons: REASONS });
      await fireEvent.click(q('#visit-pos-ask')!);
      expect(getCurrentPosition).toHaveBeenCalledTimes(1);
      const options = getCurrentPosition.mock.calls[0][2];
      expect(options.timeout).toBe(8000);
      expect(options.maximumAge).toBe(120000);
      await waitFor(() => expect(q('#visit-pos-status')!.getAttribute('data-state')).toBe('ready'));
      expect(q('#visit-pos-status')!.textContent).toContain('±15 m');
      await fillAndSave();
      expect(recordVisit.mock.calls[0][0]).toEqual({
        resident_id: 'r-1',
        status: 'activated_level1',
        reason_code: null,
        action: null,
        follow_up: null,
        steps: [],
        note: null,
        position: { lat_e6: 21028500, lon_e6: 105854200, accuracy_m: 15 },
      });
      expect(q('#visit-pos-missing')).toBeNull();
      expect(localStorage.getItem('gocua.visit.position')).toBe('1');

      // the next form on this phone starts ticked and asks at once
      unmount();
      getCurrentPosition.mockClear();
      render(VisitForm, { residentId: 'r-2', reasons: REASONS });
      expect(q<HTMLInputElement>('#visit-pos-ask')!.checked).toBe(true);
      expect(getCurrentPosition).toHaveBeenCalledTimes(1);
      // unticked: forgotten, and not asked again
      await fireEvent.click(q('#visit-pos-ask')!);
      expect(localStorage.getItem('gocua.visit.position')).toBe('0');
      expect(q('#visit-pos-status')).toBeNull();
    });

    it('saves the visit without it when the phone refuses', async () => {
      getCurrentPosition.mockImplementation((_ok, fail) => fail({ code: 1, message: 'denied' }));
      recordVisit.mockResolvedValue('v-1');
      localStorage.setItem('gocua.visit.position', '1');
      render(VisitForm, { residentId: 'r-1', reasons: REASONS });
      await waitFor(() => expect(q('#visit-pos-status')!.getAttribute('data-state')).toBe('none'));
      await fillAndSave();
      expect(recordVisit).toHaveBeenCalledTimes(1);
      expect(recordVisit.mock.calls[0][0]).not.toHaveProperty('position');
      expect(q('#visit-pos-missing')!.textContent).toBe('Lần gặp đã lưu không kèm vị trí.');
    });

    it('saves the visit at once, without it, while the phone is still looking', async () => {
      getCurrentPosition.mockImplementation(() => {}); // never answers
      recordVisit.mockResolvedValue('v-1');
      localStorage.setItem('gocua.visit.position', '1');
      render(VisitForm, { residentId: 'r-1', reasons: REASONS });
      expect(q('#visit-pos-status')!.getAttribute('data-state')).toBe('locating');
      await fillAndSave();
      expect(recordVisit.mock.calls[0][0]).not.toHaveProperty('position');
      expect(q('#visit-pos-missing')).not.toBeNull();
    });

    it('gives up on a phone that never answers, and drops a fix too vague to help', async () => {
      const { readPosition, toGeoPosition } = await import('../api/residents');
      vi.useFakeTimers();
      getCurrentPosition.mockImplementation(() => {});
      const pending = readPosition();
      vi.advanceTimersByTime(9000);
      expect(await pending).toBeNull();
      expect(toGeoPosition({ latitude: 21.0285, longitude: 105.8542, accuracy: 150_000 })).toBeNull();
      expect(toGeoPosition({ latitude: -33.8688, longitude: -151.2093, accuracy: 0.4 })).toEqual({
        lat_e6: -33868800,
        lon_e6: -151209300,
        accuracy_m: 1,
      });
    });

    it('a correction keeps the position the visit was recorded with and offers no box', async () => {
      const save = vi.fn().mockResolvedValue('v-1');
      const position = { lat_e6: 21028500, lon_e6: 105854200, accuracy_m: 15 };
      const initial = {
        resident_id: 'r-1',
        status: 'activated_level1' as const,
        reason_code: null,
        action: null,
        follow_up: null,
        steps: [],
        note: null,
        position,
      };
      localStorage.setItem('gocua.visit.position', '1');
      render(VisitForm, { residentId: 'r-1', reasons: REASONS, initial, save });
      expect(q('#visit-pos-ask')).toBeNull();
      await fireEvent.click(q('#visit-save')!);
      await waitFor(() => expect(save).toHaveBeenCalledTimes(1));
      expect(save.mock.calls[0][0].position).toEqual(position);
      expect(getCurrentPosition).not.toHaveBeenCalled();
    });
  });
});
