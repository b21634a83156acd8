// Location fixes written to SQLite from a worker thread. better-sqlite3 is synchronous: on the
// main thread, every group commit (up to a few hundred rows, then an fsync) stops the event loop
// that serves every socket. In a thread of its own, with its own connection to the same file and
// statements prepared once, the commit happens beside the event loop; the main thread only posts
// the rows and awaits the answer. WAL mode lets the main connection read meanwhile, and both
// connections wait for each other's writes (busy_timeout).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { FixObservationRow, FixRow } from './fixes.js';

/** Where fixes go: a repository (PostgreSQL, tests) or this thread (SQLite). */
export interface FixSink {
  insertMany(rows: readonly FixRow[], observations?: readonly FixObservationRow[]): Promise<void>;
}

// Plain JavaScript run in the worker (eval), so it needs no build step of its own: the rows
// arrive as arrays in COLUMNS order, one transaction per batch.
const COLUMNS = [
  'device_id',
  'ts',
  'lat',
  'lng',
  'acc',
  'alt',
  'speed',
  'heading',
  'battery',
  'source',
  'cell',
  'received_at',
] as const;
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
const cols = workerData.columns;
const insertFix = db.prepare('INSERT INTO fixes (' + cols.join(', ') + ') VALUES (' + cols.map(() => '?').join(', ') + ') ON CONFLICT (device_id, ts) DO NOTHING');
const insertObs = db.prepare('INSERT INTO fix_observations (device_id, ts, cells, wifi) VALUES (?, ?, ?, ?) ON CONFLICT (device_id, ts) DO NOTHING');
const write = db.transaction((rows, obs) => {
  for (const r of rows) insertFix.run(r);
  for (const o of obs) insertObs.run(o);
});
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.close(); return; }
  try {
    const batch = JSON.parse(m.batch);
    write(batch.rows, batch.obs);
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err), code: err && err.code });
  }
});
`;

export class SqliteFixThread implements FixSink {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private next = 0;
  private failed: Error | undefined;

  constructor(path: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { path, driver, columns: COLUMNS } });
    this.worker.on('message', (m: { id: number; error?: string; code?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error === undefined) p?.resolve();
      else p?.reject(Object.assign(new Error(m.error), { code: m.code }));
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`the SQLite fix writer thread exited with code ${code}`));
    });
    // The thread must not keep the process alive by itself.
    this.worker.unref();
  }

  insertMany(rows: readonly FixRow[], observations: readonly FixObservationRow[] = []): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.failed) return Promise.reject(this.failed);
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // One string crosses to the thread far cheaper than a structured clone of nested arrays.
      const batch = JSON.stringify({
        rows: rows.map((r) => COLUMNS.map((c) => r[c])),
        obs: observations.filter((o) => o.cells !== null || o.wifi !== null).map((o) => [o.device_id, o.ts, o.cells, o.wifi]),
      });
      this.worker.postMessage({ id, batch });
    });
  }

  /** Closes the thread's connection once what was posted is written. */
  async close(): Promise<void> {
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 5));
    const exited = new Promise((r) => this.worker.once('exit', r));
    this.worker.postMessage({ close: true });
    await exited;
  }
}
