// The hub's HTTP API, typed with the contract's shapes (src/contract/models.ts). Every call goes
// through authFetch: bearer token from memory, one refresh on 401.
import type {
  AlertView,
  DeviceView,
  FamilySummary,
  FamilyView,
  GeofenceView,
  HealthReadingView,
  Permissions,
  Role,
  UserView,
} from '../../src/contract/models.js';
import { authFetch } from './auth.js';
import { errorOf, type HttpOptions } from './http.js';

async function call<T>(path: string, opts: HttpOptions = {}): Promise<T> {
  const res = await authFetch(path, opts);
  if (!res.ok) throw await errorOf(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const enc = encodeURIComponent;
const fam = (fid: string) => `/v1/families/${enc(fid)}`;

export interface InviteView {
  code: string;
  role: Role;
  expiresAt: number;
}

export type GeofenceInput = Pick<GeofenceView, 'name' | 'kind'> &
  Partial<Pick<GeofenceView, 'center' | 'radius' | 'polygon'>> & { deviceIds?: string[] | null };

export interface AppConfig {
  tilesUrl: string | null;
  tilesAttribution: string | null;
}

export const api = {
  config: () => call<AppConfig>('/app/config.json'),
  me: () => call<{ user: UserView; policyAcceptanceRequired?: boolean; policy?: { version: string } }>('/v1/me'),
  updateMe: (nickname: string) => call<{ user: UserView }>('/v1/me', { method: 'PATCH', body: { nickname } }),
  changePassword: (currentPassword: string, newPassword: string) =>
    call<void>('/v1/me/password', { method: 'POST', body: { currentPassword, newPassword } }),
  acceptPolicy: (version: string) =>
    call<{ user: UserView; policyAcceptanceRequired: boolean }>('/v1/me/policy', { method: 'POST', body: { version } }),
  families: () => call<{ families: FamilySummary[] }>('/v1/families'),
  family: (fid: string) => call<FamilyView>(fam(fid)),
  createFamily: (name: string) => call<FamilyView>('/v1/families', { method: 'POST', body: { name } }),
  invite: (fid: string, role: Role) => call<InviteView>(`${fam(fid)}/invites`, { method: 'POST', body: { role } }),
  acceptInvite: (code: string) => call<FamilyView>(`/v1/invites/${enc(code)}/accept`, { method: 'POST' }),
  removeMember: (fid: string, uid: string) => call<void>(`${fam(fid)}/members/${enc(uid)}`, { method: 'DELETE' }),
  bindWatch: (fid: string, bindingCode: string, childName: string) =>
    call<DeviceView>(`${fam(fid)}/devices`, { method: 'POST', body: { bindingCode, childName } }),
  unbindWatch: (fid: string, did: string) => call<void>(`${fam(fid)}/devices/${enc(did)}`, { method: 'DELETE' }),
  setPermissions: (fid: string, did: string, permissions: Permissions) =>
    call<DeviceView>(`${fam(fid)}/devices/${enc(did)}/permissions`, { method: 'PUT', body: permissions }),
  geofences: (fid: string) => call<{ geofences: GeofenceView[] }>(`${fam(fid)}/geofences`),
  createGeofence: (fid: string, g: GeofenceInput) => call<GeofenceView>(`${fam(fid)}/geofences`, { method: 'POST', body: g }),
  updateGeofence: (fid: string, gid: string, g: GeofenceInput) =>
    call<GeofenceView>(`${fam(fid)}/geofences/${enc(gid)}`, { method: 'PUT', body: g }),
  deleteGeofence: (fid: string, gid: string) => call<void>(`${fam(fid)}/geofences/${enc(gid)}`, { method: 'DELETE' }),
  /** Sender or owner only (the hub answers 403 `not_your_message` otherwise); 204 again when already deleted. */
  deleteMessage: (fid: string, mid: string) => call<void>(`${fam(fid)}/messages/${enc(mid)}`, { method: 'DELETE' }),
  /** Owner only. Without a range, all of the family's history of the watch; both ends included. */
  deleteHistory: (fid: string, did: string, range: { from?: number; to?: number } = {}) =>
    call<{ deleted: number }>(`${fam(fid)}/devices/${enc(did)}/history`, { method: 'DELETE', body: range }),
  alerts: (fid: string) => call<{ alerts: AlertView[] }>(`${fam(fid)}/alerts`),
  /** Owners and guardians; the last 7 days, newest first; every call is audited. */
  health: (fid: string, did: string, cursor?: string) =>
    call<{ readings: HealthReadingView[]; nextCursor: string | null }>(
      `${fam(fid)}/devices/${enc(did)}/health${cursor ? `?cursor=${enc(cursor)}` : ''}`,
    ),
  deleteMe: (password: string) => call<void>('/v1/me', { method: 'DELETE', body: { password } }),
  /** A download as bytes (the export routes stream JSON with a file name). */
  download: async (path: string): Promise<Blob> => {
    const res = await authFetch(path);
    if (!res.ok) throw await errorOf(res);
    return res.blob();
  },
  childExportPath: (fid: string, did: string) => `${fam(fid)}/devices/${enc(did)}/export`,
  myExportPath: () => '/v1/me/export',
};
