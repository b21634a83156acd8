// Conversations, messages, media metadata and read positions. A message's seq is allocated in
// the transaction that inserts it, by bumping the conversation's last_seq: the row lock makes
// concurrent senders (on any node) take turns, so seqs have no gaps and no duplicates.
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, MediaTable, MessagesTable } from './schema.js';
import type { DialectName } from './db.js';
import { type WatchCondition, requireWatchStill } from './devices.js';
import { isUniqueViolation } from './errors.js';

export type MessageRow = Selectable<MessagesTable>;
export type MediaRow = Selectable<MediaTable>;

export interface NewMessage {
  id: string;
  conversationId: string;
  familyId: string;
  senderKind: string;
  senderId: string;
  clientMsgId: string;
  kind: string;
  text: string | null;
  media: MediaRow | null;
  ts: number;
}

export class MessageRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /**
   * The message a sender already sent with this clientMsgId in this conversation. Idempotency is
   * per conversation (unique index messages_idempotency, migration 0006): a watch re-bound to
   * another family, or a user in two families, may reuse a clientMsgId, and a replay must never
   * answer with another conversation's message.
   */
  findByClientId(
    senderKind: string,
    senderId: string,
    conversationId: string,
    clientMsgId: string,
  ): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('sender_kind', '=', senderKind)
      .where('sender_id', '=', senderId)
      .where('conversation_id', '=', conversationId)
      .where('client_msg_id', '=', clientMsgId)
      .executeTakeFirst();
  }

  /**
   * Appends a message (and its media row). Returns the stored row and whether it is new: a
   * retry with the same sender, conversation and clientMsgId returns the first one.
   */
  async append(m: NewMessage, watch?: WatchCondition): Promise<{ row: MessageRow; created: boolean }> {
    const existing = await this.findByClientId(m.senderKind, m.senderId, m.conversationId, m.clientMsgId);
    if (existing) return { row: existing, created: false };
    try {
      const row = await this.db.transaction().execute(async (tx) => {
        // A watch's message needs its binding (and its microphone or camera) to hold at commit.
        if (watch) await requireWatchStill(tx, this.dialect, watch);
        await tx
          .insertInto('conversations')
          .values({ id: m.conversationId, family_id: m.familyId, last_seq: 0, created_at: m.ts })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        const { last_seq: seq } = await tx
          .updateTable('conversations')
          .set({ last_seq: sql`last_seq + 1` })
          .where('id', '=', m.conversationId)
          .returning('last_seq')
          .executeTakeFirstOrThrow();
        if (m.media) await tx.insertInto('media').values(m.media).execute();
        const row: MessageRow = {
          id: m.id,
          conversation_id: m.conversationId,
          seq: Number(seq),
          sender_kind: m.senderKind,
          sender_id: m.senderId,
          client_msg_id: m.clientMsgId,
          kind: m.kind,
          text: m.text,
          media_id: m.media?.id ?? null,
          ts: m.ts,
          deleted_at: null,
        };
        await tx.insertInto('messages').values(row).execute();
        return row;
      });
      return { row, created: true };
    } catch (err) {
      // The same send raced itself (a retry on another connection): the first one stands.
      if (!isUniqueViolation(err)) throw err;
      const first = await this.findByClientId(m.senderKind, m.senderId, m.conversationId, m.clientMsgId);
      if (!first) throw err;
      return { row: first, created: false };
    }
  }

  /** A message of the conversation (another conversation's id is not found). */
  find(conversationId: string, id: string): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Deletes a message's content, keeping its seq slot (so `chat:sync` stays gap-free): text and
   * media reference cleared, the media row deleted, and every push queued or kept about it (it
   * may carry the text) deleted, in one transaction. Returns the media ids whose bytes to delete,
   * or undefined when the message is not in the conversation; `deleted: false` when it was
   * deleted already.
   */
  async deleteContent(
    conversationId: string,
    id: string,
    now: number,
  ): Promise<{ deleted: boolean; media: string[] } | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('messages')
        .select(['id', 'media_id', 'deleted_at'])
        .where('conversation_id', '=', conversationId)
        .where('id', '=', id)
        .$if(this.dialect === 'postgres', (q) => q.forUpdate())
        .executeTakeFirst();
      if (!row) return undefined;
      if (row.deleted_at !== null) return { deleted: false, media: [] };
      await tx.updateTable('messages').set({ text: null, media_id: null, deleted_at: now }).where('id', '=', id).execute();
      const media = row.media_id ? [row.media_id] : [];
      if (media.length > 0) await tx.deleteFrom('media').where('id', 'in', media).execute();
      // Ids are UUIDs (no LIKE wildcards); a push names its message as "messageId":"<id>".
      await tx.deleteFrom('push_outbox').where('payload', 'like', `%"messageId":"${id}"%`).execute();
      return { deleted: true, media };
    });
  }

  /**
   * What a reader has not read: the newest `limit` messages after its read position, taken at or
   * after `fromTs`, neither deleted nor its own, in seq order (a TCP watch's replay on connecting).
   */
  async unreadBy(
    conversationId: string,
    reader: { kind: string; id: string },
    fromTs: number,
    limit: number,
  ): Promise<MessageRow[]> {
    const position = await this.db
      .selectFrom('read_positions')
      .select('seq')
      .where('conversation_id', '=', conversationId)
      .where('reader_kind', '=', reader.kind)
      .where('reader_id', '=', reader.id)
      .executeTakeFirst();
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('seq', '>', position ? Number(position.seq) : 0)
      .where('ts', '>=', fromTs)
      .where('deleted_at', 'is', null)
      .where((eb) => eb.not(eb.and([eb('sender_kind', '=', reader.kind), eb('sender_id', '=', reader.id)])))
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  }

  /** Messages after a seq, in order. */
  after(conversationId: string, afterSeq: number, limit: number): Promise<MessageRow[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  async lastSeq(conversationId: string): Promise<number> {
    const row = await this.db.selectFrom('conversations').select('last_seq').where('id', '=', conversationId).executeTakeFirst();
    return row ? Number(row.last_seq) : 0;
  }

  /** Bytes of media the family holds (for its storage quota). */
  async mediaBytesOf(familyId: string): Promise<number> {
    const r = await this.db
      .selectFrom('media')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('bytes'), eb.lit(0)).as('total'))
      .where('family_id', '=', familyId)
      .executeTakeFirst();
    return Number(r?.total ?? 0);
  }

  mediaById(id: string): Promise<MediaRow | undefined> {
    return this.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Who sent the message carrying a media item (for the audit of its downloads). */
  async senderOfMedia(mediaId: string): Promise<{ kind: string; id: string } | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .select(['sender_kind', 'sender_id'])
      .where('media_id', '=', mediaId)
      .executeTakeFirst();
    return row ? { kind: row.sender_kind, id: row.sender_id } : undefined;
  }

  mediaByIds(ids: readonly string[]): Promise<MediaRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('media').selectAll().where('id', 'in', ids).execute();
  }

  /** Moves a reader's position forward (never back); returns the position now stored. */
  async markRead(conversationId: string, readerKind: string, readerId: string, seq: number, now: number): Promise<number> {
    await this.db
      .insertInto('read_positions')
      .values({ conversation_id: conversationId, reader_kind: readerKind, reader_id: readerId, seq, at: now })
      .onConflict((oc) =>
        oc.columns(['conversation_id', 'reader_kind', 'reader_id']).doUpdateSet({
          seq: sql`CASE WHEN excluded.seq > read_positions.seq THEN excluded.seq ELSE read_positions.seq END`,
          at: now,
        }),
      )
      .execute();
    const row = await this.db
      .selectFrom('read_positions')
      .select('seq')
      .where('conversation_id', '=', conversationId)
      .where('reader_kind', '=', readerKind)
      .where('reader_id', '=', readerId)
      .executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  /** Deletes messages older than `before` and the media they carried, a batch at a time. */
  async purgeOlderThan(before: number, batch: number): Promise<{ messages: number; media: string[] }> {
    return this.db.transaction().execute(async (tx) => {
      const old = await tx.selectFrom('messages').select(['id', 'media_id']).where('ts', '<', before).limit(batch).execute();
      if (old.length === 0) return { messages: 0, media: [] };
      const media = old.map((m) => m.media_id).filter((id): id is string => id !== null);
      await tx
        .deleteFrom('messages')
        .where(
          'id',
          'in',
          old.map((m) => m.id),
        )
        .execute();
      if (media.length > 0) await tx.deleteFrom('media').where('id', 'in', media).execute();
      return { messages: old.length, media };
    });
  }
}
