// Health readings from watches (heart rate, blood pressure, body temperature, SpO2): kept only
// with the watch's `health` permission (checked again as the row is written), per family, purged
// by the retention job, in the owner's export of the watch, gone with the family (cascade).
import type { Kysely, Selectable } from 'kysely';
import type { DialectName } from './db.js';
import { type WatchCondition, requireWatchStill } from './devices.js';
import type { Database, HealthReadingsTable } from './schema.js';

export type HealthReadingRow = Selectable<HealthReadingsTable>;

export class HealthRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /** Writes the reading if the watch is still bound to the family with `health` on (else throws). */
  async insert(row: HealthReadingRow, still: WatchCondition): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await requireWatchStill(tx, this.dialect, still);
      await tx.insertInto('health_readings').values(row).execute();
    });
  }

  /** The watch's readings in the family since its binding, oldest first. */
  listFor(deviceId: string, familyId: string, since: number, limit = 10_000): Promise<HealthReadingRow[]> {
    return this.db
      .selectFrom('health_readings')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('family_id', '=', familyId)
      .where('received_at', '>=', since)
      .orderBy('ts')
      .limit(limit)
      .execute();
  }

  /**
   * A page of the watch's readings in the family, newest first: received since `since` (its
   * binding), taken within [from, to], and after `after` (the last reading of the previous page)
   * in that order.
   */
  page(q: {
    deviceId: string;
    familyId: string;
    since: number;
    from: number;
    to: number;
    after?: { ts: number; id: string } | undefined;
    limit: number;
  }): Promise<HealthReadingRow[]> {
    const { after } = q;
    return this.db
      .selectFrom('health_readings')
      .selectAll()
      .where('device_id', '=', q.deviceId)
      .where('family_id', '=', q.familyId)
      .where('received_at', '>=', q.since)
      .where('ts', '>=', q.from)
      .where('ts', '<=', q.to)
      .$if(after !== undefined, (w) =>
        w.where((eb) => eb.or([eb('ts', '<', after!.ts), eb.and([eb('ts', '=', after!.ts), eb('id', '<', after!.id)])])),
      )
      .orderBy('ts', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit)
      .execute();
  }

  async purgeOlderThan(before: number, batch: number): Promise<number> {
    const ids = await this.db.selectFrom('health_readings').select('id').where('ts', '<', before).limit(batch).execute();
    if (ids.length === 0) return 0;
    await this.db
      .deleteFrom('health_readings')
      .where(
        'id',
        'in',
        ids.map((r) => r.id),
      )
      .execute();
    return ids.length;
  }
}
