// Location events: watches report fixes; family members read the latest positions and the
// history (every history read is written to the audit log first).
import { randomUUID } from 'node:crypto';
import { badRequest, forbidden } from '../src/contract/errors.js';
import type { LocationEvent, StoredFix } from '../src/contract/models.js';
import type { FixRow } from '../src/store/fixes.js';
import type { RoomDeps, RoomModule } from './types.js';

const DEFAULT_HISTORY_LIMIT = 100;

const encodeCursor = (ts: number) => Buffer.from(String(ts)).toString('base64url');
function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const ts = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(ts)) throw badRequest('cursor is not one this hub issued');
  return ts;
}

function storedFix(r: FixRow): StoredFix {
  return {
    ts: r.ts,
    lat: r.lat,
    lng: r.lng,
    acc: r.acc,
    ...(r.alt !== null ? { alt: r.alt } : {}),
    ...(r.speed !== null ? { speed: r.speed } : {}),
    ...(r.heading !== null ? { heading: r.heading } : {}),
    ...(r.battery !== null ? { battery: r.battery } : {}),
    source: r.source as StoredFix['source'],
    cell: r.cell,
  };
}

export function locationRoom(deps: RoomDeps): RoomModule {
  const { access, store, location, clock } = deps;

  return {
    handlers: {
      'location:report': {
        from: ['device'],
        handle: (payload, socket) => location.service.report(socket.data.principal.id, payload),
      },

      'location:latest': {
        from: ['user'],
        async handle({ familyId }, socket) {
          await access.requireInFamily(socket.data.principal, familyId);
          const devices = await store.devices.listByFamily(familyId);
          const positions: LocationEvent[] = [];
          for (const d of devices) {
            if (d.perm_location !== 1) continue;
            const latest = await location.latest.get(d.id, familyId, d.bound_at ?? 0);
            if (latest) positions.push(latest.event);
          }
          return { positions };
        },
      },

      'location:history': {
        from: ['user'],
        async handle({ deviceId, from, to, limit, cursor }, socket) {
          if (from > to) throw badRequest('from must not be after to');
          const user = socket.data.principal;
          const info = await location.devices.get(deviceId);
          if (!info?.familyId) throw forbidden('not a watch of your family');
          await access.requireInFamily(user, info.familyId);
          const afterTs = cursor === undefined ? undefined : decodeCursor(cursor);
          const pageSize = limit ?? DEFAULT_HISTORY_LIMIT;
          // One extra row tells whether another page exists.
          const rows = await store.fixes.history(deviceId, from, to, afterTs, pageSize + 1, info.boundAt);
          const page = rows.slice(0, pageSize);
          await store.audit.record({
            id: randomUUID(),
            at: clock(),
            actor: user,
            action: 'location.history',
            familyId: info.familyId,
            subject: { kind: 'device', id: deviceId },
            details: { from, to, cursor: cursor ?? null, returned: page.length },
          });
          const last = page[page.length - 1];
          return { fixes: page.map(storedFix), nextCursor: rows.length > pageSize && last ? encodeCursor(last.ts) : null };
        },
      },
    },
  };
}
