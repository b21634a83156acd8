// Security hardening: signing-key rotation, login throttling, security headers, and the browser
// origin allow-list for HTTP and sockets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/auth/tokens.js';
import { JWT_SECRET, type TestHub, api, connect, connectError, registerUser, startHub } from '../helpers/hub.js';

const NEW_SECRET = 'rotated-secret-0123456789-0123456789-zyxwv';

describe('signing-key rotation', () => {
  it('accepts tokens of a retired key by kid, signs with the new one, refuses unknown keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-rotate-'));
    const databaseUrl = `sqlite:${join(dir, 'hub.sqlite')}`;
    try {
      const before = await startHub({ databaseUrl });
      const u = await registerUser(before);
      expect(jwt.decode(u.accessToken, { complete: true })?.header.kid).toBe(keyId(JWT_SECRET));
      await before.close();

      const after = await startHub({ databaseUrl, jwtSecret: NEW_SECRET, env: { HUB_JWT_PREVIOUS_SECRETS: JWT_SECRET } });
      try {
        expect((await api(after, 'GET', '/v1/me', { token: u.accessToken })).status).toBe(200);
        (await connect(after, u.accessToken)).disconnect();
        const fresh = await api(after, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } });
        expect(jwt.decode(fresh.body.accessToken, { complete: true })?.header.kid).toBe(keyId(NEW_SECRET));
        const unknownKid = jwt.sign({ sub: u.id, typ: 'user', ver: 0 }, 'yet-another-secret-0123456789-0123456789', {
          issuer: 'kidwatch-hub',
          keyid: 'deadbeef0000',
          expiresIn: 60,
        });
        expect((await api(after, 'GET', '/v1/me', { token: unknownKid })).status).toBe(401);
      } finally {
        await after.close();
      }
      // Once the old key is dropped from the list, its tokens stop working.
      const later = await startHub({ databaseUrl, jwtSecret: NEW_SECRET });
      try {
        expect((await api(later, 'GET', '/v1/me', { token: u.accessToken })).status).toBe(401);
      } finally {
        await later.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('login throttling, headers and origins', () => {
  let t: TestHub;
  const allowed = 'https://app.example.test';
  beforeAll(async () => {
    t = await startHub({ env: { HUB_LOGIN_MAX_FAILURES: '3', HUB_LOGIN_MAX_FAILURES_PER_IP: '8', HUB_CORS_ORIGINS: allowed } });
  });
  afterAll(() => t.close());

  it('locks an account after repeated failures, even for the right password, and then the address', async () => {
    const victim = await registerUser(t);
    const login = (email: string, password: string) => api(t, 'POST', '/v1/auth/login', { body: { email, password } });
    for (let i = 0; i < 3; i++) expect((await login(victim.email, 'guess-guess')).status).toBe(401);
    const locked = await login(victim.email, victim.password);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('RATE_LIMITED');
    // Another account from the same address still logs in, until the address uses up its budget.
    const other = await registerUser(t);
    expect((await login(other.email, other.password)).status).toBe(200);
    for (let i = 0; i < 5; i++) await login(`nobody${i}@example.test`, 'guess-guess');
    expect((await login(other.email, other.password)).status).toBe(429);
  });

  it('sends security headers', async () => {
    const r = await fetch(`${t.url}/healthz`);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBeTruthy();
    expect(r.headers.get('strict-transport-security')).toMatch(/max-age/);
    expect(r.headers.get('content-security-policy')).toMatch(/default-src/);
  });

  it('lets allowed browser origins in, and no others, on HTTP and sockets', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.url}/v1/families`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    expect((await preflight(allowed)).headers.get('access-control-allow-origin')).toBe(allowed);
    expect((await preflight('https://evil.example.test')).headers.get('access-control-allow-origin')).toBeNull();

    const u = await registerUser(t);
    const open = (origin?: string) =>
      new Promise<boolean>((resolve) => {
        const s = io(t.url, {
          auth: { token: u.accessToken },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          ...(origin ? { extraHeaders: { origin } } : {}),
        });
        s.once('connect', () => {
          s.close();
          resolve(true);
        });
        s.once('connect_error', () => {
          s.close();
          resolve(false);
        });
      });
    expect(await open()).toBe(true);
    expect(await open(allowed)).toBe(true);
    expect(await open('https://evil.example.test')).toBe(false);
    expect((await connectError(t, 'x')).code).toBe('UNAUTHORIZED');
  });
});
