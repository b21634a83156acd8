// One contract, two implementations: what services rely on from the backplane holds for the
// memory one (a single node) and the Redis one (two nodes in this process, on a Redis database of
// their own). Cross-node parts are checked where they exist: the memory backplane has no peers.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backplane } from '../../src/backplane/backplane.js';
import { memoryBackplane } from '../../src/backplane/memory.js';
import { openRedisBackplane } from '../../src/backplane/redis.js';
import type { PeerMessage } from '../../src/contract/events.js';
import type { HubServer } from '../../src/contract/server.js';
import { createLogger } from '../../src/logger.js';
import { emptyRedis, redisUrl } from '../helpers/cluster.js';

const REDIS = redisUrl(8);
const logger = createLogger('silent', 'test');
const HEARTBEAT_MS = 600;

/** A Socket.IO server with no listener: enough for the adapter and server-side emits. */
function ioServer(): HubServer {
  return new Server(createServer()) as HubServer;
}

interface Pair {
  a: Backplane;
  b: Backplane | undefined;
  close(): Promise<void>;
}

const kinds: [string, () => Promise<Pair>][] = [
  [
    'memory',
    async () => {
      const a = memoryBackplane('solo');
      a.attach(ioServer());
      return { a, b: undefined, close: () => a.close() };
    },
  ],
  [
    'redis',
    async () => {
      await emptyRedis(REDIS);
      const open = (nodeId: string) =>
        openRedisBackplane({ url: REDIS, nodeId, sharded: false, heartbeatMs: HEARTBEAT_MS, prefix: 'bptest:' }, logger);
      const [a, b] = await Promise.all([open('node-a'), open('node-b')]);
      const ios = [ioServer(), ioServer()];
      a.attach(ios[0]!);
      b.attach(ios[1]!);
      return {
        a,
        b,
        async close() {
          await Promise.all([a.close(), b.close()]);
          ios.forEach((io) => io.close());
        },
      };
    },
  ],
];

describe.each(kinds)('the %s backplane', (kind, open) => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await open();
  });
  afterAll(() => pair.close());

  it('counts sockets per principal: online with the first, offline after the last', async () => {
    const { a } = pair;
    const p = { kind: 'user' as const, id: `u-${kind}-1` };
    expect(await a.presence.connected(p, 1000)).toBe(true);
    expect(await a.presence.connected(p, 1001)).toBe(false);
    expect(await a.presence.status(p)).toEqual({ online: true, lastSeen: 1001 });
    expect(await a.presence.disconnected(p, 1002)).toBe(false);
    expect(await a.presence.disconnected(p, 1003)).toBe(true);
    expect(await a.presence.status(p)).toEqual({ online: false, lastSeen: 1003 });
    expect(await a.presence.status({ kind: 'device', id: 'never-seen' })).toEqual({ online: false, lastSeen: null });
  });

  it('keeps the newest positions, and gives exactly one claim per silence', async () => {
    const { a, b } = pair;
    const entry = {
      event: { deviceId: 'd1', familyId: 'f1', ts: 5, lat: 1, lng: 2, acc: 3, battery: null, source: 'gps' as const, cell: 'c' },
      receivedAt: 6,
      boundAt: 4,
      lowBattery: true,
    };
    await a.positions.set('d1', entry);
    // Another node reads what this one wrote (one node: itself).
    expect(await (b ?? a).positions.get('d1')).toEqual(entry);
    expect((await a.positions.all()).map((x) => x.event.deviceId)).toContain('d1');
    const claims = await Promise.all([a, b ?? a, a, b ?? a].map((n) => n.positions.claimOffline('d1', 6)));
    expect(claims.filter(Boolean)).toHaveLength(kind === 'memory' ? 4 : 1);
    await a.positions.delete('d1');
    expect(await (b ?? a).positions.get('d1')).toBeUndefined();
  });

  it('shares rate-limit counters between nodes', async () => {
    const { a, b } = pair;
    const first = a.limiter({ keyPrefix: `t-${kind}`, points: 3, durationS: 60 });
    const second = (b ?? a).limiter({ keyPrefix: `t-${kind}`, points: 3, durationS: 60 });
    await first.consume('k');
    await first.consume('k');
    if (b) {
      // The third point is spent on the other node: the fourth is refused everywhere.
      await second.consume('k');
      await expect(first.consume('k')).rejects.toMatchObject({ remainingPoints: 0 });
    } else {
      await first.consume('k');
      await expect(first.consume('k')).rejects.toMatchObject({ remainingPoints: 0 });
    }
  });

  it('delivers a peer message to every other node, and resolves only once they have applied it', async () => {
    const { a, b } = pair;
    const applied: PeerMessage[] = [];
    (b ?? a).onPeerMessage(async (msg) => {
      await new Promise((r) => setTimeout(r, 150));
      applied.push(msg);
    });
    await a.publish({ type: 'device', id: 'dev-1' });
    // The other node had finished when publish resolved; a single node has nobody to tell.
    expect(applied).toEqual(b ? [{ type: 'device', id: 'dev-1' }] : []);
  });

  it('forwards a call request to the node hosting the call, and answers NOT_FOUND for one nobody hosts', async () => {
    const { a, b } = pair;
    const p = { kind: 'user' as const, id: 'caller' };
    if (b) {
      b.serveCalls({
        hosts: (id) => id === 'call-on-b',
        handle: async (method, principal, req) => ({ method, by: principal.id, callId: req.callId }),
        socketsGone: () => undefined,
        socketsBack: () => undefined,
      });
      expect(await a.forwardCall({ method: 'call:hangup', principal: p, req: { callId: 'call-on-b' } })).toEqual({
        method: 'call:hangup',
        by: 'caller',
        callId: 'call-on-b',
      });
    }
    await expect(a.forwardCall({ method: 'call:hangup', principal: p, req: { callId: 'nowhere' } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      reason: 'no_such_call',
    });
  });

  it('answers its health check', async () => {
    await expect(pair.a.ping()).resolves.toBeUndefined();
  });
});

describe('the redis backplane across nodes', () => {
  it('sweeps the sockets of a node that died, and keeps those of live nodes', async () => {
    await emptyRedis(REDIS);
    const open = (nodeId: string) =>
      openRedisBackplane({ url: REDIS, nodeId, sharded: false, heartbeatMs: HEARTBEAT_MS, prefix: 'bptest:' }, logger);
    const [live, doomed] = await Promise.all([open('live'), open('doomed')]);
    const both = { kind: 'device' as const, id: 'on-both' };
    const onlyDoomed = { kind: 'user' as const, id: 'on-doomed' };
    await live.presence.connected(both, 1);
    await doomed.presence.connected(both, 1);
    await doomed.presence.connected(onlyDoomed, 1);
    // Its heartbeat key goes (closed here; after a crash it expires within HUB_NODE_HEARTBEAT_MS).
    await doomed.close();
    const gone = await live.presence.sweep(2);
    expect(gone).toEqual([onlyDoomed]);
    expect((await live.presence.status(both)).online).toBe(true);
    expect((await live.presence.status(onlyDoomed)).online).toBe(false);
    await live.close();
  });
});
