// FcmSender against a real HTTP server on 127.0.0.1 that plays both Google's OAuth token endpoint
// (it verifies the RS256 assertion with the public half of a key pair made here) and the FCM v1
// send endpoint (it checks the bearer token and the JSON shape).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDevicePushMessage, type DevicePushMessage } from '../../src/push/device-push.js';
import { FcmSender } from '../../src/push/fcm-sender.js';
import { FCM_SCOPE, parseServiceAccount, type GoogleServiceAccount } from '../../src/push/google-oauth.js';

const EMAIL = 'hub-push@kidwatch-test.iam.gserviceaccount.com';
const PROJECT = 'kidwatch-test';
const TOKEN = 'fcm-registration-token-1';

let privatePem: string;
let publicKey: KeyObject;

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  publicKey = pair.publicKey;
});

interface Got {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type SendReply = (res: ServerResponse, got: Got, n: number) => void;

interface Fake {
  base: string;
  tokenUri: string;
  exchanges: Got[];
  sends: Got[];
  /** Access tokens the fake accepts; a test may revoke one. */
  valid: Set<string>;
  /** Lifetime the token endpoint announces. */
  expiresIn: number;
  tokenReply: ((res: ServerResponse) => void) | null;
  sendReply: SendReply;
}

let servers: Server[] = [];

async function closeAll(): Promise<void> {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  servers = [];
}

afterEach(closeAll);

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function startFake(): Promise<Fake> {
  let issued = 0;
  const fake: Fake = {
    base: '',
    tokenUri: '',
    exchanges: [],
    sends: [],
    valid: new Set(),
    expiresIn: 3599,
    tokenReply: null,
    sendReply: (res, got) => json(res, 200, { name: `projects/${PROJECT}/messages/${got.body.length}` }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got: Got = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      if (req.method === 'POST' && got.path === '/token') {
        fake.exchanges.push(got);
        if (fake.tokenReply) return fake.tokenReply(res);
        const form = new URLSearchParams(got.body);
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
          return json(res, 400, { error: 'unsupported_grant_type' });
        }
        try {
          const claims = jwt.verify(form.get('assertion') ?? '', publicKey, {
            algorithms: ['RS256'],
            audience: fake.tokenUri,
            issuer: EMAIL,
          }) as jwt.JwtPayload;
          if (claims.scope !== FCM_SCOPE) return json(res, 400, { error: 'invalid_scope' });
          if ((claims.exp ?? 0) - (claims.iat ?? 0) > 3600) return json(res, 400, { error: 'invalid_grant' });
        } catch {
          return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        }
        const token = `ya29.access-${++issued}`;
        fake.valid.add(token);
        return json(res, 200, { access_token: token, expires_in: fake.expiresIn, token_type: 'Bearer' });
      }
      if (req.method === 'POST' && got.path === `/v1/projects/${PROJECT}/messages:send`) {
        fake.sends.push(got);
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ') || !fake.valid.has(auth.slice(7))) {
          return json(res, 401, {
            error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' },
          });
        }
        return fake.sendReply(res, got, fake.sends.length);
      }
      json(res, 404, { error: { code: 404, status: 'NOT_FOUND' } });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.base = `http://127.0.0.1:${port}`;
  fake.tokenUri = `${fake.base}/token`;
  return fake;
}

function account(fake: Fake): GoogleServiceAccount {
  return { client_email: EMAIL, private_key: privatePem, token_uri: fake.tokenUri, private_key_id: 'key-1', project_id: PROJECT };
}

function sender(fake: Fake, extra: { clock?: () => number; timeoutMs?: number } = {}): FcmSender {
  return new FcmSender({ serviceAccount: account(fake), baseUrl: fake.base, ...extra });
}

const chat: DevicePushMessage = buildDevicePushMessage({
  kind: 'message',
  data: { familyId: 'fam-1', conversationId: 'c-1', messageId: 'm-9' },
  collapseKey: 'chat',
  ttlSeconds: 600,
});
const delivery = { id: 'outbox-42', attempt: 1 };

function sentMessage(got: Got): Record<string, any> {
  return (JSON.parse(got.body) as { message: Record<string, any> }).message;
}

function fcmError(status: number, code: string, errorCode?: string, extra: object[] = []): object {
  const details: object[] = [...extra];
  if (errorCode) details.push({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode });
  return { error: { code: status, message: `${code} from the fake`, status: code, details } };
}

describe('FcmSender', () => {
  it('exchanges a verified assertion once and POSTs one FCM v1 message with ids only', async () => {
    const fake = await startFake();
    const result = await sender(fake).send(TOKEN, chat, delivery);

    expect(result).toEqual({ outcome: 'delivered', providerId: expect.stringMatching(/^projects\/kidwatch-test\/messages\//) });
    expect(fake.exchanges).toHaveLength(1);
    expect(fake.exchanges[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(fake.sends).toHaveLength(1);
    const got = fake.sends[0]!;
    expect(got.headers.authorization).toBe('Bearer ya29.access-1');
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    expect(sentMessage(got)).toEqual({
      token: TOKEN,
      notification: { title: 'New message', body: 'You have a new message.' },
      data: { familyId: 'fam-1', conversationId: 'c-1', messageId: 'm-9', kind: 'message', deliveryId: 'outbox-42' },
      android: { priority: 'normal', ttl: '600s', collapse_key: 'chat' },
      apns: { headers: { 'apns-priority': '5', 'apns-push-type': 'alert', 'apns-collapse-id': 'chat' }, payload: { aps: {} } },
    });
  });

  it('sends message text and coordinates only when the caller passes them as content', async () => {
    const fake = await startFake();
    const s = sender(fake);
    const secret = 'Pick me up at 52.5200, 13.4050 please';
    // Without content: a high-priority SOS with generic text; nothing of the text or place.
    const sos = buildDevicePushMessage({ kind: 'sos', data: { familyId: 'fam-1', alertId: 'a-1', deviceId: 'd-1' } });
    expect(await s.send(TOKEN, sos, delivery)).toMatchObject({ outcome: 'delivered' });
    const withContent = buildDevicePushMessage({
      kind: 'message',
      data: { messageId: 'm-1' },
      content: { title: 'Mia', body: secret },
    });
    expect(await s.send(TOKEN, withContent, { id: 'outbox-43', attempt: 1 })).toMatchObject({ outcome: 'delivered' });

    const first = fake.sends[0]!.body;
    expect(first).not.toMatch(/52\.52|13\.40|Pick me up/);
    const m = sentMessage(fake.sends[0]!);
    expect(m.notification).toEqual({ title: 'SOS alert', body: 'A watch sent an SOS. Open the app now.' });
    expect(m.android.priority).toBe('high');
    expect(m.apns.headers['apns-priority']).toBe('10');
    expect(m.apns.payload.aps['interruption-level']).toBe('time-sensitive');
    expect(sentMessage(fake.sends[1]!).notification).toEqual({ title: 'Mia', body: secret });
  });

  it('sends a silent push as data only, waking iOS apps in the background', async () => {
    const fake = await startFake();
    const silent = buildDevicePushMessage({ kind: 'command_result', data: { commandId: 'cmd-1' }, silent: true });
    expect(await sender(fake).send(TOKEN, silent, delivery)).toMatchObject({ outcome: 'delivered' });
    const m = sentMessage(fake.sends[0]!);
    expect(m.notification).toBeUndefined();
    expect(m.apns).toEqual({
      headers: { 'apns-priority': '5', 'apns-push-type': 'background' },
      payload: { aps: { 'content-available': 1 } },
    });
  });

  it('keeps one access token for many sends, also when they start together', async () => {
    const fake = await startFake();
    const s = sender(fake);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => s.send(TOKEN, chat, { id: `d-${i}`, attempt: 1 })));
    for (let i = 0; i < 5; i++)
      expect(await s.send(TOKEN, chat, { id: `e-${i}`, attempt: 1 })).toMatchObject({ outcome: 'delivered' });
    expect(results.every((r) => r.outcome === 'delivered')).toBe(true);
    expect(fake.exchanges).toHaveLength(1);
    expect(fake.sends).toHaveLength(10);
    expect(new Set(fake.sends.map((g) => g.headers.authorization))).toEqual(new Set(['Bearer ya29.access-1']));
  });

  it('renews the access token shortly before it expires', async () => {
    const fake = await startFake();
    let now = Date.now();
    const s = sender(fake, { clock: () => now });
    await s.send(TOKEN, chat, delivery);
    now += 3599_000 - 6 * 60_000; // 6 min before expiry: still in use
    await s.send(TOKEN, chat, delivery);
    expect(fake.exchanges).toHaveLength(1);
    now += 2 * 60_000; // 4 min before expiry: inside the 5 min margin
    await s.send(TOKEN, chat, delivery);
    expect(fake.exchanges).toHaveLength(2);
    expect(fake.sends.map((g) => g.headers.authorization)).toEqual([
      'Bearer ya29.access-1',
      'Bearer ya29.access-1',
      'Bearer ya29.access-2',
    ]);
  });

  it('on a 401 gets a new access token and tries exactly once more', async () => {
    const fake = await startFake();
    const s = sender(fake);
    await s.send(TOKEN, chat, delivery);
    fake.valid.clear(); // revoked before its expiry
    expect(await s.send(TOKEN, chat, { id: 'd-2', attempt: 1 })).toMatchObject({ outcome: 'delivered' });
    expect(fake.exchanges).toHaveLength(2);
    expect(fake.sends.map((g) => g.headers.authorization)).toEqual([
      'Bearer ya29.access-1',
      'Bearer ya29.access-1',
      'Bearer ya29.access-2',
    ]);

    // Still 401 with the fresh token: retry later, no loop.
    fake.sendReply = (res) => json(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED' } });
    fake.valid.clear();
    const r = await s.send(TOKEN, chat, { id: 'd-3', attempt: 1 });
    expect(r).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/401/) });
    expect(fake.exchanges).toHaveLength(3);
    expect(fake.sends).toHaveLength(5);
  });

  it('classifies throttling and outages as retry, with the Retry-After the service names', async () => {
    const fake = await startFake();
    const now = Date.now();
    const s = sender(fake, { clock: () => now });
    fake.sendReply = (res) => json(res, 429, fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'), { 'retry-after': '7' });
    expect(await s.send(TOKEN, chat, delivery)).toEqual({
      outcome: 'retry',
      reason: expect.stringMatching(/429 QUOTA_EXCEEDED/),
      retryAfterMs: 7000,
    });
    fake.sendReply = (res) =>
      json(res, 503, fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'), { 'retry-after': new Date(now + 30_000).toUTCString() });
    const r503 = await s.send(TOKEN, chat, delivery);
    expect(r503.outcome).toBe('retry');
    // An HTTP date has whole seconds: 29–30 s from now.
    expect(r503.outcome === 'retry' && r503.retryAfterMs).toBeGreaterThanOrEqual(29_000);
    expect(r503.outcome === 'retry' && r503.retryAfterMs).toBeLessThanOrEqual(30_000);
    fake.sendReply = (res) => json(res, 500, fcmError(500, 'INTERNAL', 'INTERNAL'));
    expect(await s.send(TOKEN, chat, delivery)).toEqual({ outcome: 'retry', reason: expect.stringMatching(/500/) });
    expect(fake.sends).toHaveLength(3);
  });

  it('tells a dead token from a bad payload or a wrong project', async () => {
    const fake = await startFake();
    const s = sender(fake);
    const cases: Array<[number, object, string]> = [
      [404, fcmError(404, 'NOT_FOUND', 'UNREGISTERED'), 'invalid_token'],
      [400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'), 'invalid_token'],
      [
        400,
        fcmError(400, 'INVALID_ARGUMENT', undefined, [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'message.token', description: 'bad' }],
          },
        ]),
        'invalid_token',
      ],
      [403, fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH'), 'invalid_token'],
      // A value FCM did not like in our data: the token is fine, retrying will not help.
      [
        400,
        fcmError(400, 'INVALID_ARGUMENT', undefined, [
          { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'message.data[0].value' }] },
        ]),
        'rejected',
      ],
      // The project does not exist: every token would "fail"; none must be dropped for it.
      [404, { error: { code: 404, status: 'NOT_FOUND', message: 'Requested entity was not found.' } }, 'rejected'],
      [401, fcmError(401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR'), 'rejected'],
    ];
    for (const [status, body, outcome] of cases) {
      fake.sendReply = (res) => json(res, status, body);
      const r = await s.send(TOKEN, chat, delivery);
      expect({ status, outcome: r.outcome }).toEqual({ status, outcome });
    }
    expect(fake.sends).toHaveLength(cases.length);
    expect(fake.exchanges).toHaveLength(1);
  });

  it('answers retry within the bound when FCM never answers', async () => {
    const fake = await startFake();
    fake.sendReply = () => {
      /* never answers */
    };
    const started = Date.now();
    const r = await sender(fake, { timeoutMs: 300 }).send(TOKEN, chat, delivery);
    const took = Date.now() - started;
    expect(r).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/timed out/) });
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect(fake.sends).toHaveLength(1);
  });

  it('answers retry within the bound when the token endpoint never answers, and after a refused grant', async () => {
    const fake = await startFake();
    fake.tokenReply = () => {
      /* never answers */
    };
    const started = Date.now();
    const r = await sender(fake, { timeoutMs: 300 }).send(TOKEN, chat, delivery);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/timed out/) });
    expect(fake.sends).toHaveLength(0);

    fake.tokenReply = (res) => json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    const r2 = await sender(fake).send(TOKEN, chat, delivery);
    expect(r2).toEqual({ outcome: 'retry', reason: 'OAuth token endpoint answered 400 invalid_grant: Invalid JWT Signature.' });
  });

  it('a key that does not match is refused by the token endpoint, and nothing is sent', async () => {
    const fake = await startFake();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const s = new FcmSender({ serviceAccount: { ...account(fake), private_key: other }, baseUrl: fake.base });
    expect(await s.send(TOKEN, chat, delivery)).toMatchObject({
      outcome: 'retry',
      reason: expect.stringMatching(/invalid_grant/),
    });
    expect(fake.sends).toHaveLength(0);
  });

  it('answers retry when nothing listens', async () => {
    const fake = await startFake();
    const s = sender(fake);
    await closeAll();
    expect(await s.send(TOKEN, chat, delivery)).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/failed/) });
  });

  it('throws for programmer errors only', async () => {
    const fake = await startFake();
    const s = sender(fake);
    await expect(s.send('', chat, delivery)).rejects.toThrow(TypeError);
    await expect(s.send(TOKEN, { ...chat, data: { deliveryId: 'x' } }, delivery)).rejects.toThrow(/reserved/);
    await expect(s.send(TOKEN, { ...chat, data: { a: 'x'.repeat(500) } }, delivery)).rejects.toThrow(RangeError);
    expect(() => new FcmSender({ serviceAccount: { ...account(fake), token_uri: 'http://example.com/token' } })).toThrow(/https/);
    expect(fake.sends).toHaveLength(0);
  });
});

describe('parseServiceAccount', () => {
  it('reads a Google JSON key and names bad fields without echoing the key', () => {
    const good = JSON.stringify({
      type: 'service_account',
      project_id: PROJECT,
      private_key_id: 'k1',
      private_key: privatePem,
      client_email: EMAIL,
    });
    expect(parseServiceAccount(good)).toEqual({
      client_email: EMAIL,
      private_key: privatePem,
      token_uri: 'https://oauth2.googleapis.com/token',
      private_key_id: 'k1',
      project_id: PROJECT,
    });
    let message = '';
    try {
      parseServiceAccount(JSON.stringify({ private_key: privatePem, client_email: 'nope' }));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/client_email/);
    expect(message).not.toMatch(/PRIVATE KEY|MII/);
    expect(() => parseServiceAccount('{not json')).toThrow(/not valid JSON/);
  });
});
