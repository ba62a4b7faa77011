import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
class FakeChannel {
  static made: FakeChannel[] = [];
  onmessage: (m: unknown) => void = () => {};
  readonly id = FakeChannel.made.length + 1;
  constructor() {
    FakeChannel.made.push(this);
  }
  toJSON(): string {
    return `__CHANNEL__:${this.id}`;
  }
}
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args), Channel: FakeChannel }));

const { call, callRaw, onLocked, toCommandError, isCommandError } = await import('./ipc');

beforeEach(() => {
  invoke.mockReset();
});

describe('call', () => {
  it('passes the command and arguments to invoke', async () => {
    invoke.mockResolvedValue({ ok: 1 });
    await expect(call('get_household', { id: 'h1' })).resolves.toEqual({ ok: 1 });
    expect(invoke).toHaveBeenCalledWith('get_household', { id: 'h1' });
  });

  it('rejects with the backend CommandError as is', async () => {
    const err = {
      kind: 'invalid',
      message: 'Dữ liệu chưa hợp lệ / Some fields need fixing',
      fields: [{ field: 'cccd', code: 'bad', message_vi: 'Sai', message_en: 'Wrong' }],
    };
    invoke.mockRejectedValue(err);
    await expect(call('add_resident', {})).rejects.toEqual(err);
  });

  it('tells the lock handler when a command is refused as locked, and only then', async () => {
    const handler = vi.fn();
    onLocked(handler);
    invoke.mockRejectedValue({ kind: 'invalid', message: 'x', fields: [] });
    await expect(call('get_today')).rejects.toMatchObject({ kind: 'invalid' });
    expect(handler).not.toHaveBeenCalled();
    invoke.mockRejectedValue({ kind: 'locked', message: 'Ứng dụng đang khoá', fields: [] });
    await expect(call('get_today')).rejects.toMatchObject({ kind: 'locked' });
    expect(handler).toHaveBeenCalledTimes(1);
    onLocked(null);
  });

  it('wraps a string rejection as an internal error', async () => {
    invoke.mockRejectedValue('command enroll not found');
    await expect(call('enroll')).rejects.toEqual({ kind: 'internal', message: 'command enroll not found', fields: [] });
  });

  it('wraps an Error rejection as an internal error', async () => {
    invoke.mockRejectedValue(new Error('boom'));
    await expect(call('app_info')).rejects.toEqual({ kind: 'internal', message: 'Error: boom', fields: [] });
  });

  it('wraps an invoke that throws synchronously', async () => {
    invoke.mockImplementation(() => {
      throw new TypeError('no __TAURI_INTERNALS__');
    });
    const err = await call('app_info').catch((e: unknown) => e);
    expect(isCommandError(err)).toBe(true);
    expect(err).toMatchObject({ kind: 'internal', fields: [] });
  });
});

describe('callRaw', () => {
  it('sends the bytes as the body and the headers as options, not a JSON array', async () => {
    invoke.mockResolvedValue({ file_name: 'a.xlsx' });
    const bytes = new Uint8Array([1, 2, 3]);
    await expect(callRaw('import_preview', bytes, { 'gocua-file-name': 'a.xlsx' })).resolves.toEqual({ file_name: 'a.xlsx' });
    expect(invoke).toHaveBeenCalledWith('import_preview', bytes, { headers: { 'gocua-file-name': 'a.xlsx' } });
    expect(invoke.mock.calls[0][1]).toBeInstanceOf(Uint8Array);
  });

  it('names a progress channel in a header and hands its messages on', async () => {
    invoke.mockResolvedValue(null);
    const seen: unknown[] = [];
    await callRaw('import_preview', new Uint8Array(), { a: 'b' }, { header: 'gocua-progress', onmessage: (m) => seen.push(m) });
    const channel = FakeChannel.made[FakeChannel.made.length - 1];
    expect(invoke.mock.calls[0][2]).toEqual({ headers: { a: 'b', 'gocua-progress': channel.toJSON() } });
    channel.onmessage({ done: 1 });
    expect(seen).toEqual([{ done: 1 }]);
  });

  it('rejects with a CommandError and tells the lock handler', async () => {
    const handler = vi.fn();
    onLocked(handler);
    invoke.mockRejectedValue({ kind: 'locked', message: 'Ứng dụng đang khoá', fields: [] });
    await expect(callRaw('import_preview', new Uint8Array(), {})).rejects.toMatchObject({ kind: 'locked' });
    expect(handler).toHaveBeenCalledTimes(1);
    onLocked(null);
    invoke.mockRejectedValue('boom');
    await expect(callRaw('import_preview', new Uint8Array(), {})).rejects.toEqual({ kind: 'internal', message: 'boom', fields: [] });
  });
});

describe('toCommandError', () => {
  it('wraps values without a kind', () => {
    expect(toCommandError(null)).toEqual({ kind: 'internal', message: 'null', fields: [] });
    expect(toCommandError(undefined)).toEqual({ kind: 'internal', message: 'undefined', fields: [] });
    expect(toCommandError(42)).toEqual({ kind: 'internal', message: '42', fields: [] });
    expect(toCommandError({ message: 'x' })).toEqual({ kind: 'internal', message: '[object Object]', fields: [] });
  });

  it('fills in missing parts of an object with a kind', () => {
    expect(toCommandError({ kind: 'offline' })).toEqual({ kind: 'offline', message: '', fields: [] });
    expect(toCommandError({ kind: 'invalid', message: 'm', fields: [{ field: 'note' }, 'junk'] })).toEqual({
      kind: 'invalid',
      message: 'm',
      fields: [{ field: 'note', code: '', message_vi: '', message_en: '' }],
    });
  });
});
