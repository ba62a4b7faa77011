// A tiny signal for "something was saved on this device": the sync bar listens to refresh its
// unsent count right away instead of waiting for the next poll.

type Listener = () => void;
const listeners = new Set<Listener>();

/** Subscribes; returns the unsubscribe function. */
export function onLocalChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells every listener that a local write succeeded. */
export function emitLocalChange(): void {
  for (const l of [...listeners]) {
    try {
      l();
    } catch {
      // A listener's failure must not break a save.
    }
  }
}
