// One client process of the load generator (started by client-pool.ts, commands in
// client-protocol.ts). It holds whole families: each watch's socket and its guardians' sockets,
// over socket.io-client (websocket transport; the hub and the relay) or mqtt (QoS 1, the broker
// baseline). In a phase each watch reports fixes open loop (R per second) or closed loop (a fixed
// number in flight); guardians time each delivery from the moment its report was sent. Counts
// and latency histograms go back to the parent, which merges those of all clients.
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/contract/events.js';
import type { Fix, LocationEvent } from '../../src/contract/models.js';
import type {
  Command,
  ConnSpec,
  ConnectCommand,
  ConnectResult,
  FamilyConn,
  MeasureResult,
  PhaseStartCommand,
  Reply,
  Request,
  StopResult,
  TickResult,
} from './client-protocol.js';
import { Histogram } from './histogram.js';
import { RawSocket } from './raw-sio.js';
import { pool } from './setup.js';

type SioClient = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What an ack said: accepted, timed out, or an error code. */
type Outcome = { ok: true } | { ok: false; code: string };

/** The fields of a fix report; over MQTT the watch publishes the hub's `location` event itself (same size as what apps get). */
type Report = Fix & { ts: number };

interface WatchLink {
  report(r: Report, timeoutMs: number, done: (o: Outcome) => void): void;
}

interface Fam {
  spec: FamilyConn;
  watch: WatchLink;
  /** Everything to close. */
  closers: (() => void)[];
  lat: number;
  lng: number;
  lastTs: number;
  nextDue: number;
  /** The access points at this family's home (for --fixes wifi), and how many fixes of the phase taught them. */
  aps: { mac: string; rssi: number }[];
  taught: number;
  /** ts of a report in flight → when it was sent and how many receipts are still due. */
  pending: Map<number, { sentAt: number; left: number }>;
}

const fams: Fam[] = [];
const byDevice = new Map<string, Fam>();
let closing = false;
let disconnects = 0;

/** The hub's H3 cells are 15 characters; the MQTT payload carries a fixed one of that size, as the relay does. */
const CELL = '891fb466257ffff';

// ---- deliveries and echoes, counted into the running phase ----

interface PhaseState {
  o: PhaseStartCommand;
  sending: boolean;
  measuring: boolean;
  windowFrom: number;
  sent: number;
  acked: number;
  deliveries: number;
  echoes: number;
  latency: Histogram;
  ackLatency: Histogram;
  ackErrors: Record<string, number>;
  ackTimeouts: number;
  skipped: number;
  inFlight: number;
  scheduler: NodeJS.Timeout | undefined;
  sec: { sent: number; acked: number; deliveries: number; latency: Histogram };
}

let phase: PhaseState | null = null;

function onDelivery(deviceId: string, ts: number): void {
  const now = performance.now();
  const f = byDevice.get(deviceId);
  const p = f?.pending.get(ts);
  if (!f || !p || !phase) return;
  if (--p.left <= 0) f.pending.delete(ts);
  const ms = now - p.sentAt;
  phase.sec.deliveries++;
  phase.sec.latency.recordMs(ms);
  if (phase.measuring) {
    phase.deliveries++;
    phase.latency.recordMs(ms);
  }
}

function onEcho(): void {
  if (phase?.measuring) phase.echoes++;
}

// ---- connecting ----

function openSio(url: string, spec: ConnSpec, timeoutMs: number): Promise<SioClient> {
  return new Promise<SioClient>((resolve, reject) => {
    const s: SioClient = io(url, {
      ...(spec.token ? { auth: { token: spec.token } } : {}),
      query: spec.query,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
      // Passed to the `ws` WebSocket (engine.io-client picks it): the source address.
      ...(spec.localAddress ? ({ localAddress: spec.localAddress } as object) : {}),
    });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err: Error & { data?: unknown }) => {
      s.close();
      reject(new Error(`${err.message} ${JSON.stringify(err.data ?? '')}`));
    });
    s.on('disconnect', () => {
      if (!closing) disconnects++;
    });
  });
}

async function connectSioFamily(url: string, spec: FamilyConn, timeoutMs: number): Promise<Fam> {
  const results = await Promise.allSettled([spec.watch, ...spec.guardians].map((c) => openSio(url, c, timeoutMs)));
  const sockets = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const s of sockets) s.close();
    throw failed.reason;
  }
  const [watch, ...guardians] = sockets as [SioClient, ...SioClient[]];
  for (const g of guardians) g.on('location', (e: LocationEvent) => onDelivery(e.deviceId, e.ts));
  watch.on('location', onEcho);
  return family(spec, {
    closers: sockets.map((s) => () => s.disconnect()),
    watch: {
      report(r, timeoutMs, done) {
        watch.timeout(timeoutMs).emit('location:report', r, (err, res) => {
          if (err) done({ ok: false, code: 'TIMEOUT' });
          else if (res.ok && res.accepted === 1) done({ ok: true });
          else done({ ok: false, code: res.ok ? 'NOT_ACCEPTED' : res.error.code });
        });
      },
    },
  });
}

async function connectRawFamily(url: string, spec: FamilyConn, timeoutMs: number): Promise<Fam> {
  const open = (c: ConnSpec) =>
    RawSocket.connect(url, {
      query: c.query,
      ...(c.token ? { auth: { token: c.token } } : {}),
      ...(c.localAddress ? { localAddress: c.localAddress } : {}),
      timeoutMs,
    });
  const results = await Promise.allSettled([spec.watch, ...spec.guardians].map(open));
  const sockets = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const s of sockets) s.close();
    throw failed.reason;
  }
  for (const s of sockets)
    s.onDisconnect(() => {
      if (!closing) disconnects++;
    });
  const [watch, ...guardians] = sockets as [RawSocket, ...RawSocket[]];
  for (const g of guardians)
    g.on('location', (e) => {
      const l = e as LocationEvent;
      onDelivery(l.deviceId, l.ts);
    });
  watch.on('location', onEcho);
  return family(spec, {
    closers: sockets.map((s) => () => s.close()),
    watch: {
      report(r, timeoutMs, done) {
        watch.emitWithAck('location:report', r, timeoutMs, (err, reply) => {
          const res = reply as { ok: boolean; accepted?: number; error?: { code: string } } | undefined;
          if (err || !res) done({ ok: false, code: 'TIMEOUT' });
          else if (res.ok && res.accepted === 1) done({ ok: true });
          else done({ ok: false, code: res.ok ? 'NOT_ACCEPTED' : (res.error?.code ?? 'ERROR') });
        });
      },
    },
  });
}

const topicOf = (familyId: string, deviceId: string) => `families/${familyId}/watches/${deviceId}/location`;

function openMqtt(url: string, clientId: string, timeoutMs: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqttConnect(url, {
      clientId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      keepalive: 60,
    });
    const fail = (err: Error) => {
      c.end(true);
      reject(err);
    };
    c.once('connect', () => {
      // As `ws` does for the socket.io clients: no Nagle on the client's side.
      (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      c.off('error', fail);
      c.on('error', () => undefined);
      c.on('close', () => {
        if (!closing) disconnects++;
      });
      resolve(c);
    });
    c.once('error', fail);
  });
}

let mqttSeq = 0;

async function connectMqttFamily(url: string, spec: FamilyConn, timeoutMs: number): Promise<Fam> {
  const tag = `${process.pid}-${++mqttSeq}`;
  const results = await Promise.allSettled([
    openMqtt(url, `w-${tag}`, timeoutMs),
    ...spec.guardians.map((_, i) => openMqtt(url, `g${i}-${tag}`, timeoutMs)),
  ]);
  const clients = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const c of clients) c.end(true);
    throw failed.reason;
  }
  const [watch, ...guardians] = clients as [MqttClient, ...MqttClient[]];
  // Publishing before the SUBACK would lose the first deliveries.
  const filter = `families/${spec.familyId}/watches/+/location`;
  await Promise.all(guardians.map((g) => g.subscribeAsync(filter, { qos: 1 })));
  for (const g of guardians) {
    g.on('message', (_topic, payload) => {
      const e = JSON.parse(payload.toString()) as { deviceId: string; ts: number };
      onDelivery(e.deviceId, e.ts);
    });
  }
  const topic = topicOf(spec.familyId, spec.deviceId);
  return family(spec, {
    closers: clients.map((c) => () => c.end(true)),
    watch: {
      report(r, timeoutMs, done) {
        const event = {
          deviceId: spec.deviceId,
          familyId: spec.familyId,
          ts: r.ts,
          lat: r.lat,
          lng: r.lng,
          acc: r.acc,
          battery: r.battery ?? null,
          source: r.source,
          cell: CELL,
        };
        let settled = false;
        const timer = setTimeout(() => {
          settled = true;
          done({ ok: false, code: 'TIMEOUT' });
        }, timeoutMs);
        // QoS 1: the callback runs on the broker's PUBACK.
        watch.publish(topic, JSON.stringify(event), { qos: 1 }, (err) => {
          if (settled) return;
          clearTimeout(timer);
          done(err ? { ok: false, code: `MQTT ${err.message}` } : { ok: true });
        });
      },
    },
  });
}

function family(spec: FamilyConn, links: { closers: (() => void)[]; watch: WatchLink }): Fam {
  // Spread around Paris, about 50 km across.
  return {
    spec,
    ...links,
    lat: 48.6 + Math.random() * 0.5,
    lng: 2.0 + Math.random() * 0.7,
    aps: homeAccessPoints(spec.deviceId),
    taught: 0,
    lastTs: 0,
    nextDue: 0,
    pending: new Map(),
  };
}

async function connect(c: ConnectCommand): Promise<ConnectResult> {
  closing = false;
  const t0 = performance.now();
  let failed = 0;
  let sockets = 0;
  let connected = 0;
  const errors: string[] = [];
  const perFamily = (f: FamilyConn) => 1 + f.guardians.length;
  // `concurrency` counts connections: open that many families' sockets at once.
  const first = c.families[0];
  const familiesAtOnce = Math.max(1, Math.floor(c.concurrency / (first ? perFamily(first) : 1)));
  await pool(c.families.length, familiesAtOnce, async (i) => {
    const spec = c.families[i]!;
    try {
      const f =
        c.protocol === 'mqtt'
          ? await connectMqttFamily(c.url, spec, c.timeoutMs)
          : c.protocol === 'socket.io-raw'
            ? await connectRawFamily(c.url, spec, c.timeoutMs)
            : await connectSioFamily(c.url, spec, c.timeoutMs);
      fams.push(f);
      byDevice.set(spec.deviceId, f);
      sockets += perFamily(spec);
      connected++;
    } catch (err) {
      failed += perFamily(spec);
      if (errors.length < 5) errors.push(String((err as Error).message ?? err));
      if (!c.tolerateFailures) throw new Error(`connect to ${c.url} failed: ${String((err as Error).message ?? err)}`);
    }
  });
  return { families: connected, sockets, failed, errors, seconds: (performance.now() - t0) / 1000 };
}

// ---- phases ----

const round = (v: number, d = 6) => Math.round(v * 10 ** d) / 10 ** d;

/** GPS fixes that hear the home access points before a watch reports Wi-Fi only (the learner needs two). */
const TEACHING_FIXES = 3;

/** Three access points per family, named from its watch's id (unicast, locally administered MACs). */
function homeAccessPoints(deviceId: string): { mac: string; rssi: number }[] {
  const hex = deviceId
    .replace(/[^0-9a-f]/gi, '')
    .padEnd(8, '0')
    .slice(0, 8)
    .toLowerCase();
  const octets = hex.match(/../g)!.join(':');
  return [-48, -61, -70].map((rssi, i) => ({ mac: `0a:${octets}:0${i + 1}`, rssi }));
}

/**
 * The next fix of a family: by GPS (a small random walk); with --fixes wifi, the first few also
 * hear the home access points, and after that the watch reports only those access points.
 */
function nextFix(f: Fam, ts: number, kind: PhaseStartCommand['fixes']): Report {
  if (kind === 'wifi' && f.taught >= TEACHING_FIXES) {
    // The signal varies from fix to fix, as it does indoors.
    return {
      ts,
      battery: 80,
      source: 'wifi',
      wifi: f.aps.map((ap) => ({ mac: ap.mac, rssi: ap.rssi - Math.round(Math.random() * 6) })),
    };
  }
  f.lat += (Math.random() - 0.5) * 2e-4;
  f.lng += (Math.random() - 0.5) * 2e-4;
  const fix: Report = { ts, lat: round(f.lat), lng: round(f.lng), acc: 8, battery: 80, source: 'gps' };
  if (kind === 'wifi') {
    f.taught++;
    fix.wifi = f.aps;
  }
  return fix;
}

function send(f: Fam): void {
  const p = phase;
  if (!p) return;
  const ts = Math.max(Date.now(), f.lastTs + 1);
  f.lastTs = ts;
  const fix = nextFix(f, ts, p.o.fixes);
  const sentAt = performance.now();
  f.pending.set(ts, { sentAt, left: f.spec.guardians.length });
  p.inFlight++;
  p.sec.sent++;
  if (p.measuring) p.sent++;
  f.watch.report(fix, p.o.ackTimeoutMs, (o) => {
    p.inFlight--;
    const now = performance.now();
    if (o.ok) {
      p.sec.acked++;
      if (p.measuring) {
        p.acked++;
        p.ackLatency.recordMs(now - sentAt);
      }
    } else {
      f.pending.delete(ts);
      if (o.code === 'TIMEOUT') p.ackTimeouts++;
      else p.ackErrors[o.code] = (p.ackErrors[o.code] ?? 0) + 1;
    }
    if (p.o.mode === 'closed' && p.sending && phase === p) {
      if (o.ok) send(f);
      else setTimeout(() => p.sending && phase === p && send(f), 100);
    }
  });
}

function startPhase(o: PhaseStartCommand): void {
  if (phase) throw new Error('a phase is running');
  const p: PhaseState = {
    o,
    sending: true,
    measuring: false,
    windowFrom: 0,
    sent: 0,
    acked: 0,
    deliveries: 0,
    echoes: 0,
    latency: new Histogram(),
    ackLatency: new Histogram(),
    ackErrors: {},
    ackTimeouts: 0,
    skipped: 0,
    inFlight: 0,
    scheduler: undefined,
    sec: { sent: 0, acked: 0, deliveries: 0, latency: new Histogram() },
  };
  phase = p;
  disconnects = 0;
  if (o.mode === 'open') {
    const interval = 1000 / o.ratePerWatch;
    const start = performance.now();
    for (const f of fams) f.nextDue = start + Math.random() * interval;
    p.scheduler = setInterval(() => {
      const now = performance.now();
      for (const f of fams) {
        if (now - f.nextDue > 1000) {
          // More than a second behind: this client cannot keep up; skip rather than burst.
          p.skipped += Math.floor((now - f.nextDue) / interval);
          f.nextDue = now;
        }
        while (f.nextDue <= now) {
          send(f);
          f.nextDue += interval;
        }
      }
    }, 2);
  } else {
    for (const f of fams) for (let i = 0; i < o.window; i++) send(f);
  }
}

function measure(on: boolean): { at: number } | MeasureResult {
  const p = phase;
  if (!p) throw new Error('no phase is running');
  if (on) {
    p.measuring = true;
    p.windowFrom = performance.now();
    return { at: p.windowFrom };
  }
  p.measuring = false;
  return {
    windowMs: performance.now() - p.windowFrom,
    sent: p.sent,
    acked: p.acked,
    deliveries: p.deliveries,
    echoes: p.echoes,
    latency: p.latency.toData(),
    ackLatency: p.ackLatency.toData(),
    ackErrors: p.ackErrors,
    ackTimeouts: p.ackTimeouts,
    skippedSends: p.skipped,
    disconnects,
    guardiansPerWatch: fams[0]?.spec.guardians.length ?? 0,
    watches: fams.length,
  };
}

function tick(): TickResult {
  const p = phase;
  if (!p) return { sent: 0, acked: 0, deliveries: 0, inFlight: 0, latency: new Histogram().toData() };
  const r = {
    sent: p.sec.sent,
    acked: p.sec.acked,
    deliveries: p.sec.deliveries,
    inFlight: p.inFlight,
    latency: p.sec.latency.toData(),
  };
  p.sec = { sent: 0, acked: 0, deliveries: 0, latency: new Histogram() };
  return r;
}

async function stopSending(drainMs: number): Promise<StopResult> {
  const p = phase;
  if (!p) return { unackedAtEnd: 0 };
  p.sending = false;
  clearInterval(p.scheduler);
  const until = performance.now() + drainMs;
  while (p.inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  for (const f of fams) f.pending.clear();
  phase = null;
  return { unackedAtEnd: p.inFlight };
}

function closeAll(): void {
  closing = true;
  for (const f of fams) for (const c of f.closers) c();
  fams.length = 0;
  byDevice.clear();
  if (phase) clearInterval(phase.scheduler);
  phase = null;
}

// ---- the command loop ----

async function handle(c: Command): Promise<unknown> {
  switch (c.type) {
    case 'connect':
      return connect(c);
    case 'phase-start':
      startPhase(c);
      return { at: performance.now() };
    case 'measure':
      return measure(c.on);
    case 'tick':
      return tick();
    case 'stop-sending':
      return stopSending(c.drainMs);
    case 'close':
      closeAll();
      // Let the servers see the disconnects before the next phase.
      await new Promise((r) => setTimeout(r, 500));
      return {};
    case 'exit':
      closeAll();
      setTimeout(() => process.exit(0), 200);
      return {};
  }
}

if (!process.send) {
  process.stderr.write('client-worker.js is started by the benchmark (client-pool.ts) with an IPC channel\n');
  process.exit(2);
}
process.on('message', (m: Request) => {
  handle(m).then(
    (result) => process.send?.({ id: m.id, ok: true, result } satisfies Reply),
    (err: unknown) =>
      process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
  );
});
// The parent gone (killed, crashed): stop too, the run is over.
process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});
