// Requests racing a revocation (an unbind, a permission turned off), on both databases: once the
// revocation is answered, nothing the watch or the family asked for before it may still act:
// no photo or contacts command left open, no position cached, told or shown to another family.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';
import {
  type TestHub,
  api,
  bindWatch,
  connect,
  createFamily,
  provisionWatch,
  received,
  registerUser,
  request,
  startHub,
} from '../helpers/hub.js';
import { fix, sharingFamily } from '../helpers/location.js';

const ROUNDS = 8;
const permissions = (p: Partial<Record<'location' | 'camera' | 'microphone' | 'contacts', boolean>>) => ({
  location: true,
  camera: false,
  microphone: false,
  contacts: false,
  ...p,
});

describe.each(STORE_KINDS)('races with revocation on %s', (kind) => {
  let t: TestHub;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const db = kind === 'postgres' ? await freshDatabaseUrl('postgres') : undefined;
    if (db) drop = db.drop;
    // A slow group commit keeps each report in flight long enough to race.
    t = await startHub({
      ...(db ? { databaseUrl: db.url } : {}),
      env: { HUB_FIX_BATCH_MAX_DELAY_MS: '80', HUB_SOCKET_RATE_POINTS: '10000' },
    });
  });
  afterAll(async () => {
    await t.close();
    await drop();
  });

  const openCommands = async (deviceId: string, type: string) =>
    (await t.store.commands.open(deviceId, (await t.store.devices.findById(deviceId))?.family_id ?? '', Date.now())).filter(
      (c) => c.type === type,
    );

  it('leaves no photo or contacts command open once the permission is off', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const f = await sharingFamily(t);
      const path = `/v1/families/${f.familyId}/devices/${f.deviceId}/permissions`;
      await api(t, 'PUT', path, { token: f.owner.accessToken, body: permissions({ camera: true, contacts: true }) });
      const sends = [
        request(f.parentSocket, 'command:send', { deviceId: f.deviceId, type: 'photo' }),
        request(f.parentSocket, 'command:send', {
          deviceId: f.deviceId,
          type: 'set_contacts',
          params: { contacts: [{ name: 'Gran', phone: '+44 20 7946 0000' }] },
        }),
      ];
      const off = api(t, 'PUT', path, { token: f.owner.accessToken, body: permissions({}) });
      const answers = await Promise.all(sends);
      expect((await off).status).toBe(200);
      for (const a of answers) if (!a.ok) expect(a.error.code).toBe('CONSENT_REQUIRED');
      expect(await openCommands(f.deviceId, 'photo')).toEqual([]);
      expect(await openCommands(f.deviceId, 'set_contacts')).toEqual([]);
    }
  });

  it('leaves no command open for a watch once it is unbound', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const f = await sharingFamily(t);
      const send = request(f.parentSocket, 'command:send', { deviceId: f.deviceId, type: 'locate' });
      const unbind = api(t, 'DELETE', `/v1/families/${f.familyId}/devices/${f.deviceId}`, { token: f.owner.accessToken });
      const answer = await send;
      expect((await unbind).status).toBe(204);
      if (!answer.ok) expect(['FORBIDDEN', 'NOT_FOUND']).toContain(answer.error.code);
      const open = await t.store.commands.open(f.deviceId, f.familyId, Date.now());
      expect(open).toEqual([]);
    }
  });

  it('keeps a report in flight during an unbind from the old family and from the next one', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const a = await sharingFamily(t);
      const report = request(a.watchSocket, 'location:report', fix({ lat: 40 + round / 100 }));
      const unbound = await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken });
      expect(unbound.status).toBe(204);
      const seenAtUnbind = received(a.parentSocket, 'location').length;
      await report;
      // Bound by another family at once (the maker re-registers it, as after a reset).
      const again = await provisionWatch(t, a.watch.imei);
      const bOwner = await registerUser(t);
      const bFamily = await createFamily(t, bOwner);
      await bindWatch(t, bOwner, bFamily, again);
      await api(t, 'PUT', `/v1/families/${bFamily}/devices/${a.deviceId}/permissions`, {
        token: bOwner.accessToken,
        body: permissions({}),
      });
      const bs = await connect(t, bOwner.accessToken);
      const latest = await request(bs, 'location:latest', { familyId: bFamily });
      expect(latest.positions).toEqual([]);
      // The old family was told nothing after its unbind was answered.
      await request(a.parentSocket, 'presence:list', { familyId: a.familyId }).catch(() => undefined);
      expect(received(a.parentSocket, 'location').length).toBe(seenAtUnbind);
      // And nothing of it is kept for offline detection or area statistics.
      expect((await t.hub.services.backplane.positions.all()).filter((p) => p.event.deviceId === a.deviceId)).toEqual([]);
      bs.disconnect();
    }
  });

  it('tells nothing and keeps nothing of a report in flight when location is turned off', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const a = await sharingFamily(t);
      const report = request(a.watchSocket, 'location:report', fix());
      const off = await api(t, 'PUT', `/v1/families/${a.familyId}/devices/${a.deviceId}/permissions`, {
        token: a.owner.accessToken,
        body: permissions({ location: false }),
      });
      expect(off.status).toBe(200);
      const seen = received(a.parentSocket, 'location').length;
      await report;
      expect(received(a.parentSocket, 'location').length).toBe(seen);
      expect(await t.hub.services.backplane.positions.get(a.deviceId)).toBeUndefined();
      // Turned on again: the position from before the withdrawal does not come back.
      await api(t, 'PUT', `/v1/families/${a.familyId}/devices/${a.deviceId}/permissions`, {
        token: a.owner.accessToken,
        body: permissions({}),
      });
      const latest = await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
      expect(latest.positions).toEqual([]);
    }
  });
});
