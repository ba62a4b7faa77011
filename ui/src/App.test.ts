// The whole app against a fake backend: the screens, the router and the E2E hooks.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { HouseholdSummary } from './bindings/HouseholdSummary';
import type { Household } from './bindings/Household';
import type { Resident } from './bindings/Resident';
import type { Visit } from './bindings/Visit';

type Handler = (args: Record<string, any> | undefined) => unknown;
const backend = new Map<string, Handler>();
const calls: Array<[string, unknown]> = [];
vi.mock('./ipc', () => ({
  call: async (command: string, args?: Record<string, unknown>) => {
    calls.push([command, args]);
    const handler = backend.get(command);
    if (!handler) throw { kind: 'internal', message: `no ${command}`, fields: [] };
    return handler(args);
  },
  onLocked: () => {},
}));

const { default: App } = await import('./App.svelte');
const { setLocale } = await import('./i18n/index.svelte');
const { homeFilters } = await import('./lib/homeState.svelte');
const { todayIso } = await import('./lib/format');

const LOCK = { has_pin: true, locked: false, idle_seconds: 300 };
const RETENTION = 30;
const enrollment = { server_url: 'http://127.0.0.1:1', user_name: 'Lò Thị Hoa', role: 'volunteer', scope_code: '03445', scope_name: 'Xã Mường Tè' };

let households: Household[];
let residents: Resident[];
let visits: Visit[];
let enrolled: boolean;
let quota: number | null;
let followUps: Array<Record<string, unknown>> = [];

function setup(): void {
  enrolled = true;
  households = [];
  residents = [];
  visits = [];
  calls.length = 0;
  backend.clear();
  backend.set('app_info', () => ({ enrollment: enrolled ? enrollment : null, default_server_url: 'http://127.0.0.1:1', version: '0.1.0', retention_days: RETENTION, lock: LOCK }));
  backend.set('enroll', (a) => {
    if (a!.code !== 'ABCD-EFGH') throw { kind: 'refused', message: 'Mã đăng ký không đúng / Wrong code', fields: [] };
    enrolled = true;
    return enrollment;
  });
  quota = null;
  backend.set('get_today', (a) => ({
    date: a!.date,
    quota,
    activated: visits.filter((v) => v.status === 'activated_level1' || v.status === 'used_portal').length,
    visited: visits.length,
    follow_ups: followUps,
    follow_ups_due: followUps.length,
    unsent: 0,
  }));
  backend.set('set_daily_quota', (a) => {
    quota = a!.quota;
    return null;
  });
  backend.set('list_hamlets', () => [
    { code: '03445-01', name: 'Bản Nà Khương', level: 'hamlet', division_type: 'bản', parent_code: '03445' },
    { code: '03445-02', name: 'Bản Pa Ủ', level: 'hamlet', division_type: 'bản', parent_code: '03445' },
  ]);
  backend.set('list_reasons', () => [
    { code: 'away', label_vi: 'Đi làm ăn xa', label_en: 'Away for work', can_activate_later: true, police_only: false, requires_note: false, province_code: null, sort_order: 1 },
    { code: 'in_prison', label_vi: 'Đang chấp hành án', label_en: 'In prison', can_activate_later: false, police_only: true, requires_note: false, province_code: null, sort_order: 2 },
  ]);
  backend.set('search_households', (): HouseholdSummary[] =>
    households.map((h) => {
      const rs = residents.filter((r) => r.household_id === h.id);
      return { household: h, residents: rs.length, visited: rs.filter((r) => r.status).length, activated: rs.filter((r) => r.status === 'used_portal').length };
    }),
  );
  backend.set('create_household', (a) => {
    const f = a!.form;
    if (f.address.trim() === '') {
      throw { kind: 'invalid', message: 'Dữ liệu chưa hợp lệ / Some fields need fixing', fields: [{ field: 'address', code: 'required', message_vi: 'Chưa nhập địa chỉ.', message_en: 'The address is missing.' }] };
    }
    const id = `h${households.length + 1}`;
    households.push({ id, hamlet_code: f.hamlet_code, address: f.address, head_name: f.head_name, members: null, smartphones: null, has_internet_computer: null, version: 1, review: null, field_versions: {}, removed: null });
    return id;
  });
  backend.set('get_household', (a) => {
    const h = households.find((x) => x.id === a!.id);
    if (!h) throw { kind: 'not_found', message: 'Không tìm thấy', fields: [] };
    return { household: h, hamlet_name: 'Bản Nà Khương', residents: residents.filter((r) => r.household_id === h.id) };
  });
  backend.set('survey_household', (a) => {
    Object.assign(households.find((x) => x.id === a!.survey.household_id)!, a!.survey);
    return null;
  });
  backend.set('add_resident', (a) => {
    const f = a!.form;
    const id = `r${residents.length + 1}`;
    residents.push({ id, household_id: f.household_id, full_name: f.full_name, birth_year: f.birth_year, sex: f.sex, cccd: f.cccd, phone: f.phone, version: 1, review: null, field_versions: {}, status: null, reason_code: null, follow_up: null, deciding_visit: null, visit_count: 0, removed: null, claim_check: null, checked_visit: null, merged_into: null });
    return id;
  });
  backend.set('find_duplicates', (a) =>
    residents
      .filter((r) => (a!.cccd != null && r.cccd === a!.cccd) || (r.full_name === a!.fullName && r.birth_year === a!.birthYear))
      .map((r) => ({ resident_id: r.id, household_id: r.household_id, full_name: r.full_name, birth_year: r.birth_year, hamlet_code: '03445-01', head_name: 'Chủ hộ', same_cccd: a!.cccd != null && r.cccd === a!.cccd })),
  );
  backend.set('get_resident', (a) => {
    const r = residents.find((x) => x.id === a!.id)!;
    return { resident: r, visits: visits.filter((v) => v.resident_id === r.id).slice().reverse() };
  });
  backend.set('record_visit', (a) => {
    const f = a!.form;
    const v: Visit = { id: `v${visits.length + 1}`, ...f, author: 'Lò Thị Hoa', device_id: 'd1', device_time: new Date().toISOString() };
    visits.push(v);
    const r = residents.find((x) => x.id === f.resident_id)!;
    r.status = f.status;
    r.reason_code = f.reason_code;
    return v.id;
  });
  backend.set('sync_status', () => ({ phase: 'idle', unsent: visits.length + residents.length + households.length, rejected: 0, last_success: null, progress: null, message: null, next_retry_secs: null }));
  backend.set('sync_now', () => null);
}

const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];
const q = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const need = async <T extends Element = HTMLElement>(sel: string): Promise<T> => {
  await waitFor(() => expect(q(sel), sel).not.toBeNull());
  return q<T>(sel)!;
};
const type = (sel: string, value: string) => fireEvent.input(q(sel)!, { target: { value } });
const choose = (sel: string, value: string) => fireEvent.change(q(sel)!, { target: { value } });

beforeEach(() => {
  setup();
  setLocale('vi');
  homeFilters.text = '';
  homeFilters.status = '';
  homeFilters.hamlet = '';
  window.scrollTo = vi.fn() as unknown as typeof window.scrollTo;
  history.replaceState(null, '');
});

describe('App', () => {
  it('enrolls, showing the error message on failure', async () => {
    enrolled = false;
    render(App);
    const url = await need<HTMLInputElement>('#server-url');
    expect(url.value).toBe('http://127.0.0.1:1');
    expect(q('#sync-bar')).toBeNull();
    expect(q('#back')).toBeNull();
    expect(q('#lang-toggle')).not.toBeNull();

    await type('#enroll-code', 'wxyz-0000');
    await type('#device-name', 'Máy của Lan');
    await fireEvent.click(q('#enroll-submit')!);
    const err = await need('#enroll-error');
    expect(err.textContent).toContain('Mã đăng ký không đúng');

    await type('#enroll-code', 'abcd efgh');
    await type('#enroll-pin', '246810');
    await type('#enroll-pin-confirm', '246810');
    await fireEvent.click(q('#enroll-submit')!);
    await need('#user-name');
    expect(calls).toContainEqual(['enroll', { serverUrl: 'http://127.0.0.1:1', code: 'ABCD-EFGH', deviceName: 'Máy của Lan', pin: '246810', pinConfirm: '246810' }]);
    expect(q('#user-name')!.textContent).toBe('Lò Thị Hoa');
    await need('#sync-bar');
    expect(q('#wiped-notice')).toBeNull();
  });

  it('a locked app shows only the PIN screen, and a wrong PIN says so', async () => {
    let locked = true;
    backend.set('app_info', () => ({ enrollment: locked ? null : enrollment, default_server_url: null, version: '0.1.0', sandbox: false, wiped: false, lock: { ...LOCK, locked } }));
    backend.set('unlock', (a) => {
      if (a!.pin !== '135790') throw { kind: 'wrong_pin', message: 'Sai mã PIN. Còn 4 lần thử / Wrong PIN. 4 tries left before a wait', fields: [] };
      locked = false;
      return { enrollment, default_server_url: null, version: '0.1.0', sandbox: false, wiped: false, lock: { ...LOCK, locked } };
    });
    render(App);
    await need('#unlock-pin');
    expect(q('#sync-bar')).toBeNull();
    expect(q('#enroll-code')).toBeNull();
    expect(q('#lock-now')).toBeNull();
    expect(calls.map((c) => c[0])).not.toContain('search_households');
    await type('#unlock-pin', '000000');
    await fireEvent.submit(q('#unlock-pin')!.closest('form')!);
    const err = await need('#unlock-error');
    expect(err.textContent).toContain('Còn 4 lần thử');
    expect(q<HTMLInputElement>('#unlock-pin')!.value).toBe('');
    await type('#unlock-pin', '135790');
    await fireEvent.submit(q('#unlock-pin')!.closest('form')!);
    await need('#user-name');
    await need('#lock-now');
  });

  it('a forgotten PIN erases the phone only after a second, explained tap', async () => {
    backend.set('app_info', () => ({ enrollment: null, default_server_url: null, version: '0.1.0', retention_days: RETENTION, sandbox: false, wiped: false, lock: { ...LOCK, locked: true } }));
    backend.set('wipe_forgotten', () => ({ enrollment: null, default_server_url: null, version: '0.1.0', retention_days: RETENTION, sandbox: false, wiped: false, lock: { ...LOCK, has_pin: false, locked: false } }));
    render(App);
    await need('#unlock-pin');
    await fireEvent.click(q('#forgot-pin')!);
    expect((await need('#forgot-warning')).textContent).toContain('Các bản ghi chưa gửi lên máy chủ sẽ mất');
    await fireEvent.click(q('#forgot-cancel')!);
    await need('#forgot-pin');
    expect(calls.map((c) => c[0])).not.toContain('wipe_forgotten');
    await fireEvent.click(q('#forgot-pin')!);
    await fireEvent.click(await need('#forgot-confirm'));
    await need('#enroll-code');
    expect(calls.map((c) => c[0])).toContain('wipe_forgotten');
  });

  it('the lock button locks, and so does idling', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      backend.set('app_info', () => ({ enrollment, default_server_url: null, version: '0.1.0', sandbox: false, wiped: false, lock: { ...LOCK, idle_seconds: 60 } }));
      backend.set('lock_app', () => ({ enrollment: null, default_server_url: null, version: '0.1.0', sandbox: false, wiped: false, lock: { ...LOCK, locked: true } }));
      render(App);
      await need('#user-name');
      vi.advanceTimersByTime(61_000);
      await need('#unlock-pin');
      expect(calls.map((c) => c[0])).toContain('lock_app');
      expect(q('#user-name')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('an enrolled device without a PIN sets one before anything else', async () => {
    let hasPin = false;
    const info = () => ({ enrollment, default_server_url: null, version: '0.1.0', sandbox: false, wiped: false, lock: { ...LOCK, has_pin: hasPin } });
    backend.set('app_info', info);
    backend.set('set_pin', (a) => {
      if (a!.pin !== a!.confirm) throw { kind: 'invalid_pin', message: 'Hai lần nhập mã PIN không giống nhau / The two PINs differ', fields: [] };
      hasPin = true;
      return info();
    });
    render(App);
    await need('#setpin-pin');
    expect(q('#user-name')).toBeNull();
    await type('#setpin-pin', '112233');
    await type('#setpin-pin-confirm', '112234');
    await fireEvent.click(q('#setpin-submit')!);
    expect((await need('#setpin-error')).textContent).toContain('không giống nhau');
    await type('#setpin-pin-confirm', '112233');
    await fireEvent.click(q('#setpin-submit')!);
    await need('#user-name');
  });

  it("Home's menu opens Đổi mã PIN, and back", async () => {
    backend.set('change_pin', (a) => {
      if (a!.currentPin !== '135790') throw { kind: 'wrong_pin', message: 'Sai mã PIN. Còn 4 lần thử / Wrong PIN. 4 tries left before a wait', fields: [] };
      return { enrollment, default_server_url: null, version: '0.1.0', sandbox: false, wiped: false, lock: LOCK };
    });
    render(App);
    await need('#user-name');
    await fireEvent.click(await need('#changepin-open'));
    await need('#changepin-current');
    expect(q('#back')).not.toBeNull();
    await type('#changepin-current', '135790');
    await type('#changepin-pin', '246801');
    await type('#changepin-pin-confirm', '246801');
    await fireEvent.click(q('#changepin-submit')!);
    await need('#changepin-done');
    expect(calls).toContainEqual(['change_pin', { currentPin: '135790', newPin: '246801', confirm: '246801' }]);
    await fireEvent.click(q('#changepin-back')!);
    await need('#user-name');
    expect(q('#changepin-current')).toBeNull();
  });

  it('a device without a PIN offers no PIN change', async () => {
    backend.set('app_info', () => ({ enrollment, default_server_url: null, version: '0.1.0', sandbox: true, wiped: false, lock: { ...LOCK, has_pin: false } }));
    render(App);
    await need('#user-name');
    expect(q('#changepin-open')).toBeNull();
  });

  it('shows the personal-data notice before enrollment and after, and goes back', async () => {
    enrolled = false;
    render(App);
    await need('#enroll-code');
    await fireEvent.click(q('#privacy-open')!);
    const notice = await need('#privacy-notice');
    expect(notice.textContent).toContain('Nghị định 13/2023/NĐ-CP');
    expect(notice.textContent).toContain('chỉ lực lượng công an được xem');
    expect(q('#privacy-retention')!.textContent).toContain('sau 30 ngày');
    await fireEvent.click(q('#back')!);
    await need('#enroll-code');
    cleanup();
    enrolled = true;
    render(App);
    await need('#user-name');
    await fireEvent.click(q('#privacy-open')!);
    await need('#privacy-notice');
    setLocale('en');
    await waitFor(() => expect(q('#privacy-retention')!.textContent).toContain('after 30 days'));
  });

  it('after the server revoked the device, the enroll screen says its data was erased', async () => {
    enrolled = false;
    backend.set('app_info', () => ({ enrollment: null, default_server_url: null, version: '0.1.0', retention_days: RETENTION, lock: LOCK, sandbox: false, wiped: true }));
    render(App);
    const notice = await need('#wiped-notice');
    expect(notice.getAttribute('role')).toBe('alert');
    expect(notice.textContent).toContain('Máy chủ đã thu hồi thiết bị này');
    expect(notice.textContent).toContain('mã đăng ký mới');
    await need('#enroll-code');
  });

  it('walks household → resident → visit and back', async () => {
    render(App);
    await need('#user-name');
    expect(q('#back')).toBeNull();
    expect(document.body.textContent).toContain('Xã Mường Tè');
    await waitFor(() => expect(q('#hamlet-filter')!.querySelectorAll('option')).toHaveLength(3));
    const statusValues = [...q<HTMLSelectElement>('#status-filter')!.options].map((o) => o.value);
    expect(statusValues).toEqual(['', 'unvisited', 'follow_up_due', 'done', 'no_chip_cccd', 'not_registered', 'registered_pending', 'approved_not_activated', 'activated_level1', 'activated_level2', 'used_portal', 'cannot_activate']);

    // New household: a backend field error shows next to its field.
    await fireEvent.click(q('#add-household')!);
    await need('#hh-save');
    expect(q('#back')).not.toBeNull();
    await choose('#hh-hamlet', '03445-01');
    await type('#hh-head', 'Nguyễn Văn Thành');
    await fireEvent.click(q('#hh-save')!);
    const addrErr = await need('.field-error[data-field="address"]');
    expect(addrErr.textContent).toContain('Chưa nhập địa chỉ.');
    expect(addrErr.closest('.field')!.querySelector('#hh-address')).not.toBeNull();
    await type('#hh-address', 'Số 12, xóm Đồi');
    await fireEvent.click(q('#hh-save')!);

    // The household opens; survey it.
    const title = await need('#household-title');
    expect(title.textContent).toContain('Nguyễn Văn Thành');
    await type('#survey-members', '4');
    await type('#survey-smartphones', '2');
    await fireEvent.click(q('#survey-computer')!);
    await fireEvent.click(q('#survey-save')!);
    await need('#survey-saved');
    expect(calls).toContainEqual(['survey_household', { survey: { household_id: 'h1', members: 4, smartphones: 2, has_internet_computer: true } }]);

    // Add a resident; back on the household, they are listed.
    await fireEvent.click(q('#add-resident')!);
    await need('#res-save');
    await type('#res-name', 'Lê Thị Mai');
    await type('#res-birth-year', '1972');
    await choose('#res-sex', 'female');
    await type('#res-cccd', '001172004567');
    await fireEvent.click(q('#res-save')!);
    const item = await need('.resident-item');
    expect(item.getAttribute('data-id')).toBe('r1');
    expect(item.textContent).toContain('Chưa thăm');

    // Record a visit.
    await fireEvent.click(item);
    const name = await need('#resident-name');
    expect(name.textContent).toBe('Lê Thị Mai');
    expect(document.body.textContent).toContain('********4567');
    expect(document.body.textContent).not.toContain('001172004567');
    // Police-only reasons are not offered to volunteers.
    expect([...q<HTMLSelectElement>('#visit-reason')!.options].map((o) => o.value)).toEqual(['', 'away']);
    await choose('#visit-status', 'not_registered');
    await choose('#visit-reason', 'away');
    await choose('#visit-action', 'guided_level1');
    await type('#visit-note', 'Tết về');
    await fireEvent.click(q('#visit-save')!);
    await need('#visit-saved');
    await waitFor(() => expect(document.querySelectorAll('.visit-item')).toHaveLength(1));
    expect(q('.visit-item')!.textContent).toContain('Chưa đăng ký');
    expect(q('.visit-item')!.textContent).toContain('Đi làm ăn xa');

    // Back to the household (refreshed), then home.
    await fireEvent.click(q('#back')!);
    await need('.resident-item');
    await waitFor(() => expect(q('.resident-item')!.textContent).toContain('Chưa đăng ký'));
    await fireEvent.click(q('#back')!);
    const hh = await need('.household-item');
    expect(hh.getAttribute('data-id')).toBe('h1');
    expect(hh.textContent).toContain('Đã kích hoạt 0/1');
    expect(q('#back')).toBeNull();
  });

  it('sends filters to the search and switches language', async () => {
    render(App);
    await need('#user-name');
    await choose('#status-filter', 'unvisited');
    await waitFor(() => expect(last(calls)).toEqual(['search_households', { query: { text: '', hamlet_code: null, status: { kind: 'unvisited' }, limit: 100, offset: null, today: todayIso() } }]));
    await choose('#status-filter', 'activated_level1');
    await choose('#hamlet-filter', '03445-02');
    await type('#search', 'thanh');
    await waitFor(() =>
      expect(last(calls.filter((c) => c[0] === 'search_households'))).toEqual([
        'search_households',
        {
          query: {
            text: 'thanh',
            hamlet_code: '03445-02',
            status: { kind: 'state', state: 'activated_level1' },
            limit: 100,
            offset: null,
            today: todayIso(),
          },
        },
      ]),
    );

    expect(q('#add-household')!.textContent).toContain('Thêm hộ');
    await fireEvent.click(q('#lang-toggle')!);
    await waitFor(() => expect(q('#add-household')!.textContent).toContain('Add household'));
    expect(localStorage.getItem('gocua.locale')).toBe('en');
    expect(document.documentElement.lang).toBe('en');
    await fireEvent.click(q('#lang-toggle')!);
    await waitFor(() => expect(q('#add-household')!.textContent).toContain('Thêm hộ'));
  });

  it('Telex and VNI composition: what the keyboard composes is what is searched and saved', async () => {
    render(App);
    await need('#user-name');
    const box = q<HTMLInputElement>('#search')!;
    // Telex "nguyeenx" composes to "nguyễn" through intermediate text, as Gboard and Laban Key do
    await fireEvent.compositionStart(box);
    for (const partial of ['n', 'ng', 'ngu', 'nguy', 'nguye', 'nguyê', 'nguyên', 'nguyễn']) {
      box.value = partial;
      await fireEvent.input(box, { isComposing: true });
    }
    await fireEvent.compositionEnd(box, { data: 'nguyễn' });
    await waitFor(() =>
      expect(last(calls.filter((c) => c[0] === 'search_households'))![1]).toMatchObject({ query: { text: 'nguyễn' } }),
    );
    expect(box.value).toBe('nguyễn');
    // VNI on some keyboards sends decomposed marks (NFD): passed on as typed, the core folds both
    const nfd = 'Nguyê\u0303n';
    box.value = nfd;
    await fireEvent.input(box);
    await waitFor(() =>
      expect(last(calls.filter((c) => c[0] === 'search_households'))![1]).toMatchObject({ query: { text: nfd } }),
    );
  });

  it('debounces the search box', async () => {
    render(App);
    await need('#user-name');
    await waitFor(() => expect(calls.some((c) => c[0] === 'search_households')).toBe(true));
    const before = calls.filter((c) => c[0] === 'search_households').length;
    await type('#search', 'n');
    await type('#search', 'ng');
    await type('#search', 'ngu');
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.filter((c) => c[0] === 'search_households').length).toBe(before);
    await waitFor(() => expect(calls.filter((c) => c[0] === 'search_households').length).toBe(before + 1));
    expect(last(calls.filter((c) => c[0] === 'search_households'))![1]).toMatchObject({ query: { text: 'ngu' } });
  });

  it('enters training mode, shows it on every screen, resets and leaves it', async () => {
    const trainer = { server_url: '', user_name: 'Giảng viên tập huấn', role: 'trainer', scope_code: '03478', scope_name: 'Xã Sìn Hồ' };
    const sandboxInfo = { enrollment: trainer, default_server_url: null, version: '0.1.0', retention_days: RETENTION, lock: LOCK, sandbox: true };
    backend.set('enter_sandbox', () => sandboxInfo);
    backend.set('reset_sandbox', () => sandboxInfo);
    backend.set('leave_sandbox', () => ({ enrollment, default_server_url: null, version: '0.1.0', retention_days: RETENTION, lock: LOCK, sandbox: false }));
    backend.set('sync_status', () => ({ phase: 'sandbox', unsent: 0, rejected: 0, last_success: null, progress: null, message: null, next_retry_secs: null }));
    render(App);
    await need('#user-name');
    expect(q('#sandbox-banner')).toBeNull();
    homeFilters.hamlet = '03445-02';
    await fireEvent.click(q('#sandbox-enter')!);
    await need('#sandbox-banner');
    expect(q('#user-name')!.textContent).toBe('Giảng viên tập huấn');
    expect(q('#sandbox-enter')).toBeNull();
    // a real hamlet filter does not carry into the sample commune
    expect(homeFilters.hamlet).toBe('');
    await waitFor(() => expect(q('#sync-message')?.textContent).toContain('không bao giờ được đồng bộ'));
    await fireEvent.click(q('#sandbox-reset')!);
    await waitFor(() => expect(calls.map((c) => c[0])).toContain('reset_sandbox'));
    await fireEvent.click(q('#sandbox-leave')!);
    await waitFor(() => expect(q('#sandbox-banner')).toBeNull());
    expect(q('#user-name')!.textContent).toBe('Lò Thị Hoa');
  });

  it('training mode can be entered before any enrollment', async () => {
    enrolled = false;
    backend.set('enter_sandbox', () => ({
      enrollment: { server_url: '', user_name: 'Giảng viên tập huấn', role: 'trainer', scope_code: '03478', scope_name: 'Xã Sìn Hồ' },
      default_server_url: null,
      version: '0.1.0', retention_days: RETENTION, lock: LOCK,
      sandbox: true,
    }));
    render(App);
    await need('#enroll-code');
    await fireEvent.click(q('#sandbox-enter')!);
    await need('#sandbox-banner');
    expect(document.body.textContent).toContain('Xã Sìn Hồ');
  });

  it('shows the day: quota progress from activations only, the follow-ups due, and sets the quota', async () => {
    followUps = [1, 2, 3, 4].map((n) => ({
      resident_id: `r${n}`,
      full_name: `Người số ${n}`,
      household_id: 'h1',
      head_name: 'Lò Văn Páo',
      address: 'Số 5',
      hamlet_code: '03445-01',
      status: 'registered_pending',
      reason_code: n === 1 ? 'away' : null,
      action: null,
      due: '2026-11-20',
    }));
    residents.push({ id: 'r1', household_id: 'h1', full_name: 'Người số 1', birth_year: 1990, sex: 'female', cccd: null, phone: null, version: 1, review: null, field_versions: {}, status: 'registered_pending', reason_code: null, follow_up: '2026-11-20', deciding_visit: null, visit_count: 1, removed: null, claim_check: null, checked_visit: null, merged_into: null });
    render(App);
    await need('#today');
    await waitFor(() => expect(q('#today-activated')!.textContent).toContain('Đã kích hoạt 0 tài khoản'));
    expect(calls).toContainEqual(['get_today', { date: todayIso(), utcOffsetMinutes: -new Date().getTimezoneOffset() }]);
    expect(document.querySelectorAll('.follow-up-item')).toHaveLength(3);
    expect(q('.follow-up-item')!.textContent).toContain('Đi làm ăn xa');
    await fireEvent.click(q('#quota-edit')!);
    await fireEvent.input(q('#quota-input')!, { target: { value: '0' } });
    await fireEvent.submit(q('#quota-input')!.closest('form')!);
    await need('.field-error');
    await fireEvent.input(q('#quota-input')!, { target: { value: '20' } });
    await fireEvent.submit(q('#quota-input')!.closest('form')!);
    await waitFor(() => expect(q('#today-activated')!.textContent).toContain('0/20'));
    expect(calls).toContainEqual(['set_daily_quota', { quota: 20 }]);
    await fireEvent.click(q('#today-show-all')!);
    await waitFor(() => expect(q<HTMLSelectElement>('#status-filter')!.value).toBe('follow_up_due'));
    expect(q('#today'), 'the card gives way to the filtered list').toBeNull();
    homeFilters.status = '';
    await need('.follow-up-item');
    await fireEvent.click(q('.follow-up-item')!);
    await need('#resident-name');
    expect(q('#resident-name')!.textContent).toContain('Người số 1');
    followUps = [];
  });

  it('a team leader opens the team: who is behind comes first; a volunteer has no such button', async () => {
    render(App);
    await need('#today');
    expect(q('#open-team')).toBeNull();
    cleanup();
    const leader = { ...enrollment, user_name: 'Hà Văn Tổ', role: 'team_leader' };
    backend.set('app_info', () => ({ enrollment: leader, default_server_url: null, version: '0.1.0', retention_days: RETENTION, lock: LOCK, sandbox: false }));
    const member = (name: string, today: number, behind: boolean, quota = 2) => ({
      user_id: name,
      name,
      role: 'volunteer',
      activated_today: today,
      activated_total: today + 5,
      visited_today: today + 1,
      follow_ups_due: 0,
      quota_today: quota,
      behind,
      checked: behind ? 0 : 3,
      confirmed: behind ? 0 : 2,
      found_wrong: behind ? 0 : 1,
    });
    backend.set('get_team', () => ({
      date: '2026-11-22',
      quota: 2,
      members: [member('Mùa A Mỏ', 0, true), member('Lò Thị Lan', 2, false), member('Giàng A Dũng', 1, true, 3)],
      activated_today: 2,
      activated_total: 12,
    }));
    render(App);
    await fireEvent.click(await need('#open-team'));
    await need('#team-title');
    await waitFor(() => expect(q('#team-behind')!.textContent).toContain('Mùa A Mỏ'));
    expect(q('#team-behind')!.textContent).toContain('0/2');
    // the office's campaign asks Dũng for 3 a day: his own number, not the leader's
    expect(q("#team-behind [data-id='Giàng A Dũng']")!.textContent).toContain('1/3');
    expect(q('#team-on-track')!.textContent).toContain('Lò Thị Lan');
    expect(q('#team-activated')!.textContent).toContain('2 hôm nay · 12 cả đợt');
    // the spot-check's findings on each person's claims
    expect(q('#team-on-track .team-checked')!.textContent).toContain('Kiểm tra: 2/3 xác nhận');
    expect(q('#team-on-track .team-wrong')!.textContent).toContain('1 báo cáo sai');
    expect(q('#team-behind .team-checked')).toBeNull();
  });

  it('pages the household list: the next 100 come on demand, with the right offset', async () => {
    const many = Array.from({ length: 130 }, (_, n) => ({
      id: `h${n}`,
      hamlet_code: '03445-01',
      address: `Số ${n}`,
      head_name: `Chủ hộ ${n}`,
      members: null,
      smartphones: null,
      has_internet_computer: null,
      version: 1,
      review: null,
      field_versions: {},
      removed: null,
    }));
    backend.set('search_households', (a) => {
      const { limit, offset } = a!.query;
      return many.slice(offset ?? 0, (offset ?? 0) + (limit ?? 200)).map((h) => ({ household: h, residents: 0, visited: 0, activated: 0 }));
    });
    render(App);
    await waitFor(() => expect(q('.list-count')!.textContent).toContain('100 hộ đầu tiên'));
    // only the rows near the screen are drawn; each says where it stands in the whole list
    const drawn = document.querySelectorAll('#household-list li');
    expect(drawn.length).toBeGreaterThan(3);
    expect(drawn.length).toBeLessThan(40);
    expect(drawn[0].getAttribute('aria-posinset')).toBe('1');
    expect(drawn[0].getAttribute('aria-setsize')).toBe('100');
    expect(q('#household-list')!.getAttribute('data-rows')).toBe('100');
    await fireEvent.click(q('#load-more')!);
    await waitFor(() => expect(q('#household-list')!.getAttribute('data-rows')).toBe('130'));
    expect(document.querySelector('#household-list li')!.getAttribute('aria-setsize')).toBe('130');
    expect(last(calls.filter((c) => c[0] === 'search_households'))![1]).toMatchObject({ query: { limit: 100, offset: 100 } });
    expect(q('#load-more')).toBeNull();
    expect(q('.list-count')!.textContent).toContain('130 hộ');
    // a sync finishing reloads the list as long as it was, not back to its first page
    const before = calls.filter((c) => c[0] === 'search_households').length;
    backend.set('sync_status', () => ({ phase: 'idle', unsent: 0, rejected: 0, last_success: '2026-11-22T08:00:00Z', progress: null, message: null, next_retry_secs: null }));
    await fireEvent.click(q('#sync-now')!);
    await waitFor(() => expect(calls.filter((c) => c[0] === 'search_households').length).toBeGreaterThan(before));
    expect(last(calls.filter((c) => c[0] === 'search_households'))![1]).toMatchObject({ query: { limit: 200 } });
    await waitFor(() => expect(q('#household-list')!.getAttribute('data-rows')).toBe('130'));
  });
});
