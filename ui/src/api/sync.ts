import { call } from '../ipc';
import type { BundleExport } from '../bindings/BundleExport';
import type { SyncView } from '../bindings/SyncView';

/** What the sync bar shows. */
export function syncStatus(): Promise<SyncView> {
  return call<SyncView>('sync_status');
}

/** Starts a sync round in the background; progress shows in `syncStatus`. */
export async function syncNow(): Promise<void> {
  await call<null>('sync_now');
}

/** Writes the unsent records into one signed, encrypted file for the commune office. */
export function exportBundle(): Promise<BundleExport> {
  return call<BundleExport>('export_bundle');
}
