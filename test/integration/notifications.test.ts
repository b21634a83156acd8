// Notifications that reach a closed app, against real local push services (APNs over HTTP/2, FCM
// v1 with Google's token endpoint, the operator's webhook): one delivery per event and
// installation, retried after a failure, without text or coordinates; registrations before and
// after sign-in, untied at logout; mutes and quiet hours that never hold back an SOS; an SOS
// escalating to emergency contacts; pushes for crossings and command results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, addMember, api, connect, request, startHub, waitFor } from '../helpers/hub.js';
import { BOUND_A_WEEK_AGO, dLat, fix, sharingFamily } from '../helpers/location.js';
import {
  type PushReceivers,
  type Received,
  apnsToken,
  fcmToken,
  installApp,
  installation,
  register,
  startHubWithPush,
  webhookToken,
} from '../helpers/push-receivers.js';

const HOME = { lat: 48.8566, lng: 2.3522 };
const to = (token: string) => (r: Received) => r.token === token;

describe('push to app installations', () => {
  let push: PushReceivers;
  let t: TestHub;
  let stop = async () => {};
  beforeAll(async () => {
    ({ push, t, stop } = await startHubWithPush({
      HUB_PUSH_MAX_INSTALLATIONS_PER_USER: '3',
      HUB_SOS_ESCALATION_S: '0,1,2',
      HUB_SOS_RENOTIFY_S: '1',
      HUB_SOS_EMERGENCY_AFTER_SENDS: '2',
    }));
  });
  afterAll(() => stop());

  it('sends one push per event and installation through FCM, APNs and the webhook, retried, without text or coordinates', async () => {
    const a = await sharingFamily(t);
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    const apps = [await installApp(t, away, 'fcm'), await installApp(t, away, 'apns'), await installApp(t, away, 'webhook')];
    // The owner is connected: an app of theirs gets nothing.
    const ownerApp = await installApp(t, a.owner, 'fcm');
    push.failNext.apns = 1;
    push.failNext.fcm = 1;
    const sent = await request(a.parentSocket, 'chat:send', {
      conversationId: a.familyId,
      clientMsgId: 'n1',
      kind: 'text',
      text: 'secret plans',
    });
    expect(sent.ok).toBe(true);
    const forMessage = (r: Received) => r.kind === 'message' && r.data.messageId === sent.message.id;
    await push.until((all) => apps.every((app) => all.some((r) => to(app.token)(r) && forMessage(r))));
    // A second event, so the first had every chance to arrive twice.
    await request(a.watchSocket, 'alert:raise', { type: 'fall', ts: Date.now(), lat: 48.8512, lng: 2.3411 });
    await push.until((all) => apps.every((app) => all.some((r) => to(app.token)(r) && r.kind === 'alert')));
    for (const app of apps) {
      const got = push.received.filter((r) => to(app.token)(r) && forMessage(r));
      expect(got, app.provider).toHaveLength(1);
      expect(got[0]!.raw).not.toContain('secret plans');
      expect(got[0]!.data).toMatchObject({ familyId: a.familyId, conversationId: a.familyId });
      const alert = push.received.filter((r) => to(app.token)(r) && r.kind === 'alert');
      expect(alert).toHaveLength(1);
      expect(alert[0]!.raw).not.toContain('48.85');
      expect(alert[0]!.raw).not.toContain('2.34');
    }
    // The failed attempts were retried as the same delivery (the app drops repeats by its id).
    for (const provider of ['apns', 'fcm'] as const) {
      const failed = push.failed.find((f) => f.provider === provider)!;
      expect(push.received.filter((r) => r.deliveryId === failed.deliveryId)).toHaveLength(1);
    }
    // One delivery id per event and installation.
    const mine = push.received.filter((r) => apps.some((app) => to(app.token)(r)));
    expect(new Set(mine.map((r) => r.deliveryId)).size).toBe(mine.length);
    expect(push.received.filter(to(ownerApp.token))).toEqual([]);
    // APNs got its own wire format: topic, push type and a generic alert.
    const apnsPush = push.received.find((r) => to(apps[1]!.token)(r) && forMessage(r))!;
    expect(apnsPush.headers).toMatchObject({ 'apns-push-type': 'alert', 'apns-topic': 'test.hub.app' });
    expect(apnsPush.data.aps).toMatchObject({ alert: { title: 'New message' } });
  });

  it('registers an installation before sign-in (nothing of any family), ties it at sign-in, unties it at logout', async () => {
    const a = await sharingFamily(t);
    const member = await addMember(t, a.owner, a.familyId, 'guardian');
    const control = await installApp(t, await addMember(t, a.owner, a.familyId, 'guardian'), 'fcm');
    const app = { installationId: installation(), provider: 'fcm', token: fcmToken() };
    const anon = await register(t, app);
    expect(anon.status).toBe(201);
    expect(anon.body.registration).toMatchObject({ installationId: app.installationId, signedIn: false });
    let n = 0;
    const chat = async () => {
      const s = await request(a.parentSocket, 'chat:send', {
        conversationId: a.familyId,
        clientMsgId: `r${++n}`,
        kind: 'text',
        text: 'x',
      });
      await push.until((all) => all.some((r) => to(control.token)(r) && r.data.messageId === s.message.id));
      return s.message.id as string;
    };
    const first = await chat();
    expect(push.received.filter(to(app.token))).toEqual([]);

    // Signed in: the same installation, now tied (200: it existed).
    const tied = await register(t, app, member.accessToken);
    expect(tied.status).toBe(200);
    expect(tied.body.registration.signedIn).toBe(true);
    const second = await chat();
    await push.until((all) => all.some((r) => to(app.token)(r) && r.data.messageId === second));
    expect(push.received.filter((r) => to(app.token)(r) && r.data.messageId === first)).toEqual([]);

    // Someone else cannot divert it without its current token, signed in or not.
    const stranger = await sharingFamily(t);
    const hijack = await register(t, { ...app, token: fcmToken() }, stranger.owner.accessToken);
    expect(hijack.status).toBe(403);
    expect(hijack.body.error.reason).toBe('installation_taken');
    expect((await register(t, { ...app, token: fcmToken() })).body.error.reason).toBe('installation_taken');
    // The user re-registering a rotated token updates it.
    const rotated = fcmToken();
    expect((await register(t, { ...app, token: rotated }, member.accessToken)).status).toBe(200);

    // Logout ends the session the installation was tied with: nothing more for it.
    expect((await api(t, 'POST', '/v1/auth/logout', { body: { refreshToken: member.refreshToken } })).status).toBe(204);
    await push.until(() => true);
    for (let i = 0; i < 50 && (await t.store.pushRegistrations.find(app.installationId))?.user_id; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const third = await chat();
    expect(push.received.filter((r) => to(rotated)(r) && r.data.messageId === third)).toEqual([]);
    expect((await t.store.pushRegistrations.find(app.installationId))?.user_id).toBeNull();
  });

  it('validates registrations and bounds them per user', async () => {
    const a = await sharingFamily(t);
    const id = installation();
    const bad = [
      { installationId: 'short', provider: 'fcm', token: fcmToken() },
      { installationId: id, provider: 'gcm', token: fcmToken() },
      { installationId: id, provider: 'apns', token: 'not-hex-at-all' },
      { installationId: id, provider: 'fcm', token: 'has spaces in it' },
      { installationId: id, provider: 'fcm', token: fcmToken(), extra: 1 },
      { installationId: id, provider: 'fcm' },
    ];
    for (const body of bad) expect((await register(t, body)).status, JSON.stringify(body)).toBe(400);
    expect((await register(t, { installationId: id, provider: 'fcm', token: fcmToken() }, 'not-a-token')).status).toBe(401);
    const watch = await register(t, { installationId: id, provider: 'fcm', token: fcmToken() }, a.watch.deviceToken);
    expect(watch.body.error.reason).toBe('principal_kind');
    // A fourth installation unties the one registered longest ago.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await installApp(t, a.owner, 'apns')).installationId);
    const mine = (await t.store.pushRegistrations.forUser(a.owner.id)).map((r) => r.installation_id).sort();
    expect(mine).toEqual(ids.slice(1).sort());
  });

  it('holds back muted types and anything in quiet hours, but never an SOS', async () => {
    const a = await sharingFamily(t);
    const quiet = await addMember(t, a.owner, a.familyId, 'guardian');
    const app = await installApp(t, quiet, 'fcm');
    const control = await installApp(t, await addMember(t, a.owner, a.familyId, 'viewer'), 'fcm');
    const put = (body: unknown) => api(t, 'PUT', '/v1/me/notifications', { token: quiet.accessToken, body });
    expect((await put({ muted: ['sos'] })).status).toBe(400);
    expect((await put({ muted: ['incident'] })).status).toBe(400);
    expect((await put({ muted: ['nonsense'] })).status).toBe(400);
    expect((await put({ muted: [], quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } })).status).toBe(400);
    expect(
      (await put({ muted: [], quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin', utcOffsetMinutes: 60 } }))
        .status,
    ).toBe(400);
    expect((await put({ muted: [], quietHours: { start: '22:00', end: '22:00', utcOffsetMinutes: 0 } })).status).toBe(400);

    const muted = await put({ muted: ['message', 'fall'] });
    expect(muted.status).toBe(200);
    expect(muted.body).toEqual({ muted: ['message', 'fall'], quietHours: null });
    // Both are in the user's own export.
    const exported = await api(t, 'GET', '/v1/me/export', { token: quiet.accessToken });
    expect(exported.body.notificationSettings).toEqual({ muted: ['message', 'fall'], quietHours: null });
    expect(exported.body.pushRegistrations).toEqual([
      expect.objectContaining({ installationId: app.installationId, provider: 'fcm', token: app.token }),
    ]);
    let n = 0;
    const chat = async () => {
      const s = await request(a.parentSocket, 'chat:send', {
        conversationId: a.familyId,
        clientMsgId: `q${++n}`,
        kind: 'text',
        text: 'x',
      });
      await push.until((all) => all.some((r) => to(control.token)(r) && r.data.messageId === s.message.id));
      return s.message.id as string;
    };
    const hushed = await chat();
    const sos = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    await push.until((all) => all.some((r) => to(app.token)(r) && r.kind === 'sos' && r.data.alertId === sos.alert.id));
    await request(a.parentSocket, 'alert:ack', { id: sos.alert.id });
    expect(push.received.filter((r) => to(app.token)(r) && r.data.messageId === hushed)).toEqual([]);

    // Quiet hours around now (UTC), nothing muted: the chat waits, an SOS does not.
    const hm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const now = Date.now();
    const quietHours = { start: hm(new Date(now - 3600_000)), end: hm(new Date(now + 3600_000)), utcOffsetMinutes: 0 };
    expect((await put({ muted: [], quietHours })).body).toEqual({ muted: [], quietHours });
    expect((await api(t, 'GET', '/v1/me/notifications', { token: quiet.accessToken })).body).toEqual({ muted: [], quietHours });
    const atNight = await chat();
    const sos2 = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    await push.until((all) => all.some((r) => to(app.token)(r) && r.data.alertId === sos2.alert.id));
    await request(a.parentSocket, 'alert:ack', { id: sos2.alert.id });
    expect(push.received.filter((r) => to(app.token)(r) && r.data.messageId === atNight)).toEqual([]);
    // Mutes replaced without quietHours keep the quiet hours; null clears them.
    expect((await put({ muted: ['geofence'] })).body).toEqual({ muted: ['geofence'], quietHours });
    expect((await put({ muted: [], quietHours: null })).body).toEqual({ muted: [], quietHours: null });
    const day = await chat();
    await push.until((all) => all.some((r) => to(app.token)(r) && r.data.messageId === day));
  });

  it('escalates an unacknowledged SOS: every re-send pushed, then the emergency contacts even while connected', async () => {
    const a = await sharingFamily(t);
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    const contact = await addMember(t, a.owner, a.familyId, 'viewer');
    const other = await addMember(t, a.owner, a.familyId, 'guardian');
    const awayApp = await installApp(t, away, 'apns');
    const contactApp = await installApp(t, contact, 'fcm');
    const otherApp = await installApp(t, other, 'webhook');
    const cs = await connect(t, contact.accessToken);
    const os = await connect(t, other.accessToken);
    const path = (uid: string, fid = a.familyId) => `/v1/families/${fid}/members/${uid}/emergency-contact`;
    // Only the owner of the family marks emergency contacts, and only members.
    expect(
      (await api(t, 'PUT', path(contact.id), { token: other.accessToken, body: { emergencyContact: true } })).body.error.reason,
    ).toBe('role_required');
    const b = await sharingFamily(t);
    expect(
      (await api(t, 'PUT', path(contact.id), { token: b.owner.accessToken, body: { emergencyContact: true } })).body.error.reason,
    ).toBe('not_member');
    expect(
      (await api(t, 'PUT', path(b.owner.id), { token: a.owner.accessToken, body: { emergencyContact: true } })).body.error.reason,
    ).toBe('no_such_member');
    expect(
      (await api(t, 'PUT', path(contact.id), { token: a.owner.accessToken, body: { emergencyContact: 'yes' } })).status,
    ).toBe(400);
    const marked = await api(t, 'PUT', path(contact.id), { token: a.owner.accessToken, body: { emergencyContact: true } });
    expect(marked.body).toEqual({ userId: contact.id, emergencyContact: true });

    const sos = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now(), lat: 48.8512, lng: 2.3411 });
    const id = sos.alert.id as string;
    await waitFor(cs, 'alert', (x) => x.id === id && x.notifyCount === 3, { timeoutMs: 10_000 });
    await push.until((all) => all.some((r) => to(contactApp.token)(r) && r.data.alertId === id));
    await push.until((all) =>
      [1, 2, 3].every((c) => all.some((r) => to(awayApp.token)(r) && r.data.alertId === id && r.data.notifyCount === String(c))),
    );
    const acked = await request(a.parentSocket, 'alert:ack', { id });
    expect(acked.ok).toBe(true);
    const toContact = push.received.filter((r) => to(contactApp.token)(r) && r.data.alertId === id);
    // Connected, the contact got no push of the first two sends; from the third on, each one.
    expect(toContact.every((r) => Number(r.data.notifyCount) >= 3 && r.data.emergency === 'true')).toBe(true);
    expect(toContact[0]!.kind).toBe('sos');
    expect(push.received.filter((r) => to(otherApp.token)(r) && r.data.alertId === id)).toEqual([]);
    // Each send of the schedule went once to each installation, coordinates left out.
    const toAway = push.received.filter((r) => to(awayApp.token)(r) && r.data.alertId === id);
    expect(new Set(toAway.map((r) => r.data.notifyCount)).size).toBe(toAway.length);
    expect(toAway.some((r) => r.raw.includes('48.85'))).toBe(false);
    cs.disconnect();
    os.disconnect();
  });

  it('pushes geofence crossings and command results to members with no connection', async () => {
    const a = await sharingFamily(t, BOUND_A_WEEK_AGO);
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    const app = await installApp(t, away, 'webhook');
    const ownerApp = await installApp(t, a.owner, 'apns');
    await api(t, 'POST', `/v1/families/${a.familyId}/geofences`, {
      token: a.owner.accessToken,
      body: { name: 'Home', kind: 'circle', center: HOME, radius: 100 },
    });
    const now = Date.now();
    await request(a.watchSocket, 'location:report', fix({ ts: now - 2000, lat: HOME.lat + dLat(500), lng: HOME.lng }));
    await request(a.watchSocket, 'location:report', fix({ ts: now - 1000, ...HOME }));
    const [crossing] = await push.until((all) => all.some((r) => to(app.token)(r) && r.kind === 'geofence'));
    const got = push.received.find((r) => to(app.token)(r) && r.kind === 'geofence')!;
    expect(crossing).toBeDefined();
    expect(got.data).toMatchObject({ kind: 'geofence', transition: 'enter', deviceId: a.deviceId, late: false });
    expect(got.raw).not.toContain(String(HOME.lat));

    // The owner sends a command, closes the app; the result reaches their phone.
    const sent = await request(a.parentSocket, 'command:send', { deviceId: a.deviceId, type: 'locate' });
    expect(sent.ok).toBe(true);
    a.parentSocket.disconnect();
    for (let i = 0; i < 100 && (await t.hub.services.backplane.presence.status({ kind: 'user', id: a.owner.id })).online; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await request(a.watchSocket, 'command:result', { id: sent.command.id, status: 'done' })).ok).toBe(true);
    await push.until((all) => all.some((r) => to(ownerApp.token)(r) && r.kind === 'command_result'));
    const result = push.received.find((r) => to(ownerApp.token)(r) && r.kind === 'command_result')!;
    expect(result.data).toMatchObject({ commandId: sent.command.id, commandStatus: 'done', commandType: 'locate' });
    expect(push.received.filter((r) => to(app.token)(r) && r.kind === 'command_result')).toEqual([]);
  });
});

describe('push providers not configured', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('refuses registrations for a provider this hub cannot send through', async () => {
    for (const [provider, token] of [
      ['fcm', fcmToken()],
      ['apns', apnsToken()],
      ['webhook', webhookToken()],
    ]) {
      const r = await register(t, { installationId: installation(), provider, token });
      expect(r.status).toBe(503);
      expect(r.body.error.reason).toBe('push_provider_off');
    }
  });
});
