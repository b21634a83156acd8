// Migration 0005 on a database that already holds fixes: they survive (SQLite rebuilds the
// table), positions become optional all together, and the new tables work — on both databases.
import { Migrator } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { migrateToLatest, migrationsFor } from '../../src/store/migrations.js';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';

describe.each(STORE_KINDS)('migration 0005 (%s)', (kind) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('keeps the fixes already stored and lets new ones be signs of life', async () => {
    const fresh = await freshDatabaseUrl(kind);
    cleanup.push(fresh.drop);
    const { db, dialect } = openDatabase(fresh.url);
    cleanup.push(() => db.destroy());
    const before = Object.fromEntries(Object.entries(migrationsFor(dialect)).filter(([name]) => name < '0005'));
    const r = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
    expect(r.error).toBeUndefined();

    const old = {
      device_id: 'd1',
      ts: 1_700_000_000_000,
      lat: 52.520008,
      lng: 13.404954,
      acc: 12.5,
      alt: 34.25,
      speed: null,
      heading: 270.5,
      battery: 87,
      source: 'gps',
      cell: '8a1f1d48a2affff',
      received_at: 1_700_000_000_250,
    };
    await db
      .insertInto('fixes')
      .values([old, { ...old, ts: old.ts + 1000, lat: 52.53 }])
      .execute();

    await migrateToLatest(db, dialect);
    expect(await db.selectFrom('fixes').selectAll().orderBy('ts').execute()).toEqual([
      old,
      { ...old, ts: old.ts + 1000, lat: 52.53 },
    ]);
    // The primary key still holds after the rebuild.
    await expect(db.insertInto('fixes').values(old).execute()).rejects.toThrow();
    const none = null as unknown as number;
    await db
      .insertInto('fixes')
      .values({ ...old, ts: old.ts + 2000, lat: none, lng: none, acc: none, cell: null as unknown as string, source: 'cell' })
      .execute();
    await expect(
      db
        .insertInto('fixes')
        .values({ ...old, ts: old.ts + 3000, acc: none })
        .execute(),
    ).rejects.toThrow();
    await db.insertInto('fix_observations').values({ device_id: 'd1', ts: old.ts, cells: '[]', wifi: null }).execute();
    await db.deleteFrom('fixes').where('ts', '=', old.ts).execute();
    expect(await db.selectFrom('fix_observations').selectAll().execute()).toEqual([]);
  });
});
