// Who a push reaches and when: app installations' push registrations, each user's mutes and quiet
// hours, the family's emergency contacts, and when each watch was last heard (offline detection
// from the store, so a silence that spans a restart is still noticed). Migration 0011.
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, GeofenceEventsTable, NotificationSettingsTable, PushRegistrationsTable } from './schema.js';

export type PushRegistrationRow = Selectable<PushRegistrationsTable>;
export type NotificationSettingsRow = Selectable<NotificationSettingsTable>;
export type GeofenceEventRow = Selectable<GeofenceEventsTable>;

export class PushRegistrationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(installationId: string): Promise<PushRegistrationRow | undefined> {
    return this.db.selectFrom('push_registrations').selectAll().where('installation_id', '=', installationId).executeTakeFirst();
  }

  /** Creates or replaces the installation's registration (provider, token and who is signed in). */
  async upsert(row: PushRegistrationRow): Promise<void> {
    const { installation_id: _id, created_at: _c, ...set } = row;
    await this.db
      .insertInto('push_registrations')
      .values(row)
      .onConflict((oc) => oc.column('installation_id').doUpdateSet(set))
      .execute();
  }

  forUser(userId: string): Promise<PushRegistrationRow[]> {
    return this.db
      .selectFrom('push_registrations')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('updated_at', 'desc')
      .orderBy('installation_id')
      .execute();
  }

  /** The registrations of several users at once (one query per push fan-out). */
  forUsers(userIds: readonly string[]): Promise<PushRegistrationRow[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('push_registrations')
      .selectAll()
      .where('user_id', 'in', [...userIds])
      .execute();
  }

  /** Unties the installations signed in with a session (logout, a session ended elsewhere). */
  async untieSession(sessionId: string, now: number): Promise<number> {
    const r = await this.db
      .updateTable('push_registrations')
      .set({ user_id: null, session_id: null, updated_at: now })
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Unties every installation of a user (account deletion, every session ended). */
  async untieUser(userId: string, now: number): Promise<number> {
    const r = await this.db
      .updateTable('push_registrations')
      .set({ user_id: null, session_id: null, updated_at: now })
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** A dead token (uninstalled app): the registration goes, unless it changed meanwhile. */
  async deleteIfToken(installationId: string, token: string): Promise<void> {
    await this.db
      .deleteFrom('push_registrations')
      .where('installation_id', '=', installationId)
      .where('token', '=', token)
      .execute();
  }

  /** Installations signed out (no user) and not refreshed since `before`: forgotten. */
  async purgeUntiedBefore(before: number, batch: number): Promise<number> {
    const r = await sql`DELETE FROM push_registrations WHERE installation_id IN (SELECT installation_id FROM push_registrations
        WHERE user_id IS NULL AND updated_at < ${before} LIMIT ${batch})`.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }
}

export class NotificationSettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(userId: string): Promise<NotificationSettingsRow | undefined> {
    return this.db.selectFrom('notification_settings').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  forUsers(userIds: readonly string[]): Promise<NotificationSettingsRow[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('notification_settings')
      .selectAll()
      .where('user_id', 'in', [...userIds])
      .execute();
  }

  async put(row: NotificationSettingsRow): Promise<void> {
    const { user_id: _u, ...set } = row;
    await this.db
      .insertInto('notification_settings')
      .values(row)
      .onConflict((oc) => oc.column('user_id').doUpdateSet(set))
      .execute();
  }

  async setEmergencyContact(familyId: string, userId: string, on: boolean): Promise<boolean> {
    const r = await this.db
      .updateTable('family_members')
      .set({ emergency_contact: on ? 1 : 0 })
      .where('family_id', '=', familyId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async emergencyContacts(familyId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('family_members')
      .select('user_id')
      .where('family_id', '=', familyId)
      .where('emergency_contact', '=', 1)
      .execute();
    return rows.map((r) => r.user_id);
  }
}

export class GeofenceEventRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(rows: readonly GeofenceEventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('geofence_events')
      .values([...rows])
      .execute();
  }

  /** A page of the family's crossings in [from, to], oldest first, after the (ts, id) cursor. */
  list(q: {
    familyId: string;
    deviceId?: string | undefined;
    from: number;
    to: number;
    after?: { ts: number; id: string } | undefined;
    limit: number;
  }): Promise<GeofenceEventRow[]> {
    let query = this.db
      .selectFrom('geofence_events')
      .selectAll()
      .where('family_id', '=', q.familyId)
      .where('ts', '>=', q.from)
      .where('ts', '<=', q.to);
    if (q.deviceId !== undefined) query = query.where('device_id', '=', q.deviceId);
    const after = q.after;
    if (after)
      query = query.where((eb) => eb.or([eb('ts', '>', after.ts), eb.and([eb('ts', '=', after.ts), eb('id', '>', after.id)])]));
    return query.orderBy('ts').orderBy('id').limit(q.limit).execute();
  }

  /** Retention: crossings are positions, kept no longer than fixes. */
  async purgeOlderThan(before: number, batch: number): Promise<number> {
    const r =
      await sql`DELETE FROM geofence_events WHERE id IN (SELECT id FROM geofence_events WHERE ts < ${before} LIMIT ${batch})`.execute(
        this.db,
      );
    return Number(r.numAffectedRows ?? 0);
  }

  /** A deleted history range: the watch's crossings in it are positions the family deleted. Returns how many went. */
  async eraseWithin(familyId: string, deviceId: string, from: number, to: number): Promise<number> {
    const r = await this.db
      .deleteFrom('geofence_events')
      .where('family_id', '=', familyId)
      .where('device_id', '=', deviceId)
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** A watch's crossings in a family (the export reads them). */
  forDevice(familyId: string, deviceId: string): Promise<GeofenceEventRow[]> {
    return this.db
      .selectFrom('geofence_events')
      .selectAll()
      .where('family_id', '=', familyId)
      .where('device_id', '=', deviceId)
      .orderBy('ts')
      .execute();
  }
}

/** Rows per statement of `heardMany` (4 parameters each, well under either database's limit). */
const HEARD_CHUNK = 500;
/** The row heard is newer than the one kept, or from another family (a watch bound elsewhere since). */
const NEWER = sql`watch_liveness.family_id <> excluded.family_id OR watch_liveness.heard_at < excluded.heard_at`;

export class WatchLivenessRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records that the watch was heard at `at` in its family (never moves heard_at backwards). */
  heard(deviceId: string, familyId: string, at: number): Promise<void> {
    return this.heardMany([{ deviceId, familyId, at }]);
  }

  /**
   * `heard` for many watches (each at most once) in as few statements as possible: a node hears
   * each of its watches every few seconds, and one write (one fsync on SQLite) per watch would
   * cost more than the fixes themselves.
   */
  async heardMany(entries: readonly { deviceId: string; familyId: string; at: number }[]): Promise<void> {
    for (let i = 0; i < entries.length; i += HEARD_CHUNK) {
      await this.db
        .insertInto('watch_liveness')
        .values(
          entries
            .slice(i, i + HEARD_CHUNK)
            .map((e) => ({ device_id: e.deviceId, family_id: e.familyId, heard_at: e.at, offline_for: null })),
        )
        .onConflict((oc) =>
          oc.column('device_id').doUpdateSet({
            family_id: sql<string>`excluded.family_id`,
            heard_at: sql<number>`CASE WHEN ${NEWER} THEN excluded.heard_at ELSE watch_liveness.heard_at END`,
            // Heard later than the silence alerted: a new silence may begin.
            offline_for: sql<number | null>`CASE WHEN ${NEWER} THEN NULL ELSE watch_liveness.offline_for END`,
          }),
        )
        .execute();
    }
  }

  /** Watches last heard before `before` whose silence has not been alerted yet. */
  silentSince(before: number, limit: number): Promise<{ device_id: string; family_id: string; heard_at: number }[]> {
    return this.db
      .selectFrom('watch_liveness')
      .select(['device_id', 'family_id', 'heard_at'])
      .where('offline_for', 'is', null)
      .where('heard_at', '<', before)
      .orderBy('heard_at')
      .limit(limit)
      .execute();
  }

  /** Claims the alert for one silence: true for exactly one caller, on any node. */
  async claimOffline(deviceId: string, heardAt: number): Promise<boolean> {
    const r = await this.db
      .updateTable('watch_liveness')
      .set({ offline_for: heardAt })
      .where('device_id', '=', deviceId)
      .where('heard_at', '=', heardAt)
      .where('offline_for', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The watch left its family: nothing to watch for any more. */
  async forget(deviceId: string): Promise<void> {
    await this.db.deleteFrom('watch_liveness').where('device_id', '=', deviceId).execute();
  }
}
