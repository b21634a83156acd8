// Group commit for location fixes: reports arriving within a few milliseconds share one
// transaction, and each report's ack waits for the commit that made its fixes durable. Up to
// `maxInFlight` transactions run at once (one for SQLite's single writer; a few for PostgreSQL,
// where a slow commit must not cap throughput); what arrives meanwhile forms the next batch, so
// batches grow by themselves under load. A fix's cells and access points (fix_observations) go
// in the same transaction as the fix.
import type { FixObservationRow, FixRow } from './fixes.js';
import type { FixSink } from './sqlite-fix-thread.js';

export interface FixWriterOptions {
  /** Flush as soon as this many rows wait. */
  maxRows: number;
  /** Flush at the latest this long after the first row of a batch arrived. */
  maxDelayMs: number;
  /** Batches committing at once (default 1). */
  maxInFlight?: number;
}

interface Waiter {
  rows: readonly FixRow[];
  observations: readonly FixObservationRow[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class FixWriter {
  private waiting: Waiter[] = [];
  private waitingRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Rows committed and batches run, for metrics. */
  readonly stats = { rows: 0, batches: 0 };

  constructor(
    private readonly repo: FixSink,
    private readonly opts: FixWriterOptions,
  ) {}

  /** Resolves once the rows (and the observations of those fixes) are committed. */
  write(rows: readonly FixRow[], observations: readonly FixObservationRow[] = []): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ rows, observations, resolve, reject });
      this.waitingRows += rows.length;
      this.schedule();
    });
  }

  /** Commits everything waiting; resolves when nothing is left. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0 || this.waiting.length > 0) {
      if (this.inFlight.size === 0) this.start();
      await Promise.all(this.inFlight);
    }
  }

  private get full(): boolean {
    return this.inFlight.size >= (this.opts.maxInFlight ?? 1);
  }

  private schedule(): void {
    if (this.full) return; // a running batch starts the next one when it ends
    if (this.waitingRows >= this.opts.maxRows) {
      this.start();
    } else {
      this.timer ??= setTimeout(() => this.start(), this.opts.maxDelayMs);
    }
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.full || this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingRows = 0;
    const running: Promise<void> = this.commit(batch).finally(() => {
      this.inFlight.delete(running);
      // Back to the event loop first: a commit may resolve without I/O, and writers that write
      // again at once would otherwise keep the loop spinning here.
      if (this.waiting.length > 0) setImmediate(() => this.schedule());
    });
    this.inFlight.add(running);
  }

  private async commit(batch: Waiter[]): Promise<void> {
    const rows = batch.flatMap((w) => w.rows);
    const observations = batch.flatMap((w) => w.observations);
    try {
      await this.repo.insertMany(rows, observations);
      this.stats.rows += rows.length;
      this.stats.batches++;
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
