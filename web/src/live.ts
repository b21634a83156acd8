// What the hub tells the app as it happens: positions, presence, alerts, fence crossings and
// command statuses, for every family of the user (one socket carries all their rooms). Loaded
// once per family (location:latest, presence:list, the alert list) and kept up to date by events;
// loaded again after a reconnect, since events sent while away are not replayed.
import type {
  AlertView,
  CommandView,
  GeofenceEvent,
  LocationEvent,
  PresenceEntry,
  PrincipalKind,
} from '../../src/contract/models.js';
import { api } from './api.js';
import { connection, currentSocket, openSocket, request } from './socket.js';
import { session } from './auth.js';
import { Store } from './store.js';
import { notify } from './notices.js';

export interface LiveState {
  /** Newest position per watch id. */
  positions: ReadonlyMap<string, LocationEvent>;
  /** Presence per `kind:id`. */
  presence: ReadonlyMap<string, PresenceEntry>;
  /** Alerts per id (open and recent). */
  alerts: ReadonlyMap<string, AlertView>;
  /** Commands sent or seen this session, per id. */
  commands: ReadonlyMap<string, CommandView>;
  /** Fence crossings seen this session, newest first. */
  crossings: readonly GeofenceEvent[];
}

const empty = (): LiveState => ({
  positions: new Map(),
  presence: new Map(),
  alerts: new Map(),
  commands: new Map(),
  crossings: [],
});
export const live = new Store<LiveState>(empty());

/** Alert types that need a person now: banner and sound until someone acknowledges. */
export const URGENT_ALERTS = new Set(['sos', 'fall', 'removed']);

export const presenceKey = (kind: PrincipalKind, id: string) => `${kind}:${id}`;

const loaded = new Set<string>();

function put<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): Map<K, V> {
  const next = new Map(map);
  next.set(key, value);
  return next;
}

export function recordCommand(c: CommandView): void {
  live.update((s) => {
    const prev = s.commands.get(c.id);
    // Updates can arrive out of order (the ack and two command:update events): keep the newest.
    if (prev && prev.updatedAt > c.updatedAt) return s;
    return { ...s, commands: put(s.commands, c.id, c) };
  });
}

export function recordAlert(a: AlertView): void {
  live.update((s) => ({ ...s, alerts: put(s.alerts, a.id, { ...s.alerts.get(a.id), ...a }) }));
}

/** Loads a family's current state; again after each reconnect. */
export async function loadFamily(familyId: string): Promise<void> {
  loaded.add(familyId);
  const [latest, presence, alerts] = await Promise.all([
    request('location:latest', { familyId }),
    request('presence:list', { familyId }),
    api.alerts(familyId),
  ]);
  live.update((s) => {
    const positions = new Map(s.positions);
    for (const p of latest.positions) {
      const prev = positions.get(p.deviceId);
      if (!prev || prev.ts <= p.ts) positions.set(p.deviceId, p);
    }
    const pres = new Map(s.presence);
    for (const p of presence.presence) pres.set(presenceKey(p.kind, p.id), p);
    const al = new Map(s.alerts);
    for (const a of alerts.alerts) al.set(a.id, a);
    return { ...s, positions, presence: pres, alerts: al };
  });
}

export function familyLoaded(familyId: string): boolean {
  return loaded.has(familyId);
}

let wiredTo: ReturnType<typeof currentSocket> = null;

/** Subscribes to the live events of the current socket (idempotent). */
export function wireLive(): void {
  const s = currentSocket() ?? openSocket();
  if (wiredTo === s) return;
  wiredTo = s;
  s.on('location', (e) =>
    live.update((st) => {
      const prev = st.positions.get(e.deviceId);
      return prev && prev.ts > e.ts ? st : { ...st, positions: put(st.positions, e.deviceId, e) };
    }),
  );
  s.on('presence', (p) => live.update((st) => ({ ...st, presence: put(st.presence, presenceKey(p.kind, p.id), p) })));
  s.on('alert', (a) => recordAlert(a));
  s.on('alert:acked', (e) => {
    const prev = live.get().alerts.get(e.id);
    if (prev) recordAlert({ ...prev, ackedAt: e.ackedAt, ackedBy: e.ackedBy });
  });
  s.on('geofence', (e) => live.update((st) => ({ ...st, crossings: [e, ...st.crossings].slice(0, 100) })));
  s.on('command:update', ({ command }) => recordCommand(command));
  s.on('incident', (e) => notify(`Notice from the hub's operators: ${e.message}`, 'alert'));
}

// Events missed while disconnected are not replayed: reload what was loaded.
connection.subscribe((st) => {
  if (st !== 'online') return;
  for (const fid of loaded) void loadFamily(fid).catch(() => undefined);
});
session.subscribe((st) => {
  if (st.status === 'signedIn') return;
  loaded.clear();
  wiredTo = null;
  live.set(empty());
});
