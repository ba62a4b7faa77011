import { call } from '../ipc';

/** Saves a form's draft in the device store (never the WebView's storage: it may hold a CCCD). */
export async function saveDraft(key: string, value: string): Promise<void> {
  await call<null>('save_draft', { key, value });
}

/** A form's saved draft, if any. */
export function loadDraft(key: string): Promise<string | null> {
  return call<string | null>('load_draft', { key });
}

/** Forgets a form's draft. */
export async function clearDraft(key: string): Promise<void> {
  await call<null>('clear_draft', { key });
}
