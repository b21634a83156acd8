// Chaos: steady location and chat load through nginx onto three nodes, then one node is killed
// with SIGKILL. Its clients reconnect through the balancer within 10 s, every acknowledged fix and
// message is in the store and reaches the family, and nothing acknowledged is lost.
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRedis, nodeEnv, redisUrl } from '../helpers/cluster.js';
import { freshDatabaseUrl } from '../helpers/databases.js';
import { addMember, bindWatch, createFamily, provisionWatch, registerUser } from '../helpers/hub.js';
import { fix, setPermissions } from '../helpers/location.js';
import { type Nginx, startNginx } from '../helpers/nginx.js';
import { type HubProcess, startHubProcess } from '../helpers/processes.js';

const REDIS_URL = redisUrl(8);

/** A client as a real app would be: reconnecting through the balancer by itself. */
function client(url: string, token: string): Socket {
  return ioClient(url, { auth: { token }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 1000, forceNew: true });
}

const ack = (s: Socket, event: string, payload: unknown) =>
  s.timeout(3000).emitWithAck(event, payload).catch(() => ({ ok: false }));

describe('a node killed under load', () => {
  let nodes: HubProcess[] = [];
  let nginx: Nginx;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    await emptyRedis(REDIS_URL);
    const db = await freshDatabaseUrl('postgres');
    drop = db.drop;
    const env = (id: string) => nodeEnv(`${id}-chaos`, db.url, REDIS_URL);
    nodes = [await startHubProcess(env('a'))];
    nodes.push(...(await Promise.all([startHubProcess(env('b')), startHubProcess(env('c'))])));
    nginx = await startNginx(
      nodes.map((n) => Number(new URL(n.url).port)),
      20000 + Math.floor(Math.random() * 20000),
    );
  }, 60_000);

  afterAll(async () => {
    nginx?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await drop();
  });

  it('loses nothing acknowledged, and its clients are back within 10 s', async () => {
    const owner = await registerUser(nginx);
    const familyId = await createFamily(nginx, owner);
    const guardian = await addMember(nginx, owner, familyId, 'guardian');
    const watches: Awaited<ReturnType<typeof provisionWatch>>[] = [];
    for (let i = 0; i < 6; i++) {
      const w = await provisionWatch(nginx);
      await bindWatch(nginx, owner, familyId, w);
      await setPermissions(nginx, owner.accessToken, familyId, w.deviceId, true);
      watches.push(w);
    }
    const watchSockets = watches.map((w) => client(nginx.url, w.deviceToken));
    const writers = [client(nginx.url, owner.accessToken), client(nginx.url, guardian.accessToken)];
    const all = [...watchSockets, ...writers];
    await Promise.all(all.map((s) => new Promise<void>((resolve) => (s.connected ? resolve() : s.once('connect', () => resolve())))));

    const ackedFixes = new Map<string, number[]>(watches.map((w) => [w.deviceId, []]));
    const ackedMessages: number[] = [];
    const disconnectedAt = new Map<Socket, number>();
    const backAfter: number[] = [];
    for (const s of all) {
      s.on('disconnect', () => disconnectedAt.set(s, Date.now()));
      s.io.on('reconnect', () => {
        const t = disconnectedAt.get(s);
        if (t !== undefined) backAfter.push(Date.now() - t);
      });
    }

    const t0 = Date.now() - 100_000;
    let n = 0;
    let killed = false;
    const end = Date.now() + 8000;
    while (Date.now() < end) {
      n++;
      await Promise.all([
        ...watchSockets.map(async (s, i) => {
          const ts = t0 + n * 10 + i;
          const r = await ack(s, 'location:report', fix({ ts }));
          if (r.ok) ackedFixes.get(watches[i]!.deviceId)!.push(ts);
        }),
        (async () => {
          const w = writers[n % 2]!;
          const r = await ack(w, 'chat:send', { conversationId: familyId, clientMsgId: `c${n}`, kind: 'text', text: `m${n}` });
          if (r.ok) ackedMessages.push(r.message.seq as number);
        })(),
      ]);
      if (!killed && Date.now() > end - 6000) {
        killed = true;
        await nodes[0]!.stop('SIGKILL');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Everyone dropped by the dead node is back, within 10 s each.
    const dropped = [...disconnectedAt.keys()];
    expect(dropped.length).toBeGreaterThan(0);
    for (const s of dropped) expect(s.connected).toBe(true);
    expect(backAfter.length).toBe(dropped.length);
    for (const ms of backAfter) expect(ms).toBeLessThan(10_000);

    // Every acknowledged fix is stored; every acknowledged message is there for chat:sync.
    const reader = writers[0]!;
    for (const w of watches) {
      const h = await ack(reader, 'location:history', { deviceId: w.deviceId, from: t0, to: t0 + 1_000_000, limit: 1000 });
      const stored = new Set((h.fixes as { ts: number }[]).map((f) => f.ts));
      expect(ackedFixes.get(w.deviceId)!.filter((ts) => !stored.has(ts))).toEqual([]);
    }
    const sync = await ack(reader, 'chat:sync', { conversationId: familyId, afterSeq: 0, limit: 500 });
    const seqs = new Set((sync.messages as { seq: number }[]).map((m) => m.seq));
    expect(ackedMessages.filter((s) => !seqs.has(s))).toEqual([]);
    expect(ackedMessages.length).toBeGreaterThan(50);
    for (const s of all) s.close();
  }, 60_000);
});
