// Keeps a form's draft while it is filled in: restored when the form opens, saved 400 ms after
// the last change and at once when the app goes to the background or the form closes, so a
// phone that ends the app in the background loses nothing typed. Call during component setup.
import { onMount } from 'svelte';
import { clearDraft, loadDraft, saveDraft } from '../api/drafts';

/** What a form does with its draft once it is saved. */
export interface Draft {
  /** The form was saved: forget the draft (what is shown now is not a draft any more). */
  clear(): Promise<void>;
}

/** Quiet time after the last keystroke before the draft is written. */
const SAVE_AFTER_MS = 400;

export function keepDraft<T extends object>(key: string, read: () => T, restore: (saved: Partial<T>) => void): Draft {
  let ready = false; // nothing is saved before the saved draft came back (it would be overwritten)
  let last = '';
  let timer: ReturnType<typeof setTimeout> | undefined;

  function flush(): void {
    clearTimeout(timer);
    if (!ready) return;
    const now = JSON.stringify(read());
    if (now === last) return;
    last = now;
    void saveDraft(key, now).catch(() => {});
  }

  onMount(() => {
    void loadDraft(key)
      .then((text) => {
        if (text) restore(JSON.parse(text) as Partial<T>);
      })
      .catch(() => {})
      .finally(() => {
        last = JSON.stringify(read());
        ready = true;
      });
    const onHidden = () => {
      if (document.visibilityState === 'hidden') flush();
    };
    document.addEventListener('visibilitychange', onHidden);
    window.addEventListener('pagehide', flush);
    return () => {
      flush();
      document.removeEventListener('visibilitychange', onHidden);
      window.removeEventListener('pagehide', flush);
    };
  });

  $effect(() => {
    JSON.stringify(read()); // every field the form reads is tracked
    if (!ready) return;
    clearTimeout(timer);
    timer = setTimeout(flush, SAVE_AFTER_MS);
  });

  return {
    async clear() {
      clearTimeout(timer);
      last = JSON.stringify(read());
      await clearDraft(key).catch(() => {});
    },
  };
}
