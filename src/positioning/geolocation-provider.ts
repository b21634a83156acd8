// The optional outside provider, speaking the Google Geolocation API format (Google's own
// endpoint, or any service that speaks it). Off unless a URL is configured.
//
// Privacy: the request carries cell identifiers and access-point MACs with their signal strength,
// and nothing else — no watch, family or user id, no SSID, no time; `considerIp: false` so the
// provider does not fall back to locating the hub's own address. APs whose owner opted out
// (`_nomap`) are never sent, and Wi-Fi goes only as two or more APs (Google's rule: a single MAC
// would let anyone holding it look up where one person's router is).
//
// Bounded: a timeout on every request (body included), at most `maxInFlight` requests at once,
// identical lookups share one request, a bounded cache keyed by the normalised observation set
// (identifiers only: signal varies from fix to fix while the answer barely does), answers capped
// in size, and a circuit breaker in front.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.js';
import { Lru } from './lru.js';
import type { PositioningMetrics, ProviderOutcome } from './metrics.js';
import { type CellObservation, type Observations, type RadioType, type WifiObservation, isOptedOut } from './observations.js';

export interface GeolocationProviderOptions {
  /** The geolocate endpoint, e.g. https://www.googleapis.com/geolocation/v1/geolocate. */
  url: string;
  /** Sent as the `key` query parameter, as Google expects. */
  apiKey?: string | undefined;
  timeoutMs?: number;
  cacheEntries?: number;
  cacheTtlMs?: number;
  /** How long "the provider does not know these" is remembered. */
  notFoundTtlMs?: number;
  failureThreshold?: number;
  openMs?: number;
  maxInFlight?: number;
  clock?: () => number;
  metrics?: PositioningMetrics | undefined;
}

export interface ProviderAnswer {
  lat: number;
  lng: number;
  acc: number;
  /** Whether access points were part of the request (the answer is then a Wi-Fi position). */
  usedWifi: boolean;
}

export interface GoogleCellTower {
  cellId?: number;
  newRadioCellId?: number;
  locationAreaCode: number;
  mobileCountryCode: number;
  mobileNetworkCode: number;
  signalStrength?: number;
  radioType?: GoogleRadio;
}
export interface GoogleAccessPoint {
  macAddress: string;
  signalStrength?: number;
}
export interface GoogleRequest {
  considerIp: false;
  radioType?: GoogleRadio;
  cellTowers?: GoogleCellTower[];
  wifiAccessPoints?: GoogleAccessPoint[];
}
type GoogleRadio = 'gsm' | 'wcdma' | 'lte' | 'nr' | 'cdma';

const GOOGLE_RADIO: Record<RadioType, GoogleRadio> = { gsm: 'gsm', umts: 'wcdma', lte: 'lte', nr: 'nr', cdma: 'cdma' };
const MAX_RESPONSE_BYTES = 16 * 1024;

const answerSchema = z.object({
  location: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }),
  accuracy: z.number().positive().max(1_000_000),
});
const errorSchema = z.object({
  error: z.object({ code: z.number().optional(), errors: z.array(z.object({ reason: z.string().max(100) })).optional() }),
});

/**
 * The request for these observations, or undefined when nothing may be sent. Google wants
 * `newRadioCellId` instead of `cellId` for NR; the radio goes on each tower (services that take
 * mixed radios read it there) and at the top when all towers share it (where Google reads it).
 */
export function buildRequest(obs: Observations): GoogleRequest | undefined {
  const cellTowers = (obs.cells ?? []).map(tower);
  const aps = (obs.wifi ?? []).filter((ap) => !isOptedOut(ap));
  const wifiAccessPoints = aps.length >= 2 ? aps.map(accessPoint) : [];
  if (cellTowers.length === 0 && wifiAccessPoints.length === 0) return undefined;
  const req: GoogleRequest = { considerIp: false };
  const radios = new Set(cellTowers.map((t) => t.radioType));
  const only = radios.size === 1 ? [...radios][0] : undefined;
  if (only) req.radioType = only;
  if (cellTowers.length > 0) req.cellTowers = cellTowers;
  if (wifiAccessPoints.length > 0) req.wifiAccessPoints = wifiAccessPoints;
  return req;
}

function tower(c: CellObservation): GoogleCellTower {
  const t: GoogleCellTower = { locationAreaCode: c.lac, mobileCountryCode: c.mcc, mobileNetworkCode: c.mnc };
  if (c.radio === 'nr') t.newRadioCellId = c.cid;
  else t.cellId = c.cid;
  if (c.rssi !== undefined) t.signalStrength = c.rssi;
  if (c.radio) t.radioType = GOOGLE_RADIO[c.radio];
  return t;
}

function accessPoint(ap: WifiObservation): GoogleAccessPoint {
  return ap.rssi === undefined ? { macAddress: ap.mac } : { macAddress: ap.mac, signalStrength: ap.rssi };
}

/** Identifiers only, sorted: the same towers and APs in any order and at any signal share an entry. */
export function cacheKey(req: GoogleRequest): string {
  const cells = (req.cellTowers ?? [])
    .map(
      (t) =>
        `${t.radioType ?? ''}/${t.mobileCountryCode}/${t.mobileNetworkCode}/${t.locationAreaCode}/${t.cellId ?? t.newRadioCellId}`,
    )
    .sort();
  const macs = (req.wifiAccessPoints ?? []).map((a) => a.macAddress).sort();
  return createHash('sha256')
    .update(JSON.stringify([cells, macs]))
    .digest('base64url');
}

interface CacheEntry {
  answer: ProviderAnswer | undefined;
  expiresAt: number;
}

type Attempt = { outcome: 'ok'; answer: ProviderAnswer } | { outcome: Exclude<ProviderOutcome, 'ok'> };

export class GeolocationProvider {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly cacheTtlMs: number;
  private readonly notFoundTtlMs: number;
  private readonly maxInFlight: number;
  private readonly clock: () => number;
  private readonly metrics: PositioningMetrics | undefined;
  private readonly cache: Lru<string, CacheEntry>;
  private readonly inFlight = new Map<string, Promise<ProviderAnswer | undefined>>();
  private readonly breaker: CircuitBreaker;

  constructor(opts: GeolocationProviderOptions) {
    const url = new URL(opts.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the geolocation URL must be http(s)');
    if (opts.apiKey) url.searchParams.set('key', opts.apiKey);
    this.url = url.toString();
    this.timeoutMs = opts.timeoutMs ?? 1500;
    this.cacheTtlMs = opts.cacheTtlMs ?? 24 * 60 * 60_000;
    this.notFoundTtlMs = opts.notFoundTtlMs ?? 60 * 60_000;
    this.maxInFlight = opts.maxInFlight ?? 16;
    this.clock = opts.clock ?? Date.now;
    this.metrics = opts.metrics;
    this.cache = new Lru(opts.cacheEntries ?? 10_000);
    this.breaker = new CircuitBreaker({
      failureThreshold: opts.failureThreshold ?? 5,
      openMs: opts.openMs ?? 30_000,
      clock: this.clock,
      onState: (s) => this.metrics?.setBreaker(s),
    });
    this.metrics?.setBreaker('closed');
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /** The provider's position for these observations, or undefined (unknown, or unavailable now). */
  async locate(obs: Observations): Promise<ProviderAnswer | undefined> {
    const req = buildRequest(obs);
    if (!req) return undefined;
    const key = cacheKey(req);
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.clock()) {
      this.metrics?.providerShortCircuits.inc({ reason: 'cache_hit' });
      return cached.answer;
    }
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    if (this.inFlight.size >= this.maxInFlight) {
      this.metrics?.providerShortCircuits.inc({ reason: 'overloaded' });
      return undefined;
    }
    if (!this.breaker.tryAcquire()) {
      this.metrics?.providerShortCircuits.inc({ reason: 'breaker_open' });
      return undefined;
    }
    const p = this.request(req, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async request(req: GoogleRequest, key: string): Promise<ProviderAnswer | undefined> {
    const started = performance.now();
    const result = await this.attempt(req);
    this.metrics?.providerRequests.inc({ outcome: result.outcome });
    this.metrics?.providerDuration.observe({ outcome: result.outcome }, (performance.now() - started) / 1000);
    switch (result.outcome) {
      case 'ok':
        this.breaker.success();
        this.cache.set(key, { answer: result.answer, expiresAt: this.clock() + this.cacheTtlMs });
        return result.answer;
      case 'not_found':
        // The provider works; it just does not know these.
        this.breaker.success();
        this.cache.set(key, { answer: undefined, expiresAt: this.clock() + this.notFoundTtlMs });
        return undefined;
      default:
        this.breaker.failure();
        return undefined;
    }
  }

  private async attempt(req: GoogleRequest): Promise<Attempt> {
    let res: Response;
    let text: string;
    // The deadline covers the answer's body too.
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(req),
        signal,
        // A redirect could carry the request somewhere nobody configured.
        redirect: 'error',
        credentials: 'omit',
      });
      text = await readBounded(res, MAX_RESPONSE_BYTES);
    } catch (err) {
      if (signal.aborted) return { outcome: 'timeout' };
      if ((err as Error).message === 'response too large') return { outcome: 'bad_response' };
      return { outcome: 'network_error' };
    }
    if (res.status === 200) {
      const parsed = answerSchema.safeParse(safeJson(text));
      if (!parsed.success) return { outcome: 'bad_response' };
      const { location, accuracy } = parsed.data;
      // 0,0 is a missing position, never an answer.
      if (location.lat === 0 && location.lng === 0) return { outcome: 'bad_response' };
      return { outcome: 'ok', answer: { lat: location.lat, lng: location.lng, acc: accuracy, usedWifi: !!req.wifiAccessPoints } };
    }
    const reason = errorSchema.safeParse(safeJson(text)).data?.error.errors?.[0]?.reason;
    if (res.status === 404) return { outcome: 'not_found' };
    if (res.status === 429 || reason === 'dailyLimitExceeded' || reason === 'userRateLimitExceeded') {
      return { outcome: 'rate_limited' };
    }
    return { outcome: res.status >= 500 ? 'server_error' : 'rejected' };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readBounded(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > max) throw new Error('response too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
