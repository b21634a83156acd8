// Area subscriptions: counts without identities for anyone, positions for ops tokens only.
import { cellToParent, gridDisk, latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, connect, received, registerUser, request, startHub, waitFor } from '../helpers/hub.js';
import { fix, sharingFamily } from '../helpers/location.js';

const SPOT = { lat: 52.52, lng: 13.405 };

describe('area subscriptions', () => {
  let t: TestHub;
  beforeAll(async () => {
    // Two watches make a count here (the default threshold, 3, is tested below).
    t = await startHub({ env: { HUB_AREA_STATS_INTERVAL_S: '1', HUB_AREA_MIN_COUNT: '2' } });
  });
  afterAll(() => t.close());

  it('counts active watches per cell at any resolution and never names one', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    await request(a.watchSocket, 'location:report', fix(SPOT));
    await request(b.watchSocket, 'location:report', fix({ lat: SPOT.lat + 0.0005, lng: SPOT.lng }));
    const stranger = await registerUser(t);
    const s = await connect(t, stranger.accessToken);
    const coarse = cellToParent(latLngToCell(SPOT.lat, SPOT.lng, 9), 5);
    const fine = latLngToCell(SPOT.lat, SPOT.lng, 7);
    const elsewhere = latLngToCell(-33.86, 151.2, 7);
    const sub = await request(s, 'area:subscribe', { cells: [coarse, fine, elsewhere], mode: 'stats' });
    expect(sub).toEqual({ ok: true, cells: [coarse, fine, elsewhere] });
    const stats = await waitFor(s, 'area:stats', (e) => e.cells[coarse] === 2, { timeoutMs: 5000 });
    expect(stats.cells).toEqual({ [coarse]: 2, [fine]: 2, [elsewhere]: 0 });
    const wire = JSON.stringify(stats);
    for (const secret of [a.deviceId, b.deviceId, a.familyId, b.familyId]) expect(wire).not.toContain(secret);

    await request(s, 'area:unsubscribe', { cells: [coarse, fine] });
    const after = await waitFor(s, 'area:stats', (e) => !(coarse in e.cells), { timeoutMs: 5000 });
    expect(after.cells).toEqual({ [elsewhere]: 0 });
    s.disconnect();
  });

  it('refuses positions without the ops scope, bad cells and too many cells', async () => {
    const u = await registerUser(t);
    const s = await connect(t, u.accessToken);
    const cell = latLngToCell(SPOT.lat, SPOT.lng, 7);
    expect((await request(s, 'area:subscribe', { cells: [cell], mode: 'positions' })).error.code).toBe('FORBIDDEN');
    expect((await request(s, 'area:subscribe', { cells: ['8928308280fffff0'], mode: 'stats' })).error.code).toBe('BAD_REQUEST');
    expect((await request(s, 'area:subscribe', { cells: ['not-a-cell'], mode: 'stats' })).error.code).toBe('BAD_REQUEST');
    const many = Array.from({ length: 501 }, () => cell);
    expect((await request(s, 'area:subscribe', { cells: many, mode: 'stats' })).error.code).toBe('BAD_REQUEST');
    // House-sized cells would tell whether a child is home: ops only.
    const house = latLngToCell(SPOT.lat, SPOT.lng, 12);
    expect((await request(s, 'area:subscribe', { cells: [house], mode: 'stats' })).error.code).toBe('FORBIDDEN');
    // Repeats count once against the 500-cell bound.
    const ring = gridDisk(cell, 9).slice(0, 300);
    expect((await request(s, 'area:subscribe', { cells: ring, mode: 'stats' })).ok).toBe(true);
    expect((await request(s, 'area:subscribe', { cells: ring, mode: 'stats' })).ok).toBe(true);
    s.disconnect();
  });

  it('streams positions in subscribed cells to ops tokens', async () => {
    const a = await sharingFamily(t);
    const ops = await registerUser(t);
    const token = t.hub.services.tokens.signUser(ops.id, 0, ['ops']);
    const s = await connect(t, token);
    const cell = cellToParent(latLngToCell(SPOT.lat, SPOT.lng, 9), 6);
    expect((await request(s, 'area:subscribe', { cells: [cell], mode: 'positions' })).ok).toBe(true);
    const got = waitFor(s, 'area:position');
    await request(a.watchSocket, 'location:report', fix(SPOT));
    expect(await got).toMatchObject({ deviceId: a.deviceId, lat: SPOT.lat, lng: SPOT.lng });
    s.disconnect();
  });
});

describe('area statistics and k-anonymity (HUB_AREA_MIN_COUNT, default 3)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_AREA_STATS_INTERVAL_S: '1' } });
  });
  afterAll(() => t.close());

  it('never reports a count below the threshold: one or two watches in a cell show as none', async () => {
    expect(t.config.location.areaMinCount).toBe(3);
    const spot = { lat: 41.39, lng: 2.17 };
    const stranger = await registerUser(t);
    const s = await connect(t, stranger.accessToken);
    const cell = latLngToCell(spot.lat, spot.lng, 7);
    const coarse = cellToParent(cell, 4);
    await request(s, 'area:subscribe', { cells: [cell, coarse], mode: 'stats' });
    const watches = [];
    for (let i = 0; i < 3; i++) watches.push(await sharingFamily(t));
    // One, then two watches: still nothing to see, at any resolution.
    for (const [i, w] of watches.slice(0, 2).entries()) {
      expect((await request(w.watchSocket, 'location:report', fix({ lat: spot.lat + i / 10_000, lng: spot.lng }))).accepted).toBe(
        1,
      );
      // Two rounds of stats after the report, so one was counted with it.
      await waitFor(s, 'area:stats');
      const stats = await waitFor(s, 'area:stats');
      expect(stats.cells).toEqual({ [cell]: 0, [coarse]: 0 });
    }
    // The third makes the count.
    await request(watches[2]!.watchSocket, 'location:report', fix({ lat: spot.lat + 0.0003, lng: spot.lng }));
    const three = await waitFor(s, 'area:stats', (e) => e.cells[cell] === 3, { timeoutMs: 5000 });
    expect(three.cells).toEqual({ [cell]: 3, [coarse]: 3 });
    // Every count ever sent was 0 or at least 3.
    const counts = received(s, 'area:stats').flatMap((e: { cells: Record<string, number> }) => Object.values(e.cells));
    expect(counts.every((c) => c === 0 || c >= 3)).toBe(true);
    s.disconnect();
  });
});
