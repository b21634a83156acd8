// Calls through a real mediasoup worker, signaled with the real client: the lifecycle, who may
// call whom, and real RTP flowing from a parent to a watch through the SFU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientSocket,
  type TestHub,
  addMember,
  api,
  connect,
  received,
  request,
  requestRaw,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { MediaPeer } from '../helpers/media-peer.js';
import { sharingFamily } from '../helpers/location.js';

async function perms(t: TestHub, token: string, fid: string, did: string, p: { camera: boolean; microphone: boolean }) {
  const body = { location: true, contacts: false, ...p };
  expect((await api(t, 'PUT', `/v1/families/${fid}/devices/${did}/permissions`, { token, body })).status).toBe(200);
}

/** A family whose watch may talk and show video, with both sockets connected. */
async function callableFamily(t: TestHub) {
  const f = await sharingFamily(t);
  await perms(t, f.owner.accessToken, f.familyId, f.deviceId, { camera: true, microphone: true });
  return f;
}

const startCall = (s: ClientSocket, familyId: string, deviceId: string, video = true) =>
  request(s, 'call:start', { familyId, invitees: [{ kind: 'device', id: deviceId }], video });

describe('calls without a media server', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { MEDIASOUP_WORKERS: '0' } });
  });
  afterAll(() => t.close());

  it('answers UNAVAILABLE and leaves everything else working', async () => {
    const a = await callableFamily(t);
    expect((await startCall(a.parentSocket, a.familyId, a.deviceId)).error.code).toBe('UNAVAILABLE');
    expect((await request(a.parentSocket, 'presence:list', { familyId: a.familyId })).ok).toBe(true);
  });
});

describe('calls', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({
      env: {
        MEDIASOUP_WORKERS: '1',
        MEDIASOUP_MIN_PORT: '42000',
        MEDIASOUP_MAX_PORT: '42999',
        HUB_CALL_RING_TIMEOUT_S: '2',
        HUB_CALL_RECONNECT_GRACE_S: '1',
      },
    });
  });
  afterAll(() => t.close());

  it('rings, is accepted, and carries real audio and video from a parent to the watch', { timeout: 60_000 }, async () => {
    const a = await callableFamily(t);
    const ring = waitFor(a.watchSocket, 'call:ring');
    const started = await startCall(a.parentSocket, a.familyId, a.deviceId);
    expect(started.ok).toBe(true);
    expect(await ring).toEqual({ callId: started.callId, from: { kind: 'user', id: a.owner.id }, video: true });
    const active = waitFor(a.parentSocket, 'call:state', (e) => e.state === 'active');
    const accepted = await request(a.watchSocket, 'call:accept', { callId: started.callId });
    expect(accepted.ok).toBe(true);
    await active;

    const parent = new MediaPeer(a.parentSocket, started.callId);
    const watch = new MediaPeer(a.watchSocket, started.callId);
    try {
      await parent.load(started.rtpCapabilities);
      await watch.load(accepted.rtpCapabilities);
      const announced: string[] = [];
      a.watchSocket.on('call:producer', (e) => announced.push(e.producerId));
      const producerIds = await parent.sendAudioVideo();
      // Both producers are announced to the watch (a round trip orders us after the emits).
      await request(a.watchSocket, 'call:transport:create', { callId: started.callId, direction: 'send' });
      expect([...announced].sort()).toEqual([...producerIds].sort());
      await watch.receive(producerIds);
      // Wait for media, not for time: until both kinds have arrived in quantity (bounded).
      for (let i = 0; i < 300 && (watch.received.audio <= 50 || watch.received.video <= 50); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(watch.received.audio).toBeGreaterThan(50);
      expect(watch.received.video).toBeGreaterThan(50);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/hub_calls\{what="producers"\} 2/);
      expect(metrics).toMatch(/hub_calls\{what="consumers"\} 2/);
    } finally {
      parent.close();
      watch.close();
    }
    const ended = waitFor(a.watchSocket, 'call:state', (e) => e.state === 'ended');
    await request(a.parentSocket, 'call:hangup', { callId: started.callId });
    expect(await ended).toMatchObject({ callId: started.callId, reason: 'hangup' });
  });

  it('tells a late joiner about the producers already there', async () => {
    const a = await callableFamily(t);
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const gs = await connect(t, guardian.accessToken);
    const started = await request(a.parentSocket, 'call:start', {
      familyId: a.familyId,
      invitees: [
        { kind: 'device', id: a.deviceId },
        { kind: 'user', id: guardian.id },
      ],
      video: false,
    });
    await request(a.watchSocket, 'call:accept', { callId: started.callId });
    const parent = new MediaPeer(a.parentSocket, started.callId);
    try {
      await parent.load(started.rtpCapabilities);
      const send = await parent.sendAudioVideo().catch((e: Error) => e);
      // A voice call refuses video; the audio producer stands.
      expect(send).toBeInstanceOf(Error);
      const late = waitFor(gs, 'call:producer');
      expect((await request(gs, 'call:accept', { callId: started.callId })).ok).toBe(true);
      expect(await late).toMatchObject({ callId: started.callId, kind: 'audio', from: { kind: 'user', id: a.owner.id } });
    } finally {
      parent.close();
      await request(a.parentSocket, 'call:hangup', { callId: started.callId });
      gs.disconnect();
    }
  });

  it('ends as declined, missed, or busy', async () => {
    const a = await callableFamily(t);
    const declined = waitFor(a.parentSocket, 'call:state', (e) => e.state === 'ended');
    const c1 = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    await request(a.watchSocket, 'call:decline', { callId: c1.callId });
    expect(await declined).toEqual({ callId: c1.callId, state: 'ended', reason: 'declined' });

    const missed = waitFor(a.parentSocket, 'call:state', (e) => e.state === 'ended', { timeoutMs: 8000 });
    const c2 = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    expect(await missed).toEqual({ callId: c2.callId, state: 'ended', reason: 'missed' });

    const c3 = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    await request(a.watchSocket, 'call:accept', { callId: c3.callId });
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const gs = await connect(t, guardian.accessToken);
    const busy = await startCall(gs, a.familyId, a.deviceId, false);
    expect(busy.error.code).toBe('CONFLICT');
    expect((await startCall(a.parentSocket, a.familyId, a.deviceId, false)).error.code).toBe('CONFLICT');
    await request(a.parentSocket, 'call:hangup', { callId: c3.callId });
    gs.disconnect();
  });

  it('lets only the family call, needs the watch’s consent, and checks who signals', async () => {
    const a = await callableFamily(t);
    const b = await callableFamily(t);
    expect((await startCall(b.parentSocket, a.familyId, a.deviceId)).error.code).toBe('FORBIDDEN');
    expect((await startCall(a.parentSocket, a.familyId, b.deviceId)).error.code).toBe('FORBIDDEN');
    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    const vs = await connect(t, viewer.accessToken);
    expect((await startCall(vs, a.familyId, a.deviceId)).error.code).toBe('FORBIDDEN');
    await perms(t, a.owner.accessToken, a.familyId, a.deviceId, { camera: false, microphone: true });
    expect((await startCall(a.parentSocket, a.familyId, a.deviceId, true)).error.code).toBe('CONSENT_REQUIRED');
    const voice = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    expect(voice.ok).toBe(true);
    // Strangers to the call cannot signal in it or answer it.
    expect((await request(b.parentSocket, 'call:transport:create', { callId: voice.callId, direction: 'send' })).error.code).toBe(
      'NOT_FOUND',
    );
    expect((await request(vs, 'call:accept', { callId: voice.callId })).error.code).toBe('NOT_FOUND');
    expect((await request(a.parentSocket, 'call:consumer:resume', { callId: voice.callId, consumerId: 'nope' })).error.code).toBe(
      'NOT_FOUND',
    );
    await request(a.parentSocket, 'call:hangup', { callId: voice.callId });
    vs.disconnect();
  });

  it('keeps a dropped participant for the grace period, then ends the call', async () => {
    const a = await callableFamily(t);
    const c = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    await request(a.watchSocket, 'call:accept', { callId: c.callId });
    // Back within the grace period: still in the call.
    a.watchSocket.disconnect();
    const back = await connect(t, a.watch.deviceToken);
    const transport = await request(back, 'call:transport:create', { callId: c.callId, direction: 'recv' });
    expect(transport.ok).toBe(true);
    const restarted = await request(back, 'call:ice:restart', { callId: c.callId, transportId: transport.id });
    const fragment = (p: object) => (p as { usernameFragment: string }).usernameFragment;
    expect(fragment(restarted.iceParameters)).not.toBe(fragment(transport.iceParameters));
    // Gone for longer: the call ends.
    const ended = waitFor(a.parentSocket, 'call:state', (e) => e.state === 'ended', { timeoutMs: 8000 });
    back.disconnect();
    expect(await ended).toEqual({ callId: c.callId, state: 'ended', reason: 'disconnected' });
    // Everything of the call is gone: no call, no transport left on the node.
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_calls\{what="calls"\} 0/);
    expect(metrics).toMatch(/hub_calls\{what="transports"\} 0/);
  });

  it('rings again each socket of an invitee that connects while the call still rings for them', async () => {
    const a = await callableFamily(t);
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const other = await addMember(t, a.owner, a.familyId, 'guardian');
    // The guardian has no socket when the call starts (a ring push), then opens the app.
    const c = await request(a.parentSocket, 'call:start', {
      familyId: a.familyId,
      invitees: [{ kind: 'user', id: guardian.id }],
      video: false,
    });
    expect(c.ok).toBe(true);
    const ring = { callId: c.callId, from: { kind: 'user', id: a.owner.id }, video: false };
    const first = await connect(t, guardian.accessToken);
    expect(await waitFor(first, 'call:ring', () => true, { past: true })).toEqual(ring);
    // A second phone rings too, without ringing the first one again; a member not invited hears nothing.
    const uninvited = await connect(t, other.accessToken);
    const second = await connect(t, guardian.accessToken);
    expect(await waitFor(second, 'call:ring', () => true, { past: true })).toEqual(ring);
    await request(uninvited, 'presence:list', { familyId: a.familyId });
    await request(first, 'presence:list', { familyId: a.familyId });
    expect(received(uninvited, 'call:ring')).toEqual([]);
    expect(received(first, 'call:ring')).toEqual([ring]);
    // Answered: a socket connecting now is in the call, not rung.
    expect((await request(second, 'call:accept', { callId: c.callId })).ok).toBe(true);
    const third = await connect(t, guardian.accessToken);
    await request(third, 'presence:list', { familyId: a.familyId });
    expect(received(third, 'call:ring')).toEqual([]);
    await request(a.parentSocket, 'call:hangup', { callId: c.callId });
    for (const s of [first, second, third, uninvited]) s.disconnect();
  });

  it('ends the calls of a worker that dies, and serves new calls on its replacement', async () => {
    const a = await callableFamily(t);
    const c = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    await request(a.watchSocket, 'call:accept', { callId: c.callId });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const pid = Number(/hub_media_worker_rss_bytes\{pid="(\d+)"\}/.exec(metrics)?.[1]);
    expect(pid).toBeGreaterThan(0);
    const ended = waitFor(a.parentSocket, 'call:state', (e) => e.state === 'ended');
    process.kill(pid, 'SIGKILL');
    expect(await ended).toEqual({ callId: c.callId, state: 'ended', reason: 'media_failure' });
    // The pool starts a new worker; calls work again.
    let again: { ok: boolean; callId?: string } = { ok: false };
    for (let i = 0; i < 50 && !again.ok; i++) {
      again = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
      if (!again.ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(again.ok).toBe(true);
    await requestRaw(a.parentSocket, 'call:hangup', { callId: again.callId });
  });

  it('answers malformed DTLS and RTP parameters with BAD_REQUEST, and the worker carries on', async () => {
    const a = await callableFamily(t);
    const c = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    const tr = await request(a.parentSocket, 'call:transport:create', { callId: c.callId, direction: 'send' });
    const bad: [string, object][] = [
      [
        'call:transport:connect',
        { callId: c.callId, transportId: tr.id, dtlsParameters: { fingerprints: [{ algorithm: 'md5', value: 'zz' }] } },
      ],
      [
        'call:transport:connect',
        {
          callId: c.callId,
          transportId: tr.id,
          dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'not-hex' }] },
        },
      ],
      ['call:produce', { callId: c.callId, transportId: tr.id, kind: 'audio', rtpParameters: { codecs: 'x' } }],
      [
        'call:produce',
        {
          callId: c.callId,
          transportId: tr.id,
          kind: 'audio',
          rtpParameters: { codecs: [{ mimeType: 'audio/nope', payloadType: 300 }] },
        },
      ],
      ['call:consume', { callId: c.callId, transportId: tr.id, producerId: 'nope', rtpCapabilities: { codecs: 7 } }],
    ];
    for (const [event, payload] of bad) {
      const r = await requestRaw(a.parentSocket, event, payload);
      expect(r.ok, event).toBe(false);
      expect(['BAD_REQUEST', 'NOT_FOUND']).toContain(r.error.code);
    }
    await request(a.parentSocket, 'call:hangup', { callId: c.callId });
    // The worker is fine: a new call works.
    const again = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    expect(again.ok).toBe(true);
    await request(a.parentSocket, 'call:hangup', { callId: again.callId });
  });
});

describe('call resources and revocation', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({
      env: {
        MEDIASOUP_WORKERS: '1',
        MEDIASOUP_MIN_PORT: '43000',
        MEDIASOUP_MAX_PORT: '43999',
        HUB_MAX_CALLS_PER_FAMILY: '1',
      },
    });
  });
  afterAll(() => t.close());

  it('caps what one participant holds, even spread over sockets, while the call only rings', async () => {
    const a = await callableFamily(t);
    const started = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    const second = await connect(t, a.owner.accessToken);
    const answers = [];
    for (let i = 0; i < 6; i++) {
      const s = i % 2 === 0 ? a.parentSocket : second;
      answers.push(await request(s, 'call:transport:create', { callId: started.callId, direction: 'recv' }));
    }
    expect(answers.slice(0, 4).every((r) => r.ok)).toBe(true);
    for (const r of answers.slice(4)) expect(r.error).toMatchObject({ code: 'CONFLICT', reason: 'call_limit' });
    expect(t.hub.services.calls.stats().transports).toBe(4);
    await request(a.parentSocket, 'call:hangup', { callId: started.callId });
    expect(t.hub.services.calls.stats().transports).toBe(0);
    second.disconnect();
  });

  it('bounds the calls of one family', async () => {
    const a = await callableFamily(t);
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const viewer = await addMember(t, a.owner, a.familyId, 'viewer');
    const gs = await connect(t, guardian.accessToken);
    const first = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    expect(first.ok).toBe(true);
    const again = await request(gs, 'call:start', {
      familyId: a.familyId,
      invitees: [{ kind: 'user', id: viewer.id }],
      video: false,
    });
    expect(again.error).toMatchObject({ code: 'CONFLICT', reason: 'family_calls_full' });
    await request(a.parentSocket, 'call:hangup', { callId: first.callId });
    gs.disconnect();
  });

  it('ends the part of a removed member and of an unbound watch at once', async () => {
    const a = await callableFamily(t);
    const guardian = await addMember(t, a.owner, a.familyId, 'guardian');
    const gs = await connect(t, guardian.accessToken);
    const started = await request(a.parentSocket, 'call:start', {
      familyId: a.familyId,
      invitees: [
        { kind: 'device', id: a.deviceId },
        { kind: 'user', id: guardian.id },
      ],
      video: false,
    });
    await request(a.watchSocket, 'call:accept', { callId: started.callId });
    await request(gs, 'call:accept', { callId: started.callId });
    expect((await request(gs, 'call:transport:create', { callId: started.callId, direction: 'recv' })).ok).toBe(true);

    const guardianOut = waitFor(gs, 'call:state', (e) => e.state === 'ended');
    expect(
      (await api(t, 'DELETE', `/v1/families/${a.familyId}/members/${guardian.id}`, { token: a.owner.accessToken })).status,
    ).toBe(204);
    expect(await guardianOut).toMatchObject({ callId: started.callId, reason: 'removed' });
    // Out of the call: no more transports for the removed member.
    expect((await request(gs, 'call:transport:create', { callId: started.callId, direction: 'recv' })).error.code).toBe(
      'NOT_FOUND',
    );

    const watchOut = waitFor(a.watchSocket, 'call:state', (e) => e.state === 'ended');
    expect(
      (await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken })).status,
    ).toBe(204);
    expect(await watchOut).toMatchObject({ callId: started.callId, reason: 'removed' });
    expect(t.hub.services.calls.stats().calls).toBe(0);
    gs.disconnect();
  });

  it('stops what a watch sends once its microphone is turned off', { timeout: 60_000 }, async () => {
    const a = await callableFamily(t);
    const started = await startCall(a.parentSocket, a.familyId, a.deviceId, false);
    const accepted = await request(a.watchSocket, 'call:accept', { callId: started.callId });
    const watch = new MediaPeer(a.watchSocket, started.callId);
    try {
      await watch.load(accepted.rtpCapabilities);
      await watch.sendAudioVideo(['audio']);
      expect(t.hub.services.calls.stats().producers).toBe(1);
      const out = waitFor(a.watchSocket, 'call:state', (e) => e.state === 'ended');
      await perms(t, a.owner.accessToken, a.familyId, a.deviceId, { camera: true, microphone: false });
      expect(await out).toMatchObject({ reason: 'removed' });
      expect(t.hub.services.calls.stats().producers).toBe(0);
      // And no new send transport either.
      expect((await request(a.watchSocket, 'call:transport:create', { callId: started.callId, direction: 'send' })).ok).toBe(
        false,
      );
    } finally {
      watch.close();
      await request(a.parentSocket, 'call:hangup', { callId: started.callId });
    }
  });
});
