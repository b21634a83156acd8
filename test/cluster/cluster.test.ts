// Three real hub processes sharing PostgreSQL and Redis: a parent on one node sees a watch on
// another as if there were one server; removals reach every node; seqs hold with writers on
// three nodes; a node killed without warning has its clients' presence corrected.
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRedis, nodeEnv, redisUrl } from '../helpers/cluster.js';
import { freshDatabaseUrl } from '../helpers/databases.js';
import {
  bindWatch,
  createFamily,
  provisionWatch,
  addMember,
  api,
  connect,
  received,
  registerUser,
  request,
  waitFor,
} from '../helpers/hub.js';
import { fix, setPermissions, sharingFamily } from '../helpers/location.js';
import { type HubProcess, startHubProcess } from '../helpers/processes.js';
import { MediaPeer } from '../helpers/media-peer.js';
import { type Nginx, startNginx } from '../helpers/nginx.js';

const REDIS_URL = redisUrl(7);
const emptyRedisDb = () => emptyRedis(REDIS_URL);

describe.each([{ sharded: false }, { sharded: true }])('cluster (sharded adapter: $sharded)', ({ sharded }) => {
  let nodes: HubProcess[] = [];
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    await emptyRedisDb();
    const db = await freshDatabaseUrl('postgres');
    drop = db.drop;
    const env = (id: string) =>
      nodeEnv(id, db.url, REDIS_URL, {
        HUB_REDIS_SHARDED: String(sharded),
        HUB_LOCATION_INTERVAL_S: '5',
        HUB_OFFLINE_AFTER_INTERVALS: '1',
      });
    // One node first, so migrations run once; then the others.
    nodes = [await startHubProcess(env('a'))];
    nodes.push(...(await Promise.all([startHubProcess(env('b')), startHubProcess(env('c'))])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await drop();
  });

  it('delivers presence, location, chat, alerts and commands across nodes', async () => {
    const [a, b, c] = nodes as [HubProcess, HubProcess, HubProcess];
    const fam = await sharingFamily(a); // owner and watch sockets on node a
    const guardian = await addMember(b, fam.owner, fam.familyId, 'guardian');
    const viewer = await addMember(c, fam.owner, fam.familyId, 'viewer');
    const onB = await connect(b, guardian.accessToken);
    const onC = await connect(c, viewer.accessToken);
    // The watch is online on node a: nodes b and c know it.
    const list = await request(onC, 'presence:list', { familyId: fam.familyId });
    expect(list.presence).toEqual(expect.arrayContaining([expect.objectContaining({ id: fam.deviceId, online: true })]));

    const locB = waitFor(onB, 'location');
    const locC = waitFor(onC, 'location');
    await request(fam.watchSocket, 'location:report', fix({ lat: 45.1 }));
    expect((await locB).lat).toBe(45.1);
    expect((await locC).lat).toBe(45.1);

    const chatC = waitFor(onC, 'chat:message');
    const sent = await request(onB, 'chat:send', {
      conversationId: fam.familyId,
      clientMsgId: 'x1',
      kind: 'text',
      text: 'across nodes',
    });
    expect((await chatC).message.id).toBe(sent.message.id);

    const alertB = waitFor(onB, 'alert', (x) => x.type === 'sos');
    await request(fam.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    expect((await alertB).type).toBe('sos');

    // A command sent on node c reaches the watch on node a at once.
    const cmd = waitFor(fam.watchSocket, 'command');
    const sentCmd = await request(onB, 'command:send', { deviceId: fam.deviceId, type: 'find' });
    expect(sentCmd.command.status).toBe('sent');
    expect((await cmd).id).toBe(sentCmd.command.id);

    // Permissions changed on node b apply on node a (the watch's node) at once.
    await api(b, 'PUT', `/v1/families/${fam.familyId}/devices/${fam.deviceId}/permissions`, {
      token: fam.owner.accessToken,
      body: { location: false, camera: false, microphone: false, contacts: false },
    });
    expect((await request(fam.watchSocket, 'location:report', fix())).error.code).toBe('CONSENT_REQUIRED');
    for (const s of [onB, onC]) s.disconnect();
  });

  it('serves every node the newest position, and raises one offline alert for the cluster', async () => {
    const [a, b, c] = nodes as [HubProcess, HubProcess, HubProcess];
    const fam = await sharingFamily(a);
    const onC = await connect(c, fam.owner.accessToken);
    const onB = await connect(b, fam.owner.accessToken);
    // Not before the binding: a family sees only fixes taken since it bound the watch.
    const first = Date.now();
    await request(fam.watchSocket, 'location:report', fix({ ts: first, lat: 10 }));
    expect((await request(onC, 'location:latest', { familyId: fam.familyId })).positions[0]).toMatchObject({
      ts: first,
      lat: 10,
    });
    await request(fam.watchSocket, 'location:report', fix({ ts: first + 500, lat: 11 }));
    expect((await request(onC, 'location:latest', { familyId: fam.familyId })).positions[0]).toMatchObject({ lat: 11 });
    // The watch moves to node b mid-dip: one low_battery alert for the dip, not one per node.
    await request(fam.watchSocket, 'location:report', fix({ ts: first + 600, battery: 10 }));
    await waitFor(onB, 'alert', (x) => x.type === 'low_battery', { past: true });
    fam.watchSocket.disconnect();
    const moved = await connect(b, fam.watch.deviceToken);
    await request(moved, 'location:report', fix({ ts: first + 700, battery: 9 }));
    await request(onB, 'presence:list', { familyId: fam.familyId });
    expect(received(onB, 'alert').filter((x) => x.type === 'low_battery')).toHaveLength(1);
    moved.disconnect();
    // Silent for longer than the interval: one offline alert, whichever node notices.
    const offline = waitFor(onB, 'alert', (x) => x.type === 'offline' && x.deviceId === fam.deviceId, {
      timeoutMs: 15_000,
      past: true,
    });
    const alert = await offline;
    await request(onB, 'presence:list', { familyId: fam.familyId });
    const offlines = received(onB, 'alert').filter((x) => x.type === 'offline' && x.deviceId === fam.deviceId);
    expect(offlines).toEqual([alert]);
    const list = await api(b, 'GET', `/v1/families/${fam.familyId}/alerts`, { token: fam.owner.accessToken });
    expect(list.body.alerts.filter((x: { type: string }) => x.type === 'offline')).toHaveLength(1);
    onB.disconnect();
    onC.disconnect();
  }, 30_000);

  it('serves clients through nginx (deploy/nginx.conf), spread over the nodes', async () => {
    const ports = nodes.map((n) => Number(new URL(n.url).port));
    const nginx = await startNginx(ports, 20000 + Math.floor(Math.random() * 20000));
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await api(nginx, 'GET', '/healthz')).body.node as string);
      expect(seen.size).toBe(3);
      // The whole path through the balancer: HTTP set-up, websocket upgrade, cross-node delivery.
      const fam = await sharingFamily(nginx);
      const second = await connect(nginx, fam.owner.accessToken);
      const heard = [waitFor(fam.parentSocket, 'location'), waitFor(second, 'location')];
      expect((await request(fam.watchSocket, 'location:report', fix())).ok).toBe(true);
      await Promise.all(heard);
      second.disconnect();

      // Clients with default options: long-polling first (every poll a separate request), then
      // the upgrade; and one that never upgrades. The balancer keeps each session on its node.
      const defaults = ioClient(nginx.url, { auth: { token: fam.owner.accessToken }, forceNew: true, reconnection: false });
      const pollingOnly = ioClient(nginx.url, {
        auth: { token: fam.owner.accessToken },
        transports: ['polling'],
        forceNew: true,
        reconnection: false,
      });
      try {
        const upgraded = new Promise<string>((resolve) => defaults.io.engine.once('upgrade', (t) => resolve(t.name)));
        await Promise.all(
          [defaults, pollingOnly].map(
            (c) => new Promise<void>((ok, fail) => (c.once('connect', () => ok()), c.once('connect_error', fail))),
          ),
        );
        expect(await upgraded).toBe('websocket');
        // A few acked requests over polling: each must reach the node that holds the session.
        for (let i = 0; i < 5; i++) {
          expect((await pollingOnly.timeout(5000).emitWithAck('presence:list', { familyId: fam.familyId })).ok).toBe(true);
        }
        const events = [defaults, pollingOnly].map((c) => new Promise((resolve) => c.once('location', resolve)));
        expect((await request(fam.watchSocket, 'location:report', fix())).ok).toBe(true);
        await Promise.all(events);
        expect(pollingOnly.io.engine.transport.name).toBe('polling');
      } finally {
        defaults.disconnect();
        pollingOnly.disconnect();
      }
    } finally {
      nginx.stop();
    }
  });

  it('takes a removed member out of the family on their node within a second', async () => {
    const [a, , c] = nodes as [HubProcess, HubProcess, HubProcess];
    const fam = await sharingFamily(a);
    const guardian = await addMember(a, fam.owner, fam.familyId, 'guardian');
    const onC = await connect(c, guardian.accessToken);
    const removed = waitFor(onC, 'family:removed', () => true, { timeoutMs: 1000 });
    await api(a, 'DELETE', `/v1/families/${fam.familyId}/members/${guardian.id}`, { token: fam.owner.accessToken });
    await removed;
    const heard = waitFor(fam.parentSocket, 'location');
    await request(fam.watchSocket, 'location:report', fix());
    await heard;
    await request(onC, 'presence:list', { familyId: fam.familyId });
    expect(received(onC, 'location')).toEqual([]);
    onC.disconnect();
  });

  it('counts failed logins across nodes: no fresh budget on another node', async () => {
    const [a, b, c] = nodes as [HubProcess, HubProcess, HubProcess];
    const u = await registerUser(a);
    const login = (node: HubProcess, password: string) =>
      api(node, 'POST', '/v1/auth/login', { body: { email: u.email, password } });
    for (const node of [a, a, a, b, b]) expect((await login(node, 'guess-guess')).status).toBe(401);
    const locked = await login(c, u.password);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('RATE_LIMITED');
  });

  it('keeps chat seqs gap-free with writers on three nodes', async () => {
    const fam = await sharingFamily(nodes[0]!);
    const writers = [fam.parentSocket];
    for (const node of nodes.slice(1)) {
      const g = await addMember(node, fam.owner, fam.familyId, 'guardian');
      writers.push(await connect(node, g.accessToken));
    }
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        request(writers[i % 3]!, 'chat:send', {
          conversationId: fam.familyId,
          clientMsgId: `s${i}`,
          kind: 'text',
          text: `m${i}`,
        }),
      ),
    );
    expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    for (const w of writers.slice(1)) w.disconnect();
  });
});

describe('a node killed without warning', () => {
  it('has its clients’ presence corrected within the heartbeat window', async () => {
    await emptyRedisDb();
    const db = await freshDatabaseUrl('postgres');
    const env = (id: string) => nodeEnv(`${id}-kill`, db.url, REDIS_URL);
    const a = await startHubProcess(env('a'));
    const b = await startHubProcess(env('b'));
    try {
      const fam = await sharingFamily(b);
      fam.watchSocket.disconnect();
      const watchOnA = await connect(a, fam.watch.deviceToken);
      // Online again, now through node a (a round trip on node a orders us after its emits).
      await request(watchOnA, 'presence:list', { familyId: fam.familyId });
      await a.stop('SIGKILL');
      // Within a few heartbeats (1 s here); the bound is loose for a busy CI machine.
      const offline = await waitFor(fam.parentSocket, 'presence', (p) => p.id === fam.deviceId && !p.online, {
        timeoutMs: 20_000,
      });
      expect(offline.kind).toBe('device');
      watchOnA.close();
      // The watch reconnects to the surviving node and is online again.
      const back = await connect(b, fam.watch.deviceToken);
      const list = await request(fam.parentSocket, 'presence:list', { familyId: fam.familyId });
      expect(list.presence).toEqual(expect.arrayContaining([expect.objectContaining({ id: fam.deviceId, online: true })]));
      back.disconnect();
    } finally {
      await a.stop();
      await b.stop();
      await db.drop();
    }
  }, 60_000);
});

describe('a node drained with SIGTERM', () => {
  it('moves its clients to another node with no error seen and no report lost', async () => {
    await emptyRedisDb();
    const db = await freshDatabaseUrl('postgres');
    const env = (id: string) => nodeEnv(`${id}-drain`, db.url, REDIS_URL, { HUB_DRAIN_TIMEOUT_MS: '10000' });
    const a = await startHubProcess(env('a'));
    const b = await startHubProcess(env('b'));
    try {
      const fam = await sharingFamily(b);
      fam.watchSocket.disconnect();
      // The watch reports through node a, as a real client would: on server:draining it
      // connects to another node and carries on there.
      let watch = await connect(a, fam.watch.deviceToken);
      let moved = false;
      watch.once('server:draining', () => {
        void connect(b, fam.watch.deviceToken).then((next) => {
          const old = watch;
          watch = next;
          moved = true;
          old.disconnect();
        });
      });
      const acked: number[] = [];
      const errors: unknown[] = [];
      // From now on (a family sees only fixes taken since it bound the watch); 6 s ahead at most.
      const t0 = Date.now();
      let drained: Promise<number | null> | undefined;
      for (let i = 0; i < 60; i++) {
        const ts = t0 + i * 100;
        const r = await request(watch, 'location:report', fix({ ts })).catch((e: unknown) => ({ ok: false, error: e }));
        if (r.ok) acked.push(ts);
        else errors.push(r.error);
        if (i === 10) drained = a.stop('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      expect(await drained).toBe(0);
      expect(moved).toBe(true);
      expect(errors).toEqual([]);
      expect(acked).toHaveLength(60);
      const history = await request(fam.parentSocket, 'location:history', {
        deviceId: fam.deviceId,
        from: t0,
        to: t0 + 6000,
        limit: 1000,
      });
      expect(history.fixes.map((f: { ts: number }) => f.ts)).toEqual(acked);
      watch.disconnect();
    } finally {
      await a.stop();
      await b.stop();
      await db.drop();
    }
  }, 60_000);
});

describe('a call across nodes', () => {
  it('carries real media between a parent on one node and a watch on another', async () => {
    await emptyRedisDb();
    const db = await freshDatabaseUrl('postgres');
    const env = (id: string, ports: [number, number]) =>
      nodeEnv(`${id}-call`, db.url, REDIS_URL, {
        MEDIASOUP_WORKERS: '1',
        MEDIASOUP_MIN_PORT: String(ports[0]),
        MEDIASOUP_MAX_PORT: String(ports[1]),
      });
    const a = await startHubProcess(env('a', [45000, 45499]));
    const b = await startHubProcess(env('b', [45500, 45999]));
    const peers: MediaPeer[] = [];
    try {
      const fam = await sharingFamily(a);
      await api(a, 'PUT', `/v1/families/${fam.familyId}/devices/${fam.deviceId}/permissions`, {
        token: fam.owner.accessToken,
        body: { location: true, camera: true, microphone: true, contacts: false },
      });
      fam.watchSocket.disconnect();
      const watch = await connect(b, fam.watch.deviceToken);
      const ring = waitFor(watch, 'call:ring');
      const started = await request(fam.parentSocket, 'call:start', {
        familyId: fam.familyId,
        invitees: [{ kind: 'device', id: fam.deviceId }],
        video: true,
      });
      expect(started.ok).toBe(true);
      expect((await ring).callId).toBe(started.callId);
      // The watch's node does not host the call: its accept is forwarded to node a.
      const accepted = await request(watch, 'call:accept', { callId: started.callId });
      expect(accepted.ok).toBe(true);
      const parentPeer = new MediaPeer(fam.parentSocket, started.callId);
      const watchPeer = new MediaPeer(watch, started.callId);
      peers.push(parentPeer, watchPeer);
      await parentPeer.load(started.rtpCapabilities);
      await watchPeer.load(accepted.rtpCapabilities);
      const producerIds = await parentPeer.sendAudioVideo();
      await watchPeer.receive(producerIds);
      for (let i = 0; i < 300 && (watchPeer.received.audio <= 50 || watchPeer.received.video <= 50); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(watchPeer.received.audio).toBeGreaterThan(50);
      expect(watchPeer.received.video).toBeGreaterThan(50);
      // A stranger on node b is refused by the hosting node.
      const other = await sharingFamily(b);
      expect((await request(other.parentSocket, 'call:hangup', { callId: started.callId })).error.code).toBe('NOT_FOUND');
      const ended = waitFor(fam.parentSocket, 'call:state', (e) => e.state === 'ended');
      expect((await request(watch, 'call:hangup', { callId: started.callId })).ok).toBe(true);
      expect(await ended).toMatchObject({ reason: 'hangup' });
      watch.disconnect();
    } finally {
      for (const p of peers) p.close();
      await a.stop();
      await b.stop();
      await db.drop();
    }
  }, 90_000);
});

// Chaos: steady location and chat load through nginx onto three nodes, then one node is killed
// with SIGKILL. Its clients reconnect through the balancer within 10 s, and nothing acknowledged
// is lost. (In this file so it never runs beside the other cluster scenarios on a 2-core machine.)
/** A client as a real app would be: reconnecting through the balancer by itself. */
function client(url: string, token: string): Socket {
  return ioClient(url, {
    auth: { token },
    transports: ['websocket'],
    reconnectionDelay: 200,
    reconnectionDelayMax: 1000,
    forceNew: true,
  });
}

const ack = (s: Socket, event: string, payload: unknown) =>
  s
    .timeout(3000)
    .emitWithAck(event, payload)
    .catch(() => ({ ok: false }));

describe('a node killed under load', () => {
  let nodes: HubProcess[] = [];
  let nginx: Nginx;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    await emptyRedisDb();
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
    await Promise.all(
      all.map((s) => new Promise<void>((resolve) => (s.connected ? resolve() : s.once('connect', () => resolve())))),
    );

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

    // From now on (a family sees only fixes taken since it bound the watch); a few s ahead at most.
    const t0 = Date.now();
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
