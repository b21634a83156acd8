// The cluster benchmark's client side: the same sockets as Fleet.connect, but each watch on one
// node and its guardians on another, so every delivery crosses nodes. It builds a Fleet (the
// class of lib/load.ts, used as is) from those sockets, so runPhase and Fleet.close work on it.
import { readFileSync, readdirSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/contract/events.js';
import { Fleet, type Target } from './load.js';
import { type ProcReading, cpuPct, readProc } from './proc.js';
import { type FamilySpec, pool } from './setup.js';
import { round } from './stats.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Watches connect to `watchTarget`, guardians to `guardianUrl`. runPhase reads the CPU of `watchTarget.pid`. */
export async function connectSplit(
  watchTarget: Target,
  guardianUrl: string,
  families: FamilySpec[],
  log: (s: string) => void,
): Promise<Fleet> {
  const t0 = performance.now();
  const disconnects = { count: 0 };
  let fleet: Fleet | undefined;
  const open = (url: string, token: string, query: Record<string, string>) =>
    new Promise<Client>((resolve, reject) => {
      const s: Client = io(url, {
        auth: { token },
        query,
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: 20_000,
      });
      s.once('connect', () => resolve(s));
      s.once('connect_error', (err: Error & { data?: unknown }) => {
        s.close();
        reject(new Error(`connect to ${url} failed: ${err.message} ${JSON.stringify(err.data ?? '')}`));
      });
      s.on('disconnect', () => {
        if (!(fleet as unknown as { closing?: boolean } | undefined)?.closing) disconnects.count++;
      });
    });
  const byDevice = new Map<string, unknown>();
  const watches = await pool(families.length, 25, async (i) => {
    const f = families[i]!;
    const [socket, ...guardians] = await Promise.all([
      open(watchTarget.url, f.deviceToken, { role: 'watch', family: f.familyId, device: f.deviceId }),
      ...f.guardianTokens.map((t) => open(guardianUrl, t, { role: 'guardian', family: f.familyId })),
    ]);
    const w = {
      spec: f,
      socket: socket!,
      guardians,
      lat: 48.6 + Math.random() * 0.5,
      lng: 2.0 + Math.random() * 0.7,
      lastTs: 0,
      nextDue: 0,
      pending: new Map(),
    };
    byDevice.set(f.deviceId, w);
    return w;
  });
  const seconds = (performance.now() - t0) / 1000;
  // Fleet's constructor is private to keep callers on Fleet.connect; the fields are the same.
  const FleetCtor = Fleet as unknown as new (
    target: Target,
    watches: unknown[],
    byDevice: Map<string, unknown>,
    connectSeconds: number,
  ) => Fleet;
  fleet = new FleetCtor(watchTarget, watches, byDevice, seconds);
  // The sockets' handlers above count into this counter, and stop counting once fleet.close() runs.
  (fleet as unknown as { disconnects: { count: number } }).disconnects = disconnects;
  log(
    `[split] ${watches.length} watches on ${watchTarget.url}, ${watches.reduce((n, w) => n + w.guardians.length, 0)} guardians on ${guardianUrl}, connected in ${seconds.toFixed(1)} s`,
  );
  return fleet;
}

/** Samples the CPU and RSS of some processes every `everyMs`, to read any window afterwards. */
export class CpuSampler {
  private readonly samples = new Map<number, ProcReading[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(pids: number[], everyMs = 250) {
    for (const p of pids) this.samples.set(p, []);
    const tick = () => {
      for (const [pid, list] of this.samples) {
        const r = readProc(pid);
        if (r) list.push(r);
      }
    };
    tick();
    this.timer = setInterval(tick, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** CPU % of one core and max RSS of `pid` between the readings nearest inside [from, to]. */
  window(pid: number, from: number, to: number): { cpuPct: number; rssMbMax: number } {
    const list = (this.samples.get(pid) ?? []).filter((r) => r.at >= from - 150 && r.at <= to + 150);
    if (list.length < 2) return { cpuPct: NaN, rssMbMax: NaN };
    return {
      cpuPct: round(cpuPct(list[0]!, list[list.length - 1]!), 1),
      rssMbMax: round(Math.max(...list.map((r) => r.rssMb)), 1),
    };
  }
}

/** Pids of the processes whose command name (/proc/<pid>/comm) is one of `names`, e.g. redis-server, postgres. */
export function pidsByName(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU of a group of processes found by name (PostgreSQL's backends come and go): summed over the pids alive at both ends. */
export class GroupCpu {
  private readonly at: { t: number; cpu: Map<number, number> }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly names: readonly string[],
    everyMs = 500,
  ) {
    const tick = () => {
      const cpu = new Map<number, number>();
      for (const pid of pidsByName(names)) {
        const r = readProc(pid);
        if (r) cpu.set(pid, r.cpuS);
      }
      this.at.push({ t: performance.now(), cpu });
    };
    tick();
    this.timer = setInterval(tick, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  window(from: number, to: number): number {
    const list = this.at.filter((r) => r.t >= from - 300 && r.t <= to + 300);
    if (list.length < 2) return NaN;
    const a = list[0]!;
    const b = list[list.length - 1]!;
    let s = 0;
    for (const [pid, cpu] of b.cpu) {
      const before = a.cpu.get(pid);
      if (before !== undefined) s += cpu - before;
    }
    return round((s / ((b.t - a.t) / 1000)) * 100, 1);
  }
}
