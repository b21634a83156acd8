// Migration 0004_privacy. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration } from 'kysely';

export const privacy: Migration = {
  async up(db: Kysely<any>) {
    // Every permission change of a watch: who, when, from what to what.
    await db.schema
      .createTable('consent_records')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
      .addColumn('permission', 'text', (c) => c.notNull())
      .addColumn('previous', 'integer', (c) => c.notNull())
      .addColumn('value', 'integer', (c) => c.notNull())
      .addColumn('changed_by', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('consent_records_device').on('consent_records').columns(['device_id', 'at']).execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    await db.schema.createIndex('invites_expiry').on('invites').column('expires_at').execute();
  },
};
