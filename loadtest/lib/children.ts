// The servers under test, each in a child process: the real hub (dist/src/main.js) and the bare
// relay (dist/loadtest/relay.js). Both are killed if this process exits without stopping them.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PROVISIONING_KEY = 'bench-provisioning-key-0123456789';

const HUB_MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const RELAY_MAIN = fileURLToPath(new URL('../relay.js', import.meta.url));
const PLAIN_IO_MAIN = fileURLToPath(new URL('../plain-io.js', import.meta.url));
const SIO_RELAY_MAIN = fileURLToPath(new URL('../sio-relay.js', import.meta.url));

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Server {
  name: string;
  pid: number;
  url: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or signal). */
  stop(graceMs?: number): Promise<string>;
}

/** The child's environment: ours, minus anything that configures a hub, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(HUB_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$|NODE_OPTIONS$)/.test(k)),
  );
  return { ...base, ...env };
}

/** How to run a child: a command prefix (prlimit, taskset: see pin.ts) and an IPC channel (for gc-agent.ts). */
export interface LaunchOptions {
  prefix?: string[];
  ipc?: boolean;
}

function launch(
  name: string,
  args: string[],
  env: Record<string, string>,
  logPath: string,
  portOf: (line: string) => number | undefined,
  timeoutMs: number,
  opts: LaunchOptions = {},
) {
  const prefix = opts.prefix ?? [];
  const [cmd, cmdArgs] = prefix.length ? [prefix[0]!, [...prefix.slice(1), process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, cmdArgs, {
    env: childEnv(env),
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const log = createWriteStream(logPath);
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(signal ?? String(code));
    }),
  );
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs} ms (log: ${logPath})`)),
      timeoutMs,
    );
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${how}) before listening (log: ${logPath})`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      const p = portOf(line);
      if (p !== undefined) {
        clearTimeout(timer);
        resolve(p);
      }
    });
  });
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const how = await exited;
      clearTimeout(timer);
      log.end();
      return how;
    }
    log.end();
    return exited;
  };
  return { child, port, stop };
}

export interface HubOptions extends LaunchOptions {
  databaseUrl?: string;
  /** Write a V8 CPU profile of the hub into this directory (node --cpu-prof). */
  cpuProfDir?: string;
  env?: Record<string, string>;
  /** Node options before the hub's main, e.g. --expose-gc. */
  nodeArgs?: string[];
  /** Where the temporary data dir goes (default the OS temp dir). */
  dataParent?: string;
  /** Reuse this data dir (and the token secret kept in it) instead of a fresh one: a restart. */
  dataDir?: string;
  /** The log file's name in the data dir (default hub.log). */
  logName?: string;
}

export interface HubServer extends Server {
  /** The child process (for its IPC channel, when started with `ipc`). */
  child: ChildProcess;
  dataDir: string;
  logPath: string;
  /** The .cpuprofile files written into cpuProfDir (after stop). */
  profiles(): string[];
  /** performance.now() at spawn: CPU profiles start about then. */
  spawnedAt: number;
}

export async function startHub(opts: HubOptions = {}): Promise<HubServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(opts.dataParent ?? tmpdir(), 'hub-bench-'));
  const logPath = join(dataDir, opts.logName ?? 'hub.log');
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    HUB_DATA_DIR: dataDir,
    HUB_PROVISIONING_KEY: PROVISIONING_KEY,
    // The load must not be rate-limited: budgets far above what the benchmark sends.
    HUB_SOCKET_RATE_POINTS: '100000',
    HUB_BUDGET_SCALE: '1000',
    HUB_HTTP_AUTH_RATE_PER_MIN: '100000',
    HUB_ACCESS_TOKEN_TTL_S: '7200',
    HUB_DRAIN_TIMEOUT_MS: '2000',
    HUB_LOG_LEVEL: 'info',
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    ...opts.env,
  };
  const args = [
    ...(opts.nodeArgs ?? []),
    ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
    HUB_MAIN,
  ];
  const spawnedAt = performance.now();
  const { child, port, stop } = launch(
    'hub',
    args,
    env,
    logPath,
    (line) => {
      if (!line.includes('hub listening')) return undefined;
      try {
        return (JSON.parse(line) as { port?: number }).port;
      } catch {
        return undefined;
      }
    },
    30_000,
    opts,
  );
  const p = await port;
  return {
    name: 'hub',
    child,
    pid: child.pid!,
    url: `http://127.0.0.1:${p}`,
    stop,
    dataDir,
    logPath,
    spawnedAt,
    profiles: () =>
      opts.cpuProfDir
        ? readdirSync(opts.cpuProfDir)
            .filter((f) => f.endsWith('.cpuprofile'))
            .map((f) => join(opts.cpuProfDir!, f))
        : [],
  };
}

/** The bare relay (loadtest/relay.ts), or with `socketIo` the same relay on Socket.IO (loadtest/sio-relay.ts). */
export async function startRelay(logDir: string, opts: LaunchOptions = {}, socketIo = false): Promise<Server> {
  const name = socketIo ? 'sio-relay' : 'relay';
  const { child, port, stop } = launch(
    socketIo ? 'Socket.IO relay' : 'relay',
    [socketIo ? SIO_RELAY_MAIN : RELAY_MAIN],
    {},
    join(logDir, `${name}.log`),
    (line) => {
      const m = /^\{"port":(\d+)\}$/.exec(line);
      return m ? Number(m[1]) : undefined;
    },
    10_000,
    opts,
  );
  const p = await port;
  return { name, pid: child.pid!, url: `http://127.0.0.1:${p}`, stop };
}

export interface PlainIoServer extends Server {
  child: ChildProcess;
}

/** The memory baseline: a plain Socket.IO server (loadtest/plain-io.ts), with `nodeArgs` such as --expose-gc. */
export async function startPlainIo(logDir: string, nodeArgs: string[], opts: LaunchOptions = {}): Promise<PlainIoServer> {
  const { child, port, stop } = launch(
    'plain Socket.IO server',
    [...nodeArgs, PLAIN_IO_MAIN],
    {},
    join(logDir, 'plain-io.log'),
    (line) => {
      const m = /^\{"port":(\d+)\}$/.exec(line);
      return m ? Number(m[1]) : undefined;
    },
    10_000,
    opts,
  );
  const p = await port;
  return { name: 'plain-io', child, pid: child.pid!, url: `http://127.0.0.1:${p}`, stop };
}
