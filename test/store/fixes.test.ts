// FixRepository (bulk insert with dedupe, history paging, latest) against SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { FixRow } from '../../src/store/fixes.js';
import { openStore, type Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;

function fix(deviceId: string, ts: number, over: Partial<FixRow> = {}): FixRow {
  return {
    device_id: deviceId,
    ts,
    lat: 52.520008 + (ts - T0) * 1e-9,
    lng: 13.404954,
    acc: 12.5,
    alt: null,
    speed: null,
    heading: null,
    battery: null,
    source: 'gps',
    cell: '8a1f1d48a2affff',
    received_at: ts + 250,
    ...over,
  };
}

describe.each(STORE_KINDS)('fixes (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  it('stores rows with numbers as JS numbers and nullable columns as null', async () => {
    const dev = randomUUID();
    const full = fix(dev, T0, { alt: 34.25, speed: 1.5, heading: 270.75, battery: 87, source: 'wifi' });
    const bare = fix(dev, T0 + 1000);
    await store.fixes.insertMany([full, bare]);

    const rows = await store.fixes.history(dev, T0, T0 + 1000, undefined, 10);
    expect(rows).toEqual([full, bare]);
    const [a, b] = rows;
    for (const key of ['ts', 'lat', 'lng', 'acc', 'received_at', 'alt', 'speed', 'heading', 'battery'] as const) {
      expect(typeof a?.[key], key).toBe('number');
    }
    for (const key of ['ts', 'lat', 'lng', 'acc', 'received_at'] as const) {
      expect(typeof b?.[key], key).toBe('number');
    }
    expect(b?.alt).toBeNull();
    expect(b?.speed).toBeNull();
    expect(b?.heading).toBeNull();
    expect(b?.battery).toBeNull();
    // Doubles keep their fraction.
    expect(a?.lat).toBe(full.lat);
    expect(a?.acc).toBe(12.5);
  });

  it('an empty insert is a no-op', async () => {
    await expect(store.fixes.insertMany([])).resolves.toBeUndefined();
  });

  it('a re-inserted (device, ts) keeps the first row and does not throw', async () => {
    const dev = randomUUID();
    const first = fix(dev, T0, { lat: 1, lng: 2, battery: 50 });
    await store.fixes.insertMany([first]);
    const again = fix(dev, T0, { lat: 10, lng: 20, battery: 99 });
    await expect(store.fixes.insertMany([again, fix(dev, T0 + 1)])).resolves.toBeUndefined();
    // Duplicates inside one call are fine too.
    await expect(store.fixes.insertMany([fix(dev, T0 + 2, { lat: 3 }), fix(dev, T0 + 2, { lat: 4 })])).resolves.toBeUndefined();

    const rows = await store.fixes.history(dev, T0, T0 + 10, undefined, 10);
    expect(rows.map((r) => r.ts)).toEqual([T0, T0 + 1, T0 + 2]);
    expect(rows[0]).toEqual(first);
    expect(rows[2]?.lat).toBe(3);

    // The same ts on another watch is a different fix.
    const other = randomUUID();
    await store.fixes.insertMany([fix(other, T0, { lat: 7 })]);
    expect((await store.fixes.history(other, T0, T0, undefined, 10)).map((r) => r.lat)).toEqual([7]);
    expect((await store.fixes.history(dev, T0, T0, undefined, 10)).map((r) => r.lat)).toEqual([1]);
  });

  it('stores 2,500 rows in one call (several chunks)', async () => {
    const dev = randomUUID();
    const rows = Array.from({ length: 2500 }, (_, i) => fix(dev, T0 + i * 1000));
    await store.fixes.insertMany(rows);
    const back = await store.fixes.history(dev, T0, T0 + 10_000_000, undefined, 10_000);
    expect(back).toHaveLength(2500);
    expect(back).toEqual(rows);
  });

  it('history: ordered by ts, inclusive bounds, afterTs exclusive, limited, one watch only', async () => {
    const dev = randomUUID();
    const other = randomUUID();
    // Inserted out of order.
    const tss = [50, 10, 40, 20, 30, 0, 60].map((d) => T0 + d);
    await store.fixes.insertMany(tss.map((ts) => fix(dev, ts)));
    await store.fixes.insertMany([fix(other, T0 + 25), fix(other, T0 + 30)]);

    const ts = async (from: number, to: number, after: number | undefined, limit: number): Promise<number[]> =>
      (await store.fixes.history(dev, T0 + from, T0 + to, after === undefined ? undefined : T0 + after, limit)).map(
        (r) => r.ts - T0,
      );

    expect(await ts(0, 60, undefined, 100)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(await ts(10, 50, undefined, 100)).toEqual([10, 20, 30, 40, 50]);
    expect(await ts(11, 49, undefined, 100)).toEqual([20, 30, 40]);
    expect(await ts(10, 50, 20, 100)).toEqual([30, 40, 50]);
    expect(await ts(10, 50, 5, 100)).toEqual([10, 20, 30, 40, 50]);
    expect(await ts(0, 60, undefined, 3)).toEqual([0, 10, 20]);
    // Paging with afterTs walks the range without gaps or repeats.
    expect(await ts(0, 60, 20, 3)).toEqual([30, 40, 50]);
    expect(await ts(0, 60, 50, 3)).toEqual([60]);
    expect(await ts(0, 60, 60, 3)).toEqual([]);
    expect(await ts(61, 100, undefined, 100)).toEqual([]);
    expect((await store.fixes.history(dev, T0, T0 + 60, undefined, 100)).every((r) => r.device_id === dev)).toBe(true);
    expect((await store.fixes.history(other, T0, T0 + 60, undefined, 100)).map((r) => r.ts - T0)).toEqual([25, 30]);
  });

  it('latest() is the fix with the greatest ts, per watch', async () => {
    const dev = randomUUID();
    const other = randomUUID();
    expect(await store.fixes.latest(dev)).toBeUndefined();
    await store.fixes.insertMany([fix(dev, T0 + 300), fix(dev, T0 + 900, { lat: 9 }), fix(dev, T0 + 100)]);
    await store.fixes.insertMany([fix(other, T0 + 5000)]);
    // An older fix arriving late does not become the latest.
    await store.fixes.insertMany([fix(dev, T0 + 500)]);
    const latest = await store.fixes.latest(dev);
    expect(latest?.ts).toBe(T0 + 900);
    expect(latest?.lat).toBe(9);
    expect(latest?.device_id).toBe(dev);
  });
});
