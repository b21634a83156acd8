// FixWriter (group commit) over the real FixRepository on SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { FixWriter } from '../../src/store/fix-writer.js';
import type { FixRepository, FixRow } from '../../src/store/fixes.js';
import { openStore, type Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
const ALL_TIME = [0, Number.MAX_SAFE_INTEGER] as const;

function fix(deviceId: string, ts: number): FixRow {
  return {
    device_id: deviceId,
    ts,
    lat: 48.8566,
    lng: 2.3522,
    acc: 8,
    alt: null,
    speed: null,
    heading: null,
    battery: 70,
    source: 'gps',
    cell: '8a1fb46622dffff',
    received_at: ts,
  };
}

/** `n` fixes of one watch, one second apart from `start`. */
const fixes = (deviceId: string, n: number, start = T0): FixRow[] =>
  Array.from({ length: n }, (_, i) => fix(deviceId, start + i * 1000));

/** Fails the test if `p` has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe.each(STORE_KINDS)('fix writer (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  const stored = (deviceId: string): Promise<FixRow[]> => store.fixes.history(deviceId, ...ALL_TIME, undefined, 100_000);

  it('50 concurrent writes all resolve, all rows are stored, in far fewer batches than writes', async () => {
    const writer = new FixWriter(store.fixes, { maxRows: 500, maxDelayMs: 5 });
    const devices = Array.from({ length: 50 }, () => randomUUID());
    await within(Promise.all(devices.map((d) => writer.write(fixes(d, 3)))), 5000, 'the 50 writes');

    expect(writer.stats.rows).toBe(150);
    expect(writer.stats.batches).toBeGreaterThanOrEqual(1);
    expect(writer.stats.batches).toBeLessThan(50);
    expect(writer.stats.batches).toBeLessThanOrEqual(5);
    for (const d of devices) expect(await stored(d)).toEqual(fixes(d, 3));
  });

  it('groups writes that arrive while a batch is in flight into the next batch', async () => {
    const writer = new FixWriter(store.fixes, { maxRows: 5, maxDelayMs: 5 });
    const dev = randomUUID();
    // Each write fills a batch by itself; the first starts at once, the other 19 wait for it.
    const writes = Array.from({ length: 20 }, (_, i) => writer.write(fixes(dev, 5, T0 + i * 10_000)));
    await within(Promise.all(writes), 5000, 'the 20 writes');
    expect(writer.stats.rows).toBe(100);
    expect(writer.stats.batches).toBeLessThan(20);
    expect(await stored(dev)).toHaveLength(100);
  });

  it('a write resolves only once its rows are readable', async () => {
    const writer = new FixWriter(store.fixes, { maxRows: 1000, maxDelayMs: 5 });
    for (let i = 0; i < 5; i++) {
      const dev = randomUUID();
      const rows = fixes(dev, 4);
      await writer.write(rows);
      expect(await stored(dev)).toEqual(rows);
    }
    // Likewise for writes that share a batch.
    const devs = [randomUUID(), randomUUID(), randomUUID()];
    await Promise.all(
      devs.map(async (d) => {
        await writer.write(fixes(d, 2));
        expect(await stored(d)).toEqual(fixes(d, 2));
      }),
    );
  });

  it('flushes by size without waiting for the timer', async () => {
    const writer = new FixWriter(store.fixes, { maxRows: 10, maxDelayMs: 10_000 });
    const dev = randomUUID();
    await within(writer.write(fixes(dev, 10)), 5000, 'a full-batch write');
    expect(await stored(dev)).toHaveLength(10);
    expect(writer.stats).toEqual({ rows: 10, batches: 1 });

    // Several small writes adding up to maxRows also flush at once.
    const dev2 = randomUUID();
    await within(
      Promise.all([
        writer.write(fixes(dev2, 4)),
        writer.write(fixes(dev2, 3, T0 + 10_000)),
        writer.write(fixes(dev2, 3, T0 + 20_000)),
      ]),
      5000,
      'writes adding up to maxRows',
    );
    expect(await stored(dev2)).toHaveLength(10);
    expect(writer.stats.rows).toBe(20);
  });

  it('flushes a small batch when the timer fires', async () => {
    const writer = new FixWriter(store.fixes, { maxRows: 10_000, maxDelayMs: 5 });
    const dev = randomUUID();
    await within(writer.write(fixes(dev, 1)), 5000, 'a small write');
    expect(await stored(dev)).toHaveLength(1);
    expect(writer.stats).toEqual({ rows: 1, batches: 1 });
  });

  it('a failing batch rejects every waiter of that batch; the writer keeps working', async () => {
    let calls = 0;
    const failOnce = {
      async insertMany(rows: readonly FixRow[]): Promise<void> {
        calls++;
        if (calls === 1) throw new Error('disk on fire');
        await store.fixes.insertMany(rows);
      },
    };
    const writer = new FixWriter(failOnce as unknown as FixRepository, { maxRows: 1000, maxDelayMs: 5 });
    const a = randomUUID();
    const b = randomUUID();
    const results = await within(
      Promise.allSettled([writer.write(fixes(a, 2)), writer.write(fixes(b, 2))]),
      5000,
      'the failing batch',
    );
    expect(calls).toBe(1);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as Error).message).toBe('disk on fire');
    }
    expect(await stored(a)).toEqual([]);
    expect(writer.stats).toEqual({ rows: 0, batches: 0 });

    // The next batch goes through, including a retry of the failed rows.
    const c = randomUUID();
    await within(Promise.all([writer.write(fixes(a, 2)), writer.write(fixes(c, 3))]), 5000, 'the batch after the failure');
    expect(calls).toBe(2);
    expect(await stored(a)).toEqual(fixes(a, 2));
    expect(await stored(c)).toEqual(fixes(c, 3));
    expect(writer.stats).toEqual({ rows: 5, batches: 1 });
  });

  it('a failure only rejects its own batch, not the next one', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const failFirst = {
      async insertMany(rows: readonly FixRow[]): Promise<void> {
        calls++;
        if (calls === 1) {
          await gate;
          throw new Error('first batch fails');
        }
        await store.fixes.insertMany(rows);
      },
    };
    const writer = new FixWriter(failFirst as unknown as FixRepository, { maxRows: 2, maxDelayMs: 5 });
    const a = randomUUID();
    const b = randomUUID();
    const first = writer.write(fixes(a, 2)); // starts batch 1 at once (size)
    const second = writer.write(fixes(b, 2)); // waits for batch 2
    release();
    const results = await within(Promise.allSettled([first, second]), 5000, 'both batches');
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(await stored(a)).toEqual([]);
    expect(await stored(b)).toEqual(fixes(b, 2));
  });

  it('flush() resolves at once when nothing waits, and commits what waits otherwise', async () => {
    const writer = new FixWriter(store.fixes, { maxRows: 10_000, maxDelayMs: 10_000 });
    await within(writer.flush(), 5000, 'an idle flush');
    expect(writer.stats).toEqual({ rows: 0, batches: 0 });

    const dev = randomUUID();
    const pending = writer.write(fixes(dev, 3)); // below maxRows, timer 10 s away
    await within(writer.flush(), 5000, 'a flush with waiting rows');
    await within(pending, 1000, 'the flushed write');
    expect(await stored(dev)).toHaveLength(3);
    expect(writer.stats).toEqual({ rows: 3, batches: 1 });
    await within(writer.flush(), 5000, 'a second idle flush');
  });

  it('an empty write resolves without a batch', async () => {
    const writer = new FixWriter(store.fixes, { maxRows: 10, maxDelayMs: 10_000 });
    await within(writer.write([]), 1000, 'an empty write');
    expect(writer.stats).toEqual({ rows: 0, batches: 0 });
  });
});
