// A 3G-protocol watch over TCP on one node of a cluster (two in-process hubs, the Redis backplane
// on this file's own database, one PostgreSQL database), its family on the other: positions and
// presence reach the family across nodes; commands and family messages sent on the other node
// reach the watch; its echoes finish the commands; a newer connection on the other node replaces
// the older one; drain closes the watch's connection and tells the family before it resolves.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatchSim } from '../../loadtest/lib/watch-sim.js';
import { cellOf } from '../../src/geo/h3.js';
import { startTwoHubs } from '../helpers/cluster.js';
import {
  api,
  bindWatch,
  connect,
  createFamily,
  provisionWatch,
  randomImei,
  registerUser,
  request,
  waitFor,
  type TestHub,
} from '../helpers/hub.js';

describe('TCP watches in a cluster', () => {
  let a: TestHub;
  let b: TestHub;
  let stop = async () => {};

  beforeAll(async () => {
    ({ a, b, stop } = await startTwoHubs(11, 'watch'));
  });
  afterAll(() => stop());

  async function family() {
    const owner = await registerUser(b, 'Owner');
    const familyId = await createFamily(b, owner);
    const watchId = String(randomInt(1_000_000_000, 9_999_999_999));
    const watch = await provisionWatch(b, randomImei(), watchId);
    await bindWatch(b, owner, familyId, watch);
    await api(b, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
      token: owner.accessToken,
      body: { location: true, camera: true, microphone: true, contacts: true },
    });
    // The family on node b, the watch on node a.
    const parent = await connect(b, owner.accessToken);
    const sim = new WatchSim({ id: watchId });
    await sim.connect('127.0.0.1', a.watchPort!);
    return { owner, familyId, watch, watchId, parent, sim };
  }

  it('presence and positions reach the family on the other node; commands and messages come back', async () => {
    const { familyId, watch, parent, sim } = await family();
    const online = waitFor(parent, 'presence', (p) => p.id === watch.deviceId && p.online);
    await sim.heartbeat(70);
    await online;

    const located = waitFor(parent, 'location', (e) => e.deviceId === watch.deviceId);
    await sim.position({ valid: true, lat: 45.764, lng: 4.8357, satellites: 9 });
    const e = await located;
    expect(e).toMatchObject({ familyId, lat: 45.764, lng: 4.8357 });
    expect(e.cell).toBe(cellOf(45.764, 4.8357, b.config.h3Resolution));

    const cr = sim.waitForFrame('locate', () => true, 8000);
    const sent = await request(parent, 'command:send', { deviceId: watch.deviceId, type: 'locate' });
    expect(sent.command.status).toBe('sent');
    await cr;
    await waitFor(parent, 'command:update', (u) => u.command.id === sent.command.id && u.command.status === 'done', {
      past: true,
      timeoutMs: 8000,
    });

    const text = sim.waitForFrame('text', () => true, 8000);
    await request(parent, 'chat:send', { conversationId: familyId, clientMsgId: 'x1', kind: 'text', text: 'hello from b' });
    expect(await text).toMatchObject({ text: 'hello from b' });

    const sos = waitFor(parent, 'alert', (x) => x.deviceId === watch.deviceId && x.type === 'sos');
    await sim.alarm('sos');
    await sos;
    await sim.close();
  });

  it('a newer connection on the other node replaces the older one', async () => {
    const { watchId, watch, parent, sim } = await family();
    await sim.heartbeat(70);
    const second = new WatchSim({ id: watchId });
    await second.connect('127.0.0.1', b.watchPort!);
    await second.heartbeat(70);
    await expect(sim.waitForFrame('NEVER', () => true, 8000)).rejects.toThrow(/closed/);
    // Commands now reach the newer connection only.
    const find = second.waitForFrame('find', () => true, 8000);
    await request(parent, 'command:send', { deviceId: watch.deviceId, type: 'find' });
    await find;
    await second.close();
  });

  it('drain closes the TCP watches of the draining node, and has them offline by the time it resolves', async () => {
    const { sim, parent, familyId, watch } = await family();
    await sim.heartbeat(70);
    const isOnline = async () =>
      (await request(parent, 'presence:list', { familyId })).presence.find((p: { id: string }) => p.id === watch.deviceId)
        ?.online;
    expect(await isOnline()).toBe(true);
    const closed = expect(sim.waitForFrame('NEVER', () => true, 10_000)).rejects.toThrow(/closed/);
    await a.hub.drain();
    // Told while the node's backplane is still open, not left to run after it closed.
    expect(await isOnline()).toBe(false);
    await closed;
  });
});
