// The people screen against a fake backend: the list from the server, waiting assignments,
// assigning places, a new person with a code shown as QR and text, a device revoked only after
// the officer confirms, and what an offline office is told.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PeopleView } from '../bindings/PeopleView';

const officePeople = vi.fn();
const assign = vi.fn();
const addPerson = vi.fn();
const newCode = vi.fn();
const revokeDevice = vi.fn();
const setRole = vi.fn();
const searchHouseholds = vi.fn();
vi.mock('../api/households', async (original) => ({
  ...(await original<typeof import('../api/households')>()),
  searchHouseholds: (...a: unknown[]) => searchHouseholds(...a),
}));
vi.mock('../api/office', async (original) => ({
  ...(await original<typeof import('../api/office')>()),
  officePeople: (...a: unknown[]) => officePeople(...a),
  assign: (...a: unknown[]) => assign(...a),
  addPerson: (...a: unknown[]) => addPerson(...a),
  newCode: (...a: unknown[]) => newCode(...a),
  revokeDevice: (...a: unknown[]) => revokeDevice(...a),
  setRole: (...a: unknown[]) => setRole(...a),
}));

const { default: People } = await import('./People.svelte');
const { setLocale } = await import('../i18n/index.svelte');

const q = (sel: string) => document.querySelector(sel);
const qa = (sel: string) => Array.from(document.querySelectorAll(sel));

const LAN = '0190a0c0-0000-7000-8000-00000000000a';
const PHONE = '0190a0c0-0000-7000-8000-0000000000d1';
const OFFICE_PC = '0190a0c0-0000-7000-8000-0000000000d2';
const hamlet = (code: string, name: string) => ({ code, name, level: 'hamlet' as const, division_type: 'bản', parent_code: '03445' });

const people = (waiting: string[] | null = null, revoked = false): PeopleView => ({
  hamlets: [hamlet('03445-01', 'Bản Nậm Củm'), hamlet('03445-02', 'Bản Phìn Khò')],
  places: [
    { code: '03445', name: 'Xã Mường Tè', level: 'commune', division_type: 'xã', parent_code: '12' },
    hamlet('03445-01', 'Bản Nậm Củm'),
    hamlet('03445-02', 'Bản Phìn Khò'),
  ],
  this_device: OFFICE_PC,
  people: [
    {
      person: {
        id: LAN,
        name: 'Lò Thị Lan',
        role: 'volunteer',
        places: ['03445-01'],
        devices: [
          {
            id: PHONE,
            name: 'Điện thoại của Lan',
            enrolled_at: '2026-12-01T01:00:00Z',
            last_seen_at: '2026-12-06T08:30:00Z',
            app_version: '0.1.0',
            unsent: null,
            revoked_at: revoked ? '2026-12-07T01:00:00Z' : null,
          },
        ],
      },
      waiting,
    },
    {
      person: {
        id: '0190a0c0-0000-7000-8000-00000000000b',
        name: 'Trần Văn Công',
        role: 'commune_police',
        places: ['03445'],
        devices: [{ id: OFFICE_PC, name: 'Máy tính Công an xã', enrolled_at: '2026-12-01T01:00:00Z', last_seen_at: null, app_version: '0.1.0', unsent: 0, revoked_at: null }],
      },
      waiting: null,
    },
  ],
});

const code = { user_id: LAN, code: 'ABCD-EFGH-JKLM', expires_at: '2026-12-10T01:00:00Z', qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0h1v1H0z"/></svg>' };

beforeEach(() => {
  for (const f of [officePeople, assign, addPerson, newCode, revokeDevice, setRole, searchHouseholds]) f.mockReset();
  setLocale('vi');
});

afterEach(() => cleanup());

describe('People screen', () => {
  it('lists who works where with their devices, and only volunteers and leaders are assigned', async () => {
    officePeople.mockResolvedValue(people(['03445-02']));
    render(People);
    await waitFor(() => expect(qa('#people-list .person')).toHaveLength(2));
    const lan = q(`[data-person="${LAN}"]`)!;
    expect(lan.textContent).toContain('Phụ trách: Bản Nậm Củm');
    expect(lan.querySelector('.waiting')?.textContent).toContain('Đang chờ đồng bộ: Bản Phìn Khò');
    expect(lan.querySelector('.device')?.textContent).toContain('Điện thoại của Lan');
    expect(lan.querySelector('.device')?.textContent).toContain('bản 0.1.0');
    expect(lan.querySelector('.assign')).not.toBeNull();
    expect(q('[data-person="0190a0c0-0000-7000-8000-00000000000b"] .assign')).toBeNull();
    const officer = q('[data-person="0190a0c0-0000-7000-8000-00000000000b"]')!;
    expect(officer.textContent).toContain('Phụ trách: Xã Mường Tè');
    expect(officer.querySelector('.this-device')?.textContent).toBe('Máy này');
    expect(officer.querySelector('.revoke')).toBeNull();
    expect(officer.textContent).toContain('0 bản ghi chưa gửi');
  });

  it('records an assignment of the chosen hamlets and reloads', async () => {
    officePeople.mockResolvedValue(people());
    assign.mockResolvedValue(undefined);
    render(People);
    await waitFor(() => expect(q(`[data-person="${LAN}"] .assign`)).not.toBeNull());
    await fireEvent.click(q(`[data-person="${LAN}"] .assign`)!);
    const boxes = qa(`[data-person="${LAN}"] .assign-form input[type=checkbox]`) as HTMLInputElement[];
    expect(boxes.map((b) => b.checked)).toEqual([true, false]);
    await fireEvent.click(boxes[0]);
    await fireEvent.click(boxes[1]);
    await fireEvent.click(q(`[data-person="${LAN}"] .assign-save`)!);
    await waitFor(() => expect(assign).toHaveBeenCalledWith(LAN, ['03445-02']));
    await waitFor(() => expect(officePeople).toHaveBeenCalledTimes(2));
  });

  it('assigns a single household found by name, shown by its head and address', async () => {
    const HOUSEHOLD = '0190a0c0-0000-7000-8000-0000000000e1';
    const household = {
      id: HOUSEHOLD, hamlet_code: '03445-02', address: 'Số 4, bản Phìn Khò', head_name: 'Giàng A Páo',
      members: null, smartphones: null, has_internet_computer: null, version: 1, review: null, field_versions: {}, removed: null,
    };
    officePeople.mockResolvedValue(people());
    assign.mockResolvedValue(undefined);
    searchHouseholds.mockResolvedValue([{ household, residents: 3, visited: 0, activated: 0 }]);
    render(People);
    await waitFor(() => expect(q(`[data-person="${LAN}"] .assign`)).not.toBeNull());
    await fireEvent.click(q(`[data-person="${LAN}"] .assign`)!);
    expect(q(`[data-person="${LAN}"] .households-h`)?.textContent).toBe('Hoặc giao từng hộ');
    await fireEvent.input(q(`[data-person="${LAN}"] .household-search`)!, { target: { value: 'páo' } });
    await waitFor(() => expect(q(`[data-person="${LAN}"] .household-pick`)).not.toBeNull());
    expect(searchHouseholds).toHaveBeenCalledWith({ text: 'páo', limit: 8 });
    await fireEvent.click(q(`[data-person="${LAN}"] .household-pick`)!);
    const chosen = q(`[data-person="${LAN}"] .household-chosen`)!;
    expect(chosen.textContent).toContain('Giàng A Páo — Số 4, bản Phìn Khò');
    expect((chosen.querySelector('input') as HTMLInputElement).checked).toBe(true);
    expect(q(`[data-person="${LAN}"] .household-pick`)).toBeNull();
    await fireEvent.click(q(`[data-person="${LAN}"] .assign-save`)!);
    await waitFor(() => expect(assign).toHaveBeenCalledWith(LAN, ['03445-01', HOUSEHOLD]));
  });

  it('shows no household box for a commune the person had: the hamlets replace it', async () => {
    const view = people();
    view.people[0].person.places = ['03445'];
    officePeople.mockResolvedValue(view);
    render(People);
    await waitFor(() => expect(q(`[data-person="${LAN}"] .assign`)).not.toBeNull());
    await fireEvent.click(q(`[data-person="${LAN}"] .assign`)!);
    expect(q(`[data-person="${LAN}"] .household-chosen`)).toBeNull();
  });

  it('says when no household matches the search', async () => {
    officePeople.mockResolvedValue(people());
    searchHouseholds.mockResolvedValue([]);
    render(People);
    await waitFor(() => expect(q(`[data-person="${LAN}"] .assign`)).not.toBeNull());
    await fireEvent.click(q(`[data-person="${LAN}"] .assign`)!);
    await fireEvent.input(q(`[data-person="${LAN}"] .household-search`)!, { target: { value: 'không có' } });
    await waitFor(() => expect(q(`[data-person="${LAN}"] .household-none`)?.textContent).toBe('Không tìm thấy hộ nào.'));
  });

  it('adds a person and shows their code once, as a QR code and as text', async () => {
    officePeople.mockResolvedValue(people());
    addPerson.mockResolvedValue({ person: people().people[0].person, code });
    render(People);
    await waitFor(() => expect(q('#person-add')).not.toBeNull());
    await fireEvent.click(q('#person-add')!);
    expect((q('#person-save') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(q('#person-name')!, { target: { value: 'Lò Thị Lan' } });
    await fireEvent.click(q('#person-form input[value="03445-01"]')!);
    await fireEvent.click(q('#person-save')!);
    await waitFor(() => expect(q('#code-panel')).not.toBeNull());
    expect(addPerson).toHaveBeenCalledWith('Lò Thị Lan', 'volunteer', ['03445-01']);
    expect(q('#code-text')?.textContent).toBe('ABCD-EFGH-JKLM');
    expect((q('#code-panel img') as HTMLImageElement).src).toMatch(/^data:image\/svg\+xml/);
    await fireEvent.click(q('#code-close')!);
    expect(q('#code-panel')).toBeNull();
  });

  it('revokes a device only after the officer confirms', async () => {
    officePeople.mockResolvedValueOnce(people()).mockResolvedValue(people(null, true));
    revokeDevice.mockResolvedValue(true);
    render(People);
    await waitFor(() => expect(q(`[data-device="${PHONE}"] .revoke`)).not.toBeNull());
    await fireEvent.click(q('.device .revoke')!);
    expect(q('.device [role="alertdialog"]')?.textContent).toContain('Thu hồi máy "Điện thoại của Lan"?');
    expect(revokeDevice).not.toHaveBeenCalled();
    await fireEvent.click(q('.device .revoke-yes')!);
    await waitFor(() => expect(q('.device .revoked-badge')).not.toBeNull());
    expect(revokeDevice).toHaveBeenCalledWith(PHONE);
  });

  it('makes a volunteer team leader only after the officer confirms, and never a police officer', async () => {
    const promoted = people();
    promoted.people[0].person.role = 'team_leader';
    officePeople.mockResolvedValueOnce(people()).mockResolvedValue(promoted);
    setRole.mockResolvedValue(promoted.people[0].person);
    render(People);
    await waitFor(() => expect(q(`[data-person="${LAN}"] .switch-role`)).not.toBeNull());
    expect(q('[data-person="0190a0c0-0000-7000-8000-00000000000b"] .switch-role')).toBeNull();
    expect(q(`[data-person="${LAN}"] .switch-role`)?.textContent?.trim()).toBe('Cử làm tổ trưởng');
    await fireEvent.click(q(`[data-person="${LAN}"] .switch-role`)!);
    expect(q(`[data-person="${LAN}"] [role="alertdialog"]`)?.textContent).toContain('Cử Lò Thị Lan làm tổ trưởng?');
    expect(setRole).not.toHaveBeenCalled();
    await fireEvent.click(q(`[data-person="${LAN}"] .switch-yes`)!);
    await waitFor(() => expect(q(`[data-person="${LAN}"] .badge`)?.textContent).toBe('Tổ trưởng'));
    expect(setRole).toHaveBeenCalledWith(LAN, 'team_leader');
    expect(q(`[data-person="${LAN}"] .switch-role`)?.textContent?.trim()).toBe('Chuyển về tình nguyện viên');
  });

  it('says the list needs the server when offline, in English too', async () => {
    setLocale('en');
    officePeople.mockRejectedValue({ kind: 'offline', message: 'connection refused', fields: [] });
    render(People);
    await waitFor(() => expect(q('#people-error')?.textContent).toContain('The server cannot be reached'));
  });
});
