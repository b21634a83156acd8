// npm run bench:writer -- [--db sqlite|postgres|both] [--producers 200] [--duration 10] …
//
// Durable fixes per second of the group-commit FixWriter alone (src/store/fix-writer.ts over
// the real store from openStore), against a naive baseline measured in the same run: one insert
// transaction per report. P producers each await write() of 1–5 fixes in a loop for D seconds.
// Every phase gets a fresh database; the rows are counted afterwards to prove they were stored.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { FixWriter } from '../src/store/fix-writer.js';
import type { FixRow } from '../src/store/fixes.js';
import { openStore } from '../src/store/store.js';
import { choice, num, parseArgs } from './lib/args.js';
import { freshPg, pgSettings } from './lib/pg.js';
import { cpus } from 'node:os';
import { cpuPct, machinePct, readMachine, readSelf } from './lib/proc.js';
import { fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';
import { Samples, type Summary, round } from './lib/stats.js';

type Db = 'sqlite' | 'postgres';
type Mode = 'group commit' | 'naive';

const args = parseArgs(process.argv.slice(2), [
  'db',
  'producers',
  'duration',
  'min-fixes',
  'max-fixes',
  'max-rows',
  'max-delay-ms',
  'max-seconds',
]);
const cfg = {
  dbs: ({ both: ['sqlite', 'postgres'], sqlite: ['sqlite'], postgres: ['postgres'] } as const)[
    choice(args, 'db', ['both', 'sqlite', 'postgres'], 'both')
  ],
  producers: num(args, 'producers', 200, 1, 10_000),
  durationS: num(args, 'duration', 10, 1, 300),
  minFixes: num(args, 'min-fixes', 1, 1, 100),
  maxFixes: num(args, 'max-fixes', 5, 1, 100),
  // The hub's defaults (HUB_FIX_BATCH_MAX_ROWS, HUB_FIX_BATCH_MAX_DELAY_MS).
  maxRows: num(args, 'max-rows', 500, 1, 10_000),
  maxDelayMs: num(args, 'max-delay-ms', 4, 0, 1000),
  maxSeconds: num(args, 'max-seconds', 600, 10, 3600),
};
const TARGET = 10_000;
const log = (s: string) => process.stdout.write(`${s}\n`);

interface PhaseResult {
  db: Db;
  mode: Mode;
  seconds: number;
  writes: number;
  fixes: number;
  fixesPerS: number;
  writesPerS: number;
  /** Transactions committed (group commit: batches; naive: one per write). */
  transactions: number;
  meanBatchFixes: number;
  meanBatchWrites: number;
  writeLatencyMs: Summary;
  rowsStored: number;
  clientCpuPct: number;
  /** What every other process took meanwhile (PostgreSQL's backends included), % of one core. */
  otherProcessesCpuPct: number;
}

function fix(deviceId: string, ts: number): FixRow {
  return {
    device_id: deviceId,
    ts,
    lat: 48.8566 + Math.random() * 0.01,
    lng: 2.3522 + Math.random() * 0.01,
    acc: 8,
    alt: null,
    speed: null,
    heading: null,
    battery: 80,
    source: 'gps',
    cell: '891fb466257ffff',
    received_at: ts,
  };
}

async function fresh(db: Db): Promise<{ url: string; count(): Promise<number>; drop(): Promise<void> }> {
  if (db === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hub-bench-writer-'));
    const file = join(dir, 'hub.sqlite');
    return {
      url: `sqlite:${file}`,
      async count() {
        const c = new SQLite(file, { readonly: true });
        try {
          return (c.prepare('select count(*) as n from fixes').get() as { n: number }).n;
        } finally {
          c.close();
        }
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const p = await freshPg();
  return {
    url: p.url,
    async count() {
      const c = new pg.Client({ connectionString: p.url });
      await c.connect();
      try {
        return Number((await c.query<{ n: string }>('select count(*) as n from fixes')).rows[0]!.n);
      } finally {
        await c.end();
      }
    },
    drop: () => p.drop(),
  };
}

async function phase(db: Db, mode: Mode): Promise<PhaseResult> {
  const database = await fresh(db);
  const store = await openStore(database.url);
  try {
    const writer = new FixWriter(store.fixes, { maxRows: cfg.maxRows, maxDelayMs: cfg.maxDelayMs });
    const write =
      mode === 'group commit' ? (rows: FixRow[]) => writer.write(rows) : (rows: FixRow[]) => store.fixes.insertMany(rows);
    const latency = new Samples();
    let writes = 0;
    let fixes = 0;
    let secFixes = 0;
    let stop = false;
    const t0 = performance.now();
    const self0 = readSelf();
    const machine0 = readMachine();
    const progress = setInterval(() => {
      log(
        `[${db} ${mode}] ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s  ${secFixes} fixes/s  (${writer.stats.batches} batches so far)`,
      );
      secFixes = 0;
    }, 1000);
    const producer = async () => {
      const deviceId = randomUUID();
      let ts = Date.now() - 86_400_000;
      while (!stop) {
        const n = cfg.minFixes + Math.floor(Math.random() * (cfg.maxFixes - cfg.minFixes + 1));
        const rows = Array.from({ length: n }, () => fix(deviceId, (ts += 1000)));
        const start = performance.now();
        await write(rows);
        latency.push(performance.now() - start);
        writes++;
        fixes += n;
        secFixes += n;
        // The next report arrives from the network, in a later turn of the event loop. (Without
        // this, on SQLite, whose driver is synchronous, full batches resolve and refill in
        // microtasks alone and timers never run.)
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const deadline = setTimeout(() => (stop = true), cfg.durationS * 1000);
    await Promise.all(Array.from({ length: cfg.producers }, producer));
    clearTimeout(deadline);
    clearInterval(progress);
    // Every write that resolved is counted, up to the last one to finish.
    const seconds = (performance.now() - t0) / 1000;
    const clientCpu = cpuPct(self0, readSelf());
    const machine1 = readMachine();
    const machineBusy = machine0 && machine1 ? machinePct(machine0, machine1, cpus().length).busyPct : NaN;
    await writer.flush();
    const transactions = mode === 'group commit' ? writer.stats.batches : writes;
    const r: PhaseResult = {
      db,
      mode,
      seconds: round(seconds, 2),
      writes,
      fixes,
      fixesPerS: round(fixes / seconds, 0),
      writesPerS: round(writes / seconds, 0),
      transactions,
      meanBatchFixes: round(fixes / transactions, 1),
      meanBatchWrites: round(writes / transactions, 1),
      writeLatencyMs: latency.summary(),
      rowsStored: 0,
      clientCpuPct: round(clientCpu, 1),
      otherProcessesCpuPct: round(Math.max(0, machineBusy - clientCpu), 1),
    };
    await store.close();
    r.rowsStored = await database.count();
    log(
      `[${db} ${mode}] ${fmt(r.fixesPerS, 0)} fixes/s, ${fmt(r.writesPerS, 0)} writes/s, ${transactions} transactions of ${r.meanBatchFixes} fixes on average, ` +
        `write p50 ${r.writeLatencyMs.p50} p99 ${r.writeLatencyMs.p99} ms; ${r.rowsStored} rows stored`,
    );
    if (r.rowsStored !== fixes) throw new Error(`${db} ${mode}: ${fixes} fixes acknowledged but ${r.rowsStored} rows stored`);
    return r;
  } finally {
    await store.close().catch(() => {});
    await database.drop();
  }
}

async function main(): Promise<void> {
  const info = runInfo();
  const ts = timestamp();
  const watchdog = setTimeout(() => {
    log(`aborting: the run took longer than --max-seconds ${cfg.maxSeconds}`);
    process.exit(3);
  }, cfg.maxSeconds * 1000);
  const settings: Record<string, Record<string, string>> = {};
  const phases: PhaseResult[] = [];
  for (const db of cfg.dbs) {
    if (db === 'postgres') {
      const p = await freshPg();
      try {
        settings.postgres = await pgSettings(p.url);
      } finally {
        await p.drop();
      }
    } else {
      settings.sqlite = { journal_mode: 'WAL', synchronous: 'FULL' };
    }
    for (const mode of ['group commit', 'naive'] as const) phases.push(await phase(db, mode));
  }
  clearTimeout(watchdog);

  const summary = cfg.dbs.map((db) => {
    const g = phases.find((p) => p.db === db && p.mode === 'group commit')!;
    const n = phases.find((p) => p.db === db && p.mode === 'naive')!;
    return {
      db,
      groupFixesPerS: g.fixesPerS,
      naiveFixesPerS: n.fixesPerS,
      speedup: round(g.fixesPerS / n.fixesPerS, 1),
      targetMet: g.fixesPerS >= TARGET,
    };
  });
  const result = {
    benchmark: 'writer',
    ...info,
    loadavgAtEnd: loadavg().map((v) => round(v, 2)),
    config: cfg,
    databases: settings,
    phases,
    summary,
    target: { fixesPerS: TARGET },
  };
  const md = [
    '# FixWriter benchmark: durable fixes/s, group commit vs one transaction per report',
    '',
    runInfoMarkdown(info),
    '',
    `${cfg.producers} concurrent producers, each awaiting write() of ${cfg.minFixes}–${cfg.maxFixes} fixes in a loop for ${cfg.durationS} s, in this one process; FixWriter with maxRows ${cfg.maxRows} and maxDelayMs ${cfg.maxDelayMs} (the hub's defaults). Naive: \`store.fixes.insertMany(rows)\` per report (one transaction each). A fresh database per phase; every acknowledged fix is counted in the table afterwards.`,
    '',
    `Durability: SQLite in WAL mode with synchronous=FULL (an fsync per commit)${settings.postgres ? `; PostgreSQL ${settings.postgres.server_version} with fsync=${settings.postgres.fsync}, synchronous_commit=${settings.postgres.synchronous_commit}, wal_sync_method=${settings.postgres.wal_sync_method}` : ''}.`,
    '',
    table(
      [
        'database',
        'mode',
        'fixes/s',
        'writes/s',
        'transactions',
        'fixes per transaction',
        'writes per transaction',
        'write p50 / p99 / max ms',
        'rows stored',
        'bench CPU',
        'other processes CPU',
      ],
      phases.map((p) => [
        p.db,
        p.mode,
        fmt(p.fixesPerS, 0),
        fmt(p.writesPerS, 0),
        fmt(p.transactions, 0),
        p.meanBatchFixes,
        p.meanBatchWrites,
        `${p.writeLatencyMs.p50} / ${p.writeLatencyMs.p99} / ${p.writeLatencyMs.max}`,
        fmt(p.rowsStored, 0),
        `${p.clientCpuPct}%`,
        `${p.otherProcessesCpuPct}%`,
      ]),
    ),
    'CPU columns are in % of one core (the machine has 2); "other processes" includes the PostgreSQL server and anything else running on this shared machine.',
    '',
    table(
      ['database', 'group commit fixes/s', 'naive fixes/s', 'speed-up', `target ≥ ${fmt(TARGET, 0)} fixes/s`],
      summary.map((s) => [
        s.db,
        fmt(s.groupFixesPerS, 0),
        fmt(s.naiveFixesPerS, 0),
        `${s.speedup}×`,
        s.targetMet ? 'met' : '**missed**',
      ]),
    ),
    '',
  ].join('\n');
  for (const p of writeResults('writer', ts, result, md)) log(`wrote ${p}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:writer failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
