// npm run bench:validate -- [--rounds 15] [--iterations 20000]
//
// What the hub's boundary checks cost per `location:report`, against what any relay pays for the
// same packet, measured in this one process, interleaved round by round: parsing the packet's JSON
// (the bare relay's whole work on a report before it re-sends it). The hub's checks are the dispatcher's (payload size, the report's schema) and the
// per-fix checks (the fix schema, time bounds). It bounds what a lighter validator than zod could
// save on the location path (issue #16).
import { loadavg } from 'node:os';
import { payloadBytes } from '../rooms/payload-size.js';
import { eventSchemas, parseOrThrow } from '../src/contract/schemas.js';
import { checkFixes } from '../src/location/validate.js';
import { num, parseArgs } from './lib/args.js';
import { fmt, runInfo, runInfoMarkdown, table, timestamp, writeResults } from './lib/results.js';
import { round } from './lib/stats.js';

const args = parseArgs(process.argv.slice(2), ['rounds', 'iterations']);
const cfg = { rounds: num(args, 'rounds', 15, 3, 200), iterations: num(args, 'iterations', 20_000, 1000, 1_000_000) };
const log = (s: string) => process.stdout.write(`${s}\n`);

const DAY = 86_400_000;
const now = Date.now();
const limits = { maxFutureMs: 60_000, maxAgeMs: 30 * DAY, notBefore: now - DAY, erased: [] };

/** 1000 distinct payloads of a shape, as the load generator sends them (lib/client-worker.ts). */
function payloads(shape: string): unknown[] {
  const gps = (i: number) => ({
    ts: now - 10_000 + i,
    lat: 48.6 + Math.random() * 0.5,
    lng: 2 + Math.random() * 0.7,
    acc: 8,
    battery: 80,
    source: 'gps',
  });
  return Array.from({ length: 1000 }, (_, i) => {
    if (shape === 'one GPS fix') return gps(i);
    if (shape === '10 GPS fixes') return { fixes: Array.from({ length: 10 }, (_, k) => gps(i * 10 + k)) };
    const wifi = Array.from({ length: 5 }, (_, k) => ({
      mac: `02:00:00:00:${String(k).padStart(2, '0')}:${(i % 100).toString(16).padStart(2, '0')}`,
      rssi: -60 - k,
    }));
    return { ts: now - 10_000 + i, battery: 80, source: 'wifi', wifi };
  });
}

type Step = (payload: unknown, packet: string) => unknown;
const STEPS: Record<string, Step> = {
  'relay: JSON.parse of the packet': (_p, packet) => JSON.parse(packet.slice(packet.indexOf('['))),
  'hub: payload size': (p) => payloadBytes(p, 65_536),
  'hub: report schema': (p) => parseOrThrow(eventSchemas['location:report'], p),
  'hub: fix checks': (p) => {
    const o = p as { fixes?: unknown[] };
    const { accepted } = checkFixes(Array.isArray(o.fixes) ? o.fixes : [p], now, limits);
    if (accepted.length === 0) throw new Error('the bench payload was rejected');
    return accepted;
  },
};

/** µs per call of a step over `iterations` calls, cycling through the payloads. */
function measure(step: Step, items: readonly unknown[], packets: readonly string[]): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cfg.iterations; i++) {
    const k = i % items.length;
    if (step(items[k], packets[k]!) !== undefined) sink++;
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / cfg.iterations;
  if (sink !== cfg.iterations) throw new Error('a step returned nothing');
  return us;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function main(): void {
  const info = runInfo();
  const ts = timestamp();
  const shapes = ['one GPS fix', '10 GPS fixes', 'one Wi-Fi fix (5 access points)'];
  const results = shapes.map((shape) => {
    const items = payloads(shape);
    const packets = items.map((p, i) => `2${i}${JSON.stringify(['location:report', p])}`);
    const names = Object.keys(STEPS);
    const samples = new Map(names.map((n) => [n, [] as number[]]));
    for (const n of names) measure(STEPS[n]!, items, packets); // warm-up
    for (let r = 0; r < cfg.rounds; r++) for (const n of names) samples.get(n)!.push(measure(STEPS[n]!, items, packets));
    const us = Object.fromEntries(names.map((n) => [n, round(median(samples.get(n)!), 3)]));
    const hub = round(us['hub: payload size']! + us['hub: report schema']! + us['hub: fix checks']!, 3);
    const relay = us['relay: JSON.parse of the packet']!;
    log(`${shape}: hub checks ${hub} µs, relay's parse ${relay} µs (${round(hub / relay, 2)}×)`);
    return { shape, usPerReport: us, hubChecksUs: hub, hubChecksVsRelayParse: round(hub / relay, 2) };
  });
  const json = { ...info, loadavgAtEnd: loadavg().map((v) => round(v, 2)), config: cfg, results };
  const md = [
    '# Boundary checks of `location:report`: the hub against a relay’s parse',
    '',
    runInfoMarkdown(info),
    '',
    `Median of ${cfg.rounds} interleaved rounds of ${fmt(cfg.iterations, 0)} calls per step, over 1,000 distinct payloads of each shape, in one process. µs per report.`,
    '',
    table(
      ['payload', ...Object.keys(STEPS), 'hub checks in all', 'hub checks / relay parse'],
      results.map((r) => [
        r.shape,
        ...Object.keys(STEPS).map((n) => fmt(r.usPerReport[n]!, 2)),
        fmt(r.hubChecksUs, 2),
        `${r.hubChecksVsRelayParse}×`,
      ]),
    ),
    '',
    'The hub checks are what a lighter validator could at most save per report; compare them with the hub’s server CPU per update in the latest `location-max` result.',
    '',
  ].join('\n');
  for (const p of writeResults('validate', ts, json, md)) log(`wrote ${p}`);
}

main();
