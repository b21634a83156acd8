// 3G-protocol watches over TCP against the real hub: a real TCP client (the protocol simulator in
// loadtest/lib/watch-sim.ts) and the family's real Socket.IO sockets. The watch and a Socket.IO
// watch must be the same thing to the family: positions with their H3 cell, alerts, presence,
// messages both ways, commands and their results, consent.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatchSim } from '../../loadtest/lib/watch-sim.js';
import type { Permissions } from '../../src/contract/models.js';
import { cellOf } from '../../src/geo/h3.js';
import {
  addMember,
  api,
  bindWatch,
  connect,
  createFamily,
  provisionWatch,
  randomImei,
  registerUser,
  request,
  startHub,
  waitFor,
  type TestHub,
} from '../helpers/hub.js';
import { amrFile, jpegFile } from '../helpers/media.js';

void amrFile;
void jpegFile;

let t: TestHub;
beforeAll(async () => {
  t = await startHub({ env: { HUB_WATCH_MAX_CONNECTIONS_PER_IP: '200' } });
});
afterAll(async () => t?.close());

const newWatchId = () => String(randomInt(1_000_000_000, 9_999_999_999));
const ALL_ON: Permissions = { location: true, camera: true, microphone: true, contacts: true, health: true };

async function tcpFamily(perms: Partial<Permissions> = ALL_ON) {
  const owner = await registerUser(t, 'Owner');
  const familyId = await createFamily(t, owner);
  const watchId = newWatchId();
  const watch = await provisionWatch(t, randomImei(), watchId);
  expect(watch.watchId).toBe(watchId);
  await bindWatch(t, owner, familyId, watch);
  const body = { location: false, camera: false, microphone: false, contacts: false, health: false, ...perms };
  const r = await api(t, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
    token: owner.accessToken,
    body,
  });
  expect(r.status).toBe(200);
  const parent = await connect(t, owner.accessToken);
  return { owner, familyId, watch, watchId, parent };
}

async function sim(watchId: string, opts: Partial<ConstructorParameters<typeof WatchSim>[0]> = {}): Promise<WatchSim> {
  const s = new WatchSim({ id: watchId, replyTimeoutMs: 5000, ...opts });
  await s.connect('127.0.0.1', t.watchPort!);
  return s;
}

/** Resolves once everything the watch sent before is handled (frames are handled in order). */
const settled = (s: WatchSim) => s.heartbeat();

describe('TCP watches: identity', () => {
  it('registers watchId (default the IMEI), refuses a taken or malformed one', async () => {
    const imei = randomImei();
    const plain = await provisionWatch(t, imei);
    expect(plain.watchId).toBe(imei);
    const id = newWatchId();
    await provisionWatch(t, randomImei(), id);
    const taken = await api(t, 'POST', '/v1/devices/register', {
      body: { imei: randomImei(), model: 'X', watchId: id },
      headers: { 'x-provisioning-key': 'test-provisioning-key-0123456789' },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.reason).toBe('watch_id_taken');
    for (const bad of ['12345', 'a'.repeat(21), '12345-6789', '１２３４５６７']) {
      const r = await api(t, 'POST', '/v1/devices/register', {
        body: { imei: randomImei(), model: 'X', watchId: bad },
        headers: { 'x-provisioning-key': 'test-provisioning-key-0123456789' },
      });
      expect(r.status, bad).toBe(400);
    }
  });

  it('an unregistered ID gets no answer at all and is closed', async () => {
    const s = await sim(newWatchId());
    await s.sendRaw(`[3G*${'9'.repeat(10)}*0002*LK]`);
    await expect(s.waitForFrame(undefined, () => true, 4000)).rejects.toThrow(/closed/);
    expect(s.received).toHaveLength(0);
    expect(s.connected).toBe(false);
    const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/hub_watch_unknown_id_total [1-9]/);
  });

  it('a connection that switches to another ID is closed', async () => {
    const { watchId } = await tcpFamily();
    const other = await tcpFamily();
    const s = await sim(watchId);
    await s.heartbeat(80);
    await s.sendRaw(`[3G*${other.watchId}*0002*LK]`);
    await expect(s.waitForFrame('LK', () => true, 4000)).rejects.toThrow(/closed/);
  });

  it('the newest connection for an ID replaces the older one; the family sees no offline', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const first = await sim(watchId);
    const online = waitFor(parent, 'presence', (p) => p.id === watch.deviceId && p.online);
    await first.heartbeat(90);
    await online;
    const offline: unknown[] = [];
    parent.on('presence', (p) => {
      if (p.id === watch.deviceId && !p.online) offline.push(p);
    });
    const second = await sim(watchId);
    await second.heartbeat(90);
    await expect(first.waitForFrame(undefined, () => true, 4000)).rejects.toThrow(/closed/);
    expect(first.connected).toBe(false);
    // The newest one still works.
    await expect(second.heartbeat(89)).resolves.toMatchObject({ kind: 'reply' });
    expect(offline).toEqual([]);
    const gone = waitFor(parent, 'presence', (p) => p.id === watch.deviceId && !p.online);
    await second.close();
    await gone;
  });
});

describe('TCP watches: positions, alerts, heartbeats', () => {
  it('a valid fix reaches the family with its H3 cell and an honest accuracy; an INIT is answered', async () => {
    const { watchId, watch, familyId, parent } = await tcpFamily();
    const s = await sim(watchId, { maker: 'SG' });
    expect(await s.init(['13800138000', '1'])).toMatchObject({ kind: 'reply', content: 'INIT,1' });
    const got = waitFor(parent, 'location', (e) => e.deviceId === watch.deviceId);
    await s.position({ valid: true, lat: 48.858093, lng: 2.294694, satellites: 9, battery: 77, speedKmh: 36 });
    const e = await got;
    expect(e).toMatchObject({ familyId, lat: 48.858093, lng: 2.294694, acc: 10, battery: 77, source: 'gps' });
    expect(e.cell).toBe(cellOf(48.858093, 2.294694, t.config.h3Resolution));
    await settled(s);
    const hist = await request(parent, 'location:history', { deviceId: watch.deviceId, from: 0, to: Date.now() + 60_000 });
    expect(hist.fixes[0]).toMatchObject({ lat: 48.858093, lng: 2.294694, speed: 10, source: 'gps' });
    await s.close();
  });

  it('southern and western hemispheres, ZJ INDEX echoed in replies', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const s = await sim(watchId, { maker: 'ZJ', indexed: true });
    const reply = await s.heartbeat(50);
    expect(reply.header.index).toMatch(/^[0-9A-F]{4}$/);
    const got = waitFor(parent, 'location', (e) => e.deviceId === watch.deviceId);
    await s.position({ valid: true, lat: -33.8688, lng: -70.6693, satellites: 5 });
    expect(await got).toMatchObject({ lat: -33.8688, lng: -70.6693, acc: 35 });
    await s.close();
  });

  it('an invalid fix is never 0,0: with no cells and no Wi-Fi nothing is stored, with unknown cells only a sign of life', async () => {
    const { watchId, watch, familyId, parent } = await tcpFamily();
    const s = await sim(watchId);
    const positions: unknown[] = [];
    parent.on('location', (e) => {
      if (e.deviceId === watch.deviceId) positions.push(e);
    });
    await s.position({ valid: false });
    await s.position({ valid: true, lat: 0, lng: 0 });
    await s.position({ valid: false, cells: [{ mcc: 208, mnc: 1, lac: 1234, cid: 56789, rssi: 60 }] });
    await settled(s);
    expect(positions).toEqual([]);
    const latest = await request(parent, 'location:latest', { familyId });
    expect(latest.positions).toEqual([]);
    // The cell-only fix is kept as a sign of life: no position, not in the history.
    const rows = await t.store.fixes.history(watch.deviceId, 0, Date.now() + 60_000, undefined, 10, 0);
    expect(rows).toEqual([]);
    await s.close();
  });

  it('an AL frame with the SOS bit is acked and raises an SOS alert a guardian acknowledges', async () => {
    const { watchId, watch, familyId, owner, parent } = await tcpFamily();
    const guardian = await addMember(t, owner, familyId, 'guardian');
    const g = await connect(t, guardian.accessToken);
    const s = await sim(watchId);
    const alert = waitFor(g, 'alert', (a) => a.deviceId === watch.deviceId && a.type === 'sos');
    expect(await s.alarm('sos', { valid: true, lat: 51.5, lng: -0.12, satellites: 8 })).toMatchObject({ content: 'AL' });
    const a = await alert;
    expect(a).toMatchObject({ familyId, lat: 51.5, lng: -0.12 });
    const acked = waitFor(parent, 'alert:acked', (x) => x.id === a.id);
    expect((await request(g, 'alert:ack', { id: a.id })).ok).toBe(true);
    expect(await acked).toMatchObject({ ackedBy: guardian.id });
    await s.close();
  });

  it('fall and removed bits raise their alerts; the low-battery bit and a low LK battery raise low_battery once', async () => {
    const { watchId, watch, familyId, parent } = await tcpFamily();
    const s = await sim(watchId);
    const fall = waitFor(parent, 'alert', (a) => a.deviceId === watch.deviceId && a.type === 'fall');
    const removed = waitFor(parent, 'alert', (a) => a.deviceId === watch.deviceId && a.type === 'removed');
    await s.alarm(['fall', 'removed']);
    await Promise.all([fall, removed]);
    const low = waitFor(parent, 'alert', (a) => a.deviceId === watch.deviceId && a.type === 'low_battery');
    await s.heartbeat(5);
    expect(await low).toMatchObject({ battery: 5 });
    await s.alarm([], { lowBattery: true, battery: 4 });
    await settled(s);
    const lows = (await t.store.alerts.listByFamily(familyId, 100)).filter((a) => a.type === 'low_battery');
    expect(lows).toHaveLength(1);
    await s.close();
  });

  it('a heartbeat makes the watch online for its family, and the close offline', async () => {
    const { watchId, watch, familyId, parent } = await tcpFamily();
    const s = await sim(watchId);
    const on = waitFor(parent, 'presence', (p) => p.id === watch.deviceId && p.online);
    await s.heartbeat(60, { steps: 1200, rollovers: 0 });
    await on;
    const list = await request(parent, 'presence:list', { familyId });
    expect(list.presence.find((p) => p.id === watch.deviceId)).toMatchObject({ online: true });
    const off = waitFor(parent, 'presence', (p) => p.id === watch.deviceId && !p.online);
    await s.close();
    await off;
  });

  it('location consent off: positions are not stored nor told, the alert still goes out without a position', async () => {
    const { watchId, watch, parent } = await tcpFamily({ ...ALL_ON, location: false });
    const s = await sim(watchId);
    const positions: unknown[] = [];
    parent.on('location', (e) => {
      if (e.deviceId === watch.deviceId) positions.push(e);
    });
    await s.position({ valid: true, lat: 40.4168, lng: -3.7038, satellites: 9 });
    const alert = waitFor(parent, 'alert', (a) => a.deviceId === watch.deviceId && a.type === 'sos');
    await s.alarm('sos', { valid: true, lat: 40.4168, lng: -3.7038 });
    const a = await alert;
    expect(a.lat).toBeUndefined();
    await settled(s);
    expect(positions).toEqual([]);
    const rows = await t.store.fixes.history(watch.deviceId, 0, Date.now() + 60_000, undefined, 10, 0);
    expect(rows).toEqual([]);
    await s.close();
  });
});
