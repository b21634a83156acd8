// Migration 0005_positioning. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectName } from '../db.js';

export const positioningMigration = (dialect: DialectName): Migration => ({
  // Kysely runs SQLite migrations outside a transaction, and this one rebuilds fixes: it runs in
  // one, so a crash midway leaves the database as it was.
  up: (db: Kysely<any>) =>
    dialect === 'sqlite' ? db.transaction().execute((tx) => positioning(tx, dialect)) : positioning(db, dialect),
});

/** 0005: cell towers, learned access points, fix observations, sign-of-life fixes. */
async function positioning(db: Kysely<any>, dialect: DialectName): Promise<void> {
  // The local cell-tower table (OpenCellID rows). The key starts with mcc/net/area/cell so a
  // watch that does not say its radio is still found through the primary key's prefix.
  await db.schema
    .createTable('cell_towers')
    .addColumn('mcc', 'integer', (c) => c.notNull())
    .addColumn('net', 'integer', (c) => c.notNull())
    .addColumn('area', 'integer', (c) => c.notNull())
    // NR cell ids have 36 bits.
    .addColumn('cell', 'bigint', (c) => c.notNull())
    .addColumn('radio', 'text', (c) => c.notNull())
    .addColumn('lat', 'double precision', (c) => c.notNull())
    .addColumn('lng', 'double precision', (c) => c.notNull())
    .addColumn('range_m', 'integer', (c) => c.notNull())
    .addColumn('samples', 'integer', (c) => c.notNull())
    .addColumn('changeable', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('average_signal', 'integer')
    .addColumn('imported_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('cell_towers_pk', ['mcc', 'net', 'area', 'cell', 'radio'])
    .execute();

  // Access points learned from a family's own GPS fixes: the estimator's state per family and
  // MAC. They go with the family (cascade), never serve another one.
  await db.schema
    .createTable('access_points')
    .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
    .addColumn('mac', 'text', (c) => c.notNull())
    .addColumn('lat', 'double precision', (c) => c.notNull())
    .addColumn('lng', 'double precision', (c) => c.notNull())
    .addColumn('weight', 'double precision', (c) => c.notNull())
    .addColumn('spread2', 'double precision', (c) => c.notNull())
    .addColumn('count', 'double precision', (c) => c.notNull())
    .addColumn('rejects', 'integer', (c) => c.notNull())
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_points_pk', ['family_id', 'mac'])
    .execute();
  await db.schema.createIndex('access_points_last_seen').on('access_points').column('last_seen').execute();

  // A fix that could not be located is a sign of life: no lat/lng/acc/H3 cell, never 0,0.
  // The CHECK keeps a half-positioned row out.
  const allOrNone = sql`(lat IS NULL) = (lng IS NULL) AND (lat IS NULL) = (acc IS NULL) AND (lat IS NULL) = (cell IS NULL)`;
  if (dialect === 'postgres') {
    // Dropping NOT NULL is a catalogue-only change in PostgreSQL; NOT VALID skips scanning the
    // existing rows, which all have a position.
    await sql`ALTER TABLE fixes
        ALTER COLUMN lat DROP NOT NULL, ALTER COLUMN lng DROP NOT NULL,
        ALTER COLUMN acc DROP NOT NULL, ALTER COLUMN cell DROP NOT NULL,
        ADD CONSTRAINT fixes_position_all_or_none CHECK (${allOrNone}) NOT VALID`.execute(db);
  } else {
    // SQLite cannot drop NOT NULL or add a CHECK with ALTER TABLE: the table is rebuilt (new
    // table, copy, drop, rename), in this migration's transaction. fixes has no foreign keys,
    // indexes or triggers beyond its primary key, so nothing else needs recreating.
    await db.schema
      .createTable('fixes_0005')
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('lat', 'double precision')
      .addColumn('lng', 'double precision')
      .addColumn('acc', 'double precision')
      .addColumn('alt', 'double precision')
      .addColumn('speed', 'double precision')
      .addColumn('heading', 'double precision')
      .addColumn('battery', 'integer')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('cell', 'text')
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('fixes_pk', ['device_id', 'ts'])
      .addCheckConstraint('fixes_position_all_or_none', allOrNone)
      .execute();
    await sql`INSERT INTO fixes_0005 SELECT device_id, ts, lat, lng, acc, alt, speed, heading, battery, source, cell, received_at
        FROM fixes`.execute(db);
    await db.schema.dropTable('fixes').execute();
    await sql`ALTER TABLE fixes_0005 RENAME TO fixes`.execute(db);
  }

  // The cells and access points a fix was reported with. A child table rather than columns
  // on fixes, so every reader of fixes rows is unchanged; the cascade deletes them with their
  // fix (retention, history deletion, erasure) with no change to those paths.
  await db.schema
    .createTable('fix_observations')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('cells', 'text')
    .addColumn('wifi', 'text')
    .addPrimaryKeyConstraint('fix_observations_pk', ['device_id', 'ts'])
    .addForeignKeyConstraint('fix_observations_fix', ['device_id', 'ts'], 'fixes', ['device_id', 'ts'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
}
