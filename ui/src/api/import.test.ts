import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImportIssue } from '../bindings/ImportIssue';

const call = vi.fn();
const callRaw = vi.fn();
vi.mock('../ipc', () => ({
  call: (...args: unknown[]) => call(...args),
  callRaw: (...args: unknown[]) => callRaw(...args),
}));

const api = await import('./import');
const { onLocalChange } = await import('../lib/changes');

beforeEach(() => {
  call.mockReset();
  callRaw.mockReset();
  call.mockResolvedValue({});
  callRaw.mockResolvedValue({});
});

const issue = (over: Partial<ImportIssue>): ImportIssue => ({
  row: 7,
  column_header: 'Số CCCD',
  severity: 'error',
  code: 'cccd_format',
  message_vi: 'Số CCCD phải có 12 chữ số',
  message_en: 'A CCCD has 12 digits',
  value_shown: '0O1234567890',
  value_fixed: null,
  ...over,
});

describe('import commands', () => {
  it('sends the file as raw bytes, its name percent-encoded in a header', async () => {
    const bytes = new Uint8Array([0x50, 0x4b, 3, 4]);
    await api.importPreview({ name: 'danh sách thôn 3.xlsx', bytes });
    expect(callRaw).toHaveBeenCalledWith(
      'import_preview',
      bytes,
      { 'gocua-file-name': 'danh%20s%C3%A1ch%20th%C3%B4n%203.xlsx' },
      undefined,
    );
  });

  it('passes progress through the channel header', async () => {
    const seen: unknown[] = [];
    await api.importPreview({ name: 'a.csv', bytes: new Uint8Array() }, (p) => seen.push(p));
    const progress = callRaw.mock.calls[0][3] as { header: string; onmessage: (p: unknown) => void };
    expect(progress.header).toBe('gocua-progress');
    progress.onmessage({ stage: 'checking', done: 10, total: 20 });
    expect(seen).toEqual([{ stage: 'checking', done: 10, total: 20 }]);
  });

  it('reads a picked File into bytes', async () => {
    const file = new File([new Uint8Array([1, 2, 3])], 'ds.csv');
    await api.previewFile(file);
    expect(callRaw.mock.calls[0][0]).toBe('import_preview');
    expect(Array.from(callRaw.mock.calls[0][1] as Uint8Array)).toEqual([1, 2, 3]);
  });

  it('commits with no arguments and says something was saved', async () => {
    const changed = vi.fn();
    const off = onLocalChange(changed);
    call.mockResolvedValue({ people_created: 3 });
    await expect(api.importCommit()).resolves.toEqual({ people_created: 3 });
    expect(call).toHaveBeenCalledWith('import_commit');
    expect(changed).toHaveBeenCalledTimes(1);
    off();
  });

  it('does not say saved when the commit is refused', async () => {
    const changed = vi.fn();
    const off = onLocalChange(changed);
    call.mockRejectedValue({ kind: 'refused', message: 'Chỉ Công an xã', fields: [] });
    await expect(api.importCommit()).rejects.toMatchObject({ kind: 'refused' });
    expect(changed).not.toHaveBeenCalled();
    off();
  });
});

describe('import screen logic', () => {
  it('lets only the commune police import (an administrator\'s device cannot push)', () => {
    expect(api.mayImport('commune_police')).toBe(true);
    for (const role of ['volunteer', 'team_leader', 'province_police', 'trainer', 'admin'] as const) {
      expect(api.mayImport(role), role).toBe(false);
    }
  });

  it('has no percentage while reading, then rows done of total', () => {
    expect(api.progressPercent(null)).toBeNull();
    expect(api.progressPercent({ stage: 'reading', done: 0, total: 0 })).toBeNull();
    expect(api.progressPercent({ stage: 'checking', done: 0, total: 0 })).toBeNull();
    expect(api.progressPercent({ stage: 'checking', done: 1000, total: 4000 })).toBe(25);
    expect(api.progressPercent({ stage: 'checking', done: 4000, total: 4000 })).toBe(100);
  });

  it('puts errors first, then warnings, then repairs, by row within each', () => {
    const sorted = api.sortIssues([
      issue({ row: 3, severity: 'repaired', code: 'r' }),
      issue({ row: 9, severity: 'error', code: 'e9' }),
      issue({ row: 2, severity: 'warning', code: 'w' }),
      issue({ row: null, severity: 'error', code: 'file' }),
      issue({ row: 4, severity: 'error', code: 'e4' }),
    ]);
    expect(sorted.map((i) => i.code)).toEqual(['file', 'e4', 'e9', 'w', 'r']);
  });

  it('shows the message in the locale, the other one when it is empty', () => {
    expect(api.issueMessage(issue({}), 'vi')).toBe('Số CCCD phải có 12 chữ số');
    expect(api.issueMessage(issue({}), 'en')).toBe('A CCCD has 12 digits');
    expect(api.issueMessage(issue({ message_en: ' ' }), 'en')).toBe('Số CCCD phải có 12 chữ số');
  });

  it('accepts the spreadsheet and CSV files the picker offers', () => {
    expect(api.ACCEPTED_FILES).toBe('.xlsx,.xls,.csv');
    for (const name of ['ds.xlsx', 'DS.XLS', 'thon 3.csv']) expect(api.isAcceptedFile(name), name).toBe(true);
    for (const name of ['cong-van.pdf', 'ds.docx', 'xlsx']) expect(api.isAcceptedFile(name), name).toBe(false);
  });
});
