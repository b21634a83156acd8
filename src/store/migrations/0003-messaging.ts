// Migration 0003_messaging. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectName } from '../db.js';

export const messaging = (dialect: DialectName): Migration => ({
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
});
