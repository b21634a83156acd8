// WebhookPushProvider against a real HTTP server on 127.0.0.1.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushNotification } from '../../src/push/types.js';
import { WebhookPushProvider } from '../../src/push/webhook-provider.js';

const SECRET = 'a-webhook-secret-of-some-length';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let servers: Server[] = [];

async function listen(respond: (res: ServerResponse, got: Received) => void): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      got.push(r);
      respond(res, r);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, got };
}

afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  servers = [];
});

const note: PushNotification = {
  kind: 'message',
  familyId: 'fam-1',
  ts: 1_700_000_000_000,
  conversationId: 'c-1',
  messageId: 'm-1',
  seq: 7,
};

function verify(body: string, header: string | string[] | undefined, secret: string): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('WebhookPushProvider', () => {
  it('POSTs the signed JSON body with the delivery id', async () => {
    const { url, got } = await listen((res) => res.writeHead(204).end());
    const provider = new WebhookPushProvider(url, SECRET, { clock: () => 1_700_000_000_123 });
    await provider.send('user-1', note, { id: 'outbox-42', attempt: 1 });

    expect(got).toHaveLength(1);
    const r = got[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/hook');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-hub-delivery']).toBe('outbox-42');
    expect(JSON.parse(r.body)).toEqual({ id: 'outbox-42', userId: 'user-1', notification: note, sentAt: 1_700_000_000_123 });
    expect(verify(r.body, r.headers['x-hub-signature'], SECRET)).toBe(true);
    expect(verify(r.body, r.headers['x-hub-signature'], 'another-secret-entirely')).toBe(false);
    // The signature covers the exact bytes: a changed body no longer verifies.
    expect(verify(r.body.replace('user-1', 'user-2'), r.headers['x-hub-signature'], SECRET)).toBe(false);
  });

  it('throws on a non-2xx answer', async () => {
    const { url, got } = await listen((res) => res.writeHead(500).end('boom'));
    const provider = new WebhookPushProvider(url, SECRET);
    await expect(provider.send('user-1', note, { id: 'd-1', attempt: 1 })).rejects.toThrow(/500/);
    expect(got).toHaveLength(1);
  });

  it('throws on a redirect instead of following it', async () => {
    const { url } = await listen((res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end());
    await expect(new WebhookPushProvider(url, SECRET).send('user-1', note, { id: 'd-1', attempt: 1 })).rejects.toThrow(/302/);
  });

  it('throws after the timeout when the server never answers', async () => {
    const { url, got } = await listen(() => {
      /* never answers */
    });
    const provider = new WebhookPushProvider(url, SECRET, { timeoutMs: 200 });
    const started = Date.now();
    await expect(provider.send('user-1', note, { id: 'd-1', attempt: 1 })).rejects.toThrow(/timed out/);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(3000);
    expect(got).toHaveLength(1);
  });

  it('throws when nothing listens', async () => {
    const { url } = await listen((res) => res.writeHead(204).end());
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    servers = [];
    await expect(new WebhookPushProvider(url, SECRET).send('user-1', note)).rejects.toThrow(/push webhook failed/);
  });
});
