// The location use cases. A report: consent → per-fix validation → H3 cell → group-committed write
// → (per watch, in order) newest position, family broadcast, area positions, geofences, low
// battery. Also the family's reads: the newest positions and the history (audit-logged).
import { randomUUID } from 'node:crypto';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { AckData, ReportResult } from '../contract/events.js';
import type { Fix, LocationEvent, Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { EventPayload } from '../contract/schemas.js';
import { cellOf } from '../geo/h3.js';
import type { RoomControl } from '../realtime/room-control.js';
import { type DeviceDirectory, type DeviceInfo, sharingSince } from '../store/device-directory.js';
import type { FixRow } from '../store/fixes.js';
import type { FixWriter } from '../store/fix-writer.js';
import type { Store } from '../store/store.js';
import type { AlertService } from './alerts.js';
import type { AreaService } from './area.js';
import { storedFix } from './fix-view.js';
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
const DEFAULT_HISTORY_LIMIT = 100;

const encodeCursor = (ts: number) => Buffer.from(String(ts)).toString('base64url');
function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const ts = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(ts)) throw E.badCursor();
  return ts;
}

/** The same binding, with location shared: what a report was accepted under still holds. */
const stillSharing = (was: DeviceInfo, now: DeviceInfo | undefined) =>
  now !== undefined && now.familyId === was.familyId && now.sharingSince === was.sharingSince && now.permissions.location;

export class LocationService {
  private readonly perWatch = new KeyedSerial();

  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      devices: DeviceDirectory;
      writer: FixWriter;
      latest: LatestPositions;
      geofences: GeofenceService;
      alerts: AlertService;
      area: AreaService;
      roomControl: RoomControl;
      /** Tells every node that the watch left (or lost consent); resolves once they all have. */
      publishWatchLeft: (deviceId: string) => Promise<void>;
      clock: () => number;
    },
    private readonly opts: LocationOptions,
  ) {}

  /** `location:report`; resolves once the accepted fixes are durable and told. */
  async report(principal: Principal, payload: { fixes: unknown[] } | Record<string, unknown>): Promise<ReportResult> {
    const { device } = await this.deps.guard.check(RULES['location.report'], principal, {});
    const info = device!;
    const now = this.deps.clock();
    const raw = Array.isArray(payload.fixes) ? payload.fixes : [payload];
    const limits = { maxFutureMs: this.opts.maxFutureMs, maxAgeMs: this.opts.retentionMs, notBefore: info.boundAt };
    const { accepted, rejected } = checkFixes(raw, now, limits);
    if (accepted.length === 0) return { accepted: 0, rejected };

    const rows = accepted.map((f) => this.row(info.id, f, now));
    await this.deps.writer.write(rows);
    await this.perWatch.run(info.id, () => this.afterStore(info, rows, now));
    return { accepted: accepted.length, rejected };
  }

  /** `location:latest`: the newest position of each watch of the family that shares its location. */
  async latestOf(principal: Principal, req: EventPayload<'location:latest'>): Promise<AckData<'location:latest'>> {
    const { familyId } = await this.deps.guard.check(RULES['location.latest'], principal, req);
    const positions: LocationEvent[] = [];
    for (const d of await this.deps.store.devices.listByFamily(familyId!)) {
      if (d.perm_location !== 1) continue;
      const latest = await this.deps.latest.get(d.id, familyId!, sharingSince(d));
      if (latest) positions.push(latest.event);
    }
    return { positions };
  }

  /** `location:history`: a page of a watch's stored fixes, from its current binding on; every read is audited first. */
  async history(principal: Principal, req: EventPayload<'location:history'>): Promise<AckData<'location:history'>> {
    const { deviceId, from, to, limit, cursor } = req;
    if (from > to) throw E.invalid('from must not be after to');
    const { familyId, device } = await this.deps.guard.check(RULES['location.history'], principal, req);
    const afterTs = cursor === undefined ? undefined : decodeCursor(cursor);
    const pageSize = limit ?? DEFAULT_HISTORY_LIMIT;
    // One extra row tells whether another page exists.
    const rows = await this.deps.store.fixes.history(deviceId, from, to, afterTs, pageSize + 1, device!.boundAt);
    const page = rows.slice(0, pageSize);
    await this.deps.store.audit.record({
      id: randomUUID(),
      at: this.deps.clock(),
      actor: principal,
      action: 'location.history',
      familyId: familyId!,
      subject: { kind: 'device', id: deviceId },
      details: { from, to, cursor: cursor ?? null, returned: page.length },
    });
    const last = page[page.length - 1];
    return { fixes: page.map(storedFix), nextCursor: rows.length > pageSize && last ? encodeCursor(last.ts) : null };
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

  private async afterStore(reportedUnder: DeviceInfo, rows: FixRow[], now: number): Promise<void> {
    const deviceId = reportedUnder.id;
    const familyId = reportedUnder.familyId!;
    // The watch may have been unbound, or its location turned off, while the batch committed: the
    // fixes are stored (and acked), but nothing of them is cached, told, counted or alerted.
    if (!stillSharing(reportedUnder, await this.deps.devices.get(deviceId))) return;
    const sorted = rows.length > 1 ? [...rows].sort((a, b) => a.ts - b.ts) : rows;
    const newest = sorted[sorted.length - 1]!;
    const boundAt = reportedUnder.sharingSince;
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
      await this.deps.latest.set(deviceId, { event, receivedAt: now, boundAt, lowBattery });
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

  /**
   * The watch left its family (unbound) or lost consent: forget what the location path keeps, on
   * every node. Resolves once no node can still cache, tell, count or alert anything the watch
   * reported before: each node first lets the report it is finishing for the watch end (the
   * per-watch order), then the shared newest position and fence states go.
   */
  async forgetWatch(deviceId: string): Promise<void> {
    await this.watchLeftHere(deviceId);
    await this.deps.publishWatchLeft(deviceId);
    await this.deps.latest.forget(deviceId);
    await this.deps.geofences.forgetWatch(deviceId);
  }

  /** This node's part of forgetWatch (also what a peer's `watch-left` runs here). */
  watchLeftHere(deviceId: string): Promise<void> {
    this.deps.devices.invalidate(deviceId, true);
    return this.perWatch.run(deviceId, async () => this.dropCaches(deviceId));
  }

  /** What this node caches about the watch's fences (re-read from the store when next needed). */
  dropCaches(deviceId: string): void {
    this.deps.geofences.dropWatch(deviceId);
  }
}
