import { call } from '../ipc';
import type { AppInfo } from '../bindings/AppInfo';
import type { EnrollmentView } from '../bindings/EnrollmentView';
import type { Place } from '../bindings/Place';
import type { Reason } from '../bindings/Reason';

/** The enrollment (if any) and defaults for the first screen. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>('app_info');
}

/** Joins a server with a one-time code. Needs the network. */
export function enroll(serverUrl: string, code: string, deviceName: string): Promise<EnrollmentView> {
  return call<EnrollmentView>('enroll', { serverUrl, code, deviceName });
}

/** The hamlets of this device's scope. */
export function listHamlets(): Promise<Place[]> {
  return call<Place[]>('list_hamlets');
}

/** The cannot-activate reasons. */
export function listReasons(): Promise<Reason[]> {
  return call<Reason[]>('list_reasons');
}
