// Accounts, families and watches for the load, made through the hub's HTTP API with bounded
// concurrency: per family an owner, three invited guardians, one provisioned and bound watch
// with its location permission on.
import { PROVISIONING_KEY } from './children.js';
import { randomImei } from '../../src/contract/imei.js';

export interface FamilySpec {
  familyId: string;
  deviceId: string;
  deviceToken: string;
  /** Access tokens of the owner and the invited guardians (guardiansPerWatch in all). */
  guardianTokens: string[];
  /** The ID the watch writes in 3G-protocol frames (its IMEI: registered without a watchId). */
  watchId?: string;
}

let requests = 0;

export async function call<T>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  expect = [200, 201],
): Promise<T> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  for (let attempt = 1; ; attempt++) {
    requests++;
    const res = await fetch(base + path, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    if (expect.includes(res.status)) return (text ? JSON.parse(text) : undefined) as T;
    if (res.status === 429 && attempt < 5) {
      await new Promise((r) => setTimeout(r, 250 * attempt));
      continue;
    }
    throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 200)}`);
  }
}

/** A random IMEI with a valid Luhn check digit. */
export const imei = () => randomImei();

let users = 0;
const run = `${process.pid}-${Date.now().toString(36)}`;

async function register(base: string, nickname: string): Promise<string> {
  const email = `bench-${run}-${++users}@example.test`;
  const r = await call<{ accessToken: string }>(base, 'POST', '/v1/auth/register', {
    body: { email, password: 'correct horse battery', nickname },
  });
  return r.accessToken;
}

async function family(base: string, index: number, guardians: number): Promise<FamilySpec> {
  const ownerToken = await register(base, 'Owner');
  const watchImei = imei();
  const [{ id: familyId }, watch] = await Promise.all([
    call<{ id: string }>(base, 'POST', '/v1/families', { token: ownerToken, body: { name: `Family ${index}` } }),
    call<{ deviceId: string; deviceToken: string; bindingCode: string }>(base, 'POST', '/v1/devices/register', {
      body: { imei: watchImei, model: 'KW-7' },
      headers: { 'x-provisioning-key': PROVISIONING_KEY },
    }),
  ]);
  const bind = (async () => {
    await call(base, 'POST', `/v1/families/${familyId}/devices`, {
      token: ownerToken,
      body: { bindingCode: watch.bindingCode, childName: `Kid ${index}` },
    });
    await call(base, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
      token: ownerToken,
      body: { location: true, camera: false, microphone: false, contacts: false },
    });
  })();
  const invited = Array.from({ length: guardians - 1 }, async () => {
    const { code } = await call<{ code: string }>(base, 'POST', `/v1/families/${familyId}/invites`, {
      token: ownerToken,
      body: { role: 'guardian' },
    });
    const token = await register(base, 'Guardian');
    await call(base, 'POST', `/v1/invites/${code}/accept`, { token });
    return token;
  });
  const [, ...others] = await Promise.all([bind, ...invited]);
  return {
    familyId,
    deviceId: watch.deviceId,
    deviceToken: watch.deviceToken,
    guardianTokens: [ownerToken, ...(others as string[])],
    watchId: watchImei,
  };
}

/** Runs `task(i)` for i < n with at most `limit` at a time. */
export async function pool<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

export async function setupFamilies(base: string, n: number, guardians: number, concurrency: number, log: (s: string) => void) {
  const t0 = performance.now();
  requests = 0;
  let done = 0;
  const ticker = setInterval(
    () => log(`setup: ${done}/${n} families, ${requests} HTTP requests, ${((performance.now() - t0) / 1000).toFixed(0)} s`),
    1000,
  );
  try {
    const families = await pool(n, concurrency, async (i) => {
      const f = await family(base, i, guardians);
      done++;
      return f;
    });
    return { families, seconds: (performance.now() - t0) / 1000, httpRequests: requests };
  } finally {
    clearInterval(ticker);
  }
}
