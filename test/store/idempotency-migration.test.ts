// Migration 0006 on a database that already holds messages: they survive (SQLite rebuilds the
// table), the idempotency key becomes per sender and conversation, and what 0003 gave the table
// (seq uniqueness, the cascade from conversations, the ts index) still holds — on both databases.
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { isUniqueViolation } from '../../src/store/errors.js';
import { migrateToLatest, migrationsFor } from '../../src/store/migrations.js';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;

describe.each(STORE_KINDS)('migration 0006 (%s)', (kind) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('keeps the messages and makes clientMsgId unique per sender and conversation', async () => {
    const fresh = await freshDatabaseUrl(kind);
    cleanup.push(fresh.drop);
    const { db, dialect } = openDatabase(fresh.url);
    cleanup.push(() => db.destroy());
    const before = Object.fromEntries(Object.entries(migrationsFor(dialect)).filter(([name]) => name < '0006'));
    const r = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
    expect(r.error).toBeUndefined();

    for (const f of ['fa', 'fb']) {
      await db.insertInto('families').values({ id: f, name: f, created_at: T0 }).execute();
      await db.insertInto('conversations').values({ id: f, family_id: f, last_seq: 2, created_at: T0 }).execute();
    }
    const m = (id: string, conversation: string, seq: number, clientMsgId: string) => ({
      id,
      conversation_id: conversation,
      seq,
      sender_kind: 'device',
      sender_id: 'w1',
      client_msg_id: clientMsgId,
      kind: 'text',
      text: `text ${id}`,
      media_id: null,
      ts: T0 + seq,
    });
    const old = [m('m1', 'fa', 1, '1'), m('m2', 'fa', 2, '2')];
    await db.insertInto('messages').values(old).execute();
    // Under 0003's key the same watch cannot reuse '1' in another family: the bug 0006 fixes.
    const refusedBefore = await db
      .insertInto('messages')
      .values(m('m3', 'fb', 1, '1'))
      .execute()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isUniqueViolation(refusedBefore)).toBe(true);

    await migrateToLatest(db, dialect);
    // (Later migrations add columns: 0010 the deletion time, null for every kept message.)
    const kept = await db.selectFrom('messages').selectAll().orderBy('id').execute();
    expect(kept.map((r) => r.deleted_at)).toEqual([null, null]);
    expect(kept.map(({ deleted_at: _, ...r }) => r)).toEqual(old);

    // Now it may; a second '1' in the same conversation is still refused, and so is a second seq.
    await db
      .insertInto('messages')
      .values(m('m3', 'fb', 1, '1'))
      .execute();
    const refused = async (row: ReturnType<typeof m>) =>
      db
        .insertInto('messages')
        .values(row)
        .execute()
        .then(
          () => undefined,
          (err: unknown) => err,
        );
    expect(isUniqueViolation(await refused(m('m4', 'fa', 3, '1')))).toBe(true);
    expect(isUniqueViolation(await refused(m('m5', 'fa', 2, '5')))).toBe(true);
    // The foreign key to conversations still refuses strays and still cascades.
    await expect(
      db
        .insertInto('messages')
        .values(m('m6', 'nowhere', 1, '6'))
        .execute(),
    ).rejects.toThrow();
    await db.deleteFrom('families').where('id', '=', 'fa').execute();
    expect((await db.selectFrom('messages').select('id').execute()).map((x) => x.id)).toEqual(['m3']);

    const indexes =
      dialect === 'postgres'
        ? await sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'messages'`.execute(db)
        : await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'`.execute(db);
    expect(indexes.rows.map((x) => x.name)).toEqual(expect.arrayContaining(['messages_ts', 'messages_idempotency']));
  });
});
