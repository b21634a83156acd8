// Health readings a watch sends (the 3G protocol's heart rate, blood pressure, temperature and
// SpO2 frames): kept only with the watch's `health` permission, which is off until an owner turns
// it on; without it nothing is stored. Retention, export and family deletion: src/store/health.ts.
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { HealthReadingView, Principal } from '../contract/models.js';
import type { HealthReadingRow } from '../store/health.js';
import type { Store } from '../store/store.js';

export interface HealthReading {
  ts: number;
  heartRate?: number | undefined;
  systolic?: number | undefined;
  diastolic?: number | undefined;
  bodyTempC?: number | undefined;
  spo2?: number | undefined;
}

const DAY_MS = 86_400_000;
const DEFAULT_LIMIT = 100;

const encodeCursor = (r: { ts: number; id: string }) => Buffer.from(`${r.ts}:${r.id}`).toString('base64url');
function decodeCursor(cursor: string): { ts: number; id: string } {
  const m = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw E.badCursor();
  return { ts: Number(m[1]), id: m[2]! };
}

function view(r: HealthReadingRow): HealthReadingView {
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

export class HealthService {
  constructor(private readonly deps: { store: Store; guard: Guard; clock: () => number; newId: () => string }) {}

  /** Stores one reading; CONSENT_REQUIRED (`permission_off.health`) without the permission. Empty readings are not kept. */
  async report(device: Principal, r: HealthReading): Promise<{ stored: boolean }> {
    const { familyId } = await this.deps.guard.check(RULES['health.report'], device, {});
    const values = {
      heart_rate: r.heartRate ?? null,
      systolic: r.systolic ?? null,
      diastolic: r.diastolic ?? null,
      body_temp_c: r.bodyTempC ?? null,
      spo2: r.spo2 ?? null,
    };
    if (Object.values(values).every((v) => v === null)) return { stored: false };
    await this.deps.store.health.insert(
      { id: this.deps.newId(), device_id: device.id, family_id: familyId!, ts: r.ts, ...values, received_at: this.deps.clock() },
      { deviceId: device.id, familyId: familyId!, permission: 'health' },
    );
    return { stored: true };
  }

  /**
   * `GET /v1/families/:fid/devices/:did/health` (owner or guardian): a page of the watch's
   * readings in its current binding, newest first, taken within [from, to] (default: the last 7
   * days). Every read is audited first (`health.history`).
   */
  async history(
    user: Principal,
    req: {
      familyId: string;
      deviceId: string;
      from?: number | undefined;
      to?: number | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    },
  ): Promise<{ readings: HealthReadingView[]; nextCursor: string | null }> {
    await this.deps.guard.check(RULES['health.read'], user, req);
    const to = req.to ?? this.deps.clock();
    const from = req.from ?? Math.max(0, to - 7 * DAY_MS);
    if (from > to) throw E.invalid('from must not be after to');
    const after = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
    const { store } = this.deps;
    const current = (await store.devices.bindingsOf(req.deviceId, req.familyId)).find((b) => b.unboundAt === null);
    if (!current) throw E.noSuchWatch();
    const limit = req.limit ?? DEFAULT_LIMIT;
    // One extra row tells whether another page exists.
    const rows = await store.health.page({ ...req, since: current.boundAt, from, to, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    await store.audit.record({
      id: this.deps.newId(),
      at: this.deps.clock(),
      actor: user,
      action: 'health.history',
      familyId: req.familyId,
      subject: { kind: 'device', id: req.deviceId },
      details: { from, to, cursor: req.cursor ?? null, returned: page.length },
    });
    const last = page[page.length - 1];
    return { readings: page.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }
}
