// What a push to an app installation carries (ids, kind, generic text; content only when the
// queued payload kept it) and when an SOS is sent next on its escalation schedule.
import { describe, expect, it } from 'vitest';
import { nextSendAt } from '../../src/location/alerts.js';
import { deviceMessageFor } from '../../src/push/installations.js';
import { redactForPush } from '../../src/push/redact.js';
import type { PushNotification } from '../../src/push/types.js';

describe('push messages for installations', () => {
  const sos: PushNotification = {
    kind: 'alert',
    familyId: 'f1',
    ts: 1,
    alertId: 'a1',
    alertType: 'sos',
    deviceId: 'd1',
    notifyCount: 3,
    emergency: true,
    lat: 48.1,
    lng: 11.5,
  };

  it('carries ids and a generic text, and coordinates or text only if the queued payload kept them', () => {
    const redacted = deviceMessageFor(redactForPush(sos, false));
    expect(redacted.kind).toBe('sos');
    expect(redacted.priority).toBe('high');
    expect(redacted.alert).toEqual({ title: 'SOS alert', body: 'A watch sent an SOS. Open the app now.' });
    expect(redacted.data).toEqual({
      familyId: 'f1',
      alertId: 'a1',
      alertType: 'sos',
      deviceId: 'd1',
      notifyCount: '3',
      emergency: 'true',
      ts: '1',
    });
    expect(redacted.collapseKey).toBe('sos-a1');
    expect(deviceMessageFor(redactForPush(sos, true)).data).toMatchObject({ lat: '48.1', lng: '11.5' });

    const message: PushNotification = {
      kind: 'message',
      familyId: 'f1',
      ts: 2,
      conversationId: 'f1',
      messageId: 'm1',
      seq: 7,
      text: 'secret',
    };
    expect(JSON.stringify(deviceMessageFor(redactForPush(message, false)))).not.toContain('secret');
    expect(deviceMessageFor(redactForPush(message, true)).alert).toEqual({ title: 'New message', body: 'secret' });

    const crossing: PushNotification = {
      kind: 'geofence',
      familyId: 'f1',
      ts: 3,
      geofenceId: 'g1',
      transition: 'exit',
      late: true,
      deviceId: 'd1',
    };
    expect(deviceMessageFor(crossing)).toMatchObject({
      kind: 'geofence',
      data: { geofenceId: 'g1', transition: 'exit', late: 'true' },
    });
    expect(deviceMessageFor({ kind: 'ring', familyId: 'f1', ts: 4, callId: 'c1' }).kind).toBe('call');
    expect(
      deviceMessageFor({ kind: 'command_result', familyId: 'f1', ts: 5, commandId: 'k1', commandStatus: 'expired' }).data,
    ).toMatchObject({
      commandId: 'k1',
      commandStatus: 'expired',
    });
  });
});

describe('SOS escalation schedule', () => {
  const o = { scheduleMs: [0, 60_000, 180_000, 300_000], renotifyMs: 60_000, emergencyAfterSends: 2 };

  it('follows the offsets from the raise, then the renotify period from the last send', () => {
    expect(nextSendAt(o, 1000, 1, 1000)).toBe(61_000);
    expect(nextSendAt(o, 1000, 2, 61_500)).toBe(181_000);
    expect(nextSendAt(o, 1000, 3, 181_000)).toBe(301_000);
    expect(nextSendAt(o, 1000, 4, 301_200)).toBe(361_200);
    // A send that ran late never makes the next one due at once twice.
    expect(nextSendAt(o, 1000, 2, 500_000)).toBe(500_001);
    expect(nextSendAt({ ...o, scheduleMs: [0] }, 1000, 1, 1000)).toBe(61_000);
  });
});
