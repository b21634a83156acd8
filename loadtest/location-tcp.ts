// npm run bench:location -- --watches tcp [--count N] [--rate R] [--duration S] [--warmup S]
//
// The location benchmark with 3G-protocol watches over TCP, against Socket.IO watches in the same
// run: one real hub (node dist/src/main.js, SQLite) in a child process, N families of one watch
// and one guardian. Phase 1: each watch reports over Socket.IO (`location:report`, one fix every
// 1/R s); phase 2: the same watches report over TCP (UD frames, lib/watch-sim.ts, through the
// hub's own codec). Both phases count the `location` deliveries their guardians receive (a TCP
// position has no ack), and the hub's CPU, and report updates/s and server CPU per update, with
// the TCP figures as ratios to the Socket.IO ones.
//
// R is at most 1 per watch: the 3G protocol's timestamps have whole seconds, and a watch's fixes
// are keyed by their time. The load generator is this one process (it is small loads).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { type Args, num } from './lib/args.js';
import { type HubServer, startHub } from './lib/children.js';
import { readProc, type ProcReading } from './lib/proc.js';
import { fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';
import { type FamilySpec, setupFamilies } from './lib/setup.js';
import { WatchSim } from './lib/watch-sim.js';

const log = (s: string) => process.stderr.write(`[bench:location --watches tcp] ${s}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface PhaseResult {
  name: 'socket.io' | 'tcp';
  seconds: number;
  sent: number;
  deliveries: number;
  updatesPerS: number;
  hubCpuPct: number;
  /** Hub CPU microseconds per delivered update. */
  cpuUsPerUpdate: number;
  hubRssMb: number;
}

/** Hub CPU between two readings, and the deliveries in that window. */
function measure(name: PhaseResult['name'], a: ProcReading, b: ProcReading, sent: number, deliveries: number): PhaseResult {
  const seconds = (b.at - a.at) / 1000;
  const cpuS = b.cpuS - a.cpuS;
  return {
    name,
    seconds: Math.round(seconds * 10) / 10,
    sent,
    deliveries,
    updatesPerS: Math.round((deliveries / seconds) * 10) / 10,
    hubCpuPct: Math.round((cpuS / seconds) * 1000) / 10,
    cpuUsPerUpdate: deliveries > 0 ? Math.round((cpuS * 1e6) / deliveries) : NaN,
    hubRssMb: Math.round(b.rssMb),
  };
}

async function guardians(url: string, families: FamilySpec[], counter: { n: number; on: boolean }) {
  const sockets: Socket[] = [];
  for (const f of families) {
    const s = ioClient(url, { auth: { token: f.guardianTokens[0] }, transports: ['websocket'], reconnection: false });
    s.on('location', () => {
      if (counter.on) counter.n++;
    });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    sockets.push(s);
  }
  return sockets;
}

/** Open loop: every watch sends one fix per period, spread over the period. */
async function drive(
  count: number,
  periodMs: number,
  warmupMs: number,
  durationMs: number,
  send: (i: number, k: number) => Promise<void>,
  onMeasure: (start: boolean) => void,
): Promise<number> {
  let sent = 0;
  let stop = false;
  let measuring = false;
  const loops = Array.from({ length: count }, async (_, i) => {
    await sleep((periodMs * i) / count);
    for (let k = 0; !stop; k++) {
      const next = performance.now() + periodMs;
      await send(i, k).then(
        () => {
          if (measuring) sent++;
        },
        () => undefined,
      );
      await sleep(Math.max(0, next - performance.now()));
    }
  });
  await sleep(warmupMs);
  measuring = true;
  onMeasure(true);
  await sleep(durationMs);
  onMeasure(false);
  measuring = false;
  stop = true;
  await Promise.all(loops);
  return sent;
}

const positionOf = (i: number, k: number) => ({
  lat: 48.85 + (i % 100) * 0.001 + Math.sin(k / 10) * 0.0005,
  lng: 2.35 + Math.floor(i / 100) * 0.001 + Math.cos(k / 10) * 0.0005,
});

export async function runTcpComparison(args: Args): Promise<void> {
  const count = Math.round(num(args, 'count', 200, 1, 20_000));
  const rate = num(args, 'rate', 0.5, 0.01, 1);
  const durationS = num(args, 'duration', 20, 1, 3600);
  const warmupS = num(args, 'warmup', 5, 0, 600);
  const periodMs = 1000 / rate;
  const info = runInfo();
  const ts = timestamp();
  const work = mkdtempSync(join(tmpdir(), 'hub-bench-tcp-'));
  let hub: HubServer | undefined;
  const closers: (() => unknown)[] = [];
  try {
    hub = await startHub({ dataParent: work, env: { HUB_WATCH_MAX_CONNECTIONS_PER_IP: String(count + 10) } });
    const port = await watchPortOf(hub);
    log(`hub on ${hub.url}, watch port ${port}; setting up ${count} families`);
    const { families } = await setupFamilies(hub.url, count, 1, 32, log);
    const counter = { n: 0, on: false };
    const gs = await guardians(hub.url, families, counter);
    closers.push(() => gs.forEach((s) => s.disconnect()));

    const phase = async (name: PhaseResult['name'], send: (i: number, k: number) => Promise<void>): Promise<PhaseResult> => {
      log(`${name}: ${count} watches at ${rate} fix/s each, ${warmupS} s warm-up, ${durationS} s measured`);
      let a: ProcReading | undefined;
      let b: ProcReading | undefined;
      const sent = await drive(count, periodMs, warmupS * 1000, durationS * 1000, send, (start) => {
        if (start) {
          counter.n = 0;
          counter.on = true;
          a = readProc(hub!.pid);
        } else {
          counter.on = false;
          b = readProc(hub!.pid);
        }
      });
      const r = measure(name, a!, b!, sent, counter.n);
      log(`${name}: ${r.updatesPerS} updates/s, hub ${r.hubCpuPct}% of a core, ${r.cpuUsPerUpdate} µs CPU per update`);
      return r;
    };

    // Phase 1: Socket.IO watches.
    const watchSockets: Socket[] = [];
    for (const f of families) {
      const s = ioClient(hub.url, { auth: { token: f.deviceToken }, transports: ['websocket'], reconnection: false });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      watchSockets.push(s);
    }
    const sio = await phase('socket.io', async (i, k) => {
      const r = (await watchSockets[i]!.timeout(10_000).emitWithAck('location:report', {
        ts: Date.now(),
        ...positionOf(i, k),
        acc: 10,
        battery: 80,
        source: 'gps',
      })) as { ok: boolean };
      if (!r.ok) throw new Error('refused');
    });
    watchSockets.forEach((s) => s.disconnect());

    // Phase 2: the same watches over TCP.
    const sims: WatchSim[] = [];
    for (const f of families) {
      const sim = new WatchSim({ id: f.watchId!, autoEcho: false, maxLog: 10 });
      await sim.connect('127.0.0.1', port);
      await sim.init();
      sims.push(sim);
    }
    closers.push(() => sims.forEach((s) => void s.close()));
    const tcp = await phase('tcp', (i, k) =>
      sims[i]!.position({ valid: true, ...positionOf(i, k + 100_000), satellites: 9, battery: 80, ts: Date.now() }),
    );

    const ratios = {
      updatesPerS: Math.round((tcp.updatesPerS / sio.updatesPerS) * 100) / 100,
      cpuPerUpdate: Math.round((tcp.cpuUsPerUpdate / sio.cpuUsPerUpdate) * 100) / 100,
    };
    const cfg = { count, rate, durationS, warmupS, store: 'sqlite' };
    const md = [
      '# Location benchmark: 3G-protocol watches over TCP vs Socket.IO watches',
      '',
      runInfoMarkdown(info),
      '',
      `Load: ${count} watches, each in a family with one guardian socket; each watch reports one fix every ${fmt(periodMs / 1000, 2)} s (open loop), ${warmupS} s warm-up, ${durationS} s measured per phase; one hub on SQLite. Updates are the \`location\` deliveries the guardians received (a TCP position has no ack).`,
      '',
      table(
        ['phase', 'sent', 'delivered', 'updates/s', 'hub CPU (% of a core)', 'CPU per update (µs)', 'hub RSS (MB)'],
        [sio, tcp].map((p) => [
          p.name,
          p.sent,
          p.deliveries,
          fmt(p.updatesPerS),
          fmt(p.hubCpuPct),
          fmt(p.cpuUsPerUpdate, 0),
          p.hubRssMb,
        ]),
      ),
      '',
      `TCP / Socket.IO: updates/s ${fmt(ratios.updatesPerS, 2)}, server CPU per update ${fmt(ratios.cpuPerUpdate, 2)}.`,
      '',
    ].join('\n');
    const files = writeResults('location-tcp', ts, { config: cfg, info, phases: [sio, tcp], ratios }, md);
    process.stdout.write(`${md}\n`);
    log(`results: ${files.join(', ')}`);
  } finally {
    for (const c of closers) c();
    await hub?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The hub logs its watch port on its "hub listening" line (HUB_WATCH_TCP_PORT, ephemeral with PORT=0). */
async function watchPortOf(hub: HubServer): Promise<number> {
  // The log file is written as the lines come: give it a moment.
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const line of readFileSync(hub.logPath, 'utf8').split('\n')) {
      if (!line.includes('hub listening')) continue;
      const port = (JSON.parse(line) as { watchTcp?: number | null }).watchTcp;
      if (typeof port === 'number') return port;
    }
    await sleep(100);
  }
  throw new Error(`the hub logged no watch port (log: ${hub.logPath})`);
}
