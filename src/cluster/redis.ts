// Cluster mode: with REDIS_URL set, the Socket.IO Redis adapter (classic or sharded pub/sub)
// carries every room emit and server-side message to every node, and presence is counted in
// Redis per node, with node heartbeats so a dead node's sockets stop counting within seconds.
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { type RedisClientType, createClient } from 'redis';
import type { Principal } from '../contract/models.js';
import type { Latest, SharedLatest } from '../location/latest.js';
import { type LimiterFactory, redisLimiters } from './limits.js';
import type { PresenceTracker } from './presence.js';

export interface Cluster {
  readonly nodeId: string;
  /** For io.adapter(). */
  readonly adapter: ReturnType<typeof createAdapter>;
  readonly presence: RedisPresence;
  readonly latest: SharedLatest;
  /** Rate limiters whose counters all nodes share. */
  readonly limiter: LimiterFactory;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterSettings {
  url: string;
  nodeId: string;
  sharded: boolean;
  heartbeatMs: number;
}

export async function openCluster(s: ClusterSettings, logger: Logger): Promise<Cluster> {
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
  const adapter = s.sharded ? createShardedAdapter(pub, sub) : createAdapter(pub, sub);
  const presence = new RedisPresence(data, s.nodeId, s.heartbeatMs);
  await presence.beat();
  const timer = setInterval(
    () => {
      presence.beat().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'heartbeat failed'));
    },
    Math.max(250, Math.floor(s.heartbeatMs / 3)),
  );
  timer.unref();
  logger.info({ node: s.nodeId, sharded: s.sharded }, 'cluster mode over Redis');
  return {
    nodeId: s.nodeId,
    adapter: adapter as ReturnType<typeof createAdapter>,
    presence,
    latest: redisLatest(data),
    limiter: redisLimiters(data),
    async ping() {
      await data.ping();
    },
    async close() {
      clearInterval(timer);
      await presence.leave().catch(() => undefined);
      await Promise.allSettled([pub.quit(), sub.quit(), data.quit()]);
    },
  };
}

const LATEST = 'hub:latest';
const OFFLINE_CLAIM_MS = 86_400_000;

/** The newest position of every watch, in one Redis hash shared by the nodes. */
function redisLatest(redis: RedisClientType): SharedLatest {
  return {
    async get(deviceId) {
      const v = await redis.hGet(LATEST, deviceId);
      return v ? (JSON.parse(v) as Latest) : undefined;
    },
    async set(deviceId, latest) {
      await redis.hSet(
        LATEST,
        deviceId,
        JSON.stringify({ event: latest.event, receivedAt: latest.receivedAt, lowBattery: latest.lowBattery === true }),
      );
    },
    async delete(deviceId) {
      await redis.hDel(LATEST, deviceId);
    },
    async all() {
      return Object.values(await redis.hGetAll(LATEST)).map((v) => JSON.parse(v) as Latest);
    },
    async claimOffline(deviceId, receivedAt) {
      const r = await redis.set(`hub:offline:${deviceId}:${receivedAt}`, '1', { NX: true, PX: OFFLINE_CLAIM_MS });
      return r === 'OK';
    },
  };
}

const k = {
  node: (id: string) => `hub:node:${id}`,
  nodes: 'hub:nodes',
  presence: (p: Principal) => `hub:presence:${p.kind}:${p.id}`,
  lastSeen: (p: Principal) => `hub:lastseen:${p.kind}:${p.id}`,
  nodePrincipals: (id: string) => `hub:node-principals:${id}`,
};

/**
 * Socket counts per principal and node in a Redis hash. A node counts only while its heartbeat
 * key lives; sweep() clears what dead nodes left and reports who went offline with them.
 */
export class RedisPresence implements PresenceTracker {
  constructor(
    private readonly redis: RedisClientType,
    private readonly nodeId: string,
    private readonly heartbeatMs: number,
  ) {}

  async beat(): Promise<void> {
    await this.redis.set(k.node(this.nodeId), String(Date.now()), { PX: this.heartbeatMs });
    await this.redis.sAdd(k.nodes, this.nodeId);
  }

  async leave(): Promise<void> {
    await this.redis.del(k.node(this.nodeId));
  }

  async connected(p: Principal, now: number): Promise<boolean> {
    await this.redis.hIncrBy(k.presence(p), this.nodeId, 1);
    await this.redis.sAdd(k.nodePrincipals(this.nodeId), `${p.kind}:${p.id}`);
    await this.redis.set(k.lastSeen(p), String(now));
    return (await this.count(p)) === 1;
  }

  async disconnected(p: Principal, now: number): Promise<boolean> {
    const left = await this.redis.hIncrBy(k.presence(p), this.nodeId, -1);
    if (left <= 0) {
      await this.redis.hDel(k.presence(p), this.nodeId);
      await this.redis.sRem(k.nodePrincipals(this.nodeId), `${p.kind}:${p.id}`);
    }
    await this.redis.set(k.lastSeen(p), String(now));
    return (await this.count(p)) === 0;
  }

  async status(p: Principal): Promise<{ online: boolean; lastSeen: number | null }> {
    const [count, seen] = await Promise.all([this.count(p), this.redis.get(k.lastSeen(p))]);
    return { online: count > 0, lastSeen: seen === null ? null : Number(seen) };
  }

  /** Clears the counts of nodes whose heartbeat expired; returns who is now offline everywhere. */
  async sweep(now: number): Promise<Principal[]> {
    const gone: Principal[] = [];
    for (const node of await this.redis.sMembers(k.nodes)) {
      if (node === this.nodeId || (await this.redis.exists(k.node(node)))) continue;
      for (const member of await this.redis.sMembers(k.nodePrincipals(node))) {
        const [kind, ...id] = member.split(':');
        const p: Principal = { kind: kind as Principal['kind'], id: id.join(':') };
        await this.redis.hDel(k.presence(p), node);
        await this.redis.set(k.lastSeen(p), String(now));
        if ((await this.count(p)) === 0) gone.push(p);
      }
      await this.redis.del(k.nodePrincipals(node));
      await this.redis.sRem(k.nodes, node);
    }
    return gone;
  }

  /** Sockets of the principal on nodes that are alive. */
  private async count(p: Principal): Promise<number> {
    const perNode = await this.redis.hGetAll(k.presence(p));
    let total = 0;
    for (const [node, n] of Object.entries(perNode)) {
      if (Number(n) > 0 && (node === this.nodeId || (await this.redis.exists(k.node(node))))) total += Number(n);
    }
    return total;
  }
}
