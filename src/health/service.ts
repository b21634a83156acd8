// Health readings a watch sends (the 3G protocol's heart rate, blood pressure, temperature and
// SpO2 frames): kept only with the watch's `health` permission, which is off until an owner turns
// it on; without it nothing is stored. Retention, export and family deletion: src/store/health.ts.
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import type { Principal } from '../contract/models.js';
import type { Store } from '../store/store.js';

export interface HealthReading {
  ts: number;
  heartRate?: number | undefined;
  systolic?: number | undefined;
  diastolic?: number | undefined;
  bodyTempC?: number | undefined;
  spo2?: number | undefined;
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
}
