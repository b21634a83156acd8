// Migration 0010_data_rights. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration, sql } from 'kysely';

export const dataRights: Migration = {
  // Data rights (issue 17): deleted messages keep their seq slot; each binding of a watch is
  // remembered so a former family can still export (or delete) what it recorded; the time
  // ranges a family deleted from a watch's history refuse late uploads of fixes in them; the
  // audit log is read per family, newest first.
  async up(db: Kysely<any>) {
    await db.schema.alterTable('messages').addColumn('deleted_at', 'bigint').execute();

    await db.schema
      .createTable('device_bindings')
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
      .addColumn('child_name', 'text')
      .addColumn('bound_at', 'bigint', (c) => c.notNull())
      .addColumn('unbound_at', 'bigint')
      .addPrimaryKeyConstraint('device_bindings_pk', ['device_id', 'family_id', 'bound_at'])
      .execute();
    await db.schema.createIndex('device_bindings_family').on('device_bindings').columns(['family_id', 'device_id']).execute();
    // The bindings that hold now are known; earlier ones were not recorded before this migration.
    await sql`INSERT INTO device_bindings (device_id, family_id, child_name, bound_at, unbound_at)
          SELECT id, family_id, child_name, COALESCE(bound_at, created_at), NULL FROM devices WHERE family_id IS NOT NULL`.execute(
      db,
    );

    await db.schema
      .createTable('fix_erasures')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('from_ts', 'bigint', (c) => c.notNull())
      .addColumn('to_ts', 'bigint', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('fix_erasures_device').on('fix_erasures').columns(['device_id', 'to_ts']).execute();

    await db.schema.createIndex('audit_log_family').on('audit_log').columns(['family_id', 'at', 'id']).execute();
    await db.schema.createIndex('alerts_created').on('alerts').column('created_at').execute();
    await db.schema.createIndex('consent_records_at').on('consent_records').column('at').execute();
  },
};
