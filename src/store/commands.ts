// The durable per-watch command queue.
import type { Kysely, Selectable } from 'kysely';
import type { WatchPermission } from '../contract/models.js';
import type { DialectName } from './db.js';
import { requireWatchStill } from './devices.js';
import type { CommandsTable, Database } from './schema.js';

export type CommandRow = Selectable<CommandsTable>;
export const OPEN_STATUSES = ['queued', 'sent'] as const;
export const RESULT_STATUSES = ['done', 'failed', 'rejected'] as const;

export class CommandRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /** Inserts a command, if its watch is still bound to the family (and the permission it needs still on). */
  async insert(row: CommandRow, needs?: WatchPermission): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await requireWatchStill(tx, this.dialect, { deviceId: row.device_id, familyId: row.family_id, permission: needs });
      await tx.insertInto('commands').values(row).execute();
    });
  }

  find(id: string): Promise<CommandRow | undefined> {
    return this.db.selectFrom('commands').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Commands a watch still has to carry out for its family, oldest first. */
  open(deviceId: string, familyId: string, now: number): Promise<CommandRow[]> {
    return this.db
      .selectFrom('commands')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('family_id', '=', familyId)
      .where('status', 'in', OPEN_STATUSES)
      .where('expires_at', '>', now)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async markSent(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('commands')
      .set({ status: 'sent', updated_at: now })
      .where('id', 'in', ids)
      .where('status', '=', 'queued')
      .execute();
  }

  /** Records the watch's result; false if not this watch's open command. */
  async finish(id: string, deviceId: string, status: string, result: string | null, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('commands')
      .set({ status, result, updated_at: now })
      .where('id', '=', id)
      .where('device_id', '=', deviceId)
      .where('status', 'in', OPEN_STATUSES)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Ends a watch's open commands at once (of some types, or all): it left the family, or a
   * permission they need was withdrawn. Returns them.
   */
  async withdraw(deviceId: string, types: readonly string[] | null, now: number): Promise<CommandRow[]> {
    const open = await this.db
      .selectFrom('commands')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('status', 'in', OPEN_STATUSES)
      .$if(types !== null, (q) => q.where('type', 'in', types!))
      .execute();
    if (open.length === 0) return [];
    await this.db
      .updateTable('commands')
      .set({ status: 'expired', updated_at: now })
      .where(
        'id',
        'in',
        open.map((c) => c.id),
      )
      .where('status', 'in', OPEN_STATUSES)
      .execute();
    return open.map((c) => ({ ...c, status: 'expired', updated_at: now }));
  }

  /** Marks open commands past their expiry as expired; returns them. */
  async expire(now: number, limit: number): Promise<CommandRow[]> {
    const due = await this.db
      .selectFrom('commands')
      .selectAll()
      .where('status', 'in', OPEN_STATUSES)
      .where('expires_at', '<=', now)
      .limit(limit)
      .execute();
    const expired: CommandRow[] = [];
    for (const row of due) {
      const r = await this.db
        .updateTable('commands')
        .set({ status: 'expired', updated_at: now })
        .where('id', '=', row.id)
        .where('status', 'in', OPEN_STATUSES)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) expired.push({ ...row, status: 'expired', updated_at: now });
    }
    return expired;
  }
}
