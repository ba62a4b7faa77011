import { call } from '../ipc';
import { todayIso } from '../lib/format';
import type { AppInfo } from '../bindings/AppInfo';
import type { EnrollmentView } from '../bindings/EnrollmentView';
import type { Place } from '../bindings/Place';
import type { Reason } from '../bindings/Reason';

/** The enrollment (if any) and defaults for the first screen. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>('app_info');
}

/** Tells the shell the first screen is up (start-to-interactive time, `scripts/bench-start.sh`). */
export async function markInteractive(): Promise<void> {
  await call<null>('mark_interactive');
}

/** Joins a server with a one-time code and sets the app lock's PIN. Needs the network. */
export function enroll(
  serverUrl: string,
  code: string,
  deviceName: string,
  pin: string,
  pinConfirm: string,
): Promise<EnrollmentView> {
  return call<EnrollmentView>('enroll', { serverUrl, code, deviceName, pin, pinConfirm });
}

/** Sets the PIN of an enrolled device that has none yet. */
export function setPin(pin: string, confirm: string): Promise<AppInfo> {
  return call<AppInfo>('set_pin', { pin, confirm });
}

/** Changes the PIN: the current one is checked as unlocking checks it, the new one typed twice. */
export function changePin(currentPin: string, newPin: string, confirm: string): Promise<AppInfo> {
  return call<AppInfo>('change_pin', { currentPin, newPin, confirm });
}

/** Opens the locked app with its PIN (a wrong one counts towards a wait). */
export function unlock(pin: string): Promise<AppInfo> {
  return call<AppInfo>('unlock', { pin });
}

/** A forgotten PIN: erases this phone's data, key and PIN so it can be enrolled again. */
export function wipeForgotten(): Promise<AppInfo> {
  return call<AppInfo>('wipe_forgotten');
}

/** Locks the app now: the database closes until the PIN is entered. */
export function lockApp(): Promise<AppInfo> {
  return call<AppInfo>('lock_app');
}

/** Switches to training mode: the sandbox of made-up data, which never syncs. */
export function enterSandbox(): Promise<AppInfo> {
  return call<AppInfo>('enter_sandbox', { today: todayIso() });
}

/** Throws the training data away and makes a fresh sample ("Làm lại dữ liệu mẫu"). */
export function resetSandbox(): Promise<AppInfo> {
  return call<AppInfo>('reset_sandbox', { today: todayIso() });
}

/** Leaves training mode, back to the real data. */
export function leaveSandbox(): Promise<AppInfo> {
  return call<AppInfo>('leave_sandbox');
}

/** The hamlets of this device's scope. */
export function listHamlets(): Promise<Place[]> {
  return call<Place[]>('list_hamlets');
}

/** The cannot-activate reasons. */
export function listReasons(): Promise<Reason[]> {
  return call<Reason[]>('list_reasons');
}
