// The only module that talks to Tauri. Everything else goes through `src/api/*`.
import { Channel, invoke } from '@tauri-apps/api/core';
import type { CommandError } from './bindings/CommandError';
import { isCommandError, toCommandError } from './lib/commandError';

export type { CommandError };
export { isCommandError, toCommandError };

/** Arguments of a command, keyed in camelCase as Tauri expects. */
export type CommandArgs = Record<string, unknown>;

let lockedHandler: (() => void) | null = null;

/** Who to tell when a command is refused because the app locked (the app shows the PIN screen). */
export function onLocked(handler: (() => void) | null): void {
  lockedHandler = handler;
}

/** Calls a Tauri command; rejects with a `CommandError`. */
export async function call<T>(command: string, args?: CommandArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (err) {
    const error = toCommandError(err);
    if (error.kind === 'locked') lockedHandler?.();
    throw error;
  }
}

/**
 * Calls a Tauri command that reports progress on a channel passed as its `onProgress` argument;
 * rejects with a `CommandError`.
 */
export async function callWithProgress<T, P>(
  command: string,
  args: CommandArgs,
  onProgress?: (message: P) => void,
): Promise<T> {
  const channel = new Channel<P>();
  if (onProgress) channel.onmessage = onProgress;
  return call<T>(command, { ...args, onProgress: channel });
}

/** A progress channel for `callRaw`: its id travels in `header`, its messages to `onmessage`. */
export interface RawProgress<P> {
  header: string;
  onmessage: (message: P) => void;
}

/**
 * Calls a Tauri command with raw bytes as its body (a file, not a JSON array of numbers);
 * `headers` carry the rest (percent-encode anything but ASCII). Rejects with a `CommandError`.
 */
export async function callRaw<T, P = unknown>(
  command: string,
  body: Uint8Array,
  headers: Record<string, string>,
  progress?: RawProgress<P>,
): Promise<T> {
  const all = { ...headers };
  if (progress) {
    const channel = new Channel<P>();
    channel.onmessage = progress.onmessage;
    all[progress.header] = channel.toJSON();
  }
  try {
    return await invoke<T>(command, body, { headers: all });
  } catch (err) {
    const error = toCommandError(err);
    if (error.kind === 'locked') lockedHandler?.();
    throw error;
  }
}
