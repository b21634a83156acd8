// The MQTT baseline's broker: Debian's Mosquitto, either the one already running (default
// mqtt://127.0.0.1:1883) or, with --mqtt-spawn, our own instance of the same binary on a free
// port with a throwaway config (no persistence), which the benchmark pins like the other servers
// and stops at the end. Either way it is checked first, and its pid found for its CPU and RSS.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';

export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';

export const HOW_TO_START =
  'start Debian\'s Mosquitto with `mosquitto -d -c /etc/mosquitto/mosquitto.conf` (package "mosquitto"; that config listens on 127.0.0.1:1883), or pass --mqtt-spawn to let the benchmark run its own on a free port';

export interface Broker {
  url: string;
  pid: number | undefined;
  /** "Debian's mosquitto already running (pid 2948)" or "our own mosquitto 2.0.11 on port 40123". */
  description: string;
  version: string;
  stop(): Promise<void>;
}

export function mosquittoVersion(bin = 'mosquitto'): string {
  const r = spawnSync(bin, ['-h'], { encoding: 'utf8' });
  return /mosquitto version (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '?';
}

/** Connects and disconnects once; throws with a hint on how to start the broker. */
export async function checkBroker(url: string, timeoutMs = 3000): Promise<void> {
  try {
    const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: timeoutMs, clientId: `bench-check-${process.pid}` });
    await c.endAsync();
  } catch (err) {
    throw new Error(`no MQTT broker answers at ${url} (${(err as Error).message}): ${HOW_TO_START}`);
  }
}

/** The pid of the process listening on 127.0.0.1:`port` (or ::1), from /proc/net/tcp and the processes' fds. */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
        const c = line.trim().split(/\s+/);
        // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; the inode is field 9.
        if (c.length > 9 && c[3] === '0A' && Number.parseInt(c[1]!.split(':')[1]!, 16) === port) inodes.add(c[9]!);
      }
    } catch {
      // no IPv6
    }
  }
  if (inodes.size === 0) return undefined;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(d);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** The broker already running at `url`. */
export async function existingBroker(url: string): Promise<Broker> {
  await checkBroker(url);
  const u = new URL(url);
  const pid = listenerPid(Number(u.port || 1883));
  let comm = '?';
  try {
    comm = pid ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : '?';
  } catch {
    // gone
  }
  const nodelay = pid ? tcpNodelayOf(pid) : 'unknown';
  return {
    url,
    pid,
    version: mosquittoVersion(),
    description: `${comm === 'mosquitto' ? 'Mosquitto' : `"${comm}"`} already running at ${u.host}${pid ? ` (pid ${pid}, not pinned by the benchmark; set_tcp_nodelay ${nodelay})` : ' (its pid not found: no CPU figures)'}`,
    stop: async () => undefined,
  };
}

/**
 * set_tcp_nodelay of a running mosquitto, from the config file on its command line (and the
 * files its include_dir names): "true", "false (the default)", or "unknown".
 */
function tcpNodelayOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = argv.findIndex((a) => a === '-c' || a === '--config-file');
    const conf = i >= 0 ? argv[i + 1] : undefined;
    if (!conf) return 'false (the default: no config file)';
    const files = [conf];
    const text = readFileSync(conf, 'utf8');
    for (const m of text.matchAll(/^\s*include_dir\s+(\S+)/gm)) {
      try {
        for (const f of readdirSync(m[1]!).filter((f) => f.endsWith('.conf'))) files.push(join(m[1]!, f));
      } catch {
        // no such dir
      }
    }
    let value: string | undefined;
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/^\s*set_tcp_nodelay\s+(\S+)/gm)) value = m[1];
    }
    return value ?? 'false (the default)';
  } catch {
    return 'unknown';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Our own mosquitto (the same Debian binary) on a free port of 127.0.0.1, run under `prefix` (taskset). */
export async function spawnBroker(prefix: string[] = []): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'hub-bench-mqtt-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // Defaults otherwise (max_inflight_messages 20, max_queued_messages 1000 per client): as Debian ships it.
  // set_tcp_nodelay: Nagle off, as the hub's and the relay's `ws` sockets have it (without it a
  // PUBACK can wait for the next packet or the peer's delayed ACK).
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const cmd = [...prefix, 'mosquitto', '-c', conf];
  const child: ChildProcess = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `mqtt://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => child.kill('SIGKILL'));
  const until = Date.now() + 5000;
  for (;;) {
    try {
      await checkBroker(url, 1000);
      break;
    } catch (err) {
      if (Date.now() > until || child.exitCode !== null) {
        await stop();
        throw new Error(`could not start mosquitto (${(err as Error).message})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid,
    version: mosquittoVersion(),
    description: `our own mosquitto on 127.0.0.1:${port} (pid ${child.pid}; set_tcp_nodelay true, persistence off, other settings default)`,
    stop,
  };
}
