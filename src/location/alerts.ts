// Alerts: raised by watches (sos, fall, removed) or by the hub (low_battery, offline), stored,
// told to the family room, acknowledged by a guardian. An SOS nobody acknowledged is told again
// on a schedule (see jobs/).
import { randomUUID } from 'node:crypto';
import { notFound } from '../contract/errors.js';
import type { AlertType, AlertView } from '../contract/models.js';
import type { Access } from '../auth/access.js';
import { type RoomControl, rooms } from '../cluster/room-control.js';
import type { AlertRow } from '../store/alerts.js';
import type { FamilyNotifier } from '../push/family-notifier.js';
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

export class AlertService {
  constructor(
    private readonly store: Store,
    private readonly access: Access,
    private readonly roomControl: RoomControl,
    private readonly notifyOffline: FamilyNotifier,
    private readonly clock: () => number,
  ) {}

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
      ...(a.lat !== undefined && a.lng !== undefined ? { lat: a.lat, lng: a.lng } : {}),
    });
    return view;
  }

  /** A guardian (or owner) acknowledges; acknowledging twice answers the same alert. */
  async ack(userId: string, alertId: string): Promise<AlertView> {
    const row = await this.store.alerts.find(alertId);
    if (!row) throw notFound('no such alert');
    await this.access.requireRole(row.family_id, userId, ['owner', 'guardian']);
    const now = this.clock();
    if (await this.store.alerts.ack(row.family_id, alertId, userId, now)) {
      this.roomControl.emit(rooms.guardians(row.family_id), 'alert:acked', {
        id: alertId,
        familyId: row.family_id,
        ackedBy: userId,
        ackedAt: now,
      });
    }
    return alertView((await this.store.alerts.find(alertId))!);
  }

  /** Re-sends open SOS alerts last sent before `renotifyMs` ago; each is claimed once across nodes. */
  async renotifySos(renotifyMs: number): Promise<number> {
    const now = this.clock();
    let sent = 0;
    for (const row of await this.store.alerts.due('sos', now - renotifyMs, 100)) {
      if (!(await this.store.alerts.claimRenotify(row.id, row.notified_at, now))) continue;
      this.roomControl.emit(rooms.guardians(row.family_id), 'alert', {
        ...alertView(row),
        notifyCount: row.notify_count + 1,
      });
      sent++;
    }
    return sent;
  }
}
