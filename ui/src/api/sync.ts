import { call } from '../ipc';
import type { SyncView } from '../bindings/SyncView';

/** What the sync bar shows. */
export function syncStatus(): Promise<SyncView> {
  return call<SyncView>('sync_status');
}

/** Starts a sync round in the background; progress shows in `syncStatus`. */
export async function syncNow(): Promise<void> {
  await call<null>('sync_now');
}
