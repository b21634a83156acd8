// ApnsSender against a real cleartext HTTP/2 server (h2c) on 127.0.0.1 playing APNs: it verifies
// the ES256 provider token with the public half of a P-256 key pair made here, and records the
// headers and the payload of every stream.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApnsSender, apnsIdFor, type ApnsSenderOptions } from '../../src/push/apns-sender.js';
import { buildDevicePushMessage } from '../../src/push/device-push.js';

const KEY_ID = 'ABC123DEFG';
const TEAM_ID = 'TEAM456XYZ';
const TOPIC = 'org.kidwatch.parents';
const DEVICE = 'a'.repeat(64);

let privatePem: string;
let publicKey: KeyObject;

beforeAll(() => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  publicKey = pair.publicKey;
});

interface Got {
  headers: http2.IncomingHttpHeaders;
  body: string;
  jwt: string;
  claims: jwt.JwtPayload;
  kid: string | undefined;
  stream: http2.ServerHttp2Stream;
}

type Reply = (got: Got, n: number) => void;

interface Fake {
  url: string;
  got: Got[];
  sessions: http2.ServerHttp2Session[];
  reply: Reply;
}

let servers: http2.Http2Server[] = [];
let senders: ApnsSender[] = [];

afterEach(async () => {
  for (const s of senders) await s.close();
  senders = [];
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
  servers = [];
});

function answer(stream: http2.ServerHttp2Stream, status: number, body?: object, headers: http2.OutgoingHttpHeaders = {}): void {
  if (stream.destroyed) return;
  stream.respond({ ':status': status, ...headers });
  stream.end(body ? JSON.stringify(body) : undefined);
}

const ok: Reply = (g) => answer(g.stream, 200, undefined, { 'apns-id': g.headers['apns-id'] });

async function startFake(): Promise<Fake> {
  const fake: Fake = { url: '', got: [], sessions: [], reply: ok };
  const server = http2.createServer();
  server.on('session', (s) => {
    fake.sessions.push(s);
    s.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const auth = String(headers.authorization ?? '');
      const token = auth.startsWith('bearer ') ? auth.slice(7) : '';
      let claims: jwt.JwtPayload;
      try {
        claims = jwt.verify(token, publicKey, { algorithms: ['ES256'], issuer: TEAM_ID }) as jwt.JwtPayload;
      } catch {
        return answer(stream, 403, { reason: 'InvalidProviderToken' });
      }
      const kid = jwt.decode(token, { complete: true })?.header.kid;
      const got: Got = { headers, body: Buffer.concat(chunks).toString('utf8'), jwt: token, claims, kid, stream };
      fake.got.push(got);
      fake.reply(got, fake.got.length);
    });
  });
  servers.push(server);
  // Sessions outlive server.close(); end them so the afterEach does not wait for the client.
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of fake.sessions) s.destroy();
    return close(cb);
  }) as typeof server.close;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function sender(fake: Fake, extra: Partial<ApnsSenderOptions> = {}): ApnsSender {
  const s = new ApnsSender({
    key: { keyId: KEY_ID, teamId: TEAM_ID, privateKey: privatePem },
    topic: TOPIC,
    baseUrl: fake.url,
    ...extra,
  });
  senders.push(s);
  return s;
}

const sos = buildDevicePushMessage({
  kind: 'sos',
  data: { familyId: 'fam-1', alertId: 'al-1', deviceId: 'dev-1' },
  collapseKey: 'sos-dev-1',
});
const chat = buildDevicePushMessage({ kind: 'message', data: { conversationId: 'c-1', messageId: 'm-1' } });
const delivery = { id: 'outbox-42', attempt: 1 };

describe('ApnsSender', () => {
  it('POSTs one push with a valid provider token, the apns headers and an ids-only payload', async () => {
    const fake = await startFake();
    const now = Date.now();
    const r = await sender(fake, { clock: () => now }).send(DEVICE, sos, delivery);

    expect(r).toEqual({ outcome: 'delivered', providerId: apnsIdFor('outbox-42') });
    expect(fake.got).toHaveLength(1);
    const g = fake.got[0]!;
    expect(g.headers[':method']).toBe('POST');
    expect(g.headers[':path']).toBe(`/3/device/${DEVICE}`);
    expect(g.kid).toBe(KEY_ID);
    expect(g.claims).toEqual({ iss: TEAM_ID, iat: Math.floor(now / 1000) });
    expect(g.headers['apns-topic']).toBe(TOPIC);
    expect(g.headers['apns-push-type']).toBe('alert');
    expect(g.headers['apns-priority']).toBe('10');
    expect(g.headers['apns-expiration']).toBe(String(Math.floor(now / 1000) + 24 * 3600));
    expect(g.headers['apns-collapse-id']).toBe('sos-dev-1');
    expect(g.headers['apns-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(JSON.parse(g.body)).toEqual({
      aps: {
        alert: { title: 'SOS alert', body: 'A watch sent an SOS. Open the app now.' },
        sound: 'default',
        'thread-id': 'sos-dev-1',
        'interruption-level': 'time-sensitive',
      },
      familyId: 'fam-1',
      alertId: 'al-1',
      deviceId: 'dev-1',
      kind: 'sos',
      deliveryId: 'outbox-42',
    });
  });

  it('keeps the apns-id of a delivery across attempts, and sends text only when content is allowed', async () => {
    const fake = await startFake();
    const s = sender(fake, { sosInterruptionLevel: 'critical' });
    const secret = 'At the bakery, 48.8566 2.3522';
    await s.send(DEVICE, chat, { id: 'row-1', attempt: 1 });
    await s.send(DEVICE, chat, { id: 'row-1', attempt: 2 });
    await s.send(DEVICE, chat, { id: 'row-2', attempt: 1 });
    const content = buildDevicePushMessage({
      kind: 'message',
      data: { messageId: 'm-2' },
      content: { title: 'Leo', body: secret },
    });
    await s.send(DEVICE, content, { id: 'row-3', attempt: 1 });
    await s.send(DEVICE, sos, { id: 'row-4', attempt: 1 });

    const ids = fake.got.map((g) => g.headers['apns-id']);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    for (const g of fake.got.slice(0, 3)) {
      expect(g.body).not.toMatch(/bakery|48\.85|2\.35/);
      expect(g.headers['apns-priority']).toBe('5'); // chat is normal priority
    }
    expect(JSON.parse(fake.got[3]!.body).aps.alert).toEqual({ title: 'Leo', body: secret });
    expect(JSON.parse(fake.got[4]!.body).aps).toMatchObject({
      'interruption-level': 'critical',
      sound: { critical: 1, name: 'default', volume: 1 },
    });
  });

  it('sends a silent push as background with priority 5, and ttl 0 as expiration 0', async () => {
    const fake = await startFake();
    const silent = buildDevicePushMessage({ kind: 'command_result', data: { commandId: 'cmd-1' }, silent: true, ttlSeconds: 0 });
    expect(await sender(fake).send(DEVICE, silent, delivery)).toMatchObject({ outcome: 'delivered' });
    const g = fake.got[0]!;
    expect(g.headers['apns-push-type']).toBe('background');
    expect(g.headers['apns-priority']).toBe('5');
    expect(g.headers['apns-expiration']).toBe('0');
    expect(JSON.parse(g.body)).toEqual({
      aps: { 'content-available': 1 },
      commandId: 'cmd-1',
      kind: 'command_result',
      deliveryId: 'outbox-42',
    });
  });

  it('reuses one connection and one provider token, and signs a new token after 50 minutes', async () => {
    const fake = await startFake();
    let now = Date.now();
    const s = sender(fake, { clock: () => now });
    await Promise.all(Array.from({ length: 5 }, (_, i) => s.send(DEVICE, chat, { id: `d-${i}`, attempt: 1 })));
    now += 49 * 60_000;
    await s.send(DEVICE, chat, delivery);
    expect(new Set(fake.got.map((g) => g.jwt)).size).toBe(1);
    now += 2 * 60_000;
    await s.send(DEVICE, chat, delivery);
    expect(fake.got).toHaveLength(7);
    expect(new Set(fake.got.map((g) => g.jwt)).size).toBe(2);
    expect(fake.got[6]!.claims.iat).toBe(Math.floor(now / 1000));
    expect(fake.sessions).toHaveLength(1);
    expect(s.connects).toBe(1);
  });

  it('on 403 ExpiredProviderToken signs a new token and tries exactly once more', async () => {
    const fake = await startFake();
    const rejected = new Set<string>();
    fake.reply = (g) => {
      if (rejected.size === 0) rejected.add(g.jwt);
      if (rejected.has(g.jwt)) return answer(g.stream, 403, { reason: 'ExpiredProviderToken' });
      ok(g, 0);
    };
    const s = sender(fake);
    expect(await s.send(DEVICE, chat, delivery)).toMatchObject({ outcome: 'delivered' });
    expect(fake.got).toHaveLength(2);
    expect(fake.got[0]!.jwt).not.toBe(fake.got[1]!.jwt);

    fake.reply = (g) => answer(g.stream, 403, { reason: 'ExpiredProviderToken' });
    expect(await s.send(DEVICE, chat, delivery)).toMatchObject({
      outcome: 'retry',
      reason: 'APNs answered 403 ExpiredProviderToken',
    });
    expect(fake.got).toHaveLength(4);
  });

  it('classifies the answers: dead tokens, retries with Retry-After, and setup errors', async () => {
    const fake = await startFake();
    const s = sender(fake);
    const cases: Array<[number, string, string, http2.OutgoingHttpHeaders?]> = [
      [410, 'Unregistered', 'invalid_token'],
      [400, 'BadDeviceToken', 'invalid_token'],
      [400, 'DeviceTokenNotForTopic', 'rejected'],
      [403, 'InvalidProviderToken', 'rejected'],
      [413, 'PayloadTooLarge', 'rejected'],
      [429, 'TooManyRequests', 'retry', { 'retry-after': '120' }],
      [500, 'InternalServerError', 'retry'],
      [503, 'ServiceUnavailable', 'retry'],
    ];
    for (const [status, reason, outcome, headers] of cases) {
      fake.reply = (g) => answer(g.stream, status, { reason }, headers);
      const r = await s.send(DEVICE, chat, delivery);
      expect({ status, reason, outcome: r.outcome }).toEqual({ status, reason, outcome });
      if (r.outcome !== 'delivered') expect(r.reason).toBe(`APNs answered ${status} ${reason}`);
      if (status === 429) expect(r).toMatchObject({ retryAfterMs: 120_000 });
    }
    expect(fake.got).toHaveLength(cases.length);
    // A token that is not hex never goes on the wire.
    expect(await s.send('../../3/device/x', chat, delivery)).toMatchObject({ outcome: 'invalid_token' });
    expect(fake.got).toHaveLength(cases.length);
  });

  it('opens a new connection after GOAWAY, and resends a stream the server refused unprocessed', async () => {
    const fake = await startFake();
    fake.reply = (g, n) => {
      ok(g, n);
      if (n === 1) g.stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR);
    };
    const s = sender(fake);
    expect(await s.send(DEVICE, chat, delivery)).toMatchObject({ outcome: 'delivered' });
    expect(await s.send(DEVICE, chat, delivery)).toMatchObject({ outcome: 'delivered' });
    expect(fake.sessions).toHaveLength(2);
    expect(s.connects).toBe(2);

    // GOAWAY naming stream 0 as the last one processed: the client's stream was refused, so the
    // sender may send it again on a fresh connection, and it is delivered once.
    let refusedOnce = false;
    fake.reply = (g, n) => {
      if (!refusedOnce) {
        refusedOnce = true;
        g.stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, 0);
        g.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      ok(g, n);
    };
    expect(await s.send(DEVICE, chat, { id: 'd-2', attempt: 1 })).toMatchObject({ outcome: 'delivered' });
    expect(fake.sessions).toHaveLength(3);
  });

  it('reconnects after the server closes the connection', async () => {
    const fake = await startFake();
    const s = sender(fake);
    await s.send(DEVICE, chat, delivery);
    fake.sessions[0]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await s.send(DEVICE, chat, delivery)).toMatchObject({ outcome: 'delivered' });
    expect(fake.sessions).toHaveLength(2);
  });

  it('answers retry within the bound when APNs never answers, and works again afterwards', async () => {
    const fake = await startFake();
    fake.reply = () => {
      /* never answers */
    };
    const s = sender(fake, { timeoutMs: 300 });
    const started = Date.now();
    const r = await s.send(DEVICE, chat, delivery);
    const took = Date.now() - started;
    expect(r).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/timed out after 300 ms/) });
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    fake.reply = ok;
    expect(await s.send(DEVICE, chat, delivery)).toMatchObject({ outcome: 'delivered' });
  });

  it('answers retry when nothing listens, within the bound', async () => {
    const fake = await startFake();
    const s = sender(fake, { timeoutMs: 1000 });
    for (const srv of servers) await new Promise<void>((resolve) => srv.close(() => resolve()));
    servers = [];
    const started = Date.now();
    expect(await s.send(DEVICE, chat, delivery)).toMatchObject({
      outcome: 'retry',
      reason: expect.stringMatching(/APNs request failed/),
    });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('throws for programmer errors and refuses bad setup at construction', async () => {
    const fake = await startFake();
    const s = sender(fake);
    await expect(s.send(DEVICE, { ...chat, data: { aps: 'x' } }, delivery)).rejects.toThrow(/reserved/);
    await expect(s.send(DEVICE, chat, { id: '', attempt: 1 })).rejects.toThrow(TypeError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => sender(fake, { key: { keyId: KEY_ID, teamId: TEAM_ID, privateKey: rsa } })).toThrow(/P-256/);
    expect(() => sender(fake, { baseUrl: 'http://api.push.apple.com' })).toThrow(/https/);
    expect(() => sender(fake, { topic: 'bad topic' })).toThrow(/topic/);
    expect(fake.got).toHaveLength(0);
  });
});
