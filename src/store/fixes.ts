import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, FixesTable } from './schema.js';

export type FixRow = Selectable<FixesTable>;

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
   * Fixes with from ≤ ts ≤ to and ts > afterTs, oldest first. `receivedSince` hides what the
   * watch reported before its current binding: a family never sees its previous family's data.
   */
  history(
    deviceId: string,
    from: number,
    to: number,
    afterTs: number | undefined,
    limit: number,
    receivedSince = 0,
  ): Promise<FixRow[]> {
    return this.db
      .selectFrom('fixes')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('received_at', '>=', receivedSince)
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

  latest(deviceId: string, receivedSince = 0): Promise<FixRow | undefined> {
    return this.db
      .selectFrom('fixes')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('received_at', '>=', receivedSince)
      .orderBy('ts', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
}
