// Data exports as streamed JSON: a top-level object whose big arrays are written a row at a time,
// so exporting a year of fixes needs memory for one page, not for the year.
import type { Permissions } from '../contract/models.js';
import { permissionsOf } from '../store/devices.js';
import { geofenceView } from '../location/geofence-view.js';
import type { CommandRow } from '../store/commands.js';
import type { HealthReadingRow } from '../store/health.js';
import type { BindingPeriod } from '../store/devices.js';
import type { Store } from '../store/store.js';
import type { PrivacyQueries } from '../store/privacy-queries.js';

type Section = [name: string, value: unknown | AsyncIterable<unknown>];

const isIterable = (v: unknown): v is AsyncIterable<unknown> => typeof v === 'object' && v !== null && Symbol.asyncIterator in v;

/** Writes `{ "a": …, "b": [ …streamed… ] }` as text chunks. */
export async function* jsonObject(sections: Section[]): AsyncGenerator<string> {
  yield '{';
  let first = true;
  for (const [name, value] of sections) {
    yield `${first ? '' : ','}${JSON.stringify(name)}:`;
    first = false;
    if (!isIterable(value)) {
      yield JSON.stringify(value);
      continue;
    }
    yield '[';
    let n = 0;
    let buffer = '';
    for await (const item of value) {
      buffer += (n++ === 0 ? '' : ',') + JSON.stringify(item);
      // Fewer, larger writes; still bounded.
      if (buffer.length > 64 * 1024) {
        yield buffer;
        buffer = '';
      }
    }
    yield `${buffer}]`;
  }
  yield '}';
}

/** Turns a stored command into what the family sees (contact lists decrypted). */
export type CommandViewer = (row: CommandRow) => unknown;

/** An open password-reset code: when it was asked for and until when it works (never the code). */
async function openReset(store: Store, userId: string) {
  const row = await store.passwordResets.find(userId);
  return row ? { requestedAt: row.created_at, expiresAt: row.expires_at, wrongTries: row.attempts } : null;
}

export function exportUser(
  store: Store,
  q: PrivacyQueries,
  viewCommand: CommandViewer,
  userId: string,
  now: number,
): AsyncGenerator<string> {
  return (async function* () {
    const user = await store.users.findById(userId);
    if (!user) return;
    yield* jsonObject([
      ['exportedAt', now],
      [
        'user',
        {
          id: user.id,
          email: user.email,
          nickname: user.nickname,
          createdAt: user.created_at,
          outsideLogin: user.external_subject !== null,
          policyVersion: user.policy_version,
          policyAcceptedAt: user.policy_accepted_at,
        },
      ],
      ['passwordReset', await openReset(store, userId)],
      ['families', (await store.families.listForUser(userId)).map((f) => ({ id: f.id, name: f.name, role: f.role }))],
      [
        'sessions',
        (await q.sessions(userId)).map((s) => ({
          session: s.chain_id,
          createdAt: s.created_at,
          expiresAt: s.expires_at,
          usedAt: s.used_at,
          revokedAt: s.revoked_at,
        })),
      ],
      ['messagesSent', q.messagesBy('user', userId)],
      ['readPositions', await q.readPositions(userId)],
      ['consentChangesMade', await q.consentsBy(userId)],
      ['commandsSent', (await q.commandsBy(userId)).map(viewCommand)],
      ['auditEntriesAsActor', await q.auditByActor(userId)],
      // The app installations signed in as the user (their push tokens) and their push settings.
      [
        'pushRegistrations',
        (await store.pushRegistrations.forUser(userId)).map((r) => ({
          installationId: r.installation_id,
          provider: r.provider,
          token: r.token,
          createdAt: r.created_at,
          updatedAt: r.updated_at,
        })),
      ],
      ['notificationSettings', await notificationSettingsOf(store, userId)],
    ]);
  })();
}

function healthView(r: HealthReadingRow) {
  return {
    ts: r.ts,
    ...(r.heart_rate !== null ? { heartRate: r.heart_rate } : {}),
    ...(r.systolic !== null ? { systolic: r.systolic } : {}),
    ...(r.diastolic !== null ? { diastolic: r.diastolic } : {}),
    ...(r.body_temp_c !== null ? { bodyTempC: r.body_temp_c } : {}),
    ...(r.spo2 !== null ? { spo2: r.spo2 } : {}),
    receivedAt: r.received_at,
  };
}

/** Yields every item of each iterable in turn. */
async function* concat<T>(parts: Iterable<AsyncIterable<T>>): AsyncGenerator<T> {
  for (const part of parts) yield* part;
}

/**
 * A watch's data for one family: what it recorded in each of the family's binding periods (the
 * current one cut at its binding, earlier ones at their binding and unbinding), never another
 * family's. A former family's export has the watch's identity and its periods, not the current
 * family's name for the child or its permissions.
 */
export function exportDevice(
  store: Store,
  q: PrivacyQueries,
  viewCommand: CommandViewer,
  deviceId: string,
  familyId: string,
  periods: readonly BindingPeriod[],
  now: number,
): AsyncGenerator<string> {
  return (async function* () {
    const device = await store.devices.findById(deviceId);
    if (!device || periods.length === 0) return;
    const current = device.family_id === familyId;
    const permissions: Permissions | null = current ? permissionsOf(device) : null;
    const fences = (await store.geofences.listByFamily(familyId))
      .map(geofenceView)
      .filter((g) => g.deviceIds === null || g.deviceIds.includes(deviceId));
    const last = periods[periods.length - 1]!;
    yield* jsonObject([
      ['exportedAt', now],
      [
        'watch',
        {
          id: device.id,
          imei: device.imei,
          watchId: device.watch_id,
          model: device.model,
          childName: current ? device.child_name : last.childName,
          boundAt: current ? device.bound_at : null,
          permissions,
        },
      ],
      ['bindings', periods.map((p) => ({ boundAt: p.boundAt, unboundAt: p.unboundAt, childName: p.childName }))],
      ['consentHistory', await store.devices.consents(deviceId, familyId)],
      ['geofences', fences],
      ['alerts', await q.alertsFor(deviceId, familyId)],
      ['commands', (await q.commandsFor(deviceId, familyId)).map(viewCommand)],
      [
        'messagesSent',
        concat(periods.map((p) => q.messagesBy('device', deviceId, { familyId, since: p.boundAt, until: p.unboundAt }))),
      ],
      ['auditEntries', await q.auditAbout(deviceId, familyId)],
      ['fixes', concat(periods.map((p) => q.fixes(deviceId, p.boundAt, p.unboundAt)))],
      // Readings from the watch's sensors (only ever kept with its `health` permission).
      ['healthReadings', (await store.health.listFor(deviceId, familyId, device.bound_at ?? 0)).map(healthView)],
      // Where the family's watches hear each Wi-Fi access point, learned from their GPS fixes: the
      // family's data (shared by its watches), in the owner's export of each of them.
      ['familyAccessPoints', q.accessPoints(familyId)],
      // The watch's stored geofence crossings in this binding.
      [
        'geofenceEvents',
        (await store.geofenceEvents.forDevice(familyId, deviceId))
          .filter((e) => e.ts >= (device.bound_at ?? 0))
          .map((e) => ({
            id: e.id,
            geofenceId: e.geofence_id,
            transition: e.transition,
            ts: e.ts,
            lat: e.lat,
            lng: e.lng,
            late: e.late === 1,
          })),
      ],
    ]);
  })();
}

async function notificationSettingsOf(store: Store, userId: string): Promise<unknown> {
  const row = await store.notificationSettings.find(userId);
  if (!row) return { muted: [], quietHours: null };
  return {
    muted: JSON.parse(row.muted) as unknown,
    quietHours: row.quiet_hours ? (JSON.parse(row.quiet_hours) as unknown) : null,
  };
}
