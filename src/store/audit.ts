// The audit log: who read or did what to whose data, and when. Written for every read of a
// child's data (newest positions, history, live position streams, media, exports, remote photos)
// and every deletion of it; owners page through their family's entries.
import type { Kysely, Selectable } from 'kysely';
import type { Principal } from '../contract/models.js';
import type { AuditLogTable, Database } from './schema.js';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditEntry {
  id: string;
  at: number;
  actor: Principal;
  action: string;
  familyId: string | null;
  subject: Principal | null;
  details: Record<string, unknown>;
}

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        id: e.id,
        at: e.at,
        actor_kind: e.actor.kind,
        actor_id: e.actor.id,
        action: e.action,
        family_id: e.familyId,
        subject_kind: e.subject?.kind ?? null,
        subject_id: e.subject?.id ?? null,
        details: JSON.stringify(e.details),
      })
      .execute();
  }

  /**
   * A family's entries, newest first, a page at a time: those before `before` (the last entry of
   * the previous page), with the acting user's nickname where there is one.
   */
  async pageForFamily(
    familyId: string,
    before: { at: number; id: string } | undefined,
    limit: number,
  ): Promise<(AuditEntry & { actorName: string | null })[]> {
    const rows = await this.db
      .selectFrom('audit_log as a')
      .leftJoin('users as u', (j) => j.onRef('u.id', '=', 'a.actor_id').on('a.actor_kind', '=', 'user'))
      .selectAll('a')
      .select('u.nickname')
      .where('a.family_id', '=', familyId)
      .$if(before !== undefined, (q) =>
        q.where((eb) => eb.or([eb('a.at', '<', before!.at), eb.and([eb('a.at', '=', before!.at), eb('a.id', '<', before!.id)])])),
      )
      .orderBy('a.at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...toEntry(r), actorName: r.nickname ?? null }));
  }

  /** Entries about a subject (e.g. a watch), oldest first. */
  async forSubject(subjectId: string): Promise<AuditEntry[]> {
    const rows = await this.db.selectFrom('audit_log').selectAll().where('subject_id', '=', subjectId).orderBy('at').execute();
    return rows.map(toEntry);
  }
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: Number(r.at),
    actor: { kind: r.actor_kind as Principal['kind'], id: r.actor_id },
    action: r.action,
    familyId: r.family_id,
    subject: r.subject_id ? { kind: r.subject_kind as Principal['kind'], id: r.subject_id } : null,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}
