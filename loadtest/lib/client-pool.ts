// The load generator's parent side: K client processes (client-worker.ts), each holding a share
// of the families (a family is never split), driven in lock step over IPC. A phase's figures are
// the clients' counts added up and their latency histograms merged (histogram.ts: bucket counts
// add, so the percentiles are those of all samples), never averaged percentiles. The parent reads
// the CPU of the server, of every client process and of itself from /proc, so a client that
// saturates a core shows in the report.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type {
  Command,
  ConnectResult,
  FamilyConn,
  FixKind,
  MeasureResult,
  Protocol,
  Reply,
  Request,
  StopResult,
  TickResult,
} from './client-protocol.js';
import { Histogram } from './histogram.js';
import { affinityOf, commandPrefix } from './pin.js';
import { type MachineReading, type ProcReading, cpuPct, machinePct, readMachine, readProc, readSelf, sysPct } from './proc.js';
import type { Summary } from './stats.js';
import { round } from './stats.js';

const WORKER_MAIN = fileURLToPath(new URL('./client-worker.js', import.meta.url));

export type ServerKind = 'relay' | 'sio-relay' | 'hub' | 'hub-pg' | 'mqtt';

export interface PoolTarget {
  kind: ServerKind;
  /** For the report: "hub", "hub (postgres)", "mosquitto". */
  label: string;
  protocol: Protocol;
  url: string;
  pid: number;
  /** Other processes that do the server's work (PostgreSQL's backends), measured beside it. */
  helperPids?: () => number[];
  helperName?: string;
}

interface Worker {
  child: ChildProcess;
  pid: number;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  exited: string | null;
  sockets: number;
  families: number;
}

export interface ClientPoolOptions {
  /** taskset CPU list for the clients, e.g. "1". */
  cpus?: string | undefined;
  /** Open files each client may hold (raised with prlimit when needed). */
  nofile?: number | undefined;
  /** Node options of the clients, e.g. a larger heap for tens of thousands of sockets. */
  nodeArgs?: string[];
}

export class ClientPool {
  private nextId = 1;

  private constructor(
    readonly workers: Worker[],
    readonly options: ClientPoolOptions,
  ) {}

  /** Starts `n` client processes and waits until each answers. */
  static async start(n: number, options: ClientPoolOptions = {}): Promise<ClientPool> {
    const prefix = commandPrefix({ cpus: options.cpus, nofile: options.nofile });
    const workers: Worker[] = [];
    for (let i = 0; i < n; i++) {
      const node = [process.execPath, ...(options.nodeArgs ?? []), WORKER_MAIN];
      const [cmd, args] = prefix.length ? [prefix[0]!, [...prefix.slice(1), ...node]] : [node[0]!, node.slice(1)];
      const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const w: Worker = { child, pid: child.pid!, pending: new Map(), exited: null, sockets: 0, families: 0 };
      child.on('message', (m: Reply) => {
        const p = w.pending.get(m.id);
        if (!p) return;
        w.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`client ${w.pid}: ${m.error}`));
      });
      child.once('exit', (code, signal) => {
        w.exited = signal ?? String(code);
        for (const p of w.pending.values()) p.reject(new Error(`client process ${w.pid} exited (${w.exited})`));
        w.pending.clear();
      });
      workers.push(w);
    }
    live.add(workers);
    const pool = new ClientPool(workers, options);
    await pool.all({ type: 'tick' });
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Families (watches) the clients hold. */
  get watchCount(): number {
    return this.workers.reduce((n, w) => n + w.families, 0);
  }

  request<T>(i: number, c: Command): Promise<T> {
    const w = this.workers[i]!;
    if (w.exited !== null) return Promise.reject(new Error(`client process ${w.pid} exited (${w.exited})`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      w.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.child.send({ ...c, id } satisfies Request);
    });
  }

  all<T>(c: Command | ((i: number) => Command)): Promise<T[]> {
    return Promise.all(this.workers.map((_, i) => this.request<T>(i, typeof c === 'function' ? c(i) : c)));
  }

  /**
   * Connects `families` (split round robin, whole families) to `url`; adds to what the clients
   * already hold. `concurrency` is the total number of connections opened at once.
   */
  async connect(
    protocol: Protocol,
    url: string,
    families: FamilyConn[],
    o: { concurrency: number; timeoutMs?: number; tolerateFailures?: boolean },
  ): Promise<ConnectResult> {
    const shares = this.workers.map((): FamilyConn[] => []);
    families.forEach((f, i) => shares[i % shares.length]!.push(f));
    const t0 = performance.now();
    const rs = await this.all<ConnectResult>((i) => ({
      type: 'connect',
      protocol,
      url,
      families: shares[i]!,
      concurrency: Math.max(1, Math.ceil(o.concurrency / this.workers.length)),
      timeoutMs: o.timeoutMs ?? 20_000,
      tolerateFailures: o.tolerateFailures ?? false,
    }));
    rs.forEach((r, i) => {
      this.workers[i]!.sockets += r.sockets;
      this.workers[i]!.families += r.families;
    });
    return {
      families: rs.reduce((n, r) => n + r.families, 0),
      sockets: rs.reduce((n, r) => n + r.sockets, 0),
      failed: rs.reduce((n, r) => n + r.failed, 0),
      errors: rs.flatMap((r) => r.errors).slice(0, 5),
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /** Closes every connection the clients hold. */
  async closeAll(): Promise<void> {
    await this.all({ type: 'close' });
    for (const w of this.workers) w.sockets = w.families = 0;
  }

  async exit(): Promise<void> {
    await Promise.allSettled(
      this.workers.map(async (w, i) => {
        if (w.exited !== null) return;
        const gone = new Promise((r) => w.child.once('exit', r));
        await this.request(i, { type: 'exit' }).catch(() => undefined);
        const t = setTimeout(() => w.child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(t);
      }),
    );
    live.delete(this.workers);
  }

  /** Each client's pid, its CPU list and the sockets it holds (for the report). */
  describe(): { pid: number; affinity: string; sockets: number }[] {
    return this.workers.map((w) => ({ pid: w.pid, affinity: affinityOf(w.pid), sockets: w.sockets }));
  }
}

const live = new Set<Worker[]>();
process.on('exit', () => {
  for (const ws of live) for (const w of ws) if (w.exited === null) w.child.kill('SIGKILL');
});

export interface PooledPhaseOptions {
  name: string;
  mode: 'open' | 'closed';
  ratePerWatch: number;
  window: number;
  warmupS: number;
  durationS: number;
  drainS: number;
  ackTimeoutMs: number;
  /** What the watches report (see PhaseStartCommand); gps by default. */
  fixes?: FixKind;
}

export interface ClientProcessUsage {
  pid: number;
  cpuPct: number;
  sysPct: number;
  rssMb: number;
  sockets: number;
  affinity: string;
}

/** The shape of lib/load.ts's PhaseResult, with every client process's CPU and any helper processes'. */
export interface PooledPhaseResult {
  name: string;
  /** What the watches reported; absent in results from before the option (gps). */
  fixes?: FixKind;
  server: ServerKind;
  serverLabel: string;
  mode: 'open' | 'closed';
  ratePerWatch: number | null;
  window: number | null;
  watches: number;
  guardiansPerWatch: number;
  offeredUpdatesPerS: number | null;
  measuredS: number;
  sent: number;
  acked: number;
  /** Reports acked ok per second: each client's acks over its own window, added up. */
  updatesPerS: number;
  deliveries: number;
  deliveriesPerS: number;
  deliveryRatio: number;
  echoesToWatchPerS: number;
  latencyMs: Summary;
  ackLatencyMs: Summary;
  errors: {
    ackErrors: Record<string, number>;
    ackTimeouts: number;
    unackedAtEnd: number;
    disconnects: number;
    skippedSends: number;
  };
  serverProc: { cpuPct: number; sysPct: number; cpuUsPerUpdate: number; rssMbMax: number; affinity: string };
  /** Processes that work for the server (PostgreSQL backends): CPU in % of one core. */
  helpers: { name: string; cpuPct: number } | null;
  /** cpuPct: all client processes and the parent together; maxProcessCpuPct: the busiest one. */
  client: {
    cpuPct: number;
    rssMb: number;
    processes: ClientProcessUsage[];
    parentCpuPct: number;
    maxProcessCpuPct: number;
  };
  machine: { busyPct: number; otherProcessesPct: number; stealPct: number };
  connectSeconds: number;
  measuredWindow: { from: number; to: number };
}

/** CPU seconds of a group of pids at a moment (those alive then). */
function readGroup(pids: number[]): Map<number, ProcReading> {
  const m = new Map<number, ProcReading>();
  for (const pid of pids) {
    const r = readProc(pid);
    if (r) m.set(pid, r);
  }
  return m;
}

function groupPct(a: Map<number, ProcReading>, b: Map<number, ProcReading>, seconds: number): number {
  let s = 0;
  for (const [pid, rb] of b) {
    const ra = a.get(pid);
    if (ra) s += rb.cpuS - ra.cpuS;
  }
  return seconds > 0 ? (s / seconds) * 100 : NaN;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One phase over every client of the pool, against `target`. */
export async function runPooledPhase(
  pool: ClientPool,
  target: PoolTarget,
  o: PooledPhaseOptions,
  connectSeconds: number,
  log: (s: string) => void,
): Promise<PooledPhaseResult> {
  const pids = pool.workers.map((w) => w.pid);
  let stage: 'warmup' | 'measuring' | 'drain' = 'warmup';
  const start = performance.now();
  await pool.all({
    type: 'phase-start',
    mode: o.mode,
    ratePerWatch: o.ratePerWatch,
    window: o.window,
    ackTimeoutMs: o.ackTimeoutMs,
    fixes: o.fixes ?? 'gps',
  });

  let lastServer = readProc(target.pid);
  let lastClients = pids.map((p) => readProc(p));
  let rssMax = lastServer?.rssMb ?? 0;
  let ticking = false;
  const watchCount = pool.watchCount;
  const progress = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void pool
      .all<TickResult>({ type: 'tick' })
      .then((ts) => {
        const server = readProc(target.pid);
        if (server) rssMax = Math.max(rssMax, server.rssMb);
        const clients = pids.map((p) => readProc(p));
        const l = Histogram.from(ts.map((t) => t.latency)).summary();
        const sum = (k: 'sent' | 'acked' | 'deliveries' | 'inFlight') => ts.reduce((n, t) => n + t[k], 0);
        const offered = o.mode === 'open' ? `offered ${fmtInt(o.ratePerWatch * watchCount)}/s` : `closed loop ×${o.window}`;
        const cc = clients.map((c, i) => (c && lastClients[i] ? cpuPct(lastClients[i]!, c).toFixed(0) : '?')).join('+');
        log(
          `[${o.name}] ${((performance.now() - start) / 1000).toFixed(0).padStart(3)} s${stage === 'measuring' ? '' : ` (${stage})`}  ${offered}  sent ${sum('sent')}/s  acked ${sum('acked')}/s  deliv ${sum('deliveries')}/s` +
            `  e2e p50 ${l.p50.toFixed(1)} p99 ${l.p99.toFixed(1)} max ${l.max.toFixed(0)} ms  in flight ${sum('inFlight')}` +
            `  ${target.label} cpu ${server && lastServer ? cpuPct(lastServer, server).toFixed(0) : '?'}% rss ${server?.rssMb.toFixed(0) ?? '?'} MB  clients cpu ${cc}%`,
        );
        lastServer = server;
        lastClients = clients;
      })
      .catch(() => undefined)
      .finally(() => (ticking = false));
  }, 1000);
  await sleep(o.warmupS * 1000);
  await pool.all({ type: 'measure', on: true });
  const windowFrom = performance.now();
  const serverA = readProc(target.pid);
  const clientsA = pids.map((p) => readProc(p));
  const selfA = readSelf();
  const machineA: MachineReading | undefined = readMachine();
  const helperPidsA = target.helperPids?.() ?? [];
  const helpersA = readGroup(helperPidsA);
  stage = 'measuring';
  await sleep(o.durationS * 1000);
  const ms = await pool.all<MeasureResult>({ type: 'measure', on: false });
  const windowTo = performance.now();
  const serverB = readProc(target.pid);
  const clientsB = pids.map((p) => readProc(p));
  const selfB = readSelf();
  const machineB = readMachine();
  const helpersB = readGroup(target.helperPids?.() ?? []);
  stage = 'drain';
  const stops = await pool.all<StopResult>({ type: 'stop-sending', drainMs: o.drainS * 1000 });
  clearInterval(progress);
  while (ticking) await sleep(20);

  const measuredS = (windowTo - windowFrom) / 1000;
  const sum = (f: (m: MeasureResult) => number) => ms.reduce((n, m) => n + f(m), 0);
  const acked = sum((m) => m.acked);
  const deliveries = sum((m) => m.deliveries);
  const perS = (f: (m: MeasureResult) => number) => ms.reduce((n, m) => n + (m.windowMs > 0 ? f(m) / (m.windowMs / 1000) : 0), 0);
  const updatesPerS = perS((m) => m.acked);
  const guardiansPerWatch = ms.find((m) => m.watches > 0)?.guardiansPerWatch ?? 0;
  const serverCpu = serverA && serverB ? cpuPct(serverA, serverB) : NaN;
  const processes: ClientProcessUsage[] = pids.map((pid, i) => {
    const a = clientsA[i];
    const b = clientsB[i];
    return {
      pid,
      cpuPct: round(a && b ? cpuPct(a, b) : NaN, 1),
      sysPct: round(a && b ? sysPct(a, b) : NaN, 1),
      rssMb: round(b?.rssMb ?? NaN, 1),
      sockets: pool.workers[i]!.sockets,
      affinity: affinityOf(pid),
    };
  });
  const parentCpu = cpuPct(selfA, selfB);
  const clientsCpu = processes.reduce((n, p) => n + (Number.isFinite(p.cpuPct) ? p.cpuPct : 0), 0);
  const helperCpu = target.helperPids ? groupPct(helpersA, helpersB, measuredS) : 0;
  const machine = machineA && machineB ? machinePct(machineA, machineB, cpus().length) : { busyPct: NaN, stealPct: NaN };
  const ackErrors: Record<string, number> = {};
  for (const m of ms) for (const [k, v] of Object.entries(m.ackErrors)) ackErrors[k] = (ackErrors[k] ?? 0) + v;
  const watchesTotal = sum((m) => m.watches);
  return {
    name: o.name,
    fixes: o.fixes ?? 'gps',
    server: target.kind,
    serverLabel: target.label,
    mode: o.mode,
    ratePerWatch: o.mode === 'open' ? o.ratePerWatch : null,
    window: o.mode === 'closed' ? o.window : null,
    watches: watchesTotal,
    guardiansPerWatch,
    offeredUpdatesPerS: o.mode === 'open' ? round(o.ratePerWatch * watchesTotal, 1) : null,
    measuredS: round(measuredS, 2),
    sent: sum((m) => m.sent),
    acked,
    updatesPerS: round(updatesPerS, 1),
    deliveries,
    deliveriesPerS: round(
      perS((m) => m.deliveries),
      1,
    ),
    deliveryRatio: acked > 0 && guardiansPerWatch > 0 ? round(deliveries / (acked * guardiansPerWatch), 4) : 0,
    echoesToWatchPerS: round(
      perS((m) => m.echoes),
      1,
    ),
    latencyMs: Histogram.from(ms.map((m) => m.latency)).summary(),
    ackLatencyMs: Histogram.from(ms.map((m) => m.ackLatency)).summary(),
    errors: {
      ackErrors,
      ackTimeouts: sum((m) => m.ackTimeouts),
      unackedAtEnd: stops.reduce((n, s) => n + s.unackedAtEnd, 0),
      disconnects: sum((m) => m.disconnects),
      skippedSends: sum((m) => m.skippedSends),
    },
    serverProc: {
      cpuPct: round(serverCpu, 1),
      sysPct: round(serverA && serverB ? sysPct(serverA, serverB) : NaN, 1),
      cpuUsPerUpdate: updatesPerS > 0 ? round(((serverCpu / 100) * 1e6) / updatesPerS, 1) : 0,
      rssMbMax: round(Math.max(rssMax, serverB?.rssMb ?? 0), 1),
      affinity: affinityOf(target.pid),
    },
    helpers: target.helperPids ? { name: target.helperName ?? 'helpers', cpuPct: round(helperCpu, 1) } : null,
    client: {
      cpuPct: round(clientsCpu + parentCpu, 1),
      rssMb: round(processes.reduce((n, p) => n + (Number.isFinite(p.rssMb) ? p.rssMb : 0), 0) + selfB.rssMb, 1),
      processes,
      parentCpuPct: round(parentCpu, 1),
      maxProcessCpuPct: round(Math.max(...processes.map((p) => (Number.isFinite(p.cpuPct) ? p.cpuPct : 0))), 1),
    },
    machine: {
      busyPct: round(machine.busyPct, 1),
      otherProcessesPct: round(Math.max(0, machine.busyPct - serverCpu - clientsCpu - parentCpu - helperCpu), 1),
      stealPct: round(machine.stealPct, 1),
    },
    connectSeconds: round(connectSeconds, 2),
    measuredWindow: { from: windowFrom, to: windowTo },
  };
}

const fmtInt = (v: number) => Math.round(v).toLocaleString('en-US');
