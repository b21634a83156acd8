// npm run bench:location -- [--rate R|max] [--watches N] [--duration S] [--db sqlite|postgres] …
//
// The real hub (node dist/src/main.js) and a bare `ws` relay, each in a child process, under the
// same client load in the same run: N watches in families of one watch and G guardians, each
// watch reporting one fix every 1/R s. Reports updates/s accepted, deliveries/s, end-to-end
// latency, errors, CPU and RSS of each server, and the hub/relay ratios.
//   --rate R    open loop at R fixes/s per watch (default 1): relay, then hub.
//   --rate max  saturation: each watch keeps --window reports in flight (closed loop), relay
//               then hub; then both open-loop at half the relay's saturation rate (p99 there).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Args, choice, flag, num, parseArgs } from './lib/args.js';
import { type HubServer, type Server, startHub, startRelay } from './lib/children.js';
import { type ProfileSummary, profileMarkdown, summarizeProfile } from './lib/cpuprofile.js';
import { Fleet, type PhaseOptions, type PhaseResult, type Target, runPhase } from './lib/load.js';
import { type FreshPg, freshPg, pgSettings } from './lib/pg.js';
import { RESULTS_DIR, fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';
import { setupFamilies } from './lib/setup.js';
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
  'concurrency',
  'window',
  'cpu-prof',
  'max-seconds',
  'ack-timeout',
  'hub-env',
];

interface Config {
  rate: number | 'max';
  watches: number;
  guardians: number;
  durationS: number;
  warmupS: number;
  db: 'sqlite' | 'postgres';
  servers: 'both' | 'hub' | 'relay';
  concurrency: number;
  window: number;
  cpuProf: boolean;
  maxSeconds: number;
  ackTimeoutMs: number;
  /** Extra hub configuration for experiments, e.g. HUB_FIX_BATCH_MAX_DELAY_MS=0 (--hub-env K=V,K2=V2). */
  hubEnv: Record<string, string>;
}

function config(args: Args): Config {
  const rateRaw = args.get('rate') ?? '1';
  return {
    rate: rateRaw === 'max' ? 'max' : num(args, 'rate', 1, 0.01, 1000),
    watches: num(args, 'watches', 200, 1, 5000),
    guardians: num(args, 'guardians', 4, 1, 20),
    durationS: num(args, 'duration', rateRaw === 'max' ? 15 : 20, 1, 600),
    warmupS: num(args, 'warmup', 2, 0, 60),
    db: choice(args, 'db', ['sqlite', 'postgres'], 'sqlite'),
    servers: choice(args, 'servers', ['both', 'hub', 'relay'], 'both'),
    concurrency: num(args, 'concurrency', 8, 1, 64),
    window: num(args, 'window', 4, 1, 100),
    cpuProf: flag(args, 'cpu-prof'),
    maxSeconds: num(args, 'max-seconds', 900, 30, 3600),
    ackTimeoutMs: num(args, 'ack-timeout', 10_000, 100, 60_000),
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

interface TargetCheck {
  name: string;
  value: number | undefined;
  target: string;
  met: boolean | undefined;
}

interface Ratios {
  throughput?: number;
  deliveries?: number;
  p99?: number;
  saturationThroughput?: number;
  halfLoadP99?: number;
  cpuPerUpdate?: number;
}

/** --render <results.json>: writes its .md again from the JSON (after a change to the report's text). */
function render(file: string): void {
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    config: Config;
    setup: { seconds: number; httpRequests: number } | undefined;
    phases: PhaseResult[];
    profile: ProfileSummary | null;
  } & ReturnType<typeof runInfo>;
  const { ratios, targets, notes } = analyze(r.config, r.phases);
  writeFileSync(file, `${JSON.stringify({ ...r, ratios, targets, notes }, null, 2)}\n`);
  const md = file.replace(/\.json$/, '.md');
  writeFileSync(md, markdown(r.config, r, r.setup, r.phases, ratios, targets, notes, r.profile ?? undefined));
  log(`wrote ${md}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), OPTIONS);
  const renderFile = args.get('render');
  if (renderFile) return render(renderFile);
  const cfg = config(args);
  const info = runInfo();
  const ts = timestamp();
  const experiment = Object.keys(cfg.hubEnv).length > 0;
  const base = `location${cfg.rate === 'max' ? '-max' : ''}${cfg.db === 'postgres' ? '-postgres' : ''}${experiment ? '-experiment' : ''}`;
  const watchdog = setTimeout(() => {
    log(`aborting: the run took longer than --max-seconds ${cfg.maxSeconds}`);
    process.exit(3);
  }, cfg.maxSeconds * 1000);

  const work = mkdtempSync(join(tmpdir(), 'hub-bench-run-'));
  const profDir = cfg.cpuProf ? join(RESULTS_DIR, 'profiles', `${base}-${ts}`) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  let pg: FreshPg | undefined;
  let hub: HubServer | undefined;
  let relay: Server | undefined;
  const cleanup = async () => {
    await Promise.allSettled([hub?.stop(), relay?.stop()]);
    await pg?.drop().catch((err: unknown) => log(`could not drop ${pg?.name}: ${String(err)}`));
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping the servers');
    void cleanup().finally(() => process.exit(130));
  });

  const phases: PhaseResult[] = [];
  let setup: { seconds: number; httpRequests: number } | undefined;
  let dbSettings: Record<string, string> = { dialect: cfg.db };
  let hubExit = '';
  let profile: ProfileSummary | undefined;
  try {
    if (cfg.db === 'postgres') {
      pg = await freshPg();
      dbSettings = { dialect: 'postgres', database: pg.name, ...(await pgSettings(pg.url)) };
    } else {
      dbSettings = { dialect: 'sqlite', journal_mode: 'WAL', synchronous: 'FULL' };
    }
    log(`starting the hub (${cfg.db}${cfg.cpuProf ? ', --cpu-prof' : ''})`);
    hub = await startHub({
      ...(pg ? { databaseUrl: pg.url } : {}),
      ...(profDir ? { cpuProfDir: profDir } : {}),
      env: cfg.hubEnv,
    });
    log(`hub pid ${hub.pid} at ${hub.url}; data in ${hub.dataDir}`);
    const s = await setupFamilies(hub.url, cfg.watches, cfg.guardians, cfg.concurrency, log);
    setup = { seconds: round(s.seconds, 1), httpRequests: s.httpRequests };
    log(
      `setup: ${cfg.watches} families (${cfg.watches * cfg.guardians} guardians) with ${s.httpRequests} HTTP requests in ${s.seconds.toFixed(1)} s`,
    );
    relay = await startRelay(work);
    log(`relay pid ${relay.pid} at ${relay.url}`);

    const targets: Record<'hub' | 'relay', Target> = {
      hub: { kind: 'hub', url: hub.url, pid: hub.pid },
      relay: { kind: 'relay', url: relay.url, pid: relay.pid },
    };
    const kinds = cfg.servers === 'both' ? (['relay', 'hub'] as const) : ([cfg.servers] as const);
    const phase = async (kind: 'hub' | 'relay', o: Omit<PhaseOptions, 'warmupS' | 'drainS' | 'ackTimeoutMs'>) => {
      const fleet = await Fleet.connect(targets[kind], s.families, log);
      try {
        const r = await runPhase(fleet, { ...o, warmupS: cfg.warmupS, drainS: 5, ackTimeoutMs: cfg.ackTimeoutMs }, log);
        phases.push(r);
        log(
          `[${o.name}] ${fmt(r.updatesPerS)} updates/s, ${fmt(r.deliveriesPerS)} deliveries/s, e2e p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms, ` +
            `${kind} cpu ${r.serverProc.cpuPct}%, client cpu ${r.client.cpuPct}%`,
        );
        return r;
      } finally {
        await fleet.close();
      }
    };

    if (cfg.rate !== 'max') {
      for (const k of kinds)
        await phase(k, { name: k, mode: 'open', ratePerWatch: cfg.rate, window: 1, durationS: cfg.durationS });
    } else {
      const sat: Partial<Record<'hub' | 'relay', PhaseResult>> = {};
      for (const k of kinds) {
        sat[k] = await phase(k, {
          name: `${k} saturation`,
          mode: 'closed',
          ratePerWatch: 0,
          window: cfg.window,
          durationS: cfg.durationS,
        });
      }
      // Half the relay's saturation rate (or the hub's, when only the hub runs).
      const ref = sat.relay ?? sat.hub!;
      const halfRate = ref.updatesPerS / 2 / cfg.watches;
      log(
        `half load: ${fmt(halfRate * cfg.watches)} updates/s (${fmt(halfRate, 2)} per watch), half the ${ref.server}'s saturation`,
      );
      for (const k of kinds) {
        await phase(k, { name: `${k} half load`, mode: 'open', ratePerWatch: halfRate, window: 1, durationS: cfg.durationS });
      }
    }
  } finally {
    relay && (await relay.stop());
    if (hub) {
      hubExit = await hub.stop();
      log(`hub exited (${hubExit})${hubExit === '0' ? '' : `; its log: ${hub.logPath}`}`);
    }
    await pg?.drop().catch((err: unknown) => log(`could not drop ${pg?.name}: ${String(err)}`));
    clearTimeout(watchdog);
  }

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

  const { ratios, targets, notes } = analyze(cfg, phases);

  const result = {
    benchmark: 'location',
    ...info,
    loadavgAtEnd: loadavg().map((v) => round(v, 2)),
    config: { ...cfg, database: dbSettings },
    setup,
    phases,
    ratios,
    targets,
    profile: profile ?? null,
    hubExit,
    notes,
  };
  const md = markdown(cfg, info, setup, phases, ratios, targets, notes, profile);
  for (const p of writeResults(base, ts, result, md)) log(`wrote ${p}`);
  rmSync(work, { recursive: true, force: true });
  if (hub) rmSync(hub.dataDir, { recursive: true, force: true });
}

/** Ratios, targets and notes from the phases of one run (also used by --render). */
function analyze(cfg: Pick<Config, 'rate'>, phases: PhaseResult[]): { ratios: Ratios; targets: TargetCheck[]; notes: string[] } {
  const by = (name: string) => phases.find((p) => p.name === name);
  const ratios: Ratios = {};
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? round(a / b, 3) : undefined);
  const notes: string[] = [];
  const targets: TargetCheck[] = [];
  if (cfg.rate !== 'max') {
    const h = by('hub');
    const r = by('relay');
    ratios.throughput = ratio(h?.updatesPerS, r?.updatesPerS);
    ratios.deliveries = ratio(h?.deliveriesPerS, r?.deliveriesPerS);
    ratios.p99 = ratio(h?.latencyMs.p99, r?.latencyMs.p99);
    ratios.cpuPerUpdate = ratio(h?.serverProc.cpuUsPerUpdate, r?.serverProc.cpuUsPerUpdate);
    targets.push({
      name: 'hub updates/s ≥ 0.85 × relay (at this offered load)',
      value: ratios.throughput,
      target: '≥ 0.85',
      met: ratios.throughput === undefined ? undefined : ratios.throughput >= 0.85,
    });
    notes.push(
      'At a fixed offered load both servers accept all of it when neither saturates, so the throughput ratio here is ~1 by construction; run `--rate max` for the saturation comparison.',
    );
  } else {
    const hs = by('hub saturation');
    const rs = by('relay saturation');
    const hh = by('hub half load');
    const rh = by('relay half load');
    ratios.saturationThroughput = ratio(hs?.updatesPerS, rs?.updatesPerS);
    ratios.halfLoadP99 = ratio(hh?.latencyMs.p99, rh?.latencyMs.p99);
    ratios.cpuPerUpdate = ratio(hs?.serverProc.cpuUsPerUpdate, rs?.serverProc.cpuUsPerUpdate);
    targets.push({
      name: 'hub saturation updates/s ≥ 0.85 × relay',
      value: ratios.saturationThroughput,
      target: '≥ 0.85',
      met: ratios.saturationThroughput === undefined ? undefined : ratios.saturationThroughput >= 0.85,
    });
    targets.push({
      name: 'hub p99 ≤ 2.5 × relay at half the relay’s saturation rate',
      value: ratios.halfLoadP99,
      target: '≤ 2.5',
      met: ratios.halfLoadP99 === undefined ? undefined : ratios.halfLoadP99 <= 2.5,
    });
    const busyClient = [rh, hh].filter((p): p is PhaseResult => p !== undefined && p.client.cpuPct > 75);
    if (busyClient.length) {
      notes.push(
        `In the half-load phases the load generator itself was busy (${busyClient.map((p) => `${p.client.cpuPct}% of a core in "${p.name}"`).join(', ')}): its own queueing adds to both p99s, the relay's most (its p99 at light load is about 1 ms), so the half-load p99 ratio understates the hub's extra latency. Compare with the p99 ratio of the default run.`,
      );
    }
    if (rs && rs.client.cpuPct > 85) {
      notes.push(
        `The relay's saturation run is client-bound: the load generator used ${rs.client.cpuPct}% of a core against the relay's ${rs.serverProc.cpuPct}% (one client process, 2 cores shared by clients and servers). The relay's true capacity is higher, so the measured saturation ratio flatters the hub; the server CPU per accepted update is the load-independent comparison (one core carries about 1,000,000 / (µs per update) updates/s).`,
      );
    }
  }
  const echoing = phases.find((p) => p.server === 'hub' && p.echoesToWatchPerS > 0);
  if (echoing) {
    notes.push(
      `The hub also sends each \`location\` event back to the reporting watch (${fmt(echoing.echoesToWatchPerS)}/s in "${echoing.name}"): one more send per update than the relay makes, not counted in deliveries.`,
    );
  }
  const busy = phases.filter((p) => p.machine.otherProcessesPct > 30);
  if (busy.length) {
    notes.push(
      `Other processes on this shared machine took CPU during ${busy.map((p) => `"${p.name}" (${p.machine.otherProcessesPct}% of a core)`).join(', ')}: those phases had less than the machine's 2 cores; compare ratios from phases with similar "other processes CPU".`,
    );
  }
  const hubPhases = phases.filter((p) => p.server === 'hub');
  if (hubPhases.some((p) => p.client.cpuPct > 85))
    notes.push('Some hub phases had the load generator above 85% of a core: the client may have limited them too.');

  return { ratios, targets, notes };
}

function markdown(
  cfg: Config,
  info: ReturnType<typeof runInfo>,
  setup: { seconds: number; httpRequests: number } | undefined,
  phases: PhaseResult[],
  ratios: Ratios,
  targets: TargetCheck[],
  notes: string[],
  profile: ProfileSummary | undefined,
): string {
  const load =
    cfg.rate === 'max'
      ? `saturation (closed loop, ${cfg.window} report${cfg.window > 1 ? 's' : ''} in flight per watch), then open loop at half the relay's saturation rate`
      : `open loop, ${cfg.rate} fix/s per watch (${fmt(cfg.rate * cfg.watches)} updates/s offered)`;
  const errs = (p: PhaseResult) => {
    const e = p.errors;
    const codes = Object.entries(e.ackErrors).map(([c, n]) => `${c} ${n}`);
    const parts = [...codes];
    if (e.ackTimeouts) parts.push(`ack timeouts ${e.ackTimeouts}`);
    if (e.unackedAtEnd) parts.push(`unacked ${e.unackedAtEnd}`);
    if (e.disconnects) parts.push(`disconnects ${e.disconnects}`);
    if (e.skippedSends) parts.push(`client skipped ${e.skippedSends}`);
    return parts.length ? parts.join(', ') : '0';
  };
  return [
    `# Location benchmark: hub vs bare relay${cfg.rate === 'max' ? ' (max throughput)' : ''}`,
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
    `Load: ${cfg.watches} watches, each in a family with ${cfg.guardians} guardians (${cfg.watches * (cfg.guardians + 1)} sockets, socket.io-client over websocket, one client process); ${load}; ${cfg.warmupS} s warm-up, ${cfg.durationS} s measured per phase. Hub store: ${cfg.db}.` +
      (setup ? ` Setup over HTTP: ${setup.httpRequests} requests in ${setup.seconds} s.` : ''),
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
        'client CPU',
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
        `${p.client.cpuPct}%`,
        `${p.machine.otherProcessesPct}%`,
      ]),
    ),
    '',
    'CPU columns are in % of one core (the machine has 2). "server CPU µs/update" is the server\'s CPU time per accepted update; at low load it is dominated by fixed costs (timers, pings).',
    '',
    '**Hub / relay**',
    '',
    table(
      ['ratio', 'value'],
      Object.entries(ratios)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [
          {
            throughput: 'updates/s',
            deliveries: 'deliveries/s',
            p99: 'e2e p99',
            saturationThroughput: 'saturation updates/s',
            halfLoadP99: 'e2e p99 at half the relay’s saturation rate',
            cpuPerUpdate: 'server CPU per update',
          }[k] ?? k,
          fmt(v as number, 3),
        ]),
    ),
    '',
    '**Targets**',
    '',
    table(
      ['target', 'value', 'wanted', 'met'],
      targets.map((t) => [
        t.name,
        t.value === undefined ? 'n/a' : fmt(t.value, 3),
        t.target,
        t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**',
      ]),
    ),
    '',
    ...(notes.length ? ['**Notes**', '', ...notes.map((n) => `- ${n}`), ''] : []),
    ...(profile ? ['## Where the hub spends its time', '', profileMarkdown(profile, 20)] : []),
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:location failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
