// Peak campaigns: the one running with this device's progress (every role), and the office's
// plan of it (window, targets, quotas), saved offline and synced as an event.
import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import { todayIso } from '../lib/format';
import type { CampaignSet } from '../bindings/CampaignSet';
import type { CampaignView } from '../bindings/CampaignView';

const day = (now: Date) => ({ date: todayIso(now), utcOffsetMinutes: -now.getTimezoneOffset() });

/** The campaign to show today, or null when none reached this device. */
export function campaignView(now: Date = new Date()): Promise<CampaignView | null> {
  return call<CampaignView | null>('campaign_view', day(now));
}

/** Records the office's plan (under a new id when `isNew`); the campaign as shown today. */
export async function saveCampaign(plan: CampaignSet, isNew: boolean, now: Date = new Date()): Promise<CampaignView | null> {
  const view = await call<CampaignView | null>('campaign_save', { plan, newCampaign: isNew, ...day(now) });
  emitLocalChange();
  return view;
}

/** A whole number ≥ 1 typed in a quota cell, null for an empty cell, undefined when invalid. */
export function quotaNumber(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (!/^[0-9]{1,8}$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n >= 1 ? n : undefined;
}
