// The backplane of a single node: everything in this process's memory. There are no other nodes,
// so messages to them are done as soon as sent, and a call this node does not host does not exist.
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { E } from '../contract/errors.js';
import type { WatchRelayMessage } from '../contract/events.js';
import type { Principal } from '../contract/models.js';
import type { Backplane, LimiterFactory, NewestPosition, NewestPositions, PresenceTracker } from './backplane.js';

const key = (p: Principal) => `${p.kind}:${p.id}`;

/** Counts sockets per principal, so two tabs, or a watch reconnecting before its old socket closes, count once. */
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

  /** One node: nobody else can die. */
  async sweep(): Promise<Principal[]> {
    return [];
  }
}

export class MemoryPositions implements NewestPositions {
  private readonly byDevice = new Map<string, NewestPosition>();

  async get(deviceId: string) {
    return this.byDevice.get(deviceId);
  }
  async set(deviceId: string, p: NewestPosition) {
    this.byDevice.set(deviceId, p);
  }
  async delete(deviceId: string) {
    this.byDevice.delete(deviceId);
  }
  async all() {
    return [...this.byDevice.values()];
  }
  /** One node: it is always the one to raise the alert. */
  async claimOffline() {
    return true;
  }
}

export const memoryLimiters: LimiterFactory = (o) =>
  new RateLimiterMemory({ keyPrefix: o.keyPrefix, points: o.points, duration: o.durationS });

export function memoryBackplane(nodeId: string): Backplane {
  const relays: ((msg: WatchRelayMessage) => void)[] = [];
  return {
    nodeId,
    presence: new MemoryPresence(),
    positions: new MemoryPositions(),
    limiter: memoryLimiters,
    attach: () => undefined,
    publish: async () => undefined,
    onPeerMessage: () => undefined,
    forwardCall: async () => {
      throw E.noSuchCall('you are not in that call');
    },
    callPresence: () => undefined,
    serveCalls: () => undefined,
    relayToWatches: (msg) => {
      for (const h of relays) h(msg);
    },
    onWatchRelay: (handler) => {
      relays.push(handler);
    },
    ping: async () => undefined,
    close: async () => undefined,
  };
}
