import { type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type { Database, FixesTable } from './schema.js';

export type FixRow = Selectable<FixesTable>;

/**
 * The binding cut: the fixes of a watch's current binding (bound at `boundAt`) are those both
 * taken (ts) and received at or after it. Receipt alone is not enough: a watch that buffered
 * fixes while offline in its previous family uploads them after it is re-bound, and those
 * positions are the previous family's child's, not the new family's.
 */
export const inBinding =
  (boundAt: number) =>
  (eb: ExpressionBuilder<Database, 'fixes'>): Expression<SqlBool> =>
    // Qualified, so a query that joins fixes to another table with a ts column can use it too.
    eb.and([eb('fixes.ts', '>=', boundAt), eb('fixes.received_at', '>=', boundAt)]);

// Well under SQLite's and PostgreSQL's bound-parameter limits (12 columns a row).
const INSERT_CHUNK = 1000;

export class FixRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts in one transaction; a fix already stored (same watch and ts) is kept as it was. */
  async insertMany(rows: readonly FixRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await tx
          .insertInto('fixes')
          .values(rows.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) => oc.columns(['device_id', 'ts']).doNothing())
          .execute();
      }
    });
  }

  /**
   * Fixes with from ≤ ts ≤ to and ts > afterTs, oldest first. `boundAt` hides what belongs to
   * the watch's time before its current binding (see `inBinding`): a family never sees its
   * previous family's data.
   */
  history(
    deviceId: string,
    from: number,
    to: number,
    afterTs: number | undefined,
    limit: number,
    boundAt = 0,
  ): Promise<FixRow[]> {
    return this.db
      .selectFrom('fixes')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where(inBinding(boundAt))
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .$if(afterTs !== undefined, (q) => q.where('ts', '>', afterTs!))
      .orderBy('ts')
      .limit(limit)
      .execute();
  }

  /** Deletes up to `batch` fixes older than `before`; returns how many. */
  async purgeOlderThan(before: number, batch: number): Promise<number> {
    const r = await sql`DELETE FROM fixes WHERE (device_id, ts) IN
      (SELECT device_id, ts FROM fixes WHERE ts < ${before} LIMIT ${batch})`.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }

  /** The newest fix of the current binding (see `inBinding`). */
  latest(deviceId: string, boundAt = 0): Promise<FixRow | undefined> {
    return this.db
      .selectFrom('fixes')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where(inBinding(boundAt))
      .orderBy('ts', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
}
