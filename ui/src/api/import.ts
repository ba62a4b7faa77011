// Importing the police's lists: a dry run of a picked file (nothing written), then the commit.
import { call, callRaw, callWithProgress } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { ImportIssue } from '../bindings/ImportIssue';
import type { ImportLogView } from '../bindings/ImportLogView';
import type { ImportPreview } from '../bindings/ImportPreview';
import type { ImportProgress } from '../bindings/ImportProgress';
import type { ImportResult } from '../bindings/ImportResult';
import type { Role } from '../bindings/Role';
import type { UndoResult } from '../bindings/UndoResult';

/** The header with the file's name (percent-encoded), as `commands/import.rs` reads it. */
export const FILE_NAME_HEADER = 'gocua-file-name';
/** The header with the progress channel's id. */
export const PROGRESS_HEADER = 'gocua-progress';
/** What the file picker offers. */
export const ACCEPTED_FILES = '.xlsx,.xls,.csv';

/** The roles that may import lists (the backend refuses the others too). */
export function mayImport(role: Role): boolean {
  return role === 'commune_police';
}

/** Checks a file against this device's data; writes nothing. `onProgress` sees the rows checked. */
export async function importPreview(
  file: { name: string; bytes: Uint8Array },
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportPreview> {
  return callRaw<ImportPreview, ImportProgress>(
    'import_preview',
    file.bytes,
    { [FILE_NAME_HEADER]: encodeURIComponent(file.name) },
    onProgress ? { header: PROGRESS_HEADER, onmessage: onProgress } : undefined,
  );
}

/** Reads a picked `File` and previews it. */
export async function previewFile(file: File, onProgress?: (progress: ImportProgress) => void): Promise<ImportPreview> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  return importPreview({ name: file.name, bytes }, onProgress);
}

/** Reads another sheet of the previewed file and checks it (nothing written). */
export async function importChooseSheet(
  sheet: string,
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportPreview> {
  return callWithProgress<ImportPreview, ImportProgress>('import_choose_sheet', { sheet }, onProgress);
}

/**
 * Checks the previewed file again with the officer's columns: one field code per column from
 * column A, `null` for a column not used. The choice is remembered for the next file with the
 * same headers.
 */
export async function importSetColumns(
  columns: (string | null)[],
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportPreview> {
  return callWithProgress<ImportPreview, ImportProgress>('import_set_columns', { columns }, onProgress);
}

/** The field chosen for each column of a preview, from column A (`null`: not used). */
export function columnChoices(preview: ImportPreview): (string | null)[] {
  return preview.columns.map((c) => c.field);
}

/** Whether the officer's choices differ from what the preview was checked with. */
export function choicesChanged(preview: ImportPreview, choices: readonly (string | null)[]): boolean {
  return preview.columns.some((c, i) => (choices[i] ?? null) !== c.field);
}

/** The fields given to more than one column, by code (the backend refuses such a choice). */
export function fieldsTwice(choices: readonly (string | null)[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const code of choices) {
    if (code == null) continue;
    if (seen.has(code)) twice.add(code);
    seen.add(code);
  }
  return [...twice];
}

/** Records the previewed list (one transaction). */
export async function importCommit(): Promise<ImportResult> {
  const result = await call<ImportResult>('import_commit');
  emitLocalChange();
  return result;
}

/** The lists this device imported, newest first. */
export async function importHistory(): Promise<ImportLogView[]> {
  return call<ImportLogView[]>('import_history');
}

/** Undoes a whole import: what it brought is removed, what it changed goes back. */
export async function importUndo(id: string): Promise<UndoResult> {
  const result = await call<UndoResult>('import_undo', { id });
  emitLocalChange();
  return result;
}

/** The progress bar's value, 0–100, or `null` while the file is being read (no total yet). */
export function progressPercent(progress: ImportProgress | null): number | null {
  if (!progress || progress.stage === 'reading' || progress.total <= 0) return null;
  return Math.min(100, Math.round((progress.done / progress.total) * 100));
}

/** The issue's message in the locale, the other language when that one is empty. */
export function issueMessage(issue: ImportIssue, locale: 'vi' | 'en'): string {
  const [first, second] = locale === 'vi' ? [issue.message_vi, issue.message_en] : [issue.message_en, issue.message_vi];
  return first.trim() ? first : second;
}

const RANK: Record<ImportIssue['severity'], number> = { error: 0, warning: 1, repaired: 2 };

/** Errors first, then warnings, then repairs; the file's own ones, then by row, within each. */
export function sortIssues(issues: readonly ImportIssue[]): ImportIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort(
      (a, b) =>
        RANK[a.issue.severity] - RANK[b.issue.severity] ||
        (a.issue.row ?? 0) - (b.issue.row ?? 0) ||
        a.index - b.index,
    )
    .map((x) => x.issue);
}

/** Whether the preview has anything to record. */
export function canCommit(preview: ImportPreview): boolean {
  return preview.missing.length === 0 && preview.counts.people_planned + preview.counts.households_planned > 0;
}

/** Files the picker offers, by name (a dropped file is checked the same way). */
export function isAcceptedFile(name: string): boolean {
  return /\.(xlsx|xls|csv)$/i.test(name.trim());
}
