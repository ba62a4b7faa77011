// The dashboard against a fake server: sign-in and its refusals, the report and its numbers,
// drilling down and back up, the period, the downloads, sign-out's CSRF header and expiry.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { setLocale } from './i18n/locale.svelte';
import {
  CAMPAIGN_ID, COMMUNE, HAMLET1, SESSION, communeReport, fakeServer, hamletReport, json, problem, type Call,
} from './test/fixtures';

const q = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const text = (sel: string) => q(sel)?.textContent?.trim();
const API = '/dashboard/api/';
const reportCalls = (calls: Call[]) => calls.filter((c) => c.url.startsWith(`${API}report`));
const unauthorized = () => problem(401, 'unauthorized', 'Chưa đăng nhập / Not signed in');

beforeEach(() => {
  setLocale('vi');
  history.replaceState(null, '', '/dashboard/');
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

async function signIn(): Promise<void> {
  await waitFor(() => expect(q('#login-form')).not.toBeNull());
  await fireEvent.input(q('#login-user')!, { target: { value: 'dangvanthu' } });
  await fireEvent.input(q('#login-password')!, { target: { value: 'mat-khau-thu' } });
  await fireEvent.submit(q('#login-form')!);
}

describe('sign-in', () => {
  it('signs in and shows the first place report, keeping no password', async () => {
    const calls = fakeServer({
      [`GET ${API}session`]: unauthorized,
      [`POST ${API}login`]: () => json(200, SESSION),
      [`GET ${API}report`]: () => json(200, communeReport()),
    });
    render(App);
    await signIn();
    await waitFor(() => expect(text('#report-place')).toBe('Xã Mường Tè'));
    const login = calls.find((c) => c.url === `${API}login`)!;
    expect(login.method).toBe('POST');
    expect(login.body).toEqual({ user_name: 'dangvanthu', password: 'mat-khau-thu' });
    expect(reportCalls(calls)[0].url).toBe(`${API}report`);
    expect(q('#login-form')).toBeNull();
    expect(text('#logout')).toBe('Đăng xuất');
    const stored = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie;
    expect(stored).not.toContain('mat-khau-thu');
  });

  it("shows the server's words for wrong credentials and clears the password", async () => {
    fakeServer({
      [`GET ${API}session`]: unauthorized,
      [`POST ${API}login`]: () => problem(401, 'invalid_credentials', 'Sai tên đăng nhập hoặc mật khẩu / Wrong user name or password'),
    });
    render(App);
    await signIn();
    await waitFor(() => expect(text('#login-error')).toBe('Sai tên đăng nhập hoặc mật khẩu / Wrong user name or password'));
    expect(q<HTMLInputElement>('#login-password')!.value).toBe('');
    expect(q<HTMLInputElement>('#login-user')!.value).toBe('dangvanthu');
  });

  it('says how long to wait after too many attempts', async () => {
    fakeServer({
      [`GET ${API}session`]: unauthorized,
      [`POST ${API}login`]: () => problem(429, 'too_many_requests', 'Thử quá nhiều lần / Too many attempts', { 'Retry-After': '300' }),
    });
    render(App);
    await signIn();
    await waitFor(() => expect(text('#login-error')).toContain('Thử quá nhiều lần'));
    expect(text('#login-error')).toContain('Vui lòng thử lại sau 5 phút.');
    expect(q<HTMLButtonElement>('#login-submit')!.disabled).toBe(true);
  });

  it('explains a role that may not use the dashboard, and falls back to its own words', async () => {
    fakeServer({
      [`GET ${API}session`]: unauthorized,
      [`POST ${API}login`]: () => new Response('denied', { status: 403 }),
    });
    render(App);
    await signIn();
    await waitFor(() => expect(text('#login-error')).toBe('Bạn không có quyền xem nội dung này.'));
  });
});

describe('report', () => {
  function signedIn(reports: (call: Call) => Response = () => json(200, communeReport())): Call[] {
    return fakeServer({ [`GET ${API}session`]: () => json(200, SESSION), [`GET ${API}report`]: reports });
  }

  it("shows the place's numbers, trend, units, reasons, people, teams and downloads", async () => {
    signedIn();
    render(App);
    await waitFor(() => expect(text('#report-place')).toBe('Xã Mường Tè'));
    expect(text('#total-activated')).toBe('450');
    expect(text('#total-rate')).toBe('37,5 %');
    expect(text('#total-progress')).toBe('45,5 %');
    expect(text('#total-households')).toBe('250/300');
    expect(text('#range')).toContain('Từ 01/12/2026 đến 07/12/2026');
    expect(document.querySelector('main')!.textContent).toContain('Đủ điều kiện: 1.200');

    const bars = document.querySelectorAll('#trend .bar');
    expect(bars.length).toBe(3);
    expect(document.querySelectorAll('#trend title')[2].textContent).toBe('07/12/2026: 12 kích hoạt, 25 lượt tiếp cận');

    const first = q('#units tr[data-place="03445-01"]')!;
    expect(first.textContent).toContain('Bản Nậm Củm');
    expect(first.textContent).toContain('1.200');
    expect(first.textContent).toContain('45,7 %');
    expect(q('#units tr[data-place="03445-02"] .drill')).not.toBeNull();

    const reasons = [...document.querySelectorAll('#reasons li')].map((li) => li.textContent);
    expect(reasons).toEqual(['Đi nước ngoài 5', 'Vắng mặt, không liên lạc được 2', 'province_special 1']);
    expect(text('#people')).toContain('Lò Thị Mẫu');
    const team = text('#teams tbody tr');
    for (const cell of ['Tổ trưởng Lò Văn An', '37,5 %', '75,0 %', '40']) expect(team).toContain(cell);

    expect(q<HTMLAnchorElement>('#export-appendix')!.getAttribute('href')).toBe(`${API}appendix.xlsx?place=03445`);
    const lists = [...document.querySelectorAll<HTMLAnchorElement>('#export-lists a.export-list')];
    expect(lists.length).toBe(10);
    const csv = lists.find((a) => a.dataset.kind === 'cannot-activate' && a.dataset.format === 'csv')!;
    expect(csv.getAttribute('href')).toBe(`${API}lists/cannot-activate.csv?place=03445`);
    expect(q('#masked-note')).not.toBeNull();
  });

  it('hides the lists from roles that may not export them, and the note from the police', async () => {
    signedIn(() => json(200, communeReport({ may_export_lists: false, police: true })));
    render(App);
    await waitFor(() => expect(q('#export-appendix')).not.toBeNull());
    expect(q('#export-lists')).toBeNull();
    expect(q('#masked-note')).toBeNull();
  });

  it('drills into a hamlet and goes back up by the breadcrumb', async () => {
    const calls = signedIn((c) => json(200, c.url.includes('place=03445-01') ? hamletReport() : communeReport()));
    render(App);
    await waitFor(() => expect(q('#units tr[data-place="03445-01"] .drill')).not.toBeNull());
    await fireEvent.click(q('#units tr[data-place="03445-01"] .drill')!);
    await waitFor(() => expect(text('#report-place')).toBe(HAMLET1.name));
    expect(reportCalls(calls)[1].url).toBe(`${API}report?place=03445-01`);
    expect(location.search).toBe('?place=03445-01');
    await waitFor(() => expect(document.activeElement?.id).toBe('report-place'));
    expect(q('#units')).toBeNull();
    expect(q<HTMLAnchorElement>('#export-appendix')!.getAttribute('href')).toBe(`${API}appendix.xlsx?place=03445-01`);

    // the province is above the user's commune: shown, not a link
    const crumbs = [...document.querySelectorAll<HTMLAnchorElement>('#breadcrumb a.crumb')];
    expect(crumbs.map((a) => a.textContent)).toEqual([COMMUNE.name]);
    expect(text('#breadcrumb')).toContain('Tỉnh Lai Châu');
    await fireEvent.click(crumbs[0]);
    await waitFor(() => expect(text('#report-place')).toBe(COMMUNE.name));
    expect(reportCalls(calls)[2].url).toBe(`${API}report?place=03445`);

    // the browser's Back button returns to the hamlet
    history.back();
    await waitFor(() => expect(text('#report-place')).toBe(HAMLET1.name));
    expect(reportCalls(calls)[3].url).toBe(`${API}report?place=03445-01`);
  });

  it('asks for a campaign, then for days, and keeps the period in the downloads', async () => {
    const calls = signedIn();
    render(App);
    await waitFor(() => expect(q('#period')).not.toBeNull());
    await waitFor(() => expect(q<HTMLInputElement>('#from')!.value).toBe('2026-12-01'));
    await fireEvent.change(q('#period')!, { target: { value: CAMPAIGN_ID } });
    await waitFor(() => expect(reportCalls(calls)[1]?.url).toBe(`${API}report?campaign=${CAMPAIGN_ID}`));
    await waitFor(() => expect(q<HTMLButtonElement>('#show')!.disabled).toBe(false));

    await fireEvent.input(q('#from')!, { target: { value: '2026-11-01' } });
    await fireEvent.input(q('#until')!, { target: { value: '2026-11-30' } });
    expect(q<HTMLSelectElement>('#period')!.value).toBe('custom');
    await fireEvent.click(q('#show')!);
    await waitFor(() => expect(reportCalls(calls)[2]?.url).toBe(`${API}report?from=2026-11-01&until=2026-11-30`));
    await waitFor(() =>
      expect(q('#export-appendix')!.getAttribute('href')).toBe(`${API}appendix.xlsx?place=03445&from=2026-11-01&until=2026-11-30`),
    );

    // days the wrong way round are not sent
    await fireEvent.input(q('#from')!, { target: { value: '2026-12-10' } });
    await fireEvent.click(q('#show')!);
    expect(reportCalls(calls).length).toBe(3);
  });

  it("shows a load error in the server's words", async () => {
    signedIn(() => problem(403, 'forbidden', 'Ngoài địa bàn được giao / Outside your places'));
    render(App);
    await waitFor(() => expect(text('#error')).toContain('Ngoài địa bàn được giao'));
  });

  it('returns to sign-in with "session expired" on a 401', async () => {
    signedIn(unauthorized);
    render(App);
    await waitFor(() => expect(q('#login-form')).not.toBeNull());
    expect(text('#login-error')).toBe('Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.');
  });

  it('signs out with the CSRF header', async () => {
    const calls = fakeServer({
      [`GET ${API}session`]: () => json(200, SESSION),
      [`GET ${API}report`]: () => json(200, communeReport()),
      [`POST ${API}logout`]: () => new Response(null, { status: 204 }),
    });
    render(App);
    await waitFor(() => expect(q('#logout')).not.toBeNull());
    await fireEvent.click(q('#logout')!);
    await waitFor(() => expect(q('#login-form')).not.toBeNull());
    const out = calls.find((c) => c.url === `${API}logout`)!;
    expect(out.method).toBe('POST');
    expect(out.headers['X-CSRF-Token']).toBe('csrf-token-123');
    expect(q('#login-error')).toBeNull();
  });

  it('switches to English', async () => {
    signedIn();
    render(App);
    await waitFor(() => expect(text('#total-rate')).toBe('37,5 %'));
    await fireEvent.click(q('#lang-toggle')!);
    expect(text('#total-rate')).toBe('37.5%');
    expect(text('#logout')).toBe('Sign out');
    expect(document.documentElement.lang).toBe('en');
    expect(text('#reasons')).toContain('Abroad');
  });
});
