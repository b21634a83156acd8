// The push outbox: a push is first written to the database (one row per recipient), then sent
// by whichever node's run claims it. Failed sends are retried with capped exponential backoff
// and full jitter; after maxAttempts failures the row is marked failed. Delivery is at least
// once: the provider is told the row id so a receiver can drop repeats.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PushOutboxRepository, PushOutboxRow } from '../store/push-outbox.js';
import { redactForPush } from './redact.js';
import { PushGiveUp, type PushNotification, type PushProvider } from './types.js';

/** Sends one outbox row to one app installation; see src/push/installations.ts. */
export interface InstallationSender {
  /**
   * Resolves true when sent, false when there is nothing to send to any more (the installation
   * signed out or its token died). Throws to ask for a retry; throws PushGiveUp to give up.
   */
  send(installationId: string, userId: string, n: PushNotification, delivery: { id: string; attempt: number }): Promise<boolean>;
}

export interface PushOutboxOptions {
  /** Failed attempts after which a row is given up. */
  maxAttempts: number;
  /** Backoff cap for the first retry; doubles per failure. Default 1 s. */
  baseBackoffMs?: number;
  /** Upper bound of any backoff. Default 5 min. */
  maxBackoffMs?: number;
  /** Keep message text and coordinates in the stored and sent payload. */
  includeContent: boolean;
  clock?: () => number;
  newId?: () => string;
  logger: Logger;
  /** How long a claimed row stays reserved for its sender; must exceed the provider's timeout. Default 60 s. */
  leaseMs?: number;
  /** Rows read per run. Default 100. */
  batchSize?: number;
  /** Sends in flight at once within a run. Default 8. */
  concurrency?: number;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * The app installations signed in as each user: a user with any gets one row per
   * installation (sent by `installations`); a user with none, one row for `provider`.
   */
  installationsOf?: (userIds: readonly string[]) => Promise<{ userId: string; installationId: string }[]>;
  installations?: InstallationSender;
}

export const DEFAULT_BASE_BACKOFF_MS = 1000;
export const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000;
const MAX_ERROR_CHARS = 500;

/** Full-jitter exponential backoff after `failures` failed attempts (≥ 1). */
export function pushBackoffMs(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * cap);
}

function errorText(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return s.length > MAX_ERROR_CHARS ? s.slice(0, MAX_ERROR_CHARS) : s;
}

export class PushOutbox {
  private readonly maxAttempts: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly includeContent: boolean;
  private readonly clock: () => number;
  private readonly newId: () => string;
  private readonly logger: Logger;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly installationsOf: PushOutboxOptions['installationsOf'];
  private readonly installations: InstallationSender | undefined;

  private running: Promise<number> | null = null;
  /** Another run was asked for while one was in flight. */
  private rerun = false;
  private started = false;
  private interval: NodeJS.Timeout | null = null;
  private kickTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: PushOutboxRepository,
    private readonly provider: PushProvider,
    opts: PushOutboxOptions,
  ) {
    this.maxAttempts = Math.max(1, opts.maxAttempts);
    this.baseBackoffMs = opts.baseBackoffMs ?? DEFAULT_BASE_BACKOFF_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.includeContent = opts.includeContent;
    this.clock = opts.clock ?? Date.now;
    this.newId = opts.newId ?? randomUUID;
    this.logger = opts.logger;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.batchSize = opts.batchSize ?? 100;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.random = opts.random ?? Math.random;
    this.installationsOf = opts.installationsOf;
    this.installations = opts.installations;
  }

  /**
   * Durably queues one push per distinct user, or per app installation of the user when it has
   * any (payload redacted per includeContent), then kicks a run.
   */
  async enqueue(userIds: readonly string[], n: PushNotification): Promise<void> {
    const users = [...new Set(userIds)];
    if (users.length === 0) return;
    const now = this.clock();
    const payload = JSON.stringify(redactForPush(n, this.includeContent));
    const targets: { userId: string; installationId: string | null }[] = [];
    const installed = this.installationsOf && this.installations ? await this.installationsOf(users) : [];
    const withApp = new Set(installed.map((i) => i.userId));
    for (const i of installed) targets.push(i);
    for (const userId of users) if (!withApp.has(userId)) targets.push({ userId, installationId: null });
    await this.repo.enqueue(
      targets.map((t) => ({
        id: this.newId(),
        user_id: t.userId,
        installation_id: t.installationId,
        payload,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        sent_at: null,
        failed_at: null,
        last_error: null,
      })),
    );
    this.kick();
  }

  /**
   * Sends what is due now; resolves to how many rows were sent. Never overlaps another run of
   * this instance: a call during a run joins it.
   */
  runOnce(): Promise<number> {
    if (this.running) return this.running;
    const run = this.runBatch().finally(() => {
      this.running = null;
      if (this.rerun) {
        this.rerun = false;
        this.kick();
      }
    });
    this.running = run;
    return run;
  }

  /**
   * Schedules a run soon, coalescing repeated calls, so a push does not wait for the interval.
   * Only while started (between start() and its stop); otherwise runs are driven by runOnce().
   */
  kick(): void {
    if (!this.started || this.kickTimer) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = null;
      this.tick();
    }, 0);
    this.kickTimer.unref();
  }

  /** Runs every intervalMs (timer unref'd) and on kick(); returns stop. */
  start(intervalMs: number): () => void {
    this.stopTimers();
    this.started = true;
    const interval = setInterval(() => this.tick(), intervalMs);
    interval.unref();
    this.interval = interval;
    this.kick();
    return () => {
      if (this.interval === interval) this.stopTimers();
    };
  }

  /** Resolves when no run is in flight (for shutdown and tests). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private stopTimers(): void {
    this.started = false;
    if (this.interval) clearInterval(this.interval);
    if (this.kickTimer) clearTimeout(this.kickTimer);
    this.interval = null;
    this.kickTimer = null;
  }

  private tick(): void {
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.runOnce().catch((err: unknown) => this.logger.error({ err }, 'push outbox run failed'));
  }

  private async runBatch(): Promise<number> {
    const rows = await this.repo.due(this.clock(), this.batchSize);
    let sent = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < rows.length) {
        const row = rows[next++]!;
        try {
          if (await this.attempt(row)) sent++;
        } catch (err) {
          // A store error: the row's lease runs out and a later run tries it again.
          this.logger.error({ err, pushId: row.id }, 'push outbox row failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, rows.length) }, worker));
    // A full batch: more may be due.
    if (rows.length === this.batchSize) this.rerun = true;
    return sent;
  }

  /** One attempt at one row; true if this call sent it. */
  private async attempt(row: PushOutboxRow): Promise<boolean> {
    if (!(await this.repo.claim(row.id, row.next_attempt_at, this.clock() + this.leaseMs))) return false;
    let n: PushNotification;
    try {
      n = JSON.parse(row.payload) as PushNotification;
    } catch {
      await this.repo.markFailed(row.id, this.clock(), 'unreadable payload');
      this.logger.warn({ pushId: row.id, userId: row.user_id }, 'push failed permanently: unreadable payload');
      return false;
    }
    const attempt = row.attempts + 1;
    try {
      if (row.installation_id !== null && row.installation_id !== undefined) {
        if (!this.installations) throw new PushGiveUp('no installation sender');
        if (!(await this.installations.send(row.installation_id, row.user_id, n, { id: row.id, attempt }))) {
          await this.repo.markFailed(row.id, this.clock(), 'installation signed out or gone');
          return false;
        }
      } else {
        await this.provider.send(row.user_id, n, { id: row.id, attempt });
      }
    } catch (err) {
      const error = errorText(err);
      if (attempt >= this.maxAttempts || err instanceof PushGiveUp) {
        await this.repo.markFailed(row.id, this.clock(), error);
        this.logger.warn(
          { pushId: row.id, userId: row.user_id, kind: n.kind, attempts: attempt, provider: this.provider.name, error },
          'push failed permanently',
        );
      } else {
        const delay = pushBackoffMs(attempt, this.baseBackoffMs, this.maxBackoffMs, this.random);
        await this.repo.markRetry(row.id, attempt, this.clock() + delay, error);
        this.logger.debug({ pushId: row.id, attempts: attempt, retryInMs: delay, error }, 'push attempt failed');
      }
      return false;
    }
    await this.repo.markSent(row.id, this.clock());
    return true;
  }
}
