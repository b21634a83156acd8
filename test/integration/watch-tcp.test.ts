// 3G-protocol watches over TCP against the real hub: a real TCP client (the protocol simulator in
// loadtest/lib/watch-sim.ts) and the family's real Socket.IO sockets. The watch and a Socket.IO
// watch must be the same thing to the family: positions with their H3 cell, alerts, presence,
// messages both ways, commands and their results, consent.
import { execFileSync } from 'node:child_process';
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
import { freshDatabaseUrl } from '../helpers/databases.js';
import { amrFile, jpegFile } from '../helpers/media.js';

void amrFile;
void jpegFile;

let t: TestHub;
beforeAll(async () => {
  t = await startHub({ env: { HUB_WATCH_MAX_CONNECTIONS_PER_IP: '200' } });
});
afterAll(async () => t?.close());

const newWatchId = () => String(randomInt(1_000_000_000, 9_999_999_999));
/** `seconds` of a sine as Ogg/Opus, made by ffmpeg (what a browser records). */
const opusSine = (seconds: number): Buffer =>
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
    ...['-c:a', 'libopus', '-f', 'ogg', 'pipe:1'],
  ]);
const ALL_ON: Permissions = { location: true, camera: true, microphone: true, contacts: true, health: true };

async function tcpFamily(perms: Partial<Permissions> = ALL_ON, hub: TestHub = t) {
  const owner = await registerUser(hub, 'Owner');
  const familyId = await createFamily(hub, owner);
  const watchId = newWatchId();
  const watch = await provisionWatch(hub, randomImei(), watchId);
  expect(watch.watchId).toBe(watchId);
  await bindWatch(hub, owner, familyId, watch);
  const body = { location: false, camera: false, microphone: false, contacts: false, health: false, ...perms };
  const r = await api(hub, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
    token: owner.accessToken,
    body,
  });
  expect(r.status).toBe(200);
  const parent = await connect(hub, owner.accessToken);
  return { owner, familyId, watch, watchId, parent };
}

async function sim(
  watchId: string,
  opts: Partial<ConstructorParameters<typeof WatchSim>[0]> = {},
  hub: TestHub = t,
): Promise<WatchSim> {
  const s = new WatchSim({ id: watchId, replyTimeoutMs: 5000, ...opts });
  await s.connect('127.0.0.1', hub.watchPort!);
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

describe('TCP watches: voice, photos and messages', () => {
  const mediaOf = async (token: string, id: string) => {
    const r = await fetch(`${t.url}/v1/media/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return Buffer.from(await r.arrayBuffer());
  };

  it('a TK recording and a chunked JXTK upload arrive as voice messages with the same bytes', async () => {
    const { watchId, watch, owner, parent } = await tcpFamily();
    const s = await sim(watchId);
    const one = amrFile(2);
    const got = waitFor(parent, 'chat:message', (e) => e.message.sender.id === watch.deviceId);
    await s.voice(one);
    const m1 = (await got).message;
    expect(m1).toMatchObject({ kind: 'voice', media: { mime: 'audio/amr', bytes: one.length, durationMs: 2000 } });
    expect((await mediaOf(owner.accessToken, m1.media.id)).equals(one)).toBe(true);

    const long = amrFile(5);
    const got2 = waitFor(parent, 'chat:message', (e) => e.message.sender.id === watch.deviceId && e.message.id !== m1.id);
    await s.voiceChunked(long, 1000);
    const m2 = (await got2).message;
    expect(m2.media.bytes).toBe(long.length);
    expect((await mediaOf(owner.accessToken, m2.media.id)).equals(long)).toBe(true);
    await s.close();
  });

  it('microphone off: a TK recording is not stored', async () => {
    const { watchId, familyId, parent } = await tcpFamily({ ...ALL_ON, microphone: false });
    const s = await sim(watchId);
    await s.voice(amrFile(1));
    await settled(s);
    const synced = await request(parent, 'chat:sync', { conversationId: familyId, afterSeq: 0 });
    expect(synced.messages).toEqual([]);
    await s.close();
  });

  it('family text reaches the watch as MESSAGE, an AMR voice note as TK with the same bytes', async () => {
    const { watchId, familyId, parent } = await tcpFamily();
    const s = await sim(watchId);
    await s.heartbeat(80);
    const text = 'Dinner at 7 — 晚饭 🍝';
    const textFrame = s.waitForFrame('text');
    expect((await request(parent, 'chat:send', { conversationId: familyId, clientMsgId: 'c1', kind: 'text', text })).ok).toBe(
      true,
    );
    expect(await textFrame).toMatchObject({ kind: 'text', text });
    const voice = amrFile(1);
    const voiceFrame = s.waitForFrame('voice');
    await request(parent, 'chat:send', {
      conversationId: familyId,
      clientMsgId: 'c2',
      kind: 'voice',
      media: { data: voice, mime: 'audio/amr' },
    });
    const f = await voiceFrame;
    expect(f.kind === 'voice' && f.audio.equals(voice)).toBe(true);
    await s.close();
  });

  it('a voice note the watch cannot play (Ogg/Opus from a browser) goes down converted to AMR-NB by ffmpeg', async () => {
    const { watchId, familyId, parent } = await tcpFamily();
    const s = await sim(watchId);
    await s.heartbeat(80);
    const tk = s.waitForFrame('voice', () => true, 15_000);
    const sent = await request(parent, 'chat:send', {
      conversationId: familyId,
      clientMsgId: 'ogg',
      kind: 'voice',
      media: { data: opusSine(1), mime: 'audio/ogg', durationMs: 1000 },
    });
    expect(sent.ok).toBe(true);
    const f = await tk;
    expect(f.kind === 'voice' && f.audio.subarray(0, 6).toString('latin1')).toBe('#!AMR\n');
    await s.close();
  });

  it('without ffmpeg such a note is marked undeliverable to that watch, and the rest of the family still has it', async () => {
    const h = await startHub({ env: { HUB_FFMPEG_PATH: '/nonexistent/ffmpeg' } });
    try {
      const { watchId, watch, familyId, parent } = await tcpFamily(ALL_ON, h);
      const s = await sim(watchId, {}, h);
      await s.heartbeat(80);
      const undeliverable = waitFor(parent, 'chat:undeliverable', (e) => e.deviceId === watch.deviceId, { timeoutMs: 15_000 });
      const sent = await request(parent, 'chat:send', {
        conversationId: familyId,
        clientMsgId: 'ogg-no-ffmpeg',
        kind: 'voice',
        media: { data: opusSine(1), mime: 'audio/ogg', durationMs: 1000 },
      });
      expect(sent.ok).toBe(true);
      expect(await undeliverable).toMatchObject({ conversationId: familyId, messageId: sent.message.id, reason: 'no_converter' });
      // Nothing the watch could not play went down: the next frame it gets is the family's text.
      const text = s.waitForFrame('MESSAGE');
      await request(parent, 'chat:send', { conversationId: familyId, clientMsgId: 'after', kind: 'text', text: 'hi' });
      expect((await text).kind).toBe('text');
      expect(s.received.filter((r) => r.frame?.kind === 'voice')).toEqual([]);
      await s.close();
    } finally {
      await h.close();
    }
  });

  it('the watch does not get its own messages back', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const s = await sim(watchId);
    const got = waitFor(parent, 'chat:message', (e) => e.message.sender.id === watch.deviceId);
    await s.voice(amrFile(1));
    await got;
    await settled(s);
    expect(s.received.filter((r) => r.frame?.kind === 'voice')).toEqual([]);
    await s.close();
  });
});

describe.each(['sqlite', 'postgres'] as const)('TCP watches: messages sent while the watch was away (%s)', (kind) => {
  let h: TestHub;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const db = await freshDatabaseUrl(kind);
    drop = db.drop;
    h = await startHub({ databaseUrl: db.url });
  });
  afterAll(async () => {
    await h?.close();
    await drop();
  });

  const say = async (parent: Awaited<ReturnType<typeof tcpFamily>>['parent'], familyId: string, text: string) => {
    const r = await request(parent, 'chat:send', { conversationId: familyId, clientMsgId: text, kind: 'text', text });
    expect(r.ok).toBe(true);
    return r.message as { id: string; seq: number };
  };
  const texts = (s: WatchSim) => s.received.flatMap((r) => (r.frame?.kind === 'text' ? [r.frame.text] : []));

  it('come down in order when it connects; once echoed they are read and not sent again', async () => {
    const { watchId, watch, familyId, parent } = await tcpFamily(ALL_ON, h);
    await say(parent, familyId, 'one');
    const last = await say(parent, familyId, 'two');
    const read = waitFor(parent, 'chat:read', (e) => e.by.id === watch.deviceId && e.seq === last.seq);
    const s = await sim(watchId, {}, h);
    await s.heartbeat(80);
    await s.waitForFrame('text', (f) => f.kind === 'text' && f.text === 'two');
    expect(texts(s)).toEqual(['one', 'two']);
    // The watch's echo is its read position, and the family is told.
    expect(await read).toMatchObject({ conversationId: familyId, seq: last.seq, by: { kind: 'device', id: watch.deviceId } });
    await s.close();

    const again = await sim(watchId, {}, h);
    await again.heartbeat(80);
    await say(parent, familyId, 'three');
    await again.waitForFrame('text', (f) => f.kind === 'text' && f.text === 'three');
    await settled(again);
    expect(texts(again)).toEqual(['three']);
    await again.close();
  });

  it('a watch that did not echo a message gets it again on its next connection', async () => {
    const { watchId, familyId, parent } = await tcpFamily(ALL_ON, h);
    const mute = await sim(watchId, { autoEcho: (f) => f.kind !== 'text' }, h);
    await mute.heartbeat(80);
    await say(parent, familyId, 'are you there?');
    await mute.waitForFrame('text');
    await mute.close();
    const s = await sim(watchId, {}, h);
    await s.heartbeat(80);
    await s.waitForFrame('text', (f) => f.kind === 'text' && f.text === 'are you there?');
    await s.close();
  });

  it('replays neither what was said before the binding, nor deleted messages, nor its own', async () => {
    const owner = await registerUser(h, 'Owner');
    const familyId = await createFamily(h, owner);
    const parent = await connect(h, owner.accessToken);
    await say(parent, familyId, 'before the watch');
    const watchId = newWatchId();
    const watch = await provisionWatch(h, randomImei(), watchId);
    await bindWatch(h, owner, familyId, watch);
    const perms = { ...ALL_ON };
    expect(
      (
        await api(h, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
          token: owner.accessToken,
          body: perms,
        })
      ).status,
    ).toBe(200);

    const gone = await say(parent, familyId, 'deleted');
    expect((await api(h, 'DELETE', `/v1/families/${familyId}/messages/${gone.id}`, { token: owner.accessToken })).status).toBe(
      204,
    );
    const first = await sim(watchId, {}, h);
    const own = waitFor(parent, 'chat:message', (e) => e.message.sender.id === watch.deviceId);
    await first.voice(amrFile(1));
    await own;
    await first.close();

    await say(parent, familyId, 'after');
    const s = await sim(watchId, {}, h);
    await s.heartbeat(80);
    await s.waitForFrame('text', (f) => f.kind === 'text' && f.text === 'after');
    await settled(s);
    expect(texts(s)).toEqual(['after']);
    expect(s.received.filter((r) => r.frame?.kind === 'voice')).toEqual([]);
    await s.close();
  });

  it('messages said while it connects come down once each, in order', async () => {
    const { watchId, familyId, parent } = await tcpFamily(ALL_ON, h);
    const early = ['a', 'b', 'c'];
    for (const x of early) await say(parent, familyId, x);
    const s = await sim(watchId, {}, h);
    const beat = s.heartbeat(80);
    const late = ['d', 'e'];
    for (const x of late) await say(parent, familyId, x);
    await beat;
    await s.waitForFrame('text', (f) => f.kind === 'text' && f.text === 'e');
    await settled(s);
    expect(texts(s)).toEqual([...early, ...late]);
    await s.close();
  });
});

describe('TCP watches: commands', () => {
  const waitUpdate = (parent: Awaited<ReturnType<typeof connect>>, id: string, status: string) =>
    waitFor(parent, 'command:update', (e) => e.command.id === id && e.command.status === status, { past: true });

  it('locate arrives as CR; its echo marks it done; the watch then reports where it is', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const s = await sim(watchId, { positionOnLocate: { valid: true, lat: 52.52, lng: 13.405, satellites: 8 } });
    await s.heartbeat(80);
    const cr = s.waitForFrame('locate');
    const located = waitFor(parent, 'location', (e) => e.deviceId === watch.deviceId);
    const sent = await request(parent, 'command:send', { deviceId: watch.deviceId, type: 'locate' });
    expect(sent.command.status).toBe('sent');
    const done = waitUpdate(parent, sent.command.id, 'done');
    await cr;
    await done;
    expect(await located).toMatchObject({ lat: 52.52, lng: 13.405 });
    await s.close();
  });

  it('set_sos_numbers, set_contacts (two frames) and set_quiet_hours arrive as documented and are done on their echoes', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const s = await sim(watchId);
    await s.heartbeat(80);
    const sos = s.waitForFrame('sos');
    const c1 = await request(parent, 'command:send', {
      deviceId: watch.deviceId,
      type: 'set_sos_numbers',
      params: { numbers: ['+44 7700 900123', '02079460018'] },
    });
    await waitUpdate(parent, c1.command.id, 'done');
    expect(await sos).toMatchObject({ slot: null, numbers: ['+447700900123', '02079460018', ''] });

    const contacts = Array.from({ length: 7 }, (_, i) => ({ name: `Contact ${i} 张`, phone: `+3361234567${i}` }));
    const c2 = await request(parent, 'command:send', { deviceId: watch.deviceId, type: 'set_contacts', params: { contacts } });
    await waitUpdate(parent, c2.command.id, 'done');
    const books = s.received.filter((r) => r.frame?.kind === 'phonebook').map((r) => r.frame!);
    expect(books.map((b) => b.type)).toEqual(['PHB', 'PHB2']);
    expect(books.flatMap((b) => (b.kind === 'phonebook' ? b.contacts : []))).toEqual(contacts);

    const quiet = s.waitForFrame('quiet_hours');
    const c3 = await request(parent, 'command:send', {
      deviceId: watch.deviceId,
      type: 'set_quiet_hours',
      params: { ranges: [{ days: [1, 2, 3, 4, 5], start: '08:00', end: '15:30' }] },
    });
    await waitUpdate(parent, c3.command.id, 'done');
    expect(await quiet).toMatchObject({
      type: 'SILENCETIME2',
      ranges: [{ days: [1, 2, 3, 4, 5], start: '08:00', end: '15:30' }],
    });
    await s.close();
  });

  it('a command that waited for an offline watch is delivered when it connects; an echo matches the oldest of its type', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const first = await request(parent, 'command:send', { deviceId: watch.deviceId, type: 'find' });
    const second = await request(parent, 'command:send', { deviceId: watch.deviceId, type: 'find' });
    expect(first.command.status).toBe('queued');
    const s = await sim(watchId, { autoEcho: false });
    await s.heartbeat(80);
    await s.waitForFrame('find');
    await s.waitForFrame('find');
    const done = waitUpdate(parent, first.command.id, 'done');
    await s.send({ type: 'echo', content: 'FIND' });
    await done;
    const rows = await t.store.commands.find(second.command.id);
    expect(rows?.status).toBe('sent');
    await s.close();
  });

  it('a command the watch cannot carry out fails with a reason (four SOS numbers)', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const s = await sim(watchId);
    await s.heartbeat(80);
    const c = await request(parent, 'command:send', {
      deviceId: watch.deviceId,
      type: 'set_sos_numbers',
      params: { numbers: ['+111111', '+222222', '+333333', '+444444'] },
    });
    const failed = await waitUpdate(parent, c.command.id, 'failed');
    expect(JSON.stringify(failed.command.result)).toMatch(/SOS numbers/);
    await s.close();
  });

  it('photo: rcapture, then the watch’s img becomes an image message and the command’s result', async () => {
    const { watchId, watch, parent } = await tcpFamily();
    const jpeg = jpegFile();
    const s = await sim(watchId, { photoOnCapture: jpeg });
    await s.heartbeat(80);
    const img = waitFor(parent, 'chat:message', (e) => e.message.sender.id === watch.deviceId && e.message.kind === 'image');
    const c = await request(parent, 'command:send', { deviceId: watch.deviceId, type: 'photo' });
    const done = await waitUpdate(parent, c.command.id, 'done');
    const m = (await img).message;
    expect(done.command.result).toEqual({ messageId: m.id });
    expect(m.media.mime).toBe('image/jpeg');
    await s.close();
  });

  it('voice_reminder goes down as TK with the note’s AMR bytes and is done on TK,1', async () => {
    const { watchId, watch, familyId, parent } = await tcpFamily();
    const s = await sim(watchId);
    await s.heartbeat(80);
    const note = amrFile(1);
    const msg = await request(parent, 'chat:send', {
      conversationId: familyId,
      clientMsgId: 'rem',
      kind: 'voice',
      media: { data: note, mime: 'audio/amr' },
    });
    await s.waitForFrame('voice');
    const tk = s.waitForFrame('voice');
    const c = await request(parent, 'command:send', {
      deviceId: watch.deviceId,
      type: 'voice_reminder',
      params: { mediaId: msg.message.media!.id },
    });
    await waitUpdate(parent, c.command.id, 'done');
    const f = await tk;
    expect(f.kind === 'voice' && f.audio.equals(note)).toBe(true);
    await s.close();
  });
});

describe('TCP watches: health readings', () => {
  it('are kept only with the health permission, and are in the owner’s export', async () => {
    const off = await tcpFamily({ ...ALL_ON, health: false });
    const s1 = await sim(off.watchId);
    await s1.health({ heartRate: 72, systolic: 120, diastolic: 79, bodyTempC: 36.6, spo2: 97 });
    await settled(s1);
    expect(await t.store.health.listFor(off.watch.deviceId, off.familyId, 0)).toEqual([]);
    await s1.close();

    const on = await tcpFamily();
    const s2 = await sim(on.watchId);
    await s2.health({ heartRate: 72, systolic: 120, diastolic: 79 });
    await s2.health({ bodyTempC: 36.6 });
    await s2.health({ spo2: 97 });
    await s2.health({ heartRate: 0 }, 'heart');
    await settled(s2);
    const rows = await t.store.health.listFor(on.watch.deviceId, on.familyId, 0);
    expect(rows.map((r) => [r.heart_rate, r.systolic, r.diastolic, r.body_temp_c, r.spo2])).toEqual([
      [72, 120, 79, null, null],
      [null, null, null, 36.6, null],
      [null, null, null, null, 97],
    ]);
    const exp = await api(t, 'GET', `/v1/families/${on.familyId}/devices/${on.watch.deviceId}/export`, {
      token: on.owner.accessToken,
    });
    expect(exp.status).toBe(200);
    expect(exp.body.healthReadings).toHaveLength(3);
    expect(exp.body.watch).toMatchObject({ watchId: on.watchId, permissions: { health: true } });
    await s2.close();
  });

  it('owners and guardians read them newest first, a page at a time, each read audited; viewers and strangers cannot', async () => {
    const f = await tcpFamily();
    const s = await sim(f.watchId);
    for (const heartRate of [70, 71, 72]) await s.health({ heartRate });
    await s.health({ spo2: 97 });
    await settled(s);
    await s.close();
    const path = `/v1/families/${f.familyId}/devices/${f.watch.deviceId}/health`;
    const all = await api(t, 'GET', path, { token: f.owner.accessToken });
    expect(all.status).toBe(200);
    const readings = all.body.readings as { ts: number; heartRate?: number; spo2?: number; receivedAt: number }[];
    expect(readings.map((r) => r.heartRate ?? r.spo2).sort()).toEqual([70, 71, 72, 97]);
    // Only the values the watch sent: no nulls.
    expect(readings.find((r) => r.spo2 === 97)).not.toHaveProperty('heartRate');
    for (let i = 1; i < readings.length; i++) expect(readings[i]!.ts).toBeLessThanOrEqual(readings[i - 1]!.ts);
    expect(all.body.nextCursor).toBeNull();

    // Pages of 3 and then 1, the same readings in the same order.
    const first = await api(t, 'GET', `${path}?limit=3`, { token: f.owner.accessToken });
    expect(first.body.readings).toHaveLength(3);
    const second = await api(t, 'GET', `${path}?limit=3&cursor=${first.body.nextCursor}`, { token: f.owner.accessToken });
    expect([...first.body.readings, ...second.body.readings]).toEqual(readings);
    expect(second.body.nextCursor).toBeNull();
    // A range that ends before the readings holds none of them.
    const before = await api(t, 'GET', `${path}?to=${readings.at(-1)!.ts - 1}`, { token: f.owner.accessToken });
    expect(before.body.readings).toEqual([]);

    const guardian = await addMember(t, f.owner, f.familyId, 'guardian');
    expect((await api(t, 'GET', path, { token: guardian.accessToken })).status).toBe(200);
    const viewer = await addMember(t, f.owner, f.familyId, 'viewer');
    expect((await api(t, 'GET', path, { token: viewer.accessToken })).status).toBe(403);
    const other = await tcpFamily();
    expect((await api(t, 'GET', path, { token: other.owner.accessToken })).status).toBe(403);
    // Another family's watch under this family's path: not this family's watch.
    const foreign = await api(t, 'GET', `/v1/families/${f.familyId}/devices/${other.watch.deviceId}/health`, {
      token: f.owner.accessToken,
    });
    expect(foreign.status).toBe(404);
    for (const q of ['from=10&to=5', 'cursor=bm9wZQ', 'limit=0', 'limit=1001', 'extra=1']) {
      expect((await api(t, 'GET', `${path}?${q}`, { token: f.owner.accessToken })).status, q).toBe(400);
    }

    // Every read that returned readings, the guardian's included, is in the family's audit.
    const audit = await api(t, 'GET', `/v1/families/${f.familyId}/audit`, { token: f.owner.accessToken });
    const reads = (audit.body.entries as { action: string; actor: { id: string }; details: { returned: number } }[]).filter(
      (e) => e.action === 'health.history',
    );
    expect(reads.map((e) => e.details.returned).sort()).toEqual([0, 1, 3, 4, 4]);
    expect(reads.some((e) => e.actor.id === guardian.id)).toBe(true);
  });

  it('a v1 permissions PUT without health leaves it as it is; consent history records it', async () => {
    const { watch, familyId, owner } = await tcpFamily();
    const path = `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`;
    const r = await api(t, 'PUT', path, {
      token: owner.accessToken,
      body: { location: true, camera: false, microphone: true, contacts: true },
    });
    expect(r.status).toBe(200);
    expect(r.body.permissions.health).toBe(true);
    const off = await api(t, 'PUT', path, { token: owner.accessToken, body: { ...ALL_ON, health: false } });
    expect(off.body.permissions.health).toBe(false);
  });
});

describe('TCP watches: hostile peers are bounded', () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startHub({
      env: {
        HUB_WATCH_MAX_CONNECTIONS_PER_IP: '3',
        HUB_WATCH_MAX_FRAMES_PER_MIN: '40',
        HUB_WATCH_MAX_BYTES_PER_MIN: '200000',
        HUB_WATCH_MAX_FRAME_BYTES: '4096',
        HUB_WATCH_HELLO_TIMEOUT_S: '1',
        HUB_WATCH_MAX_VOICE_BYTES: '4096',
        HUB_WATCH_FLAP_REPLACEMENTS: '3',
      },
    });
  });
  afterAll(async () => h?.close());

  async function watchOn(): Promise<{
    s: WatchSim;
    watchId: string;
    familyId: string;
    owner: Awaited<ReturnType<typeof registerUser>>;
  }> {
    const owner = await registerUser(h);
    const familyId = await createFamily(h, owner);
    const watchId = newWatchId();
    const w = await provisionWatch(h, randomImei(), watchId);
    await bindWatch(h, owner, familyId, w);
    await api(h, 'PUT', `/v1/families/${familyId}/devices/${w.deviceId}/permissions`, { token: owner.accessToken, body: ALL_ON });
    const s = new WatchSim({ id: watchId, replyTimeoutMs: 3000 });
    await s.connect('127.0.0.1', h.watchPort!);
    return { s, watchId, familyId, owner };
  }
  const closed = (s: WatchSim) => expect(s.waitForFrame('NEVER', () => true, 5000)).rejects.toThrow(/closed/);

  it('garbage between frames and an oversize frame are skipped; the connection goes on', async () => {
    const { s, watchId } = await watchOn();
    await s.heartbeat(50);
    await s.sendRaw('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff');
    await s.sendRaw(`[3G*${watchId}*FFFF*UD,${'9'.repeat(10_000)}]`);
    await s.sendRaw('[[[[[[');
    await s.sendRaw(']]]]]]');
    expect(await s.heartbeat(49)).toMatchObject({ kind: 'reply' });
    const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/hub_watch_oversize_frames_total [1-9]/);
    expect(metrics).toMatch(/hub_watch_garbage_bytes_total [1-9]/);
    await s.close();
  });

  it('a JXTK recording over the reassembly bound is dropped; the connection goes on', async () => {
    const { s, familyId, owner } = await watchOn();
    await s.voiceChunked(amrFile(3), 1000);
    await s.voiceChunked(amrFile(1), 1000);
    await s.heartbeat(50);
    const parent = await connect(h, owner.accessToken);
    const synced = await request(parent, 'chat:sync', { conversationId: familyId, afterSeq: 0 });
    // Three seconds of AMR-NB (about 4.8 KB) is over the 4 KiB bound; one second is not.
    expect(synced.messages.map((m) => ('media' in m ? m.media?.bytes : undefined))).toEqual([amrFile(1).length]);
    await s.close();
  });

  it('a watch replaced again and again is logged as a flapping pair', async () => {
    const { s, watchId } = await watchOn();
    await s.heartbeat(50);
    const sims = [s];
    for (let i = 0; i < 3; i++) {
      const next = new WatchSim({ id: watchId });
      await next.connect('127.0.0.1', h.watchPort!);
      await next.heartbeat(50);
      sims.push(next);
    }
    await expect.poll(() => h.logs.some((l) => l.includes('watch connection flapping')), { timeout: 5000 }).toBe(true);
    const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/hub_watch_flaps_total [1-9]/);
    expect(sims.filter((x) => x.connected)).toHaveLength(1);
    await Promise.all(sims.map((x) => x.close()));
  });

  it('a frame flood closes the connection', async () => {
    const { s, watchId } = await watchOn();
    await s.sendRaw(`[3G*${watchId}*0002*LK]`.repeat(200));
    await closed(s);
    expect(s.received.length).toBeLessThanOrEqual(40);
  });

  it('a byte flood closes the connection, identified or not', async () => {
    const { s } = await watchOn();
    await s.heartbeat(50);
    await s.sendRaw(Buffer.alloc(250_000, 0x41)).catch(() => undefined);
    await closed(s);
  });

  it('a connection that names no watch in time is closed; an address holds a bounded number of connections', async () => {
    const idle = new WatchSim({ id: 'nobody' });
    await idle.connect('127.0.0.1', h.watchPort!);
    await closed(idle);
    const held: WatchSim[] = [];
    for (let i = 0; i < 3; i++) held.push((await watchOn()).s);
    for (const s of held) await s.heartbeat(50);
    const extra = new WatchSim({ id: 'extra1' });
    await extra.connect('127.0.0.1', h.watchPort!);
    await closed(extra);
    for (const s of held) expect(s.connected).toBe(true);
    await Promise.all(held.map((s) => s.close()));
  });
});

describe('TCP watches: the TLS listener', () => {
  it('speaks the same protocol over TLS', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'watch-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'],
      {
        stdio: 'ignore',
      },
    );
    const h = await startHub({ env: { HUB_WATCH_TLS_PORT: '5094', HUB_WATCH_TLS_CERT_FILE: cert, HUB_WATCH_TLS_KEY_FILE: key } });
    try {
      expect(h.watchTlsPort).toBeGreaterThan(0);
      const owner = await registerUser(h);
      const familyId = await createFamily(h, owner);
      const watchId = newWatchId();
      const w = await provisionWatch(h, randomImei(), watchId);
      await bindWatch(h, owner, familyId, w);
      await api(h, 'PUT', `/v1/families/${familyId}/devices/${w.deviceId}/permissions`, {
        token: owner.accessToken,
        body: ALL_ON,
      });
      const parent = await connect(h, owner.accessToken);
      const s = new WatchSim({ id: watchId });
      await s.connect('127.0.0.1', h.watchTlsPort!, { tls: { rejectUnauthorized: false } });
      expect(await s.heartbeat(70)).toMatchObject({ kind: 'reply', content: 'LK' });
      const got = waitFor(parent, 'location', (e) => e.deviceId === w.deviceId);
      await s.position({ valid: true, lat: 41.9, lng: 12.5, satellites: 9 });
      expect(await got).toMatchObject({ lat: 41.9, lng: 12.5 });
      await s.close();
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TCP watches: idle connections', () => {
  it('a watch silent for HUB_WATCH_IDLE_TIMEOUT_S is closed and goes offline for its family', async () => {
    const h = await startHub({ env: { HUB_WATCH_IDLE_TIMEOUT_S: '5' } });
    try {
      const owner = await registerUser(h);
      const familyId = await createFamily(h, owner);
      const watchId = newWatchId();
      const w = await provisionWatch(h, randomImei(), watchId);
      await bindWatch(h, owner, familyId, w);
      const parent = await connect(h, owner.accessToken);
      const s = new WatchSim({ id: watchId });
      await s.connect('127.0.0.1', h.watchPort!);
      await s.heartbeat(50);
      const offline = waitFor(parent, 'presence', (p) => p.id === w.deviceId && !p.online, { timeoutMs: 9000 });
      await expect(s.waitForFrame('NEVER', () => true, 9000)).rejects.toThrow(/closed/);
      await offline;
    } finally {
      await h.close();
    }
  }, 15_000);
});
