// The cells and access points fixes were reported with, kept beside their fix (and deleted with
// it by the foreign key's cascade).
import type { Kysely, Selectable } from 'kysely';
import { inBinding } from './fixes.js';
import type { Database, FixObservationsTable } from './schema.js';

export type FixObservationRow = Selectable<FixObservationsTable>;

// 4 columns a row.
const INSERT_CHUNK = 1000;

export class FixObservationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Stores the observations of fixes already written (in the same transaction as the fixes, or
   * after them); a fix's observations already stored are kept as they were, like the fix.
   */
  async insertMany(rows: readonly FixObservationRow[], db: Kysely<Database> = this.db): Promise<void> {
    const kept = rows.filter((r) => r.cells !== null || r.wifi !== null);
    for (let i = 0; i < kept.length; i += INSERT_CHUNK) {
      await db
        .insertInto('fix_observations')
        .values(kept.slice(i, i + INSERT_CHUNK))
        .onConflict((oc) => oc.columns(['device_id', 'ts']).doNothing())
        .execute();
    }
  }

  /**
   * The observations of one watch's fixes with from ≤ ts ≤ to, oldest first, within the binding
   * that began at `boundAt` (the cut on their fixes, see `inBinding`).
   */
  between(deviceId: string, from: number, to: number, limit: number, boundAt = 0): Promise<FixObservationRow[]> {
    return this.db
      .selectFrom('fix_observations as o')
      .innerJoin('fixes', (j) => j.onRef('fixes.device_id', '=', 'o.device_id').onRef('fixes.ts', '=', 'o.ts'))
      .select(['o.device_id', 'o.ts', 'o.cells', 'o.wifi'])
      .where('o.device_id', '=', deviceId)
      .where(inBinding(boundAt))
      .where('o.ts', '>=', from)
      .where('o.ts', '<=', to)
      .orderBy('o.ts')
      .limit(limit)
      .execute();
  }
}
