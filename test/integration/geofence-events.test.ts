// Alerts that are not missed, with real clients, on SQLite and PostgreSQL: geofence crossings are
// kept and listed (paginated, members only), fixes a watch buffered out of coverage are replayed
// through the fences in timestamp order and their crossings marked late; `offline` for a watch
// that went silent across a hub restart and for a watch with location off (no position).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpired } from '../../src/jobs/retention.js';
import { type FreshDatabase, STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';
import { type TestHub, addMember, api, connect, received, request, startHub, waitFor } from '../helpers/hub.js';
import { BOUND_A_WEEK_AGO, dLat, fix, setPermissions, sharingFamily } from '../helpers/location.js';

const HOME = { lat: 48.8566, lng: 2.3522 };
const AWAY = { lat: HOME.lat + dLat(500), lng: HOME.lng };
const MIN = 60_000;

describe.each(STORE_KINDS)('geofence crossings (%s)', (kind) => {
  let db: FreshDatabase;
  let t: TestHub;
  beforeAll(async () => {
    db = await freshDatabaseUrl(kind);
    t = await startHub({ databaseUrl: db.url, env: { HUB_GEOFENCE_LATE_S: '120' } });
  });
  afterAll(async () => {
    await t.close();
    await db.drop();
  });

  it('replays buffered fixes in order, marks their crossings late, keeps and lists them page by page', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const fence = await api(t, 'POST', `/v1/families/${a.familyId}/geofences`, {
      token: a.owner.accessToken,
      body: { name: 'Home', kind: 'circle', center: HOME, radius: 100 },
    });
    const now = Date.now();
    // Last heard away from home 30 min ago; then out of coverage. Back in coverage, the watch
    // sends what it buffered, newest last (here deliberately shuffled: the hub orders them).
    await request(a.watchSocket, 'location:report', fix({ ts: now - 30 * MIN, ...AWAY }));
    const batch = await request(a.watchSocket, 'location:report', {
      fixes: [fix({ ts: now - 10 * MIN, ...AWAY }), fix({ ts: now - 20 * MIN, ...HOME }), fix({ ts: now - 5 * MIN, ...AWAY })],
    });
    expect(batch.accepted).toBe(3);
    // Then live: home again.
    const live = waitFor(a.parentSocket, 'geofence', (e) => e.ts === now - 1000);
    await request(a.watchSocket, 'location:report', fix({ ts: now - 1000, ...HOME }));
    await live;
    const told = received(a.parentSocket, 'geofence').map((e) => [e.transition, e.ts, e.late]);
    expect(told).toEqual([
      ['enter', now - 20 * MIN, true],
      ['exit', now - 10 * MIN, true],
      ['enter', now - 1000, false],
    ]);

    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    const path = `/v1/families/${a.familyId}/geofence-events`;
    const all = await api(t, 'GET', path, { token: viewer.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.events).toEqual(
      received(a.parentSocket, 'geofence').map((e) => ({
        id: e.id,
        familyId: a.familyId,
        geofenceId: fence.body.id,
        deviceId: a.deviceId,
        transition: e.transition,
        ts: e.ts,
        lat: e.lat,
        lng: e.lng,
        late: e.late,
      })),
    );
    // Page by page, the same events in the same order.
    const first = await api(t, 'GET', `${path}?limit=2`, { token: viewer.accessToken });
    expect(first.body.events).toHaveLength(2);
    const second = await api(t, 'GET', `${path}?limit=2&cursor=${first.body.nextCursor}`, { token: viewer.accessToken });
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.events, ...second.body.events]).toEqual(all.body.events);
    // By time range and watch.
    const ranged = await api(t, 'GET', `${path}?from=${now - 15 * MIN}&to=${now}&deviceId=${a.deviceId}`, {
      token: viewer.accessToken,
    });
    expect(ranged.body.events.map((e: { ts: number }) => e.ts)).toEqual([now - 10 * MIN, now - 1000]);

    // In the owner's export of the watch.
    const exported = await api(t, 'GET', `/v1/families/${a.familyId}/devices/${a.deviceId}/export`, {
      token: a.owner.accessToken,
    });
    expect(exported.body.geofenceEvents.map((e: { id: string }) => e.id)).toEqual(
      all.body.events.map((e: { id: string }) => e.id),
    );

    // Hostile: another family's owner, another family's watch, a forged cursor, a bad range.
    const b = await sharingFamily(t);
    expect((await api(t, 'GET', path, { token: b.owner.accessToken })).body.error.reason).toBe('not_member');
    const foreignWatch = await api(t, 'GET', `${path}?deviceId=${b.deviceId}`, { token: a.owner.accessToken });
    expect(foreignWatch.body.error.reason).toBe('no_such_watch');
    expect((await api(t, 'GET', `${path}?cursor=bm9wZQ`, { token: a.owner.accessToken })).body.error.reason).toBe('bad_cursor');
    expect((await api(t, 'GET', `${path}?from=10&to=5`, { token: a.owner.accessToken })).status).toBe(400);
    expect((await api(t, 'GET', `${path}?limit=0`, { token: a.owner.accessToken })).status).toBe(400);
    expect((await api(t, 'GET', `/v1/families/${b.familyId}/geofence-events`, { token: a.owner.accessToken })).status).toBe(403);
    // The other family sees none of them.
    expect(
      (await api(t, 'GET', `/v1/families/${b.familyId}/geofence-events`, { token: b.owner.accessToken })).body.events,
    ).toEqual([]);
  });

  it('falls under the location retention', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    await api(t, 'POST', `/v1/families/${a.familyId}/geofences`, {
      token: a.owner.accessToken,
      body: { name: 'Home', kind: 'circle', center: HOME, radius: 100 },
    });
    const now = Date.now();
    await request(a.watchSocket, 'location:report', {
      fixes: [fix({ ts: now - 3000, ...AWAY }), fix({ ts: now - 2000, ...HOME })],
    });
    const path = `/v1/families/${a.familyId}/geofence-events`;
    expect((await api(t, 'GET', path, { token: a.owner.accessToken })).body.events).toHaveLength(1);
    const days = t.config.location.retentionDays;
    // The retention job, run just inside the window and just past it.
    await purgeExpired(t.store, t.config, now - 2000 + days * 86_400_000);
    expect((await api(t, 'GET', path, { token: a.owner.accessToken })).body.events).toHaveLength(1);
    expect((await purgeExpired(t.store, t.config, now - 1000 + days * 86_400_000)).geofenceEvents).toBeGreaterThanOrEqual(1);
    expect((await api(t, 'GET', path, { token: a.owner.accessToken })).body.events).toEqual([]);
  });
});

describe('offline that is not missed', () => {
  const env = { HUB_LOCATION_INTERVAL_S: '5', HUB_OFFLINE_AFTER_INTERVALS: '2' };

  it('raises offline for a watch that went silent across a restart of the hub', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-offline-'));
    const databaseUrl = `sqlite:${join(dir, 'hub.sqlite')}`;
    try {
      const first = await startHub({ databaseUrl, env });
      const a = await sharingFamily(first);
      await request(a.watchSocket, 'location:report', fix({ ts: Date.now(), ...HOME }));
      for (let i = 0; i < 100 && !(await first.store.liveness.silentSince(Number.MAX_SAFE_INTEGER, 10)).length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // The hub stops; the watch goes silent meanwhile (it never reconnects).
      await first.close();

      const second = await startHub({ databaseUrl, env });
      try {
        const parent = await connect(second, a.owner.accessToken);
        const offline = waitFor(parent, 'alert', (x) => x.type === 'offline' && x.deviceId === a.deviceId, { timeoutMs: 10_000 });
        second.clock.advance(11_000);
        expect(await offline).toMatchObject({ familyId: a.familyId, lat: HOME.lat, lng: HOME.lng });
        // Once per silence, also on the next sweeps.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        expect(received(parent, 'alert').filter((x) => x.type === 'offline')).toHaveLength(1);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('raises offline for a watch with location off, without a position', async () => {
    const t = await startHub({ env });
    try {
      const a = await sharingFamily(t);
      await request(a.watchSocket, 'location:report', fix({ ts: Date.now(), ...HOME }));
      await setPermissions(t, a.owner.accessToken, a.familyId, a.deviceId, false);
      // Refused for consent, but heard.
      t.clock.advance(8_000);
      const refused = await request(a.watchSocket, 'location:report', fix({ ts: t.clock.now(), ...HOME }));
      expect(refused.error.code).toBe('CONSENT_REQUIRED');
      const offline = waitFor(a.parentSocket, 'alert', (x) => x.type === 'offline' && x.deviceId === a.deviceId, {
        timeoutMs: 10_000,
      });
      // 13 s after the last position, 5 s after the refused report: not yet.
      t.clock.advance(5_000);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(received(a.parentSocket, 'alert').filter((x) => x.type === 'offline')).toEqual([]);
      t.clock.advance(6_000);
      const alert = await offline;
      expect(alert.lat).toBeUndefined();
      expect(alert.lng).toBeUndefined();
    } finally {
      await t.close();
    }
  }, 30_000);
});

// The watches heard are written to the store together, a moment later (src/location/liveness.ts):
// nothing may read that moment as a silence, nor write a watch that has left meanwhile.
describe.each(STORE_KINDS)('watches heard, written together (%s)', (kind) => {
  const env = { HUB_LOCATION_INTERVAL_S: '5', HUB_OFFLINE_AFTER_INTERVALS: '2' };
  let db: FreshDatabase;
  let t: TestHub;
  beforeAll(async () => {
    db = await freshDatabaseUrl(kind);
    t = await startHub({ databaseUrl: db.url, env });
  });
  afterAll(async () => {
    await t.close();
    await db.drop();
  });
  const liveness = () => t.hub.services.location.liveness;
  const heardAt = async (deviceId: string) =>
    (await t.store.liveness.silentSince(Number.MAX_SAFE_INTEGER, 1000)).find((r) => r.device_id === deviceId)?.heard_at;

  it('does not take a watch heard a moment before a sweep, not written yet, for silent', async () => {
    const a = await sharingFamily(t);
    const first = t.clock.now();
    await request(a.watchSocket, 'location:report', fix({ ts: first, ...HOME }));
    await liveness().flush();
    expect(await heardAt(a.deviceId)).toBeGreaterThanOrEqual(first);
    // Heard again just inside the silence of 10 s, then the sweep comes past it.
    t.clock.advance(9_000);
    const again = t.clock.now();
    await request(a.watchSocket, 'location:report', fix({ ts: again, ...HOME }));
    t.clock.advance(2_000);
    expect(await liveness().sweep()).toBe(0);
    expect(await heardAt(a.deviceId)).toBeGreaterThanOrEqual(again);
    expect(received(a.parentSocket, 'alert').filter((x) => x.type === 'offline')).toEqual([]);
  });

  it('writes nothing of a watch unbound before its hearing was written', async () => {
    const a = await sharingFamily(t);
    await request(a.watchSocket, 'location:report', fix({ ts: t.clock.now(), ...HOME }));
    const unbound = await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken });
    expect(unbound.status).toBe(204);
    await liveness().flush();
    expect(await heardAt(a.deviceId)).toBeUndefined();
  });
});
