// What the hot paths need to know about a watch (its family and permissions), cached so a
// location report does not read the devices table. Every change to a binding or a permission
// goes through invalidate(), which the backplane carries to the other nodes.
import type { Permissions } from '../contract/models.js';
import { type DeviceRow, permissionsOf } from './devices.js';
import type { ErasedRange } from './fixes.js';
import type { Store } from './store.js';

export interface DeviceInfo {
  id: string;
  familyId: string | null;
  /** When the current binding began: data from before it belong to another family. */
  boundAt: number;
  /**
   * Since when the watch shares its location with this family (the binding, or the last time
   * location was turned on): a position from before is never the family's newest.
   */
  sharingSince: number;
  permissions: Permissions;
  /** Ranges the family deleted from the watch's history in this binding: fixes in them are refused. */
  erased: readonly ErasedRange[];
}

export const sharingSince = (row: DeviceRow): number => Math.max(row.bound_at ?? 0, row.location_since ?? 0);

export class DeviceDirectory {
  private readonly cache = new Map<string, Promise<DeviceInfo | undefined>>();

  constructor(
    private readonly store: Store,
    /** Tells the other nodes (cluster); absent on a single node. */
    private readonly publish: (id: string) => void = () => undefined,
  ) {}

  get(deviceId: string): Promise<DeviceInfo | undefined> {
    let entry = this.cache.get(deviceId);
    if (!entry) {
      entry = this.store.devices.findById(deviceId).then(async (row) =>
        row
          ? {
              id: row.id,
              familyId: row.family_id,
              boundAt: row.bound_at ?? 0,
              sharingSince: sharingSince(row),
              permissions: permissionsOf(row),
              erased: row.family_id === null ? [] : await this.store.fixes.erasures(row.id, row.bound_at ?? 0),
            }
          : undefined,
      );
      // A failed read is not remembered.
      entry.catch(() => this.cache.delete(deviceId));
      this.cache.set(deviceId, entry);
    }
    return entry;
  }

  /** The watch's binding or permissions changed: here and, unless told by a peer, on every node. */
  invalidate(deviceId: string, fromPeer = false): void {
    this.cache.delete(deviceId);
    if (!fromPeer) this.publish(deviceId);
  }
}
