// CPU time and resident memory of a process, read from /proc/<pid>/stat and /proc/<pid>/status.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
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
    return { at: performance.now(), cpuS: (utime + stime) / ticksPerSecond(), rssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

/** This process, in the same units. */
export function readSelf(): ProcReading {
  const u = process.cpuUsage();
  return { at: performance.now(), cpuS: (u.user + u.system) / 1e6, rssMb: process.memoryUsage.rss() / 2 ** 20 };
}

/** CPU in percent of one core between two readings. */
export const cpuPct = (a: ProcReading, b: ProcReading): number => (b.at > a.at ? ((b.cpuS - a.cpuS) / ((b.at - a.at) / 1000)) * 100 : 0);
