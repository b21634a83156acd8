// npm run bench:memory -- [--connections N] [--stages S] [--guardians G] [--sockets-per-user U] [--clients K] [--pin] …
//
// Idle authenticated connections: how much hub memory each one holds. N connections (watches and
// parents' apps, in families of one watch and G guardians with U sockets each) are opened in S
// stages; after each stage the server runs a full GC (node --expose-gc, asked over IPC by
// lib/gc-agent.ts, preloaded so the hub needs no benchmark code) and its RSS is read from
// /proc/<pid>/status, its heap from process.memoryUsage(). A linear fit over the stages gives
// the bytes per connection (RSS and heap) and the connections per GiB. The same connections, with
// the same query strings and rooms, are then held by a plain Socket.IO server (plain-io.ts) as
// the baseline. Writes loadtest/results/memory-<ts>.json/.md and memory-latest.md.
import { type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { type Issuer, type MemFamily, outsideIssuer, setupOutsideFamilies } from './lib/accounts.js';
import { type Args, choice, flag, num, parseArgs } from './lib/args.js';
import { type HubServer, type PlainIoServer, startHub, startPlainIo } from './lib/children.js';
import { ClientPool } from './lib/client-pool.js';
import type { ConnSpec, FamilyConn } from './lib/client-protocol.js';
import type { GcReply } from './lib/gc-agent.js';
import { OthersSampler, type OtherProcess, othersMarkdown } from './lib/others.js';
import { type FreshPg, freshPg } from './lib/pg.js';
import { affinityOf, commandPrefix, cpuCount, nofileLimits, pinPlan, pinSelf, reachableNofile } from './lib/pin.js';
import { type MachineReading, machinePct, readMachine, readProc, readSelf } from './lib/proc.js';
import { fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';
import { setupFamilies } from './lib/setup.js';
import { round } from './lib/stats.js';

const OPTIONS = [
  'connections',
  'stages',
  'guardians',
  'sockets-per-user',
  'accounts',
  'servers',
  'db',
  'clients',
  'client',
  'pin',
  'settle',
  'concurrency',
  'connect-concurrency',
  'source-addresses',
  'data-dir',
  'max-seconds',
  'hub-env',
];

const GIB = 2 ** 30;
/** Ephemeral ports of one source address towards one server port: 32768–60999 here; kept below with a margin. */
const PER_SOURCE_ADDRESS = 25_000;
const GOAL_PER_GIB = 60_000;
const GC_AGENT = pathToFileURL(fileURLToPath(new URL('./lib/gc-agent.js', import.meta.url))).href;

interface Config {
  connections: number;
  stages: number;
  guardians: number;
  socketsPerUser: number;
  accounts: 'outside' | 'local';
  servers: 'both' | 'hub' | 'plain';
  db: 'sqlite' | 'postgres';
  clients: number;
  /** raw: a bare ws client speaking the Socket.IO wire format (less client memory and CPU); sio: socket.io-client. */
  client: 'raw' | 'sio';
  pin: boolean;
  settleS: number;
  concurrency: number;
  connectConcurrency: number;
  sourceAddresses: number;
  dataDir: string;
  maxSeconds: number;
  hubEnv: Record<string, string>;
}

function defaultDataDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function config(args: Args): Config {
  const guardians = num(args, 'guardians', 4, 1, 20);
  const socketsPerUser = num(args, 'sockets-per-user', 1, 1, 10);
  const connections = num(args, 'connections', 10_000, 10, 1_000_000);
  return {
    connections,
    stages: num(args, 'stages', 5, 2, 50),
    guardians,
    socketsPerUser,
    accounts: choice(args, 'accounts', ['outside', 'local'], 'outside'),
    servers: choice(args, 'servers', ['both', 'hub', 'plain'], 'both'),
    db: choice(args, 'db', ['sqlite', 'postgres'], 'sqlite'),
    clients: num(args, 'clients', Math.max(2, cpuCount() - 1), 1, 64),
    client: choice(args, 'client', ['raw', 'sio'], 'raw'),
    pin: flag(args, 'pin'),
    settleS: num(args, 'settle', 3, 0, 60),
    concurrency: num(args, 'concurrency', 16, 1, 128),
    connectConcurrency: num(args, 'connect-concurrency', 200, 1, 5000),
    sourceAddresses: num(args, 'source-addresses', Math.ceil(connections / PER_SOURCE_ADDRESS), 1, 250),
    dataDir: args.get('data-dir') ?? defaultDataDir(),
    maxSeconds: num(args, 'max-seconds', 900, 30, 7200),
    hubEnv: Object.fromEntries(
      (args.get('hub-env') ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const m = /^(HUB_[A-Z0-9_]+)=(.*)$/.exec(kv.trim());
          if (!m) throw new Error(`--hub-env takes HUB_NAME=value pairs separated by commas, got "${kv}"`);
          return [m[1]!, m[2]!];
        }),
    ),
  };
}

const log = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface StatusMem {
  vmRss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  vmHwm: number;
}

/** The memory lines of /proc/<pid>/status, in bytes. */
function readStatus(pid: number): StatusMem {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN) * 1024;
  return { vmRss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile'), rssShmem: kb('RssShmem'), vmHwm: kb('VmHWM') };
}

/** TCP connections a process holds: its socket fds (listening and database sockets included). */
function socketFds(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

let gcSeq = 0;
/** Asks the server's gc-agent for a full GC; resolves with its memoryUsage() after it. */
function forceGc(child: ChildProcess, timeoutMs = 60_000): Promise<GcReply> {
  const id = ++gcSeq;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.off('message', on);
      reject(new Error('the server did not answer the GC request (was it started with the gc agent?)'));
    }, timeoutMs);
    const on = (m: unknown) => {
      const r = m as GcReply;
      if (r?.type !== 'bench:gc' || r.id !== id) return;
      clearTimeout(t);
      child.off('message', on);
      resolve(r);
    };
    child.on('message', on);
    child.send({ type: 'bench:gc', id });
  });
}

/** hub_socket_connections summed over its kinds, from the hub's /metrics. */
async function hubConnections(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^hub_socket_connections(?:\{[^}]*\})?\s+(\d+(?:\.\d+)?)$/gm)) n += Number(m[1]);
  return n;
}

interface Stage {
  stage: number;
  /** Connections the clients hold (opened and not failed). */
  connections: number;
  /** What the server counts: the hub's hub_socket_connections, the plain server's engine clients. */
  serverCount: number;
  /** The server's socket fds (its TCP connections, plus listeners and database connections). */
  serverSocketFds: number;
  failed: number;
  connectSeconds: number;
  /** CPU time per connection opened in this stage: the server's, and the client processes' and the parent's together. */
  connectCpuMsPerConnection: { server: number; clients: number };
  rssBytes: number;
  rssAnonBytes: number;
  rssFileBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  gcForced: boolean;
  gcMs: number;
  /** All client processes' RSS together (what the load generator holds for these sockets). */
  clientsRssMb: number;
}

interface Fit {
  slope: number;
  intercept: number;
  r2: number;
}

/** Least squares y = slope·x + intercept, and R². */
function linearFit(xs: number[], ys: number[]): Fit {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { slope, intercept: my - slope * mx, r2: sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : NaN };
}

interface ServerResult {
  server: 'hub' | 'plain';
  label: string;
  pid: number;
  affinity: string;
  nofile: number;
  setupSeconds: number | null;
  stages: Stage[];
  /** Fits over the stages with connections (stage 1 on), and over all stages. */
  rssFit: Fit;
  heapFit: Fit;
  rssFitWithStage0: Fit;
  heapFitWithStage0: Fit;
  /** RSS the fit gives at the goal's 60,000 connections (intercept + 60,000 × slope). */
  projectedRssAtGoalMiB: number;
  /** 1 GiB / RSS slope. */
  connectionsPerGiB: number;
  /** Connections / RSS at the last stage (the fixed part included). */
  connectionsPerGiBGross: number;
  heapBytesPerConnection: number;
  rssBytesPerConnection: number;
  /** CPU % of the other processes on the machine during this server's stages (what may have slowed connecting). */
  otherProcessesPct: number;
}

/** The connections of `families` as the clients open them: the same query string for both servers. */
function conns(families: MemFamily[], socketsPerUser: number, tokens: boolean, addresses: number): FamilyConn[] {
  let i = 0;
  const from = (): Pick<ConnSpec, 'localAddress'> => (addresses > 1 ? { localAddress: `127.0.0.${1 + (i++ % addresses)}` } : {});
  return families.map((f) => ({
    familyId: f.familyId,
    deviceId: f.deviceId,
    watch: {
      ...(tokens ? { token: f.deviceToken } : {}),
      query: { role: 'watch', family: f.familyId, device: f.deviceId },
      ...from(),
    },
    guardians: f.guardians.flatMap((g) =>
      Array.from({ length: socketsPerUser }, () => ({
        ...(tokens ? { token: g.token } : {}),
        query: { role: 'guardian', family: f.familyId, user: g.userId },
        ...from(),
      })),
    ),
  }));
}

/** Families for the plain server: ids of the hub's shape (UUIDs), no accounts. */
function plainFamilies(n: number, guardians: number): MemFamily[] {
  return Array.from({ length: n }, () => ({
    familyId: randomUUID(),
    deviceId: randomUUID(),
    deviceToken: '',
    guardians: Array.from({ length: guardians }, () => ({ token: '', userId: randomUUID() })),
  }));
}

async function measureServer(
  cfg: Config,
  pool: ClientPool,
  server: { kind: 'hub' | 'plain'; label: string; pid: number; url: string; child: ChildProcess; nofile: number },
  families: FamilyConn[],
  setupSeconds: number | null,
): Promise<ServerResult> {
  const stages: Stage[] = [];
  const clientPids = pool.workers.map((w) => w.pid);
  const count = async (): Promise<number> => {
    if (server.kind === 'hub') return hubConnections(server.url);
    return (await forceGc(server.child)).stats?.sockets ?? NaN;
  };
  let held = 0;
  let failedTotal = 0;
  let connectCost = { server: NaN, clients: NaN };
  const machineA: MachineReading | undefined = readMachine();
  const ourA = ourCpu([server.pid, ...clientPids]);
  const measure = async (stage: number, connectSeconds: number): Promise<Stage> => {
    await sleep(cfg.settleS * 1000);
    const serverCount = await count();
    const gc = await forceGc(server.child);
    const st = readStatus(server.pid);
    const s: Stage = {
      stage,
      connections: held,
      serverCount,
      serverSocketFds: socketFds(server.pid),
      failed: failedTotal,
      connectSeconds: round(connectSeconds, 2),
      connectCpuMsPerConnection: stage === 0 ? { server: NaN, clients: NaN } : connectCost,
      rssBytes: st.vmRss,
      rssAnonBytes: st.rssAnon,
      rssFileBytes: st.rssFile,
      heapUsedBytes: gc.memory.heapUsed,
      heapTotalBytes: gc.memory.heapTotal,
      externalBytes: gc.memory.external,
      arrayBuffersBytes: gc.memory.arrayBuffers,
      gcForced: gc.gcExposed,
      gcMs: gc.gcMs,
      clientsRssMb: round(
        clientPids.reduce((n, p) => n + (readProc(p)?.rssMb ?? 0), 0),
        1,
      ),
    };
    stages.push(s);
    log(
      `[${server.label}] stage ${stage}: ${fmt(held)} connections (server counts ${fmt(serverCount)}, ${fmt(s.serverSocketFds)} socket fds), ` +
        `RSS ${fmt(st.vmRss / 2 ** 20)} MiB, heap ${fmt(gc.memory.heapUsed / 2 ** 20)} MiB after ${gc.gcExposed ? `a forced GC (${gc.gcMs} ms)` : 'no forced GC'}` +
        (failedTotal ? `; ${failedTotal} failed` : ''),
    );
    return s;
  };

  await measure(0, 0);
  const per = Math.ceil(families.length / cfg.stages);
  for (let k = 1; k <= cfg.stages; k++) {
    const chunk = families.slice((k - 1) * per, k * per);
    if (chunk.length === 0) break;
    const clientsCpu = () => readSelf().cpuS + clientPids.reduce((n, p) => n + (readProc(p)?.cpuS ?? 0), 0);
    const before = { server: readProc(server.pid), clients: clientsCpu() };
    const c = await pool.connect(cfg.client === 'sio' ? 'socket.io' : 'socket.io-raw', server.url, chunk, {
      concurrency: cfg.connectConcurrency,
      tolerateFailures: true,
    });
    const serverCpuS = (readProc(server.pid)?.cpuS ?? NaN) - (before.server?.cpuS ?? NaN);
    const clientsCpuS = clientsCpu() - before.clients;
    connectCost = {
      server: c.sockets ? round((serverCpuS * 1000) / c.sockets, 3) : NaN,
      clients: c.sockets ? round((clientsCpuS * 1000) / c.sockets, 3) : NaN,
    };
    held += c.sockets;
    failedTotal += c.failed;
    if (c.errors.length) log(`[${server.label}] ${c.failed} connections failed, e.g. ${c.errors[0]}`);
    log(`[${server.label}] stage ${k}: ${fmt(c.sockets)} more connections in ${c.seconds.toFixed(1)} s`);
    await measure(k, c.seconds);
  }
  const machineB = readMachine();
  const ourB = ourCpu([server.pid, ...clientPids]);
  const seconds = (ourB.at - ourA.at) / 1000;
  const busy = machineA && machineB ? machinePct(machineA, machineB, cpuCount()).busyPct : NaN;
  const ours = seconds > 0 ? ((ourB.cpuS - ourA.cpuS) / seconds) * 100 : NaN;
  await pool.closeAll();

  // The fit is over the stages with connections: from stage 0 to 1 a server first fills the
  // slack its heap had at start (the hub's is larger), which would flatten the slope. The fit
  // with stage 0 is kept beside it.
  const connected = stages.length >= 3 ? stages.filter((s) => s.stage > 0) : stages;
  const fit = (list: Stage[], y: (s: Stage) => number): Fit => {
    const f = linearFit(
      list.map((s) => s.connections),
      list.map(y),
    );
    return { slope: round(f.slope, 1), intercept: Math.round(f.intercept), r2: round(f.r2, 4) };
  };
  const rssFit = fit(connected, (s) => s.rssBytes);
  const heapFit = fit(connected, (s) => s.heapUsedBytes);
  const last = stages[stages.length - 1]!;
  return {
    server: server.kind,
    label: server.label,
    pid: server.pid,
    affinity: affinityOf(server.pid),
    nofile: server.nofile,
    setupSeconds,
    stages,
    rssFit,
    heapFit,
    rssFitWithStage0: fit(stages, (s) => s.rssBytes),
    heapFitWithStage0: fit(stages, (s) => s.heapUsedBytes),
    rssBytesPerConnection: round(rssFit.slope, 0),
    heapBytesPerConnection: round(heapFit.slope, 0),
    connectionsPerGiB: Math.round(GIB / rssFit.slope),
    projectedRssAtGoalMiB: round((rssFit.intercept + GOAL_PER_GIB * rssFit.slope) / 2 ** 20, 1),
    connectionsPerGiBGross: Math.round(last.connections / (last.rssBytes / GIB)),
    otherProcessesPct: round(Math.max(0, busy - ours), 1),
  };
}

/** Our processes that are not the server measured nor a client (the setup's hub, while it runs). */
const helperPids = new Set<number>();
/** Every process the run started, to leave out of the other processes. */
const startedPids = new Set<number>();

/** CPU seconds of our processes together (this one, `pids` and the helpers). */
function ourCpu(pids: number[]): { at: number; cpuS: number } {
  let cpuS = readSelf().cpuS;
  for (const p of [...pids, ...helperPids]) cpuS += readProc(p)?.cpuS ?? 0;
  return { at: performance.now(), cpuS };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), OPTIONS);
  const cfg = config(args);
  const info = runInfo();
  const ts = timestamp();
  const perFamily = 1 + cfg.guardians * cfg.socketsPerUser;
  const nFamilies = Math.ceil(cfg.connections / perFamily);
  const total = nFamilies * perFamily;
  const watchdog = setTimeout(() => {
    log(`aborting: the run took longer than --max-seconds ${cfg.maxSeconds}`);
    process.exit(3);
  }, cfg.maxSeconds * 1000);
  const others = new OthersSampler();
  const plan = pinPlan(cfg.pin);
  if (plan.clients && !pinSelf(plan.clients)) log(`could not pin this process to ${plan.clients}`);
  // Open files: the server holds every connection, each client its share; plus room for the rest.
  const serverNofile = reachableNofile(total + 1024);
  const clientNofile = reachableNofile(Math.ceil(total / cfg.clients) + 1024);
  if (serverNofile < total + 200)
    throw new Error(
      `a server here may open at most ${serverNofile} files (hard limit ${nofileLimits().hard}, which this process may not raise: ` +
        `it needs CAP_SYS_RESOURCE), too few for ${total} connections and its own files: use --connections ${Math.floor((serverNofile - 200) / perFamily) * perFamily} or less, or run where \`ulimit -Hn\` is higher`,
    );
  const serverPrefix = commandPrefix({ cpus: plan.server, nofile: total + 1024 });
  const gcArgs = ['--expose-gc', '--import', GC_AGENT];
  log(
    `${fmt(total)} connections per server (${fmt(nFamilies)} families of 1 watch + ${cfg.guardians} guardians × ${cfg.socketsPerUser} socket${cfg.socketsPerUser > 1 ? 's' : ''}) in ${cfg.stages} stages; ` +
      `${cfg.clients} client processes; source addresses 127.0.0.1${cfg.sourceAddresses > 1 ? `–127.0.0.${cfg.sourceAddresses}` : ''}; pinning: ${plan.description}`,
  );

  let pool: ClientPool | undefined;
  let hub: HubServer | undefined;
  let setupHub: HubServer | undefined;
  let plain: PlainIoServer | undefined;
  let pg: FreshPg | undefined;
  const work = mkdtempSync(join(tmpdir(), 'hub-bench-mem-'));
  const cleanup = async () => {
    await pool?.exit();
    await Promise.allSettled([hub?.stop(), setupHub?.stop(), plain?.stop()]);
    await pg?.drop().catch(() => undefined);
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping the servers');
    void cleanup().finally(() => process.exit(130));
  });

  const results: ServerResult[] = [];
  const dataDirs: string[] = [];
  let clientProcesses: { pid: number; affinity: string }[] = [];
  let issuerNote = '';
  try {
    pool = await ClientPool.start(cfg.clients, {
      cpus: plan.clients,
      nofile: clientNofile,
      nodeArgs: ['--max-old-space-size=8192'],
    });
    clientProcesses = pool.describe().map(({ pid, affinity }) => ({ pid, affinity }));

    // The hub's setup (HTTP, CPU-bound) runs in its own hub process while the plain server is
    // measured: memory readings do not depend on CPU, only connect times do (and are reported).
    const hubSetup =
      cfg.servers === 'plain'
        ? undefined
        : (async () => {
            const issuer: Issuer | undefined = cfg.accounts === 'outside' ? outsideIssuer() : undefined;
            if (cfg.db === 'postgres') pg = await freshPg();
            const hubOpts = {
              env: {
                ...(issuer?.env ?? {}),
                // Tokens outlive the run.
                HUB_ACCESS_TOKEN_TTL_S: '14400',
                ...cfg.hubEnv,
              },
              ...(pg ? { databaseUrl: pg.url } : {}),
              nodeArgs: gcArgs,
              prefix: serverPrefix,
              ipc: true,
            };
            setupHub = await startHub({ ...hubOpts, dataParent: cfg.dataDir });
            dataDirs.push(setupHub.dataDir);
            helperPids.add(setupHub.pid);
            startedPids.add(setupHub.pid);
            log(`hub for the setup: pid ${setupHub.pid} at ${setupHub.url}; data in ${setupHub.dataDir}`);
            const t0 = performance.now();
            let families: MemFamily[];
            if (issuer) {
              families = (await setupOutsideFamilies(setupHub.url, issuer, nFamilies, cfg.guardians, cfg.concurrency, log))
                .families;
              issuerNote =
                'Parents are accounts of an outside token issuer (HUB_EXTERNAL_ISSUER, ES256 tokens signed by the benchmark): their accounts are made on first use, without the scrypt of a registration. Their tokens carry no login session, so their sockets join no `session:` room (a registered parent’s do); `--accounts local` registers them instead (about 0.15 s of hub CPU per parent).';
            } else {
              const r = await setupFamilies(setupHub.url, nFamilies, cfg.guardians, cfg.concurrency, log);
              families = r.families.map((f) => ({
                familyId: f.familyId,
                deviceId: f.deviceId,
                deviceToken: f.deviceToken,
                guardians: f.guardianTokens.map((t) => ({ token: t, userId: userIdOf(t) })),
              }));
              issuerNote =
                'Parents are registered accounts (email and password); each socket also joins its login session’s room.';
            }
            const seconds = (performance.now() - t0) / 1000;
            log(`setup: ${fmt(nFamilies)} families in ${seconds.toFixed(1)} s`);
            return { families, seconds, hubOpts };
          })();
    // Awaited below; until then a failure must not be an unhandled rejection.
    hubSetup?.catch(() => undefined);

    if (cfg.servers !== 'hub') {
      plain = await startPlainIo(work, gcArgs, { prefix: serverPrefix, ipc: true });
      log(`plain Socket.IO server pid ${plain.pid} at ${plain.url}`);
      const fams = conns(plainFamilies(nFamilies, cfg.guardians), cfg.socketsPerUser, false, cfg.sourceAddresses);
      results.push(
        await measureServer(
          cfg,
          pool,
          {
            kind: 'plain',
            label: 'plain Socket.IO',
            pid: plain.pid,
            url: plain.url,
            child: plain.child,
            nofile: nofileLimits(plain.pid).soft,
          },
          fams,
          null,
        ),
      );
      await plain.stop();
      plain = undefined;
    }

    if (hubSetup) {
      const { families, seconds, hubOpts } = await hubSetup;
      // Measure a hub that never saw the setup: its garbage, and the heap and malloc arenas it
      // grew, would otherwise be reused by the first connections and flatten the slope. The
      // same data dir keeps the accounts and the token secret: a restart, as in production.
      const done = setupHub!;
      setupHub = undefined;
      const how = await done.stop();
      helperPids.delete(done.pid);
      if (how !== '0') log(`the setup hub exited (${how}); its log: ${done.logPath}`);
      hub = await startHub({ ...hubOpts, dataDir: done.dataDir, logName: 'hub-measured.log' });
      log(`hub restarted for the measurement: pid ${hub.pid} at ${hub.url}`);
      const fams = conns(families, cfg.socketsPerUser, true, cfg.sourceAddresses);
      results.push(
        await measureServer(
          cfg,
          pool,
          { kind: 'hub', label: 'hub', pid: hub.pid, url: hub.url, child: hub.child, nofile: nofileLimits(hub.pid).soft },
          fams,
          round(seconds, 1),
        ),
      );
    }
  } finally {
    await pool?.exit();
    if (plain) await plain.stop();
    if (setupHub) await setupHub.stop();
    if (hub) {
      const how = await hub.stop();
      log(`hub exited (${how})${how === '0' ? '' : `; its log: ${hub.logPath}`}`);
    }
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    await pg?.drop().catch((err: unknown) => log(`could not drop ${pg?.name}: ${String(err)}`));
    rmSync(work, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
  const ours = new Set([process.pid, ...clientProcesses.map((c) => c.pid), ...results.map((r) => r.pid), ...startedPids]);
  others.stop();
  const busiest = others.top(ours);

  const h = results.find((r) => r.server === 'hub');
  const p = results.find((r) => r.server === 'plain');
  const ratios = {
    rssPerConnection: h && p ? round(h.rssFit.slope / p.rssFit.slope, 3) : undefined,
    heapPerConnection: h && p ? round(h.heapFit.slope / p.heapFit.slope, 3) : undefined,
  };
  const targets = [
    {
      name: `hub: ≥ ${fmt(GOAL_PER_GIB)} idle authenticated connections per GiB of RSS (1 GiB / RSS slope)`,
      value: h?.connectionsPerGiB,
      target: `≥ ${fmt(GOAL_PER_GIB)}`,
      met: h ? h.connectionsPerGiB >= GOAL_PER_GIB : undefined,
    },
    {
      name: `hub: RSS at ${fmt(GOAL_PER_GIB)} connections, projected from the fit (fixed part included), ≤ 1,024 MiB`,
      value: h?.projectedRssAtGoalMiB,
      target: '≤ 1,024 MiB',
      met: h ? h.projectedRssAtGoalMiB <= 1024 : undefined,
    },
  ];
  const notes = notesOf(cfg, results, total, issuerNote);
  const result = {
    benchmark: 'memory',
    ...info,
    loadavgAtEnd: loadavg().map((v) => round(v, 2)),
    config: { ...cfg, families: nFamilies, connectionsPerServer: total },
    pinning: plan.description,
    clientProcesses,
    parentAffinity: affinityOf('self'),
    servers: results,
    ratios,
    targets,
    others: busiest,
    notes,
  };
  const md = markdown(cfg, info, results, ratios, targets, notes, busiest, plan.description, clientProcesses, total, nFamilies);
  for (const f of writeResults('memory', ts, result, md)) log(`wrote ${f}`);
  for (const t of targets)
    log(
      `${t.met === undefined ? '·' : t.met ? '✓' : '✗'} ${t.name}: ${t.value === undefined ? 'n/a' : fmt(t.value, 0)} (wanted ${t.target})`,
    );
}

/** The `sub` claim of one of the hub's own tokens (the user id), for the baseline's user room. */
function userIdOf(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub?: string };
    return payload.sub ?? '';
  } catch {
    return '';
  }
}

function notesOf(cfg: Config, results: ServerResult[], total: number, issuerNote: string): string[] {
  const notes: string[] = [];
  if (issuerNote) notes.push(issuerNote);
  for (const r of results) {
    const last = r.stages.at(-1)!;
    if (last.connections < total)
      notes.push(
        `${r.label}: only ${fmt(last.connections)} of ${fmt(total)} connections opened (${fmt(last.failed)} failed); see the log.`,
      );
    if (Number.isFinite(last.serverCount) && Math.abs(last.serverCount - last.connections) > 0)
      notes.push(
        `${r.label}: the server counted ${fmt(last.serverCount)} connections where the clients held ${fmt(last.connections)} at the last stage.`,
      );
    if (!last.gcForced)
      notes.push(`${r.label}: no GC could be forced (started without --expose-gc): its figures include garbage.`);
    const l = r.stages.at(-1)!;
    const slack = l.heapTotalBytes - l.heapUsedBytes;
    if (slack > 0.3 * l.heapUsedBytes)
      notes.push(
        `${r.label}: at the last stage V8 held ${fmt(slack / 2 ** 20, 0)} MiB of heap above the live ${fmt(l.heapUsedBytes / 2 ** 20, 0)} MiB (heapTotal − heapUsed), sized by its own growth heuristics: that slack is in RSS, so RSS slopes of two servers can differ by it; the heap slope is the steadier comparison.`,
      );
    if (r.rssFit.r2 < 0.98)
      notes.push(
        `${r.label}: RSS is not linear in the connections (R² ${r.rssFit.r2}): V8 grows its heap in steps and may keep freed pages; more stages or connections make the slope steadier.`,
      );
    if (r.otherProcessesPct > 30)
      notes.push(
        `${r.label}: other processes took ${r.otherProcessesPct}% of a core meanwhile; memory figures do not depend on it, connect times do.`,
      );
  }
  if (cfg.sourceAddresses > 1)
    notes.push(
      `Connections come from ${cfg.sourceAddresses} source addresses (127.0.0.1–127.0.0.${cfg.sourceAddresses}), at most ~${fmt(PER_SOURCE_ADDRESS)} each: the ephemeral ports of one address towards one server port run out near 28,000 (32768–60999).`,
    );
  notes.push(
    'RSS is VmRSS from /proc/<pid>/status after a forced full GC (run twice) in the server, asked over IPC by a preloaded agent (loadtest/lib/gc-agent.ts), so the hub itself has no benchmark code; heap is process.memoryUsage().heapUsed then. The slope is a least-squares fit over the stages with connections (stage 1 on: between stage 0 and 1 a server first fills the slack of its start-up heap); the fit with stage 0 is in the last column. The hub measured is a fresh process on the data the setup made (the setup ran in another hub process on the same data dir), so setup garbage is not reused by the first connections. Kernel socket buffers are in no process’s RSS.',
  );
  return notes;
}

function markdown(
  cfg: Config,
  info: ReturnType<typeof runInfo>,
  results: ServerResult[],
  ratios: { rssPerConnection: number | undefined; heapPerConnection: number | undefined },
  targets: { name: string; value: number | undefined; target: string; met: boolean | undefined }[],
  notes: string[],
  busiest: OtherProcess[],
  pinning: string,
  clientProcesses: { pid: number; affinity: string }[],
  total: number,
  nFamilies: number,
): string {
  const mib = (b: number) => fmt(b / 2 ** 20, 1);
  return [
    '# Memory benchmark: idle authenticated connections, hub vs plain Socket.IO',
    '',
    runInfoMarkdown(info),
    '',
    `Load: ${fmt(total)} connections per server: ${fmt(nFamilies)} families of one watch and ${cfg.guardians} guardians with ${cfg.socketsPerUser} socket${cfg.socketsPerUser > 1 ? 's' : ''} each (${cfg.client === 'sio' ? 'socket.io-client' : 'a bare `ws` client speaking the Socket.IO wire format, lib/raw-sio.ts'}, over websocket), opened in ${cfg.stages} stages, ${cfg.settleS} s of quiet before each reading. Hub store: ${cfg.db}${cfg.db === 'sqlite' ? ` (data dir under ${cfg.dataDir})` : ''}.`,
    '',
    `Load generator: ${clientProcesses.length} client processes (${clientProcesses.map((c) => `pid ${c.pid} on cpus ${c.affinity}`).join(', ')}). Pinning: ${pinning}. Open files: ${results.map((r) => `${r.label} ${fmt(r.nofile)}`).join(', ')}.`,
    '',
    ...results.flatMap((r) => [
      `## ${r.label} (pid ${r.pid}, cpus ${r.affinity})${r.setupSeconds !== null ? ` — setup over HTTP ${r.setupSeconds} s` : ''}`,
      '',
      table(
        [
          'stage',
          'connections',
          'server counts',
          'server socket fds',
          'connect s',
          'connect CPU ms/connection: server / clients',
          'RSS MiB',
          'RSS anon / file MiB',
          'heap used / total MiB',
          'external MiB',
          'GC',
          'clients RSS MiB',
        ],
        r.stages.map((s) => [
          s.stage,
          fmt(s.connections),
          fmt(s.serverCount),
          fmt(s.serverSocketFds),
          s.connectSeconds,
          s.stage === 0 ? '' : `${s.connectCpuMsPerConnection.server} / ${s.connectCpuMsPerConnection.clients}`,
          mib(s.rssBytes),
          `${mib(s.rssAnonBytes)} / ${mib(s.rssFileBytes)}`,
          `${mib(s.heapUsedBytes)} / ${mib(s.heapTotalBytes)}`,
          mib(s.externalBytes),
          s.gcForced ? `forced, ${s.gcMs} ms` : 'not forced',
          fmt(s.clientsRssMb, 0),
        ]),
      ),
      '',
    ]),
    '## Per connection',
    '',
    table(
      [
        'server',
        'RSS bytes/connection (R²)',
        'heap bytes/connection (R²)',
        'connections per GiB (slope)',
        'connections per GiB (whole RSS at the end)',
        'fixed RSS (intercept)',
        `RSS at ${fmt(GOAL_PER_GIB)} connections (projected)`,
        'with stage 0 in the fit: RSS / heap bytes/connection',
      ],
      results.map((r) => [
        r.label,
        `${fmt(r.rssBytesPerConnection, 0)} (${r.rssFit.r2})`,
        `${fmt(r.heapBytesPerConnection, 0)} (${r.heapFit.r2})`,
        fmt(r.connectionsPerGiB, 0),
        fmt(r.connectionsPerGiBGross, 0),
        `${mib(r.rssFit.intercept)} MiB`,
        `${fmt(r.projectedRssAtGoalMiB, 0)} MiB`,
        `${fmt(r.rssFitWithStage0.slope, 0)} / ${fmt(r.heapFitWithStage0.slope, 0)}`,
      ]),
    ),
    '',
    ...(ratios.rssPerConnection !== undefined
      ? [
          `Hub / plain Socket.IO: RSS per connection ${fmt(ratios.rssPerConnection, 2)}×, heap per connection ${fmt(ratios.heapPerConnection ?? NaN, 2)}×.`,
          '',
        ]
      : []),
    '**Goals**',
    '',
    table(
      ['goal', 'value', 'wanted', 'met'],
      targets.map((t) => [
        t.name,
        t.value === undefined ? 'n/a' : fmt(t.value, 0),
        t.target,
        t.met === undefined ? 'n/a' : t.met ? '✓' : '✗',
      ]),
    ),
    '',
    `Other processes meanwhile: ${results.map((r) => `${r.otherProcessesPct}% of a core during the ${r.label} stages`).join(', ')}; the busiest over the run: ${othersMarkdown(busiest)}.`,
    '',
    '**Notes**',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:memory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
