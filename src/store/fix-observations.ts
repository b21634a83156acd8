// The cells and access points fixes were reported with, kept beside their fix (and deleted with
// it by the foreign key's cascade).
import type { Kysely } from 'kysely';
import { type FixObservationRow, inBinding, insertObservations } from './fixes.js';
import type { Database } from './schema.js';

export type { FixObservationRow };

export class FixObservationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Stores the observations of fixes already written (in the same transaction as the fixes, or
   * after them); a fix's observations already stored are kept as they were, like the fix.
   */
  insertMany(rows: readonly FixObservationRow[], db: Kysely<Database> = this.db): Promise<void> {
    return insertObservations(db, rows);
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
