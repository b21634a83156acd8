// What an attacker with an account (or a watch) could make the hub do cheaply, and the bound on
// each: code guesses, families and invites, sockets, alerts, history reads, exports, password
// checks, uploads and stored bytes, malformed bodies on the auth routes, and ids of other
// families probed through error answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type TestHub,
  addMember,
  api,
  connect,
  connectError,
  createFamily,
  familyWithWatch,
  provisionWatch,
  registerUser,
  request,
  startHub,
} from '../helpers/hub.js';
import { pngFile } from '../helpers/media.js';
import { sharingFamily } from '../helpers/location.js';

describe('per-person budgets (HUB_BUDGET_SCALE=1)', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_BUDGET_SCALE: '1', HUB_SOCKET_RATE_POINTS: '10000', HUB_HTTP_AUTH_RATE_PER_MIN: '10000' } });
  });
  afterAll(() => t.close());

  it('limits binding-code and invite-code guesses per person, whatever the code', async () => {
    const owner = await registerUser(t);
    const fid = await createFamily(t, owner);
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(
        (
          await api(t, 'POST', `/v1/families/${fid}/devices`, {
            token: owner.accessToken,
            body: { bindingCode: `WRONG${i}A`, childName: 'X' },
          })
        ).status,
      );
      answers.push((await api(t, 'POST', `/v1/invites/NOPE${i}NOPE/accept`, { token: owner.accessToken })).status);
    }
    // Ten guesses in all are answered (404: unknown code); then the person must wait.
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(404));
    expect(answers.slice(10)).toEqual([429, 429]);
    // Even a right code waits: a guess is a guess.
    const watch = await provisionWatch(t);
    const right = await api(t, 'POST', `/v1/families/${fid}/devices`, {
      token: owner.accessToken,
      body: { bindingCode: watch.bindingCode, childName: 'X' },
    });
    expect(right.body.error).toMatchObject({ code: 'RATE_LIMITED', reason: 'rate_limited' });
    // Another person is not affected.
    const other = await registerUser(t);
    const otherFid = await createFamily(t, other);
    expect(
      (
        await api(t, 'POST', `/v1/families/${otherFid}/devices`, {
          token: other.accessToken,
          body: { bindingCode: watch.bindingCode, childName: 'X' },
        })
      ).status,
    ).toBe(201);
  });

  it('limits new families per person per day', async () => {
    const u = await registerUser(t);
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++)
      statuses.push((await api(t, 'POST', '/v1/families', { token: u.accessToken, body: { name: `F${i}` } })).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(201));
    expect(statuses[20]).toBe(429);
  });

  it('limits history reads (each writes an audit row) per person', async () => {
    const f = await sharingFamily(t);
    const q = { deviceId: f.deviceId, from: 0, to: Date.now() };
    let refused = 0;
    for (let i = 0; i < 125; i++) if (!(await request(f.parentSocket, 'location:history', q)).ok) refused++;
    expect(refused).toBe(5);
  });

  it('keeps one open alert per kind and watch: raising it again answers the open one', async () => {
    const f = await sharingFamily(t);
    const first = await request(f.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    const again = await request(f.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now() });
    expect(again.alert.id).toBe(first.alert.id);
    const list = await api(t, 'GET', `/v1/families/${f.familyId}/alerts`, { token: f.owner.accessToken });
    expect(list.body.alerts.filter((a: { type: string }) => a.type === 'sos')).toHaveLength(1);
  });

  it('streams one export at a time per person, and frees the slot when the stream ends', async () => {
    const f = await familyWithWatch(t);
    const me = { kind: 'user' as const, id: f.owner.id };
    const req = { familyId: f.familyId, deviceId: f.watch.deviceId };
    const { privacy } = t.hub.services;
    // The first export has started (its slot is taken) but is not read yet.
    const first = await privacy.exportWatch(me, req);
    await expect(privacy.exportWatch(me, req)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    let text = '';
    for await (const chunk of first) text += chunk;
    expect(JSON.parse(text).watch.id).toBe(f.watch.deviceId);
    const again = await privacy.exportWatch(me, req);
    for await (const _ of again) void _;
  });
});

describe('throttles, quotas and error answers', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({
      env: {
        HUB_MEDIA_QUOTA_FAMILY_MB: '1',
        HUB_MEDIA_UPLOAD_MB_PER_MIN: '2',
        HUB_SOCKET_RATE_POINTS: '10000',
      },
    });
  });
  afterAll(() => t.close());

  it('counts malformed bodies on the auth routes in the per-address budget', async () => {
    const h = await startHub({ env: { HUB_HTTP_AUTH_RATE_PER_MIN: '4' } });
    try {
      for (let i = 0; i < 4; i++) expect((await api(h, 'POST', '/v1/auth/login', { rawBody: '{"email":' })).status).toBe(400);
      const good = await api(h, 'POST', '/v1/auth/login', { body: { email: 'a@example.test', password: 'whatever!' } });
      expect(good.status).toBe(429);
    } finally {
      await h.close();
    }
  });

  it('sends every password check of DELETE /v1/me through the login throttle', async () => {
    const h = await startHub();
    try {
      const u = await registerUser(h);
      const wrong = [];
      for (let i = 0; i < 6; i++)
        wrong.push(await api(h, 'DELETE', '/v1/me', { token: u.accessToken, body: { password: `guess-${i}-guess` } }));
      expect(wrong.slice(0, 5).map((r) => r.body.error.reason)).toEqual(Array(5).fill('password_wrong'));
      expect(wrong[5]!.body.error).toMatchObject({ code: 'RATE_LIMITED', reason: 'login_locked' });
      // Locked even for the right password, and logins too: one budget.
      expect((await api(h, 'DELETE', '/v1/me', { token: u.accessToken, body: { password: u.password } })).status).toBe(429);
      expect((await api(h, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(429);
    } finally {
      await h.close();
    }
  });

  it('refuses a socket beyond the per-principal limit', async () => {
    const h = await startHub({ env: { HUB_MAX_SOCKETS_PER_PRINCIPAL: '3' } });
    try {
      const u = await registerUser(h);
      const held = [await connect(h, u.accessToken), await connect(h, u.accessToken), await connect(h, u.accessToken)];
      expect(await connectError(h, u.accessToken)).toMatchObject({ code: 'RATE_LIMITED', reason: 'too_many_connections' });
      held[0]!.disconnect();
      await new Promise((r) => setTimeout(r, 100));
      const again = await connect(h, u.accessToken);
      again.disconnect();
      held.forEach((s) => s.disconnect());
    } finally {
      await h.close();
    }
  });

  it('bounds a family’s stored media and a sender’s upload rate, and counts what it refused', async () => {
    const f = await sharingFamily(t);
    const photo = pngFile(480, 480, { noise: true }); // a photo of about 0.7 MB
    expect(photo.length).toBeGreaterThan(600_000);
    expect(photo.length).toBeLessThan(1_000_000);
    const send = (n: number) =>
      request(f.parentSocket, 'chat:send', {
        conversationId: f.familyId,
        clientMsgId: `p-${n}`,
        kind: 'image',
        media: { data: photo, mime: 'image/png' },
      });
    const first = await send(1);
    expect(first.ok, JSON.stringify(first.error)).toBe(true);
    const second = await send(2);
    // 1 MB per family: the second photo does not fit.
    expect(second.error).toMatchObject({ code: 'TOO_LARGE', reason: 'storage_full' });
    // Text still goes through, for everyone.
    expect(
      (await request(f.parentSocket, 'chat:send', { conversationId: f.familyId, clientMsgId: 't-1', kind: 'text', text: 'hi' }))
        .ok,
    ).toBe(true);
    // Another family, same sender rate: 2 MB per minute for a person across families.
    const fid2 = await createFamily(t, f.owner, 'Second');
    const s2 = await connect(t, f.owner.accessToken);
    const up = (n: number, fid: string) =>
      request(s2, 'chat:send', {
        conversationId: fid,
        clientMsgId: `q-${n}`,
        kind: 'image',
        media: { data: photo, mime: 'image/png' },
      });
    expect((await up(1, fid2)).ok).toBe(true);
    const fid3 = await createFamily(t, f.owner, 'Third');
    const fid4 = await createFamily(t, f.owner, 'Fourth');
    const third = await up(2, fid3);
    const fourth = await up(3, fid4);
    expect([third, fourth].map((r) => r.error?.reason)).toContain('upload_rate');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_media_refused_total\{reason="storage_full"\} [1-9]/);
    expect(metrics).toMatch(/hub_media_refused_total\{reason="upload_rate"\} [1-9]/);
    s2.disconnect();
  });

  it('answers another family’s watch in history exactly as a missing one', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    const q = (deviceId: string) => request(a.parentSocket, 'location:history', { deviceId, from: 0, to: Date.now() });
    const foreign = await q(b.deviceId);
    const missing = await q('no-such-watch');
    expect(foreign.error).toMatchObject({ code: 'FORBIDDEN', reason: 'watch_not_in_family' });
    expect(missing.error).toEqual(foreign.error);
    // A member of the watch's family who is a viewer reads it; the viewer of another does not.
    const viewer = await addMember(t, b.owner, b.familyId, 'viewer');
    const vs = await connect(t, viewer.accessToken);
    expect((await request(vs, 'location:history', { deviceId: b.deviceId, from: 0, to: Date.now() })).ok).toBe(true);
    vs.disconnect();
  });
});
