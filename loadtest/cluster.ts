// npm run bench:cluster -- [--watches N] [--guardians G] [--window W] [--duration S] [--warmup S]
//
// One hub node against a two-node cluster over Redis, under the same client load, in one run
// with one fresh PostgreSQL database and an emptied Redis database (redis://127.0.0.1:6379/9,
// FLUSHDB before each cluster phase):
//   1. single node: one hub with PostgreSQL, no Redis; watches and guardians on it;
//   2. cluster classic: two hubs with REDIS_URL (HUB_REDIS_SHARDED=false); watches on node 1,
//      guardians on node 2, so every delivery crosses nodes through Redis pub/sub;
//   3. cluster sharded: the same with HUB_REDIS_SHARDED=true (SPUBLISH/SSUBSCRIBE).
// Each phase: closed loop, --window reports in flight per watch (saturation). Reports updates/s
// acked, (cross-node) deliveries/s, e2e latency, errors, CPU of each node, cluster/single ratios.
import { loadavg } from 'node:os';
import { createClient } from 'redis';
import { type Args, num, parseArgs } from './lib/args.js';
import { type HubServer, startHub } from './lib/children.js';
import { Fleet, type PhaseResult, runPhase } from './lib/load.js';
import { type FreshPg, freshPg, pgSettings } from './lib/pg.js';
import { fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';
import { setupFamilies } from './lib/setup.js';
import { CpuSampler, GroupCpu, connectSplit } from './lib/split-fleet.js';
import { round } from './lib/stats.js';

const OPTIONS = ['watches', 'guardians', 'window', 'duration', 'warmup', 'concurrency', 'max-seconds', 'redis'];

interface Config {
  watches: number;
  guardians: number;
  window: number;
  durationS: number;
  warmupS: number;
  concurrency: number;
  maxSeconds: number;
  redisUrl: string;
}

function config(args: Args): Config {
  return {
    watches: num(args, 'watches', 100, 1, 2000),
    guardians: num(args, 'guardians', 4, 1, 20),
    window: num(args, 'window', 4, 1, 100),
    durationS: num(args, 'duration', 10, 1, 120),
    warmupS: num(args, 'warmup', 2, 0, 30),
    concurrency: num(args, 'concurrency', 8, 1, 64),
    maxSeconds: num(args, 'max-seconds', 240, 30, 1800),
    redisUrl: args.get('redis') ?? 'redis://127.0.0.1:6379/9',
  };
}

const log = (s: string) => process.stdout.write(`${s}\n`);

/** What every node shares: tokens made on one node are valid on all (test/helpers/cluster.ts). */
const SHARED_ENV = {
  HUB_JWT_SECRET: 'bench-cluster-secret-0123456789-0123456789',
  HUB_FIELD_KEY: Buffer.alloc(32, 7).toString('base64'),
  HUB_NODE_HEARTBEAT_MS: '1000',
  MEDIASOUP_WORKERS: '0',
  // Far above the load: 100 000 events per second per socket.
  HUB_SOCKET_RATE_POINTS: '100000',
  HUB_BUDGET_SCALE: '1000',
  // info: startHub finds the port in the "hub listening" line.
  HUB_LOG_LEVEL: 'info',
};

async function flushRedis(url: string): Promise<void> {
  const r = createClient({ url });
  await r.connect();
  await r.flushDb();
  await r.quit();
}

interface NodeCpu {
  node: string;
  pid: number;
  cpuPct: number;
  rssMbMax: number;
}

interface ClusterPhase extends PhaseResult {
  scenario: 'single' | 'classic' | 'sharded';
  nodes: NodeCpu[];
  crossNode: boolean;
  /** CPU of the Redis server and of all PostgreSQL processes on this machine, % of one core. */
  redisCpuPct: number;
  postgresCpuPct: number;
}

async function main(): Promise<void> {
  const cfg = config(parseArgs(process.argv.slice(2), OPTIONS));
  const info = runInfo();
  const ts = timestamp();
  const watchdog = setTimeout(() => {
    log(`aborting: the run took longer than --max-seconds ${cfg.maxSeconds}`);
    process.exit(3);
  }, cfg.maxSeconds * 1000);

  let pg: FreshPg | undefined;
  let hubs: HubServer[] = [];
  const stopAll = async () => {
    const how = await Promise.all(hubs.map((h) => h.stop()));
    hubs = [];
    return how;
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping the servers');
    void stopAll()
      .then(() => pg?.drop())
      .finally(() => process.exit(130));
  });

  const phases: ClusterPhase[] = [];
  const exits: Record<string, string[]> = {};
  let setup: { seconds: number; httpRequests: number } | undefined;
  let dbSettings: Record<string, string> = {};
  try {
    pg = await freshPg();
    dbSettings = { dialect: 'postgres', database: pg.name, ...(await pgSettings(pg.url)) };
    await flushRedis(cfg.redisUrl);
    log(`database ${pg.name}; redis ${cfg.redisUrl} emptied`);

    const phaseOpts = (name: string) => ({
      name,
      mode: 'closed' as const,
      ratePerWatch: 0,
      window: cfg.window,
      warmupS: cfg.warmupS,
      durationS: cfg.durationS,
      drainS: 5,
      ackTimeoutMs: 10_000,
    });
    const measure = async (scenario: ClusterPhase['scenario'], fleet: Fleet, nodes: HubServer[]) => {
      const sampler = new CpuSampler(nodes.map((n) => n.pid));
      const redisCpu = new GroupCpu(['redis-server']);
      const pgCpu = new GroupCpu(['postgres']);
      try {
        const r = await runPhase(fleet, phaseOpts(scenario), log);
        const { from, to } = r.measuredWindow;
        const nodeCpu = nodes.map((n, i) => ({
          node: nodes.length === 1 ? 'single' : `node ${i + 1}`,
          pid: n.pid,
          ...sampler.window(n.pid, from, to),
        }));
        const p: ClusterPhase = {
          ...r,
          scenario,
          nodes: nodeCpu,
          crossNode: nodes.length > 1,
          redisCpuPct: redisCpu.window(from, to),
          postgresCpuPct: pgCpu.window(from, to),
        };
        phases.push(p);
        log(
          `[${scenario}] ${fmt(r.updatesPerS)} updates/s, ${fmt(r.deliveriesPerS)} deliveries/s, e2e p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} ms, ` +
            `${nodeCpu.map((n) => `${n.node} cpu ${n.cpuPct}%`).join(', ')}, redis ${p.redisCpuPct}%, postgres ${p.postgresCpuPct}%, client cpu ${r.client.cpuPct}%`,
        );
      } finally {
        sampler.stop();
        redisCpu.stop();
        pgCpu.stop();
        await fleet.close();
      }
    };

    // 1. Single node (PostgreSQL, no Redis); the families are made here, in the shared database.
    log('starting the single node');
    const single = await startHub({ databaseUrl: pg.url, env: SHARED_ENV });
    hubs = [single];
    const s = await setupFamilies(single.url, cfg.watches, cfg.guardians, cfg.concurrency, log);
    setup = { seconds: round(s.seconds, 1), httpRequests: s.httpRequests };
    log(
      `setup: ${cfg.watches} families (${cfg.watches * cfg.guardians} guardians) with ${s.httpRequests} HTTP requests in ${s.seconds.toFixed(1)} s`,
    );
    await measure('single', await Fleet.connect({ kind: 'hub', url: single.url, pid: single.pid }, s.families, log), [single]);
    exits.single = await stopAll();

    // 2 and 3. Two nodes over Redis: watches on node 1, guardians on node 2.
    for (const scenario of ['classic', 'sharded'] as const) {
      await flushRedis(cfg.redisUrl);
      log(`starting two nodes (${scenario})`);
      const env = (id: string) => ({
        ...SHARED_ENV,
        HUB_NODE_ID: `${scenario}-${id}`,
        REDIS_URL: cfg.redisUrl,
        HUB_REDIS_SHARDED: String(scenario === 'sharded'),
      });
      hubs = await Promise.all([
        startHub({ databaseUrl: pg.url, env: env('1') }),
        startHub({ databaseUrl: pg.url, env: env('2') }),
      ]);
      const [n1, n2] = hubs as [HubServer, HubServer];
      log(`node 1 pid ${n1.pid} at ${n1.url}, node 2 pid ${n2.pid} at ${n2.url}`);
      await measure(scenario, await connectSplit({ kind: 'hub', url: n1.url, pid: n1.pid }, n2.url, s.families, log), [n1, n2]);
      exits[scenario] = await stopAll();
    }
  } finally {
    await stopAll().catch(() => {});
    await pg?.drop().catch((err: unknown) => log(`could not drop ${pg?.name}: ${String(err)}`));
    await flushRedis(cfg.redisUrl).catch(() => {});
    clearTimeout(watchdog);
  }

  const single = phases.find((p) => p.scenario === 'single');
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? round(a / b, 3) : undefined);
  const ratios = Object.fromEntries(
    (['classic', 'sharded'] as const).map((k) => {
      const c = phases.find((p) => p.scenario === k);
      return [
        k,
        {
          updates: ratio(c?.updatesPerS, single?.updatesPerS),
          deliveries: ratio(c?.deliveriesPerS, single?.deliveriesPerS),
          p50: ratio(c?.latencyMs.p50, single?.latencyMs.p50),
          p99: ratio(c?.latencyMs.p99, single?.latencyMs.p99),
          nodesCpu: ratio(
            c?.nodes.reduce((n, x) => n + x.cpuPct, 0),
            single?.nodes[0]?.cpuPct,
          ),
        },
      ];
    }),
  );
  const notes = [
    'This machine has 2 cores, shared by both hub nodes, Redis, PostgreSQL and the one client process: the cluster phases run two hubs on the same cores as the single node, so the cluster/single ratios show the cost of crossing nodes (Redis pub/sub, shared state), not a cluster’s scale-out.',
    'In the cluster phases every watch is on node 1 and its guardians on node 2: every delivery crosses nodes; runPhase’s “server CPU” there is node 1’s.',
  ];
  const result = {
    benchmark: 'cluster',
    ...info,
    loadavgAtEnd: loadavg().map((v) => round(v, 2)),
    config: { ...cfg, sharedEnv: SHARED_ENV, database: dbSettings },
    setup,
    phases,
    ratios,
    exits,
    notes,
  };
  const errs = (p: PhaseResult) => {
    const e = p.errors;
    const parts = Object.entries(e.ackErrors).map(([c, n]) => `${c} ${n}`);
    if (e.ackTimeouts) parts.push(`ack timeouts ${e.ackTimeouts}`);
    if (e.unackedAtEnd) parts.push(`unacked ${e.unackedAtEnd}`);
    if (e.disconnects) parts.push(`disconnects ${e.disconnects}`);
    return parts.length ? parts.join(', ') : '0';
  };
  const md = [
    '# Cluster benchmark: one node vs two nodes over Redis (classic and sharded)',
    '',
    runInfoMarkdown(info),
    '',
    `Load: ${cfg.watches} watches × ${cfg.guardians} guardians (${cfg.watches * (cfg.guardians + 1)} sockets, one client process), closed loop with ${cfg.window} reports in flight per watch; ${cfg.warmupS} s warm-up, ${cfg.durationS} s measured per phase. Store: PostgreSQL ${dbSettings.server_version ?? ''} (one fresh database for all phases); Redis ${cfg.redisUrl} flushed before each cluster phase. Hub env: ${Object.entries(
      SHARED_ENV,
    )
      .filter(([k]) => !/SECRET|KEY/.test(k))
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')}.` + (setup ? ` Setup over HTTP: ${setup.httpRequests} requests in ${setup.seconds} s.` : ''),
    '',
    table(
      [
        'phase',
        'updates/s (acked ok)',
        'deliveries/s',
        'cross-node',
        'delivered',
        'e2e p50 / p99 / max ms',
        'ack p50 / p99 ms',
        'errors',
        'node CPU',
        'node RSS max',
        'Redis CPU',
        'PostgreSQL CPU',
        'client CPU',
        'machine busy',
        'unaccounted CPU',
      ],
      phases.map((p) => [
        p.scenario,
        fmt(p.updatesPerS),
        fmt(p.deliveriesPerS),
        p.crossNode ? 'all' : 'none',
        `${fmt(p.deliveryRatio * 100, 2)}%`,
        `${p.latencyMs.p50} / ${p.latencyMs.p99} / ${p.latencyMs.max}`,
        `${p.ackLatencyMs.p50} / ${p.ackLatencyMs.p99}`,
        errs(p),
        p.nodes.map((n) => `${n.node} ${n.cpuPct}%`).join(', '),
        p.nodes.map((n) => `${fmt(n.rssMbMax, 0)} MB`).join(', '),
        `${p.redisCpuPct}%`,
        `${p.postgresCpuPct}%`,
        `${p.client.cpuPct}%`,
        `${p.machine.busyPct}%`,
        `${round(p.machine.busyPct - p.nodes.reduce((n, x) => n + x.cpuPct, 0) - p.redisCpuPct - p.postgresCpuPct - p.client.cpuPct, 1)}%`,
      ]),
    ),
    '',
    'CPU in % of one core (the machine has 2, so "machine busy" tops out at 200%). Redis CPU is the redis-server process and PostgreSQL CPU all postgres processes, each including whatever else on this machine used them meanwhile. "unaccounted" = machine busy − nodes − Redis − PostgreSQL − client: other processes on this shared machine.',
    '',
    '**Cluster / single**',
    '',
    table(
      ['ratio', 'classic', 'sharded'],
      (['updates', 'deliveries', 'p50', 'p99', 'nodesCpu'] as const).map((k) => [
        { updates: 'updates/s', deliveries: 'deliveries/s', p50: 'e2e p50', p99: 'e2e p99', nodesCpu: 'CPU of the nodes (sum) ' }[
          k
        ],
        ratios.classic?.[k] === undefined ? 'n/a' : fmt(ratios.classic[k]!, 3),
        ratios.sharded?.[k] === undefined ? 'n/a' : fmt(ratios.sharded[k]!, 3),
      ]),
    ),
    '',
    '**Notes**',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  for (const p of writeResults('cluster', ts, result, md)) log(`wrote ${p}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:cluster failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
