// Funnel states and visit actions: order, "activated", and labels from the message files.
import type { ChecklistStep } from '../bindings/ChecklistStep';
import type { FunnelState } from '../bindings/FunnelState';
import type { VisitAction } from '../bindings/VisitAction';
import { t } from '../i18n/index.svelte';
import { translate, type Locale, type MessageKey } from '../i18n/messages';

// A Record forces every state to be listed: a new state in the bindings fails the type check.
const ACTIVATED: Record<FunnelState, boolean> = {
  no_chip_cccd: false,
  not_registered: false,
  registered_pending: false,
  approved_not_activated: false,
  activated_level1: true,
  activated_level2: true,
  used_portal: true,
};

const ACTIONS: Record<VisitAction, true> = {
  installed_app: true,
  guided_level1: true,
  referred_level2: true,
  guided_activation: true,
  guided_portal: true,
};

/** The 7 funnel states, in funnel order. */
export const FUNNEL_STATES: readonly FunnelState[] = Object.keys(ACTIVATED) as FunnelState[];

/** The visit actions, in the campaign plan's order. */
export const VISIT_ACTIONS: readonly VisitAction[] = Object.keys(ACTIONS) as VisitAction[];

/** Whether `value` is a FunnelState code. */
export function isFunnelState(value: unknown): value is FunnelState {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ACTIVATED, value);
}

/** Whether `value` is a VisitAction code. */
export function isVisitAction(value: unknown): value is VisitAction {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ACTIONS, value);
}

/** True for the last three states: the account is activated. */
export function isActivated(state: FunnelState | null | undefined): boolean {
  return state != null && ACTIVATED[state] === true;
}

/** The message key of a state's label (the template type proves every key exists). */
export function funnelKey(state: FunnelState): MessageKey {
  return `funnel.${state}`;
}

/** The message key of an action's label. */
export function actionKey(action: VisitAction): MessageKey {
  return `action.${action}`;
}

/** A state's label, in `locale` or the current locale. */
export function funnelLabel(state: FunnelState, locale?: Locale): string {
  return locale ? translate(locale, funnelKey(state)) : t(funnelKey(state));
}

/** An action's label, in `locale` or the current locale. */
export function actionLabel(action: VisitAction, locale?: Locale): string {
  return locale ? translate(locale, actionKey(action)) : t(actionKey(action));
}

// The least state each checklist step proves (mirrors ChecklistStep::implies in the core,
// which refuses a status below it); null: the step proves none.
const STEP_IMPLIES: Record<ChecklistStep, FunnelState | null> = {
  install_app: null,
  register_level1: 'registered_pending',
  face_check: 'registered_pending',
  activate_sms: 'activated_level1',
  portal_login: 'used_portal',
  refer_level2: null,
};

/** The guidance checklist, in the order volunteers teach it (the level-2 referral last). */
export const CHECKLIST_STEPS: readonly ChecklistStep[] = Object.keys(STEP_IMPLIES) as ChecklistStep[];

/** A state's place in the funnel (0 = no chip CCCD). */
export function funnelRank(state: FunnelState): number {
  return FUNNEL_STATES.indexOf(state);
}

/** The outcome the ticked steps make: the furthest state they prove, or null. */
export function checklistOutcome(steps: readonly ChecklistStep[]): FunnelState | null {
  let best: FunnelState | null = null;
  for (const step of steps) {
    const implied = STEP_IMPLIES[step];
    if (implied && (best == null || funnelRank(implied) > funnelRank(best))) best = implied;
  }
  return best;
}

/** A step's label, in the current locale. */
export function stepLabel(step: ChecklistStep): string {
  return t(`step.${step}`);
}
