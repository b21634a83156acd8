// Alerts with real clients: SOS raised, re-sent until acknowledged, acknowledged by guardians
// only; low battery once per dip; offline after silence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, addMember, api, connect, received, request, requestRaw, startHub, waitFor } from '../helpers/hub.js';
import { fix, setPermissions, sharingFamily } from '../helpers/location.js';

describe('alerts', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({
      env: {
        HUB_SOS_RENOTIFY_S: '1',
        // No schedule: re-sent every HUB_SOS_RENOTIFY_S from the first send on.
        HUB_SOS_ESCALATION_S: '0',
        HUB_LOCATION_INTERVAL_S: '60',
        HUB_OFFLINE_AFTER_INTERVALS: '2',
        HUB_LOW_BATTERY_PERCENT: '20',
      },
    });
  });
  afterAll(() => t.close());

  it('tells the family of an SOS, re-sends it until a guardian acknowledges it', async () => {
    const a = await sharingFamily(t);
    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const vs = await connect(t, viewer.accessToken);
    const first = waitFor(vs, 'alert');
    const ts = Date.now();
    const raised = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts, lat: 48.1, lng: 11.5 });
    expect(raised.alert).toMatchObject({
      type: 'sos',
      deviceId: a.deviceId,
      familyId: a.familyId,
      ts,
      lat: 48.1,
      lng: 11.5,
      notifyCount: 1,
    });
    expect(await first).toEqual(raised.alert);

    const again = await waitFor(vs, 'alert', (x) => x.id === raised.alert.id && x.notifyCount === 2, { timeoutMs: 6000 });
    expect(again.ackedAt).toBeNull();

    expect((await request(vs, 'alert:ack', { id: raised.alert.id })).error.code).toBe('FORBIDDEN');
    const gs = await connect(t, guardian.accessToken);
    const acked = waitFor(vs, 'alert:acked');
    const ack = await request(gs, 'alert:ack', { id: raised.alert.id });
    expect(ack.alert).toMatchObject({ id: raised.alert.id, ackedBy: guardian.id });
    expect(await acked).toMatchObject({ id: raised.alert.id, ackedBy: guardian.id });
    // Acknowledging again answers the same; nothing is re-sent after the ack.
    expect((await request(gs, 'alert:ack', { id: raised.alert.id })).alert.ackedBy).toBe(guardian.id);
    const sentBeforeAck = received(vs, 'alert').filter((x) => x.id === raised.alert.id).length;
    // A second SOS is re-sent after the renotify period; by then the first would have been too.
    const later = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    await waitFor(vs, 'alert', (x) => x.id === later.alert.id && x.notifyCount === 2, { timeoutMs: 6000 });
    expect(received(vs, 'alert').filter((x) => x.id === raised.alert.id).length).toBe(sentBeforeAck);
    const list = await api(t, 'GET', `/v1/families/${a.familyId}/alerts`, { token: viewer.accessToken });
    expect(list.body.alerts.map((x: { id: string }) => x.id)).toEqual([later.alert.id, raised.alert.id]);
    vs.disconnect();
    gs.disconnect();
  });

  it('refuses alerts from users, acks from other families, and unknown alert ids', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    expect((await request(a.parentSocket, 'alert:raise', { type: 'sos', ts: Date.now() })).error.code).toBe('FORBIDDEN');
    expect((await requestRaw(a.watchSocket, 'alert:raise', { type: 'panic', ts: Date.now() })).error.code).toBe('BAD_REQUEST');
    const raised = await request(a.watchSocket, 'alert:raise', { type: 'removed', ts: Date.now() });
    // Another family's alert answers exactly as a missing one: its id cannot be probed.
    const foreign = await request(b.parentSocket, 'alert:ack', { id: raised.alert.id });
    const missing = await request(b.parentSocket, 'alert:ack', { id: 'no-such-alert' });
    expect(foreign.error).toEqual({ code: 'NOT_FOUND', reason: 'no_such_alert', message: 'no such alert' });
    expect(missing.error).toEqual(foreign.error);
  });

  it('sends no position with an alert while location sharing is off', async () => {
    const a = await sharingFamily(t);
    await setPermissions(t, a.owner.accessToken, a.familyId, a.deviceId, false);
    const r = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now(), lat: 1, lng: 2 });
    expect(r.alert.lat).toBeUndefined();
    expect(r.alert.lng).toBeUndefined();
  });

  it('raises low_battery once per dip below the threshold', async () => {
    const a = await sharingFamily(t);
    const now = Date.now();
    for (const [i, battery] of [50, 19, 18, 15, 30, 12].entries()) {
      await request(a.watchSocket, 'location:report', fix({ ts: now + i, battery }));
    }
    await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
    const low = received(a.parentSocket, 'alert').filter((x) => x.type === 'low_battery');
    expect(low.map((x) => x.battery)).toEqual([19, 12]);
  });

  it('raises offline for a watch silent for a multiple of its interval', async () => {
    const a = await sharingFamily(t);
    await request(a.watchSocket, 'location:report', fix());
    const offline = waitFor(a.parentSocket, 'alert', (x) => x.type === 'offline' && x.deviceId === a.deviceId, {
      timeoutMs: 10_000,
    });
    t.clock.advance(121_000);
    try {
      expect(await offline).toMatchObject({ familyId: a.familyId, type: 'offline' });
    } finally {
      t.clock.advance(-121_000);
    }
  });
});
