// The location use cases. A report: consent → per-fix validation → a position for fixes without
// GPS (learned access points, cell-tower table: from memory when warm) → H3 cell → a group-
// committed write (with the fixes' cells and access points) and, beside it, (per watch, in order)
// newest position, family broadcast, area positions, geofences, low battery, learning access
// points from GPS fixes; the ack once the write is durable. A
// fix no local resolver places is acked as a sign of life; if an outside provider is configured
// it is asked meanwhile, and its answer goes through the same per-watch path when it comes.
// The family's reads (newest positions, history) are in reads.ts.
import { randomUUID } from 'node:crypto';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { ReportResult } from '../contract/events.js';
import type { Fix, LocationEvent, Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import { cellOf } from '../geo/h3.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { DeviceDirectory, DeviceInfo } from '../store/device-directory.js';
import { type FixObservationRow, type FixRow, type PositionedFixRow, isPositioned } from '../store/fixes.js';
import type { FixWriter } from '../store/fix-writer.js';
import type { Store } from '../store/store.js';
import type { AlertService } from './alerts.js';
import type { AreaService } from './area.js';
import type { FamilyNotifier } from '../push/family-notifier.js';
import type { GeofenceEvents } from './geofence-events.js';
import type { GeofenceService } from './geofence-service.js';
import { KeyedSerial } from './keyed-serial.js';
import type { LatestPositions } from './latest.js';
import type { WatchLiveness } from './liveness.js';
import { type Position, batteryLow, fixRow } from './fix-row.js';
import { checkFixes } from './validate.js';
import type { LearnedAccessPoints } from '../positioning/learned-access-points.js';
import { hasObservations, serialiseObservations } from '../positioning/observations.js';
import type { PositionResolver, ResolvedPosition } from '../positioning/resolver.js';

export interface LocationOptions {
  h3Resolution: number;
  maxFutureMs: number;
  retentionMs: number;
  lowBatteryPercent: number;
  /** A crossing whose fix arrived this long after it was taken is marked late. */
  geofenceLateMs: number;
}

/** The same binding, with location shared: what a report was accepted under still holds. */
const stillSharing = (was: DeviceInfo, now: DeviceInfo | undefined) =>
  now !== undefined && now.familyId === was.familyId && now.sharingSince === was.sharingSince && now.permissions.location;

/** A GPS fix that heard access points: what the learner is taught. */
type Learnable = { row: PositionedFixRow; wifi: NonNullable<Fix['wifi']> };

export class LocationService {
  private readonly perWatch = new KeyedSerial();
  /** Work started by reports and not finished when they were acked. */
  private readonly later = new Set<Promise<void>>();
  /** Reports being handled on this node, per watch, from their first step to their ack. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();

  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      devices: DeviceDirectory;
      writer: FixWriter;
      latest: LatestPositions;
      geofences: GeofenceService;
      geofenceEvents: GeofenceEvents;
      /** Pushes a crossing to the family's members with no connection. */
      notifyOffline: FamilyNotifier;
      /** Offline detection from the store: told of every report (the watch was heard) and of the watch leaving. */
      liveness: Pick<WatchLiveness, 'heard' | 'drop' | 'forget'>;
      alerts: AlertService;
      area: AreaService;
      roomControl: RoomControl;
      /** Tells every node that the watch left (or lost consent); resolves once they all have. */
      publishWatchLeft: (deviceId: string) => Promise<void>;
      /** Tells every node that the family deleted part of the watch's history; resolves once they all have. */
      publishHistoryErased: (deviceId: string, familyId: string) => Promise<void>;
      /** Locates fixes without GPS (learned access points, cell towers, the optional provider). */
      resolver: PositionResolver;
      /** Learns access points from the family's own GPS fixes. */
      accessPoints: LearnedAccessPoints;
      /** Work after the ack that failed (learning, a late position): logged, never thrown at a watch. */
      onBackgroundError: (err: unknown, what: string) => void;
      clock: () => number;
    },
    private readonly opts: LocationOptions,
  ) {}

  /**
   * `location:report`; resolves once the accepted fixes are durable and told. A fix waiting for
   * the outside provider is acked (durable, as a sign of life) without waiting for it.
   */
  report(principal: Principal, payload: { fixes: unknown[] } | Record<string, unknown>): Promise<ReportResult> {
    // Counted from the first step, before the watch's binding is read: a history deletion waits
    // for every report that may have read it without the deleted range (see historyErasedHere).
    const p = this.receive(principal, payload);
    let mine = this.inFlight.get(principal.id);
    if (!mine) this.inFlight.set(principal.id, (mine = new Set()));
    mine.add(p);
    const done = () => {
      mine.delete(p);
      if (mine.size === 0 && this.inFlight.get(principal.id) === mine) this.inFlight.delete(principal.id);
    };
    p.then(done, done);
    return p;
  }

  private async receive(principal: Principal, payload: { fixes: unknown[] } | Record<string, unknown>): Promise<ReportResult> {
    let device: DeviceInfo | undefined;
    try {
      ({ device } = await this.deps.guard.check(RULES['location.report'], principal, {}));
    } catch (err) {
      // Refused (location off): still a sign the watch is there, for offline detection.
      const d = await this.deps.devices.get(principal.id).catch(() => undefined);
      if (d?.familyId) this.deps.liveness.heard(d.id, d.familyId, this.deps.clock());
      throw err;
    }
    const info = device!;
    const now = this.deps.clock();
    this.deps.liveness.heard(info.id, info.familyId!, now);
    const raw = Array.isArray(payload.fixes) ? payload.fixes : [payload];
    const limits = {
      maxFutureMs: this.opts.maxFutureMs,
      maxAgeMs: this.opts.retentionMs,
      notBefore: info.boundAt,
      erased: info.erased,
    };
    const { accepted, rejected } = checkFixes(raw, now, limits);
    if (accepted.length === 0) return { accepted: 0, rejected };

    const rows: FixRow[] = [];
    const observations: FixObservationRow[] = [];
    const learnFrom: Learnable[] = [];
    const unplaced: { row: FixRow; fix: Fix }[] = [];
    for (const f of accepted) {
      const row = fixRow(info.id, f, await this.position(info.familyId!, f), now, this.opts.h3Resolution);
      rows.push(row);
      if (hasObservations(f)) observations.push({ device_id: info.id, ts: f.ts, ...serialiseObservations(f) });
      // Only the watch's own GPS teaches the learner: a position it worked out itself from
      // Wi-Fi would teach it its own guesses.
      if (f.source === 'gps' && isPositioned(row) && f.wifi && f.wifi.length > 0) learnFrom.push({ row, wifi: f.wifi });
      if (!isPositioned(row) && this.deps.resolver.hasProvider) unplaced.push({ row, fix: f });
    }
    // The provider is asked now, while the batch commits; the ack does not wait for its answer.
    const asked = unplaced.map((u) => ({ row: u.row, answer: this.deps.resolver.resolveRemote(u.fix) }));
    // The family is told while the batch commits, not after: what parents see does not wait for
    // the group commit and its fsync. The ack still waits for the commit, so an acked fix is never
    // lost; the price is that after a crash a family may have seen a fix that was not stored (the
    // watch, never acked, sends it again). docs/protocol.md, "location:report".
    const durable = this.deps.writer.write(rows, observations);
    const told = this.perWatch.run(info.id, () => this.tellFamily(info, rows, now, learnFrom));
    if (asked.length > 0) this.track(durable.then(() => this.placeLater(info, asked, now)));
    await Promise.all([durable, told]);
    return { accepted: accepted.length, rejected };
  }

  /** Resolves once the work left after acks (positions from the provider) is done: for shutdown. */
  async idle(): Promise<void> {
    while (this.later.size > 0) await Promise.all(this.later);
  }

  /**
   * `DELETE /v1/families/:fid/devices/:did/history {from?, to?}` (owner): deletes the watch's
   * stored fixes with from ≤ ts ≤ to (default: all; the range ends at the deletion's time at the
   * latest, so what the watch records afterwards stays), within the family's own binding periods
   * (the current one, or earlier ones: a former family may delete what it recorded), with their
   * cells and access points; the positions of the watch's alerts in the range; and the family's
   * access points learned only within it. In the current binding, the range (up to now) is
   * recorded first, so a fix taken in it and uploaded later is refused, and every node lets the
   * reports it is handling for the watch end before the fixes are deleted: once answered, no
   * deleted fix is stored, cached as the newest position or told again. Audited.
   */
  async deleteHistory(
    principal: Principal,
    req: { familyId: string; deviceId: string; from?: number | undefined; to?: number | undefined },
  ): Promise<{ deleted: number }> {
    const from = req.from ?? 0;
    const to = req.to ?? Number.MAX_SAFE_INTEGER;
    if (from > to) throw E.invalid('from must not be after to');
    await this.deps.guard.check(RULES['watch.history.delete'], principal, req);
    const { store } = this.deps;
    const { familyId, deviceId } = req;
    const periods = (await store.devices.bindingsOf(deviceId, familyId)).map((b) => ({ from: b.boundAt, to: b.unboundAt }));
    if (periods.length === 0) throw E.noSuchWatch();
    const now = this.deps.clock();
    // What the watch records after the deletion is not part of it: the range ends now at the latest.
    const until = Math.min(to, now);
    const current = periods.find((p) => p.to === null);
    if (current && Math.max(from, current.from) <= until) {
      await store.fixes.recordErasure({ id: randomUUID(), deviceId, from: Math.max(from, current.from), to: until, at: now });
    }
    const accessPoints = await store.accessPoints.eraseLearnedWithin(familyId, from, until);
    // Every node reloads the watch (with the range) and lets the reports it is handling end.
    await this.historyErasedHere(deviceId, familyId);
    await this.deps.publishHistoryErased(deviceId, familyId);
    const deleted = await store.fixes.erase(deviceId, periods, from, until);
    const alerts = await store.alerts.forgetPositions(familyId, deviceId, from, until);
    const crossings = await store.geofenceEvents.eraseWithin(familyId, deviceId, from, until);
    // The newest position is shared by the nodes (the backplane): dropped once, for all of them.
    await this.perWatch.run(deviceId, async () => {
      const kept = await this.deps.latest.peek(deviceId);
      if (kept && kept.event.familyId === familyId && kept.event.ts >= from && kept.event.ts <= until) {
        await this.deps.latest.forget(deviceId);
      }
    });
    await store.audit.record({
      id: randomUUID(),
      at: now,
      actor: principal,
      action: 'history.delete',
      familyId,
      subject: { kind: 'device', id: deviceId },
      details: {
        from: req.from ?? null,
        to: req.to ?? null,
        fixes: deleted,
        alertPositions: alerts,
        crossings,
        accessPoints,
      },
    });
    return { deleted };
  }

  /**
   * This node's part of a history deletion (also what a peer's `history-erased` runs here): the
   * watch is read again (with its erased ranges), the family's learned access points are read
   * again from the store, and every report this node is handling for the watch ends first.
   */
  async historyErasedHere(deviceId: string, familyId: string): Promise<void> {
    this.deps.devices.invalidate(deviceId, true);
    this.deps.accessPoints.forgetFamily(familyId);
    const handling = [...(this.inFlight.get(deviceId) ?? [])];
    await Promise.allSettled(handling);
    await this.perWatch.run(deviceId, async () => undefined);
  }

  /** The fix's own position, or the one the local resolvers find for its cells and access points. */
  private async position(familyId: string, f: Fix): Promise<Position | undefined> {
    if (f.lat !== undefined && f.lng !== undefined && f.acc !== undefined) {
      return { lat: f.lat, lng: f.lng, acc: f.acc, source: f.source };
    }
    return this.deps.resolver.resolveLocal(familyId, f);
  }

  private track(p: Promise<void>): void {
    this.later.add(p);
    void p.finally(() => this.later.delete(p));
  }

  /**
   * The provider's answers for the signs of life of one report, each as it comes: stored on the
   * fix, then through the per-watch path like any position, if the binding and consent the report
   * was accepted under still hold. No answer leaves the fix a sign of life.
   */
  private async placeLater(
    reportedUnder: DeviceInfo,
    asked: { row: FixRow; answer: Promise<ResolvedPosition | undefined> }[],
    receivedAt: number,
  ): Promise<void> {
    const deviceId = reportedUnder.id;
    await Promise.all(
      asked.map(async ({ row, answer }) => {
        try {
          const found = await answer;
          if (!found) return;
          await this.perWatch.run(deviceId, async () => {
            if (!stillSharing(reportedUnder, await this.deps.devices.get(deviceId))) return;
            const cell = cellOf(found.lat, found.lng, this.opts.h3Resolution);
            const placed: PositionedFixRow = {
              ...row,
              lat: found.lat,
              lng: found.lng,
              acc: found.acc,
              source: found.source,
              cell,
            };
            if (!(await this.deps.store.fixes.locate(deviceId, row.ts, receivedAt, placed))) return;
            await this.tellFamily(reportedUnder, [placed], receivedAt, []);
          });
        } catch (err) {
          this.deps.onBackgroundError(err, 'placing a fix from the geolocation provider');
        }
      }),
    );
  }

  private async tellFamily(reportedUnder: DeviceInfo, rows: FixRow[], now: number, learnFrom: Learnable[]): Promise<void> {
    const deviceId = reportedUnder.id;
    const familyId = reportedUnder.familyId!;
    // The watch may have been unbound, or its location turned off, since the report was accepted: the
    // fixes are stored (and acked), but nothing of them is cached, told, counted, learned or alerted.
    if (!stillSharing(reportedUnder, await this.deps.devices.get(deviceId))) return;
    const boundAt = reportedUnder.sharingSince;
    const previous = await this.deps.latest.get(deviceId, familyId, boundAt);
    // Never earlier than a receipt already counted (a position placed late by the provider).
    const receivedAt = Math.max(now, previous?.receivedAt ?? 0);
    // Signs of life are told to nobody and feed no fence: only positions go on.
    const placed = rows.filter(isPositioned);
    const sorted = placed.length > 1 ? [...placed].sort((a, b) => a.ts - b.ts) : placed;
    const newest = sorted[sorted.length - 1];
    // The family never sees time go backwards: a late batch is stored, not broadcast. (A
    // position read from the store may be this very report's, written a moment ago.)
    if (newest && (!previous || newest.ts > previous.event.ts || (previous.fromStore && newest.ts === previous.event.ts))) {
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
      const lowBattery = batteryLow(wasLow, newest.battery, this.opts.lowBatteryPercent);
      // Kept with the newest position (shared by the nodes in a cluster), so a watch that moves
      // to another node mid-dip is not alerted twice.
      await this.deps.latest.set(deviceId, { event, receivedAt, boundAt, lowBattery });
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
    } else if (previous) {
      // A late batch, or a sign of life: still heard from, for offline detection.
      await this.deps.latest.set(deviceId, { ...previous, receivedAt, fromStore: false });
    }
    if (sorted.length > 0) {
      // The fixes in timestamp order, a batch the watch buffered out of coverage included: a
      // crossing it made meanwhile is reported, marked late, and kept.
      const transitions = await this.deps.geofences.evaluate(familyId, deviceId, sorted);
      if (transitions.length > 0) {
        const crossings = await this.deps.geofenceEvents.record(
          familyId,
          deviceId,
          transitions.map((t) => ({ ...t, late: now - t.ts > this.opts.geofenceLateMs })),
        );
        for (const c of crossings) {
          this.deps.roomControl.emit(rooms.guardians(familyId), 'geofence', { ...c, deviceId, familyId });
          await this.deps.notifyOffline(familyId, null, {
            kind: 'geofence',
            familyId,
            ts: c.ts,
            deviceId,
            geofenceId: c.geofenceId,
            transition: c.transition,
            late: c.late,
            lat: c.lat,
            lng: c.lng,
          });
        }
      }
    }
    for (const { row, wifi } of learnFrom) {
      try {
        await this.deps.accessPoints.observe(familyId, row, wifi);
      } catch (err) {
        // Learning is best effort: the report is stored and told already.
        this.deps.onBackgroundError(err, 'learning access points');
      }
    }
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
    await this.deps.liveness.forget(deviceId);
  }

  /** This node's part of forgetWatch (also what a peer's `watch-left` runs here). */
  watchLeftHere(deviceId: string): Promise<void> {
    this.deps.devices.invalidate(deviceId, true);
    this.deps.liveness.drop(deviceId);
    return this.perWatch.run(deviceId, async () => this.dropCaches(deviceId));
  }

  /** What this node caches about the watch's fences (re-read from the store when next needed). */
  dropCaches(deviceId: string): void {
    this.deps.geofences.dropWatch(deviceId);
  }
}
