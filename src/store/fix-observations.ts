// The cells and access points fixes were reported with, kept beside their fix (and deleted with
// it by the foreign key's cascade).
import type { Kysely, Selectable } from 'kysely';
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

  /** The observations of one watch's fixes with from ≤ ts ≤ to, oldest first. */
  between(deviceId: string, from: number, to: number, limit: number): Promise<FixObservationRow[]> {
    return this.db
      .selectFrom('fix_observations')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .orderBy('ts')
      .limit(limit)
      .execute();
  }
}
