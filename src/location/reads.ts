// The family's reads of its watches' positions: the newest position of each watch, and a watch's
// history a page at a time. Every read of a child's position is audited before it is answered.
import { randomUUID } from 'node:crypto';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { AckData } from '../contract/events.js';
import type { LocationEvent, Principal } from '../contract/models.js';
import type { EventPayload } from '../contract/schemas.js';
import { sharingSince } from '../store/device-directory.js';
import type { Store } from '../store/store.js';
import { storedFix } from './fix-view.js';
import type { LatestPositions } from './latest.js';

const DEFAULT_HISTORY_LIMIT = 100;

const encodeCursor = (ts: number) => Buffer.from(String(ts)).toString('base64url');
function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const ts = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(ts)) throw E.badCursor();
  return ts;
}

export class LocationReads {
  constructor(private readonly deps: { store: Store; guard: Guard; latest: LatestPositions; clock: () => number }) {}

  /** `location:latest`: the newest position of each watch of the family that shares its location. */
  async latestOf(principal: Principal, req: EventPayload<'location:latest'>): Promise<AckData<'location:latest'>> {
    const { familyId } = await this.deps.guard.check(RULES['location.latest'], principal, req);
    const positions: LocationEvent[] = [];
    for (const d of await this.deps.store.devices.listByFamily(familyId!)) {
      if (d.perm_location !== 1) continue;
      const latest = await this.deps.latest.get(d.id, familyId!, sharingSince(d));
      if (latest) positions.push(latest.event);
    }
    // Every read of a child's position is audited: one entry per watch whose position was given.
    const at = this.deps.clock();
    for (const p of positions) {
      await this.deps.store.audit.record({
        id: randomUUID(),
        at,
        actor: principal,
        action: 'location.latest',
        familyId: familyId!,
        subject: { kind: 'device', id: p.deviceId },
        details: { ts: p.ts },
      });
    }
    return { positions };
  }

  /** `location:history`: a page of a watch's stored fixes, from its current binding on; every read is audited first. */
  async history(principal: Principal, req: EventPayload<'location:history'>): Promise<AckData<'location:history'>> {
    const { deviceId, from, to, limit, cursor } = req;
    if (from > to) throw E.invalid('from must not be after to');
    const { familyId, device } = await this.deps.guard.check(RULES['location.history'], principal, req);
    const afterTs = cursor === undefined ? undefined : decodeCursor(cursor);
    const pageSize = limit ?? DEFAULT_HISTORY_LIMIT;
    // One extra row tells whether another page exists.
    const rows = await this.deps.store.fixes.history(deviceId, from, to, afterTs, pageSize + 1, device!.boundAt);
    const page = rows.slice(0, pageSize);
    await this.deps.store.audit.record({
      id: randomUUID(),
      at: this.deps.clock(),
      actor: principal,
      action: 'location.history',
      familyId: familyId!,
      subject: { kind: 'device', id: deviceId },
      details: { from, to, cursor: cursor ?? null, returned: page.length },
    });
    const last = page[page.length - 1];
    return { fixes: page.map(storedFix), nextCursor: rows.length > pageSize && last ? encodeCursor(last.ts) : null };
  }
}
