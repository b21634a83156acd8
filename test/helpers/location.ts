// Location test helpers: fixes, paths and a family whose watch may share its location.
import type { Fix } from '../../src/contract/models.js';
import { type BindOptions, type Endpoint, type TestClock, api, connect, familyWithWatch } from './hub.js';

/** A fix with a position (what most tests report). */
export type PositionedFix = Fix & { lat: number; lng: number; acc: number };

export function fix(over: Partial<PositionedFix> = {}): PositionedFix {
  return { ts: Date.now(), lat: 48.8566, lng: 2.3522, acc: 10, battery: 80, source: 'gps', ...over };
}

/**
 * For a test that reports a recorded path from the past: the family bound the watch a week ago
 * (a family sees only what the watch recorded since it bound it).
 */
export const BOUND_A_WEEK_AGO: BindOptions = { boundMsAgo: 7 * 86_400_000 };

/** Metres → degrees of latitude (and of longitude at `lat`). */
export const dLat = (m: number) => m / 111_195;
export const dLng = (m: number, lat: number) => m / (111_195 * Math.cos((lat * Math.PI) / 180));

export async function setPermissions(t: Endpoint, token: string, familyId: string, deviceId: string, location: boolean) {
  const r = await api(t, 'PUT', `/v1/families/${familyId}/devices/${deviceId}/permissions`, {
    token,
    body: { location, camera: false, microphone: false, contacts: false },
  });
  if (r.status !== 200) throw new Error(`permissions failed: ${r.status}`);
}

/** A family whose watch has location on, with the owner's and the watch's sockets connected. */
export async function sharingFamily(t: Endpoint & { clock?: TestClock }, opts: BindOptions = {}) {
  const f = await familyWithWatch(t, opts);
  await setPermissions(t, f.owner.accessToken, f.familyId, f.watch.deviceId, true);
  const parentSocket = await connect(t, f.owner.accessToken);
  const watchSocket = await connect(t, f.watch.deviceToken);
  return { ...f, deviceId: f.watch.deviceId, parentSocket, watchSocket };
}
