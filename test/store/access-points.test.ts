// Learned access points in the store (persisted, family-scoped, exported, deleted with the
// family, aged out), fix observations deleted with their fix, sign-of-life fixes, and the resolver
// answering warm fixes with no database round trip — against SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { distanceMeters } from '../../src/geo/geometry.js';
import { CellTowerIndex } from '../../src/positioning/cell-tower-index.js';
import { LearnedAccessPoints } from '../../src/positioning/learned-access-points.js';
import { PositioningMetrics } from '../../src/positioning/metrics.js';
import { type Observations, cellsField, serialiseObservations, wifiField } from '../../src/positioning/observations.js';
import { PositionResolver } from '../../src/positioning/resolver.js';
import { moveMeters } from '../../src/positioning/weighted-centroid.js';
import type { AccessPointRow } from '../../src/store/access-points.js';
import type { CellTowerKey, CellTowerRow } from '../../src/store/cell-towers.js';
import type { FixRow } from '../../src/store/fixes.js';
import type { Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;
const SCHOOL = { lat: 48.137154, lng: 11.576124 };
const HOME = moveMeters(SCHOOL, 2400, -1800);
const SCHOOL_APS = ['0a:5c:00:00:00:01', '0a:5c:00:00:00:02', '0a:5c:00:00:00:03'];
const HOME_APS = ['0a:40:00:00:00:01', '0a:40:00:00:00:02'];

const wifi = (macs: readonly string[], rssi = -62) => wifiField.parse(macs.map((mac) => ({ mac, rssi, ssid: 'Schule' })));

/** A school week of GPS fixes with Wi-Fi: mornings at school, evenings at home. */
async function learnWeek(learner: LearnedAccessPoints, familyId: string, start: number) {
  for (let day = 0; day < 5; day++) {
    for (let i = 0; i < 6; i++) {
      const ts = start + day * DAY + i * 600_000;
      await learner.observe(familyId, { ...moveMeters(SCHOOL, (i - 3) * 8, (i % 3) * 6), acc: 12, ts }, wifi(SCHOOL_APS));
      await learner.observe(familyId, { ...moveMeters(HOME, i * 3, 0), acc: 8, ts: ts + DAY / 2 }, wifi(HOME_APS, -50));
    }
  }
}

describe.each(STORE_KINDS)('learned access points (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));
  let now = T0;
  const clock = () => now;
  const owners: Record<string, string> = {};

  async function family(): Promise<string> {
    const owner = randomUUID();
    const fid = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: 'Parent', createdAt: T0 });
    await store.families.create(fid, 'Family', owner, T0);
    owners[fid] = owner;
    return fid;
  }

  let famA: string;
  let famB: string;
  beforeAll(async () => {
    famA = await family();
    famB = await family();
  });

  it('learns home and school from GPS fixes, persists the estimates and reloads them as they were', async () => {
    const learner = new LearnedAccessPoints(store.accessPoints, { clock });
    await learnWeek(learner, famA, T0);
    now = T0 + 5 * DAY;
    await learner.flush();

    const atSchool = await learner.locate(famA, wifi(SCHOOL_APS.slice(0, 2)));
    expect(distanceMeters(atSchool!, SCHOOL)).toBeLessThan(30);
    expect(atSchool!.acc).toBeLessThan(80);
    const atHome = await learner.locate(famA, wifi(HOME_APS));
    expect(distanceMeters(atHome!, HOME)).toBeLessThan(30);

    const reloaded = new LearnedAccessPoints(store.accessPoints, { clock });
    const held = await learner.estimates(famA);
    const loaded = await reloaded.estimates(famA);
    expect(loaded.size).toBe(5);
    for (const [mac, e] of held) {
      const l = loaded.get(mac)!;
      for (const k of ['lat', 'lng', 'weight', 'spread2', 'count'] as const) expect(l[k]).toBeCloseTo(e[k], 9);
      expect({ rejects: l.rejects, firstSeen: l.firstSeen, lastSeen: l.lastSeen }).toEqual({
        rejects: e.rejects,
        firstSeen: e.firstSeen,
        lastSeen: e.lastSeen,
      });
    }
    expect(await reloaded.locate(famA, wifi(SCHOOL_APS.slice(0, 2)))).toEqual(atSchool);
  });

  it('never locates one family with another family’s access points', async () => {
    const learner = new LearnedAccessPoints(store.accessPoints, { clock });
    expect(await learner.locate(famB, wifi(SCHOOL_APS))).toBeUndefined();
    expect(await store.accessPoints.loadFamily(famB, 100)).toEqual([]);
    expect((await store.accessPoints.loadFamily(famA, 100)).length).toBe(5);
  });

  it('exports a family’s access points a page at a time', async () => {
    const page1 = await store.accessPoints.forFamily(famA, undefined, 3);
    const page2 = await store.accessPoints.forFamily(famA, page1.at(-1)!.mac, 3);
    expect([...page1, ...page2].map((r) => r.mac)).toEqual([...HOME_APS, ...SCHOOL_APS].sort());
    const row: AccessPointRow = page1[0]!;
    for (const k of ['lat', 'lng', 'weight', 'spread2', 'count', 'rejects', 'first_seen', 'last_seen', 'updated_at'] as const) {
      expect(typeof row[k], k).toBe('number');
    }
  });

  it('goes with the family: deleted by the cascade, and a node holding unwritten estimates drops them', async () => {
    const fid = await family();
    const learner = new LearnedAccessPoints(store.accessPoints, { clock });
    await learnWeek(learner, fid, T0);
    await learner.flush();
    expect((await store.accessPoints.loadFamily(fid, 100)).length).toBe(5);
    // More learned in memory, then the family is erased (the owner deletes their account).
    await learner.observe(fid, { ...SCHOOL, acc: 10, ts: T0 + 6 * DAY }, wifi(SCHOOL_APS));
    await store.erasure.erase(owners[fid]!, () => ({ hash: 'x', expiresAt: T0 }));
    expect(await store.accessPoints.loadFamily(fid, 100)).toEqual([]);
    await expect(learner.flush()).resolves.toBeUndefined();
    expect(await store.accessPoints.loadFamily(fid, 100)).toEqual([]);
    expect(await learner.locate(fid, wifi(SCHOOL_APS))).toBeUndefined();
    // The other families keep theirs.
    expect((await store.accessPoints.loadFamily(famA, 100)).length).toBe(5);
  });

  it('loads a cold family once for concurrent lookups, bounds its book, and refreshes it in the background', async () => {
    const loads: string[] = [];
    const counted = {
      loadFamily: (fid: string, limit: number) => (loads.push(fid), store.accessPoints.loadFamily(fid, limit)),
      upsertMany: (rows: readonly AccessPointRow[]) => store.accessPoints.upsertMany(rows),
    };
    const learner = new LearnedAccessPoints(counted, { clock, maxPerFamily: 4, reloadAfterMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 20 }, () => learner.locate(famA, wifi(SCHOOL_APS))));
    expect(loads).toEqual([famA]);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    // At most maxPerFamily held: a new AP lets go of the one with least evidence.
    await learner.observe(famA, { ...SCHOOL, acc: 10, ts: now }, wifi(['0a:5c:00:00:00:09']));
    const held = await learner.estimates(famA);
    expect(held.size).toBe(4);
    expect(held.has('0a:5c:00:00:00:09')).toBe(true);
    // Stale: answered from memory at once, reloaded behind, and what this node learned survives the reload.
    now += 61_000;
    expect(learner.locateWarm(famA, wifi(SCHOOL_APS))).not.toBe('cold');
    await vi.waitFor(async () => expect(await learner.estimates(famA)).not.toBe(held));
    expect(loads).toEqual([famA, famA]);
    expect((await learner.estimates(famA)).has('0a:5c:00:00:00:09')).toBe(true);
  });

  it('ages out: access points not heard for long are purged in batches', async () => {
    const fid = await family();
    const learner = new LearnedAccessPoints(store.accessPoints, { clock });
    await learner.observe(fid, { ...HOME, acc: 10, ts: T0 - 200 * DAY }, wifi(['0a:77:00:00:00:01', '0a:77:00:00:00:02']));
    await learner.flush();
    let removed = 0;
    for (let n = -1; n !== 0; removed += n) n = await store.accessPoints.purgeStale(T0 - 100 * DAY, 1);
    expect(removed).toBe(2);
    expect(await store.accessPoints.loadFamily(fid, 100)).toEqual([]);
    expect((await store.accessPoints.loadFamily(famA, 100)).length).toBe(5);
  });

  it('keeps a fix’s observations beside it and deletes them with it; a sign of life has no position', async () => {
    const dev = randomUUID();
    const base: FixRow = {
      device_id: dev,
      ts: T0,
      lat: 52.5,
      lng: 13.4,
      acc: 30,
      alt: null,
      speed: null,
      heading: null,
      battery: 80,
      source: 'wifi',
      cell: '8a1f1d48a2affff',
      received_at: T0,
    };
    const signOfLife: FixRow = { ...base, ts: T0 + 1, lat: null, lng: null, acc: null, cell: null, source: 'cell' };
    await store.fixes.insertMany([base, signOfLife]);
    const obs = serialiseObservations({
      cells: cellsField.parse([{ mcc: 262, mnc: 1, lac: 1, cid: 2 }]),
      wifi: wifi(SCHOOL_APS),
    });
    await store.fixObservations.insertMany([
      { device_id: dev, ts: T0, ...obs },
      { device_id: dev, ts: T0 + 1, ...obs },
      { device_id: dev, ts: T0 + 1, cells: null, wifi: null },
    ]);
    const stored = await store.fixObservations.between(dev, T0, T0 + 1, 10);
    expect(stored).toEqual([
      { device_id: dev, ts: T0, ...obs },
      { device_id: dev, ts: T0 + 1, ...obs },
    ]);
    expect(stored[0]!.wifi).not.toContain('Schule');
    // A sign of life is stored (the export has it) but is no position: not in the track, not the newest.
    const all = [];
    for await (const f of store.privacy.fixes(dev, 0)) all.push(f);
    expect(all[1]).toMatchObject({ ts: T0 + 1, lat: null, lng: null, acc: null, cell: null });
    expect((await store.fixes.history(dev, T0, T0 + 1, undefined, 10)).map((f) => f.ts)).toEqual([T0]);
    expect((await store.fixes.latest(dev))?.ts).toBe(T0);
    // Half a position is refused by the database.
    await expect(store.fixes.insertMany([{ ...base, ts: T0 + 2, lat: null }])).rejects.toThrow();
    // Observations of a fix that is not stored are refused too.
    await expect(store.fixObservations.insertMany([{ device_id: dev, ts: T0 + 99, ...obs }])).rejects.toThrow();

    await store.fixes.purgeOlderThan(T0 + 10, 100);
    expect(await store.fixObservations.between(dev, 0, T0 + 10, 10)).toEqual([]);
  });

  it('resolves warm fixes with no database round trip: learned Wi-Fi first, then cells, else a sign of life', async () => {
    await store.cellTowers.upsert([tower(262, 2, 40100, 26843545, moveMeters(SCHOOL, 900, 400))]);
    let queries = 0;
    const countedAps = {
      loadFamily: (fid: string, limit: number) => (queries++, store.accessPoints.loadFamily(fid, limit)),
      upsertMany: (rows: readonly AccessPointRow[]) => (queries++, store.accessPoints.upsertMany(rows)),
    };
    const countedTowers = { find: (keys: readonly CellTowerKey[]) => (queries++, store.cellTowers.find(keys)) };
    const metrics = new PositioningMetrics(new Registry());
    const resolver = new PositionResolver({
      accessPoints: new LearnedAccessPoints(countedAps, { clock }),
      cellTowers: new CellTowerIndex(countedTowers, { clock }),
      metrics,
      clock,
    });
    const lte = { mcc: 262, mnc: 2, lac: 40100, cid: 26843545, rssi: -80, radio: 'lte' };
    const fixes: Observations[] = [
      { wifi: wifi(SCHOOL_APS), cells: cellsField.parse([lte]) },
      { cells: cellsField.parse([lte]) },
      { wifi: wifi(['0a:99:00:00:00:01', '0a:99:00:00:00:02']), cells: cellsField.parse([{ ...lte, cid: 1 }]) },
    ];
    // Cold: the family's APs once, the cells once.
    const first = await Promise.all(fixes.map((f) => resolver.resolve(famA, f)));
    const cold = queries;
    expect(cold).toBeLessThanOrEqual(4);
    expect(first[0]).toMatchObject({ source: 'wifi', resolver: 'learned_wifi' });
    expect(distanceMeters(first[0]!, SCHOOL)).toBeLessThan(30);
    expect(first[1]).toMatchObject({ source: 'cell', resolver: 'cell_table', acc: 1200 });
    expect(first[2]).toBeUndefined();

    for (let i = 0; i < 300; i++) {
      const got = await resolver.resolve(famA, fixes[i % 3]!);
      expect(got).toEqual(first[i % 3]);
    }
    expect(queries).toBe(cold);
    const resolved = Object.fromEntries((await metrics.resolutions.get()).values.map((v) => [v.labels.resolver, v.value]));
    expect(resolved).toEqual({ learned_wifi: 101, cell_table: 101, none: 101 });
  });
});

function tower(mcc: number, net: number, area: number, cell: number, at: { lat: number; lng: number }): CellTowerRow {
  return {
    mcc,
    net,
    area,
    cell,
    radio: 'lte',
    lat: at.lat,
    lng: at.lng,
    range_m: 1200,
    samples: 40,
    changeable: 1,
    created_at: T0,
    updated_at: T0,
    average_signal: null,
    imported_at: T0,
  };
}
