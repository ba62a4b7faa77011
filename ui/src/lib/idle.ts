// The idle watcher behind the app lock: after `seconds` without a touch, a key or a scroll,
// `onIdle` runs once. Time is read from the clock, not counted by timers, so a phone that
// slept with the app in the background locks as soon as it is seen again.

const ACTIVITY = ['pointerdown', 'keydown', 'touchstart', 'wheel', 'scroll'] as const;

/** Starts watching; returns the function that stops it. */
export function watchIdle(
  seconds: number,
  onIdle: () => void,
  target: Window = window,
  now: () => number = Date.now,
): () => void {
  let last = now();
  let fired = false;
  const active = (): void => {
    last = now();
  };
  const check = (): void => {
    if (!fired && now() - last >= seconds * 1000) {
      fired = true;
      onIdle();
    }
  };
  const visible = (): void => {
    if (target.document?.visibilityState !== 'hidden') check();
  };
  for (const name of ACTIVITY) target.addEventListener(name, active, { passive: true, capture: true });
  target.document?.addEventListener('visibilitychange', visible);
  const every = Math.max(250, Math.min(5000, (seconds * 1000) / 4));
  const timer = setInterval(check, every);
  return () => {
    clearInterval(timer);
    for (const name of ACTIVITY) target.removeEventListener(name, active, { capture: true });
    target.document?.removeEventListener('visibilitychange', visible);
  };
}
