// Hostile and careless clients on a socket: every request is answered once, with a code, and
// nothing a client sends disconnects it or disturbs the others.
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RawSocket,
  type TestHub,
  connect,
  familyWithWatch,
  rawSocket,
  request,
  requestRaw,
  startHub,
  waitFor,
} from '../helpers/hub.js';

describe('socket input', () => {
  let t: TestHub;
  let familyId: string;
  let token: string;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_SOCKET_RATE_POINTS: '20', HUB_SOCKET_RATE_WINDOW_S: '60' } });
    const f = await familyWithWatch(t);
    familyId = f.familyId;
    token = f.owner.accessToken;
  });
  afterAll(() => t.close());

  it('answers unknown events and malformed payloads with BAD_REQUEST and stays connected', async () => {
    const s = await connect(t, token);
    const unknown = await requestRaw(s, 'no:such:event', {});
    expect(unknown).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', reason: 'unknown_event', message: expect.stringMatching(/unknown event/) },
    });
    const proto = await requestRaw(s, '__proto__', {});
    expect(proto.error.code).toBe('BAD_REQUEST');

    const bad: unknown[][] = [
      [{}],
      [{ familyId: 42 }],
      [{ familyId: '' }],
      [{ familyId: 'x'.repeat(129) }],
      [{ familyId, extra: 1 }],
      [null],
      ['text'],
      [[familyId]],
      [],
      [{ familyId }, { familyId }],
      // A shape that makes zod's own length check throw.
      [{ familyId: { length: { toString: false } } }],
    ];
    for (const args of bad) {
      const r = await requestRaw(s, 'presence:list', ...args);
      expect(r.ok, JSON.stringify(args)).toBe(false);
      expect(r.error.code).toBe('BAD_REQUEST');
    }
    expect(s.connected).toBe(true);
    expect((await request(s, 'presence:list', { familyId })).ok).toBe(true);
    s.disconnect();
  });

  it('answers an oversize payload with TOO_LARGE', async () => {
    const s = await connect(t, token);
    const r = await requestRaw(s, 'presence:list', { familyId, pad: 'x'.repeat(t.config.maxEventBytes + 1) });
    expect(r.error.code).toBe('TOO_LARGE');
    const nested = await requestRaw(s, 'presence:list', { familyId: Array.from({ length: 20_000 }, () => ({ a: 'bbbb' })) });
    expect(nested.error.code).toBe('TOO_LARGE');
    expect(s.connected).toBe(true);
    s.disconnect();
  });

  // Free-form JSON (command params and results, WebRTC objects, fixes) is walked recursively
  // downstream (JSON.stringify, Socket.IO's encoder, mediasoup): 9,000 levels in 54 KB, well
  // under the size limit, overflowed the stack there and answered INTERNAL. The schema bounds
  // depth and size, iteratively, and names the field. Sent by hand: the real client's encoder
  // cannot even encode such a value.
  it('answers BAD_REQUEST naming the field for free-form JSON nested too deep or too wide', async () => {
    const deep = `${'{"a":'.repeat(9000)}1${'}'.repeat(9000)}`;
    expect(deep.length).toBeLessThan(t.config.maxEventBytes);
    const wide = JSON.stringify({ items: Array.from({ length: 6000 }, () => 0) });
    const f = await familyWithWatch(t);
    const parent = await rawSocket(t, f.owner.accessToken);
    const watch = await rawSocket(t, f.watch.deviceToken);
    const open = await parent.request('command:send', JSON.stringify({ deviceId: f.watch.deviceId, type: 'locate' }));
    expect(open.ok).toBe(true);
    const id = JSON.stringify(open.command.id);
    const fingerprints = JSON.stringify([{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }]);
    const cases: [RawSocket, string, string, RegExp][] = [
      [watch, 'command:result', `{"id":${id},"status":"done","result":${deep}}`, /^result: nests deeper than 16 levels$/],
      [watch, 'command:result', `{"id":${id},"status":"done","result":${wide}}`, /^result: has more than 5000 keys and items$/],
      [parent, 'command:send', `{"deviceId":"${f.watch.deviceId}","type":"locate","params":${deep}}`, /^params: nests deeper/],
      [
        parent,
        'call:produce',
        `{"callId":"c","transportId":"t","kind":"audio","rtpParameters":${deep}}`,
        /^rtpParameters: nests/,
      ],
      [
        parent,
        'call:consume',
        `{"callId":"c","transportId":"t","producerId":"p","rtpCapabilities":${wide}}`,
        /^rtpCapabilities: has more/,
      ],
      [
        parent,
        'call:transport:connect',
        `{"callId":"c","transportId":"t","dtlsParameters":{"fingerprints":${fingerprints},"x":${deep}}}`,
        /^dtlsParameters: nests/,
      ],
      [watch, 'location:report', `{"fixes":[${deep}]}`, /fixes\.0: nests deeper/],
      [watch, 'location:report', `{"ts":${Date.now()},"lat":1,"lng":2,"acc":5,"source":"gps","x":${deep}}`, /nests deeper/],
    ];
    for (const [socket, event, payload, message] of cases) {
      const r = await socket.request(event, payload);
      expect(r, event).toEqual({
        ok: false,
        error: { code: 'BAD_REQUEST', reason: 'invalid_input', message: expect.stringMatching(message) },
      });
    }
    // The command is still open, and a sane result closes it.
    const done = await watch.request('command:result', `{"id":${id},"status":"done","result":{"ok":true}}`);
    expect(done.command.status).toBe('done');
    expect(t.logs.filter((l) => /event handler failed|call stack/.test(l))).toEqual([]);
    parent.close();
    watch.close();
  });

  it('ignores events sent without an ack callback, and counts them', async () => {
    const s = await connect(t, token);
    (s as unknown as Socket).emit('presence:list', { familyId });
    (s as unknown as Socket).emit('made:up');
    // Ordered after the two above on the same socket.
    expect((await request(s, 'presence:list', { familyId })).ok).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/hub_socket_events_total\{event="presence:list",outcome="no_ack"\} 1/);
    expect(metrics).toMatch(/hub_socket_events_total\{event="<unknown>",outcome="no_ack"\} 1/);
    s.disconnect();
  });

  it('rate-limits a flooding socket without disturbing the others', async () => {
    const flooder = await connect(t, token);
    const calm = await connect(t, token);
    const flood = await Promise.all(Array.from({ length: 60 }, () => request(flooder, 'presence:list', { familyId })));
    const limited = flood.filter((r) => !r.ok);
    expect(flood.filter((r) => r.ok).length).toBeLessThanOrEqual(20);
    expect(limited.length).toBeGreaterThanOrEqual(40);
    for (const r of limited) expect(r.error.code).toBe('RATE_LIMITED');
    // Every request got exactly one answer, the flooder is still connected, the other socket is served.
    expect(flood).toHaveLength(60);
    expect(flooder.connected).toBe(true);
    const calmAnswers = await Promise.all(Array.from({ length: 5 }, () => request(calm, 'presence:list', { familyId })));
    expect(calmAnswers.every((r) => r.ok)).toBe(true);
    flooder.disconnect();
    calm.disconnect();
  });

  it('refuses handshakes with malformed auth', async () => {
    const { io } = await import('socket.io-client');
    for (const auth of [{}, { token: { nested: true } }, { token: 'a'.repeat(10_000) }]) {
      const s = io(t.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
      const err = await new Promise<{ data?: { code: string } }>((resolve) => s.once('connect_error', resolve));
      expect(err.data?.code).toBe('UNAUTHORIZED');
      s.close();
    }
    // The hub still serves.
    const ok = await connect(t, token);
    await waitFor(ok, 'presence', () => true, { past: true, timeoutMs: 50 }).catch(() => undefined);
    expect(ok.connected).toBe(true);
    ok.disconnect();
  });
});
