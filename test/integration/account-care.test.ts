// Account care (issue #17): nickname, password change, password reset by mail (a real SMTP
// server reads the code), and the privacy-policy version a user accepted; on both stores.
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';
import {
  JWT_SECRET,
  type TestHub,
  type TestUser,
  addMember,
  api,
  connect,
  createFamily,
  registerUser,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { type MailCatcher, resetCodeOf, startMailCatcher } from '../helpers/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase';
const MANY = { HUB_HTTP_AUTH_RATE_PER_MIN: '100000', HUB_LOGIN_MAX_FAILURES_PER_IP: '100000' };

async function login(t: TestHub, email: string, password: string) {
  return api(t, 'POST', '/v1/auth/login', { body: { email, password } });
}

/** A second session of the same user (another phone). */
async function secondSession(t: TestHub, u: TestUser): Promise<TestUser> {
  const r = await login(t, u.email, u.password);
  expect(r.status).toBe(200);
  return { ...u, accessToken: r.body.accessToken, refreshToken: r.body.refreshToken };
}

describe.each(STORE_KINDS)('account care on %s', (kind) => {
  let t: TestHub;
  let mail: MailCatcher;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    mail = await startMailCatcher();
    const db = await freshDatabaseUrl(kind);
    drop = db.drop;
    t = await startHub({
      databaseUrl: db.url,
      env: { ...MANY, HUB_SMTP_URL: mail.url, HUB_SMTP_FROM: 'kidwatch hub <no-reply@kidwatch.test>' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await mail?.close();
    await drop();
  });

  it('changes the nickname, validated like registration, and the family sees it at once', async () => {
    const owner = await registerUser(t, 'Owner');
    const fid = await createFamily(t, owner);
    const guardian = await addMember(t, owner, fid, 'guardian');
    const ownerSocket = await connect(t, owner.accessToken);

    for (const nickname of ['', '   ', '\u200b', 'x'.repeat(65), 'a\u0000b']) {
      const bad = await api(t, 'PATCH', '/v1/me', { token: guardian.accessToken, body: { nickname } });
      expect(bad.status, JSON.stringify(nickname)).toBe(400);
    }
    expect(
      (await api(t, 'PATCH', '/v1/me', { token: guardian.accessToken, body: { nickname: 'Mo', email: 'x@y.z' } })).status,
    ).toBe(400);
    expect((await api(t, 'PATCH', '/v1/me', { body: { nickname: 'Mo' } })).status).toBe(401);

    const told = waitFor(ownerSocket, 'member:updated', (e) => e.member.userId === guardian.id);
    const ok = await api(t, 'PATCH', '/v1/me', { token: guardian.accessToken, body: { nickname: '  Grandma  ' } });
    expect(ok.status).toBe(200);
    expect(ok.body.user.nickname).toBe('Grandma');
    expect(await told).toEqual({ familyId: fid, member: expect.objectContaining({ userId: guardian.id, nickname: 'Grandma' }) });
    const family = await api(t, 'GET', `/v1/families/${fid}`, { token: owner.accessToken });
    expect(family.body.members.find((m: { userId: string }) => m.userId === guardian.id).nickname).toBe('Grandma');
    expect((await api(t, 'GET', '/v1/me', { token: guardian.accessToken })).body.user.nickname).toBe('Grandma');
    ownerSocket.disconnect();
  });

  it('changes the password re-authenticated and ends every other session: tokens and sockets', async () => {
    const me = await registerUser(t);
    const other = await secondSession(t, me);
    const mine = await connect(t, me.accessToken);
    const theirs = await connect(t, other.accessToken);

    const wrong = await api(t, 'POST', '/v1/me/password', {
      token: me.accessToken,
      body: { currentPassword: 'not my password', newPassword: NEW_PASSWORD },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.reason).toBe('password_wrong');
    const short = await api(t, 'POST', '/v1/me/password', {
      token: me.accessToken,
      body: { currentPassword: me.password, newPassword: 'short' },
    });
    expect(short.status).toBe(400);

    const ended = waitFor(theirs, 'session:expired');
    const gone = new Promise<void>((resolve) => theirs.once('disconnect', () => resolve()));
    const changed = await api(t, 'POST', '/v1/me/password', {
      token: me.accessToken,
      body: { currentPassword: me.password, newPassword: NEW_PASSWORD },
    });
    expect(changed.status).toBe(204);
    await ended;
    await gone;

    // The other session: its access token, refresh token and a new socket are all refused.
    const stale = await api(t, 'GET', '/v1/me', { token: other.accessToken });
    expect(stale.status).toBe(401);
    expect(stale.body.error.reason).toBe('session_ended');
    expect((await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(401);
    await expect(connect(t, other.accessToken)).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });

    // The caller's own session goes on, socket included.
    expect((await api(t, 'GET', '/v1/me', { token: me.accessToken })).status).toBe(200);
    expect(mine.connected).toBe(true);
    const refreshed = await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: me.refreshToken } });
    expect(refreshed.status).toBe(200);

    expect((await login(t, me.email, me.password)).status).toBe(401);
    expect((await login(t, me.email, NEW_PASSWORD)).status).toBe(200);
    mine.disconnect();
  });

  it('refuses forged tokens after a password change', async () => {
    const me = await registerUser(t);
    const other = await secondSession(t, me);
    const claims = jwt.decode(other.accessToken) as jwt.JwtPayload;
    await api(t, 'POST', '/v1/me/password', {
      token: me.accessToken,
      body: { currentPassword: me.password, newPassword: NEW_PASSWORD },
    });
    const resign = (payload: object, secret: string, opts: jwt.SignOptions = {}) =>
      jwt.sign(payload, secret, { algorithm: 'HS256', ...opts });
    const { exp: _exp, iat: _iat, ...rest } = claims;
    const forged = [
      // The ended session's claims with a fresh expiry but another key: no signature.
      resign({ ...rest }, 'another-secret-of-at-least-32-characters!', { expiresIn: 600 }),
      // Unsigned.
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
        JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }),
      ).toString('base64url')}.`,
      // Signed right, but for the ended session: the session check still refuses it.
      resign({ ...rest }, JWT_SECRET, { expiresIn: 600 }),
    ];
    for (const token of forged) {
      const r = await api(t, 'GET', '/v1/me', { token });
      expect(r.status, token.slice(0, 20)).toBe(401);
    }
  });

  it('counts wrong current passwords toward the login throttle', async () => {
    const me = await registerUser(t);
    const max = t.config.loginMaxFailures.perAccount;
    for (let i = 0; i < max; i++) {
      const r = await api(t, 'POST', '/v1/me/password', {
        token: me.accessToken,
        body: { currentPassword: `wrong-${i}-password`, newPassword: NEW_PASSWORD },
      });
      expect(r.status).toBe(403);
    }
    const locked = await api(t, 'POST', '/v1/me/password', {
      token: me.accessToken,
      body: { currentPassword: me.password, newPassword: NEW_PASSWORD },
    });
    expect(locked.status).toBe(429);
    expect(locked.body.error.reason).toBe('login_locked');
    expect((await login(t, me.email, me.password)).status).toBe(429);
  });

  it('mails a single-use code, answers the same for unknown addresses, and the reset ends every session', async () => {
    const me = await registerUser(t);
    const other = await secondSession(t, me);
    const socket = await connect(t, other.accessToken);

    const known = await api(t, 'POST', '/v1/auth/password-reset', { body: { email: me.email } });
    const unknownEmail = `nobody-${Date.now()}@example.test`;
    const unknown = await api(t, 'POST', '/v1/auth/password-reset', { body: { email: unknownEmail } });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    // The address is matched as registration stores it (trimmed, lower case).
    const received = await mail.next(me.email);
    const code = resetCodeOf(received);
    await t.hub.services.passwordReset.settled();
    expect(mail.mails.some((m) => m.to.includes(unknownEmail))).toBe(false);
    // Stored by hash only.
    const row = await t.store.passwordResets.find(me.id);
    expect(row?.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(code.replace('-', ''));

    const wrong = await api(t, 'POST', '/v1/auth/password-reset/confirm', {
      body: { email: me.email, code: 'ZZZZZ-ZZZZZ', newPassword: NEW_PASSWORD },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.reason).toBe('reset_code_wrong');
    const strangerTry = await api(t, 'POST', '/v1/auth/password-reset/confirm', {
      body: { email: unknownEmail, code, newPassword: NEW_PASSWORD },
    });
    expect(strangerTry.body.error.reason).toBe('reset_code_wrong');

    const gone = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    const ok = await api(t, 'POST', '/v1/auth/password-reset/confirm', {
      body: { email: me.email.toUpperCase(), code: code.toLowerCase(), newPassword: NEW_PASSWORD },
    });
    expect(ok.status).toBe(204);
    await gone;
    for (const u of [me, other]) {
      expect((await api(t, 'GET', '/v1/me', { token: u.accessToken })).status).toBe(401);
      expect((await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status).toBe(401);
    }
    expect((await login(t, me.email, me.password)).status).toBe(401);
    expect((await login(t, me.email, NEW_PASSWORD)).status).toBe(200);

    const reused = await api(t, 'POST', '/v1/auth/password-reset/confirm', {
      body: { email: me.email, code, newPassword: 'yet another passphrase' },
    });
    expect(reused.status).toBe(403);
    expect(reused.body.error.reason).toBe('reset_code_wrong');
  });

  it('refuses a stale code, an older code once a newer one is sent, and a code guessed at too often', async () => {
    const me = await registerUser(t);
    const reset = () => api(t, 'POST', '/v1/auth/password-reset', { body: { email: me.email } });
    const confirm = (code: string) =>
      api(t, 'POST', '/v1/auth/password-reset/confirm', { body: { email: me.email, code, newPassword: NEW_PASSWORD } });

    await reset();
    const stale = resetCodeOf(await mail.next(me.email));
    t.clock.advance(t.config.passwordResetTtlMin * 60_000 + 1000);
    try {
      expect((await confirm(stale)).body.error.reason).toBe('reset_code_wrong');
    } finally {
      t.clock.advance(-(t.config.passwordResetTtlMin * 60_000 + 1000));
    }

    await reset();
    const older = resetCodeOf(await mail.next(me.email));
    await reset();
    const newer = resetCodeOf(await mail.next(me.email));
    expect((await confirm(older)).body.error.reason).toBe('reset_code_wrong');
    for (let i = 0; i < 4; i++) expect((await confirm(`WRONG-${i}AAAA`)).status).toBe(403);
    // Five wrong guesses (the older code was one): the newer code is gone too.
    expect((await confirm(newer)).body.error.reason).toBe('reset_code_wrong');
    expect((await login(t, me.email, me.password)).status).toBe(200);
  });

  it('keeps the hub policy version and asks for re-acceptance', async () => {
    const { version } = (await api(t, 'GET', '/v1/policy')).body;
    expect(version).toBe(t.config.policyVersion);
    const stale = await api(t, 'POST', '/v1/auth/register', {
      body: { email: `p-${Date.now()}@example.test`, password: 'long enough pw', nickname: 'P', acceptedPolicyVersion: '0' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.reason).toBe('policy_version_mismatch');

    const accepted = await api(t, 'POST', '/v1/auth/register', {
      body: { email: `q-${Date.now()}@example.test`, password: 'long enough pw', nickname: 'Q', acceptedPolicyVersion: version },
    });
    expect(accepted.status).toBe(201);
    const me = await api(t, 'GET', '/v1/me', { token: accepted.body.accessToken });
    expect(me.body.policyAcceptanceRequired).toBe(false);
    expect(me.body.policy).toMatchObject({ version, acceptedVersion: version });

    const silent = await registerUser(t);
    expect((await api(t, 'GET', '/v1/me', { token: silent.accessToken })).body.policyAcceptanceRequired).toBe(true);
    const wrong = await api(t, 'POST', '/v1/me/policy', { token: silent.accessToken, body: { version: `${version}.9` } });
    expect(wrong.status).toBe(409);
    const ok = await api(t, 'POST', '/v1/me/policy', { token: silent.accessToken, body: { version } });
    expect(ok.status).toBe(200);
    expect(ok.body.policyAcceptanceRequired).toBe(false);
    expect((await api(t, 'POST', '/v1/me/policy', { body: { version } })).status).toBe(401);

    // The acceptance, and an open reset code (never the code), are in the user's export.
    await api(t, 'POST', '/v1/auth/password-reset', { body: { email: silent.email } });
    const code = resetCodeOf(await mail.next(silent.email));
    const exported = await api(t, 'GET', '/v1/me/export', { token: silent.accessToken });
    expect(exported.body.user).toMatchObject({ policyVersion: version, policyAcceptedAt: expect.any(Number) });
    expect(exported.body.passwordReset).toEqual({
      requestedAt: expect.any(Number),
      expiresAt: expect.any(Number),
      wrongTries: 0,
    });
    expect(JSON.stringify(exported.body)).not.toContain(code.replace('-', ''));
  });
});

describe.each(STORE_KINDS)('policy versions across a restart on %s', (kind) => {
  it('asks again once the hub serves a newer version, and only then', async () => {
    const db = await freshDatabaseUrl(kind);
    try {
      let t = await startHub({ databaseUrl: db.url, env: { HUB_POLICY_VERSION: '2026-01-09' } });
      let user: TestUser;
      try {
        user = await registerUser(t);
        await api(t, 'POST', '/v1/me/policy', { token: user.accessToken, body: { version: '2026-01-09' } });
      } finally {
        await t.close();
      }
      for (const [version, required] of [
        ['2026-01-09', false],
        ['2025-12-31', false],
        ['2026-01-10', true],
      ] as const) {
        t = await startHub({ databaseUrl: db.url, env: { HUB_POLICY_VERSION: version } });
        try {
          const me = await api(t, 'GET', '/v1/me', { token: user.accessToken });
          expect(me.status).toBe(200);
          expect(me.body.policyAcceptanceRequired, version).toBe(required);
          if (required) {
            await api(t, 'POST', '/v1/me/policy', { token: user.accessToken, body: { version } });
            expect((await api(t, 'GET', '/v1/me', { token: user.accessToken })).body.policyAcceptanceRequired).toBe(false);
          }
        } finally {
          await t.close();
        }
      }
    } finally {
      await db.drop();
    }
  });
});

describe('password reset without mail, and under a flood', () => {
  let off: TestHub;
  let flood: TestHub;
  let mail: MailCatcher;
  beforeAll(async () => {
    mail = await startMailCatcher();
    off = await startHub();
    flood = await startHub({
      env: { ...MANY, HUB_BUDGET_SCALE: '1', HUB_SMTP_URL: mail.url, HUB_SMTP_FROM: 'no-reply@kidwatch.test' },
    });
  });
  afterAll(async () => {
    await off?.close();
    await flood?.close();
    await mail?.close();
  });

  it('answers UNAVAILABLE without HUB_SMTP_URL, saying why', async () => {
    const u = await registerUser(off);
    for (const [path, body] of [
      ['/v1/auth/password-reset', { email: u.email }],
      ['/v1/auth/password-reset/confirm', { email: u.email, code: 'AAAAA-AAAAA', newPassword: NEW_PASSWORD }],
    ] as const) {
      const r = await api(off, 'POST', path, { body });
      expect(r.status).toBe(503);
      expect(r.body.error).toMatchObject({ code: 'UNAVAILABLE', reason: 'mail_off' });
      expect(r.body.error.message).toContain('HUB_SMTP_URL');
    }
  });

  it('throttles reset requests per address, known or not, and per client address', async () => {
    const u = await registerUser(flood);
    const ask = (email: string) => api(flood, 'POST', '/v1/auth/password-reset', { body: { email } });
    const answers = async (email: string) => {
      const got: number[] = [];
      for (let i = 0; i < 4; i++) got.push((await ask(email)).status);
      return got;
    };
    expect(await answers(u.email)).toEqual([202, 202, 202, 429]);
    expect(await answers(`nobody-${Date.now()}@example.test`)).toEqual([202, 202, 202, 429]);
    await flood.hub.services.passwordReset.settled();
    expect(mail.mails.filter((m) => m.to.includes(u.email))).toHaveLength(3);

    // 8 spent from this address so far; the per-address limit ends the flood at 20.
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await ask(`flood-${i}-${Date.now()}@example.test`)).status);
    expect(statuses.slice(0, 12).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
    const limited = await ask(`one-more-${Date.now()}@example.test`);
    expect(limited.body.error.reason).toBe('rate_limited');
  });

  it('throttles code guesses per address', async () => {
    const u = await registerUser(flood);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await api(flood, 'POST', '/v1/auth/password-reset/confirm', {
        body: { email: u.email, code: `GUESS-${i}AAAA`, newPassword: NEW_PASSWORD },
      });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 403)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe('accounts of an outside issuer', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issuer = 'https://login.example.test';
  let t: TestHub;
  let mail: MailCatcher;
  beforeAll(async () => {
    mail = await startMailCatcher();
    const publicKey = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    t = await startHub({
      env: {
        HUB_EXTERNAL_ISSUER: issuer,
        HUB_EXTERNAL_ISSUER_PUBLIC_KEY: publicKey.replace(/\n/g, '\\n'),
        HUB_SMTP_URL: mail.url,
        HUB_SMTP_FROM: 'no-reply@kidwatch.test',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  it('have no password to change or reset here, and the reset answer says nothing of that', async () => {
    const sub = `ext-${Date.now()}`;
    const email = `${sub}@mail.example.test`;
    const token = jwt.sign({ sub, email, email_verified: true, name: 'Olu' }, rsa.privateKey, {
      algorithm: 'RS256',
      issuer,
      expiresIn: 300,
    });
    expect((await api(t, 'PATCH', '/v1/me', { token, body: { nickname: 'Olu O.' } })).body.user.nickname).toBe('Olu O.');
    const change = await api(t, 'POST', '/v1/me/password', {
      token,
      body: { currentPassword: 'anything at all', newPassword: NEW_PASSWORD },
    });
    expect(change.status).toBe(409);
    expect(change.body.error.reason).toBe('no_password');

    const local = await registerUser(t);
    const forOutside = await api(t, 'POST', '/v1/auth/password-reset', { body: { email } });
    const forLocal = await api(t, 'POST', '/v1/auth/password-reset', { body: { email: local.email } });
    expect(forOutside.status).toBe(202);
    expect(forOutside.body).toEqual(forLocal.body);
    await mail.next(local.email);
    await t.hub.services.passwordReset.settled();
    expect(mail.mails.some((m) => m.to.includes(email))).toBe(false);
  });
});
