// Migration 0006_idempotency_per_conversation. Landed: never edit it; its key in ../migrations.ts is what databases record.
import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectName } from '../db.js';

export const idempotencyPerConversationMigration = (dialect: DialectName): Migration => ({
  // As 0005 on SQLite: the table is rebuilt in one transaction.
  up: (db: Kysely<any>) =>
    dialect === 'sqlite'
      ? db.transaction().execute((tx) => idempotencyPerConversation(tx, dialect))
      : idempotencyPerConversation(db, dialect),
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
