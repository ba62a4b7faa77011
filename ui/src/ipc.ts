// The only module that talks to Tauri. Everything else goes through `src/api/*`.
import { invoke } from '@tauri-apps/api/core';
import type { CommandError } from './bindings/CommandError';
import { isCommandError, toCommandError } from './lib/commandError';

export type { CommandError };
export { isCommandError, toCommandError };

/** Arguments of a command, keyed in camelCase as Tauri expects. */
export type CommandArgs = Record<string, unknown>;

/** Calls a Tauri command; rejects with a `CommandError`. */
export async function call<T>(command: string, args?: CommandArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (err) {
    throw toCommandError(err);
  }
}
