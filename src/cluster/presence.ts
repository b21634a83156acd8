// Who is online. Counts sockets per principal so a phone with two tabs, or a watch that
// reconnects before its old socket closes, is reported once online and once offline.
// Single-node implementation; the cluster issue adds one backed by Redis behind this interface.
import type { Principal } from '../contract/models.js';

export interface PresenceTracker {
  /** Records a new socket; true when it is the principal's first. */
  connected(p: Principal, now: number): Promise<boolean>;
  /** Records a closed socket; true when it was the principal's last. */
  disconnected(p: Principal, now: number): Promise<boolean>;
  /** Online state and the last time the principal was seen connected (null if never). */
  status(p: Principal): Promise<{ online: boolean; lastSeen: number | null }>;
}

const key = (p: Principal) => `${p.kind}:${p.id}`;

export class MemoryPresence implements PresenceTracker {
  private readonly sockets = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();

  async connected(p: Principal, now: number): Promise<boolean> {
    const n = (this.sockets.get(key(p)) ?? 0) + 1;
    this.sockets.set(key(p), n);
    this.lastSeen.set(key(p), now);
    return n === 1;
  }

  async disconnected(p: Principal, now: number): Promise<boolean> {
    const n = (this.sockets.get(key(p)) ?? 0) - 1;
    this.lastSeen.set(key(p), now);
    if (n > 0) {
      this.sockets.set(key(p), n);
      return false;
    }
    this.sockets.delete(key(p));
    return true;
  }

  async status(p: Principal): Promise<{ online: boolean; lastSeen: number | null }> {
    return { online: this.sockets.has(key(p)), lastSeen: this.lastSeen.get(key(p)) ?? null };
  }
}
