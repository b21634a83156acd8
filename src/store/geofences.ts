import type { Kysely, Selectable } from 'kysely';
import type { Database, GeofencesTable } from './schema.js';

export type GeofenceRow = Selectable<GeofencesTable>;
export type FenceStateName = 'inside' | 'outside';

export class GeofenceRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: GeofenceRow): Promise<void> {
    await this.db.insertInto('geofences').values(row).execute();
  }

  async update(row: GeofenceRow): Promise<boolean> {
    const { id, family_id, created_at: _c, created_by: _b, ...set } = row;
    const r = await this.db
      .updateTable('geofences')
      .set(set)
      .where('id', '=', id)
      .where('family_id', '=', family_id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async delete(familyId: string, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      // The family check comes first: another family naming this id must touch nothing.
      const owned = await tx
        .selectFrom('geofences')
        .select('id')
        .where('id', '=', id)
        .where('family_id', '=', familyId)
        .executeTakeFirst();
      if (!owned) return false;
      await tx.deleteFrom('geofence_states').where('geofence_id', '=', id).execute();
      await tx.deleteFrom('geofences').where('id', '=', id).execute();
      return true;
    });
  }

  find(familyId: string, id: string): Promise<GeofenceRow | undefined> {
    return this.db.selectFrom('geofences').selectAll().where('id', '=', id).where('family_id', '=', familyId).executeTakeFirst();
  }

  listByFamily(familyId: string): Promise<GeofenceRow[]> {
    return this.db.selectFrom('geofences').selectAll().where('family_id', '=', familyId).orderBy('created_at').execute();
  }

  async countByFamily(familyId: string): Promise<number> {
    const r = await this.db
      .selectFrom('geofences')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('family_id', '=', familyId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async statesWithTs(deviceId: string): Promise<{ geofenceId: string; state: FenceStateName; ts: number }[]> {
    const rows = await this.db.selectFrom('geofence_states').selectAll().where('device_id', '=', deviceId).execute();
    return rows.map((r) => ({ geofenceId: r.geofence_id, state: r.state as FenceStateName, ts: r.ts }));
  }

  /** Applies state changes (null deletes) for one watch in one transaction. */
  async saveStates(deviceId: string, changes: ReadonlyMap<string, FenceStateName | null>, ts: number): Promise<void> {
    if (changes.size === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const [geofenceId, state] of changes) {
        if (state === null) {
          await tx
            .deleteFrom('geofence_states')
            .where('geofence_id', '=', geofenceId)
            .where('device_id', '=', deviceId)
            .execute();
          continue;
        }
        await tx
          .insertInto('geofence_states')
          .values({ geofence_id: geofenceId, device_id: deviceId, state, ts })
          .onConflict((oc) => oc.columns(['geofence_id', 'device_id']).doUpdateSet({ state, ts }))
          .execute();
      }
    });
  }

  /** Forgets a watch's states (it left the family). */
  async clearStates(deviceId: string): Promise<void> {
    await this.db.deleteFrom('geofence_states').where('device_id', '=', deviceId).execute();
  }
}
