// Families for the memory benchmark, many thousands of them, made fast: the benchmark acts as an
// outside token issuer (the hub's HUB_EXTERNAL_ISSUER feature, ES256), so a parent's account is
// created on its first request, with no password and so no scrypt (the registration that makes
// lib/setup.ts take ~0.15 s per family). Per family: the owner creates it, a watch is provisioned,
// bound and allowed to report, and each other guardian accepts an invite. Everything else is the
// hub's normal HTTP API.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { PROVISIONING_KEY } from './children.js';
import { call, imei, pool } from './setup.js';

export const ISSUER = 'https://bench-issuer.invalid';

export interface Issuer {
  /** The hub's environment that trusts this issuer. */
  env: Record<string, string>;
  /** An access token for the outside user `subject`, valid `ttlS` seconds. */
  token(subject: string, ttlS?: number): string;
}

export function outsideIssuer(): Issuer {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    env: { HUB_EXTERNAL_ISSUER: ISSUER, HUB_EXTERNAL_ISSUER_PUBLIC_KEY: pem },
    token: (subject, ttlS = 4 * 3600) => sign(privateKey, subject, ttlS),
  };
}

function sign(key: KeyObject, subject: string, ttlS: number): string {
  return jwt.sign({ name: 'Parent' }, key, { algorithm: 'ES256', issuer: ISSUER, subject, expiresIn: ttlS });
}

export interface MemFamily {
  familyId: string;
  deviceId: string;
  deviceToken: string;
  /** One per guardian (user): its token and its subject (for the baseline's user room). */
  guardians: { token: string; userId: string }[];
}

let seq = 0;
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

async function family(base: string, issuer: Issuer, guardians: number): Promise<MemFamily> {
  const n = ++seq;
  const ownerSub = `${run}-${n}-0`;
  const owner = issuer.token(ownerSub);
  const [{ id: familyId }, watch] = await Promise.all([
    call<{ id: string }>(base, 'POST', '/v1/families', { token: owner, body: { name: `Family ${n}` } }),
    call<{ deviceId: string; deviceToken: string; bindingCode: string }>(base, 'POST', '/v1/devices/register', {
      body: { imei: imei(), model: 'KW-7' },
      headers: { 'x-provisioning-key': PROVISIONING_KEY },
    }),
  ]);
  const bind = (async () => {
    await call(base, 'POST', `/v1/families/${familyId}/devices`, {
      token: owner,
      body: { bindingCode: watch.bindingCode, childName: `Kid ${n}` },
    });
    await call(base, 'PUT', `/v1/families/${familyId}/devices/${watch.deviceId}/permissions`, {
      token: owner,
      body: { location: true, camera: false, microphone: false, contacts: false },
    });
  })();
  const invited = Array.from({ length: guardians - 1 }, async (_, i) => {
    const { code } = await call<{ code: string }>(base, 'POST', `/v1/families/${familyId}/invites`, {
      token: owner,
      body: { role: 'guardian' },
    });
    const sub = `${run}-${n}-${i + 1}`;
    const token = issuer.token(sub);
    await call(base, 'POST', `/v1/invites/${code}/accept`, { token });
    return { token, userId: sub };
  });
  const [, ...others] = await Promise.all([bind, ...invited]);
  return {
    familyId,
    deviceId: watch.deviceId,
    deviceToken: watch.deviceToken,
    guardians: [{ token: owner, userId: ownerSub }, ...(others as { token: string; userId: string }[])],
  };
}

/** `n` families of one watch and `guardians` outside users, `concurrency` at a time. */
export async function setupOutsideFamilies(
  base: string,
  issuer: Issuer,
  n: number,
  guardians: number,
  concurrency: number,
  log: (s: string) => void,
): Promise<{ families: MemFamily[]; seconds: number }> {
  const t0 = performance.now();
  let done = 0;
  const ticker = setInterval(() => log(`setup: ${done}/${n} families, ${((performance.now() - t0) / 1000).toFixed(0)} s`), 5000);
  try {
    const families = await pool(n, concurrency, async () => {
      const f = await family(base, issuer, guardians);
      done++;
      return f;
    });
    return { families, seconds: (performance.now() - t0) / 1000 };
  } finally {
    clearInterval(ticker);
  }
}
