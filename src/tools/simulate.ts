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
//
// This file is the command line and picks the kind of watch; the watches themselves are in
// simulate-socketio.ts and simulate-tcp.ts, what they share in simulate-watch.ts.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { startSocketIoSimulator } from './simulate-socketio.js';
import { startTcpSimulator } from './simulate-tcp.js';
import type { Simulator, SimulatorOptions } from './simulate-watch.js';

export { amrNote, randomImei, type SimulatedWatch, type Simulator, type SimulatorOptions } from './simulate-watch.js';

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  return opts.tcp ? startTcpSimulator(opts, opts.tcp) : startSocketIoSimulator(opts);
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
