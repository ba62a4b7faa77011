// The rejected records' screen against a fake backend: each record in plain words with the
// server's reasons (in the chosen language), a visit corrected in its own form and sent again
// with its ids, a refusal on the phone shown at its field, a record sent again as it was, and one
// given up only after a confirmation.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RejectedRecord } from '../bindings/RejectedRecord';

const listRejected = vi.fn();
const resendRejected = vi.fn();
const resendUnchanged = vi.fn();
const discardRejected = vi.fn();
vi.mock('../api/rejected', async (original) => ({
  ...(await original<typeof import('../api/rejected')>()),
  listRejected: (...a: unknown[]) => listRejected(...a),
  resendRejected: (...a: unknown[]) => resendRejected(...a),
  resendUnchanged: (...a: unknown[]) => resendUnchanged(...a),
  discardRejected: (...a: unknown[]) => discardRejected(...a),
}));
vi.mock('../lib/draft.svelte', () => ({ keepDraft: () => ({ clear: async () => {} }) }));

const { default: Rejected } = await import('./Rejected.svelte');
const { setLocale } = await import('../i18n/index.svelte');
const { catalog } = await import('../lib/catalog.svelte');

const q = <T extends Element = Element>(sel: string) => document.querySelector<T>(sel);
const qa = (sel: string) => Array.from(document.querySelectorAll(sel));
const item = (eventId: string) => q(`.rejected-item[data-event="${eventId}"]`)!;

const HOME = '0190a0c0-0000-7000-8000-000000000101';
const LAN = '0190a0c0-0000-7000-8000-000000000201';
const VISIT = '0190a0c0-0000-7000-8000-000000000301';
const E_HOME = '0190a0c0-0000-7000-8000-000000000001';
const E_LAN = '0190a0c0-0000-7000-8000-000000000002';
const E_VISIT = '0190a0c0-0000-7000-8000-000000000003';
const E_SURVEY = '0190a0c0-0000-7000-8000-000000000004';

const error = (field: string, code: string, vi: string, en: string) => ({ field, code, message_vi: vi, message_en: en });
const base = {
  recorded_at: '2026-12-05T03:00:00Z',
  hamlet_code: '03445-01',
  household: null,
  resident: null,
  visit: null,
  waits_for: null,
};
const household: RejectedRecord = {
  ...base,
  event_id: E_HOME,
  seq: 1,
  kind: 'household_created.v1',
  errors: [error('address', 'address_unclear', 'Địa chỉ chưa rõ.', 'The address is unclear.')],
  subject: 'Lò Văn Páo',
  payload: { type: 'household_created.v1', household_id: HOME, hamlet_code: '03445-01', address: '?', head_name: 'Lò Văn Páo' },
  household: { hamlet_code: '03445-01', address: '?', head_name: 'Lò Văn Páo' },
};
const person: RejectedRecord = {
  ...base,
  event_id: E_LAN,
  seq: 2,
  kind: 'resident_added.v1',
  errors: [error('household_id', 'unknown_household', 'Không tìm thấy hộ này.', 'Unknown household.')],
  subject: 'Lò Thị Lan',
  payload: { type: 'resident_added.v1', resident_id: LAN, household_id: HOME, full_name: 'Lò Thị Lan', birth_year: 1990, sex: 'female', cccd: null, phone: null },
  resident: { household_id: HOME, full_name: 'Lò Thị Lan', birth_year: 1990, sex: 'female', cccd: null, phone: null },
  waits_for: E_HOME,
};
const visit: RejectedRecord = {
  ...base,
  event_id: E_VISIT,
  seq: 3,
  kind: 'visit_recorded.v1',
  errors: [error('note', 'note_required', 'Lý do "Không có điện thoại thông minh" cần ghi chú cụ thể.', 'Reason "No smartphone" needs a note.')],
  subject: 'Giàng Thị Mai',
  payload: { type: 'visit_recorded.v1', visit_id: VISIT, resident_id: LAN, status: 'approved_not_activated', reason_code: 'no_smartphone' },
  visit: { resident_id: LAN, status: 'approved_not_activated', reason_code: 'no_smartphone', action: null, follow_up: null, steps: [], note: null },
};
const survey: RejectedRecord = {
  ...base,
  event_id: E_SURVEY,
  seq: 4,
  kind: 'household_surveyed.v1',
  errors: [error('household_id', 'unknown_household', 'Không tìm thấy hộ này.', 'Unknown household.')],
  subject: 'Lò Văn Páo',
  payload: { type: 'household_surveyed.v1', household_id: HOME, members: 3, smartphones: 1, has_internet_computer: false },
};

beforeEach(() => {
  for (const f of [listRejected, resendRejected, resendUnchanged, discardRejected]) f.mockReset();
  catalog.hamlets = [{ code: '03445-01', name: 'Bản Nậm Củm', level: 'hamlet', division_type: 'bản', parent_code: '03445' }];
  catalog.reasons = [
    {
      code: 'no_smartphone',
      label_vi: 'Không có điện thoại thông minh',
      label_en: 'No smartphone',
      can_activate_later: false,
      police_only: false,
      requires_note: false,
      province_code: null,
      sort_order: 1,
    },
  ];
  setLocale('vi');
});

afterEach(() => cleanup());

describe('Rejected records screen', () => {
  it('lists each record in plain words with the server reasons, in the chosen language', async () => {
    listRejected.mockResolvedValue([household, person, visit, survey]);
    render(Rejected, { role: 'volunteer' });
    await waitFor(() => expect(qa('.rejected-item')).toHaveLength(4));
    const titles = qa('.rejected-item .item-title').map((e) => e.textContent);
    expect(titles).toEqual([
      'Thêm hộ: Lò Văn Páo',
      'Thêm người: Lò Thị Lan, 1990',
      'Lượt thăm: Giàng Thị Mai — Đã phê duyệt, chưa kích hoạt',
      'Khảo sát hộ: Lò Văn Páo',
    ]);
    expect(item(E_HOME).querySelector('.item-sub')?.textContent).toContain('Bản Nậm Củm');
    expect(item(E_HOME).querySelector('.item-sub')?.textContent).toMatch(/Ghi lúc \d\d:\d\d 05\/12\/2026/);
    expect(item(E_HOME).querySelector('.reason')?.textContent).toBe('Địa chỉ chưa rõ.');
    expect(item(E_VISIT).querySelector('.reason[data-code="note_required"]')?.textContent).toContain('cần ghi chú cụ thể');
    // the person waits for their household to be sent again
    expect(item(E_LAN).querySelector('.waits-for')?.textContent).toContain('Hãy gửi lại "Thêm hộ: Lò Văn Páo" trước');
    expect(item(E_HOME).querySelector('.waits-for')).toBeNull();
    // a form for households, people and visits; the others are sent again or given up
    expect(qa('.rejected-item .fix')).toHaveLength(3);
    expect(item(E_SURVEY).querySelector('.fix')).toBeNull();
    expect(item(E_SURVEY).querySelector('.resend')?.textContent).toContain('Gửi lại');
    expect(item(E_SURVEY).querySelector('.discard')?.textContent).toContain('Bỏ bản ghi này');

    setLocale('en');
    await waitFor(() => expect(item(E_HOME).querySelector('.reason')?.textContent).toBe('The address is unclear.'));
    expect(item(E_LAN).querySelector('.item-title')?.textContent).toBe('New person: Lò Thị Lan, 1990');
  });

  it('corrects a visit in its form and sends it again with its ids; a refusal shows at the field', async () => {
    listRejected.mockResolvedValue([household, visit]);
    render(Rejected, { role: 'volunteer' });
    await waitFor(() => expect(item(E_VISIT)).not.toBeNull());
    await fireEvent.click(item(E_VISIT).querySelector('.fix')!);
    await waitFor(() => expect(q('.rejected-fix')).not.toBeNull());
    expect(q('.rejected-fix .sub')?.textContent).toBe('Lượt thăm: Giàng Thị Mai — Đã phê duyệt, chưa kích hoạt');
    // filled with what was recorded, the server's reason at its field
    expect(q<HTMLSelectElement>('#visit-status')!.value).toBe('approved_not_activated');
    expect(q<HTMLSelectElement>('#visit-reason')!.value).toBe('no_smartphone');
    expect(q('.field-error[data-field="note"]')?.textContent).toContain('cần ghi chú cụ thể');
    expect(q('#visit-note')?.getAttribute('aria-invalid')).toBe('true');

    // the phone's own rules refuse the first try: shown at the field, nothing leaves the form
    resendRejected.mockRejectedValueOnce({
      kind: 'invalid',
      message: 'Dữ liệu chưa hợp lệ / Some fields need fixing',
      fields: [error('note', 'too_long', 'Ghi chú dài quá 500 ký tự.', 'The note is longer than 500 characters.')],
    });
    await fireEvent.input(q('#visit-note')!, { target: { value: 'x'.repeat(501) } });
    await fireEvent.submit(q('.visit-form')!);
    await waitFor(() => expect(q('.field-error[data-field="note"]')?.textContent).toContain('Ghi chú dài quá 500 ký tự.'));
    expect(q('.rejected-fix')).not.toBeNull();

    resendRejected.mockResolvedValueOnce([household]);
    await fireEvent.input(q('#visit-note')!, { target: { value: 'Mượn máy của con gái, hẹn cuối tuần' } });
    await fireEvent.submit(q('.visit-form')!);
    await waitFor(() => expect(q('#rejected-notice')).not.toBeNull());
    expect(resendRejected).toHaveBeenLastCalledWith(E_VISIT, {
      type: 'visit_recorded.v1',
      visit_id: VISIT,
      resident_id: LAN,
      status: 'approved_not_activated',
      reason_code: 'no_smartphone',
      action: null,
      follow_up: null,
      steps: [],
      note: 'Mượn máy của con gái, hẹn cuối tuần',
    });
    expect(q('#rejected-notice')?.textContent).toContain('Đã gửi lại "Lượt thăm: Giàng Thị Mai');
    expect(qa('.rejected-item').map((e) => e.getAttribute('data-event'))).toEqual([E_HOME]);
  });

  it('corrects a household in its form with the same household id', async () => {
    listRejected.mockResolvedValue([household, person]);
    resendRejected.mockResolvedValue([{ ...person, waits_for: null }]);
    render(Rejected, { role: 'volunteer' });
    await waitFor(() => expect(item(E_HOME)).not.toBeNull());
    await fireEvent.click(item(E_HOME).querySelector('.fix')!);
    await waitFor(() => expect(q<HTMLInputElement>('#hh-address')?.value).toBe('?'));
    expect(q('.rejected-fix h1')?.textContent).toBe('Sửa và gửi lại');
    expect(qa('.rejected-fix h1')).toHaveLength(1);
    expect(q('.field-error[data-field="address"]')?.textContent).toContain('Địa chỉ chưa rõ.');
    await fireEvent.input(q('#hh-address')!, { target: { value: 'Số 12, Bản Nậm Củm' } });
    await fireEvent.submit(q('.new-household form')!);
    await waitFor(() => expect(resendRejected).toHaveBeenCalledTimes(1));
    expect(resendRejected).toHaveBeenCalledWith(E_HOME, {
      type: 'household_created.v1',
      household_id: HOME,
      hamlet_code: '03445-01',
      address: 'Số 12, Bản Nậm Củm',
      head_name: 'Lò Văn Páo',
    });
    await waitFor(() => expect(qa('.rejected-item')).toHaveLength(1));
    expect(item(E_LAN).querySelector('.waits-for')).toBeNull();
  });

  it('sends a record again as it was, and shows why when the phone cannot yet', async () => {
    listRejected.mockResolvedValue([household, person]);
    resendUnchanged.mockRejectedValueOnce({
      kind: 'invalid',
      message: 'Dữ liệu chưa hợp lệ / Some fields need fixing',
      fields: [error('household_id', 'unknown_household', 'Không tìm thấy hộ này.', 'Unknown household.')],
    });
    render(Rejected, { role: 'volunteer' });
    await waitFor(() => expect(item(E_LAN)).not.toBeNull());
    await fireEvent.click(item(E_LAN).querySelector('.resend')!);
    await waitFor(() => expect(item(E_LAN).querySelector('.form-error')?.textContent).toContain('Không tìm thấy hộ này.'));
    resendUnchanged.mockResolvedValueOnce([household]);
    await fireEvent.click(item(E_LAN).querySelector('.resend')!);
    await waitFor(() => expect(qa('.rejected-item')).toHaveLength(1));
    expect(resendUnchanged).toHaveBeenLastCalledWith(E_LAN);
    expect(q('#rejected-notice')?.textContent).toContain('Đã gửi lại "Thêm người: Lò Thị Lan, 1990"');
  });

  it('gives a record up only after a confirmation', async () => {
    listRejected.mockResolvedValue([survey]);
    discardRejected.mockResolvedValue([]);
    render(Rejected, { role: 'volunteer' });
    await waitFor(() => expect(item(E_SURVEY)).not.toBeNull());
    await fireEvent.click(item(E_SURVEY).querySelector('.discard')!);
    expect(discardRejected).not.toHaveBeenCalled();
    expect(item(E_SURVEY).querySelector('.confirm')?.textContent).toContain('Bỏ bản ghi này? Nó sẽ không được gửi lên máy chủ nữa.');
    // changing one's mind sends nothing
    await fireEvent.click(item(E_SURVEY).querySelector('.discard-no')!);
    expect(item(E_SURVEY).querySelector('.confirm')).toBeNull();
    await fireEvent.click(item(E_SURVEY).querySelector('.discard')!);
    await fireEvent.click(item(E_SURVEY).querySelector('.discard-yes')!);
    await waitFor(() => expect(q('#rejected-none')).not.toBeNull());
    expect(discardRejected).toHaveBeenCalledTimes(1);
    expect(discardRejected).toHaveBeenCalledWith(E_SURVEY);
    expect(q('#rejected-notice')?.textContent).toContain('Đã bỏ "Khảo sát hộ: Lò Văn Páo"');
    expect(q('#rejected-none')?.textContent).toBe('Không còn bản ghi nào bị từ chối.');
  });
});
