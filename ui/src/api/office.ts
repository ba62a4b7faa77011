// The office's people screen: people and devices from the server, codes, revocations, and the
// assignment of places (recorded here, applied by the server when this device syncs).
import { call } from '../ipc';
import { emitLocalChange } from '../lib/changes';
import type { CodeView } from '../bindings/CodeView';
import type { NewPersonView } from '../bindings/NewPersonView';
import type { OfficePerson } from '../bindings/OfficePerson';
import type { PeopleView } from '../bindings/PeopleView';
import type { Role } from '../bindings/Role';

/** The roles that run the people screen (the server refuses the others too). */
export function mayRunOffice(role: Role): boolean {
  return role === 'commune_police' || role === 'province_police';
}

/** The roles the office may add and assign. */
export const ASSIGNABLE_ROLES: readonly Role[] = ['volunteer', 'team_leader'];

/** Everyone of the officer's places, with devices and waiting assignments (needs the server). */
export function officePeople(): Promise<PeopleView> {
  return call<PeopleView>('office_people');
}

/** Adds a volunteer or team leader; answers their first one-time code. */
export function addPerson(name: string, role: Role, places: string[]): Promise<NewPersonView> {
  return call<NewPersonView>('office_add_person', { name, role, places });
}

/** A new one-time code for a person. */
export function newCode(userId: string): Promise<CodeView> {
  return call<CodeView>('office_new_code', { userId });
}

/** The roles the office switches between. */
export type SwitchableRole = 'volunteer' | 'team_leader';

/** The role the office can switch a person to: a volunteer ↔ a team leader (`null`: none). */
export function otherRole(role: Role): SwitchableRole | null {
  if (role === 'volunteer') return 'team_leader';
  if (role === 'team_leader') return 'volunteer';
  return null;
}

/** Makes a volunteer a team leader or back (online); their phones follow at their next sync. */
export function setRole(userId: string, role: Role): Promise<OfficePerson> {
  return call<OfficePerson>('office_set_role', { userId, role });
}

/** Revokes a device; false when it was revoked already. */
export function revokeDevice(deviceId: string): Promise<boolean> {
  return call<boolean>('office_revoke_device', { deviceId });
}

/** Gives a person their places (offline; the server applies it at the next sync). */
export async function assign(userId: string, places: string[]): Promise<void> {
  await call<void>('office_assign', { userId, places });
  emitLocalChange();
}

/** An SVG QR code as an image source. */
export function svgSource(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
