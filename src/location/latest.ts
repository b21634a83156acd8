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
  /** A low_battery alert was raised for the current dip. */
  lowBattery?: boolean;
}

/** The newest positions shared by every node (Redis, in a cluster). */
export interface SharedLatest {
  get(deviceId: string): Promise<Latest | undefined>;
  set(deviceId: string, latest: Latest): Promise<void>;
  delete(deviceId: string): Promise<void>;
  all(): Promise<Latest[]>;
  /** True for exactly one node per silence (the report it followed). */
  claimOffline(deviceId: string, receivedAt: number): Promise<boolean>;
}

export class LatestPositions {
  private readonly byDevice = new Map<string, Latest | null>();

  constructor(
    private readonly store: Store,
    /** In a cluster, where every node reads and writes the newest positions. */
    private readonly shared?: SharedLatest,
  ) {}

  /** The watch's newest position in its current family (bound since `boundAt`). */
  async get(deviceId: string, familyId: string, boundAt: number): Promise<Latest | undefined> {
    if (this.shared) {
      const shared = await this.shared.get(deviceId);
      if (shared) return shared;
    }
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

  async set(deviceId: string, latest: Latest): Promise<void> {
    this.byDevice.set(deviceId, latest);
    await this.shared?.set(deviceId, latest);
  }

  /** The watch left its family or withdrew consent: forget its position everywhere. */
  async forget(deviceId: string): Promise<void> {
    this.byDevice.delete(deviceId);
    await this.shared?.delete(deviceId);
  }

  /** Forgets this node's copy only. */
  dropLocal(deviceId: string): void {
    this.byDevice.delete(deviceId);
  }

  /** Every known newest position: the cluster's when shared, else this node's. */
  async all(): Promise<Latest[]> {
    if (this.shared) return this.shared.all();
    return [...this.byDevice.values()].filter((v): v is Latest => v !== null);
  }

  /** Whether this node should raise the offline alert for a silence (one node per silence). */
  claimOffline(deviceId: string, receivedAt: number): Promise<boolean> {
    return this.shared ? this.shared.claimOffline(deviceId, receivedAt) : Promise.resolve(true);
  }
}
