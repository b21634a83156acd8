// Migration 0008_watch_gateway. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration, sql } from 'kysely';

export const watchGateway: Migration = {
  // Watches over TCP (the 3G protocol): the ID a watch writes in its frames, unique, the IMEI
  // for every watch registered before; the `health` permission (off); the health readings it
  // sends, kept only with that permission, purged with the family's location (retention).
  async up(db: Kysely<any>) {
    await db.schema.alterTable('devices').addColumn('watch_id', 'text').execute();
    await sql`UPDATE devices SET watch_id = imei WHERE watch_id IS NULL`.execute(db);
    await db.schema.createIndex('devices_watch_id').on('devices').column('watch_id').unique().execute();
    await db.schema
      .alterTable('devices')
      .addColumn('perm_health', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('health_readings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('heart_rate', 'integer')
      .addColumn('systolic', 'integer')
      .addColumn('diastolic', 'integer')
      .addColumn('body_temp_c', 'double precision')
      .addColumn('spo2', 'integer')
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('health_readings_device_ts').on('health_readings').columns(['device_id', 'ts']).execute();
    await db.schema.createIndex('health_readings_ts').on('health_readings').column('ts').execute();
  },
};
