import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, PushOutboxTable } from './schema.js';

export type PushOutboxRow = Selectable<PushOutboxTable>;

/**
 * The durable queue of pushes. A row is pending while neither `sent_at` nor `failed_at` is set;
 * `next_attempt_at` is both the retry time and, once claimed, the sender's lease.
 */
export class PushOutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async enqueue(rows: readonly Insertable<PushOutboxTable>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('push_outbox')
      .values([...rows])
      .execute();
  }

  find(id: string): Promise<PushOutboxRow | undefined> {
    return this.db.selectFrom('push_outbox').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Pending rows whose attempt is due at `now`, oldest first. */
  due(now: number, limit: number): Promise<PushOutboxRow[]> {
    return this.db
      .selectFrom('push_outbox')
      .selectAll()
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /**
   * Takes a due row for one attempt by moving `next_attempt_at` to `leaseUntil`. Succeeds for
   * exactly one caller that saw `seenNextAttemptAt`, so several nodes never send a row twice at
   * once; if the sender dies, the row is due again when the lease ends.
   */
  async claim(id: string, seenNextAttemptAt: number, leaseUntil: number): Promise<boolean> {
    const r = await this.db
      .updateTable('push_outbox')
      .set({ next_attempt_at: leaseUntil })
      .where('id', '=', id)
      .where('next_attempt_at', '=', seenNextAttemptAt)
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async markSent(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('push_outbox')
      .set({ sent_at: now, last_error: null })
      .where('id', '=', id)
      .where('sent_at', 'is', null)
      .execute();
  }

  /** Records a failed attempt; `attempts` is the number of failed attempts so far. */
  async markRetry(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('push_outbox')
      .set({ attempts, next_attempt_at: nextAttemptAt, last_error: error })
      .where('id', '=', id)
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .execute();
  }

  /** Gives up on a row (counting the attempt that failed last); it is never tried again. */
  async markFailed(id: string, now: number, error: string): Promise<void> {
    await this.db
      .updateTable('push_outbox')
      .set((eb) => ({ failed_at: now, last_error: error, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .execute();
  }

  /** Rows neither sent nor failed, for metrics. */
  async pendingCount(): Promise<number> {
    const r = await this.db
      .selectFrom('push_outbox')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
