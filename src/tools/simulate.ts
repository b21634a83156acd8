// `npm run simulate -- --watches 3`: simulated Socket.IO watches against a running hub, to try the
// parents' web app without a real watch. It provisions each watch through the HTTP API (with the
// hub's HUB_PROVISIONING_KEY), prints the binding codes to type (or scan) in the app, waits until
// each watch is bound and its location permission is on, then walks it along a loop with
// `location:report`, answers commands, raises one SOS (`alert:raise`) and now and then sends a
// short AMR voice note (`chat:send`), as kids' watches do.
//
// It lives in src/tools (compiled with the hub into dist/) rather than loadtest/ because it is a
// tool for people trying the app, not a benchmark: no results files, a readable log, and it uses
// only the public contract, so it also works against a remote hub. It needs socket.io-client, a
// development dependency: present in a checkout, absent from the production image.
import { randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Socket } from 'socket.io-client';
import { loadConfig } from '../config.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract/events.js';
import { randomImei as makeImei } from '../contract/imei.js';

type WatchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface SimulatorOptions {
  url: string;
  provisioningKey: string;
  watches: number;
  /** Time between two positions of a watch. */
  intervalMs: number;
  /** The middle of the walk. */
  lat: number;
  lng: number;
  /** Raise an SOS after this many positions (0: never). */
  sosAfter: number;
  /** Send a voice note every this many positions, once the family is known (0: never). */
  voiceEvery: number;
  /** 3G-protocol watches over TCP to this host and port (the hub's HUB_WATCH_TCP_PORT) instead of Socket.IO ones. */
  tcp?: { host: string; port: number } | undefined;
  log: (line: string) => void;
}

export interface SimulatedWatch {
  deviceId: string;
  bindingCode: string;
  imei: string;
  /** The ID a TCP watch writes in its frames (TCP mode only). */
  watchId?: string;
  /** Set once the watch learnt its family (from an alert's ack or a family message). */
  familyId: string | undefined;
  state: 'unbound' | 'waiting-consent' | 'walking';
  positions: number;
}

export interface Simulator {
  watches: SimulatedWatch[];
  stop(): void;
}

/** A random IMEI with a valid Luhn check digit (the hub checks it). */
export const randomImei = () => makeImei(() => randomInt(10));

/**
 * A small valid AMR-NB file: the "#!AMR\n" header and `seconds` × 50 frames of 12.2 kbit/s
 * (a one-byte header 0x3C and 31 bytes of low-energy noise each), what watches record.
 */
export function amrNote(seconds: number): Buffer {
  const frame = Buffer.alloc(32);
  frame[0] = 0x3c;
  let x = 0x2545f491;
  for (let i = 1; i < 32; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    frame[i] = (x >>> 16) & 0xff;
  }
  frame[31] = frame[31]! & 0xf0; // the 4 padding bits of a 244-bit frame
  return Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), ...Array.from({ length: Math.round(seconds * 50) }, () => frame)]);
}

async function provision(
  opts: SimulatorOptions,
  n: number,
  watchId?: string,
): Promise<{ deviceId: string; deviceToken: string; bindingCode: string; imei: string }> {
  const imei = randomImei();
  const res = await fetch(`${opts.url}/v1/devices/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-provisioning-key': opts.provisioningKey },
    body: JSON.stringify({ imei, model: `Simulated watch ${n}`, ...(watchId ? { watchId } : {}) }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    deviceId?: string;
    deviceToken?: string;
    bindingCode?: string;
    error?: { message?: string };
  };
  if (res.status !== 201 || !body.deviceId || !body.deviceToken || !body.bindingCode) {
    throw new Error(`provisioning failed (HTTP ${res.status}): ${body.error?.message ?? 'no answer'}`);
  }
  return { deviceId: body.deviceId, deviceToken: body.deviceToken, bindingCode: body.bindingCode, imei };
}

async function ask(
  socket: WatchSocket,
  event: string,
  payload: unknown,
): Promise<{ ok: boolean; error?: { code: string; message: string }; [k: string]: unknown }> {
  return (socket as unknown as Socket).timeout(10_000).emitWithAck(event, payload);
}

/** Where the `n`th watch of `count` is after `step` steps: its own loop (about 400 m across, 20 m a step). */
function walk(opts: SimulatorOptions, n: number, count: number, step: number): { lat: number; lng: number } {
  const angle0 = (2 * Math.PI * n) / count;
  const radiusDeg = 0.0018;
  const a = angle0 + step * 0.05;
  return {
    lat: opts.lat + radiusDeg * Math.sin(a) + 0.002 * Math.cos(angle0),
    lng: opts.lng + (radiusDeg * Math.cos(a)) / Math.cos((opts.lat * Math.PI) / 180) + 0.003 * Math.sin(angle0),
  };
}

/**
 * 3G-protocol watches over TCP (the protocol simulator of loadtest/lib/watch-sim.ts, which speaks
 * through the hub's own codec). The protocol has no answers to positions, so a watch cannot tell
 * whether it is bound: it walks from the start, and the hub keeps nothing until it is bound with
 * its location permission on. It echoes commands as real watches do.
 */
async function startTcpSimulator(opts: SimulatorOptions, tcp: { host: string; port: number }): Promise<Simulator> {
  const { WatchSim } = await import('../../loadtest/lib/watch-sim.js');
  const watches: SimulatedWatch[] = [];
  const timers: NodeJS.Timeout[] = [];
  const sims: InstanceType<typeof WatchSim>[] = [];
  for (let n = 1; n <= opts.watches; n++) {
    const watchId = String(randomInt(1_000_000_000, 9_999_999_999));
    const p = await provision(opts, n, watchId);
    const w: SimulatedWatch = {
      deviceId: p.deviceId,
      bindingCode: p.bindingCode,
      imei: p.imei,
      watchId,
      familyId: undefined,
      state: 'walking',
      positions: 0,
    };
    watches.push(w);
    const name = `watch ${n}`;
    const sim = new WatchSim({
      id: watchId,
      positionOnLocate: { valid: true, ...walk(opts, n, opts.watches, 0), satellites: 8 },
      onDownlink: (f) => {
        if (f.kind === 'text') opts.log(`${name}: message from the family: ${f.text}`);
        else if (f.kind === 'voice') opts.log(`${name}: voice from the family (${f.audio.length} bytes of AMR-NB)`);
        else if (f.kind !== 'reply') opts.log(`${name}: ${f.type} from the hub (echoed)`);
      },
    });
    sims.push(sim);
    await sim.connect(tcp.host, tcp.port);
    await sim.init();
    let battery = 95 - n;
    const step = async (): Promise<void> => {
      if (!sim.connected) return;
      const at = walk(opts, n, opts.watches, w.positions);
      if (w.positions % 20 === 19) battery = Math.max(5, battery - 1);
      if (w.positions % 5 === 0) await sim.heartbeat(battery);
      await sim.position({ valid: true, ...at, satellites: 6 + randomInt(5), battery });
      w.positions++;
      if (opts.sosAfter > 0 && w.positions === opts.sosAfter) {
        await sim.alarm('sos', { valid: true, ...at, satellites: 8, battery });
        opts.log(`${name}: SOS (AL frame) sent`);
      }
      if (opts.voiceEvery > 0 && w.positions % opts.voiceEvery === 0) {
        await sim.voice(amrNote(2));
        opts.log(`${name}: voice note (TK frame) sent`);
      }
    };
    timers.push(setInterval(() => void step().catch((err: unknown) => opts.log(`${name}: ${String(err)}`)), opts.intervalMs));
    void step().catch(() => undefined);
  }
  return {
    watches,
    stop() {
      timers.forEach(clearInterval);
      sims.forEach((s) => void s.close());
    },
  };
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (opts.tcp) return startTcpSimulator(opts, opts.tcp);
  let io: typeof import('socket.io-client').io;
  try {
    ({ io } = await import('socket.io-client'));
  } catch {
    throw new Error('socket.io-client is not installed (it is a development dependency): run `npm install` in a checkout');
  }
  const watches: SimulatedWatch[] = [];
  const timers: NodeJS.Timeout[] = [];
  const sockets: WatchSocket[] = [];

  for (let n = 1; n <= opts.watches; n++) {
    const p = await provision(opts, n);
    const w: SimulatedWatch = {
      deviceId: p.deviceId,
      bindingCode: p.bindingCode,
      imei: p.imei,
      familyId: undefined,
      state: 'unbound',
      positions: 0,
    };
    watches.push(w);
    const socket: WatchSocket = io(opts.url, { auth: { token: p.deviceToken }, transports: ['websocket'] });
    sockets.push(socket);
    const name = `watch ${n}`;
    socket.on('connect_error', (err) => opts.log(`${name}: cannot connect: ${err.message}`));
    socket.on('chat:message', ({ message }) => {
      w.familyId ??= message.conversationId;
      if (message.sender.kind === 'user')
        opts.log(`${name}: message from the family (${message.kind}${message.text ? `: ${message.text}` : ''})`);
    });
    socket.on('binding:code', (e) => {
      w.state = 'unbound';
      w.familyId = undefined;
      opts.log(`${name}: unbound; new binding code ${e.bindingCode}`);
    });
    socket.on('command', (c) => {
      // A camera-less simulator refuses photos; everything else is "done".
      const status = c.type === 'photo' ? 'rejected' : 'done';
      opts.log(`${name}: command ${c.type} → ${status}`);
      void ask(socket, 'command:result', {
        id: c.id,
        status,
        result: status === 'done' ? { applied: true } : { reason: 'the simulator has no camera' },
      });
      if (c.type === 'locate') void step();
    });
    socket.on('call:ring', (e) => {
      opts.log(`${name}: a call rings; the simulator cannot take calls and declines`);
      void ask(socket, 'call:decline', { callId: e.callId });
    });

    // Each watch walks its own loop (about 400 m across, 20 m a step) around the starting point.
    const angle0 = (2 * Math.PI * n) / opts.watches;
    const radiusDeg = 0.0018;
    let battery = 95 - n;
    const step = async (): Promise<void> => {
      if (!socket.connected) return;
      const a = angle0 + w.positions * 0.05;
      const lat = opts.lat + radiusDeg * Math.sin(a) + 0.002 * Math.cos(angle0);
      const lng = opts.lng + (radiusDeg * Math.cos(a)) / Math.cos((opts.lat * Math.PI) / 180) + 0.003 * Math.sin(angle0);
      if (w.positions % 20 === 19) battery = Math.max(5, battery - 1);
      const r = await ask(socket, 'location:report', {
        ts: Date.now(),
        lat,
        lng,
        acc: 8 + randomInt(20),
        battery,
        source: 'gps',
      });
      const code = r.ok ? undefined : r.error?.code;
      const next = r.ok
        ? 'walking'
        : code === 'CONSENT_REQUIRED'
          ? 'waiting-consent'
          : code === 'FORBIDDEN'
            ? 'unbound'
            : w.state;
      if (next !== w.state) {
        w.state = next;
        opts.log(
          `${name}: ${
            next === 'walking'
              ? 'bound, location on: walking'
              : next === 'waiting-consent'
                ? 'bound; waiting for its location permission (watch settings in the app)'
                : 'not bound to a family'
          }`,
        );
      }
      if (!r.ok) return;
      w.positions++;
      if (opts.sosAfter > 0 && w.positions === opts.sosAfter) {
        const sos = await ask(socket, 'alert:raise', { type: 'sos', ts: Date.now(), lat, lng });
        // The alert's ack names the family: the one way a watch learns its family id.
        const alert = sos.alert as { familyId?: string } | undefined;
        if (alert?.familyId) w.familyId = alert.familyId;
        opts.log(`${name}: SOS raised${sos.ok ? '' : ` (refused: ${sos.error?.message})`}`);
      }
      if (opts.voiceEvery > 0 && w.familyId && w.positions % opts.voiceEvery === 0) {
        const v = await ask(socket, 'chat:send', {
          conversationId: w.familyId,
          clientMsgId: `sim-${w.deviceId}-${w.positions}`,
          kind: 'voice',
          media: { data: amrNote(2), mime: 'audio/amr' },
        });
        opts.log(`${name}: voice note ${v.ok ? 'sent' : `not sent (${v.error?.message})`}`);
      }
    };
    timers.push(setInterval(() => void step().catch((err: unknown) => opts.log(`${name}: ${String(err)}`)), opts.intervalMs));
    socket.on('connect', () => void step().catch(() => undefined));
  }
  return {
    watches,
    stop() {
      timers.forEach(clearInterval);
      sockets.forEach((s) => s.disconnect());
    },
  };
}

const USAGE = `Usage: npm run simulate -- [--watches N] [--url URL] [--interval-ms MS] [--lat LAT --lng LNG] [--sos-after N] [--voice-every N] [--tcp]
  Provisions N simulated watches (default 3) on a running hub, prints their binding codes, and
  walks them once they are bound and their location permission is on.
  Needs HUB_PROVISIONING_KEY (the hub's provisioning key) in the environment.
  --url          the hub (default http://127.0.0.1:$PORT, PORT defaulting to 3000)
  --interval-ms  time between positions (default 5000)
  --sos-after    raise an SOS after this many positions of each watch (default 12; 0: never)
  --voice-every  a voice note every this many positions, after the SOS (default 20; 0: never)
  --tcp          simulated 3G-protocol watches over TCP (positions, heartbeats, an SOS alarm, TK
                 voice notes, command echoes) instead of Socket.IO ones
  --tcp-port     the hub's watch port (default HUB_WATCH_TCP_PORT, 5093); the host is --url's`;

/** The command line; returns the exit code (0 runs until interrupted). */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: { log: (s: string) => void; error: (s: string) => void },
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        watches: { type: 'string', default: '3' },
        url: { type: 'string' },
        'interval-ms': { type: 'string', default: '5000' },
        lat: { type: 'string', default: '48.8566' },
        lng: { type: 'string', default: '2.3522' },
        'sos-after': { type: 'string', default: '12' },
        'voice-every': { type: 'string', default: '20' },
        tcp: { type: 'boolean', default: false },
        'tcp-port': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    out.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out.log(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    out.error((err as Error).message);
    return 2;
  }
  if (!config.provisioningKey) {
    out.error(
      'HUB_PROVISIONING_KEY is not set. The simulator provisions watches like a watch maker does, with the hub’s provisioning key:\n' +
        '  HUB_PROVISIONING_KEY=<the key the hub runs with> npm run simulate -- --watches 3',
    );
    return 2;
  }
  const num = (name: keyof typeof values, min: number, max: number): number => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${String(name)} must be a number from ${min} to ${max}`);
    return v;
  };
  let opts: SimulatorOptions;
  try {
    const url = (values.url ?? `http://127.0.0.1:${config.port || 3000}`).replace(/\/$/, '');
    const tcpPort = values['tcp-port'] !== undefined ? Math.round(num('tcp-port', 1, 65535)) : config.watch.tcpPort;
    if (values.tcp && tcpPort === 0)
      throw new Error('--tcp: the hub’s watch port is off (HUB_WATCH_TCP_PORT=0); give --tcp-port');
    opts = {
      url,
      tcp: values.tcp ? { host: new URL(url).hostname, port: tcpPort } : undefined,
      provisioningKey: config.provisioningKey,
      watches: Math.round(num('watches', 1, 50)),
      intervalMs: num('interval-ms', 200, 3_600_000),
      lat: num('lat', -85, 85),
      lng: num('lng', -180, 180),
      sosAfter: Math.round(num('sos-after', 0, 1e6)),
      voiceEvery: Math.round(num('voice-every', 0, 1e6)),
      log: (line) => out.log(`${new Date().toLocaleTimeString()} ${line}`),
    };
  } catch (err) {
    out.error((err as Error).message);
    return 2;
  }
  let sim: Simulator;
  try {
    sim = await startSimulator(opts);
  } catch (err) {
    out.error(`${(err as Error).message} (hub: ${opts.url})`);
    return 1;
  }
  out.log(`\n${sim.watches.length} simulated watches on ${opts.url}. In the web app: Family → Add a watch, and type a code:\n`);
  sim.watches.forEach((w, i) =>
    out.log(
      `  watch ${i + 1}   binding code ${w.bindingCode}   (IMEI ${w.imei}${w.watchId ? `, TCP watch ID ${w.watchId}` : ''})`,
    ),
  );
  out.log('\nThen turn on each watch’s Location permission (and Microphone for voice notes). Ctrl-C stops.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  sim.stop();
  return 0;
}

// Run as a program (not when a test imports it).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env, console).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
