// Schema migrations, applied in order at start. Append new ones; never edit a landed one.
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { DialectName } from './db.js';

export const migrationsFor = (dialect: DialectName): Record<string, Migration> => ({
  '0001_accounts_families_devices': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.unique())
        .addColumn('password_hash', 'text')
        .addColumn('nickname', 'text', (c) => c.notNull())
        .addColumn('external_subject', 'text', (c) => c.unique())
        .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('chain_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('refresh_tokens_chain').on('refresh_tokens').column('chain_id').execute();
      await db.schema.createIndex('refresh_tokens_user').on('refresh_tokens').column('user_id').execute();

      await db.schema
        .createTable('families')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('family_members')
        .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('joined_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('family_members_pk', ['family_id', 'user_id'])
        .execute();
      await db.schema.createIndex('family_members_user').on('family_members').column('user_id').execute();

      await db.schema
        .createTable('invites')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('used_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('imei', 'text', (c) => c.notNull().unique())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('binding_code_hash', 'text', (c) => c.unique())
        .addColumn('binding_code_expires_at', 'bigint')
        .addColumn('family_id', 'text', (c) => c.references('families.id').onDelete('set null'))
        .addColumn('child_name', 'text')
        .addColumn('bound_at', 'bigint')
        .addColumn('perm_location', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('perm_camera', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('perm_microphone', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('perm_contacts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('devices_family').on('devices').column('family_id').execute();
    },
  },
  '0002_location': {
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
  },
  '0003_messaging': {
    async up(db: Kysely<any>) {
      // One conversation per family (its id is the family id); last_seq is bumped in the
      // transaction that inserts a message, which serializes seq allocation on every node.
      await db.schema
        .createTable('conversations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
        .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('media')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
        .addColumn('mime', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('media_created').on('media').column('created_at').execute();
      // The bytes live apart from the metadata, behind the MediaBlobs interface, so a filesystem
      // or object store can take their place.
      await db.schema
        .createTable('media_blobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('data', dialect === 'postgres' ? sql`bytea` : sql`blob`, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('sender_kind', 'text', (c) => c.notNull())
        .addColumn('sender_id', 'text', (c) => c.notNull())
        .addColumn('client_msg_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('text', 'text')
        .addColumn('media_id', 'text')
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('messages_seq', ['conversation_id', 'seq'])
        .addUniqueConstraint('messages_idempotency', ['sender_kind', 'sender_id', 'client_msg_id'])
        .execute();
      await db.schema.createIndex('messages_ts').on('messages').column('ts').execute();

      await db.schema
        .createTable('read_positions')
        .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('reader_kind', 'text', (c) => c.notNull())
        .addColumn('reader_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('read_positions_pk', ['conversation_id', 'reader_kind', 'reader_id'])
        .execute();

      await db.schema
        .createTable('commands')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('family_id', 'text', (c) => c.notNull().references('families.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        // JSON, or for contact lists an AES-256-GCM envelope (see src/auth/field-crypto.ts).
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('commands_device').on('commands').columns(['device_id', 'status', 'created_at']).execute();
      await db.schema.createIndex('commands_expiry').on('commands').columns(['status', 'expires_at']).execute();

      await db.schema
        .createTable('push_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .addColumn('failed_at', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('push_outbox_due')
        .on('push_outbox')
        .columns(['sent_at', 'failed_at', 'next_attempt_at'])
        .execute();
    },
  },
  '0004_privacy': {
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
  },
  '0005_positioning': {
    // Kysely runs SQLite migrations outside a transaction, and this one rebuilds fixes: it runs in
    // one, so a crash midway leaves the database as it was.
    up: (db: Kysely<any>) =>
      dialect === 'sqlite' ? db.transaction().execute((tx) => positioning(tx, dialect)) : positioning(db, dialect),
  },
  '0006_idempotency_per_conversation': {
    // As 0005 on SQLite: the table is rebuilt in one transaction.
    up: (db: Kysely<any>) =>
      dialect === 'sqlite'
        ? db.transaction().execute((tx) => idempotencyPerConversation(tx, dialect))
        : idempotencyPerConversation(db, dialect),
  },
  '0007_location_since': {
    // When the family last turned the watch's location on: a position from before it (kept in
    // the store while sharing was off) is never shown as the newest one.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('devices').addColumn('location_since', 'bigint').execute();
    },
  },
  '0008_watch_gateway': {
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
  },
  '0009_account_care': {
    // The privacy-policy version a user accepted (and when), and password-reset codes: one open
    // code per account, stored by hash, with its expiry and the wrong guesses spent on it.
    async up(db: Kysely<any>) {
      await db.schema.alterTable('users').addColumn('policy_version', 'text').execute();
      await db.schema.alterTable('users').addColumn('policy_accepted_at', 'bigint').execute();
      await db.schema
        .createTable('password_resets')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('password_resets_expiry').on('password_resets').column('expires_at').execute();
    },
  },
  '0010_data_rights': {
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
  },
  '0011_notifications': {
    // Push registrations per app installation, per-user mutes and quiet hours, emergency contacts,
    // stored geofence crossings, the SOS escalation schedule, and when each watch was last heard
    // (offline detection that survives a restart).
    up: (db: Kysely<any>) => notifications(db),
  },
});

/**
 * 0006: a message's clientMsgId is unique per sender AND conversation, not per sender. A watch
 * re-bound to another family restarts its counter, and a user in two families numbers each
 * chat on its own: with the key per sender only, their new messages were taken for replays of
 * another family's and dropped. Existing rows satisfy the new key (it is wider than the old).
 */
async function idempotencyPerConversation(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect === 'postgres') {
    await sql`ALTER TABLE messages DROP CONSTRAINT messages_idempotency`.execute(db);
  } else {
    // SQLite cannot drop a constraint declared in CREATE TABLE: rebuild the table as 0003 made
    // it, minus that constraint. Nothing references messages, so the drop cascades nowhere; its
    // own foreign key (to conversations, cascade) and messages_seq come back with it, and the one
    // index on it, messages_ts, is recreated.
    await db.schema
      .createTable('messages_0006')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('sender_kind', 'text', (c) => c.notNull())
      .addColumn('sender_id', 'text', (c) => c.notNull())
      .addColumn('client_msg_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('text', 'text')
      .addColumn('media_id', 'text')
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('messages_seq', ['conversation_id', 'seq'])
      .execute();
    await sql`INSERT INTO messages_0006 SELECT id, conversation_id, seq, sender_kind, sender_id, client_msg_id, kind, text, media_id, ts
        FROM messages`.execute(db);
    await db.schema.dropTable('messages').execute();
    await sql`ALTER TABLE messages_0006 RENAME TO messages`.execute(db);
    await db.schema.createIndex('messages_ts').on('messages').column('ts').execute();
  }
  await db.schema
    .createIndex('messages_idempotency')
    .unique()
    .on('messages')
    .columns(['sender_kind', 'sender_id', 'conversation_id', 'client_msg_id'])
    .execute();
}

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

export async function migrateToLatest(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialect) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? '(none)'} failed: ${String(error)}`, { cause: error });
  }
}
