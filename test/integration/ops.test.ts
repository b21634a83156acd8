// Operations: health, readiness, metrics, what the logs may not contain, and the drain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROVISIONING_KEY,
  type TestHub,
  api,
  connect,
  connectError,
  familyWithWatch,
  request,
  startHub,
  waitFor,
} from '../helpers/hub.js';

describe('health, readiness and metrics', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('serves /healthz and /readyz', async () => {
    expect(await api(t, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await api(t, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('exports connections, events by outcome and latencies, labelled by route pattern only', async () => {
    const { owner, familyId } = await familyWithWatch(t);
    const s = await connect(t, owner.accessToken);
    await request(s, 'presence:list', { familyId });
    await request(s, 'presence:list', { familyId: 'someone-elses' });
    const body = await (await fetch(`${t.url}/metrics`)).text();
    expect(body).toMatch(/hub_socket_connections\{kind="user"\} 1/);
    expect(body).toMatch(/hub_socket_events_total\{event="presence:list",outcome="ok"\} 1/);
    expect(body).toMatch(/hub_socket_events_total\{event="presence:list",outcome="FORBIDDEN"\} 1/);
    expect(body).toMatch(/hub_socket_event_duration_seconds_count\{event="presence:list"\} 2/);
    expect(body).toMatch(
      /hub_http_request_duration_seconds_count\{method="POST",route="\/v1\/families\/:fid\/devices",status="201"\} 1/,
    );
    expect(body).toMatch(/process_resident_memory_bytes/);
    // No ids in labels.
    expect(body).not.toContain(familyId);
    expect(body).not.toContain(owner.id);
    s.disconnect();
  });
});

describe('logs', () => {
  it('carry no passwords, tokens, codes or keys', async () => {
    const t = await startHub({ env: { HUB_LOG_LEVEL: 'debug' } });
    try {
      const { owner, familyId, watch } = await familyWithWatch(t);
      const invite = await api(t, 'POST', `/v1/families/${familyId}/invites`, {
        token: owner.accessToken,
        body: { role: 'guardian' },
      });
      await api(t, 'POST', `/v1/invites/${invite.body.code}/accept`, { token: owner.accessToken });
      await api(t, 'POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
      await api(t, 'POST', '/v1/auth/login', { body: { email: owner.email, password: 'a wrong password' } });
      await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } });
      const s = await connect(t, watch.deviceToken);
      await request(s, 'presence:list', { familyId });
      s.disconnect();
      await connectError(t, 'forged.token.value');

      const text = t.logs.join('\n');
      expect(t.logs.length).toBeGreaterThan(5);
      for (const secret of [
        owner.password,
        'a wrong password',
        owner.accessToken,
        owner.refreshToken,
        watch.deviceToken,
        watch.bindingCode,
        invite.body.code as string,
        PROVISIONING_KEY,
        owner.email,
      ]) {
        expect(text).not.toContain(secret);
      }
      // Route patterns, not raw paths.
      expect(text).toContain('/v1/invites/:code/accept');
    } finally {
      await t.close();
    }
  });
});

describe('drain', () => {
  it('turns unready, asks clients to reconnect, serves them meanwhile, refuses new sockets', async () => {
    const t = await startHub({ env: { HUB_DRAIN_TIMEOUT_MS: '20000' } });
    try {
      const { owner, familyId } = await familyWithWatch(t);
      const s = await connect(t, owner.accessToken);
      const draining = waitFor(s, 'server:draining');
      const drained = t.hub.drain();
      expect((await draining).reconnectAfterMs).toBeGreaterThan(0);
      expect((await api(t, 'GET', '/readyz')).status).toBe(503);
      expect((await api(t, 'GET', '/healthz')).status).toBe(200);
      expect((await connectError(t, owner.accessToken)).code).toBe('UNAVAILABLE');
      // The existing socket is still served until it leaves.
      expect((await request(s, 'presence:list', { familyId })).ok).toBe(true);
      s.disconnect();
      // The drain ends as soon as its last client has left, long before its 20 s timeout.
      await drained;
    } finally {
      await t.close();
    }
  });

  it('disconnects clients that do not leave by the drain timeout', async () => {
    const t = await startHub({ env: { HUB_DRAIN_TIMEOUT_MS: '300' } });
    try {
      const { owner } = await familyWithWatch(t);
      const s = await connect(t, owner.accessToken);
      const closed = new Promise<string>((resolve) => s.once('disconnect', resolve));
      await t.hub.drain();
      expect(await closed).toBe('io server disconnect');
    } finally {
      await t.close();
    }
  });
});
