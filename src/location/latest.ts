// The newest position of each watch, in memory, so `location:latest`, area stats and offline
// detection never scan the fix table. A watch not seen since start is read once from the store.
import type { LocationEvent } from '../contract/models.js';
import type { Store } from '../store/store.js';

export interface Latest {
  event: LocationEvent;
  /** When the hub received the report (the watch's own clock may be off). */
  receivedAt: number;
  /** Read from the store after a start, not yet told to the family by this node. */
  fromStore?: boolean;
}

export class LatestPositions {
  private readonly byDevice = new Map<string, Latest | null>();

  constructor(private readonly store: Store) {}

  /** The watch's newest position in its current family (bound since `boundAt`). */
  async get(deviceId: string, familyId: string, boundAt: number): Promise<Latest | undefined> {
    const known = this.byDevice.get(deviceId);
    if (known !== undefined) return known ?? undefined;
    const row = await this.store.fixes.latest(deviceId, boundAt);
    const loaded: Latest | null = row
      ? {
          event: {
            deviceId,
            familyId,
            ts: row.ts,
            lat: row.lat,
            lng: row.lng,
            acc: row.acc,
            battery: row.battery,
            source: row.source as LocationEvent['source'],
            cell: row.cell,
          },
          receivedAt: row.received_at,
          fromStore: true,
        }
      : null;
    // A report may have landed while we read.
    if (!this.byDevice.has(deviceId)) this.byDevice.set(deviceId, loaded);
    return this.byDevice.get(deviceId) ?? undefined;
  }

  /** The in-memory entry only (no store read). */
  peek(deviceId: string): Latest | undefined {
    return this.byDevice.get(deviceId) ?? undefined;
  }

  set(deviceId: string, latest: Latest): void {
    this.byDevice.set(deviceId, latest);
  }

  forget(deviceId: string): void {
    this.byDevice.delete(deviceId);
  }

  *all(): Iterable<Latest> {
    for (const v of this.byDevice.values()) if (v) yield v;
  }
}
