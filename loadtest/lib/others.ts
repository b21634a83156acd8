// Who else used the machine during a run: every process's CPU time (from /proc/<pid>/stat),
// sampled every few seconds so that short-lived ones (a test run's workers) are caught too, added
// up by program ("node vitest.mjs", "postgres", "mosquitto"), leaving out our own processes.
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { ticksPerSecond } from './proc.js';

function readTable(): Map<number, number> {
  const out = new Map<number, number>();
  const hz = ticksPerSecond();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), (Number(f[11]) + Number(f[12])) / hz);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** "postgres", "mosquitto", or for node and the like its script: "node vitest.mjs". */
function labelOf(pid: number): string {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // The first argument that is neither an option nor an option's value (-r x, --import x).
    let script: string | undefined;
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i]!;
      if (/^(-r|--require|--import|--loader|--experimental-loader|-C|--conditions)$/.test(a)) i++;
      else if (!a.startsWith('-')) {
        script = a;
        break;
      }
    }
    if (/^(node|python3?|sh|bash|npm.*|MainThread)$/.test(comm) && script)
      return `${basename(argv[0] ?? comm)} ${basename(script)}`;
    return comm;
  } catch {
    return '?';
  }
}

export interface OtherProcess {
  /** The program, e.g. "node vitest.mjs" or "postgres". */
  label: string;
  /** How many processes of it ran meanwhile. */
  processes: number;
  /** % of one core over the run. */
  cpuPct: number;
}

export class OthersSampler {
  private last: Map<number, number>;
  private readonly acc = new Map<number, { label: string; cpuS: number }>();
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = performance.now();
  private t1 = 0;

  constructor(everyMs = 2000) {
    this.last = readTable();
    this.timer = setInterval(() => this.tick(), everyMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = readTable();
    for (const [pid, cpuS] of now) {
      const before = this.last.get(pid);
      // A process born since the last reading spent all its CPU time in between.
      const delta = before === undefined ? cpuS : cpuS - before;
      if (delta <= 0) continue;
      let a = this.acc.get(pid);
      if (!a) this.acc.set(pid, (a = { label: labelOf(pid), cpuS: 0 }));
      a.cpuS += delta;
    }
    this.last = now;
  }

  stop(): void {
    this.tick();
    clearInterval(this.timer);
    this.t1 = performance.now();
  }

  /** The busiest programs that are not ours (those above 1% of a core). */
  top(exclude: ReadonlySet<number>, n = 6): OtherProcess[] {
    const s = ((this.t1 || performance.now()) - this.t0) / 1000;
    const by = new Map<string, { processes: number; cpuS: number }>();
    for (const [pid, a] of this.acc) {
      if (exclude.has(pid)) continue;
      const b = by.get(a.label) ?? { processes: 0, cpuS: 0 };
      b.processes++;
      b.cpuS += a.cpuS;
      by.set(a.label, b);
    }
    return [...by.entries()]
      .map(([label, b]) => ({ label, processes: b.processes, cpuPct: Math.round((b.cpuS / s) * 1000) / 10 }))
      .filter((o) => o.cpuPct >= 1)
      .sort((x, y) => y.cpuPct - x.cpuPct)
      .slice(0, n);
  }
}

export const othersMarkdown = (list: readonly OtherProcess[]): string =>
  list.length
    ? list.map((o) => `${o.label}${o.processes > 1 ? ` (${o.processes} processes)` : ''} ${o.cpuPct}%`).join(', ')
    : 'none above 1% of a core';
