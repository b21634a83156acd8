// npm run bench:location -- [--rate R|max] [--watches N] [--duration S] [--db sqlite|postgres|both] [--baseline mqtt,sio-relay] [--clients K] [--pin] …
//
// The real hub (node dist/src/main.js) and a bare `ws` relay, each in a child process, under the
// same client load in the same run: N watches in families of one watch and G guardians, each
// watch reporting one fix every 1/R s. Optionally also Mosquitto relaying the same topology over
// MQTT (QoS 1) and a second hub on PostgreSQL. The load comes from K client processes
// (lib/client-pool.ts), optionally pinned apart from the servers. Reports updates/s accepted,
// deliveries/s, end-to-end latency, errors, CPU and RSS of each server and of each client
// process, the ratios to the baselines and whether each goal is met.
//   --rate R    open loop at R fixes/s per watch (default 1): each server in turn.
//   --fixes wifi  also each hub with Wi-Fi-only fixes (after a few GPS fixes teach it each family's
//               access points), beside its GPS phase: CPU per update of a fix without GPS.
//   --watches tcp  3G-protocol watches over TCP against Socket.IO watches, same hub, same run
//               (location-tcp.ts; --count N watches, --rate ≤ 1): updates/s and CPU per update ratios.
//   --rate max  saturation: each watch keeps --window reports in flight (closed loop), each
//               server in turn; then all open-loop at half the relay's saturation rate (p99
//               there); then all at --low-load updates/s in total (p50 there).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Args, choice, flag, num, parseArgs } from './lib/args.js';
import { type HubServer, type Server, startHub, startRelay } from './lib/children.js';
import {
  ClientPool,
  type PoolTarget,
  type PooledPhaseOptions,
  type PooledPhaseResult,
  type ServerKind,
  runPooledPhase,
} from './lib/client-pool.js';
import type { FamilyConn } from './lib/client-protocol.js';
import { type ProfileSummary, profileMarkdown, summarizeProfile } from './lib/cpuprofile.js';
import { type Broker, DEFAULT_MQTT_URL, existingBroker, spawnBroker } from './lib/mqtt-broker.js';
import { type OtherProcess, OthersSampler, othersMarkdown } from './lib/others.js';
import { type FreshPg, freshPg, pgSettings } from './lib/pg.js';
import { affinityOf, commandPrefix, cpuCount, pinPlan, pinSelf } from './lib/pin.js';
import { RESULTS_DIR, fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';
import { type FamilySpec, setupFamilies } from './lib/setup.js';
import { pidsByName } from './lib/split-fleet.js';
import { round } from './lib/stats.js';

const OPTIONS = [
  'render',
  'rate',
  'watches',
  'guardians',
  'duration',
  'warmup',
  'db',
  'servers',
  'baseline',
  'concurrency',
  'connect-concurrency',
  'window',
  'low-load',
  'clients',
  'client',
  'pin',
  'mqtt-url',
  'mqtt-spawn',
  'cpu-prof',
  'max-seconds',
  'ack-timeout',
  'hub-env',
  'fixes',
  'count',
];

/** Run order: the baselines first, then the hub(s). */
const ORDER: ServerKind[] = ['relay', 'sio-relay', 'mqtt', 'hub', 'hub-pg'];

/** How a server's phases are named ("relay saturation", "mosquitto half load", "hub-pg at 200/s"). */
const PREFIX: Record<ServerKind, string> = {
  relay: 'relay',
  'sio-relay': 'sio-relay',
  mqtt: 'mosquitto',
  hub: 'hub',
  'hub-pg': 'hub-pg',
};

interface Config {
  rate: number | 'max';
  watches: number;
  guardians: number;
  durationS: number;
  warmupS: number;
  db: 'sqlite' | 'postgres' | 'both';
  /** As given: both, hub, relay, or a list such as relay,sio-relay,hub,mqtt. */
  servers: string;
  /** The servers measured, in run order. */
  kinds: ServerKind[];
  concurrency: number;
  connectConcurrency: number;
  window: number;
  /** --rate max: updates/s in total of the last phase of each server (the p50 goal is at 200/s); 0: no such phase. */
  lowLoad: number;
  clients: number;
  /**
   * raw (default): the Socket.IO wire format from a bare ws client (lib/raw-sio.ts), about half
   * socket.io-client's CPU per update, so that on 2 cores the clients keep up with the relay;
   * sio: socket.io-client itself (to cross-check).
   */
  client: 'sio' | 'raw';
  pin: boolean;
  mqttUrl: string;
  mqttSpawn: boolean;
  cpuProf: boolean;
  maxSeconds: number;
  ackTimeoutMs: number;
  /** Extra hub configuration for experiments, e.g. HUB_FIX_BATCH_MAX_DELAY_MS=0 (--hub-env K=V,K2=V2). */
  hubEnv: Record<string, string>;
  /**
   * gps (default): every fix has a GPS position. wifi: each hub is also measured with Wi-Fi-only
   * fixes (after a few GPS fixes per watch that teach it the family's access points), in a phase
   * beside its GPS one, for the CPU per update of locating fixes without GPS.
   */
  fixes: 'gps' | 'wifi';
}

function config(args: Args): Config {
  const rateRaw = args.get('rate') ?? '1';
  const db = choice(args, 'db', ['sqlite', 'postgres', 'both'], 'sqlite');
  const servers = args.get('servers') ?? 'both';
  const listed = servers === 'both' ? ['relay', 'hub'] : servers.split(',').map((s) => s.trim());
  const baseline = (args.get('baseline') ?? '').split(',').filter(Boolean);
  for (const b of baseline)
    if (!['mqtt', 'relay', 'sio-relay'].includes(b)) throw new Error(`--baseline takes mqtt, sio-relay or relay, got "${b}"`);
  const wanted = new Set<string>([...listed, ...baseline]);
  for (const s of wanted)
    if (!['relay', 'sio-relay', 'hub', 'mqtt'].includes(s))
      throw new Error(`--servers takes both, or a list of relay, sio-relay, hub, mqtt; got "${s}"`);
  if (db === 'both' && wanted.has('hub')) wanted.add('hub-pg');
  if (db === 'both' && !wanted.has('hub')) throw new Error('--db both compares two hubs: --servers must include hub');
  return {
    rate: rateRaw === 'max' ? 'max' : num(args, 'rate', 1, 0.01, 1000),
    watches: num(args, 'watches', 200, 1, 5000),
    guardians: num(args, 'guardians', 4, 1, 20),
    durationS: num(args, 'duration', rateRaw === 'max' ? 15 : 20, 1, 600),
    warmupS: num(args, 'warmup', 2, 0, 60),
    db,
    servers,
    kinds: ORDER.filter((k) => wanted.has(k)),
    concurrency: num(args, 'concurrency', 8, 1, 64),
    connectConcurrency: num(args, 'connect-concurrency', 50, 1, 1000),
    window: num(args, 'window', 4, 1, 100),
    lowLoad: num(args, 'low-load', 200, 0, 100_000),
    clients: num(args, 'clients', Math.max(2, cpuCount() - 1), 1, 64),
    client: choice(args, 'client', ['raw', 'sio'], 'raw'),
    pin: flag(args, 'pin'),
    mqttUrl: loopbackOnly(args.get('mqtt-url') ?? DEFAULT_MQTT_URL),
    mqttSpawn: flag(args, 'mqtt-spawn'),
    cpuProf: flag(args, 'cpu-prof'),
    maxSeconds: num(args, 'max-seconds', 900, 30, 7200),
    ackTimeoutMs: num(args, 'ack-timeout', 10_000, 100, 60_000),
    fixes: choice(args, 'fixes', ['gps', 'wifi'], 'gps'),
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

/** Benchmark traffic stays on this machine: 127.0.0.0/8, ::1 or localhost only. */
function loopbackOnly(url: string): string {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== '::1' && host !== 'localhost')
    throw new Error(`--mqtt-url must be on 127.0.0.1 or ::1 (benchmarks send traffic to this machine only), got ${url}`);
  return url;
}

const log = (s: string) => process.stdout.write(`${s}\n`);

interface TargetCheck {
  name: string;
  value: number | undefined;
  target: string;
  met: boolean | undefined;
}

type Ratios = Record<string, number | undefined>;

const RATIO_LABELS: Record<string, string> = {
  throughput: 'hub / relay updates/s',
  deliveries: 'hub / relay deliveries/s',
  p99: 'hub / relay e2e p99',
  saturationThroughput: 'hub / relay saturation updates/s',
  halfLoadP99: 'hub / relay e2e p99 at half the relay’s saturation rate',
  cpuPerUpdate: 'hub / relay server CPU per update',
  mqttThroughput: 'hub / mosquitto updates/s',
  mqttP99: 'hub / mosquitto e2e p99',
  mqttSaturationThroughput: 'hub / mosquitto saturation updates/s',
  mqttHalfLoadP99: 'hub / mosquitto e2e p99 at half the relay’s saturation rate',
  mqttCpuPerUpdate: 'hub / mosquitto server CPU per update',
  sioRelaySaturationThroughput: 'Socket.IO relay / bare relay saturation updates/s',
  sioRelayCpuPerUpdate: 'Socket.IO relay / bare relay server CPU per update',
  hubVsSioRelaySaturationThroughput: 'hub / Socket.IO relay saturation updates/s',
  hubVsSioRelayCpuPerUpdate: 'hub / Socket.IO relay server CPU per update',
  pgVsSqliteThroughput: 'hub on PostgreSQL / hub on SQLite updates/s',
  pgSaturationThroughput: 'hub on PostgreSQL / relay saturation updates/s',
  pgHalfLoadP99: 'hub on PostgreSQL / relay e2e p99 at half load',
  pgCpuPerUpdate: 'hub on PostgreSQL / relay server CPU per update (hub process)',
  pgCpuPerUpdateWithDb: 'hub on PostgreSQL / relay server CPU per update, PostgreSQL backends included',
  wifiCpuPerUpdate: 'hub with Wi-Fi-only fixes / hub with GPS fixes, server CPU per update',
  wifiPgCpuPerUpdate: 'hub on PostgreSQL with Wi-Fi-only fixes / with GPS fixes, server CPU per update',
};

/** GPS fixes each watch sends first in a Wi-Fi phase, teaching the hub its access points (lib/client-worker.ts). */
const TEACHING_FIXES = 3;

/** Results written before the multi-process load generator have one client and no per-process figures. */
type AnyPhase = PooledPhaseResult | (Omit<PooledPhaseResult, 'client' | 'serverLabel' | 'helpers'> & Partial<PooledPhaseResult>);

interface Extra {
  pinning?: string;
  clientProcesses?: { pid: number; affinity: string }[];
  parentAffinity?: string;
  broker?: string | null;
  others?: OtherProcess[];
}

/** --render <results.json>: writes its .md again from the JSON (after a change to the report's text). */
function render(file: string): void {
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    config: Config;
    setup: { seconds: number; httpRequests: number } | undefined;
    phases: AnyPhase[];
    profile: ProfileSummary | null;
    extra?: Extra;
  } & ReturnType<typeof runInfo>;
  const { ratios, targets, notes, checks } = analyze(r.config, r.phases, r.extra, r.cpus);
  writeFileSync(file, `${JSON.stringify({ ...r, ratios, targets, notes, checks }, null, 2)}\n`);
  const md = file.replace(/\.json$/, '.md');
  writeFileSync(
    md,
    markdown(r.config, r, r.setup, r.phases, ratios, targets, notes, r.profile ?? undefined, r.extra ?? {}, checks),
  );
  log(`wrote ${md}`);
}

/** The phases a run makes, for the time estimate: setup ≈ 0.15 s per family, a phase ≈ warm-up + duration + 6 s. */
function estimateSeconds(cfg: Config): number {
  const hubs = cfg.kinds.filter((k) => k === 'hub' || k === 'hub-pg').length;
  const phasesPerServer = cfg.rate === 'max' ? 2 + (cfg.lowLoad > 0 ? 1 : 0) : 1;
  const wifi = cfg.fixes === 'wifi' ? hubs * (wifiWarmupS(cfg) + cfg.durationS + 6) : 0;
  return hubs * (5 + cfg.watches * 0.15) + cfg.kinds.length * phasesPerServer * (cfg.warmupS + cfg.durationS + 6) + wifi;
}

/** Warm-up of a Wi-Fi phase: long enough for every watch's teaching fixes (and one more) in open loop. */
function wifiWarmupS(cfg: Pick<Config, 'rate' | 'warmupS'>): number {
  return cfg.rate === 'max' ? cfg.warmupS : Math.max(cfg.warmupS, (TEACHING_FIXES + 1) / cfg.rate);
}

function familyConns(families: FamilySpec[]): FamilyConn[] {
  return families.map((f) => ({
    familyId: f.familyId,
    deviceId: f.deviceId,
    watch: { token: f.deviceToken, query: { role: 'watch', family: f.familyId, device: f.deviceId } },
    guardians: f.guardianTokens.map((t) => ({ token: t, query: { role: 'guardian', family: f.familyId } })),
  }));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), OPTIONS);
  const renderFile = args.get('render');
  if (renderFile) return render(renderFile);
  // --watches tcp: 3G-protocol watches over TCP against Socket.IO watches (location-tcp.ts).
  if (args.get('watches') === 'tcp') return (await import('./location-tcp.js')).runTcpComparison(args);
  const cfg = config(args);
  const info = runInfo();
  const ts = timestamp();
  const experiment = Object.keys(cfg.hubEnv).length > 0;
  const dbTag = cfg.db === 'postgres' ? '-postgres' : cfg.db === 'both' ? '-sqlite-vs-postgres' : '';
  const base = `location${cfg.rate === 'max' ? '-max' : ''}${dbTag}${experiment ? '-experiment' : ''}`;
  const estimate = estimateSeconds(cfg);
  if (estimate > cfg.maxSeconds)
    throw new Error(`this run would take about ${Math.round(estimate)} s, more than --max-seconds ${cfg.maxSeconds}: raise it`);
  log(`${cfg.kinds.join(', ')}; about ${Math.round(estimate / 10) * 10} s`);
  const watchdog = setTimeout(() => {
    log(`aborting: the run took longer than --max-seconds ${cfg.maxSeconds}`);
    process.exit(3);
  }, cfg.maxSeconds * 1000);

  const others = new OthersSampler();
  const plan = pinPlan(cfg.pin);
  if (plan.clients && !pinSelf(plan.clients)) log(`could not pin this process to ${plan.clients}`);
  const serverPrefix = commandPrefix({ cpus: plan.server });
  log(`pinning: ${plan.description}`);

  const work = mkdtempSync(join(tmpdir(), 'hub-bench-run-'));
  const profDir = cfg.cpuProf ? join(RESULTS_DIR, 'profiles', `${base}-${ts}`) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  let pg: FreshPg | undefined;
  let hub: HubServer | undefined;
  let hubPg: HubServer | undefined;
  let relay: Server | undefined;
  let sioRelay: Server | undefined;
  let broker: Broker | undefined;
  let pool: ClientPool | undefined;
  const dropPg = () => pg?.drop().catch((err: unknown) => log(`could not drop ${pg?.name}: ${String(err)}`));
  const cleanup = async () => {
    await pool?.exit();
    await Promise.allSettled([hub?.stop(), hubPg?.stop(), relay?.stop(), sioRelay?.stop(), broker?.stop()]);
    await dropPg();
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping the servers');
    void cleanup().finally(() => process.exit(130));
  });

  const phases: PooledPhaseResult[] = [];
  const setups: Record<string, { seconds: number; httpRequests: number }> = {};
  let dbSettings: Record<string, unknown> = { dialect: cfg.db };
  let hubExit = '';
  let hubPgExit = '';
  let profile: ProfileSummary | undefined;
  const extra: Extra = { pinning: plan.description, parentAffinity: affinityOf('self'), broker: null };
  try {
    // The broker first: an unreachable one should stop the run before the long setup.
    if (cfg.kinds.includes('mqtt')) {
      broker = cfg.mqttSpawn ? await spawnBroker(serverPrefix) : await existingBroker(cfg.mqttUrl);
      extra.broker = `${broker.description}, mosquitto ${broker.version}`;
      log(`MQTT baseline: ${extra.broker}`);
    }
    const sqlite = { dialect: 'sqlite', journal_mode: 'WAL', synchronous: 'FULL' };
    if (cfg.db !== 'sqlite') {
      pg = await freshPg();
      const settings = { dialect: 'postgres', database: pg.name, ...(await pgSettings(pg.url)) };
      dbSettings = cfg.db === 'both' ? { sqlite, postgres: settings } : settings;
    } else {
      dbSettings = sqlite;
    }
    const hubOpts = { env: cfg.hubEnv, prefix: serverPrefix };
    let families: FamilySpec[] = [];
    let familiesPg: FamilySpec[] = [];
    if (cfg.kinds.includes('hub')) {
      const onPg = cfg.db === 'postgres';
      log(`starting the hub (${onPg ? 'postgres' : 'sqlite'}${cfg.cpuProf ? ', --cpu-prof' : ''})`);
      hub = await startHub({
        ...hubOpts,
        ...(onPg && pg ? { databaseUrl: pg.url } : {}),
        ...(profDir ? { cpuProfDir: profDir } : {}),
      });
      log(`hub pid ${hub.pid} at ${hub.url}; data in ${hub.dataDir}`);
      const s = await setupFamilies(hub.url, cfg.watches, cfg.guardians, cfg.concurrency, log);
      families = s.families;
      setups.hub = { seconds: round(s.seconds, 1), httpRequests: s.httpRequests };
      log(
        `setup: ${cfg.watches} families (${cfg.watches * cfg.guardians} guardians) with ${s.httpRequests} HTTP requests in ${s.seconds.toFixed(1)} s`,
      );
    }
    if (cfg.kinds.includes('hub-pg') && pg) {
      log('starting the second hub (postgres)');
      hubPg = await startHub({ ...hubOpts, databaseUrl: pg.url });
      log(`hub-pg pid ${hubPg.pid} at ${hubPg.url}`);
      const s = await setupFamilies(hubPg.url, cfg.watches, cfg.guardians, cfg.concurrency, log);
      familiesPg = s.families;
      setups['hub-pg'] = { seconds: round(s.seconds, 1), httpRequests: s.httpRequests };
      log(`setup on postgres: ${s.httpRequests} HTTP requests in ${s.seconds.toFixed(1)} s`);
    }
    // The baselines need no accounts: they route by the ids in the query string / topic.
    if (families.length === 0) families = syntheticFamilies(cfg.watches, cfg.guardians);
    if (cfg.kinds.includes('relay')) {
      relay = await startRelay(work, { prefix: serverPrefix });
      log(`relay pid ${relay.pid} at ${relay.url}`);
    }
    if (cfg.kinds.includes('sio-relay')) {
      sioRelay = await startRelay(work, { prefix: serverPrefix }, true);
      log(`Socket.IO relay pid ${sioRelay.pid} at ${sioRelay.url}`);
    }

    pool = await ClientPool.start(cfg.clients, { cpus: plan.clients });
    extra.clientProcesses = pool.describe().map(({ pid, affinity }) => ({ pid, affinity }));
    log(
      `${cfg.clients} client process${cfg.clients > 1 ? 'es' : ''}: ${extra.clientProcesses.map((c) => `pid ${c.pid} on cpus ${c.affinity}`).join(', ')}`,
    );

    const sioProtocol = cfg.client === 'raw' ? 'socket.io-raw' : 'socket.io';
    const targets: Partial<Record<ServerKind, PoolTarget & { families: FamilyConn[] }>> = {};
    if (hub)
      targets.hub = {
        kind: 'hub',
        label: cfg.db === 'postgres' ? 'hub (postgres)' : 'hub',
        protocol: sioProtocol,
        url: hub.url,
        pid: hub.pid,
        families: familyConns(families),
        ...(cfg.db === 'postgres' ? { helperPids: () => pidsByName(['postgres']), helperName: 'postgres' } : {}),
      };
    if (hubPg)
      targets['hub-pg'] = {
        kind: 'hub-pg',
        label: 'hub (postgres)',
        protocol: sioProtocol,
        url: hubPg.url,
        pid: hubPg.pid,
        families: familyConns(familiesPg),
        helperPids: () => pidsByName(['postgres']),
        helperName: 'postgres',
      };
    // The relays: the synthetic families (or the hub's), routed by the ids in the query string.
    const relayTarget = (
      kind: 'relay' | 'sio-relay',
      label: string,
      server: Server,
    ): PoolTarget & { families: FamilyConn[] } => ({
      kind,
      label,
      protocol: sioProtocol,
      url: server.url,
      pid: server.pid,
      families: familyConns(families),
    });
    if (relay) targets.relay = relayTarget('relay', 'relay', relay);
    if (sioRelay) targets['sio-relay'] = relayTarget('sio-relay', 'Socket.IO relay', sioRelay);
    if (broker)
      targets.mqtt = {
        kind: 'mqtt',
        label: 'mosquitto',
        protocol: 'mqtt',
        url: broker.url,
        pid: broker.pid ?? -1,
        families: familyConns(families),
      };

    const phase = async (
      kind: ServerKind,
      o: Omit<PooledPhaseOptions, 'warmupS' | 'drainS' | 'ackTimeoutMs'> & { warmupS?: number },
    ) => {
      const t = targets[kind]!;
      const c = await pool!.connect(t.protocol, t.url, t.families, { concurrency: cfg.connectConcurrency });
      log(`[${t.label}] ${c.families} watches and ${c.sockets - c.families} guardians connected in ${c.seconds.toFixed(1)} s`);
      try {
        const r = await runPooledPhase(
          pool!,
          t,
          { ...o, warmupS: o.warmupS ?? cfg.warmupS, drainS: 5, ackTimeoutMs: cfg.ackTimeoutMs },
          c.seconds,
          log,
        );
        phases.push(r);
        log(
          `[${o.name}] ${fmt(r.updatesPerS)} updates/s, ${fmt(r.deliveriesPerS)} deliveries/s, e2e p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms, ` +
            `${t.label} cpu ${r.serverProc.cpuPct}%, clients cpu ${r.client.processes.map((p) => p.cpuPct).join(' + ')}% (parent ${r.client.parentCpuPct}%)`,
        );
        return r;
      } finally {
        await pool!.closeAll();
      }
    };

    const hubKinds = cfg.kinds.filter((k) => k === 'hub' || k === 'hub-pg');
    if (cfg.rate !== 'max') {
      for (const k of cfg.kinds)
        await phase(k, { name: PREFIX[k], mode: 'open', ratePerWatch: cfg.rate, window: 1, durationS: cfg.durationS });
      if (cfg.fixes === 'wifi')
        for (const k of hubKinds)
          await phase(k, {
            name: `${PREFIX[k]} wifi`,
            mode: 'open',
            ratePerWatch: cfg.rate,
            window: 1,
            durationS: cfg.durationS,
            fixes: 'wifi',
            warmupS: wifiWarmupS(cfg),
          });
    } else {
      const sat: Partial<Record<ServerKind, PooledPhaseResult>> = {};
      for (const k of cfg.kinds) {
        sat[k] = await phase(k, {
          name: `${PREFIX[k]} saturation`,
          mode: 'closed',
          ratePerWatch: 0,
          window: cfg.window,
          durationS: cfg.durationS,
        });
      }
      if (cfg.fixes === 'wifi')
        for (const k of hubKinds)
          await phase(k, {
            name: `${PREFIX[k]} wifi saturation`,
            mode: 'closed',
            ratePerWatch: 0,
            window: cfg.window,
            durationS: cfg.durationS,
            fixes: 'wifi',
          });
      // Half the relay's saturation rate (or the first server's, when the relay does not run).
      const ref = sat.relay ?? sat[cfg.kinds[0]!]!;
      const halfRate = ref.updatesPerS / 2 / cfg.watches;
      log(
        `half load: ${fmt(halfRate * cfg.watches)} updates/s (${fmt(halfRate, 2)} per watch), half the ${ref.serverLabel}'s saturation`,
      );
      for (const k of cfg.kinds)
        await phase(k, {
          name: `${PREFIX[k]} half load`,
          mode: 'open',
          ratePerWatch: halfRate,
          window: 1,
          durationS: cfg.durationS,
        });
      if (cfg.lowLoad > 0) {
        for (const k of cfg.kinds)
          await phase(k, {
            name: `${PREFIX[k]} at ${fmt(cfg.lowLoad)}/s`,
            mode: 'open',
            ratePerWatch: cfg.lowLoad / cfg.watches,
            window: 1,
            durationS: cfg.durationS,
          });
      }
    }
  } finally {
    await pool?.exit();
    relay && (await relay.stop());
    sioRelay && (await sioRelay.stop());
    await broker?.stop();
    if (hub) {
      hubExit = await hub.stop();
      log(`hub exited (${hubExit})${hubExit === '0' ? '' : `; its log: ${hub.logPath}`}`);
    }
    if (hubPg) {
      hubPgExit = await hubPg.stop();
      log(`hub-pg exited (${hubPgExit})${hubPgExit === '0' ? '' : `; its log: ${hubPg.logPath}`}`);
    }
    await dropPg();
    rmSync(work, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
  // Ours: this process, the clients, the servers (the broker too: it is measured, in its phases).
  const ours = new Set([process.pid, ...(extra.clientProcesses ?? []).map((c) => c.pid)]);
  for (const s of [hub, hubPg, relay, sioRelay]) if (s) ours.add(s.pid);
  if (broker?.pid) ours.add(broker.pid);
  others.stop();
  extra.others = others.top(ours);

  if (hub && profDir) {
    const file = hub.profiles()[0];
    if (file) {
      const windows = phases
        .filter((p) => p.server === 'hub')
        .map((p) => ({
          from: (p.measuredWindow.from - hub!.spawnedAt) / 1000,
          to: (p.measuredWindow.to - hub!.spawnedAt) / 1000,
        }));
      profile = summarizeProfile(file, windows, 25);
      log(`CPU profile: ${file}`);
    } else {
      log('no CPU profile was written (did the hub exit cleanly?)');
    }
  }

  const { ratios, targets, notes, checks } = analyze(cfg, phases, extra, info.cpus);
  const setup = setups.hub ?? setups['hub-pg'];
  const result = {
    benchmark: 'location',
    ...info,
    loadavgAtEnd: loadavg().map((v) => round(v, 2)),
    config: { ...cfg, database: dbSettings },
    setup,
    setups,
    phases,
    ratios,
    targets,
    checks,
    profile: profile ?? null,
    hubExit,
    ...(hubPg ? { hubPgExit } : {}),
    extra,
    notes,
  };
  const md = markdown(cfg, info, setup, phases, ratios, targets, notes, profile, extra, checks);
  for (const p of writeResults(base, ts, result, md)) log(`wrote ${p}`);
  for (const t of targets)
    log(
      `${t.met === undefined ? '·' : t.met ? '✓' : '✗'} ${t.name}: ${t.value === undefined ? 'n/a' : fmt(t.value, 3)} (wanted ${t.target})`,
    );
  for (const h of [hub, hubPg]) if (h) rmSync(h.dataDir, { recursive: true, force: true });
}

/** Families for the baselines alone (no hub in the run): ids of the hub's length, no tokens. */
function syntheticFamilies(n: number, guardians: number): FamilySpec[] {
  const id = (p: string, i: number) => `${p}${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`.slice(0, 36);
  return Array.from({ length: n }, (_, i) => ({
    familyId: id('f', i),
    deviceId: id('d', i),
    deviceToken: '',
    guardianTokens: Array.from({ length: guardians }, () => ''),
  }));
}

const busiestClient = (p: AnyPhase): number => p.client?.maxProcessCpuPct ?? p.client?.cpuPct ?? NaN;

/** Ratios, targets and notes from the phases of one run (also used by --render). */
function analyze(
  cfg: Pick<Config, 'rate'> & Partial<Config>,
  phases: AnyPhase[],
  extra?: Extra,
  cpus = 2,
): { ratios: Ratios; targets: TargetCheck[]; notes: string[]; checks: LoadCheck[] } {
  const by = (name: string) => phases.find((p) => p.name === name);
  const ratios: Ratios = {};
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? round(a / b, 3) : undefined);
  const notes: string[] = [];
  const targets: TargetCheck[] = [];
  const atLeast = (name: string, value: number | undefined, min: number) =>
    targets.push({ name, value, target: `≥ ${min}`, met: value === undefined ? undefined : value >= min });
  const atMost = (name: string, value: number | undefined, max: number, unit = '') =>
    targets.push({ name, value, target: `≤ ${max}${unit}`, met: value === undefined ? undefined : value <= max });
  const withDb = (p: AnyPhase | undefined) =>
    p && p.updatesPerS > 0 ? (((p.serverProc.cpuPct + (p.helpers?.cpuPct ?? 0)) / 100) * 1e6) / p.updatesPerS : undefined;
  if (cfg.rate !== 'max') {
    const h = by('hub');
    const r = by('relay');
    const m = by('mosquitto');
    const g = by('hub-pg');
    ratios.throughput = ratio(h?.updatesPerS, r?.updatesPerS);
    ratios.deliveries = ratio(h?.deliveriesPerS, r?.deliveriesPerS);
    ratios.p99 = ratio(h?.latencyMs.p99, r?.latencyMs.p99);
    ratios.cpuPerUpdate = ratio(h?.serverProc.cpuUsPerUpdate, r?.serverProc.cpuUsPerUpdate);
    if (m) {
      ratios.mqttThroughput = ratio(h?.updatesPerS, m.updatesPerS);
      ratios.mqttP99 = ratio(h?.latencyMs.p99, m.latencyMs.p99);
    }
    if (g) ratios.pgVsSqliteThroughput = ratio(g.updatesPerS, h?.updatesPerS);
    atLeast('hub updates/s ≥ 0.85 × relay (at this offered load)', ratios.throughput, 0.85);
    if (h) {
      const offered = h.offeredUpdatesPerS ?? 0;
      atMost(
        `hub e2e p50 ≤ 2 ms at ${fmt(offered)} updates/s${Math.abs(offered - 200) > 1 ? ' (the goal is at 200 updates/s)' : ''}`,
        h.latencyMs.p50,
        2,
        ' ms',
      );
    }
    if (g) atMost('hub on PostgreSQL: e2e p50 ≤ 2 ms at this load', g.latencyMs.p50, 2, ' ms');
    notes.push(
      'At a fixed offered load both servers accept all of it when neither saturates, so the throughput ratio here is ~1 by construction; run `--rate max` for the saturation comparison.',
    );
  } else {
    const hs = by('hub saturation');
    const rs = by('relay saturation');
    const ms = by('mosquitto saturation');
    const gs = by('hub-pg saturation');
    const ss = by('sio-relay saturation');
    const hh = by('hub half load');
    const rh = by('relay half load');
    const mh = by('mosquitto half load');
    const gh = by('hub-pg half load');
    const low = (prefix: string) => phases.find((p) => p.name.startsWith(`${prefix} at `));
    ratios.saturationThroughput = ratio(hs?.updatesPerS, rs?.updatesPerS);
    ratios.halfLoadP99 = ratio(hh?.latencyMs.p99, rh?.latencyMs.p99);
    ratios.cpuPerUpdate = ratio(hs?.serverProc.cpuUsPerUpdate, rs?.serverProc.cpuUsPerUpdate);
    atLeast('hub saturation updates/s ≥ 0.85 × relay', ratios.saturationThroughput, 0.85);
    if (rs || hs) atMost('hub server CPU per update ≤ 1.5 × relay (at saturation)', ratios.cpuPerUpdate, 1.5);
    atMost('hub p99 ≤ 2.5 × relay at half the relay’s saturation rate', ratios.halfLoadP99, 2.5);
    const hl = low('hub');
    if (hl) atMost(`hub e2e p50 ≤ 2 ms at ${fmt(hl.offeredUpdatesPerS ?? 0)} updates/s`, hl.latencyMs.p50, 2, ' ms');
    if (ms) {
      ratios.mqttSaturationThroughput = ratio(hs?.updatesPerS, ms.updatesPerS);
      ratios.mqttHalfLoadP99 = ratio(hh?.latencyMs.p99, mh?.latencyMs.p99);
      ratios.mqttCpuPerUpdate = ratio(hs?.serverProc.cpuUsPerUpdate, ms.serverProc.cpuUsPerUpdate);
      atLeast('hub saturation updates/s ≥ 0.7 × Mosquitto (same topology, QoS 1)', ratios.mqttSaturationThroughput, 0.7);
    }
    if (ss) {
      // What Socket.IO itself costs over the bare relay, and what the hub adds over Socket.IO.
      ratios.sioRelaySaturationThroughput = ratio(ss.updatesPerS, rs?.updatesPerS);
      ratios.sioRelayCpuPerUpdate = ratio(ss.serverProc.cpuUsPerUpdate, rs?.serverProc.cpuUsPerUpdate);
      ratios.hubVsSioRelaySaturationThroughput = ratio(hs?.updatesPerS, ss.updatesPerS);
      ratios.hubVsSioRelayCpuPerUpdate = ratio(hs?.serverProc.cpuUsPerUpdate, ss.serverProc.cpuUsPerUpdate);
    }
    if (gs) {
      ratios.pgVsSqliteThroughput = ratio(gs.updatesPerS, hs?.updatesPerS);
      ratios.pgSaturationThroughput = ratio(gs.updatesPerS, rs?.updatesPerS);
      ratios.pgHalfLoadP99 = ratio(gh?.latencyMs.p99, rh?.latencyMs.p99);
      ratios.pgCpuPerUpdate = ratio(gs.serverProc.cpuUsPerUpdate, rs?.serverProc.cpuUsPerUpdate);
      ratios.pgCpuPerUpdateWithDb = ratio(withDb(gs), rs?.serverProc.cpuUsPerUpdate);
      atLeast('hub on PostgreSQL: saturation updates/s ≥ 0.8 × the hub on SQLite', ratios.pgVsSqliteThroughput, 0.8);
      atLeast('hub on PostgreSQL: saturation updates/s ≥ 0.85 × relay', ratios.pgSaturationThroughput, 0.85);
      atMost('hub on PostgreSQL: server CPU per update ≤ 1.5 × relay (hub process)', ratios.pgCpuPerUpdate, 1.5);
      atMost('hub on PostgreSQL: p99 ≤ 2.5 × relay at half the relay’s saturation rate', ratios.pgHalfLoadP99, 2.5);
      const gl = low('hub-pg');
      if (gl)
        atMost(`hub on PostgreSQL: e2e p50 ≤ 2 ms at ${fmt(gl.offeredUpdatesPerS ?? 0)} updates/s`, gl.latencyMs.p50, 2, ' ms');
    }
    const busyClient = [rh, hh, mh, gh].filter((p): p is AnyPhase => p !== undefined && busiestClient(p) > 75);
    if (busyClient.length) {
      notes.push(
        `In the half-load phases a client process was busy (${busyClient.map((p) => `${busiestClient(p)}% of a core in "${p.name}"`).join(', ')}): its own queueing adds to every p99, the baselines' most (their p99 at light load is about 1 ms), so the half-load p99 ratios understate the hub's extra latency.`,
      );
    }
    if (gs?.helpers) {
      notes.push(
        `The "PostgreSQL CPU" column is every \`postgres\` process on the machine (other engineers' tests may use the same server), not only the hub's backends: ${gs.helpers.cpuPct}% of a core in "${gs.name}".`,
      );
    }
  }
  if (extra?.broker?.includes('set_tcp_nodelay false'))
    notes.push(
      'The broker runs with set_tcp_nodelay false (Debian’s config leaves the default): its PUBACKs and deliveries can wait on Nagle’s algorithm and the peer’s delayed ACK, which lowers its closed-loop throughput and raises its latency, flattering the hub’s ratios to it. `--mqtt-spawn` runs the same binary with set_tcp_nodelay true, as the `ws` sockets of the hub and the relay are.',
    );
  // Wi-Fi-only fixes against GPS fixes, same hub, same load.
  const sat = cfg.rate === 'max' ? ' saturation' : '';
  ratios.wifiCpuPerUpdate = ratio(by(`hub wifi${sat}`)?.serverProc.cpuUsPerUpdate, by(`hub${sat}`)?.serverProc.cpuUsPerUpdate);
  ratios.wifiPgCpuPerUpdate = ratio(
    by(`hub-pg wifi${sat}`)?.serverProc.cpuUsPerUpdate,
    by(`hub-pg${sat}`)?.serverProc.cpuUsPerUpdate,
  );
  for (const w of phases.filter((p) => p.fixes === 'wifi')) {
    if (w.deliveryRatio < 0.99)
      notes.push(
        `In "${w.name}" only ${fmt(w.deliveryRatio * 100, 2)}% of the deliveries due arrived: Wi-Fi fixes the hub could not locate are signs of life and are not broadcast (were the access points taught?).`,
      );
  }
  if (phases.some((p) => p.fixes === 'wifi'))
    notes.push(
      `Wi-Fi phases: each watch first sends ${TEACHING_FIXES} GPS fixes hearing its family's 3 access points (during the warm-up), then reports only those access points; the hub locates every fix from the learned access points in memory (no outside provider).`,
    );
  const mq = phases.find((p) => p.server === 'mqtt');
  if (mq && !Number.isFinite(mq.serverProc.cpuPct)) notes.push('The broker’s pid was not found: no CPU figures for it.');
  const echoing = phases.find((p) => (p.server === 'hub' || p.server === 'hub-pg') && p.echoesToWatchPerS > 0);
  if (echoing) {
    notes.push(
      `The hub also sends each \`location\` event back to the reporting watch (${fmt(echoing.echoesToWatchPerS)}/s in "${echoing.name}"): one more send per update than the relay and the broker make, not counted in deliveries.`,
    );
  }
  const busy = phases.filter((p) => p.machine.otherProcessesPct > 30);
  if (busy.length) {
    notes.push(
      `Other processes on this shared machine took CPU during ${busy.map((p) => `"${p.name}" (${p.machine.otherProcessesPct}% of a core)`).join(', ')}: those phases had less than the machine's cores; compare ratios from phases with similar "other processes CPU".`,
    );
  }
  const hubPhases = phases.filter((p) => p.server === 'hub' || p.server === 'hub-pg');
  if (hubPhases.some((p) => busiestClient(p) > 85))
    notes.push('Some hub phases had a client process above 85% of a core: the client may have limited them too.');

  const checks = loadChecks(phases, extra, cpus);
  for (const c of checks.filter((c) => !c.ok && c.server !== 'hub' && c.server !== 'hub-pg'))
    notes.push(
      `${c.phase}: ${c.why}. The baseline's true capacity is then higher, so the saturation ratio to it flatters the hub; add client processes (--clients) or cores, or compare server CPU per update (one core carries about 1,000,000 / (µs per update) updates/s).`,
    );
  return { ratios, targets, notes, checks };
}

/** Whether the load generator, not the server, set the pace of a saturation phase. */
interface LoadCheck {
  phase: string;
  server: string;
  busiestClientPct: number;
  clientsPct: number;
  /** Cores the clients were pinned to; null when not pinned. */
  clientCores: number | null;
  machineBusyPct: number;
  ok: boolean;
  why: string;
}

/** Cores in a taskset list such as "1", "1-3" or "0,2-3". */
function coresIn(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (Number.isFinite(a)) n += b !== undefined && Number.isFinite(b) ? b - a! + 1 : 1;
  }
  return n;
}

function loadChecks(phases: AnyPhase[], extra: Extra | undefined, cpus: number): LoadCheck[] {
  const affinity = extra?.clientProcesses?.[0]?.affinity;
  const pinned = affinity && affinity !== '?' && coresIn(affinity) < cpus ? coresIn(affinity) : null;
  return phases
    .filter((p) => p.mode === 'closed')
    .map((p) => {
      const busiest = busiestClient(p);
      const together = p.client?.cpuPct ?? NaN;
      const busy = p.machine.busyPct;
      let why = '';
      if (busiest > 85) why = `a client process used ${busiest}% of a core`;
      else if (pinned !== null && together > 85 * pinned)
        why = `the clients together used ${together}% of the ${pinned} core${pinned > 1 ? 's' : ''} they were pinned to`;
      else if (busy > 90 * cpus)
        why = `the machine was saturated (${busy}% of ${cpus * 100}%): server, clients and others competed for the cores`;
      return {
        phase: p.name,
        server: p.server,
        busiestClientPct: busiest,
        clientsPct: together,
        clientCores: pinned,
        machineBusyPct: busy,
        ok: why === '',
        why: why || 'no client process, nor the clients’ cores, nor the machine was saturated',
      };
    });
}

function markdown(
  cfg: Partial<Config> & Pick<Config, 'rate' | 'watches' | 'guardians' | 'window' | 'warmupS' | 'durationS' | 'db' | 'hubEnv'>,
  info: ReturnType<typeof runInfo>,
  setup: { seconds: number; httpRequests: number } | undefined,
  phases: AnyPhase[],
  ratios: Ratios,
  targets: TargetCheck[],
  notes: string[],
  profile: ProfileSummary | undefined,
  extra: Extra,
  checks: LoadCheck[],
): string {
  const load =
    cfg.rate === 'max'
      ? `saturation (closed loop, ${cfg.window} report${cfg.window > 1 ? 's' : ''} in flight per watch), then open loop at half the relay's saturation rate${cfg.lowLoad ? `, then at ${fmt(cfg.lowLoad)} updates/s in total` : ''}`
      : `open loop, ${cfg.rate} fix/s per watch (${fmt(cfg.rate * cfg.watches)} updates/s offered)`;
  const errs = (p: AnyPhase) => {
    const e = p.errors;
    const codes = Object.entries(e.ackErrors).map(([c, n]) => `${c} ${n}`);
    const parts = [...codes];
    if (e.ackTimeouts) parts.push(`ack timeouts ${e.ackTimeouts}`);
    if (e.unackedAtEnd) parts.push(`unacked ${e.unackedAtEnd}`);
    if (e.disconnects) parts.push(`disconnects ${e.disconnects}`);
    if (e.skippedSends) parts.push(`client skipped ${e.skippedSends}`);
    return parts.length ? parts.join(', ') : '0';
  };
  const clients = cfg.clients ?? 1;
  const anyHelpers = phases.some((p) => p.helpers);
  const perProcess = (p: AnyPhase) =>
    p.client?.processes
      ? `${p.client.processes.map((c) => c.cpuPct).join(' / ')} (parent ${p.client.parentCpuPct})`
      : 'one process';
  const othersMean = phases.length ? phases.reduce((n, p) => n + p.machine.otherProcessesPct, 0) / phases.length : NaN;
  return [
    `# Location benchmark: hub vs bare relay${cfg.kinds?.includes('sio-relay') ? ', a Socket.IO relay' : ''}${cfg.kinds?.includes('mqtt') ? ' and Mosquitto' : ''}${cfg.rate === 'max' ? ' (max throughput)' : ''}`,
    '',
    runInfoMarkdown(info),
    '',
    ...(Object.keys(cfg.hubEnv).length
      ? [
          `**Experiment**: the hub ran with ${Object.entries(cfg.hubEnv)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(', ')}.`,
          '',
        ]
      : []),
    `Load: ${cfg.watches} watches, each in a family with ${cfg.guardians} guardians (${cfg.watches * (cfg.guardians + 1)} sockets, ${cfg.client === 'raw' ? 'a bare `ws` client speaking the Socket.IO v5 wire format, lib/raw-sio.ts' : 'socket.io-client over websocket'}${cfg.kinds?.includes('mqtt') ? '; against Mosquitto the same topology over MQTT 3.1.1 with mqtt.js: each watch publishes to its own topic at QoS 1, its guardians subscribe to the family’s topics at QoS 1, the PUBACK is the ack' : ''}); ${load}; ${cfg.warmupS} s warm-up, ${cfg.durationS} s measured per phase. Hub store: ${cfg.db === 'both' ? 'SQLite ("hub") and PostgreSQL ("hub-pg")' : cfg.db}.` +
      (setup ? ` Setup over HTTP: ${setup.httpRequests} requests in ${setup.seconds} s.` : ''),
    '',
    (extra.clientProcesses
      ? `Load generator: ${clients} client process${clients > 1 ? 'es' : ''} (${extra.clientProcesses.map((c) => `pid ${c.pid} on cpus ${c.affinity}`).join(', ')}) and the parent (cpus ${extra.parentAffinity ?? '?'}), families split between them; latency histograms merged. Pinning: ${extra.pinning ?? 'none'}.`
      : 'Load generator: one process holding every socket (a run from before the multi-process load generator).') +
      (extra.broker ? ` MQTT broker: ${extra.broker}.` : ''),
    '',
    table(
      [
        'phase',
        'offered/s',
        'updates/s (acked ok)',
        'deliveries/s',
        'delivered',
        'e2e p50 / p99 / max ms',
        'ack p50 / p99 ms',
        'errors',
        'server CPU (of which kernel)',
        'server CPU µs/update',
        'server RSS max',
        ...(anyHelpers ? ['PostgreSQL CPU'] : []),
        'client CPU',
        'per client process (parent)',
        'other processes CPU',
      ],
      phases.map((p) => [
        p.name,
        p.offeredUpdatesPerS === null ? 'closed loop' : fmt(p.offeredUpdatesPerS),
        fmt(p.updatesPerS),
        fmt(p.deliveriesPerS),
        `${fmt(p.deliveryRatio * 100, 2)}%`,
        `${p.latencyMs.p50} / ${p.latencyMs.p99} / ${p.latencyMs.max}`,
        `${p.ackLatencyMs.p50} / ${p.ackLatencyMs.p99}`,
        errs(p),
        `${p.serverProc.cpuPct}%${p.serverProc.sysPct !== undefined ? ` (${p.serverProc.sysPct}%)` : ''}`,
        fmt(p.serverProc.cpuUsPerUpdate),
        `${fmt(p.serverProc.rssMbMax, 0)} MB`,
        ...(anyHelpers ? [p.helpers ? `${p.helpers.cpuPct}%` : ''] : []),
        `${p.client?.cpuPct ?? '?'}%`,
        perProcess(p),
        `${p.machine.otherProcessesPct}%`,
      ]),
    ),
    '',
    `CPU columns are in % of one core (the machine has ${info.cpus}). "server CPU µs/update" is the server's CPU time per accepted update; at low load it is dominated by fixed costs (timers, pings). "client CPU" is all client processes and the parent together; a client process near 100% means the load generator, not the server, set the pace.`,
    '',
    `Other processes: ${fmt(othersMean)}% of a core on average over the phases${extra.others ? `; the busiest over the whole run: ${othersMarkdown(extra.others)}` : ''}.`,
    '',
    '**Ratios**',
    '',
    table(
      ['ratio', 'value'],
      Object.entries(ratios)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [RATIO_LABELS[k] ?? k, fmt(v as number, 3)]),
    ),
    '',
    '**Goals**',
    '',
    table(
      ['goal', 'value', 'wanted', 'met'],
      targets.map((t) => [
        t.name,
        t.value === undefined ? 'n/a' : fmt(t.value, 3),
        t.target,
        t.met === undefined ? 'n/a' : t.met ? '✓' : '✗',
      ]),
    ),
    '',
    ...(checks.length
      ? [
          '**Is the load generator the bottleneck?** (saturation phases)',
          '',
          table(
            [
              'phase',
              'busiest client process',
              'clients and parent together',
              'machine busy',
              'load generator not the bottleneck',
            ],
            checks.map((c) => [
              c.phase,
              `${c.busiestClientPct}%`,
              `${c.clientsPct}%${c.clientCores !== null ? ` of ${c.clientCores * 100}% (pinned)` : ''}`,
              `${c.machineBusyPct}% of ${info.cpus * 100}%`,
              c.ok ? '✓' : `✗ ${c.why}`,
            ]),
          ),
          '',
        ]
      : []),
    ...(notes.length ? ['**Notes**', '', ...notes.map((n) => `- ${n}`), ''] : []),
    ...(profile ? ['## Where the hub spends its time', '', profileMarkdown(profile, 20)] : []),
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:location failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
