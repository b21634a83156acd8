// Geofence crossings, kept: each transition the engine decides is stored (with `late` when it came
// from fixes the watch buffered while out of coverage) and listed to the family with
// `GET /v1/families/:fid/geofence-events`. They are positions of a child, so they fall under the
// location retention (src/jobs/retention.ts).
import { randomUUID } from 'node:crypto';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { Principal } from '../contract/models.js';
import type { GeofenceEventView } from '../contract/notifications.js';
import type { GeofenceEventRow } from '../store/notifications.js';
import type { Store } from '../store/store.js';

const DEFAULT_PAGE = 100;

export interface Crossing {
  geofenceId: string;
  transition: 'enter' | 'exit';
  ts: number;
  lat: number;
  lng: number;
  late: boolean;
}

function view(r: GeofenceEventRow): GeofenceEventView {
  return {
    id: r.id,
    familyId: r.family_id,
    geofenceId: r.geofence_id,
    deviceId: r.device_id,
    transition: r.transition as 'enter' | 'exit',
    ts: r.ts,
    lat: r.lat,
    lng: r.lng,
    late: r.late === 1,
  };
}

const encodeCursor = (r: { ts: number; id: string }) => Buffer.from(`${r.ts}:${r.id}`).toString('base64url');
function decodeCursor(cursor: string): { ts: number; id: string } {
  const m = /^(\d{1,16}):([A-Za-z0-9-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw E.badCursor();
  return { ts: Number(m[1]), id: m[2]! };
}

export class GeofenceEvents {
  constructor(
    private readonly store: Store,
    private readonly guard: Guard,
    private readonly clock: () => number,
  ) {}

  /** Stores crossings of one watch; returns them with their ids. */
  async record(familyId: string, deviceId: string, crossings: readonly Crossing[]): Promise<(Crossing & { id: string })[]> {
    const now = this.clock();
    const rows = crossings.map((c) => ({ ...c, id: randomUUID() }));
    await this.store.geofenceEvents.insert(
      rows.map((c) => ({
        id: c.id,
        family_id: familyId,
        device_id: deviceId,
        geofence_id: c.geofenceId,
        transition: c.transition,
        ts: c.ts,
        lat: c.lat,
        lng: c.lng,
        late: c.late ? 1 : 0,
        created_at: now,
      })),
    );
    return rows;
  }

  /** A page of the family's crossings, oldest first; any member of the family. */
  async list(
    principal: Principal,
    req: {
      familyId: string;
      deviceId?: string | undefined;
      from?: number | undefined;
      to?: number | undefined;
      cursor?: string | undefined;
      limit?: number | undefined;
    },
  ): Promise<{ events: GeofenceEventView[]; nextCursor: string | null }> {
    const from = req.from ?? 0;
    const to = req.to ?? Number.MAX_SAFE_INTEGER;
    if (from > to) throw E.invalid('from must not be after to');
    await this.guard.check(RULES['geofence.events'], principal, req);
    if (req.deviceId !== undefined) {
      // Another family's watch (or none) answers as nothing of this family: refused alike.
      const d = await this.store.devices.findById(req.deviceId);
      if (d?.family_id !== req.familyId) throw E.noSuchWatch();
    }
    const limit = req.limit ?? DEFAULT_PAGE;
    const rows = await this.store.geofenceEvents.list({
      familyId: req.familyId,
      deviceId: req.deviceId,
      from,
      to,
      after: req.cursor === undefined ? undefined : decodeCursor(req.cursor),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { events: page.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }
}
