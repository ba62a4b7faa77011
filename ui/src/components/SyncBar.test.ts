import { render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SyncView } from '../bindings/SyncView';

const syncStatus = vi.fn();
const syncNow = vi.fn();
const exportBundle = vi.fn();
vi.mock('../api/sync', () => ({
  syncStatus: (...a: unknown[]) => syncStatus(...a),
  syncNow: (...a: unknown[]) => syncNow(...a),
  exportBundle: (...a: unknown[]) => exportBundle(...a),
}));

const { default: SyncBar } = await import('./SyncBar.svelte');
const { setLocale } = await import('../i18n/index.svelte');
const { emitLocalChange } = await import('../lib/changes');

const view = (over: Partial<SyncView> = {}): SyncView => ({
  phase: 'idle',
  unsent: 0,
  rejected: 0,
  last_success: null,
  progress: null,
  message: null,
  next_retry_secs: null,
  ...over,
});

const q = (sel: string) => document.querySelector(sel);

beforeEach(() => {
  syncStatus.mockReset();
  syncNow.mockReset();
  syncNow.mockResolvedValue(undefined);
  setLocale('vi');
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SyncBar', () => {
  it('offers the hand-carried file only when offline with unsent records, and says where it went', async () => {
    syncStatus.mockResolvedValue(view({ phase: 'idle', unsent: 3 }));
    const { unmount } = render(SyncBar);
    await waitFor(() => expect(q('#sync-unsent')!.textContent).toContain('3'));
    expect(q('#export-bundle')).toBeNull();
    unmount();
    syncStatus.mockResolvedValue(view({ phase: 'offline', unsent: 3 }));
    exportBundle.mockResolvedValue({ path: '/sdcard/Download/gocua-20261122.gocua', events: 3 });
    render(SyncBar);
    await waitFor(() => expect(q('#export-bundle')).not.toBeNull());
    (q('#export-bundle') as HTMLButtonElement).click();
    await waitFor(() => expect(q('#export-result')!.textContent).toContain('/sdcard/Download/gocua-20261122.gocua'));
    expect(q('#export-result')!.textContent).toContain('Đã lưu 3 bản ghi');
    expect(exportBundle).toHaveBeenCalledTimes(1);
  });


  it('shows the unsent count, never-synced and the sync button', async () => {
    syncStatus.mockResolvedValue(view({ unsent: 7 }));
    render(SyncBar);
    await waitFor(() => expect(q('#sync-unsent')!.textContent).toContain('7'));
    expect(q('#sync-unsent')!.textContent).toBe('Chưa gửi: 7');
    expect(q('#sync-bar')!.getAttribute('data-phase')).toBe('idle');
    expect(q('#sync-last')!.textContent).toContain('Chưa đồng bộ lần nào');
    expect(q('#sync-now')!.textContent).toContain('Đồng bộ ngay');
    expect(q('#sync-progress')).toBeNull();
    expect(q('#sync-message')).toBeNull();
  });

  it('shows the last sync as HH:mm dd/MM', async () => {
    const when = new Date(2020, 2, 4, 8, 9);
    syncStatus.mockResolvedValue(view({ last_success: when.toISOString() }));
    render(SyncBar);
    await waitFor(() => expect(q('#sync-last')!.textContent).toContain('08:09 04/03'));
    expect(q('#sync-last')!.textContent).toMatch(/^\s*Đồng bộ lần cuối: /);
  });

  it('shows a progress bar while syncing', async () => {
    syncStatus.mockResolvedValue(view({ phase: 'syncing', unsent: 5, progress: { sent: 2, to_send: 5, pages: 0 } }));
    render(SyncBar);
    await waitFor(() => expect(q('#sync-progress')).not.toBeNull());
    const p = q('#sync-progress') as HTMLProgressElement;
    expect(p.value).toBe(2);
    expect(p.max).toBe(5);
    expect(q('#sync-bar')!.getAttribute('data-phase')).toBe('syncing');
  });

  it('explains offline and refused', async () => {
    syncStatus.mockResolvedValue(view({ phase: 'offline', unsent: 2, next_retry_secs: 30 }));
    const { unmount } = render(SyncBar);
    await waitFor(() => expect(q('#sync-message')).not.toBeNull());
    expect(q('#sync-message')!.textContent).toContain('Không có kết nối — dữ liệu vẫn an toàn trên máy');
    unmount();

    syncStatus.mockResolvedValue(view({ phase: 'refused', rejected: 1, message: 'Thiết bị đã bị thu hồi' }));
    render(SyncBar);
    await waitFor(() => expect(q('#sync-bar')!.getAttribute('data-phase')).toBe('refused'));
    expect(q('#sync-message')!.textContent).toBe('Thiết bị đã bị thu hồi');
    expect(q('#sync-rejected')!.textContent).toContain('Bị từ chối: 1');
  });

  it('opens the rejected records from their count, which drops once they are dealt with', async () => {
    syncStatus.mockResolvedValue(view({ unsent: 0, rejected: 2 }));
    const onopenrejected = vi.fn();
    render(SyncBar, { onopenrejected });
    await waitFor(() => expect(q('#open-rejected')).not.toBeNull());
    expect(q('#open-rejected')!.textContent).toBe('Bị từ chối: 2');
    expect(q('#open-rejected')!.tagName).toBe('BUTTON');
    (q('#open-rejected') as HTMLButtonElement).click();
    expect(onopenrejected).toHaveBeenCalledTimes(1);
    // one corrected and sent again: a new record waits, one fewer is rejected
    syncStatus.mockResolvedValue(view({ unsent: 1, rejected: 1 }));
    emitLocalChange();
    await waitFor(() => expect(q('#open-rejected')!.textContent).toBe('Bị từ chối: 1'));
    expect(q('#sync-unsent')!.textContent).toBe('Chưa gửi: 1');
    syncStatus.mockResolvedValue(view({ unsent: 2, rejected: 0 }));
    emitLocalChange();
    await waitFor(() => expect(q('#sync-rejected')).toBeNull());
  });

  it('polls every second while syncing and every 3 s otherwise', async () => {
    vi.useFakeTimers();
    syncStatus.mockResolvedValue(view({ phase: 'idle' }));
    render(SyncBar);
    await vi.advanceTimersByTimeAsync(0);
    expect(syncStatus).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2900);
    expect(syncStatus).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(syncStatus).toHaveBeenCalledTimes(2);

    syncStatus.mockResolvedValue(view({ phase: 'syncing' }));
    await vi.advanceTimersByTimeAsync(3000);
    expect(syncStatus).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(syncStatus).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(syncStatus).toHaveBeenCalledTimes(5);
  });

  it('starts a round on "Đồng bộ ngay" and refreshes after a local save', async () => {
    syncStatus.mockResolvedValue(view({ unsent: 1 }));
    render(SyncBar);
    await waitFor(() => expect(syncStatus).toHaveBeenCalledTimes(1));
    (q('#sync-now') as HTMLButtonElement).click();
    await waitFor(() => expect(syncNow).toHaveBeenCalledTimes(1));
    await waitFor(() => expect(syncStatus).toHaveBeenCalledTimes(2));

    syncStatus.mockResolvedValue(view({ unsent: 2 }));
    emitLocalChange();
    await waitFor(() => expect(q('#sync-unsent')!.textContent).toBe('Chưa gửi: 2'));
  });

  it('tells the app when a round brought new data', async () => {
    const onsynced = vi.fn();
    syncStatus.mockResolvedValueOnce(view({ phase: 'syncing' }));
    syncStatus.mockResolvedValue(view({ phase: 'idle', last_success: new Date().toISOString() }));
    render(SyncBar, { onsynced });
    await waitFor(() => expect(syncStatus).toHaveBeenCalledTimes(1));
    emitLocalChange();
    await waitFor(() => expect(onsynced).toHaveBeenCalledTimes(1));
  });
});
