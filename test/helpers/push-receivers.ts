// Real local push services for integration tests: an HTTP/2 server speaking APNs' format
// (POST /3/device/<token>, provider JWT checked against the key made here), an HTTP server that
// is Google's token endpoint and FCM's v1 send endpoint, and the operator's webhook. Each records
// what it received and can fail the next N sends with a 500, to show retries.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { expect } from 'vitest';
import { type TestHub, type TestUser, api, startHub } from './hub.js';

export interface Received {
  provider: 'apns' | 'fcm' | 'webhook';
  /** The registration token the push was addressed to. */
  token: string;
  /** The delivery id the hub gave the push (the same on every retry). */
  deliveryId: string;
  /** The kind of push (message, sos, alert, geofence, …). */
  kind: string;
  /** The ids the push carries (FCM data, APNs top-level keys, the webhook's notification). */
  data: Record<string, unknown>;
  /** The raw body as sent, for "no text or coordinates" checks. */
  raw: string;
  headers: Record<string, unknown>;
}

export interface PushReceivers {
  env: Record<string, string>;
  received: Received[];
  /** Fail this many of the next sends of a provider with a 500. */
  failNext: Record<'apns' | 'fcm' | 'webhook', number>;
  /** Sends answered with a 500 so far. */
  failed: Received[];
  /** Waits until `pred` holds over what was received (polls; no fixed sleeps). */
  until(pred: (r: Received[]) => boolean, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

const WEBHOOK_SECRET = 'webhook-secret-0123456789';
const PROJECT = 'hub-test-project';
const TEAM = 'TEAM123456';
const KEY_ID = 'KEY1234567';
export const APNS_TOPIC = 'test.hub.app';

export async function startPushReceivers(): Promise<PushReceivers> {
  const dir = mkdtempSync(join(tmpdir(), 'push-recv-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const received: Received[] = [];
  const failed: Received[] = [];
  const failNext = { apns: 0, fcm: 0, webhook: 0 };
  const take = (r: Received): boolean => {
    if (failNext[r.provider] > 0) {
      failNext[r.provider]--;
      failed.push(r);
      return false;
    }
    received.push(r);
    return true;
  };

  // APNs over cleartext HTTP/2 (the hub allows http only to loopback).
  const apns = http2.createServer();
  apns.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const auth = String(headers.authorization ?? '').replace(/^bearer /, '');
      try {
        jwt.verify(auth, ec.publicKey, { algorithms: ['ES256'], issuer: TEAM });
      } catch {
        stream.respond({ ':status': 403, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ reason: 'InvalidProviderToken' }));
        return;
      }
      if (headers['apns-topic'] !== APNS_TOPIC) {
        stream.respond({ ':status': 400, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ reason: 'BadTopic' }));
        return;
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      const token = String(headers[':path']).replace('/3/device/', '');
      const ok = take({
        provider: 'apns',
        token,
        deliveryId: String(body.deliveryId),
        kind: String(body.kind),
        data: body,
        raw,
        headers: { ...headers },
      });
      if (!ok) {
        stream.respond({ ':status': 500, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ reason: 'InternalServerError' }));
        return;
      }
      stream.respond({ ':status': 200, 'apns-id': String(headers['apns-id']) });
      stream.end();
    });
  });
  await new Promise<void>((resolve) => apns.listen(0, '127.0.0.1', resolve));

  // Google's token endpoint and FCM v1.
  let accessToken = '';
  const fcm: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/token') {
        const assertion = new URLSearchParams(raw).get('assertion') ?? '';
        try {
          jwt.verify(assertion, rsa.publicKey, { algorithms: ['RS256'] });
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant' }));
          return;
        }
        accessToken = `ya29.test-${Date.now()}`;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }));
        return;
      }
      if (req.url !== `/v1/projects/${PROJECT}/messages:send` || req.headers.authorization !== `Bearer ${accessToken}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { status: 'UNAUTHENTICATED' } }));
        return;
      }
      const m = (JSON.parse(raw) as { message: { token: string; data: Record<string, string> } }).message;
      const ok = take({
        provider: 'fcm',
        token: m.token,
        deliveryId: m.data.deliveryId!,
        kind: m.data.kind!,
        data: { ...m.data, message: m },
        raw,
        headers: { ...req.headers },
      });
      if (!ok) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { status: 'INTERNAL' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: `projects/${PROJECT}/messages/1` }));
    });
  });
  await new Promise<void>((resolve) => fcm.listen(0, '127.0.0.1', resolve));

  // The operator's webhook.
  const webhook: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as { id: string; token?: string; notification: Record<string, unknown> };
      const ok = take({
        provider: 'webhook',
        token: body.token ?? '',
        deliveryId: body.id,
        kind: String(body.notification.kind),
        data: { ...body.notification, body },
        raw,
        headers: { ...req.headers },
      });
      res.writeHead(ok ? 204 : 500).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));

  const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;
  const credentials = join(dir, 'fcm.json');
  writeFileSync(
    credentials,
    JSON.stringify({
      type: 'service_account',
      project_id: PROJECT,
      private_key_id: 'k1',
      private_key: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'hub@hub-test-project.iam.gserviceaccount.com',
      token_uri: `http://127.0.0.1:${port(fcm)}/token`,
    }),
  );
  const p8 = join(dir, 'AuthKey.p8');
  writeFileSync(p8, ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

  const env = {
    HUB_PUSH_FCM_CREDENTIALS_FILE: credentials,
    HUB_PUSH_FCM_URL: `http://127.0.0.1:${port(fcm)}`,
    HUB_PUSH_APNS_KEY_FILE: p8,
    HUB_PUSH_APNS_KEY_ID: KEY_ID,
    HUB_PUSH_APNS_TEAM_ID: TEAM,
    HUB_PUSH_APNS_TOPIC: APNS_TOPIC,
    HUB_PUSH_APNS_URL: `http://127.0.0.1:${port(apns)}`,
    HUB_PUSH_WEBHOOK_URL: `http://127.0.0.1:${port(webhook)}/push`,
    HUB_PUSH_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };

  return {
    env,
    received,
    failNext,
    failed,
    async until(pred, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (Date.now() > end)
          throw new Error(
            `push receivers: condition not met; received ${JSON.stringify(received.map((r) => [r.provider, r.kind, r.token]))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return received;
    },
    async close() {
      fcm.closeAllConnections();
      webhook.closeAllConnections();
      await Promise.all([
        new Promise((resolve) => apns.close(resolve)),
        new Promise((resolve) => fcm.close(resolve)),
        new Promise((resolve) => webhook.close(resolve)),
      ]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Installations of the family's apps, registered as the apps do it (POST /v1/push/registrations).
export const apnsToken = () => randomBytes(32).toString('hex');
export const fcmToken = () => `fcm:${randomUUID()}`;
export const webhookToken = () => `wh-${randomUUID()}`;
export const installation = () => `inst-${randomUUID()}`;

export function register(t: TestHub, body: Record<string, unknown>, token?: string) {
  return api(t, 'POST', '/v1/push/registrations', { body, ...(token ? { token } : {}) });
}

/** Registers a new installation of `user`'s app with a push provider; its push token and id. */
export async function installApp(t: TestHub, user: TestUser, provider: 'fcm' | 'apns' | 'webhook') {
  const token = provider === 'fcm' ? fcmToken() : provider === 'apns' ? apnsToken() : webhookToken();
  const installationId = installation();
  const r = await register(t, { installationId, provider, token }, user.accessToken);
  expect(r.status).toBe(201);
  expect(r.body.registration).toMatchObject({ installationId, provider, signedIn: true });
  return { installationId, token, provider };
}

/** A hub whose push providers are fresh local receivers; `env` adds hub variables. */
export async function startHubWithPush(
  env: Record<string, string> = {},
): Promise<{ push: PushReceivers; t: TestHub; stop(): Promise<void> }> {
  const push = await startPushReceivers();
  const t = await startHub({ env: { ...push.env, ...env } });
  return {
    push,
    t,
    async stop() {
      await t.close();
      await push.close();
    },
  };
}
