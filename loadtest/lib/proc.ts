// CPU time and resident memory of a process, read from /proc/<pid>/stat and /proc/<pid>/status.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcReading {
  /** Wall time of the reading, ms (performance.now()). */
  at: number;
  /** User + system CPU seconds since the process started. */
  cpuS: number;
  /** Of which system (kernel) time: socket writes and reads, fsync. */
  sysS: number;
  rssMb: number;
}

/** Undefined when the process is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return {
      at: performance.now(),
      cpuS: (utime + stime) / ticksPerSecond(),
      sysS: stime / ticksPerSecond(),
      rssMb: rssKb / 1024,
    };
  } catch {
    return undefined;
  }
}

/** This process, in the same units. */
export function readSelf(): ProcReading {
  const u = process.cpuUsage();
  return {
    at: performance.now(),
    cpuS: (u.user + u.system) / 1e6,
    sysS: u.system / 1e6,
    rssMb: process.memoryUsage.rss() / 2 ** 20,
  };
}

/** CPU in percent of one core between two readings. */
export const cpuPct = (a: ProcReading, b: ProcReading): number =>
  b.at > a.at ? ((b.cpuS - a.cpuS) / ((b.at - a.at) / 1000)) * 100 : 0;

/** System (kernel) CPU in percent of one core between two readings. */
export const sysPct = (a: ProcReading, b: ProcReading): number =>
  b.at > a.at ? ((b.sysS - a.sysS) / ((b.at - a.at) / 1000)) * 100 : 0;

export interface MachineReading {
  /** Jiffies: busy (not idle, not iowait), total, steal (taken by the hypervisor). */
  busy: number;
  total: number;
  steal: number;
}

/** The whole machine's CPU counters (/proc/stat), to see what other processes took meanwhile. */
export function readMachine(): MachineReading | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, ...v] = line.trim().split(/\s+/);
    const n = v.map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest time is in user)
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    return { busy: total - idle, total, steal: n[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** Machine busy and steal time between two readings, in percent of one core (like cpuPct). */
export function machinePct(a: MachineReading, b: MachineReading, cores: number): { busyPct: number; stealPct: number } {
  const dt = b.total - a.total;
  if (dt <= 0) return { busyPct: 0, stealPct: 0 };
  return { busyPct: ((b.busy - a.busy) / dt) * 100 * cores, stealPct: ((b.steal - a.steal) / dt) * 100 * cores };
}
