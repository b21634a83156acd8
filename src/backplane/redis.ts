// The backplane of a cluster (REDIS_URL): the Socket.IO Redis adapter (classic or sharded pub/sub)
// carries every room emit and every message between nodes; presence is counted in Redis per node,
// with node heartbeats, so a dead node's sockets stop counting within seconds; newest positions
// and rate-limit counters live in Redis too. Every key starts with the configured prefix.
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { type RedisClientType, createClient } from 'redis';
import {
  CALL_FORWARD_EVENT,
  CALL_PRESENCE_EVENT,
  type CallForwardReply,
  PEER_EVENT,
  type PeerMessage,
  WATCH_RELAY_EVENT,
  type WatchRelayMessage,
} from '../contract/events.js';
import { E, HubError, errorBody } from '../contract/errors.js';
import type { Principal } from '../contract/models.js';
import type { HubServer } from '../contract/server.js';
import type { Backplane, CallHost, LimiterFactory, NewestPosition, NewestPositions, PresenceTracker } from './backplane.js';
import { memoryLimiters } from './memory.js';

export interface RedisBackplaneSettings {
  url: string;
  nodeId: string;
  sharded: boolean;
  heartbeatMs: number;
  /** Every Redis key and channel starts with this (HUB_REDIS_PREFIX), so hubs can share a server. */
  prefix: string;
}

/** The keys this hub uses, all under the prefix. */
export function redisKeys(prefix: string) {
  return {
    adapter: `${prefix}socket.io`,
    node: (id: string) => `${prefix}node:${id}`,
    nodes: `${prefix}nodes`,
    presence: (p: Principal) => `${prefix}presence:${p.kind}:${p.id}`,
    lastSeen: (p: Principal) => `${prefix}lastseen:${p.kind}:${p.id}`,
    nodePrincipals: (id: string) => `${prefix}node-principals:${id}`,
    latest: `${prefix}latest`,
    offlineClaim: (deviceId: string, receivedAt: number) => `${prefix}offline:${deviceId}:${receivedAt}`,
    rateLimit: (name: string) => `${prefix}rl:${name}`,
  };
}
type Keys = ReturnType<typeof redisKeys>;

const OFFLINE_CLAIM_MS = 86_400_000;

export async function openRedisBackplane(s: RedisBackplaneSettings, logger: Logger): Promise<Backplane> {
  const k = redisKeys(s.prefix);
  const pub = createClient({ url: s.url }) as RedisClientType;
  const sub = pub.duplicate();
  const data = pub.duplicate();
  for (const [name, c] of [
    ['pub', pub],
    ['sub', sub],
    ['data', data],
  ] as const) {
    // node-redis reconnects by itself; errors are logged, readiness reports the outage.
    c.on('error', (err: Error) => logger.warn({ err: err.message, client: name }, 'redis error'));
  }
  await Promise.all([pub.connect(), sub.connect(), data.connect()]);
  const adapter = s.sharded
    ? createShardedAdapter(pub, sub, { channelPrefix: k.adapter })
    : createAdapter(pub, sub, { key: k.adapter });
  const presence = new RedisPresence(data, k, s.nodeId, s.heartbeatMs);
  await presence.beat();
  const timer = setInterval(
    () => {
      presence.beat().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'heartbeat failed'));
    },
    Math.max(250, Math.floor(s.heartbeatMs / 3)),
  );
  timer.unref();
  logger.info({ node: s.nodeId, sharded: s.sharded }, 'cluster mode over Redis');

  let io: HubServer | undefined;
  const server = (): HubServer => {
    if (!io) throw new Error('the Redis backplane is not attached to the Socket.IO server yet');
    return io;
  };
  let closing = false;
  /**
   * A notice no one answers (call presence, watch relay). Skipped once the node is closing: the
   * sockets that drop while it shuts down would publish on a closed client (an unhandled
   * rejection inside the adapter), and the other nodes learn of this node's leaving anyway.
   */
  const notify = (event: typeof CALL_PRESENCE_EVENT | typeof WATCH_RELAY_EVENT, msg: unknown) => {
    if (!closing) (server().serverSideEmit as (e: string, m: unknown) => boolean)(event, msg);
  };
  const peerHandlers: ((msg: PeerMessage) => Promise<void>)[] = [];
  let callHost: CallHost | undefined;
  const relays: ((msg: WatchRelayMessage) => void)[] = [];
  const relayHere = (msg: WatchRelayMessage) => {
    for (const h of relays) {
      try {
        h(msg);
      } catch (err) {
        logger.error({ err, msg: msg.type }, 'watch relay failed');
      }
    }
  };

  return {
    nodeId: s.nodeId,
    presence,
    positions: redisPositions(data, k),
    limiter: redisLimiters(data, k),
    attach(target) {
      io = target;
      io.adapter(adapter as Parameters<HubServer['adapter']>[0]);
      io.on(PEER_EVENT, (msg, ack) => {
        Promise.all(peerHandlers.map((h) => h(msg))).then(
          () => ack(true),
          (err: unknown) => logger.error({ err, msg }, 'peer message failed'),
        );
      });
      io.on(CALL_FORWARD_EVENT, (msg, ack) => {
        if (!callHost?.hosts(msg.req.callId)) return ack({ handled: false });
        callHost.handle(msg.method, msg.principal, msg.req).then(
          (result) => ack({ handled: true, result }),
          (err: unknown) => ack({ handled: true, error: errorBody(err) }),
        );
      });
      io.on(WATCH_RELAY_EVENT, relayHere);
      io.on(CALL_PRESENCE_EVENT, (msg) => {
        if (msg.online) callHost?.socketsBack(msg.principal, msg.socketId);
        else callHost?.socketsGone(msg.principal);
      });
    },
    publish(msg) {
      // Every node acknowledges once it has applied the message (the adapter times the request
      // out after its requestsTimeout, 5 s): the caller then knows no node acts on stale state.
      return new Promise((resolve) => {
        server().serverSideEmit(PEER_EVENT, msg, (err: Error | null) => {
          if (err) logger.warn({ err: err.message, msg: msg.type }, 'a node did not confirm a peer message');
          resolve();
        });
      });
    },
    onPeerMessage(handler) {
      peerHandlers.push(handler);
    },
    forwardCall(msg) {
      return new Promise((resolve, reject) => {
        server().serverSideEmit(CALL_FORWARD_EVENT, msg, (err: Error | null, replies: CallForwardReply[]) => {
          const reply = (replies ?? []).find((r) => r.handled);
          if (reply && 'result' in reply) return resolve(reply.result);
          if (reply && 'error' in reply) return reject(HubError.fromBody(reply.error));
          if (err) return reject(E.nodeUnreachable('the node hosting this call did not answer'));
          reject(E.noSuchCall('you are not in that call'));
        });
      });
    },
    callPresence(msg) {
      notify(CALL_PRESENCE_EVENT, msg);
    },
    serveCalls(host) {
      callHost = host;
    },
    relayToWatches(msg) {
      relayHere(msg);
      notify(WATCH_RELAY_EVENT, msg);
    },
    onWatchRelay(handler) {
      relays.push(handler);
    },
    async ping() {
      await data.ping();
    },
    async close() {
      closing = true;
      clearInterval(timer);
      await presence.leave().catch(() => undefined);
      await Promise.allSettled([pub.quit(), sub.quit(), data.quit()]);
    },
  };
}

/** Counters in Redis; while Redis is unreachable each node falls back to its own memory. */
function redisLimiters(client: RedisClientType, k: Keys): LimiterFactory {
  return (o) =>
    new RateLimiterRedis({
      storeClient: client,
      useRedisPackage: true,
      keyPrefix: k.rateLimit(o.keyPrefix),
      points: o.points,
      duration: o.durationS,
      insuranceLimiter: memoryLimiters(o),
    });
}

/** The newest position of every watch, in one Redis hash shared by the nodes. */
function redisPositions(redis: RedisClientType, k: Keys): NewestPositions {
  return {
    async get(deviceId) {
      const v = await redis.hGet(k.latest, deviceId);
      return v ? (JSON.parse(v) as NewestPosition) : undefined;
    },
    async set(deviceId, p) {
      await redis.hSet(k.latest, deviceId, JSON.stringify(p));
    },
    async delete(deviceId) {
      await redis.hDel(k.latest, deviceId);
    },
    async all() {
      return Object.values(await redis.hGetAll(k.latest)).map((v) => JSON.parse(v) as NewestPosition);
    },
    async claimOffline(deviceId, receivedAt) {
      const r = await redis.set(k.offlineClaim(deviceId, receivedAt), '1', { NX: true, PX: OFFLINE_CLAIM_MS });
      return r === 'OK';
    },
  };
}

/**
 * Socket counts per principal and node in a Redis hash. A node counts only while its heartbeat
 * key lives; sweep() clears what dead nodes left and reports who went offline with them.
 */
export class RedisPresence implements PresenceTracker {
  constructor(
    private readonly redis: RedisClientType,
    private readonly k: Keys,
    private readonly nodeId: string,
    private readonly heartbeatMs: number,
  ) {}

  async beat(): Promise<void> {
    await this.redis.set(this.k.node(this.nodeId), String(Date.now()), { PX: this.heartbeatMs });
    await this.redis.sAdd(this.k.nodes, this.nodeId);
  }

  async leave(): Promise<void> {
    await this.redis.del(this.k.node(this.nodeId));
  }

  async connected(p: Principal, now: number): Promise<boolean> {
    await this.redis.hIncrBy(this.k.presence(p), this.nodeId, 1);
    await this.redis.sAdd(this.k.nodePrincipals(this.nodeId), `${p.kind}:${p.id}`);
    await this.redis.set(this.k.lastSeen(p), String(now));
    return (await this.count(p)) === 1;
  }

  async disconnected(p: Principal, now: number): Promise<boolean> {
    const left = await this.redis.hIncrBy(this.k.presence(p), this.nodeId, -1);
    if (left <= 0) {
      await this.redis.hDel(this.k.presence(p), this.nodeId);
      await this.redis.sRem(this.k.nodePrincipals(this.nodeId), `${p.kind}:${p.id}`);
    }
    await this.redis.set(this.k.lastSeen(p), String(now));
    return (await this.count(p)) === 0;
  }

  async status(p: Principal): Promise<{ online: boolean; lastSeen: number | null }> {
    const [count, seen] = await Promise.all([this.count(p), this.redis.get(this.k.lastSeen(p))]);
    return { online: count > 0, lastSeen: seen === null ? null : Number(seen) };
  }

  async sweep(now: number): Promise<Principal[]> {
    const gone: Principal[] = [];
    for (const node of await this.redis.sMembers(this.k.nodes)) {
      if (node === this.nodeId || (await this.redis.exists(this.k.node(node)))) continue;
      for (const member of await this.redis.sMembers(this.k.nodePrincipals(node))) {
        const [kind, ...id] = member.split(':');
        const p: Principal = { kind: kind as Principal['kind'], id: id.join(':') };
        await this.redis.hDel(this.k.presence(p), node);
        await this.redis.set(this.k.lastSeen(p), String(now));
        if ((await this.count(p)) === 0) gone.push(p);
      }
      await this.redis.del(this.k.nodePrincipals(node));
      await this.redis.sRem(this.k.nodes, node);
    }
    return gone;
  }

  /** Sockets of the principal on nodes that are alive. */
  private async count(p: Principal): Promise<number> {
    const perNode = await this.redis.hGetAll(this.k.presence(p));
    let total = 0;
    for (const [node, n] of Object.entries(perNode)) {
      if (Number(n) > 0 && (node === this.nodeId || (await this.redis.exists(this.k.node(node))))) total += Number(n);
    }
    return total;
  }
}
