// Migration 0011_notifications. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration, sql } from 'kysely';

export const notificationsMigration: Migration = {
  // Push registrations per app installation, per-user mutes and quiet hours, emergency contacts,
  // stored geofence crossings, the SOS escalation schedule, and when each watch was last heard
  // (offline detection that survives a restart).
  up: (db: Kysely<any>) => notifications(db),
};

/** 0011: push registrations, notification settings, emergency contacts, geofence events, liveness. */
async function notifications(db: Kysely<any>): Promise<void> {
  // One row per app installation. user_id/session_id are set while a user is signed in on it;
  // an installation without a user gets only notices addressed to the installation itself.
  await db.schema
    .createTable('push_registrations')
    .addColumn('installation_id', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('session_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('push_registrations_user').on('push_registrations').column('user_id').execute();
  await db.schema.createIndex('push_registrations_session').on('push_registrations').column('session_id').execute();

  await db.schema
    .createTable('notification_settings')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    // JSON array of muted kinds; JSON quiet hours or null.
    .addColumn('muted', 'text', (c) => c.notNull())
    .addColumn('quiet_hours', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .alterTable('family_members')
    .addColumn('emergency_contact', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  // Each outbox row may target one installation (null: the configured operator provider, per user).
  await db.schema.alterTable('push_outbox').addColumn('installation_id', 'text').execute();

  // The SOS escalation schedule: when an open alert is due to be sent again (null: never).
  await db.schema.alterTable('alerts').addColumn('next_notify_at', 'bigint').execute();
  await sql`UPDATE alerts SET next_notify_at = notified_at + 60000 WHERE type = 'sos' AND acked_at IS NULL`.execute(db);
  await db.schema.createIndex('alerts_next_notify').on('alerts').column('next_notify_at').execute();

  await db.schema
    .createTable('geofence_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('geofence_id', 'text', (c) => c.notNull())
    .addColumn('transition', 'text', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('lat', 'double precision', (c) => c.notNull())
    .addColumn('lng', 'double precision', (c) => c.notNull())
    .addColumn('late', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('geofence_events_family_ts').on('geofence_events').columns(['family_id', 'ts', 'id']).execute();
  await db.schema.createIndex('geofence_events_device_ts').on('geofence_events').columns(['device_id', 'ts']).execute();
  await db.schema.createIndex('geofence_events_ts').on('geofence_events').column('ts').execute();

  // When each bound watch was last heard from (any report, refused for consent or not, any
  // heartbeat), written at most every few seconds per watch, and the silence an offline alert
  // was raised for: offline detection from the store, across restarts and nodes.
  await db.schema
    .createTable('watch_liveness')
    .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.id').onDelete('cascade'))
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('heard_at', 'bigint', (c) => c.notNull())
    .addColumn('offline_for', 'bigint')
    .execute();
  // The sweep reads the silences not alerted yet (offline_for IS NULL), oldest first.
  await db.schema.createIndex('watch_liveness_pending').on('watch_liveness').columns(['offline_for', 'heard_at']).execute();
}
