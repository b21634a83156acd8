// The retention purge removes chat, media, fixes (with their observations), stale learned access
// points, alerts, consent records, deleted history ranges and ended binding periods past their
// limits, and nothing younger.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { randomImei } from '../../src/contract/imei.js';
import { purgeExpired } from '../../src/jobs/retention.js';
import { openStore, type Store } from '../../src/store/store.js';
import { freshDatabaseUrl, STORE_KINDS } from '../helpers/databases.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

describe.each(STORE_KINDS)('retention purge (%s)', (kind) => {
  let store: Store;
  let drop: () => Promise<void> = async () => {};
  const config = loadConfig({ HUB_RETENTION_CHAT_DAYS: '30', HUB_RETENTION_LOCATION_DAYS: '7' });

  beforeAll(async () => {
    const db = await freshDatabaseUrl(kind);
    drop = db.drop;
    store = await openStore(db.url);
  });
  afterAll(async () => {
    await store?.close();
    await drop();
  });

  it('deletes what is past each limit, in batches, and keeps the rest', async () => {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'O', createdAt: NOW });
    const fid = randomUUID();
    await store.families.create(fid, 'F', owner, NOW);
    const say = async (ageDays: number, i: number, withMedia = false) => {
      const media = withMedia
        ? { id: randomUUID(), family_id: fid, mime: 'image/png', bytes: 3, duration_ms: null, created_at: NOW - ageDays * DAY }
        : null;
      if (media) await store.mediaBlobs.put(media.id, Buffer.from([1, 2, 3]));
      await store.messages.append({
        id: randomUUID(),
        conversationId: fid,
        familyId: fid,
        senderKind: 'user',
        senderId: owner,
        clientMsgId: `c${i}`,
        kind: media ? 'image' : 'text',
        text: media ? null : `m${i}`,
        media,
        ts: NOW - ageDays * DAY,
      });
      return media?.id;
    };
    // 1,200 old messages (more than one batch), one old photo, and two recent messages.
    for (let i = 0; i < 1200; i++) await say(40, i);
    const oldPhoto = await say(31, 5000, true);
    const newPhoto = await say(29, 5001, true);
    await say(1, 5002);
    const fix = (ageDays: number, ts: number) => ({
      device_id: 'w1',
      ts,
      lat: 1,
      lng: 2,
      acc: 5,
      alt: null,
      speed: null,
      heading: null,
      battery: null,
      source: 'gps',
      cell: '8928308280fffff',
      received_at: NOW - ageDays * DAY,
    });
    await store.fixes.insertMany([
      ...Array.from({ length: 1500 }, (_, i) => ({ ...fix(8, 0), ts: NOW - 8 * DAY + i })),
      fix(6, NOW - 6 * DAY),
    ]);

    const report = await purgeExpired(store, config, NOW);
    expect(report).toMatchObject({ messages: 1201, media: 1, fixes: 1500 });
    const left = await store.messages.after(fid, 0, 10_000);
    expect(left.map((m) => m.text ?? m.kind)).toEqual(['image', 'm5002']);
    expect(await store.mediaBlobs.get(oldPhoto!)).toBeUndefined();
    expect(await store.messages.mediaById(oldPhoto!)).toBeUndefined();
    expect(await store.mediaBlobs.get(newPhoto!)).toEqual(Buffer.from([1, 2, 3]));
    const fixes = await store.fixes.history('w1', 0, NOW, undefined, 10_000);
    expect(fixes.map((f) => f.ts)).toEqual([NOW - 6 * DAY]);
    // Nothing left to do the second time.
    expect(await purgeExpired(store, config, NOW)).toEqual({
      messages: 0,
      media: 0,
      fixes: 0,
      healthReadings: 0,
      accessPoints: 0,
      audit: 0,
      alerts: 0,
      consents: 0,
      erasures: 0,
      bindings: 0,
      commands: 0,
      invites: 0,
      bindingCodes: 0,
      resetCodes: 0,
      pushes: 0,
      geofenceEvents: 0,
      pushRegistrations: 0,
    });
  });

  it('purges health readings past HUB_RETENTION_HEALTH_DAYS and keeps younger ones', async () => {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'O', createdAt: NOW });
    const fid = randomUUID();
    await store.families.create(fid, 'F', owner, NOW);
    const codeHash = randomUUID();
    const device = await store.devices.register({
      newId: randomUUID(),
      imei: randomImei(),
      model: 'KW',
      bindingCodeHash: codeHash,
      bindingCodeExpiresAt: NOW + DAY,
      now: NOW - 100 * DAY,
    });
    await store.devices.bindByCode(codeHash, fid, 'Mia', NOW - 100 * DAY);
    const perms = { location: false, camera: false, microphone: false, contacts: false, health: true };
    await store.devices.setPermissions(device.id, fid, perms, { by: owner, at: NOW - 100 * DAY, newId: randomUUID });
    const reading = (ageDays: number) =>
      store.health.insert(
        {
          id: randomUUID(),
          device_id: device.id,
          family_id: fid,
          ts: NOW - ageDays * DAY,
          heart_rate: 70,
          systolic: null,
          diastolic: null,
          body_temp_c: null,
          spo2: null,
          received_at: NOW - ageDays * DAY,
        },
        { deviceId: device.id, familyId: fid, permission: 'health' },
      );
    await reading(31);
    await reading(40);
    await reading(29);
    const health = loadConfig({ HUB_RETENTION_HEALTH_DAYS: '30' });
    expect((await purgeExpired(store, health, NOW)).healthReadings).toBe(2);
    expect((await store.health.listFor(device.id, fid, 0)).map((r) => r.ts)).toEqual([NOW - 29 * DAY]);
  });

  it('purges old fixes with their cells and access points, and access points not heard within the location retention', async () => {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'O', createdAt: NOW });
    const fid = randomUUID();
    await store.families.create(fid, 'F', owner, NOW);
    const wifi = JSON.stringify([{ mac: '0a:00:00:00:00:01', rssi: -50 }]);
    const row = (ts: number, positioned: boolean) => ({
      device_id: 'w2',
      ts,
      lat: positioned ? 1 : null,
      lng: positioned ? 2 : null,
      acc: positioned ? 30 : null,
      alt: null,
      speed: null,
      heading: null,
      battery: null,
      source: 'wifi',
      cell: positioned ? '8928308280fffff' : null,
      received_at: ts,
    });
    const old = NOW - 8 * DAY;
    const recent = NOW - 6 * DAY;
    // An old position and an old sign of life, and a recent sign of life, each with what it heard.
    await store.fixes.insertMany(
      [row(old, true), row(old + 1, false), row(recent, false)],
      [old, old + 1, recent].map((ts) => ({ device_id: 'w2', ts, cells: null, wifi })),
    );
    const ap = (mac: string, lastSeen: number) => ({
      family_id: fid,
      mac,
      lat: 1,
      lng: 2,
      weight: 0.01,
      spread2: 100,
      count: 3,
      rejects: 0,
      first_seen: lastSeen - DAY,
      last_seen: lastSeen,
      updated_at: lastSeen,
    });
    await store.accessPoints.upsertMany([ap('0a:00:00:00:00:01', NOW - 8 * DAY), ap('0a:00:00:00:00:02', NOW - DAY)]);

    const report = await purgeExpired(store, config, NOW);
    expect(report).toMatchObject({ fixes: 2, accessPoints: 1 });
    const observed = await store.fixObservations.between('w2', 0, NOW, 100);
    expect(observed.map((o) => o.ts)).toEqual([recent]);
    expect((await store.accessPoints.forFamily(fid, undefined, 10)).map((a) => a.mac)).toEqual(['0a:00:00:00:00:02']);
  });

  it('purges alerts and consent records like fixes, keeping the consent behind each current permission', async () => {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'O', createdAt: NOW });
    const fid = randomUUID();
    await store.families.create(fid, 'F', owner, NOW - 500 * DAY);
    const watch = async (imei: string, boundAt: number) => {
      const hash = randomUUID();
      const d = await store.devices.register({
        newId: randomUUID(),
        imei,
        model: 'KW',
        bindingCodeHash: hash,
        bindingCodeExpiresAt: boundAt + DAY,
        now: boundAt - 1,
      });
      await store.devices.bindByCode(hash, fid, 'Mia', boundAt);
      return d.id;
    };
    const perms = (p: Partial<Record<'location' | 'camera' | 'microphone' | 'contacts', boolean>>) => ({
      location: false,
      camera: false,
      microphone: false,
      contacts: false,
      ...p,
    });
    const set = (did: string, p: object, at: number) =>
      store.devices.setPermissions(did, fid, perms(p), { by: owner, at, newId: randomUUID });
    const kept = await watch(`35${Date.now()}1`.slice(0, 15), NOW - 400 * DAY);
    await set(kept, { location: true }, NOW - 400 * DAY); // old, but still what location is: kept
    await set(kept, { location: true, camera: true }, NOW - 399 * DAY); // camera on: superseded
    await set(kept, { location: true }, NOW - 398 * DAY); // camera off: what camera is now, kept
    await set(kept, { location: true, microphone: true }, NOW - 10 * DAY); // recent
    const gone = await watch(`35${Date.now()}2`.slice(0, 15), NOW - 400 * DAY);
    await set(gone, { location: true }, NOW - 399 * DAY);
    expect(await store.devices.unbind(gone, fid, undefined, NOW - 398 * DAY)).toBe(true);

    const alert = (id: string, ageDays: number) =>
      store.alerts.insert({
        id,
        family_id: fid,
        device_id: kept,
        type: 'sos',
        ts: NOW - ageDays * DAY,
        lat: 1,
        lng: 2,
        details: null,
        created_at: NOW - ageDays * DAY,
        notified_at: NOW - ageDays * DAY,
        notify_count: 1,
        acked_at: null,
        acked_by: null,
      });
    const oldAlert = randomUUID();
    const newAlert = randomUUID();
    await alert(oldAlert, 31);
    await alert(newAlert, 29);
    await store.fixes.recordErasure({ id: randomUUID(), deviceId: kept, from: NOW - 9 * DAY, to: NOW - 8 * DAY, at: NOW - DAY });
    await store.fixes.recordErasure({ id: randomUUID(), deviceId: kept, from: NOW - 7 * DAY, to: NOW - 6 * DAY, at: NOW - DAY });

    const report = await purgeExpired(store, config, NOW);
    expect(report).toMatchObject({ alerts: 1, consents: 2, erasures: 1, bindings: 1 });
    expect(await store.alerts.find(oldAlert)).toBeUndefined();
    expect(await store.alerts.find(newAlert)).toBeDefined();
    const left = (await store.devices.consents(kept, fid)).map((c) => `${c.permission}:${c.value}@${(NOW - c.at) / DAY}`);
    expect(left).toEqual(['location:1@400', 'camera:0@398', 'microphone:1@10']);
    expect(await store.devices.consents(gone, fid)).toEqual([]);
    expect(await store.fixes.erasures(kept, 0)).toEqual([{ from: NOW - 7 * DAY, to: NOW - 6 * DAY }]);
    expect(await store.devices.bindingsOf(gone, fid)).toEqual([]);
    expect(await store.devices.bindingsOf(kept, fid)).toEqual([{ boundAt: NOW - 400 * DAY, unboundAt: null, childName: 'Mia' }]);
  });
});
