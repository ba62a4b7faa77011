// "Đổi mã PIN" against a fake backend: the current PIN, the new one twice, the shell's answer.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const changePin = vi.fn();
vi.mock('../api/app', async (original) => ({
  ...(await original<typeof import('../api/app')>()),
  changePin: (...a: unknown[]) => changePin(...a),
}));

const { default: ChangePin } = await import('./ChangePin.svelte');
const { setLocale } = await import('../i18n/index.svelte');

const q = <T extends Element = HTMLElement>(sel: string) => document.querySelector<T>(sel);
const type = (sel: string, value: string) => fireEvent.input(q(sel)!, { target: { value } });
const info = { enrollment: null, default_server_url: null, version: '0.1.0', sandbox: false, wiped: false, retention_days: 30, lock: { has_pin: true, locked: false, idle_seconds: 300 } };

async function fill(current: string, pin: string, confirm: string): Promise<void> {
  await type('#changepin-current', current);
  await type('#changepin-pin', pin);
  await type('#changepin-pin-confirm', confirm);
  await fireEvent.submit(q('#changepin-current')!.closest('form')!);
}

beforeEach(() => {
  changePin.mockReset();
  setLocale('vi');
});

afterEach(() => cleanup());

describe('ChangePin screen', () => {
  it('asks the current PIN and the new one twice, then says it is changed', async () => {
    changePin.mockResolvedValue(info);
    const ondone = vi.fn();
    const onchanged = vi.fn();
    render(ChangePin, { ondone, onchanged });
    expect(q('h1')!.textContent).toBe('Đổi mã PIN');
    const labels = Array.from(document.querySelectorAll('label')).map((l) => l.textContent);
    expect(labels).toEqual(['Mã PIN đang dùng', 'Mã PIN mới (6 số)', 'Nhập lại mã PIN mới']);
    for (const id of ['#changepin-current', '#changepin-pin', '#changepin-pin-confirm']) {
      expect(q<HTMLInputElement>(id)!.type, id).toBe('password');
      expect(q<HTMLInputElement>(id)!.inputMode, id).toBe('numeric');
    }
    expect(q<HTMLButtonElement>('#changepin-submit')!.disabled).toBe(true);

    await fill('135790', '246801', '246801');
    await waitFor(() => expect(q('#changepin-done')).not.toBeNull());
    expect(changePin).toHaveBeenCalledWith('135790', '246801', '246801');
    expect(onchanged).toHaveBeenCalledWith(info);
    expect(q('#changepin-done')!.getAttribute('role')).toBe('status');
    expect(q('#changepin-done')!.textContent).toContain('Đã đổi mã PIN');
    expect(q('#changepin-current')).toBeNull();
    await fireEvent.click(q('#changepin-back')!);
    expect(ondone).toHaveBeenCalledOnce();
  });

  it('shows a wrong current PIN, and the wait, on the current field and keeps the new one', async () => {
    changePin
      .mockRejectedValueOnce({ kind: 'wrong_pin', message: 'Sai mã PIN. Còn 4 lần thử / Wrong PIN. 4 tries left before a wait', fields: [] })
      .mockRejectedValueOnce({ kind: 'pin_wait', message: 'Đã nhập sai nhiều lần: chờ 30 giây rồi thử lại / Too many wrong PINs: wait 30 s', fields: [] });
    render(ChangePin, { ondone: () => {} });
    await fill('000000', '246801', '246801');
    const error = await waitFor(() => {
      const e = q('#changepin-error');
      expect(e).not.toBeNull();
      return e!;
    });
    expect(error.textContent).toContain('Còn 4 lần thử');
    expect(error.getAttribute('role')).toBe('alert');
    expect(q('#changepin-current')!.getAttribute('aria-invalid')).toBe('true');
    expect(q<HTMLInputElement>('#changepin-current')!.value).toBe('');
    expect(q<HTMLInputElement>('#changepin-pin')!.value).toBe('246801');

    await type('#changepin-current', '111111');
    await fireEvent.submit(q('#changepin-current')!.closest('form')!);
    await waitFor(() => expect(q('#changepin-error')!.textContent).toContain('chờ 30 giây'));
    expect(q('#changepin-error')!.getAttribute('data-kind')).toBe('pin_wait');
    expect(q('#changepin-done')).toBeNull();
  });

  it('says what is wrong with the new PIN without blaming the current one', async () => {
    changePin.mockRejectedValue({ kind: 'invalid_pin', message: 'Hai lần nhập mã PIN không giống nhau / The two PINs differ', fields: [] });
    render(ChangePin, { ondone: () => {} });
    await fill('135790', '246801', '246810');
    await waitFor(() => expect(q('#changepin-error')!.textContent).toContain('không giống nhau'));
    expect(q('#changepin-current')!.getAttribute('aria-invalid')).toBe('false');
    expect(q<HTMLInputElement>('#changepin-current')!.value).toBe('135790');
  });

  it('speaks English too', async () => {
    setLocale('en');
    render(ChangePin, { ondone: () => {} });
    expect(q('h1')!.textContent).toBe('Change PIN');
    expect(Array.from(document.querySelectorAll('label')).map((l) => l.textContent)).toEqual([
      'Current PIN',
      'New PIN (6 digits)',
      'Repeat the new PIN',
    ]);
  });
});
