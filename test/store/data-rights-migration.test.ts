// Migration 0010 on a database that already has bound watches: each binding that holds becomes a
// recorded period (so its family's export and history deletion know it), on both databases.
import { Migrator } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { migrateToLatest, migrationsFor } from '../../src/store/migrations.js';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;

describe.each(STORE_KINDS)('migration 0010 (%s)', (kind) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('records the bindings that hold as periods, and none for unbound watches', async () => {
    const fresh = await freshDatabaseUrl(kind);
    cleanup.push(fresh.drop);
    const { db, dialect } = openDatabase(fresh.url);
    cleanup.push(() => db.destroy());
    const before = Object.fromEntries(Object.entries(migrationsFor(dialect)).filter(([name]) => name < '0010'));
    const r = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
    expect(r.error).toBeUndefined();
    await db.insertInto('families').values({ id: 'fa', name: 'A', created_at: T0 }).execute();
    const device = (id: string, familyId: string | null, boundAt: number | null) => ({
      id,
      imei: `imei-${id}`,
      model: 'KW',
      token_version: 0,
      binding_code_hash: null,
      binding_code_expires_at: null,
      family_id: familyId,
      child_name: familyId ? 'Mia' : null,
      bound_at: boundAt,
      perm_location: 0,
      perm_camera: 0,
      perm_microphone: 0,
      perm_contacts: 0,
      perm_health: 0,
      location_since: null,
      created_at: T0,
    });
    await db
      .insertInto('devices')
      .values([device('bound', 'fa', T0 + 5), device('free', null, null)])
      .execute();

    await migrateToLatest(db, dialect);
    const rows = await db.selectFrom('device_bindings').selectAll().execute();
    expect(rows.map((b) => ({ ...b, bound_at: Number(b.bound_at) }))).toEqual([
      { device_id: 'bound', family_id: 'fa', child_name: 'Mia', bound_at: T0 + 5, unbound_at: null },
    ]);
  });
});
