// Alerts: raised by watches (sos, fall, removed) or by the hub (low_battery, offline), stored,
// told to the family room and pushed to members with no connection, acknowledged by a guardian.
// An SOS nobody acknowledges escalates on a schedule (HUB_SOS_ESCALATION_S, then every
// HUB_SOS_RENOTIFY_S): every send goes to the whole family again (room and pushes), and from
// the HUB_SOS_EMERGENCY_AFTER_SENDS-th send on, also a push to each emergency contact, connected
// or not. Each send is claimed in the store, so a cluster sends it once (see jobs/).
import { randomUUID } from 'node:crypto';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { AlertType, AlertView, Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { EventPayload } from '../contract/schemas.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { AlertRow } from '../store/alerts.js';
import type { FamilyNotifier } from '../push/family-notifier.js';
import type { PushNotification } from '../push/types.js';
import type { Store } from '../store/store.js';

export function alertView(r: AlertRow): AlertView {
  const details = r.details ? (JSON.parse(r.details) as { battery?: number }) : {};
  return {
    id: r.id,
    familyId: r.family_id,
    deviceId: r.device_id,
    type: r.type as AlertType,
    ts: r.ts,
    ...(r.lat !== null && r.lng !== null ? { lat: r.lat, lng: r.lng } : {}),
    ...(details.battery !== undefined ? { battery: details.battery } : {}),
    notifyCount: r.notify_count,
    ackedAt: r.acked_at,
    ackedBy: r.acked_by,
  };
}

export interface RaiseAlert {
  familyId: string;
  deviceId: string;
  type: AlertType;
  ts: number;
  lat?: number | undefined;
  lng?: number | undefined;
  battery?: number | undefined;
}

/** A watch that was offline may raise an alert late, but not days late. */
const ALERT_MAX_AGE_MS = 86_400_000;
const ALERTS_PAGE = 100;

export interface EscalationOptions {
  /** Offsets from the raise (ms) of each send; the first is 0 (the raise itself). */
  scheduleMs: readonly number[];
  /** After the schedule, the gap between sends. */
  renotifyMs: number;
  /** From this many sends done on, each send also pushes the emergency contacts. */
  emergencyAfterSends: number;
}

/** When the send after `sendsDone` sends is due, for an alert created at `createdAt` (sent last at `lastAt`). */
export function nextSendAt(o: EscalationOptions, createdAt: number, sendsDone: number, lastAt: number): number {
  const offset = o.scheduleMs[sendsDone];
  return offset !== undefined ? Math.max(createdAt + offset, lastAt + 1) : lastAt + o.renotifyMs;
}

export class AlertService {
  constructor(
    private readonly store: Store,
    private readonly guard: Guard,
    private readonly roomControl: RoomControl,
    private readonly notifyOffline: FamilyNotifier,
    private readonly clock: () => number,
    private readonly maxFutureMs: number,
    private readonly escalation: EscalationOptions = { scheduleMs: [0], renotifyMs: 60_000, emergencyAfterSends: 2 },
    /** Pushes to users whether or not they are connected (emergency contacts). */
    private readonly pushUsers: (userIds: readonly string[], n: PushNotification) => Promise<void> = async () => undefined,
    private readonly emergencyContacts: (familyId: string) => Promise<string[]> = async () => [],
  ) {}

  /** `alert:raise` from a watch. Without location consent an alert still goes out, but without a position. */
  async raiseFromWatch(principal: Principal, req: EventPayload<'alert:raise'>): Promise<AlertView> {
    const { type, ts, lat, lng } = req;
    const now = this.clock();
    if (ts > now + this.maxFutureMs || ts < now - ALERT_MAX_AGE_MS) throw E.badTime('ts is too far from the hub’s clock');
    const { familyId, device } = await this.guard.check(RULES['alert.raise'], principal, req);
    const position = device!.permissions.location && lat !== undefined && lng !== undefined ? { lat, lng } : {};
    // One open alert per kind and watch: a watch pressing SOS again (or a flood of raises) is the
    // same emergency, re-sent on schedule until a guardian acknowledges it, not a new row each time.
    const open = await this.store.alerts.openFor(familyId!, principal.id, type);
    if (open) return alertView(open);
    return this.raise({ familyId: familyId!, deviceId: principal.id, type, ts, ...position });
  }

  /**
   * A watch says its battery is low (a 3G-protocol status bit, or an `LK` battery under the
   * threshold): one open `low_battery` alert per watch, as the hub raises from fixes.
   */
  async lowBatteryFromWatch(principal: Principal, r: { ts: number; battery?: number | undefined }): Promise<AlertView> {
    const { familyId } = await this.guard.check(RULES['alert.raise'], principal, {});
    const open = await this.store.alerts.openFor(familyId!, principal.id, 'low_battery');
    if (open) return alertView(open);
    return this.raise({ familyId: familyId!, deviceId: principal.id, type: 'low_battery', ts: r.ts, battery: r.battery });
  }

  /**
   * The family's most recent alerts, newest first. Alerts carry where the child was: the read is
   * audited, one entry per watch whose alerts with a position were given.
   */
  async list(principal: Principal, req: { familyId: string }): Promise<AlertView[]> {
    await this.guard.check(RULES['alert.list'], principal, req);
    const alerts = (await this.store.alerts.listByFamily(req.familyId, ALERTS_PAGE)).map(alertView);
    const positioned = new Map<string, number>();
    for (const a of alerts) if (a.lat !== undefined) positioned.set(a.deviceId, (positioned.get(a.deviceId) ?? 0) + 1);
    const at = this.clock();
    for (const [deviceId, count] of positioned) {
      await this.store.audit.record({
        id: randomUUID(),
        at,
        actor: principal,
        action: 'alert.list',
        familyId: req.familyId,
        subject: { kind: 'device', id: deviceId },
        details: { alerts: count },
      });
    }
    return alerts;
  }

  async raise(a: RaiseAlert): Promise<AlertView> {
    const now = this.clock();
    const row: AlertRow = {
      id: randomUUID(),
      family_id: a.familyId,
      device_id: a.deviceId,
      type: a.type,
      ts: a.ts,
      lat: a.lat ?? null,
      lng: a.lng ?? null,
      details: a.battery !== undefined ? JSON.stringify({ battery: a.battery }) : null,
      created_at: now,
      notified_at: now,
      notify_count: 1,
      acked_at: null,
      acked_by: null,
      next_notify_at: a.type === 'sos' ? nextSendAt(this.escalation, now, 1, now) : null,
    };
    await this.store.alerts.insert(row);
    const view = alertView(row);
    this.roomControl.emit(rooms.guardians(a.familyId), 'alert', view);
    await this.notifyOffline(a.familyId, null, {
      kind: 'alert',
      familyId: a.familyId,
      ts: a.ts,
      alertId: row.id,
      alertType: a.type,
      deviceId: a.deviceId,
      notifyCount: 1,
      ...(a.lat !== undefined && a.lng !== undefined ? { lat: a.lat, lng: a.lng } : {}),
    });
    return view;
  }

  /** A guardian (or owner) acknowledges; acknowledging twice answers the same alert. */
  async ack(principal: Principal, req: EventPayload<'alert:ack'>): Promise<AlertView> {
    const { familyId } = await this.guard.check(RULES['alert.ack'], principal, req);
    const now = this.clock();
    if (await this.store.alerts.ack(familyId!, req.id, principal.id, now)) {
      this.roomControl.emit(rooms.guardians(familyId!), 'alert:acked', {
        id: req.id,
        familyId: familyId!,
        ackedBy: principal.id,
        ackedAt: now,
      });
    }
    const row = await this.store.alerts.find(req.id);
    if (!row) throw E.noSuchAlert();
    return alertView(row);
  }

  /**
   * Sends again the open SOS alerts whose next send is due: to the family room, as a push to
   * every member with no connection (each re-send is pushed), and, far enough into the schedule,
   * to every emergency contact. Each send is claimed once across nodes.
   */
  async escalateSos(): Promise<number> {
    const now = this.clock();
    let sent = 0;
    for (const row of await this.store.alerts.dueEscalation(now, 100)) {
      const count = row.notify_count + 1;
      const next = nextSendAt(this.escalation, row.created_at, count, now);
      if (!(await this.store.alerts.claimEscalation(row.id, row.notified_at, now, next))) continue;
      const view = { ...alertView(row), notifyCount: count };
      this.roomControl.emit(rooms.guardians(row.family_id), 'alert', view);
      const n: PushNotification = {
        kind: 'alert',
        familyId: row.family_id,
        ts: row.ts,
        alertId: row.id,
        alertType: row.type,
        deviceId: row.device_id,
        notifyCount: count,
        ...(row.lat !== null && row.lng !== null ? { lat: row.lat, lng: row.lng } : {}),
      };
      // Sends done before this one: the emergency contacts come in after that many.
      const contacts = row.notify_count >= this.escalation.emergencyAfterSends ? await this.emergencyContacts(row.family_id) : [];
      await this.notifyOffline(row.family_id, null, n, contacts);
      if (contacts.length > 0) await this.pushUsers(contacts, { ...n, emergency: true });
      sent++;
    }
    return sent;
  }
}
