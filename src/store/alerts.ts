import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AlertsTable, Database } from './schema.js';

export type AlertRow = Selectable<AlertsTable>;

export class AlertRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Insertable<AlertsTable>): Promise<void> {
    await this.db.insertInto('alerts').values(row).execute();
  }

  /** The watch's open (unacknowledged) alert of a type in its family, if any. */
  openFor(familyId: string, deviceId: string, type: string): Promise<AlertRow | undefined> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('family_id', '=', familyId)
      .where('device_id', '=', deviceId)
      .where('type', '=', type)
      .where('acked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  find(id: string): Promise<AlertRow | undefined> {
    return this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Acknowledges an open alert of the family; false if unknown there or already acknowledged. */
  async ack(familyId: string, id: string, by: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('alerts')
      .set({ acked_at: now, acked_by: by })
      .where('id', '=', id)
      .where('family_id', '=', familyId)
      .where('acked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Open alerts of a type last notified before `before`, oldest first. */
  due(type: string, before: number, limit: number): Promise<AlertRow[]> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('type', '=', type)
      .where('acked_at', 'is', null)
      .where('notified_at', '<', before)
      .orderBy('notified_at')
      .limit(limit)
      .execute();
  }

  /**
   * Claims a re-notification: succeeds for exactly one caller per round, so several nodes
   * running the same job send it once.
   */
  async claimRenotify(id: string, seenNotifiedAt: number, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('alerts')
      .set((eb) => ({ notified_at: now, notify_count: eb('notify_count', '+', 1) }))
      .where('id', '=', id)
      .where('notified_at', '=', seenNotifiedAt)
      .where('acked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Open SOS alerts whose next send (escalation schedule) is due at `now`, most overdue first. */
  dueEscalation(now: number, limit: number): Promise<AlertRow[]> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('type', '=', 'sos')
      .where('acked_at', 'is', null)
      .where('next_notify_at', 'is not', null)
      .where('next_notify_at', '<=', now)
      .orderBy('next_notify_at')
      .limit(limit)
      .execute();
  }

  /** Claims one send of the schedule: exactly one caller per send, on any node. */
  async claimEscalation(id: string, seenNotifiedAt: number, now: number, nextAt: number): Promise<boolean> {
    const r = await this.db
      .updateTable('alerts')
      .set((eb) => ({ notified_at: now, notify_count: eb('notify_count', '+', 1), next_notify_at: nextAt }))
      .where('id', '=', id)
      .where('notified_at', '=', seenNotifiedAt)
      .where('acked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * A deleted history range: the alerts the watch raised in it keep their type and time but lose
   * their position (a position there is a fix the family deleted). Returns how many changed.
   */
  async forgetPositions(familyId: string, deviceId: string, from: number, to: number): Promise<number> {
    const r = await this.db
      .updateTable('alerts')
      .set({ lat: null, lng: null })
      .where('family_id', '=', familyId)
      .where('device_id', '=', deviceId)
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .where('lat', 'is not', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  listByFamily(familyId: string, limit: number): Promise<AlertRow[]> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('family_id', '=', familyId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }
}
