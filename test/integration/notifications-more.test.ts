// More pushes that reach a closed app: a call nobody answered (real mediasoup worker), and an SOS
// escalation run by two hub nodes on one PostgreSQL database: each send pushed once, not once
// per node, and the emergency contact once per send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreshDatabase, freshDatabaseUrl } from '../helpers/databases.js';
import { type TestHub, addMember, api, request, startHub } from '../helpers/hub.js';
import { sharingFamily } from '../helpers/location.js';
import { type PushReceivers, installApp, startHubWithPush, startPushReceivers } from '../helpers/push-receivers.js';

describe('missed calls', () => {
  let push: PushReceivers;
  let t: TestHub;
  let stop = async () => {};
  beforeAll(async () => {
    ({ push, t, stop } = await startHubWithPush({
      MEDIASOUP_WORKERS: '1',
      MEDIASOUP_MIN_PORT: '47100',
      MEDIASOUP_MAX_PORT: '47199',
      HUB_CALL_RING_TIMEOUT_S: '1',
    }));
  });
  afterAll(() => stop());

  it('pushes ring, then missed_call, to an invited member with no connection when nobody answers', async () => {
    const a = await sharingFamily(t);
    await api(t, 'PUT', `/v1/families/${a.familyId}/devices/${a.deviceId}/permissions`, {
      token: a.owner.accessToken,
      body: { location: true, camera: false, microphone: true, contacts: false },
    });
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    const awayApp = (await installApp(t, away, 'webhook')).token;
    const ownerApp = (await installApp(t, a.owner, 'webhook')).token;
    const started = await request(a.watchSocket, 'call:start', {
      familyId: a.familyId,
      invitees: [
        { kind: 'user', id: away.id },
        { kind: 'user', id: a.owner.id },
      ],
      video: false,
    });
    expect(started.ok).toBe(true);
    await push.until((all) => all.some((r) => r.token === awayApp && r.kind === 'missed_call'));
    const forCall = push.received.filter((r) => r.token === awayApp && r.data.callId === started.callId);
    expect(forCall.map((r) => r.kind).sort()).toEqual(['missed_call', 'ring']);
    // The owner was connected: told on the socket, never pushed.
    expect(push.received.filter((r) => r.token === ownerApp)).toEqual([]);
  });

  /** A family whose watch may call, a guardian with no connection and the app installed, and the owner's app. */
  async function callingFamily() {
    const a = await sharingFamily(t);
    await api(t, 'PUT', `/v1/families/${a.familyId}/devices/${a.deviceId}/permissions`, {
      token: a.owner.accessToken,
      body: { location: true, camera: false, microphone: true, contacts: false },
    });
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    const awayApp = (await installApp(t, away, 'webhook')).token;
    const ownerApp = (await installApp(t, a.owner, 'webhook')).token;
    return { a, away, awayApp, ownerApp };
  }
  const kindsFor = (token: string, callId: string) =>
    push.received
      .filter((r) => r.token === token && r.data.callId === callId)
      .map((r) => r.kind)
      .sort();

  it('pushes missed_call to an invitee who never answered a call someone else took', async () => {
    const { a, away, awayApp, ownerApp } = await callingFamily();
    const started = await request(a.watchSocket, 'call:start', {
      familyId: a.familyId,
      invitees: [
        { kind: 'user', id: away.id },
        { kind: 'user', id: a.owner.id },
      ],
      video: false,
    });
    expect(started.ok).toBe(true);
    expect((await request(a.parentSocket, 'call:accept', { callId: started.callId })).ok).toBe(true);
    await push.until((all) =>
      all.some((r) => r.token === awayApp && r.kind === 'missed_call' && r.data.callId === started.callId),
    );
    expect(kindsFor(awayApp, started.callId)).toEqual(['missed_call', 'ring']);
    // The one who answered missed nothing.
    expect(kindsFor(ownerApp, started.callId)).toEqual([]);
    await request(a.watchSocket, 'call:hangup', { callId: started.callId });
  });

  it('pushes missed_call when the caller gives up before anyone answers', async () => {
    const { a, away, awayApp } = await callingFamily();
    const started = await request(a.watchSocket, 'call:start', {
      familyId: a.familyId,
      invitees: [{ kind: 'user', id: away.id }],
      video: false,
    });
    expect(started.ok).toBe(true);
    expect((await request(a.watchSocket, 'call:hangup', { callId: started.callId })).ok).toBe(true);
    await push.until((all) =>
      all.some((r) => r.token === awayApp && r.kind === 'missed_call' && r.data.callId === started.callId),
    );
    expect(kindsFor(awayApp, started.callId)).toEqual(['missed_call', 'ring']);
  });
});

describe('SOS escalation on two nodes sharing a database', () => {
  let push: PushReceivers;
  let db: FreshDatabase;
  let nodes: TestHub[];
  beforeAll(async () => {
    push = await startPushReceivers();
    db = await freshDatabaseUrl('postgres');
    const env = { ...push.env, HUB_SOS_ESCALATION_S: '0,1,2,3', HUB_SOS_RENOTIFY_S: '60', HUB_SOS_EMERGENCY_AFTER_SENDS: '2' };
    nodes = [await startHub({ databaseUrl: db.url, env }), await startHub({ databaseUrl: db.url, env })];
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
    await db.drop();
    await push.close();
  });

  it('pushes each send once, not once per node, to offline members and to the emergency contact', async () => {
    const [one, two] = nodes as [TestHub, TestHub];
    const a = await sharingFamily(one);
    const away = await addMember(one, a.owner, a.familyId, 'guardian');
    const contact = await addMember(one, a.owner, a.familyId, 'viewer');
    const awayApp = (await installApp(one, away, 'webhook')).token;
    const contactApp = (await installApp(two, contact, 'webhook')).token;
    await api(two, 'PUT', `/v1/families/${a.familyId}/members/${contact.id}/emergency-contact`, {
      token: a.owner.accessToken,
      body: { emergencyContact: true },
    });
    const sos = await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    const id = sos.alert.id as string;
    await push.until((all) => all.some((r) => r.token === awayApp && r.data.alertId === id && r.data.notifyCount === 4));
    await push.until((all) => all.some((r) => r.token === contactApp && r.data.alertId === id && r.data.notifyCount === 4));
    await request(a.parentSocket, 'alert:ack', { id });
    const counts = (token: string) =>
      push.received
        .filter((r) => r.token === token && r.data.alertId === id)
        .map((r) => r.data.notifyCount)
        .sort();
    expect(counts(awayApp)).toEqual([1, 2, 3, 4]);
    // Offline too, the contact got each send once: as a member, then as the emergency contact.
    expect(counts(contactApp)).toEqual([1, 2, 3, 4]);
    expect(
      push.received.filter((r) => r.token === contactApp && r.data.alertId === id).map((r) => r.data.emergency === true),
    ).toEqual([false, false, true, true]);
  });
});

describe('push content when the operator allows it', () => {
  let push: PushReceivers;
  let t: TestHub;
  let stop = async () => {};
  beforeAll(async () => {
    ({ push, t, stop } = await startHubWithPush({ HUB_PUSH_INCLUDE_CONTENT: 'true' }));
  });
  afterAll(() => stop());

  it('puts the text and the coordinates in the push only with HUB_PUSH_INCLUDE_CONTENT', async () => {
    const a = await sharingFamily(t);
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    const { token } = await installApp(t, away, 'fcm');
    await request(a.parentSocket, 'chat:send', {
      conversationId: a.familyId,
      clientMsgId: 'c1',
      kind: 'text',
      text: 'home by six',
    });
    await request(a.watchSocket, 'alert:raise', { type: 'fall', ts: Date.now(), lat: 48.8512, lng: 2.3411 });
    await push.until((all) => ['message', 'alert'].every((k) => all.some((x) => x.token === token && x.kind === k)));
    const message = push.received.find((x) => x.token === token && x.kind === 'message')!;
    expect((message.data.message as { notification: unknown }).notification).toEqual({
      title: 'New message',
      body: 'home by six',
    });
    const alert = push.received.find((x) => x.token === token && x.kind === 'alert')!;
    expect(alert.data).toMatchObject({ lat: '48.8512', lng: '2.3411' });
  });
});
