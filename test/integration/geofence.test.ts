// Geofences with real clients: CRUD and its hostile cases, enter/exit along recorded paths, no
// flapping at the edge, limits to some watches, and state that survives a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientSocket,
  type TestHub,
  addMember,
  api,
  bindWatch,
  connect,
  provisionWatch,
  received,
  request,
  requestRaw,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { BOUND_A_WEEK_AGO, dLat, dLng, fix, setPermissions, sharingFamily } from '../helpers/location.js';

const HOME = { lat: 48.8566, lng: 2.3522 };

/** Fixes every `stepM` metres along the parallel through HOME, from -fromM to +toM east. */
function walkEast(fromM: number, toM: number, stepM: number, t0: number, acc = 5) {
  const out = [];
  for (let x = -fromM, i = 0; x <= toM; x += stepM, i++) {
    out.push(fix({ ts: t0 + i * 1000, lat: HOME.lat, lng: HOME.lng + dLng(x, HOME.lat), acc }));
  }
  return out;
}

async function reportAll(watch: ClientSocket, fixes: object[]) {
  for (let i = 0; i < fixes.length; i += 50) {
    const r = await requestRaw(watch, 'location:report', { fixes: fixes.slice(i, i + 50) });
    expect(r.accepted).toBe(Math.min(50, fixes.length - i));
  }
}

/** The geofence events a socket received, after a round trip that orders us behind them. */
async function geofenceEvents(s: ClientSocket, familyId: string) {
  await request(s, 'location:latest', { familyId });
  return received(s, 'geofence');
}

describe('geofences', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_GEOFENCE_MARGIN_M: '5' } });
  });
  afterAll(() => t.close());

  const create = (token: string, fid: string, body: object) => api(t, 'POST', `/v1/families/${fid}/geofences`, { token, body });

  it('enters and leaves a circle and a polygon exactly once each along a walk', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const circle = await create(a.owner.accessToken, a.familyId, { name: 'Home', kind: 'circle', center: HOME, radius: 100 });
    expect(circle.status).toBe(201);
    expect(circle.body).toMatchObject({ name: 'Home', kind: 'circle', center: HOME, radius: 100, deviceIds: null });
    // A square 200 m × 200 m centred 1 km east of home.
    const cx = HOME.lng + dLng(1000, HOME.lat);
    const h = dLat(100);
    const w = dLng(100, HOME.lat);
    const square = await create(a.owner.accessToken, a.familyId, {
      name: 'School',
      kind: 'polygon',
      polygon: [
        [HOME.lat - h, cx - w],
        [HOME.lat - h, cx + w],
        [HOME.lat + h, cx + w],
        [HOME.lat + h, cx - w],
      ],
    });
    expect(square.status).toBe(201);

    const t0 = Date.now() - 600_000;
    await reportAll(a.watchSocket, walkEast(300, 1400, 5, t0));
    const events = await geofenceEvents(a.parentSocket, a.familyId);
    expect(events.map((e) => [e.geofenceId, e.transition])).toEqual([
      [circle.body.id, 'enter'],
      [circle.body.id, 'exit'],
      [square.body.id, 'enter'],
      [square.body.id, 'exit'],
    ]);
    for (const e of events) expect(e).toMatchObject({ deviceId: a.deviceId, familyId: a.familyId });
    // Each transition comes at the first fix clearly across (accuracy 5 m + margin 5 m beyond
    // the edge): about 10 m past it, give or take one 5 m step of rounding.
    const xAt = (e: { ts: number }) => -300 + ((e.ts - t0) / 1000) * 5;
    const expected = [-90, 110, 910, 1110];
    events.forEach((e, i) => {
      expect(xAt(e)).toBeGreaterThanOrEqual(expected[i]!);
      expect(xAt(e)).toBeLessThanOrEqual(expected[i]! + 5);
    });
  });

  it('does not flap for a noisy watch along the edge', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    await create(a.owner.accessToken, a.familyId, { name: 'Park', kind: 'circle', center: HOME, radius: 150 });
    const t0 = Date.now() - 600_000;
    // Clearly outside first, then 200 fixes wandering ±8 m around the boundary with 15 m accuracy.
    const fixes = [fix({ ts: t0, lat: HOME.lat + dLat(400), lng: HOME.lng, acc: 5 })];
    for (let i = 1; i <= 200; i++) {
      const angle = (i / 200) * Math.PI;
      const r = 150 + (i % 2 === 0 ? 8 : -8) * Math.sin(i * 7.3);
      fixes.push(
        fix({
          ts: t0 + i * 1000,
          lat: HOME.lat + dLat(r * Math.sin(angle)),
          lng: HOME.lng + dLng(r * Math.cos(angle), HOME.lat),
          acc: 15,
        }),
      );
    }
    await reportAll(a.watchSocket, fixes);
    expect(await geofenceEvents(a.parentSocket, a.familyId)).toEqual([]);
  });

  it('applies to the listed watches only', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const other = await provisionWatch(t);
    await bindWatch(t, a.owner, a.familyId, other, BOUND_A_WEEK_AGO);
    await setPermissions(t, a.owner.accessToken, a.familyId, other.deviceId, true);
    const r = await create(a.owner.accessToken, a.familyId, {
      name: 'Pool',
      kind: 'circle',
      center: HOME,
      radius: 100,
      deviceIds: [a.deviceId],
    });
    expect(r.body.deviceIds).toEqual([a.deviceId]);
    const otherSocket = await connect(t, other.deviceToken);
    await reportAll(otherSocket, walkEast(300, 300, 10, Date.now() - 600_000));
    expect(await geofenceEvents(a.parentSocket, a.familyId)).toEqual([]);
    await reportAll(a.watchSocket, walkEast(300, 300, 10, Date.now() - 600_000));
    expect((await geofenceEvents(a.parentSocket, a.familyId)).map((e) => e.transition)).toEqual(['enter', 'exit']);
    otherSocket.disconnect();
  });

  it('validates shapes and refuses other families and viewers', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    const token = a.owner.accessToken;
    const bad: object[] = [
      { name: 'x', kind: 'circle', center: HOME },
      { name: 'x', kind: 'circle', center: HOME, radius: 0 },
      { name: 'x', kind: 'circle', center: { lat: 95, lng: 0 }, radius: 100 },
      {
        name: 'x',
        kind: 'circle',
        center: HOME,
        radius: 100,
        polygon: [
          [1, 1],
          [1, 2],
          [2, 2],
        ],
      },
      {
        name: 'x',
        kind: 'polygon',
        polygon: [
          [1, 1],
          [1, 2],
        ],
      },
      {
        name: 'x',
        kind: 'polygon',
        polygon: [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ],
      },
      { name: 'x', kind: 'polygon', polygon: Array.from({ length: 501 }, (_, i) => [Math.sin(i), Math.cos(i)]) },
      { name: 'x', kind: 'circle', center: HOME, radius: 100, deviceIds: [b.deviceId] },
      { name: '', kind: 'circle', center: HOME, radius: 100 },
      { name: 'x', kind: 'square', center: HOME, radius: 100 },
    ];
    for (const body of bad) {
      const r = await create(token, a.familyId, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.code).toBe('BAD_REQUEST');
    }
    const valid = { name: 'Home', kind: 'circle', center: HOME, radius: 100 };
    expect((await create(b.owner.accessToken, a.familyId, valid)).status).toBe(403);
    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    expect((await create(viewer.accessToken, a.familyId, valid)).status).toBe(403);
    const mine = await create(token, a.familyId, valid);
    expect(
      (await api(t, 'GET', `/v1/families/${a.familyId}/geofences`, { token: viewer.accessToken })).body.geofences,
    ).toHaveLength(1);
    expect((await api(t, 'GET', `/v1/families/${a.familyId}/geofences`, { token: b.owner.accessToken })).status).toBe(403);
    const path = (fid: string) => `/v1/families/${fid}/geofences/${mine.body.id}`;
    expect((await api(t, 'PUT', path(b.familyId), { token: b.owner.accessToken, body: valid })).status).toBe(404);
    expect((await api(t, 'DELETE', path(b.familyId), { token: b.owner.accessToken })).status).toBe(404);
    const renamed = await api(t, 'PUT', path(a.familyId), { token, body: { ...valid, name: 'Home 2', radius: 150 } });
    expect(renamed.body).toMatchObject({ name: 'Home 2', radius: 150 });
    expect((await api(t, 'DELETE', path(a.familyId), { token })).status).toBe(204);
    expect((await api(t, 'GET', path(a.familyId), { token })).status).toBe(404);
  });
});

describe('geofence state across a restart', () => {
  it('exits after a restart when the watch was inside before it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-restart-'));
    const databaseUrl = `sqlite:${join(dir, 'hub.sqlite')}`;
    try {
      const first = await startHub({ databaseUrl });
      const a = await sharingFamily(first, BOUND_A_WEEK_AGO);
      await api(first, 'POST', `/v1/families/${a.familyId}/geofences`, {
        token: a.owner.accessToken,
        body: { name: 'Home', kind: 'circle', center: HOME, radius: 100 },
      });
      const t0 = Date.now() - 100_000;
      await reportAll(a.watchSocket, [
        fix({ ts: t0, lat: HOME.lat + dLat(500), lng: HOME.lng }),
        fix({ ts: t0 + 1000, ...HOME }),
      ]);
      expect((await geofenceEvents(a.parentSocket, a.familyId)).map((e) => e.transition)).toEqual(['enter']);
      await first.close();

      const second = await startHub({ databaseUrl });
      try {
        const parent = await connect(second, a.owner.accessToken);
        const watch = await connect(second, a.watch.deviceToken);
        const exit = waitFor(parent, 'geofence');
        await request(watch, 'location:report', fix({ ts: t0 + 2000, lat: HOME.lat + dLat(500), lng: HOME.lng }));
        expect(await exit).toMatchObject({ transition: 'exit', deviceId: a.deviceId });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
