// The push outbox end to end: PushOutbox + PushOutboxRepository on SQLite and PostgreSQL,
// delivering through WebhookPushProvider to a real local HTTP server. Time is a controllable
// clock; runs are driven with runOnce().
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PushOutbox, type PushOutboxOptions } from '../../src/push/outbox.js';
import type { PushNotification } from '../../src/push/types.js';
import { WebhookPushProvider } from '../../src/push/webhook-provider.js';
import { openDatabase } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { PushOutboxRepository } from '../../src/store/push-outbox.js';
import type { Database } from '../../src/store/schema.js';
import { freshDatabaseUrl, STORE_KINDS } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
const SECRET = 'outbox-test-secret-0123456789';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: { id: string; userId: string; notification: PushNotification; sentAt: number };
}

/** A webhook receiver: records every request; `status(n)` answers the n-th (0-based) request. */
class Receiver {
  readonly got: Delivery[] = [];
  status: (n: number) => number = () => 204;
  delayMs = 0;
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const n = this.got.length;
        this.got.push({ headers: req.headers, body: JSON.parse(raw) as Delivery['body'] });
        const sig = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
        const status = req.headers['x-hub-signature'] === sig ? this.status(n) : 401;
        setTimeout(() => res.writeHead(status).end(), this.delayMs);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  }

  reset(): void {
    this.got.length = 0;
    this.status = () => 204;
    this.delayMs = 0;
  }

  /** 2xx answers only. */
  delivered(): Delivery[] {
    return this.got.filter((_, i) => {
      const s = this.status(i);
      return s >= 200 && s < 300;
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const message: PushNotification = {
  kind: 'message',
  familyId: 'fam-1',
  ts: T0,
  conversationId: 'conv-1',
  messageId: 'msg-1',
  seq: 3,
  text: 'secret words',
};

describe.each(STORE_KINDS)('push outbox (%s)', (kind) => {
  let dbA: Kysely<Database>;
  let dbB: Kysely<Database>;
  let repoA: PushOutboxRepository;
  let repoB: PushOutboxRepository;
  let drop: () => Promise<void> = async () => {};
  const receiver = new Receiver();
  let now = T0;
  const clock = () => now;
  let ids = 0;
  let logLines: string[] = [];
  let logger: Logger;

  beforeAll(async () => {
    const fresh = await freshDatabaseUrl(kind);
    drop = fresh.drop;
    const a = openDatabase(fresh.url);
    dbA = a.db;
    await migrateToLatest(dbA, a.dialect);
    // A second connection (pool) to the same database stands for a second hub node.
    dbB = openDatabase(fresh.url).db;
    repoA = new PushOutboxRepository(dbA);
    repoB = new PushOutboxRepository(dbB);
    await receiver.start();
  });

  afterAll(async () => {
    await receiver.stop();
    await dbB?.destroy();
    await dbA?.destroy();
    await drop();
  });

  beforeEach(async () => {
    await dbA.deleteFrom('push_outbox').execute();
    receiver.reset();
    now = T0;
    logLines = [];
    logger = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
  });

  afterEach(() => {
    now = T0;
  });

  function outbox(repo: PushOutboxRepository, over: Partial<PushOutboxOptions> = {}): PushOutbox {
    return new PushOutbox(repo, new WebhookPushProvider(receiver.url, SECRET, { clock, timeoutMs: 2000 }), {
      maxAttempts: 5,
      includeContent: false,
      clock,
      newId: () => `push-${kind}-${++ids}`,
      logger,
      random: () => 0.5,
      ...over,
    });
  }

  it('delivers one redacted push per user, exactly once', async () => {
    const box = outbox(repoA);
    await box.enqueue(['user-1', 'user-2'], {
      ...message,
      kind: 'alert',
      alertId: 'al-1',
      alertType: 'sos',
      deviceId: 'dev-1',
      lat: 52.5,
      lng: 13.4,
    });
    expect(await repoA.pendingCount()).toBe(2);

    expect(await box.runOnce()).toBe(2);
    expect(receiver.got).toHaveLength(2);
    expect(receiver.got.map((d) => d.body.userId).sort()).toEqual(['user-1', 'user-2']);
    for (const d of receiver.got) {
      expect(d.headers['x-hub-delivery']).toBe(d.body.id);
      expect(d.body.notification).toEqual({
        kind: 'alert',
        familyId: 'fam-1',
        ts: T0,
        conversationId: 'conv-1',
        messageId: 'msg-1',
        seq: 3,
        alertId: 'al-1',
        alertType: 'sos',
        deviceId: 'dev-1',
      });
      expect(JSON.stringify(d.body)).not.toContain('secret words');
      const row = await repoA.find(d.body.id);
      expect(row?.sent_at).toBe(T0);
      expect(row?.user_id).toBe(d.body.userId);
      // Stored redacted too.
      expect(row?.payload).not.toContain('secret words');
    }
    expect(new Set(receiver.got.map((d) => d.body.id)).size).toBe(2);
    expect(await repoA.pendingCount()).toBe(0);

    now += 3_600_000;
    expect(await box.runOnce()).toBe(0);
    expect(receiver.got).toHaveLength(2);
  });

  it('keeps text and coordinates when includeContent is on', async () => {
    const box = outbox(repoA, { includeContent: true });
    await box.enqueue(['user-1'], { ...message, lat: 52.5, lng: 13.4 });
    expect(await box.runOnce()).toBe(1);
    expect(receiver.got).toHaveLength(1);
    expect(receiver.got[0]!.body.notification).toEqual({ ...message, lat: 52.5, lng: 13.4 });
  });

  it('retries after a failure with backoff and delivers exactly once', async () => {
    receiver.status = (n) => (n === 0 ? 500 : 204);
    const box = outbox(repoA, { baseBackoffMs: 1000 });
    await box.enqueue(['user-1'], message);

    expect(await box.runOnce()).toBe(0);
    expect(receiver.got).toHaveLength(1);
    const id = receiver.got[0]!.body.id;
    const row = await repoA.find(id);
    expect(row).toMatchObject({ attempts: 1, sent_at: null, failed_at: null, next_attempt_at: T0 + 500 });
    expect(row?.last_error).toContain('500');

    // Not due before the backoff (0.5 × 1000 ms) has passed.
    now = T0 + 499;
    expect(await box.runOnce()).toBe(0);
    expect(receiver.got).toHaveLength(1);

    now = T0 + 500;
    expect(await box.runOnce()).toBe(1);
    expect(receiver.got).toHaveLength(2);
    // The retry carries the same delivery id, so the receiver can dedupe.
    expect(receiver.got[1]!.headers['x-hub-delivery']).toBe(id);
    expect(receiver.delivered()).toHaveLength(1);
    expect(await repoA.find(id)).toMatchObject({ sent_at: T0 + 500, attempts: 1 });

    now = T0 + 3_600_000;
    expect(await box.runOnce()).toBe(0);
    expect(receiver.got).toHaveLength(2);
  });

  it('marks the row failed after maxAttempts and stops trying', async () => {
    receiver.status = () => 500;
    const box = outbox(repoA, { maxAttempts: 3, baseBackoffMs: 1000, maxBackoffMs: 60_000 });
    await box.enqueue(['user-1'], message);

    expect(await box.runOnce()).toBe(0);
    const id = receiver.got[0]!.body.id;
    expect((await repoA.find(id))?.next_attempt_at).toBe(now + 500);
    now += 500;
    expect(await box.runOnce()).toBe(0);
    // Exponential: the second backoff is twice the first (same jitter draw).
    expect((await repoA.find(id))?.next_attempt_at).toBe(now + 1000);
    for (let i = 0; i < 10; i++) {
      now += 60_000;
      expect(await box.runOnce()).toBe(0);
    }
    expect(receiver.got).toHaveLength(3);
    const row = await repoA.find(id);
    expect(row).toMatchObject({ attempts: 3, sent_at: null });
    expect(row?.failed_at).toBeTypeOf('number');
    expect(row?.last_error).toContain('500');
    expect(await repoA.pendingCount()).toBe(0);
    const failed = logLines
      .map((l) => JSON.parse(l) as { msg: string; pushId?: string })
      .filter((l) => l.msg === 'push failed permanently');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.pushId).toBe(id);
    expect(logLines.join('\n')).not.toContain('secret words');
  });

  it('backoff doubles per failure and is capped by maxBackoffMs', async () => {
    receiver.status = () => 500;
    const box = outbox(repoA, { maxAttempts: 20, baseBackoffMs: 1000, maxBackoffMs: 4000, random: () => 0.999 });
    await box.enqueue(['user-1'], message);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      expect(await box.runOnce()).toBe(0);
      const row = await repoA.find(receiver.got[0]!.body.id);
      delays.push(row!.next_attempt_at - now);
      now = row!.next_attempt_at;
    }
    expect(receiver.got).toHaveLength(6);
    expect(delays).toEqual([999, 1998, 3996, 3996, 3996, 3996]);
  });

  it('two nodes running at once deliver every row exactly once', async () => {
    receiver.delayMs = 15;
    const a = outbox(repoA, { concurrency: 4 });
    const b = outbox(repoB, { concurrency: 4 });
    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    await a.enqueue(users, message);
    await b.enqueue(users, { ...message, messageId: 'msg-2', seq: 4 });

    const [sentA, sentB] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(sentA + sentB).toBe(24);
    expect(receiver.got).toHaveLength(24);
    const deliveryIds = receiver.got.map((d) => d.headers['x-hub-delivery']);
    expect(new Set(deliveryIds).size).toBe(24);
    const pairs = new Set(receiver.got.map((d) => `${d.body.userId}/${d.body.notification.messageId}`));
    expect(pairs.size).toBe(24);

    const again = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce()]);
    expect(again).toEqual([0, 0, 0]);
    expect(receiver.got).toHaveLength(24);
    expect(await repoB.pendingCount()).toBe(0);
  });

  it('once started, enqueue kicks a run without waiting for the interval', async () => {
    const box = outbox(repoA);
    const stop = box.start(3_600_000);
    try {
      await box.enqueue(['user-1'], message);
      await box.enqueue(['user-2'], message);
      const deadline = Date.now() + 3000;
      while (receiver.got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await box.whenIdle();
      expect(receiver.got.map((d) => d.body.userId).sort()).toEqual(['user-1', 'user-2']);
    } finally {
      stop();
    }
    await box.enqueue(['user-3'], message);
    await new Promise((r) => setTimeout(r, 50));
    // Stopped: nothing runs by itself any more.
    expect(receiver.got).toHaveLength(2);
  });

  it('a claimed row is not claimed again until its lease ends', async () => {
    const box = outbox(repoA);
    await box.enqueue(['user-1'], message);
    const [row] = await repoA.due(now, 10);
    expect(await repoA.claim(row!.id, row!.next_attempt_at, now + 60_000)).toBe(true);
    expect(await repoB.claim(row!.id, row!.next_attempt_at, now + 60_000)).toBe(false);
    expect(await box.runOnce()).toBe(0);
    expect(receiver.got).toHaveLength(0);
    // The claimer vanished: once the lease is over the row is sent.
    now += 60_000;
    expect(await box.runOnce()).toBe(1);
    expect(receiver.got).toHaveLength(1);
  });
});
