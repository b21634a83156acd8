// The outside provider against a real HTTP server speaking the Google Geolocation API format:
// what it is sent (identifiers only), how its answers and errors are read, the timeout, the cache,
// single flight, and the circuit breaker.
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeolocationProvider, type GeolocationProviderOptions } from '../../../src/positioning/geolocation-provider.js';
import { PositioningMetrics } from '../../../src/positioning/metrics.js';
import { type Observations, cellsField, wifiField } from '../../../src/positioning/observations.js';
import { PositionResolver } from '../../../src/positioning/resolver.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Mode = 'google' | 'slow' | 'error500' | 'quota' | 'zero' | 'garbage';

// A small Google-like geolocate: knows one LTE cell and two access points.
const KNOWN_CELL = 26843545;
const KNOWN_MACS = ['0a:00:00:00:00:01', '0a:00:00:00:00:02'];
let mode: Mode = 'google';
let received: Received[] = [];
let server: Server;
let base: string;

function googleError(code: number, reason: string, domain: string, message: string) {
  return JSON.stringify({ error: { errors: [{ domain, reason, message }], code, message } });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const reply = (status: number, payload: string) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(payload);
      };
      if (mode === 'slow') return void setTimeout(() => reply(200, '{}'), 600);
      if (mode === 'error500') return reply(500, googleError(500, 'backendError', 'global', 'Backend Error'));
      if (mode === 'quota') return reply(403, googleError(403, 'dailyLimitExceeded', 'usageLimits', 'Daily Limit Exceeded'));
      if (mode === 'zero') return reply(200, JSON.stringify({ location: { lat: 0, lng: 0 }, accuracy: 10 }));
      if (mode === 'garbage') return reply(200, '<html>captive portal</html>');
      let req2: { cellTowers?: { cellId?: number }[]; wifiAccessPoints?: { macAddress: string }[] };
      try {
        req2 = JSON.parse(body);
      } catch {
        return reply(400, googleError(400, 'parseError', 'global', 'Parse Error'));
      }
      const macs = (req2.wifiAccessPoints ?? []).map((a) => a.macAddress).filter((m) => KNOWN_MACS.includes(m));
      if (macs.length >= 2) return reply(200, JSON.stringify({ location: { lat: 48.1371, lng: 11.5754 }, accuracy: 35.5 }));
      if ((req2.cellTowers ?? []).some((t) => t.cellId === KNOWN_CELL)) {
        return reply(200, JSON.stringify({ location: { lat: 52.52, lng: 13.405 }, accuracy: 1243 }));
      }
      reply(404, googleError(404, 'notFound', 'geolocation', 'Not Found'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/geolocation/v1/geolocate`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  mode = 'google';
  received = [];
});

let now = 1_700_000_000_000;
function provider(over: Partial<GeolocationProviderOptions> = {}) {
  const metrics = new PositioningMetrics(new Registry());
  const p = new GeolocationProvider({ url: base, timeoutMs: 1000, clock: () => now, metrics, ...over });
  return { p, metrics };
}

const obs = (o: { cells?: unknown[]; wifi?: unknown[] }): Observations => ({
  cells: o.cells && cellsField.parse(o.cells),
  wifi: o.wifi && wifiField.parse(o.wifi),
});
const knownCell = { mcc: 262, mnc: 2, lac: 40100, cid: KNOWN_CELL, rssi: -88, radio: 'lte' };
const knownWifi = [
  { mac: '0A:00:00:00:00:01', rssi: -48, ssid: 'Grundschule am Park' },
  { mac: '0a-00-00-00-00-02', rssi: -71, ssid: 'Grundschule Gast' },
];

async function counter(c: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, label: string) {
  const v = (await c.get()).values;
  return Object.fromEntries(v.map((x) => [String(Object.values(x.labels)[0] ?? label), x.value]));
}

describe('the geolocation provider', () => {
  it('sends only cell and access-point identifiers: no ids, no SSIDs, no IP fallback', async () => {
    const { p } = provider({ apiKey: 'k-123' });
    const resolver = new PositionResolver({ provider: p });
    const found = await resolver.resolve(
      'family-7f3e',
      obs({
        cells: [
          knownCell,
          { mcc: 262, mnc: 2, lac: 40100, cid: 5, radio: 'umts' },
          { mcc: 310, mnc: 260, lac: 70000, cid: 2 ** 35, radio: 'nr' },
        ],
        wifi: [...knownWifi, { mac: '0a:00:00:00:00:03', ssid: 'Cafe_nomap', rssi: -40 }],
      }),
    );
    expect(found).toEqual({ lat: 48.1371, lng: 11.5754, acc: 36, source: 'wifi', resolver: 'provider' });
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/geolocation/v1/geolocate?key=k-123');
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({
      considerIp: false,
      cellTowers: [
        {
          cellId: KNOWN_CELL,
          locationAreaCode: 40100,
          mobileCountryCode: 262,
          mobileNetworkCode: 2,
          signalStrength: -88,
          radioType: 'lte',
        },
        { cellId: 5, locationAreaCode: 40100, mobileCountryCode: 262, mobileNetworkCode: 2, radioType: 'wcdma' },
        { newRadioCellId: 2 ** 35, locationAreaCode: 70000, mobileCountryCode: 310, mobileNetworkCode: 260, radioType: 'nr' },
      ],
      wifiAccessPoints: [
        { macAddress: '0a:00:00:00:00:01', signalStrength: -48 },
        { macAddress: '0a:00:00:00:00:02', signalStrength: -71 },
      ],
    });
    for (const secret of ['family-7f3e', 'Grundschule', 'Cafe', '0a:00:00:00:00:03']) expect(r.body).not.toContain(secret);
    const allowedHeaders = [
      'host',
      'connection',
      'content-type',
      'content-length',
      'accept',
      'accept-language',
      'sec-fetch-mode',
      'user-agent',
      'accept-encoding',
    ];
    expect(Object.keys(r.headers).filter((h) => !allowedHeaders.includes(h))).toEqual([]);
  });

  it('sends Wi-Fi only as two or more access points, and nothing when nothing may go', async () => {
    const { p } = provider();
    expect(await p.locate(obs({ wifi: [knownWifi[0]] }))).toBeUndefined();
    expect(await p.locate(obs({ wifi: [{ mac: '0a:00:00:00:00:09', ssid: 'x_nomap' }, knownWifi[0]] }))).toBeUndefined();
    expect(received).toHaveLength(0);
    const a = await p.locate(obs({ cells: [knownCell], wifi: [knownWifi[0]] }));
    expect(a).toEqual({ lat: 52.52, lng: 13.405, acc: 1243, usedWifi: false });
    expect(JSON.parse(received[0]!.body)).toEqual({
      considerIp: false,
      radioType: 'lte',
      cellTowers: [
        {
          cellId: KNOWN_CELL,
          locationAreaCode: 40100,
          mobileCountryCode: 262,
          mobileNetworkCode: 2,
          signalStrength: -88,
          radioType: 'lte',
        },
      ],
    });
  });

  it('answers the same observation set from its cache, whatever the order and signal', async () => {
    const { p, metrics } = provider();
    const first = await p.locate(obs({ wifi: knownWifi }));
    const again = await p.locate(
      obs({
        wifi: [
          { ...knownWifi[1]!, rssi: -60 },
          { ...knownWifi[0]!, rssi: -80 },
        ],
      }),
    );
    expect(again).toEqual(first);
    expect(received).toHaveLength(1);
    // "Not found" is remembered too, for less long.
    const unknown = obs({ cells: [{ ...knownCell, cid: 1 }] });
    expect(await p.locate(unknown)).toBeUndefined();
    expect(await p.locate(unknown)).toBeUndefined();
    expect(received).toHaveLength(2);
    now += 2 * 60 * 60_000;
    expect(await p.locate(unknown)).toBeUndefined();
    expect(received).toHaveLength(3);
    expect(await counter(metrics.providerShortCircuits, 'reason')).toEqual({ cache_hit: 2 });
    expect(await counter(metrics.providerRequests, 'outcome')).toEqual({ ok: 1, not_found: 2 });
  });

  it('shares one request between identical lookups in flight', async () => {
    const { p } = provider();
    const [a, b] = await Promise.all([p.locate(obs({ wifi: knownWifi })), p.locate(obs({ wifi: [...knownWifi].reverse() }))]);
    expect(a).toEqual(b);
    expect(received).toHaveLength(1);
  });

  it('gives up at its timeout', async () => {
    mode = 'slow';
    const { p, metrics } = provider({ timeoutMs: 100 });
    const started = performance.now();
    expect(await p.locate(obs({ wifi: knownWifi }))).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await counter(metrics.providerRequests, 'outcome')).toEqual({ timeout: 1 });
  });

  it('reads Google’s errors: quota is rate_limited, 5xx server_error, and 0,0 or non-JSON a bad response', async () => {
    const { p, metrics } = provider({ failureThreshold: 100 });
    const cases: [Mode, number][] = [
      ['quota', 1],
      ['error500', 2],
      ['zero', 3],
      ['garbage', 4],
    ];
    for (const [m, cid] of cases) {
      mode = m;
      expect(await p.locate(obs({ cells: [{ ...knownCell, cid }] }))).toBeUndefined();
    }
    expect(await counter(metrics.providerRequests, 'outcome')).toEqual({ rate_limited: 1, server_error: 1, bad_response: 2 });
    expect(p.breakerState).toBe('closed');
  });

  it('opens its breaker after repeated failures, then half-opens for one trial', async () => {
    mode = 'error500';
    const { p, metrics } = provider({ failureThreshold: 3, openMs: 30_000 });
    const gauge = async () => (await metrics.breakerState.get()).values[0]!.value;
    for (let cid = 1; cid <= 3; cid++) await p.locate(obs({ cells: [{ ...knownCell, cid }] }));
    expect(p.breakerState).toBe('open');
    expect(await gauge()).toBe(2);
    // Open: no request reaches the provider.
    mode = 'google';
    expect(await p.locate(obs({ wifi: knownWifi }))).toBeUndefined();
    expect(received).toHaveLength(3);
    // After the pause, one trial; it fails, so the breaker opens again.
    now += 30_000;
    mode = 'error500';
    expect(await p.locate(obs({ cells: [{ ...knownCell, cid: 9 }] }))).toBeUndefined();
    expect(received).toHaveLength(4);
    expect(p.breakerState).toBe('open');
    // The next trial succeeds and closes it.
    now += 30_000;
    mode = 'google';
    expect(await p.locate(obs({ wifi: knownWifi }))).toMatchObject({ acc: 35.5 });
    expect(p.breakerState).toBe('closed');
    expect(await gauge()).toBe(0);
    expect(await counter(metrics.providerShortCircuits, 'reason')).toEqual({ breaker_open: 1 });
  });

  it('does not count "not found" as a failure', async () => {
    const { p } = provider({ failureThreshold: 2 });
    for (let cid = 1; cid <= 5; cid++) await p.locate(obs({ cells: [{ ...knownCell, cid }] }));
    expect(p.breakerState).toBe('closed');
    expect(received).toHaveLength(5);
  });
});
