// The store side of the data rights, on SQLite and PostgreSQL: binding periods kept per family,
// history erased only within a family's own periods, message content deleted with its pushes.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FixRow } from '../../src/store/fixes.js';
import type { Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_800_000_000_000;

describe.each(STORE_KINDS)('data rights in the store (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  const family = async () => {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'O', createdAt: T0 });
    const fid = randomUUID();
    await store.families.create(fid, 'F', owner, T0);
    return { fid, owner };
  };
  const fixAt = (deviceId: string, ts: number): FixRow => ({
    device_id: deviceId,
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
    received_at: ts,
  });

  it('erases a watch’s stored geofence crossings within a range, only of that family and watch', async () => {
    const a = await family();
    const b = await family();
    const crossing = (familyId: string, deviceId: string, ts: number) => ({
      id: randomUUID(),
      family_id: familyId,
      device_id: deviceId,
      geofence_id: 'g',
      transition: 'enter',
      ts,
      lat: 1,
      lng: 2,
      late: 0,
      created_at: ts,
    });
    await store.geofenceEvents.insert([
      crossing(a.fid, 'w1', T0 + 100),
      crossing(a.fid, 'w1', T0 + 200),
      crossing(a.fid, 'w1', T0 + 300),
      crossing(a.fid, 'w2', T0 + 200),
      crossing(b.fid, 'w1', T0 + 200),
    ]);
    expect(await store.geofenceEvents.eraseWithin(a.fid, 'w1', T0 + 150, T0 + 300)).toBe(2);
    expect((await store.geofenceEvents.forDevice(a.fid, 'w1')).map((e) => Number(e.ts))).toEqual([T0 + 100]);
    expect(await store.geofenceEvents.forDevice(a.fid, 'w2')).toHaveLength(1);
    expect(await store.geofenceEvents.forDevice(b.fid, 'w1')).toHaveLength(1);
  });

  it('keeps each family’s binding periods, and erases a history only within the family’s own', async () => {
    const a = await family();
    const b = await family();
    const code = () => randomUUID();
    const first = code();
    const d = await store.devices.register({
      newId: randomUUID(),
      imei: `86${String(Date.now()).slice(-13)}`,
      model: 'KW',
      bindingCodeHash: first,
      bindingCodeExpiresAt: T0 + 10,
      now: T0,
    });
    await store.devices.bindByCode(first, a.fid, 'Mia', T0 + 1);
    await store.fixes.insertMany([fixAt(d.id, T0 + 100), fixAt(d.id, T0 + 200)]);
    expect(await store.devices.unbind(d.id, a.fid, undefined, T0 + 300)).toBe(true);
    const second = code();
    await store.devices.register({
      newId: randomUUID(),
      imei: d.imei,
      model: 'KW',
      bindingCodeHash: second,
      bindingCodeExpiresAt: T0 + 1000,
      now: T0 + 400,
    });
    await store.devices.bindByCode(second, b.fid, 'Sam', T0 + 500);
    await store.fixes.insertMany([fixAt(d.id, T0 + 600), fixAt(d.id, T0 + 700)]);

    expect(await store.devices.bindingsOf(d.id, a.fid)).toEqual([{ boundAt: T0 + 1, unboundAt: T0 + 300, childName: 'Mia' }]);
    expect(await store.devices.bindingsOf(d.id, b.fid)).toEqual([{ boundAt: T0 + 500, unboundAt: null, childName: 'Sam' }]);
    expect(await store.devices.bindingsOf(d.id, randomUUID())).toEqual([]);

    // A erases everything it may: its own period, never B's.
    const periodsOf = async (fid: string) =>
      (await store.devices.bindingsOf(d.id, fid)).map((p) => ({ from: p.boundAt, to: p.unboundAt }));
    expect(await store.fixes.erase(d.id, await periodsOf(a.fid), 0, T0 + 10_000)).toBe(2);
    const left = await store.fixes.history(d.id, 0, T0 + 10_000, undefined, 10);
    expect(left.map((f) => f.ts)).toEqual([T0 + 600, T0 + 700]);
    // B erases a range of its own.
    expect(await store.fixes.erase(d.id, await periodsOf(b.fid), T0 + 650, T0 + 10_000)).toBe(1);
    expect((await store.fixes.history(d.id, 0, T0 + 10_000, undefined, 10)).map((f) => f.ts)).toEqual([T0 + 600]);
    // Nothing without a period.
    expect(await store.fixes.erase(d.id, [], 0, T0 + 10_000)).toBe(0);
  });

  it('erases what a family recorded in its earlier bindings of a watch with the family, and nothing of the next family’s', async () => {
    const a = await family();
    const b = await family();
    const first = randomUUID();
    const d = await store.devices.register({
      newId: randomUUID(),
      imei: `35${String(Date.now()).slice(-13)}`,
      model: 'KW',
      bindingCodeHash: first,
      bindingCodeExpiresAt: T0 + 10,
      now: T0,
    });
    await store.devices.bindByCode(first, a.fid, 'Mia', T0 + 1);
    await store.fixes.insertMany([fixAt(d.id, T0 + 100)]);
    await store.devices.unbind(d.id, a.fid, undefined, T0 + 300);
    const second = randomUUID();
    await store.devices.register({
      newId: randomUUID(),
      imei: d.imei,
      model: 'KW',
      bindingCodeHash: second,
      bindingCodeExpiresAt: T0 + 1000,
      now: T0 + 400,
    });
    await store.devices.bindByCode(second, b.fid, 'Sam', T0 + 500);
    await store.fixes.insertMany([fixAt(d.id, T0 + 600)]);
    // A's last owner deletes the account: A goes, with what the watch recorded for A.
    const result = await store.erasure.erase(a.owner, () => ({ hash: randomUUID(), expiresAt: T0 + 10_000 }));
    expect(result.deletedFamilies).toEqual([a.fid]);
    expect((await store.fixes.history(d.id, 0, T0 + 10_000, undefined, 10)).map((f) => f.ts)).toEqual([T0 + 600]);
    expect(await store.devices.bindingsOf(d.id, a.fid)).toEqual([]);
    expect((await store.devices.findById(d.id))?.family_id).toBe(b.fid);
  });

  it('deletes a message’s content and its pushes, only in its own conversation, once', async () => {
    const a = await family();
    const b = await family();
    const media = { id: randomUUID(), family_id: a.fid, mime: 'image/png', bytes: 3, duration_ms: null, created_at: T0 };
    const { row } = await store.messages.append({
      id: randomUUID(),
      conversationId: a.fid,
      familyId: a.fid,
      senderKind: 'user',
      senderId: a.owner,
      clientMsgId: 'c1',
      kind: 'image',
      text: null,
      media,
      ts: T0,
    });
    const push = (id: string, messageId: string) => ({
      id,
      user_id: a.owner,
      payload: JSON.stringify({ kind: 'message', familyId: a.fid, ts: T0, conversationId: a.fid, messageId, seq: 1 }),
      attempts: 0,
      next_attempt_at: T0,
      created_at: T0,
      sent_at: null,
      failed_at: null,
      last_error: null,
    });
    const about = randomUUID();
    const other = randomUUID();
    await store.push.enqueue([push(about, row.id), push(other, randomUUID())]);

    expect(await store.messages.deleteContent(b.fid, row.id, T0 + 1)).toBeUndefined();
    expect(await store.messages.deleteContent(a.fid, row.id, T0 + 1)).toEqual({ deleted: true, media: [media.id] });
    expect(await store.messages.find(a.fid, row.id)).toMatchObject({ seq: 1, text: null, media_id: null, deleted_at: T0 + 1 });
    expect(await store.messages.mediaById(media.id)).toBeUndefined();
    expect(await store.push.find(about)).toBeUndefined();
    expect(await store.push.find(other)).toBeDefined();
    expect(await store.messages.deleteContent(a.fid, row.id, T0 + 2)).toEqual({ deleted: false, media: [] });
    expect(await store.messages.lastSeq(a.fid)).toBe(1);
  });
});
