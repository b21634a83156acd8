// The store side of notifications on both databases: an SOS send and an offline alert are each
// claimed by exactly one of several racing nodes; "heard" never moves backwards; installations
// are untied by session and by user; signed-out registrations are purged.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;

describe.each(STORE_KINDS)('notifications store (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  async function user(): Promise<string> {
    const id = randomUUID();
    await store.users.create({ id, email: `${id}@x.test`, passwordHash: null, nickname: 'U', createdAt: T0 });
    return id;
  }

  async function device(): Promise<{ deviceId: string; familyId: string }> {
    const familyId = randomUUID();
    await store.families.create(familyId, 'F', await user(), T0);
    const code = randomUUID();
    const row = await store.devices.register({
      newId: randomUUID(),
      imei: String(Date.now()) + String(Math.floor(Math.random() * 100)).padStart(2, '0'),
      model: 'm',
      bindingCodeHash: code,
      bindingCodeExpiresAt: T0 + 86_400_000,
      now: T0,
    });
    await store.devices.bindByCode(code, familyId, 'C', T0 + 1);
    return { deviceId: row.id, familyId };
  }

  it('claims each SOS send once among racing nodes, and schedules the next', async () => {
    const { deviceId, familyId } = await device();
    const id = randomUUID();
    await store.alerts.insert({
      id,
      family_id: familyId,
      device_id: deviceId,
      type: 'sos',
      ts: T0,
      lat: null,
      lng: null,
      details: null,
      created_at: T0,
      notified_at: T0,
      notify_count: 1,
      acked_at: null,
      acked_by: null,
      next_notify_at: T0 + 1000,
    });
    expect(await store.alerts.dueEscalation(T0 + 999, 10)).toEqual([]);
    expect((await store.alerts.dueEscalation(T0 + 1000, 10)).map((a) => a.id)).toEqual([id]);
    const claims = await Promise.all([1, 2, 3, 4].map(() => store.alerts.claimEscalation(id, T0, T0 + 1000, T0 + 3000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const row = await store.alerts.find(id);
    expect(row).toMatchObject({ notify_count: 2, notified_at: T0 + 1000, next_notify_at: T0 + 3000 });
    expect(await store.alerts.dueEscalation(T0 + 2999, 10)).toEqual([]);
    await store.alerts.ack(familyId, id, 'u', T0 + 2000);
    expect(await store.alerts.dueEscalation(T0 + 10_000, 10)).toEqual([]);
    expect(await store.alerts.claimEscalation(id, T0 + 1000, T0 + 3000, T0 + 5000)).toBe(false);
  });

  it('claims one offline alert per silence, and heard never moves backwards', async () => {
    const { deviceId, familyId } = await device();
    await store.liveness.heard(deviceId, familyId, T0 + 5000);
    await store.liveness.heard(deviceId, familyId, T0 + 1000);
    const silent = () => store.liveness.silentSince(T0 + 60_000, 100).then((r) => r.filter((x) => x.device_id === deviceId));
    expect(await silent()).toEqual([{ device_id: deviceId, family_id: familyId, heard_at: T0 + 5000 }]);
    const claims = await Promise.all([1, 2, 3].map(() => store.liveness.claimOffline(deviceId, T0 + 5000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await silent()).toEqual([]);
    // Heard again, silent again: a new silence.
    await store.liveness.heard(deviceId, familyId, T0 + 9000);
    expect((await silent()).map((r) => r.heard_at)).toEqual([T0 + 9000]);
    await store.liveness.forget(deviceId);
    expect(await silent()).toEqual([]);
  });

  it('records many watches heard in one call, each as heard would', async () => {
    const [a, b, c] = [await device(), await device(), await device()];
    await store.liveness.heard(a.deviceId, a.familyId, T0 + 5000);
    await store.liveness.heard(b.deviceId, b.familyId, T0 + 5000);
    expect(await store.liveness.claimOffline(b.deviceId, T0 + 5000)).toBe(true);
    const other = randomUUID();
    await store.liveness.heardMany([
      // Older than what is kept: kept as it was.
      { deviceId: a.deviceId, familyId: a.familyId, at: T0 + 1000 },
      // Newer than an alerted silence: heard again, a new silence may begin.
      { deviceId: b.deviceId, familyId: b.familyId, at: T0 + 7000 },
      // New.
      { deviceId: c.deviceId, familyId: c.familyId, at: T0 + 2000 },
    ]);
    // Bound elsewhere since, even if earlier: the new family's hearing.
    await store.liveness.heardMany([{ deviceId: a.deviceId, familyId: other, at: T0 + 3000 }]);
    const mine = new Set([a.deviceId, b.deviceId, c.deviceId]);
    const silent = (await store.liveness.silentSince(T0 + 60_000, 100)).filter((r) => mine.has(r.device_id));
    expect(silent).toEqual([
      { device_id: c.deviceId, family_id: c.familyId, heard_at: T0 + 2000 },
      { device_id: a.deviceId, family_id: other, heard_at: T0 + 3000 },
      { device_id: b.deviceId, family_id: b.familyId, heard_at: T0 + 7000 },
    ]);
    await store.liveness.heardMany([]);
  });

  it('unties installations by session and by user, and purges signed-out ones', async () => {
    const uid = await user();
    const reg = (id: string, session: string | null, userId: string | null = uid) =>
      store.pushRegistrations.upsert({
        installation_id: id,
        provider: 'fcm',
        token: `tok-${id}`,
        user_id: userId,
        session_id: session,
        created_at: T0,
        updated_at: T0,
      });
    await reg('i1', 's1');
    await reg('i2', 's2');
    await reg('i3', null, null);
    expect(await store.pushRegistrations.untieSession('s1', T0 + 1)).toBe(1);
    expect((await store.pushRegistrations.forUser(uid)).map((r) => r.installation_id)).toEqual(['i2']);
    expect(await store.pushRegistrations.untieUser(uid, T0 + 2)).toBe(1);
    expect(await store.pushRegistrations.forUsers([uid])).toEqual([]);
    await store.pushRegistrations.deleteIfToken('i2', 'other-token');
    expect(await store.pushRegistrations.find('i2')).toBeDefined();
    expect(await store.pushRegistrations.purgeUntiedBefore(T0 + 2, 100)).toBe(2);
    expect(await store.pushRegistrations.find('i3')).toBeUndefined();
    expect(await store.pushRegistrations.find('i2')).toBeDefined();
  });
});
