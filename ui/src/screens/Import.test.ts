// The import screen against a fake backend: pick → progress → report → commit → result.
import { cleanup, fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImportPreview } from '../bindings/ImportPreview';
import type { ImportProgress } from '../bindings/ImportProgress';
import type { ImportLogView } from '../bindings/ImportLogView';

const previewFile = vi.fn();
const importCommit = vi.fn();
const importHistory = vi.fn();
const importUndo = vi.fn();
const importSetColumns = vi.fn();
const importChooseSheet = vi.fn();
vi.mock('../api/import', async (original) => ({
  ...(await original<typeof import('../api/import')>()),
  previewFile: (...a: unknown[]) => previewFile(...a),
  importCommit: (...a: unknown[]) => importCommit(...a),
  importHistory: (...a: unknown[]) => importHistory(...a),
  importUndo: (...a: unknown[]) => importUndo(...a),
  importSetColumns: (...a: unknown[]) => importSetColumns(...a),
  importChooseSheet: (...a: unknown[]) => importChooseSheet(...a),
}));

const { default: Import } = await import('./Import.svelte');
const { setLocale } = await import('../i18n/index.svelte');

const q = (sel: string) => document.querySelector(sel);
const qa = (sel: string) => Array.from(document.querySelectorAll(sel));

const preview = (): ImportPreview => ({
  file_name: 'danh sách.xlsx',
  sheet: 'Sheet1',
  sheet_names: ['Sheet1'],
  header_row: 5,
  columns: [
    { letter: 'A', header: 'STT', field: 'stt', field_vi: 'STT', field_en: 'No.' },
    { letter: 'B', header: 'Họ và tên', field: 'full_name', field_vi: 'Họ và tên', field_en: 'Full name' },
    { letter: 'C', header: 'Ghi chú khác', field: null, field_vi: null, field_en: null },
  ],
  choices: [
    { code: 'stt', vi: 'STT', en: 'row number' },
    { code: 'full_name', vi: 'Họ và tên', en: 'full name' },
    { code: 'hamlet', vi: 'Thôn/ấp/bản/tổ dân phố', en: 'hamlet' },
  ],
  missing: [],
  layout_applied: false,
  counts: {
    rows_read: 40,
    rows_not_person: 0,
    rows_left_out: 2,
    people_planned: 38,
    households_planned: 12,
    errors: 2,
    warnings: 1,
    repairs: 1,
  },
  issues: [
    { row: 20, column_header: 'Ngày sinh', severity: 'repaired', code: 'date_from_serial', message_vi: 'Đã đọc ngày', message_en: 'Date read', value_shown: '32874', value_fixed: '01/01/1990' },
    { row: 12, column_header: 'Số CCCD', severity: 'error', code: 'cccd_format', message_vi: 'CCCD sai', message_en: 'Bad CCCD', value_shown: '0O12', value_fixed: null },
    { row: 9, column_header: 'Thôn', severity: 'warning', code: 'w', message_vi: 'Cảnh báo', message_en: 'Warning', value_shown: null, value_fixed: null },
    { row: 30, column_header: 'Họ và tên', severity: 'error', code: 'required', message_vi: 'Thiếu tên', message_en: 'No name', value_shown: null, value_fixed: null },
  ],
  issues_total: 4,
});

async function pick(name = 'danh sách.xlsx'): Promise<void> {
  const input = q('#import-file') as HTMLInputElement;
  const file = new File([new Uint8Array([1])], name);
  Object.defineProperty(input, 'files', { value: [file], configurable: true });
  await fireEvent.change(input);
}

const counts = { households_created: 12, households_updated: 0, people_created: 38, people_updated: 1, unchanged: 0, skipped_removed: 0 };
const logged = (undone: boolean): ImportLogView => ({
  id: '0190a0c0-0000-7000-8000-000000000001',
  file_name: 'DC01 thôn Nà Bó.xlsx',
  recorded_at: '2026-12-07T02:30:00Z',
  result: { ...counts, import_id: '0190a0c0-0000-7000-8000-000000000001' },
  undone_at: undone ? '2026-12-07T03:00:00Z' : null,
  undo: undone ? { households_removed: 12, people_removed: 38, records_restored: 1, fields_kept: 2, already_gone: 0 } : null,
});

beforeEach(() => {
  previewFile.mockReset();
  importCommit.mockReset();
  importHistory.mockReset().mockResolvedValue([]);
  importUndo.mockReset();
  importSetColumns.mockReset();
  importChooseSheet.mockReset();
  setLocale('vi');
});

afterEach(() => cleanup());

describe('Import screen', () => {
  it('shows progress, then the report with errors first, and writes only on the button', async () => {
    let finish: (p: ImportPreview) => void = () => {};
    previewFile.mockImplementation((_file: File, onProgress: (p: ImportProgress) => void) => {
      onProgress({ stage: 'checking', done: 1000, total: 4000 });
      return new Promise((resolve) => (finish = resolve));
    });
    render(Import);
    await pick();
    await waitFor(() => expect(q('#import-progress')?.textContent).toContain('1000/4000'));
    expect((q('#import-progress progress') as HTMLProgressElement).value).toBe(25);
    finish(preview());
    await waitFor(() => expect(q('#import-report')).not.toBeNull());
    expect(importCommit).not.toHaveBeenCalled();

    expect(q('[data-count="people_planned"]')?.textContent).toBe('38');
    expect(q('[data-count="errors"]')?.textContent).toBe('2');
    expect(qa('#import-issues tr.issue').map((tr) => tr.getAttribute('data-row'))).toEqual(['12', '30', '9', '20']);
    expect(q('#import-issues tr.issue')?.textContent).toContain('CCCD sai');
    expect(q('#import-columns [data-field="full_name"]')?.textContent).toContain('Họ và tên');
    expect(q('#import-commit')?.textContent?.trim()).toBe('Nhập 38 người, 12 hộ');

    importCommit.mockResolvedValue({ ...counts, people_updated: 0, import_id: null });
    await fireEvent.click(q('#import-commit')!);
    await waitFor(() => expect(q('#import-result')).not.toBeNull());
    expect(importCommit).toHaveBeenCalledTimes(1);
    expect(q('#import-created')?.textContent).toContain('Đã thêm 38 người, 12 hộ');
    expect(q('#import-report')).toBeNull();
  });

  it('asks for a missing column, checks again with the officer\'s choice, and only then offers the commit', async () => {
    const missing: ImportPreview = {
      ...preview(),
      missing: [{ code: 'hamlet', vi: 'Thôn/ấp/bản/tổ dân phố', en: 'hamlet' }],
      counts: { ...preview().counts, rows_read: 0, people_planned: 0, households_planned: 0, errors: 0, warnings: 0, repairs: 0, rows_left_out: 0 },
      issues: [],
      issues_total: 0,
    };
    previewFile.mockResolvedValue(missing);
    render(Import);
    await pick();
    await waitFor(() => expect(q('#import-missing')?.textContent).toContain('Thiếu cột bắt buộc: Thôn/ấp/bản/tổ dân phố'));
    expect(q('#import-commit')).toBeNull();
    expect((q('#import-recheck') as HTMLButtonElement).disabled).toBe(true);

    // giving two columns one field is caught on the screen, and nothing is sent
    const select = q('#col-field-C') as HTMLSelectElement;
    select.value = 'full_name';
    await fireEvent.change(select);
    await waitFor(() => expect(q('#import-twice')?.textContent).toContain('Họ và tên'));
    expect((q('#import-recheck') as HTMLButtonElement).disabled).toBe(true);

    select.value = 'hamlet';
    await fireEvent.change(select);
    await waitFor(() => expect((q('#import-recheck') as HTMLButtonElement).disabled).toBe(false));
    expect(q('#import-twice')).toBeNull();
    const fixed: ImportPreview = {
      ...preview(),
      columns: preview().columns.map((c) => (c.letter === 'C' ? { ...c, field: 'hamlet', field_vi: 'Thôn', field_en: 'hamlet' } : c)),
    };
    importSetColumns.mockResolvedValue(fixed);
    await fireEvent.click(q('#import-recheck')!);
    await waitFor(() => expect(q('#import-commit')).not.toBeNull());
    expect(importSetColumns).toHaveBeenCalledWith(['stt', 'full_name', 'hamlet'], expect.any(Function));
    expect(q('#import-missing')).toBeNull();
    expect(q('[data-count="people_planned"]')?.textContent).toBe('38');

    // a change not yet checked holds the commit back; going back brings it again
    const again = q('#col-field-A') as HTMLSelectElement;
    again.value = '';
    await fireEvent.change(again);
    await waitFor(() => expect(q('#import-recheck-first')).not.toBeNull());
    expect(q('#import-commit')).toBeNull();
    await fireEvent.click(q('#import-columns-reset')!);
    await waitFor(() => expect(q('#import-commit')).not.toBeNull());
  });

  it('reads another sheet on request, and stays on the one read when that sheet has no list', async () => {
    previewFile.mockResolvedValue({ ...preview(), layout_applied: true, sheet: 'Chưa kích hoạt', sheet_names: ['Hướng dẫn', 'Chưa kích hoạt', 'Đã duyệt'] });
    render(Import);
    await pick();
    await waitFor(() => expect(q('#import-sheet')).not.toBeNull());
    expect(q('#import-layout-applied')).not.toBeNull();
    const sheet = q('#import-sheet') as HTMLSelectElement;
    expect(sheet.value).toBe('Chưa kích hoạt');

    importChooseSheet.mockResolvedValueOnce({ ...preview(), sheet: 'Đã duyệt', sheet_names: ['Hướng dẫn', 'Chưa kích hoạt', 'Đã duyệt'], counts: { ...preview().counts, people_planned: 7 } });
    sheet.value = 'Đã duyệt';
    await fireEvent.change(sheet);
    await waitFor(() => expect(q('[data-count="people_planned"]')?.textContent).toBe('7'));
    expect(importChooseSheet).toHaveBeenCalledWith('Đã duyệt', expect.any(Function));

    importChooseSheet.mockRejectedValueOnce({ kind: 'invalid_file', message: 'Không tìm thấy dòng tiêu đề / No header row', fields: [] });
    sheet.value = 'Hướng dẫn';
    await fireEvent.change(sheet);
    await waitFor(() => expect(q('#import-error')?.textContent).toContain('Không tìm thấy dòng tiêu đề'));
    expect((q('#import-sheet') as HTMLSelectElement).value).toBe('Đã duyệt');
    expect(q('[data-count="people_planned"]')?.textContent).toBe('7', );
  });

  it('speaks English when asked, messages included', async () => {
    setLocale('en');
    previewFile.mockResolvedValue(preview());
    render(Import);
    await pick();
    await waitFor(() => expect(q('#import-commit')?.textContent?.trim()).toBe('Import 38 people, 12 households'));
    expect(q('#import-issues tr.issue')?.textContent).toContain('Bad CCCD');
  });

  it('says a file-level error and stays on the picker', async () => {
    previewFile.mockRejectedValue({ kind: 'invalid_file', message: 'Không tìm thấy dòng tiêu đề / No header row', fields: [] });
    render(Import);
    await pick();
    await waitFor(() => expect(q('#import-error')?.textContent).toContain('Không tìm thấy dòng tiêu đề'));
    expect(q('#import-file')).not.toBeNull();
    expect(q('#import-report')).toBeNull();
  });

  it('refuses a file of another type without sending it', async () => {
    render(Import);
    await pick('cong-van.pdf');
    await waitFor(() => expect(q('#import-error')?.textContent).toContain('.xlsx'));
    expect(previewFile).not.toHaveBeenCalled();
  });

  it('keeps the report when the commit is refused', async () => {
    previewFile.mockResolvedValue(preview());
    importCommit.mockRejectedValue({ kind: 'refused', message: 'Chỉ Công an xã được nhập danh sách', fields: [] });
    render(Import);
    await pick();
    await waitFor(() => expect(q('#import-commit')).not.toBeNull());
    await fireEvent.click(q('#import-commit')!);
    await waitFor(() => expect(q('#import-error')?.textContent).toContain('Chỉ Công an xã'));
    expect(q('#import-report')).not.toBeNull();
  });

  it('lists the imported lists and undoes one only after the officer confirms', async () => {
    importHistory.mockResolvedValueOnce([logged(false)]).mockResolvedValue([logged(true)]);
    importUndo.mockResolvedValue(logged(true).undo);
    const onimported = vi.fn();
    render(Import, { onimported });
    await waitFor(() => expect(q('#import-history [data-import]')).not.toBeNull());
    expect(q('#import-history')?.textContent).toContain('DC01 thôn Nà Bó.xlsx');
    expect(q('#import-history')?.textContent).toContain('thêm 38 người, 12 hộ');

    await fireEvent.click(q('#import-history .undo')!);
    expect(importUndo).not.toHaveBeenCalled();
    expect(q('#import-history [role="alertdialog"]')?.textContent).toContain('38 người và 12 hộ');
    await fireEvent.click(q('#import-history .undo-no')!);
    expect(q('#import-history [role="alertdialog"]')).toBeNull();

    await fireEvent.click(q('#import-history .undo')!);
    await fireEvent.click(q('#import-history .undo-yes')!);
    await waitFor(() => expect(q('#import-history .undone-line')).not.toBeNull());
    expect(importUndo).toHaveBeenCalledWith('0190a0c0-0000-7000-8000-000000000001');
    expect(q('#import-history .undone-line')?.textContent).toContain('xoá 38 người, 12 hộ');
    expect(q('#import-history')?.textContent).toContain('Giữ 2 thông tin');
    expect(q('#import-history .undo')).toBeNull();
    expect(onimported).toHaveBeenCalledTimes(1);
  });

  it('keeps the confirmation and says why when the undo is refused', async () => {
    setLocale('en');
    importHistory.mockResolvedValue([logged(false)]);
    importUndo.mockRejectedValue({ kind: 'refused', message: 'Only the commune police can import lists', fields: [] });
    render(Import);
    await waitFor(() => expect(q('#import-history .undo')).not.toBeNull());
    expect(q('#import-history .undo')?.textContent).toBe('Undo this import');
    await fireEvent.click(q('#import-history .undo')!);
    await fireEvent.click(q('#import-history .undo-yes')!);
    await waitFor(() => expect(q('#import-history-error')?.textContent).toContain('Only the commune police'));
    expect(q('#import-history [role="alertdialog"]')).not.toBeNull();
  });
});
