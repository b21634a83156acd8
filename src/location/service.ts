// The location path: consent → per-fix validation → H3 cell → group-committed write → (per watch,
// in order) latest position, family broadcast, area positions, geofences, low battery.
import { HubError, forbidden } from '../contract/errors.js';
import type { ReportResult } from '../contract/events.js';
import type { Fix, LocationEvent } from '../contract/models.js';
import { type RoomControl, rooms } from '../cluster/room-control.js';
import { cellOf } from '../geo/h3.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import type { FixRow } from '../store/fixes.js';
import type { FixWriter } from '../store/fix-writer.js';
import type { AlertService } from './alerts.js';
import type { AreaService } from './area.js';
import type { GeofenceService } from './geofence-service.js';
import { KeyedSerial } from './keyed-serial.js';
import type { LatestPositions } from './latest.js';
import { checkFixes } from './validate.js';

export interface LocationOptions {
  h3Resolution: number;
  maxFutureMs: number;
  retentionMs: number;
  lowBatteryPercent: number;
}

/** Battery must climb this far above the threshold before another low_battery alert. */
const BATTERY_HYSTERESIS = 5;

export class LocationService {
  private readonly perWatch = new KeyedSerial();

  constructor(
    private readonly deps: {
      devices: DeviceDirectory;
      writer: FixWriter;
      latest: LatestPositions;
      geofences: GeofenceService;
      alerts: AlertService;
      area: AreaService;
      roomControl: RoomControl;
      publishWatchLeft: (deviceId: string) => void;
      clock: () => number;
    },
    private readonly opts: LocationOptions,
  ) {}

  /** Handles `location:report`; resolves once the accepted fixes are durable and told. */
  async report(deviceId: string, payload: { fixes: unknown[] } | Record<string, unknown>): Promise<ReportResult> {
    const info = await this.deps.devices.get(deviceId);
    if (!info?.familyId) throw forbidden('this watch is not bound to a family');
    if (!info.permissions.location) {
      throw new HubError('CONSENT_REQUIRED', 'location sharing is off for this watch; the family owner can turn it on');
    }
    const familyId = info.familyId;
    const now = this.deps.clock();
    const raw = Array.isArray(payload.fixes) ? payload.fixes : [payload];
    const limits = { maxFutureMs: this.opts.maxFutureMs, maxAgeMs: this.opts.retentionMs, notBefore: info.boundAt };
    const { accepted, rejected } = checkFixes(raw, now, limits);
    if (accepted.length === 0) return { accepted: 0, rejected };

    const rows = accepted.map((f) => this.row(deviceId, f, now));
    await this.deps.writer.write(rows);
    await this.perWatch.run(deviceId, () => this.afterStore(familyId, info.boundAt, deviceId, rows, now));
    return { accepted: accepted.length, rejected };
  }

  private row(deviceId: string, f: Fix, now: number): FixRow {
    return {
      device_id: deviceId,
      ts: f.ts,
      lat: f.lat,
      lng: f.lng,
      acc: f.acc,
      alt: f.alt ?? null,
      speed: f.speed ?? null,
      heading: f.heading ?? null,
      battery: f.battery ?? null,
      source: f.source,
      cell: cellOf(f.lat, f.lng, this.opts.h3Resolution),
      received_at: now,
    };
  }

  private async afterStore(familyId: string, boundAt: number, deviceId: string, rows: FixRow[], now: number): Promise<void> {
    const sorted = rows.length > 1 ? [...rows].sort((a, b) => a.ts - b.ts) : rows;
    const newest = sorted[sorted.length - 1]!;
    const previous = await this.deps.latest.get(deviceId, familyId, boundAt);
    // The family never sees time go backwards: a late batch is stored, not broadcast. (A
    // position read from the store may be this very report's, written a moment ago.)
    if (!previous || newest.ts > previous.event.ts || (previous.fromStore && newest.ts === previous.event.ts)) {
      const event: LocationEvent = {
        deviceId,
        familyId,
        ts: newest.ts,
        lat: newest.lat,
        lng: newest.lng,
        acc: newest.acc,
        battery: newest.battery,
        source: newest.source as LocationEvent['source'],
        cell: newest.cell,
      };
      const wasLow = previous?.lowBattery === true;
      const lowBattery = this.batteryLow(wasLow, newest.battery);
      // Kept with the newest position (shared by the nodes in a cluster), so a watch that moves
      // to another node mid-dip is not alerted twice.
      await this.deps.latest.set(deviceId, { event, receivedAt: now, lowBattery });
      this.deps.roomControl.emit(rooms.guardians(familyId), 'location', event);
      this.deps.area.publish(event);
      if (lowBattery && !wasLow) {
        await this.deps.alerts.raise({
          familyId,
          deviceId,
          type: 'low_battery',
          ts: newest.ts,
          lat: newest.lat,
          lng: newest.lng,
          battery: newest.battery!,
        });
      }
    } else {
      // Still a sign of life for offline detection.
      await this.deps.latest.set(deviceId, { ...previous, receivedAt: now, fromStore: false });
    }
    const transitions = await this.deps.geofences.evaluate(familyId, deviceId, sorted);
    for (const t of transitions) {
      this.deps.roomControl.emit(rooms.guardians(familyId), 'geofence', { ...t, deviceId, familyId });
    }
  }

  /** Low once at or under the threshold; back to normal only well above it (no flapping). */
  private batteryLow(wasLow: boolean, battery: number | null): boolean {
    if (battery === null) return wasLow;
    if (battery <= this.opts.lowBatteryPercent) return true;
    return wasLow && battery <= this.opts.lowBatteryPercent + BATTERY_HYSTERESIS;
  }

  /** The watch left its family (unbound) or lost consent: forget what the hot path keeps. */
  async forgetWatch(deviceId: string): Promise<void> {
    this.dropCaches(deviceId);
    await this.deps.latest.forget(deviceId);
    await this.deps.geofences.forgetWatch(deviceId);
    this.deps.publishWatchLeft(deviceId);
  }

  /** What this node keeps in memory about the watch (a peer forgot it, or it moved nodes). */
  dropCaches(deviceId: string): void {
    this.deps.latest.dropLocal(deviceId);
    this.deps.geofences.dropWatch(deviceId);
  }
}
