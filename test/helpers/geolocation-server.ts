// A real local HTTP server speaking the Google Geolocation API (POST {url}?key=…, JSON request
// with cellTowers / wifiAccessPoints, `{ location: { lat, lng }, accuracy }` or Google's error
// form), for tests of the hub's outside provider. What it answers is chosen per request by the
// MACs and cell ids it carries; every request is recorded as received, raw.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The body exactly as received. */
  raw: string;
  body: {
    considerIp?: boolean;
    radioType?: string;
    cellTowers?: Record<string, unknown>[];
    wifiAccessPoints?: Record<string, unknown>[];
  };
}

export type Behaviour =
  | { kind: 'answer'; lat: number; lng: number; accuracy: number }
  | { kind: 'not_found' }
  | { kind: 'fail'; status: number }
  /** Holds the answer until `release()`; then answers as `then` says. */
  | { kind: 'hold'; then: Exclude<Behaviour, { kind: 'hold' }> };

export interface GeolocationServer {
  url: string;
  requests: RecordedRequest[];
  /** What to answer for a request that carries this MAC or cell id (`mcc:mnc:lac:cid`). */
  on(key: string, behaviour: Behaviour): void;
  /** Resolves when `n` requests carrying `key` have arrived. */
  arrived(key: string, n?: number): Promise<RecordedRequest>;
  /** Answers every held request (carrying `key`, or all). */
  release(key?: string): void;
  close(): Promise<void>;
}

const keysOf = (body: RecordedRequest['body']): string[] => [
  ...(body.wifiAccessPoints ?? []).map((a) => String(a.macAddress)),
  ...(body.cellTowers ?? []).map(
    (t) => `${t.mobileCountryCode}:${t.mobileNetworkCode}:${t.locationAreaCode}:${t.cellId ?? t.newRadioCellId}`,
  ),
];

export async function startGeolocationServer(): Promise<GeolocationServer> {
  const requests: RecordedRequest[] = [];
  const behaviours = new Map<string, Behaviour>();
  const held: { keys: string[]; answer: () => void }[] = [];
  const waiters: { key: string; n: number; resolve: (r: RecordedRequest) => void }[] = [];

  const send = (res: ServerResponse, b: Exclude<Behaviour, { kind: 'hold' }>) => {
    res.setHeader('content-type', 'application/json');
    if (b.kind === 'answer') {
      res.end(JSON.stringify({ location: { lat: b.lat, lng: b.lng }, accuracy: b.accuracy }));
    } else if (b.kind === 'not_found') {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 404, message: 'Not Found', errors: [{ reason: 'notFound' }] } }));
    } else {
      res.statusCode = b.status;
      res.end(JSON.stringify({ error: { code: b.status, message: 'Backend Error', errors: [{ reason: 'backendError' }] } }));
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: RecordedRequest['body'] = {};
      try {
        body = JSON.parse(raw) as RecordedRequest['body'];
      } catch {
        // Recorded as it came; answered as Google answers a parse error.
      }
      const r: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body };
      requests.push(r);
      const keys = keysOf(body);
      for (const w of [...waiters]) {
        if (requests.filter((x) => keysOf(x.body).includes(w.key)).length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
      const b = keys.map((k) => behaviours.get(k)).find((x) => x !== undefined) ?? { kind: 'not_found' };
      if (b.kind === 'hold') held.push({ keys, answer: () => send(res, b.then) });
      else send(res, b);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/geolocation/v1/geolocate`,
    requests,
    on: (key, behaviour) => void behaviours.set(key, behaviour),
    arrived(key, n = 1) {
      const seen = requests.filter((x) => keysOf(x.body).includes(key));
      if (seen.length >= n) return Promise.resolve(seen[n - 1]!);
      return new Promise((resolve) => waiters.push({ key, n, resolve }));
    },
    release(key) {
      for (const h of [...held]) {
        if (key !== undefined && !h.keys.includes(key)) continue;
        held.splice(held.indexOf(h), 1);
        h.answer();
      }
    },
    async close() {
      for (const h of held.splice(0)) h.answer();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
