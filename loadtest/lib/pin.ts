// Where the benchmark's processes may run, and how many files they may open: a command prefix of
// `prlimit` (open files) and `taskset` (CPU affinity), both of which exec the command, so the pid
// we get from spawn is the server's or the client's own. What each process was really allowed to
// use is read back from /proc/<pid>/status and written in the report.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface PinPlan {
  /** taskset CPU lists, e.g. "0" and "1"; undefined when not pinning. */
  server: string | undefined;
  clients: string | undefined;
  /** In words, for the report. */
  description: string;
}

let tasksetOk: boolean | undefined;
export function hasTaskset(): boolean {
  if (tasksetOk === undefined) tasksetOk = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return tasksetOk;
}

export const cpuCount = (): number => cpus().length;

/**
 * --pin: the server on core 0, the load generator (parent and client processes) on the others.
 * Without --pin (or without taskset, or on one core) everything floats.
 */
export function pinPlan(pin: boolean): PinPlan {
  const n = cpuCount();
  if (!pin) return { server: undefined, clients: undefined, description: 'none (every process may run on any core)' };
  if (!hasTaskset()) return { server: undefined, clients: undefined, description: 'none: --pin asked, but taskset is missing' };
  if (n < 2) return { server: undefined, clients: undefined, description: 'none: --pin asked, but the machine has one core' };
  const clients = n === 2 ? '1' : `1-${n - 1}`;
  return {
    server: '0',
    clients,
    description: `server on core 0, load generator (parent and client processes) on core${n === 2 ? '' : 's'} ${clients} (taskset)`,
  };
}

/** The hard limit on open files of this process (RLIMIT_NOFILE), from /proc/self/limits. */
export function nofileLimits(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/);
    const n = (v: string | undefined) => (v === 'unlimited' ? Infinity : Number(v));
    return { soft: n(soft), hard: n(hard) };
  } catch {
    return { soft: NaN, hard: NaN };
  }
}

let prlimitOk: boolean | undefined;
function hasPrlimit(): boolean {
  if (prlimitOk === undefined) prlimitOk = spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
  return prlimitOk;
}

let raiseOk: boolean | undefined;
/** Whether a child may get more open files than our hard limit (needs CAP_SYS_RESOURCE, which containers often drop even for root). */
function canRaiseHard(): boolean {
  if (raiseOk === undefined) {
    const { hard } = nofileLimits();
    raiseOk =
      Number.isFinite(hard) &&
      hasPrlimit() &&
      spawnSync('prlimit', [`--nofile=${hard + 1}:${hard + 1}`, '--', 'true'], { stdio: 'ignore' }).status === 0;
  }
  return raiseOk;
}

/** The open-files limit a child can get: `want`, or the hard limit when it may not be raised. */
export function reachableNofile(want: number): number {
  const { hard } = nofileLimits();
  if (want <= hard) return want;
  if (canRaiseHard()) return Math.min(want, maxNofile());
  return hard;
}

function maxNofile(): number {
  try {
    return Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim()) || 1_048_576;
  } catch {
    return 1_048_576;
  }
}

/**
 * The prefix that runs a command with at least `nofile` open files and on `cpus`: e.g.
 * `prlimit --nofile=40000:40000 -- taskset -c 0`. Empty when nothing needs changing.
 */
export function commandPrefix(opts: { cpus?: string | undefined; nofile?: number | undefined }): string[] {
  const out: string[] = [];
  if (opts.nofile !== undefined && hasPrlimit()) {
    const { soft, hard } = nofileLimits();
    const n = reachableNofile(opts.nofile);
    if (n > soft) out.push('prlimit', `--nofile=${n}:${hard === Infinity ? 'unlimited' : Math.max(n, hard)}`, '--');
  }
  if (opts.cpus !== undefined && hasTaskset()) out.push('taskset', '-c', opts.cpus);
  return out;
}

/** Pins this process (all its threads) to `cpus`; false when taskset refused. */
export function pinSelf(cpus: string): boolean {
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** The CPUs a process may run on (Cpus_allowed_list), e.g. "0" or "0-1". */
export function affinityOf(pid: number | 'self'): string {
  try {
    return /Cpus_allowed_list:\s+(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}
