// Learned access points: the Wi-Fi estimator's state per family and MAC. Family-scoped by key;
// rows go with the family (foreign key, cascade).
import { type Kysely, type Selectable, sql } from 'kysely';
import type { DialectName } from './db.js';
import type { AccessPointsTable, Database } from './schema.js';

export type AccessPointRow = Selectable<AccessPointsTable>;

// 12 columns a row.
const UPSERT_CHUNK = 500;

export class AccessPointRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /** The family's most recently heard access points, at most `limit`. */
  loadFamily(familyId: string, limit: number): Promise<AccessPointRow[]> {
    return this.db
      .selectFrom('access_points')
      .selectAll()
      .where('family_id', '=', familyId)
      .orderBy('last_seen', 'desc')
      .orderBy('mac')
      .limit(limit)
      .execute();
  }

  /**
   * Writes estimates in one transaction. Rows of families that no longer exist (deleted on this
   * or another node since they were learned) are left out and their ids returned, so the caller
   * can drop what it holds of them.
   */
  async upsertMany(rows: readonly AccessPointRow[]): Promise<{ written: number; goneFamilies: string[] }> {
    if (rows.length === 0) return { written: 0, goneFamilies: [] };
    return this.db.transaction().execute(async (tx) => {
      const ids = [...new Set(rows.map((r) => r.family_id))];
      const existing = new Set<string>();
      for (let i = 0; i < ids.length; i += UPSERT_CHUNK) {
        const found = await tx
          .selectFrom('families')
          .select('id')
          .where('id', 'in', ids.slice(i, i + UPSERT_CHUNK))
          // Holds the family rows until commit, so a deletion cannot slip in before the insert.
          .$if(this.dialect === 'postgres', (q) => q.forShare())
          .execute();
        for (const f of found) existing.add(f.id);
      }
      const live = rows.filter((r) => existing.has(r.family_id));
      for (let i = 0; i < live.length; i += UPSERT_CHUNK) {
        await tx
          .insertInto('access_points')
          .values(live.slice(i, i + UPSERT_CHUNK))
          .onConflict((oc) =>
            oc.columns(['family_id', 'mac']).doUpdateSet((eb) => ({
              lat: eb.ref('excluded.lat'),
              lng: eb.ref('excluded.lng'),
              weight: eb.ref('excluded.weight'),
              spread2: eb.ref('excluded.spread2'),
              count: eb.ref('excluded.count'),
              rejects: eb.ref('excluded.rejects'),
              first_seen: eb.ref('excluded.first_seen'),
              last_seen: eb.ref('excluded.last_seen'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
      return { written: live.length, goneFamilies: ids.filter((id) => !existing.has(id)) };
    });
  }

  /** For the family's data export, a page at a time in MAC order. */
  forFamily(familyId: string, afterMac: string | undefined, limit: number): Promise<AccessPointRow[]> {
    return this.db
      .selectFrom('access_points')
      .selectAll()
      .where('family_id', '=', familyId)
      .$if(afterMac !== undefined, (q) => q.where('mac', '>', afterMac!))
      .orderBy('mac')
      .limit(limit)
      .execute();
  }

  /** Everything learned for the family (the cascade does this when the family row goes). */
  async deleteFamily(familyId: string): Promise<number> {
    const r = await this.db.deleteFrom('access_points').where('family_id', '=', familyId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Deletes up to `batch` access points last heard before `before`; returns how many. */
  /**
   * A deleted history range: the family's access points learned only from fixes within it (first
   * and last heard inside it) would still say where the watch was, and go. Returns how many.
   */
  async eraseLearnedWithin(familyId: string, from: number, to: number): Promise<number> {
    const r = await this.db
      .deleteFrom('access_points')
      .where('family_id', '=', familyId)
      .where('first_seen', '>=', from)
      .where('last_seen', '<=', to)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async purgeStale(before: number, batch: number): Promise<number> {
    const r = await sql`DELETE FROM access_points WHERE (family_id, mac) IN
      (SELECT family_id, mac FROM access_points WHERE last_seen < ${before} LIMIT ${batch})`.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }
}
