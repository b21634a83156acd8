// The client side of the location benchmark: one socket.io-client socket per watch and per
// guardian (websocket transport), the same code against the hub and against the relay. Watches
// report fixes open-loop (R per second each) or closed-loop (a fixed number in flight each);
// guardians time each `location` event they receive against the moment its report was sent.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/contract/events.js';
import type { Fix, LocationEvent } from '../../src/contract/models.js';
import { cpus } from 'node:os';
import { type MachineReading, type ProcReading, cpuPct, machinePct, readMachine, readProc, readSelf, sysPct } from './proc.js';
import type { FamilySpec } from './setup.js';
import { pool } from './setup.js';
import { Samples, type Summary, round } from './stats.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Target {
  kind: 'hub' | 'relay';
  url: string;
  pid: number;
}

interface Pending {
  sentAt: number;
  left: number;
}

interface Watch {
  spec: FamilySpec;
  socket: Client;
  guardians: Client[];
  lat: number;
  lng: number;
  lastTs: number;
  nextDue: number;
  /** ts of a report in flight → when it was sent (performance.now()) and receipts still due. */
  pending: Map<number, Pending>;
}

/** Every socket of one target, connected. */
export class Fleet {
  readonly disconnects = { count: 0 };
  private closing = false;

  private constructor(
    readonly target: Target,
    readonly watches: Watch[],
    readonly byDevice: Map<string, Watch>,
    readonly connectSeconds: number,
  ) {}

  static async connect(target: Target, families: FamilySpec[], log: (s: string) => void): Promise<Fleet> {
    const t0 = performance.now();
    const byDevice = new Map<string, Watch>();
    let fleet: Fleet | undefined;
    const open = (token: string, query: Record<string, string>) =>
      new Promise<Client>((resolve, reject) => {
        const s: Client = io(target.url, {
          auth: { token },
          query,
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          timeout: 20_000,
        });
        s.once('connect', () => resolve(s));
        s.once('connect_error', (err: Error & { data?: unknown }) => {
          s.close();
          reject(new Error(`connect to ${target.kind} failed: ${err.message} ${JSON.stringify(err.data ?? '')}`));
        });
        s.on('disconnect', () => {
          if (fleet && !fleet.closing) fleet.disconnects.count++;
        });
      });
    const watches = await pool(families.length, 25, async (i) => {
      const f = families[i]!;
      const [socket, ...guardians] = await Promise.all([
        open(f.deviceToken, { role: 'watch', family: f.familyId, device: f.deviceId }),
        ...f.guardianTokens.map((t) => open(t, { role: 'guardian', family: f.familyId })),
      ]);
      // Spread around Paris, about 50 km across.
      const w: Watch = {
        spec: f,
        socket: socket!,
        guardians,
        lat: 48.6 + Math.random() * 0.5,
        lng: 2.0 + Math.random() * 0.7,
        lastTs: 0,
        nextDue: 0,
        pending: new Map(),
      };
      byDevice.set(f.deviceId, w);
      return w;
    });
    fleet = new Fleet(target, watches, byDevice, (performance.now() - t0) / 1000);
    log(
      `[${target.kind}] ${watches.length} watches and ${watches.reduce((n, w) => n + w.guardians.length, 0)} guardians connected in ${fleet.connectSeconds.toFixed(1)} s`,
    );
    return fleet;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.watches) {
      w.socket.disconnect();
      for (const g of w.guardians) g.disconnect();
    }
    // Let the server see the disconnects before the next phase.
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface PhaseOptions {
  name: string;
  /** open: each watch sends every 1/ratePerWatch s; closed: each keeps `window` reports in flight. */
  mode: 'open' | 'closed';
  ratePerWatch: number;
  window: number;
  warmupS: number;
  durationS: number;
  /** After the window: how long to wait for acks and receipts still due. */
  drainS: number;
  ackTimeoutMs: number;
}

export interface PhaseResult {
  name: string;
  server: 'hub' | 'relay';
  mode: 'open' | 'closed';
  ratePerWatch: number | null;
  window: number | null;
  watches: number;
  guardiansPerWatch: number;
  offeredUpdatesPerS: number | null;
  measuredS: number;
  sent: number;
  acked: number;
  /** Reports acked `ok` (accepted) per second, counted when the ack arrived in the window. */
  updatesPerS: number;
  deliveries: number;
  /** Guardian receipts per second. */
  deliveriesPerS: number;
  /** Receipts / (accepted reports × guardians). */
  deliveryRatio: number;
  /** `location` events the server sent back to the reporting watch itself, per second (not in deliveries). */
  echoesToWatchPerS: number;
  /** Report sent → guardian receipt. */
  latencyMs: Summary;
  /** Report sent → ack (the hub acks after the commit). */
  ackLatencyMs: Summary;
  errors: {
    ackErrors: Record<string, number>;
    ackTimeouts: number;
    unackedAtEnd: number;
    disconnects: number;
    /** Sends the client could not make on time (it fell more than 1 s behind): a client limit. */
    skippedSends: number;
  };
  /** cpuPct is user + system; sysPct the kernel's part of it (socket I/O, fsync). */
  serverProc: { cpuPct: number; sysPct: number; cpuUsPerUpdate: number; rssMbMax: number };
  client: { cpuPct: number; rssMb: number };
  /** The whole machine in the window, in % of one core (200% = both cores): what others took is busy − server − client. */
  machine: { busyPct: number; otherProcessesPct: number; stealPct: number };
  connectSeconds: number;
  /** performance.now() bounds of the measured window (for CPU profile windows). */
  measuredWindow: { from: number; to: number };
}

export async function runPhase(fleet: Fleet, o: PhaseOptions, log: (s: string) => void): Promise<PhaseResult> {
  const { watches, byDevice, target } = fleet;
  const guardiansPerWatch = watches[0]?.guardians.length ?? 0;
  const latency = new Samples();
  const ackLatency = new Samples();
  const ackErrors: Record<string, number> = {};
  let measuring = false;
  let stage: 'warmup' | 'measuring' | 'drain' = 'warmup';
  let sending = true;
  let sent = 0;
  let acked = 0;
  let deliveries = 0;
  let ackTimeouts = 0;
  let skipped = 0;
  let inFlight = 0;
  // Per-second counters for the progress line (warmup included).
  let secSent = 0;
  let secAcked = 0;
  let secDeliveries = 0;
  const secLatency = new Samples();

  const onLocation = (e: LocationEvent) => {
    const now = performance.now();
    const w = byDevice.get(e.deviceId);
    const p = w?.pending.get(e.ts);
    if (!w || !p) return;
    if (--p.left <= 0) w.pending.delete(e.ts);
    secDeliveries++;
    secLatency.push(now - p.sentAt);
    if (measuring) {
      deliveries++;
      latency.push(now - p.sentAt);
    }
  };
  // A server may also send the event back to the reporting watch: counted, not timed.
  let echoes = 0;
  const onEcho = () => {
    if (measuring) echoes++;
  };
  for (const w of watches) {
    for (const g of w.guardians) g.on('location', onLocation);
    w.socket.on('location', onEcho);
  }

  const send = (w: Watch): void => {
    const ts = Math.max(Date.now(), w.lastTs + 1);
    w.lastTs = ts;
    w.lat += (Math.random() - 0.5) * 2e-4;
    w.lng += (Math.random() - 0.5) * 2e-4;
    const fix = { ts, lat: round(w.lat, 6), lng: round(w.lng, 6), acc: 8, battery: 80, source: 'gps' } satisfies Fix;
    const sentAt = performance.now();
    w.pending.set(ts, { sentAt, left: guardiansPerWatch });
    inFlight++;
    secSent++;
    if (measuring) sent++;
    w.socket.timeout(o.ackTimeoutMs).emit('location:report', fix, (err, res) => {
      inFlight--;
      const now = performance.now();
      let ok = false;
      if (err) {
        ackTimeouts++;
      } else if (res.ok && res.accepted === 1) {
        ok = true;
        secAcked++;
        if (measuring) {
          acked++;
          ackLatency.push(now - sentAt);
        }
      } else {
        const code = res.ok ? 'NOT_ACCEPTED' : res.error.code;
        ackErrors[code] = (ackErrors[code] ?? 0) + 1;
      }
      if (!ok) w.pending.delete(ts);
      if (o.mode === 'closed' && sending) {
        if (ok) send(w);
        else setTimeout(() => sending && send(w), 100);
      }
    });
  };

  const start = performance.now();
  let scheduler: NodeJS.Timeout | undefined;
  if (o.mode === 'open') {
    const interval = 1000 / o.ratePerWatch;
    for (const w of watches) w.nextDue = start + Math.random() * interval;
    scheduler = setInterval(() => {
      const now = performance.now();
      for (const w of watches) {
        if (now - w.nextDue > 1000) {
          skipped += Math.floor((now - w.nextDue) / interval);
          w.nextDue = now;
        }
        while (w.nextDue <= now) {
          send(w);
          w.nextDue += interval;
        }
      }
    }, 2);
  } else {
    for (const w of watches) for (let i = 0; i < o.window; i++) send(w);
  }

  // Progress, once a second; resource readings at the window's edges.
  let lastSelf = readSelf();
  let lastServer = readProc(target.pid);
  let rssMax = lastServer?.rssMb ?? 0;
  let serverAtStart: ProcReading | undefined;
  let selfAtStart: ProcReading | undefined;
  let machineAtStart: MachineReading | undefined;
  let windowFrom = 0;
  const elapsed = () => (performance.now() - start) / 1000;
  const progress = setInterval(() => {
    const self = readSelf();
    const server = readProc(target.pid);
    if (server) rssMax = Math.max(rssMax, server.rssMb);
    const l = secLatency.summary();
    const offered = o.mode === 'open' ? `offered ${Math.round(o.ratePerWatch * watches.length)}/s` : `closed loop ×${o.window}`;
    log(
      `[${o.name}] ${elapsed().toFixed(0).padStart(3)} s${stage === 'measuring' ? '' : ` (${stage})`}  ${offered}  sent ${secSent}/s  acked ${secAcked}/s  deliv ${secDeliveries}/s` +
        `  e2e p50 ${l.p50.toFixed(1)} p99 ${l.p99.toFixed(1)} max ${l.max.toFixed(0)} ms  in flight ${inFlight}` +
        `  ${target.kind} cpu ${server && lastServer ? cpuPct(lastServer, server).toFixed(0) : '?'}% rss ${server?.rssMb.toFixed(0) ?? '?'} MB` +
        `  client cpu ${cpuPct(lastSelf, self).toFixed(0)}%`,
    );
    lastSelf = self;
    lastServer = server;
    secSent = secAcked = secDeliveries = 0;
    secLatency.reset();
  }, 1000);

  await sleep(o.warmupS * 1000);
  serverAtStart = readProc(target.pid);
  selfAtStart = readSelf();
  machineAtStart = readMachine();
  windowFrom = performance.now();
  measuring = true;
  stage = 'measuring';
  await sleep(o.durationS * 1000);
  measuring = false;
  stage = 'drain';
  const windowTo = performance.now();
  const serverAtEnd = readProc(target.pid);
  const selfAtEnd = readSelf();
  const machineAtEnd = readMachine();
  sending = false;
  clearInterval(scheduler);
  const drainUntil = performance.now() + o.drainS * 1000;
  while (inFlight > 0 && performance.now() < drainUntil) await sleep(50);
  await sleep(200);
  clearInterval(progress);
  for (const w of watches) {
    for (const g of w.guardians) g.off('location', onLocation);
    w.socket.off('location', onEcho);
    w.pending.clear();
  }

  const measuredS = (windowTo - windowFrom) / 1000;
  const updatesPerS = acked / measuredS;
  const serverCpu = serverAtStart && serverAtEnd ? cpuPct(serverAtStart, serverAtEnd) : NaN;
  const clientCpu = cpuPct(selfAtStart, selfAtEnd);
  const machine =
    machineAtStart && machineAtEnd ? machinePct(machineAtStart, machineAtEnd, cpus().length) : { busyPct: NaN, stealPct: NaN };
  return {
    name: o.name,
    server: target.kind,
    mode: o.mode,
    ratePerWatch: o.mode === 'open' ? o.ratePerWatch : null,
    window: o.mode === 'closed' ? o.window : null,
    watches: watches.length,
    guardiansPerWatch,
    offeredUpdatesPerS: o.mode === 'open' ? round(o.ratePerWatch * watches.length, 1) : null,
    measuredS: round(measuredS, 2),
    sent,
    acked,
    updatesPerS: round(updatesPerS, 1),
    deliveries,
    deliveriesPerS: round(deliveries / measuredS, 1),
    deliveryRatio: acked > 0 ? round(deliveries / (acked * guardiansPerWatch), 4) : 0,
    echoesToWatchPerS: round(echoes / measuredS, 1),
    latencyMs: latency.summary(),
    ackLatencyMs: ackLatency.summary(),
    errors: { ackErrors, ackTimeouts, unackedAtEnd: inFlight, disconnects: fleet.disconnects.count, skippedSends: skipped },
    serverProc: {
      cpuPct: round(serverCpu, 1),
      sysPct: round(serverAtStart && serverAtEnd ? sysPct(serverAtStart, serverAtEnd) : NaN, 1),
      cpuUsPerUpdate: updatesPerS > 0 ? round(((serverCpu / 100) * 1e6) / updatesPerS, 1) : 0,
      rssMbMax: round(rssMax, 1),
    },
    client: { cpuPct: round(clientCpu, 1), rssMb: round(selfAtEnd.rssMb, 1) },
    machine: {
      busyPct: round(machine.busyPct, 1),
      otherProcessesPct: round(Math.max(0, machine.busyPct - serverCpu - clientCpu), 1),
      stealPct: round(machine.stealPct, 1),
    },
    connectSeconds: round(fleet.connectSeconds, 2),
    measuredWindow: { from: windowFrom, to: windowTo },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
