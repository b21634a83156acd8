// Everything that differs between one node and a cluster sits behind this interface: who is
// online, the newest position of each watch, rate-limit counters, messages between nodes, and
// where a call lives. src/main.ts chooses the implementation once (memory.ts for one node,
// redis.ts with REDIS_URL); services use it without asking which it is.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CallForward, CallPresence, PeerMessage, WatchRelayMessage } from '../contract/events.js';
import type { LocationEvent, Principal } from '../contract/models.js';
import type { HubServer } from '../contract/server.js';

export interface PresenceTracker {
  /** Records a new socket; true when it is the principal's first (anywhere). */
  connected(p: Principal, now: number): Promise<boolean>;
  /** Records a closed socket; true when it was the principal's last (anywhere). */
  disconnected(p: Principal, now: number): Promise<boolean>;
  /** Online state and the last time the principal was seen connected (null if never). */
  status(p: Principal): Promise<{ online: boolean; lastSeen: number | null }>;
  /** Clears what nodes that died left behind; returns who went offline with them. */
  sweep(now: number): Promise<Principal[]>;
}

/** A watch's newest position as the hub keeps it for `location:latest`, area stats and offline detection. */
export interface NewestPosition {
  event: LocationEvent;
  /** When the hub received the report (the watch's own clock may be off). */
  receivedAt: number;
  /**
   * Since when the watch shared its location when this was reported (its binding, or location
   * last turned on): an entry from an earlier sharing period is not answered.
   */
  boundAt: number;
  /** Read from the store after a start, not yet told to the family. */
  fromStore?: boolean;
  /** A low_battery alert was raised for the current dip. */
  lowBattery?: boolean;
}

export interface NewestPositions {
  get(deviceId: string): Promise<NewestPosition | undefined>;
  set(deviceId: string, p: NewestPosition): Promise<void>;
  delete(deviceId: string): Promise<void>;
  all(): Promise<NewestPosition[]>;
  /** True for exactly one caller (one node) per silence: the report it followed. */
  claimOffline(deviceId: string, receivedAt: number): Promise<boolean>;
}

export interface LimiterOptions {
  /** Names the budget (e.g. "login-account"), so limiters never share keys. */
  keyPrefix: string;
  points: number;
  durationS: number;
}

export type LimiterFactory = (o: LimiterOptions) => RateLimiterAbstract;

/** What a node that hosts calls answers for the calls it holds. */
export interface CallHost {
  hosts(callId: string): boolean;
  handle(method: CallForward['method'], p: Principal, req: CallForward['req']): Promise<object>;
  socketsGone(p: Principal): void;
  /** A socket of the principal connected (on any node). */
  socketsBack(p: Principal, socketId: string): void;
}

export interface Backplane {
  readonly nodeId: string;
  readonly presence: PresenceTracker;
  readonly positions: NewestPositions;
  /** Rate limiters whose counters every node shares. */
  readonly limiter: LimiterFactory;
  /** Binds to the Socket.IO server (its adapter, and the channels between nodes). Call once, before listening. */
  attach(io: HubServer): void;
  /** Tells every other node; resolves once they have all handled it (or after a timeout). */
  publish(msg: PeerMessage): Promise<void>;
  onPeerMessage(handler: (msg: PeerMessage) => Promise<void>): void;
  /** Sends a call request to the node hosting the call; rejects NOT_FOUND when no node does. */
  forwardCall(msg: CallForward): Promise<object>;
  /** Tells the nodes that may host the principal's call that a socket of theirs came, or all went. */
  callPresence(msg: CallPresence): void;
  /** Serves other nodes' requests for the calls this node hosts. */
  serveCalls(host: CallHost): void;
  /**
   * Hands a message to the TCP watch gateways of every node, this one included (fire and forget:
   * a node that misses it, e.g. in a Redis outage, redelivers open commands on the next connect).
   */
  relayToWatches(msg: WatchRelayMessage): void;
  onWatchRelay(handler: (msg: WatchRelayMessage) => void): void;
  /** Resolves when the shared parts answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
