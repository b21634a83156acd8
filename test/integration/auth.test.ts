// Accounts and tokens through the real HTTP API and the real socket handshake.
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  JWT_SECRET,
  type TestHub,
  api,
  connect,
  connectError,
  familyWithWatch,
  provisionWatch,
  registerUser,
  startHub,
  waitFor,
} from '../helpers/hub.js';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('accounts', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  it('rotates refresh tokens and revokes the whole chain when one is reused', async () => {
    const u = await registerUser(t);
    const first = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(u.refreshToken);
    const me = await api(t, 'GET', '/v1/me', { token: first.body.accessToken });
    expect(me.body.user.id).toBe(u.id);

    const second = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
    expect(second.status).toBe(200);

    // The first token is replayed (stolen): refused, and the newest token of the chain dies too.
    const replay = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('UNAUTHORIZED');
    const after = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: second.body.refreshToken } });
    expect(after.status).toBe(401);

    // Another login is another chain and is unaffected.
    const login = await api(t, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } });
    const other = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
    expect(other.status).toBe(200);
  });

  it('lets only one of two racing refreshes win, and treats the loser as reuse', async () => {
    const u = await registerUser(t);
    const results = await Promise.all(
      [1, 2].map(() => api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = results.find((r) => r.status === 200)!;
    const next = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: winner.body.refreshToken } });
    expect(next.status).toBe(401);
  });

  it('logs out by revoking the refresh chain', async () => {
    const u = await registerUser(t);
    expect((await api(t, 'POST', '/v1/auth/logout', { body: { refreshToken: u.refreshToken } })).status).toBe(204);
    const r = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
    expect(r.status).toBe(401);
  });

  it('ends the session’s access tokens and sockets on logout and on refresh-token reuse', async () => {
    const u = await registerUser(t);
    const other = await api(t, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } });
    const s = await connect(t, u.accessToken);
    const otherSocket = await connect(t, other.body.accessToken);
    const ended = waitFor(s, 'session:expired');
    const closed = new Promise<string>((resolve) => s.once('disconnect', resolve));
    expect((await api(t, 'POST', '/v1/auth/logout', { body: { refreshToken: u.refreshToken } })).status).toBe(204);
    expect(await ended).toEqual({ code: 'UNAUTHORIZED', message: 'session ended' });
    expect(await closed).toBe('io server disconnect');
    expect((await api(t, 'GET', '/v1/me', { token: u.accessToken })).status).toBe(401);
    expect((await connectError(t, u.accessToken)).code).toBe('UNAUTHORIZED');
    // The other login is another session and carries on.
    expect((await api(t, 'GET', '/v1/me', { token: other.body.accessToken })).status).toBe(200);
    expect(otherSocket.connected).toBe(true);

    // A replayed refresh token ends its session the same way.
    const rotated = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: other.body.refreshToken } });
    const live = await connect(t, rotated.body.accessToken);
    const liveClosed = new Promise<string>((resolve) => live.once('disconnect', resolve));
    await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: other.body.refreshToken } });
    expect(await liveClosed).toBe('io server disconnect');
    expect((await api(t, 'GET', '/v1/me', { token: rotated.body.accessToken })).status).toBe(401);
    otherSocket.disconnect();
  });

  it('refuses an expired refresh token', async () => {
    const u = await registerUser(t);
    t.clock.advance((t.config.refreshTokenTtlS + 1) * 1000);
    try {
      const r = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
      expect(r.status).toBe(401);
      expect(r.body.error.message).toMatch(/expired/);
    } finally {
      t.clock.advance(-(t.config.refreshTokenTtlS + 1) * 1000);
    }
  });

  it('answers login failures the same whether or not the account exists', async () => {
    const u = await registerUser(t);
    const wrong = await api(t, 'POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong password' } });
    const unknown = await api(t, 'POST', '/v1/auth/login', {
      body: { email: 'nobody@example.test', password: 'wrong password' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('rejects bad registration input with clear errors', async () => {
    const u = await registerUser(t);
    const dup = await api(t, 'POST', '/v1/auth/register', {
      body: { email: u.email.toUpperCase(), password: 'another password', nickname: 'X' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('CONFLICT');

    const cases: unknown[] = [
      { email: 'not-an-email', password: 'long enough', nickname: 'A' },
      { email: 'a@example.test', password: 'short', nickname: 'A' },
      { email: 'a@example.test', password: 'long enough', nickname: '' },
      { email: 'a@example.test', password: 'long enough', nickname: 'A', admin: true },
      { email: 'a@example.test', password: 12345678, nickname: 'A' },
      [],
      'text',
    ];
    for (const body of cases) {
      const r = await api(t, 'POST', '/v1/auth/register', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('BAD_REQUEST');
      expect(r.body.error.message.length).toBeGreaterThan(0);
    }
    const badJson = await api(t, 'POST', '/v1/auth/register', { rawBody: '{"email": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe('BAD_REQUEST');

    const huge = await api(t, 'POST', '/v1/auth/register', {
      body: { email: 'a@example.test', password: 'x'.repeat(200_000), nickname: 'A' },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('TOO_LARGE');
  });
});

describe('access tokens at the socket handshake and on HTTP', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  const claims = (sub: string, over: object = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { sub, typ: 'user', ver: 0, iat: now, exp: now + 600, jti: 'j', iss: 'kidwatch-hub', ...over };
  };

  it('accepts a valid token and refuses missing, forged, alg:none, expired and revoked ones', async () => {
    const u = await registerUser(t);
    (await connect(t, u.accessToken)).disconnect();

    const forged = jwt.sign(claims(u.id), 'some-other-secret-that-is-long-enough-to-matter');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(u.id))}.`;
    const [head, body] = u.accessToken.split('.');
    const tampered = `${head}.${b64({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), sub: 'someone-else' })}.${u.accessToken.split('.')[2]}`;
    const oldVersion = jwt.sign(claims(u.id, { ver: -1 }), JWT_SECRET);
    const unknownUser = jwt.sign(claims('no-such-user'), JWT_SECRET);

    for (const token of [undefined, '', 'garbage', 42, forged, none, tampered, oldVersion, unknownUser]) {
      const err = await connectError(t, token);
      expect(err.code, String(token)).toBe('UNAUTHORIZED');
      if (typeof token === 'string' && token) {
        const r = await api(t, 'GET', '/v1/me', { token });
        expect(r.status).toBe(401);
        expect(r.body.error.code).toBe('UNAUTHORIZED');
      }
    }
    expect((await api(t, 'GET', '/v1/me')).status).toBe(401);
  });

  it('refuses an expired token at the handshake', async () => {
    const u = await registerUser(t);
    t.clock.advance((t.config.accessTokenTtlS + 5) * 1000);
    try {
      const err = await connectError(t, u.accessToken);
      expect(err).toEqual({ code: 'UNAUTHORIZED', reason: 'token_expired', message: 'token expired' });
    } finally {
      t.clock.advance(-(t.config.accessTokenTtlS + 5) * 1000);
    }
  });

  it('ends a live socket when its token expires', async () => {
    const u = await registerUser(t);
    const now = Math.floor(Date.now() / 1000);
    const shortLived = jwt.sign(claims(u.id, { iat: now, exp: now + 2 }), JWT_SECRET);
    const s = await connect(t, shortLived);
    const disconnected = new Promise<string>((resolve) => s.once('disconnect', resolve));
    const expired = await waitFor(s, 'session:expired', () => true, { timeoutMs: 6000 });
    expect(expired.code).toBe('UNAUTHORIZED');
    expect(await disconnected).toBe('io server disconnect');
  });

  it('re-registering a watch invalidates its old token and ends its sockets', async () => {
    const { watch } = await familyWithWatch(t);
    const live = await connect(t, watch.deviceToken);
    const closed = new Promise<string>((resolve) => live.once('disconnect', resolve));
    const again = await provisionWatch(t, watch.imei);
    expect(again.deviceId).toBe(watch.deviceId);
    expect(again.deviceToken).not.toBe(watch.deviceToken);
    expect(again.bindingCode).not.toBe(watch.bindingCode);
    expect(await closed).toBe('io server disconnect');
    expect((await connectError(t, watch.deviceToken)).code).toBe('UNAUTHORIZED');
    (await connect(t, again.deviceToken)).disconnect();
  });

  it('does not accept a watch token where a user token is needed', async () => {
    const { watch } = await familyWithWatch(t);
    const r = await api(t, 'GET', '/v1/families', { token: watch.deviceToken });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
  });
});

describe('outside issuer (third-party login)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issuer = 'https://login.example.test';
  const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({
      env: { HUB_EXTERNAL_ISSUER: issuer, HUB_EXTERNAL_ISSUER_PUBLIC_KEY: rsaPublic.replace(/\n/g, '\\n') },
    });
  });
  afterAll(() => t.close());

  const outside = (sub: string, extra: object = {}) =>
    jwt.sign({ sub, email: `${sub}@mail.example.test`, email_verified: true, name: 'Olu', ...extra }, rsa.privateKey, {
      algorithm: 'RS256',
      issuer,
      expiresIn: 300,
    });

  it('accepts the issuer’s tokens as users, with one local account per subject', async () => {
    const token = outside('ext-1');
    const me = await api(t, 'GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ nickname: 'Olu', email: 'ext-1@mail.example.test' });
    const again = await api(t, 'GET', '/v1/me', { token: outside('ext-1') });
    expect(again.body.user.id).toBe(me.body.user.id);

    const fam = await api(t, 'POST', '/v1/families', { token, body: { name: 'Outside' } });
    expect(fam.status).toBe(201);
    const s = await connect(t, token);
    s.disconnect();
  });

  it('does not take over a local account with the same email', async () => {
    const local = await registerUser(t);
    const sub = local.email.split('@')[0]!;
    const token = jwt.sign({ sub, email: local.email, email_verified: true }, rsa.privateKey, {
      algorithm: 'RS256',
      issuer,
      expiresIn: 300,
    });
    const me = await api(t, 'GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.user.id).not.toBe(local.id);
    expect(me.body.user.email).toBeNull();
  });

  it('takes an email only when the issuer verified it', async () => {
    const token = jwt.sign({ sub: 'unverified-1', email: 'claimed@example.test' }, rsa.privateKey, {
      algorithm: 'RS256',
      issuer,
      expiresIn: 300,
    });
    const me = await api(t, 'GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBeNull();
    // The address stays free for its real owner.
    const reg = await api(t, 'POST', '/v1/auth/register', {
      body: { email: 'claimed@example.test', password: 'correct horse battery', nickname: 'Real' },
    });
    expect(reg.status).toBe(201);
  });

  it('refuses the HS256-with-public-key confusion and other keys', async () => {
    const confused = jwt.sign({ sub: 'ext-2' }, rsaPublic, { algorithm: 'HS256', issuer, expiresIn: 300 });
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const wrongKey = jwt.sign({ sub: 'ext-3' }, otherKey, { algorithm: 'RS256', issuer, expiresIn: 300 });
    for (const token of [confused, wrongKey]) {
      expect((await api(t, 'GET', '/v1/me', { token })).status).toBe(401);
      expect((await connectError(t, token)).code).toBe('UNAUTHORIZED');
    }
  });
});
