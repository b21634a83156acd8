import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, it, expect } from 'vitest';
import { TokenService, keyId } from '../../src/auth/tokens.js';
import type { TokenServiceOptions } from '../../src/auth/tokens.js';
import { HubError } from '../../src/contract/errors.js';

const SECRET = 'hub-secret-'.padEnd(40, 'x');
const OTHER_SECRET = 'other-secret-'.padEnd(40, 'y');
const HUB_ISSUER = 'kidwatch-hub';
const ACCESS_TTL_S = 900;
const DEVICE_TTL_S = 365 * 86_400;
/** A fixed instant with a non-zero millisecond part, so `iat` must be floored. */
const T0 = 1_800_000_000_123;
const T0_S = Math.floor(T0 / 1000);

const OUTSIDE_ISS = 'https://id.example.com/';

const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const ec = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

function makeService(overrides: Partial<TokenServiceOptions> = {}) {
  const clock = { now: T0 };
  const service = new TokenService({
    secret: SECRET,
    accessTtlS: ACCESS_TTL_S,
    deviceTtlS: DEVICE_TTL_S,
    clock: () => clock.now,
    ...overrides,
  });
  return { service, clock };
}

function unauthorizedError(fn: () => unknown): HubError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HubError);
  expect((caught as HubError).code).toBe('UNAUTHORIZED');
  return caught as HubError;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A hub-style HS256 token signed by hand, with iat/exp from the fixed clock unless given. */
function handSigned(payload: Record<string, unknown>, secret = SECRET, issuer: string | null = HUB_ISSUER): string {
  return jwt.sign({ iat: T0_S, exp: T0_S + 600, ...payload }, secret, {
    algorithm: 'HS256',
    ...(issuer ? { issuer } : {}),
  });
}

describe('TokenService: own tokens', () => {
  it('signUser round-trips kind, id, ver, expiry and scopes', () => {
    const { service } = makeService();
    const token = service.signUser('user-1', 7, ['admin', 'ops']);
    const v = service.verify(token);
    expect(v).toEqual({
      kind: 'user',
      id: 'user-1',
      ver: 7,
      expiresAt: (T0_S + ACCESS_TTL_S) * 1000,
      scopes: ['admin', 'ops'],
    });
    expect(v.external).toBeUndefined();
  });

  it('signUser without scopes verifies with no scopes', () => {
    const { service } = makeService();
    expect(service.verify(service.signUser('u', 0)).scopes).toEqual([]);
  });

  it('signDevice round-trips as a device with the device TTL', () => {
    const { service } = makeService();
    const v = service.verify(service.signDevice('dev-9', 2));
    expect(v).toEqual({ kind: 'device', id: 'dev-9', ver: 2, expiresAt: (T0_S + DEVICE_TTL_S) * 1000, scopes: [] });
  });

  it('signs with HS256, the hub issuer and a unique jti', () => {
    const { service } = makeService();
    const a = jwt.decode(service.signUser('u', 1), { complete: true });
    const b = jwt.decode(service.signUser('u', 1), { complete: true });
    expect(a?.header.alg).toBe('HS256');
    const pa = a?.payload as jwt.JwtPayload;
    const pb = b?.payload as jwt.JwtPayload;
    expect(pa.iss).toBe(HUB_ISSUER);
    expect(pa.iat).toBe(T0_S);
    expect(pa.exp).toBe(T0_S + ACCESS_TTL_S);
    expect(typeof pa.jti).toBe('string');
    expect(pa.jti).not.toBe(pb.jti);
  });

  it('a token signed with another secret is UNAUTHORIZED', () => {
    const { service } = makeService();
    const { service: other } = makeService({ secret: OTHER_SECRET });
    unauthorizedError(() => service.verify(other.signUser('u', 1)));
    unauthorizedError(() => service.verify(handSigned({ sub: 'u', typ: 'user', ver: 1 }, OTHER_SECRET)));
  });

  it('a tampered payload is UNAUTHORIZED', () => {
    const { service } = makeService();
    const [h, , s] = service.signUser('u', 1).split('.');
    const forged = `${h}.${b64url({ sub: 'admin', typ: 'user', ver: 1, iss: HUB_ISSUER, iat: T0_S, exp: T0_S + 600 })}.${s}`;
    unauthorizedError(() => service.verify(forged));
  });

  it('an `alg: none` token is UNAUTHORIZED', () => {
    const { service } = makeService();
    const payload = { sub: 'user-1', typ: 'user', ver: 1, iss: HUB_ISSUER, iat: T0_S, exp: T0_S + 600 };
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    expect(jwt.decode(none)).toMatchObject({ sub: 'user-1' });
    unauthorizedError(() => service.verify(none));
    // Also with the outside issuer's name, which takes the public-key path.
    const { service: withExt } = makeService({
      external: { issuer: OUTSIDE_ISS, publicKey: rsa.publicKey, audience: undefined },
    });
    const noneExt = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...payload, iss: OUTSIDE_ISS })}.`;
    unauthorizedError(() => withExt.verify(noneExt));
  });

  it('is valid until exp and UNAUTHORIZED ("expired") after it', () => {
    const { service, clock } = makeService();
    const token = service.signUser('u', 1);
    const expMs = (T0_S + ACCESS_TTL_S) * 1000;
    clock.now = expMs - 1000;
    expect(service.verify(token).id).toBe('u');
    clock.now = expMs + 1000;
    const err = unauthorizedError(() => service.verify(token));
    expect(err.message).toMatch(/expired/i);
  });

  it('a device token expires after the device TTL', () => {
    const { service, clock } = makeService();
    const token = service.signDevice('d', 1);
    clock.now = T0 + (DEVICE_TTL_S + 1) * 1000;
    expect(unauthorizedError(() => service.verify(token)).message).toMatch(/expired/i);
  });

  it('a wrong or missing issuer is UNAUTHORIZED', () => {
    const { service } = makeService();
    unauthorizedError(() => service.verify(handSigned({ sub: 'u', typ: 'user', ver: 1 }, SECRET, 'someone-else')));
    unauthorizedError(() => service.verify(handSigned({ sub: 'u', typ: 'user', ver: 1 }, SECRET, null)));
  });

  it('a correctly hand-signed hub token verifies (control for the claim tests)', () => {
    const { service } = makeService();
    expect(service.verify(handSigned({ sub: 'u', typ: 'user', ver: 4, scope: 'a  b' }))).toEqual({
      kind: 'user',
      id: 'u',
      ver: 4,
      expiresAt: (T0_S + 600) * 1000,
      scopes: ['a', 'b'],
    });
  });

  it.each([
    ['missing typ', { sub: 'u', ver: 1 }],
    ['missing ver', { sub: 'u', typ: 'user' }],
    ['missing sub', { typ: 'user', ver: 1 }],
    ['unknown typ', { sub: 'u', typ: 'admin', ver: 1 }],
    ['string ver', { sub: 'u', typ: 'user', ver: '1' }],
    ['numeric sub', { sub: 42, typ: 'user', ver: 1 }],
  ])('%s → UNAUTHORIZED', (_label, payload) => {
    const { service } = makeService();
    unauthorizedError(() => service.verify(handSigned(payload)));
  });

  // docs/protocol.md "Access tokens" and docs/config.md promise that a token without `kid` is
  // verified with the current secret only: a retired secret must not verify a hand-signed ops
  // token (or any other) that names no key, or a leaked old secret would keep minting them.
  it('a token without kid verifies with the current secret only, never a retired one', () => {
    const { service } = makeService({ previousSecrets: [OTHER_SECRET] });
    const ops = { sub: 'operator', typ: 'user', ver: 0, scope: 'ops' };
    expect(jwt.decode(handSigned(ops, OTHER_SECRET), { complete: true })?.header.kid).toBeUndefined();
    unauthorizedError(() => service.verify(handSigned(ops, OTHER_SECRET)));
    unauthorizedError(() => service.verify(handSigned({ sub: 'd', typ: 'device', ver: 0 }, OTHER_SECRET)));
    // The current secret still verifies it (control), and a retired key named by kid still does.
    expect(service.verify(handSigned(ops)).scopes).toEqual(['ops']);
    const retired = jwt.sign({ iat: T0_S, exp: T0_S + 600, ...ops }, OTHER_SECRET, {
      algorithm: 'HS256',
      issuer: HUB_ISSUER,
      keyid: keyId(OTHER_SECRET),
    });
    expect(service.verify(retired).id).toBe('operator');
  });

  it('a token without exp is UNAUTHORIZED', () => {
    const { service } = makeService();
    const token = jwt.sign({ sub: 'u', typ: 'user', ver: 1, iat: T0_S }, SECRET, { algorithm: 'HS256', issuer: HUB_ISSUER });
    unauthorizedError(() => service.verify(token));
  });

  it('non-string, empty, malformed and oversized tokens are UNAUTHORIZED', () => {
    const { service } = makeService();
    for (const bad of [undefined, null, 42, {}, ['a.b.c']]) {
      unauthorizedError(() => service.verify(bad as unknown as string));
    }
    unauthorizedError(() => service.verify(''));
    unauthorizedError(() => service.verify('not-a-jwt'));
    unauthorizedError(() => service.verify('a.b.c'));
    unauthorizedError(() => service.verify('x'.repeat(10 * 1024)));
    // A genuinely signed token that is over the size cap is still refused.
    const big = service.signUser(
      'u',
      1,
      Array.from({ length: 1000 }, (_, i) => `scope-${i}`),
    );
    expect(big.length).toBeGreaterThan(10 * 1024);
    unauthorizedError(() => service.verify(big));
  });
});

describe('TokenService: outside issuer', () => {
  const outsideClaims = {
    sub: 'auth0|abc',
    email: 'pat@example.com',
    email_verified: true,
    name: 'Pat',
    iat: T0_S,
    exp: T0_S + 3600,
  };

  function rsaService(audience?: string) {
    return makeService({ external: { issuer: OUTSIDE_ISS, publicKey: rsa.publicKey, audience } });
  }
  function ecService(audience?: string) {
    return makeService({ external: { issuer: OUTSIDE_ISS, publicKey: ec.publicKey, audience } });
  }
  const signRs = (payload: Record<string, unknown>, opts: jwt.SignOptions = {}) =>
    jwt.sign(payload, rsa.privateKey, { algorithm: 'RS256', issuer: OUTSIDE_ISS, ...opts });
  const signEs = (payload: Record<string, unknown>, opts: jwt.SignOptions = {}) =>
    jwt.sign(payload, ec.privateKey, { algorithm: 'ES256', issuer: OUTSIDE_ISS, ...opts });

  it('an RS256 token from the configured issuer is a user with the external identity', () => {
    const { service } = rsaService();
    expect(service.verify(signRs(outsideClaims))).toEqual({
      kind: 'user',
      id: 'auth0|abc',
      ver: 0,
      expiresAt: (T0_S + 3600) * 1000,
      scopes: [],
      external: { subject: `${OUTSIDE_ISS}|auth0|abc`, email: 'pat@example.com', name: 'Pat' },
    });
  });

  it('an ES256 (P-256) token from the configured issuer verifies the same way', () => {
    const { service } = ecService();
    const v = service.verify(signEs(outsideClaims));
    expect(v.kind).toBe('user');
    expect(v.external).toEqual({ subject: `${OUTSIDE_ISS}|auth0|abc`, email: 'pat@example.com', name: 'Pat' });
  });

  it('falls back to preferred_username for the name; drops an over-long email', () => {
    const { service } = rsaService();
    const v = service.verify(
      signRs({ sub: 's', preferred_username: 'pat', email: `${'a'.repeat(250)}@x.io`, email_verified: true, exp: T0_S + 60 }),
    );
    expect(v.external).toEqual({ subject: `${OUTSIDE_ISS}|s`, email: undefined, name: 'pat' });
  });

  it('hub tokens still verify when an outside issuer is configured', () => {
    const { service } = rsaService();
    expect(service.verify(service.signUser('u', 1)).external).toBeUndefined();
  });

  // The subject, email and name become a user row: what PostgreSQL refuses (U+0000) or SQLite
  // changes (an unpaired surrogate) must not get there, nor a name that shows nothing.
  it('keeps unstorable or invisible outside claims out of the account it names', () => {
    const { service } = rsaService();
    const verify = (over: Record<string, unknown>) => service.verify(signRs({ ...outsideClaims, ...over }));
    unauthorizedError(() => verify({ sub: 'auth0|a\u0000b' }));
    unauthorizedError(() => verify({ sub: 'auth0|\ud800' }));
    expect(verify({ email: 'pat\u0000@example.com' }).external?.email).toBeUndefined();
    expect(verify({ name: 'Pat\u0000' }).external?.name).toBeUndefined();
    expect(verify({ name: '\u200b\u200d\ufeff', preferred_username: 'pat' }).external?.name).toBe('pat');
    expect(verify({ name: '  Pat  ' }).external?.name).toBe('Pat');
    // Cut to the 64 units a nickname holds between code points, never inside a surrogate pair.
    const long = verify({ name: `${'x'.repeat(63)}😀😀` }).external?.name;
    expect(long).toBe('x'.repeat(63));
  });

  it('checks the audience when one is configured', () => {
    const { service } = rsaService('kidwatch');
    expect(service.verify(signRs(outsideClaims, { audience: 'kidwatch' })).id).toBe('auth0|abc');
    unauthorizedError(() => service.verify(signRs(outsideClaims, { audience: 'someone-else' })));
    unauthorizedError(() => service.verify(signRs(outsideClaims)));
  });

  it('an expired outside token is UNAUTHORIZED ("expired")', () => {
    const { service, clock } = rsaService();
    const token = signRs(outsideClaims);
    clock.now = (T0_S + 3601) * 1000;
    expect(unauthorizedError(() => service.verify(token)).message).toMatch(/expired/i);
  });

  it('refuses an outside token without exp or sub', () => {
    const { service } = rsaService();
    unauthorizedError(() => service.verify(signRs({ sub: 's', iat: T0_S })));
    unauthorizedError(() => service.verify(signRs({ email: 'a@b.c', exp: T0_S + 60 })));
  });

  it('algorithm confusion: HS256 keyed with the issuer PUBLIC KEY PEM is UNAUTHORIZED', () => {
    for (const publicKey of [rsa.publicKey, ec.publicKey]) {
      const { service } = makeService({ external: { issuer: OUTSIDE_ISS, publicKey, audience: undefined } });
      const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ ...outsideClaims, iss: OUTSIDE_ISS })}`;
      const sig = createHmac('sha256', publicKey).update(signingInput).digest('base64url');
      unauthorizedError(() => service.verify(`${signingInput}.${sig}`));
    }
  });

  it('an HS256 token signed with the hub secret cannot claim the outside issuer', () => {
    const { service } = rsaService();
    const token = handSigned({ sub: 'u', typ: 'user', ver: 1 }, SECRET, OUTSIDE_ISS);
    unauthorizedError(() => service.verify(token));
  });

  it('an outside token cannot claim scopes, hub typ or ver', () => {
    const { service } = rsaService();
    const v = service.verify(signRs({ ...outsideClaims, scope: 'admin ops', typ: 'device', ver: 99 }));
    expect(v.scopes).toEqual([]);
    expect(v.kind).toBe('user');
    expect(v.ver).toBe(0);
  });

  it('a token signed by a different key for the configured issuer is UNAUTHORIZED', () => {
    const { service } = rsaService();
    unauthorizedError(() => service.verify(signEs(outsideClaims)));
    const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = jwt.sign(outsideClaims, otherRsa.privateKey, { algorithm: 'RS256', issuer: OUTSIDE_ISS });
    unauthorizedError(() => service.verify(forged));
  });

  it('an RS256 token from an unconfigured issuer is UNAUTHORIZED', () => {
    const { service } = rsaService();
    unauthorizedError(() => service.verify(signRs(outsideClaims, { issuer: 'https://evil.example.com/' })));
    // …and with no outside issuer configured at all, even the "right" issuer is refused.
    const { service: plain } = makeService();
    unauthorizedError(() => plain.verify(signRs(outsideClaims)));
  });
});
