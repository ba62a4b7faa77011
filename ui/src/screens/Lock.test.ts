// The PIN screen while the shell checks for a revocation: once the shell wiped a revoked
// device (and lifted the lock, no PIN left), the screen hands over without a PIN.
import { cleanup, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const appInfo = vi.fn();
vi.mock('../api/app', async (original) => ({
  ...(await original<typeof import('../api/app')>()),
  appInfo: (...a: unknown[]) => appInfo(...a),
}));

const { default: Lock } = await import('./Lock.svelte');
const { setLocale } = await import('../i18n/index.svelte');

const info = (locked: boolean, wiped: boolean) => ({
  enrollment: null,
  default_server_url: null,
  version: '0.1.0',
  sandbox: false,
  wiped,
  retention_days: 30,
  lock: { has_pin: locked, locked, idle_seconds: 300 },
});

beforeEach(() => {
  appInfo.mockReset();
  setLocale('vi');
  vi.useFakeTimers({ shouldAdvanceTime: true });
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('Lock screen', () => {
  it('keeps asking while locked and hands over once a revocation wiped the phone', async () => {
    appInfo.mockResolvedValue(info(true, false));
    const onunlocked = vi.fn();
    render(Lock, { onunlocked });
    await vi.advanceTimersByTimeAsync(3000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(appInfo).toHaveBeenCalledTimes(2);
    expect(onunlocked).not.toHaveBeenCalled();

    appInfo.mockResolvedValue(info(false, true));
    await vi.advanceTimersByTimeAsync(3000);
    await waitFor(() => expect(onunlocked).toHaveBeenCalledOnce());
    expect(onunlocked.mock.calls[0][0]).toMatchObject({ wiped: true, lock: { locked: false, has_pin: false } });
  });

  it('stops asking once it is gone, and a failed ask is quiet', async () => {
    appInfo.mockRejectedValue({ kind: 'internal', message: 'x', fields: [] });
    const onunlocked = vi.fn();
    const { unmount } = render(Lock, { onunlocked });
    await vi.advanceTimersByTimeAsync(3000);
    expect(appInfo).toHaveBeenCalledOnce();
    expect(document.querySelector('#unlock-error')).toBeNull();
    unmount();
    await vi.advanceTimersByTimeAsync(9000);
    expect(appInfo).toHaveBeenCalledOnce();
    expect(onunlocked).not.toHaveBeenCalled();
  });
});
