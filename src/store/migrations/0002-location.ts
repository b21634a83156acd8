// Migration 0002_location. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration } from 'kysely';

export const location: Migration = {
  async up(db: Kysely<any>) {
    // One row per fix; (device, ts) is the key, so a watch re-sending a batch whose ack it lost
    // stores nothing twice.
    await db.schema
      .createTable('fixes')
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('lat', 'double precision', (c) => c.notNull())
      .addColumn('lng', 'double precision', (c) => c.notNull())
      .addColumn('acc', 'double precision', (c) => c.notNull())
      .addColumn('alt', 'double precision')
      .addColumn('speed', 'double precision')
      .addColumn('heading', 'double precision')
      .addColumn('battery', 'integer')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('cell', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('fixes_pk', ['device_id', 'ts'])
      .execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor_kind', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('family_id', 'text')
      .addColumn('subject_kind', 'text')
      .addColumn('subject_id', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_subject').on('audit_log').columns(['subject_id', 'at']).execute();
    await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor_id', 'at']).execute();

    await db.schema
      .createTable('geofences')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('shape', 'text', (c) => c.notNull())
      .addColumn('device_ids', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('geofences_family').on('geofences').column('family_id').execute();

    await db.schema
      .createTable('geofence_states')
      .addColumn('geofence_id', 'text', (c) => c.notNull().references('geofences.id').onDelete('cascade'))
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('geofence_states_pk', ['geofence_id', 'device_id'])
      .execute();
    await db.schema.createIndex('geofence_states_device').on('geofence_states').column('device_id').execute();

    await db.schema
      .createTable('alerts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('lat', 'double precision')
      .addColumn('lng', 'double precision')
      .addColumn('details', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('notified_at', 'bigint', (c) => c.notNull())
      .addColumn('notify_count', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('acked_at', 'bigint')
      .addColumn('acked_by', 'text')
      .execute();
    await db.schema.createIndex('alerts_family').on('alerts').columns(['family_id', 'created_at']).execute();
    await db.schema.createIndex('alerts_open').on('alerts').columns(['type', 'acked_at', 'notified_at']).execute();
  },
};
