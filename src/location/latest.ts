// The newest position of each watch, kept by the backplane (in memory on one node, in Redis for a
// cluster), so `location:latest`, area stats and offline detection never scan the fix table. A
// watch not seen since the start is read once from the store. An entry is only ever answered for
// the family and binding it was recorded under.
import type { NewestPosition, NewestPositions } from '../backplane/backplane.js';
import type { Store } from '../store/store.js';
import { locationEvent } from './fix-view.js';

export class LatestPositions {
  constructor(
    private readonly store: Store,
    private readonly positions: NewestPositions,
  ) {}

  /** The watch's newest position in its current family, shared since `boundAt` (see DeviceInfo.sharingSince), if any. */
  async get(deviceId: string, familyId: string, boundAt: number): Promise<NewestPosition | undefined> {
    const kept = await this.positions.get(deviceId);
    if (kept) return kept.event.familyId === familyId && kept.boundAt === boundAt ? kept : undefined;
    const row = await this.store.fixes.latest(deviceId, boundAt);
    if (!row) return undefined;
    const loaded: NewestPosition = {
      event: locationEvent(deviceId, familyId, row),
      receivedAt: row.received_at,
      boundAt,
      fromStore: true,
    };
    // A report may have landed while we read: it wins.
    if (!(await this.positions.get(deviceId))) await this.positions.set(deviceId, loaded);
    return loaded;
  }

  /** What is kept for the watch now, whatever its family (no read from the store). */
  peek(deviceId: string): Promise<NewestPosition | undefined> {
    return this.positions.get(deviceId);
  }

  set(deviceId: string, p: NewestPosition): Promise<void> {
    return this.positions.set(deviceId, p);
  }

  /** The watch left its family or withdrew consent: forget its position everywhere. */
  forget(deviceId: string): Promise<void> {
    return this.positions.delete(deviceId);
  }

  all(): Promise<NewestPosition[]> {
    return this.positions.all();
  }

  /** Whether this node should raise the offline alert for a silence (one node per silence). */
  claimOffline(deviceId: string, receivedAt: number): Promise<boolean> {
    return this.positions.claimOffline(deviceId, receivedAt);
  }
}
