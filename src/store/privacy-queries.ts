// The reads behind data exports: everything the hub holds on a user or a watch. Unbounded sets
// (fixes, messages) are read a page at a time so an export never holds them all in memory.
import type { Kysely } from 'kysely';
import { inBinding, inPeriod } from './fixes.js';
import type { Database } from './schema.js';

const PAGE = 1000;

export interface ExportedMessage {
  id: string;
  conversation_id: string;
  seq: number;
  kind: string;
  text: string | null;
  ts: number;
  media_id: string | null;
  mime: string | null;
  bytes: number | null;
}

export class PrivacyQueries {
  constructor(private readonly db: Kysely<Database>) {}

  sessions(userId: string) {
    return this.db
      .selectFrom('refresh_tokens')
      .select(['chain_id', 'created_at', 'expires_at', 'used_at', 'revoked_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
  }

  readPositions(userId: string) {
    return this.db
      .selectFrom('read_positions')
      .selectAll()
      .where('reader_kind', '=', 'user')
      .where('reader_id', '=', userId)
      .execute();
  }

  consentsBy(userId: string) {
    return this.db.selectFrom('consent_records').selectAll().where('changed_by', '=', userId).orderBy('at').execute();
  }

  commandsBy(userId: string) {
    return this.db.selectFrom('commands').selectAll().where('created_by', '=', userId).orderBy('created_at').execute();
  }

  commandsFor(deviceId: string, familyId: string) {
    return this.db
      .selectFrom('commands')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('family_id', '=', familyId)
      .orderBy('created_at')
      .execute();
  }

  alertsFor(deviceId: string, familyId: string) {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('family_id', '=', familyId)
      .orderBy('created_at')
      .execute();
  }

  auditByActor(userId: string) {
    return this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('actor_kind', '=', 'user')
      .where('actor_id', '=', userId)
      .orderBy('at')
      .execute();
  }

  auditAbout(deviceId: string, familyId: string) {
    return this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('subject_id', '=', deviceId)
      .where('family_id', '=', familyId)
      .orderBy('at')
      .execute();
  }

  /**
   * Messages a principal sent, oldest first, a page at a time. A user's are all theirs, in
   * every family. A watch's are those of its current binding, as its fixes are: only those in the
   * binding family's conversation and sent since `since` (bound_at), never what it said to a
   * family it belonged to before (or in an earlier binding of this one).
   */
  messagesBy(kind: 'user', id: string): AsyncGenerator<ExportedMessage>;
  messagesBy(
    kind: 'device',
    id: string,
    binding: { familyId: string; since: number; until?: number | null },
  ): AsyncGenerator<ExportedMessage>;
  async *messagesBy(kind: 'user' | 'device', id: string, binding?: { familyId: string; since: number; until?: number | null }) {
    if (kind === 'device' && !binding) throw new Error('a watch’s messages are read within its binding');
    let after: { ts: number; id: string } | undefined;
    for (;;) {
      const page: ExportedMessage[] = await this.db
        .selectFrom('messages as m')
        .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
        .leftJoin('media as x', 'x.id', 'm.media_id')
        .select(['m.id', 'm.conversation_id', 'm.seq', 'm.kind', 'm.text', 'm.ts', 'x.id as media_id', 'x.mime', 'x.bytes'])
        .where('m.sender_kind', '=', kind)
        .where('m.sender_id', '=', id)
        .where('m.deleted_at', 'is', null)
        .$if(binding !== undefined, (q) => q.where('c.family_id', '=', binding!.familyId).where('m.ts', '>=', binding!.since))
        // A former binding ends when the watch was unbound.
        .$if(binding?.until !== undefined && binding.until !== null, (q) => q.where('m.ts', '<=', binding!.until!))
        .$if(after !== undefined, (q) =>
          q.where((eb) => eb.or([eb('m.ts', '>', after!.ts), eb.and([eb('m.ts', '=', after!.ts), eb('m.id', '>', after!.id)])])),
        )
        .orderBy('m.ts')
        .orderBy('m.id')
        .limit(PAGE)
        .execute();
      yield* page;
      const last = page[page.length - 1];
      if (!last || page.length < PAGE) return;
      after = { ts: last.ts, id: last.id };
    }
  }

  /**
   * A watch's fixes of its current binding (see `inBinding`), oldest first, a page at a time:
   * positions and signs of life (null position), each with the cells and access points it was
   * reported with, if any (as stored: no SSIDs).
   */
  async *fixes(deviceId: string, boundAt: number, until: number | null = null) {
    let afterTs = -1;
    for (;;) {
      const page = await this.db
        .selectFrom('fixes')
        .leftJoin('fix_observations as o', (j) => j.onRef('o.device_id', '=', 'fixes.device_id').onRef('o.ts', '=', 'fixes.ts'))
        .select([
          'fixes.ts',
          'fixes.lat',
          'fixes.lng',
          'fixes.acc',
          'fixes.alt',
          'fixes.speed',
          'fixes.heading',
          'fixes.battery',
          'fixes.source',
          'fixes.cell',
          'fixes.received_at',
          'o.cells',
          'o.wifi',
        ])
        .where('fixes.device_id', '=', deviceId)
        .where(until === null ? inBinding(boundAt) : inPeriod({ from: boundAt, to: until }))
        .where('fixes.ts', '>', afterTs)
        .orderBy('fixes.ts')
        .limit(PAGE)
        .execute();
      for (const { cells, wifi, ...fix } of page) {
        yield {
          ...fix,
          ...(cells !== null ? { cells: JSON.parse(cells) as unknown[] } : {}),
          ...(wifi !== null ? { wifi: JSON.parse(wifi) as unknown[] } : {}),
        };
      }
      const last = page[page.length - 1];
      if (!last || page.length < PAGE) return;
      afterTs = last.ts;
    }
  }

  /** The access points a family's GPS fixes taught the hub, in MAC order, a page at a time. */
  async *accessPoints(familyId: string) {
    let after: string | undefined;
    for (;;) {
      const page = await this.db
        .selectFrom('access_points')
        .select(['mac', 'lat', 'lng', 'count', 'first_seen', 'last_seen'])
        .where('family_id', '=', familyId)
        .$if(after !== undefined, (q) => q.where('mac', '>', after!))
        .orderBy('mac')
        .limit(PAGE)
        .execute();
      yield* page;
      const last = page[page.length - 1];
      if (!last || page.length < PAGE) return;
      after = last.mac;
    }
  }
}
