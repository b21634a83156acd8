// The server side of the parents' web app: the cookie session mode of the auth routes
// (src/http/web-session.ts), the static files, CSP and config endpoint (src/http/web-routes.ts),
// and the socket origin check that lets the hub's own pages in.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_REUSE_GRACE_MS } from '../../src/auth/accounts.js';
import { ConfigError, loadConfig, tilesHostSource } from '../../src/config.js';
import { isOwnOrigin, webCsp, webRoutes } from '../../src/http/web-routes.js';
import { api, registerUser, startHub, type TestHub } from '../helpers/hub.js';

const COOKIE = { 'x-hub-session': 'cookie' };

/** The hub_refresh cookie a response sets: its value and its attributes, lower-cased. */
function refreshCookie(headers: Headers): { value: string; attrs: string[] } | undefined {
  const raw = headers.getSetCookie().find((c) => c.startsWith('hub_refresh='));
  if (!raw) return undefined;
  const [pair, ...attrs] = raw.split(';').map((p) => p.trim());
  return { value: pair!.slice('hub_refresh='.length), attrs: attrs.map((a) => a.toLowerCase()) };
}

describe('browser sessions: the refresh token in an HttpOnly cookie', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(() => t.close());

  const email = () => `web-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`;

  it('register and login put the refresh token in a strict cookie, never in the body', async () => {
    const address = email();
    const reg = await api(t, 'POST', '/v1/auth/register', {
      body: { email: address, password: 'correct horse battery', nickname: 'Ann' },
      headers: COOKIE,
    });
    expect(reg.status).toBe(201);
    expect(reg.body.accessToken).toEqual(expect.any(String));
    expect(reg.body.user.email).toBe(address);
    expect(reg.body).not.toHaveProperty('refreshToken');
    const cookie = refreshCookie(reg.headers)!;
    expect(cookie.value.length).toBeGreaterThan(20);
    expect(cookie.attrs).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/v1/auth/', `max-age=${t.config.refreshTokenTtlS}`]),
    );
    // Plain HTTP here: Secure would make the browser drop it on http://localhost development hubs.
    expect(cookie.attrs).not.toContain('secure');
    expect(reg.headers.get('cache-control')).toBe('no-store');

    const login = await api(t, 'POST', '/v1/auth/login', {
      body: { email: address, password: 'correct horse battery' },
      headers: COOKIE,
    });
    expect(login.status).toBe(200);
    expect(login.body).not.toHaveProperty('refreshToken');
    expect(refreshCookie(login.headers)!.value).not.toBe(cookie.value);
  });

  it('marks the cookie Secure when the browser came over HTTPS (through a trusted proxy)', async () => {
    const proxied = await startHub({ env: { HUB_TRUST_PROXY: 'true' } });
    try {
      const r = await api(proxied, 'POST', '/v1/auth/register', {
        body: { email: email(), password: 'correct horse battery', nickname: 'Ann' },
        headers: { ...COOKIE, 'x-forwarded-proto': 'https' },
      });
      expect(r.status).toBe(201);
      expect(refreshCookie(r.headers)!.attrs).toContain('secure');
    } finally {
      await proxied.close();
    }
  });

  it('refresh rotates the cookie, and a replayed cookie revokes the session and is cleared', async () => {
    const reg = await api(t, 'POST', '/v1/auth/register', {
      body: { email: email(), password: 'correct horse battery', nickname: 'Ann' },
      headers: COOKIE,
    });
    const first = refreshCookie(reg.headers)!.value;
    const refreshed = await api(t, 'POST', '/v1/auth/refresh', {
      headers: { ...COOKIE, cookie: `other=1; hub_refresh=${first}` },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.accessToken).toEqual(expect.any(String));
    expect(refreshed.body).not.toHaveProperty('refreshToken');
    const second = refreshCookie(refreshed.headers)!.value;
    expect(second).not.toBe(first);
    expect((await api(t, 'GET', '/v1/me', { token: refreshed.body.accessToken })).status).toBe(200);

    // Past the few seconds a reloading browser may take to present its old cookie again, a
    // replay is a replay.
    t.clock.advance(BROWSER_REUSE_GRACE_MS + 1000);
    const replay = await api(t, 'POST', '/v1/auth/refresh', { headers: { ...COOKIE, cookie: `hub_refresh=${first}` } });
    expect(replay.status).toBe(401);
    const cleared = refreshCookie(replay.headers)!;
    expect(cleared.value).toBe('');
    expect(cleared.attrs).toContain('max-age=0');
    // The whole chain died with the reuse, the newest cookie included.
    const after = await api(t, 'POST', '/v1/auth/refresh', { headers: { ...COOKIE, cookie: `hub_refresh=${second}` } });
    expect(after.status).toBe(401);
  });

  it('lets a browser that reloaded mid-refresh present its old cookie once more, within seconds', async () => {
    const reg = await api(t, 'POST', '/v1/auth/register', {
      body: { email: email(), password: 'correct horse battery', nickname: 'Ann' },
      headers: COOKIE,
    });
    const first = refreshCookie(reg.headers)!.value;
    // The refresh the browser sent before reloading: the hub rotated, the new cookie never arrived.
    expect((await api(t, 'POST', '/v1/auth/refresh', { headers: { ...COOKIE, cookie: `hub_refresh=${first}` } })).status).toBe(
      200,
    );
    const again = await api(t, 'POST', '/v1/auth/refresh', { headers: { ...COOKIE, cookie: `hub_refresh=${first}` } });
    expect(again.status).toBe(200);
    expect((await api(t, 'GET', '/v1/me', { token: again.body.accessToken })).status).toBe(200);
    // Outside the cookie session (a native app's body token), the same reuse revokes at once.
    const u = await registerUser(t);
    expect((await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status).toBe(200);
    expect((await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status).toBe(401);
  });

  it('without a cookie, a cookie-mode refresh is 401 and the body is ignored', async () => {
    const u = await registerUser(t);
    const r = await api(t, 'POST', '/v1/auth/refresh', { headers: COOKIE, body: { refreshToken: u.refreshToken } });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
    // The body token was not used up by that request.
    expect((await api(t, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).status).toBe(200);
  });

  it('a cookie alone does nothing: without the custom header (a cross-site form) the body is required', async () => {
    const reg = await api(t, 'POST', '/v1/auth/register', {
      body: { email: email(), password: 'correct horse battery', nickname: 'Ann' },
      headers: COOKIE,
    });
    const token = refreshCookie(reg.headers)!.value;
    const forged = await fetch(`${t.url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { cookie: `hub_refresh=${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(forged.status).toBe(415);
    const noBody = await api(t, 'POST', '/v1/auth/logout', { headers: { cookie: `hub_refresh=${token}` }, body: {} });
    expect(noBody.status).toBe(400);
    // Still alive.
    const ok = await api(t, 'POST', '/v1/auth/refresh', { headers: { ...COOKIE, cookie: `hub_refresh=${token}` } });
    expect(ok.status).toBe(200);
  });

  it('logout ends the cookie session and clears the cookie; without a cookie it is a quiet 204', async () => {
    const reg = await api(t, 'POST', '/v1/auth/register', {
      body: { email: email(), password: 'correct horse battery', nickname: 'Ann' },
      headers: COOKIE,
    });
    const token = refreshCookie(reg.headers)!.value;
    const out = await api(t, 'POST', '/v1/auth/logout', { headers: { ...COOKIE, cookie: `hub_refresh=${token}` } });
    expect(out.status).toBe(204);
    expect(refreshCookie(out.headers)!.attrs).toContain('max-age=0');
    expect((await api(t, 'GET', '/v1/me', { token: reg.body.accessToken })).status).toBe(401);
    expect((await api(t, 'POST', '/v1/auth/refresh', { headers: { ...COOKIE, cookie: `hub_refresh=${token}` } })).status).toBe(
      401,
    );
    expect((await api(t, 'POST', '/v1/auth/logout', { headers: COOKIE })).status).toBe(204);
  });

  it('accepts sockets from the hub’s own origin and still refuses other sites', async () => {
    const u = await registerUser(t);
    const open = (origin: string) =>
      new Promise<boolean>((resolve) => {
        const s = io(t.url, {
          auth: { token: u.accessToken },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { origin },
        });
        s.once('connect', () => (s.close(), resolve(true)));
        s.once('connect_error', () => (s.close(), resolve(false)));
      });
    expect(await open(t.url)).toBe(true);
    expect(await open(t.url.replace('127.0.0.1', 'localhost'))).toBe(false);
    expect(await open('https://evil.example.test')).toBe(false);
  });
});

describe('own-origin and tile host rules', () => {
  it('compares the origin with Host, or X-Forwarded-Host behind a trusted proxy', () => {
    expect(isOwnOrigin('https://hub.example.org', { host: 'hub.example.org' }, false)).toBe(true);
    expect(isOwnOrigin('http://127.0.0.1:3000', { host: '127.0.0.1:3000' }, false)).toBe(true);
    expect(isOwnOrigin('http://127.0.0.1:3001', { host: '127.0.0.1:3000' }, false)).toBe(false);
    expect(isOwnOrigin('null', { host: 'hub.example.org' }, false)).toBe(false);
    expect(isOwnOrigin('file://hub.example.org', { host: 'hub.example.org' }, false)).toBe(false);
    expect(isOwnOrigin('https://hub.example.org', {}, false)).toBe(false);
    const proxied = { host: 'hub-internal:3000', 'x-forwarded-host': 'hub.example.org' };
    expect(isOwnOrigin('https://hub.example.org', proxied, true)).toBe(true);
    expect(isOwnOrigin('https://hub.example.org', proxied, false)).toBe(false);
  });

  it('derives the img-src host from the tile template, and refuses templates it cannot use', () => {
    expect(tilesHostSource('https://tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe('https://tile.openstreetmap.org');
    expect(tilesHostSource('https://{s}.tile.example.org:8443/{z}/{x}/{y}.png')).toBe('https://*.tile.example.org:8443');
    expect(tilesHostSource('https://tile.example.org/{z}/{x}.png')).toBeUndefined();
    expect(tilesHostSource("https://tile.example.org/{z}/{x}/{y}.png'; script-src *")).toBeUndefined();
    expect(tilesHostSource('javascript:alert(1)//{z}/{x}/{y}')).toBeUndefined();
    expect(() => loadConfig({ HUB_MAP_TILES_URL: 'ftp://x/{z}/{x}/{y}' })).toThrow(ConfigError);
    expect(loadConfig({ HUB_MAP_TILES_URL: ' https://t.example.org/{z}/{x}/{y}.png ' }).map.tilesUrl).toBe(
      'https://t.example.org/{z}/{x}/{y}.png',
    );
    expect(webCsp(undefined)['img-src']).toEqual(["'self'", 'data:', 'blob:']);
  });
});

describe('static files of the web app', () => {
  let dir: string;
  let app: FastifyInstance;
  const js = `console.log(${JSON.stringify('x'.repeat(4000))});`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'web-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><title>t</title><script type="module" src="/assets/index-AbCd1234.js"></script>',
    );
    writeFileSync(join(dir, 'assets', 'index-AbCd1234.js'), js);
    writeFileSync(join(dir, 'assets', 'index-AbCd1234.js.map'), '{}');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    app = Fastify();
    await app.register(helmet, { global: true });
    webRoutes(app, { dir, tilesUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', tilesAttribution: '© OSM' });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with no-cache and the strict CSP naming the tile host in img-src only', async () => {
    const r = await app.inject({ url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toBe(
      "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data: blob: https://tile.openstreetmap.org;" +
        "media-src 'self' blob:;connect-src 'self' ws: wss:;object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'",
    );
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['permissions-policy']).toMatch(/camera=\(self\), microphone=\(self\)/);
    expect((await app.inject({ url: '/index.html' })).body).toBe(r.body);
  });

  it('serves hashed assets immutable, compressed on request, with ETags', async () => {
    const r = await app.inject({ url: '/assets/index-AbCd1234.js', headers: { 'accept-encoding': 'gzip' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.rawPayload).toString()).toBe(js);
    const again = await app.inject({ url: '/assets/index-AbCd1234.js', headers: { 'if-none-match': String(r.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(
      (await app.inject({ url: '/assets/index-AbCd1234.js', headers: { 'accept-encoding': 'br' } })).headers['content-encoding'],
    ).toBe('br');
    expect((await app.inject({ url: '/assets/index-AbCd1234.js' })).body).toBe(js);
    expect((await app.inject({ url: '/favicon.svg' })).headers['cache-control']).toBe('no-cache');
  });

  it('serves nothing else: no source maps, no paths outside the build', async () => {
    expect((await app.inject({ url: '/assets/index-AbCd1234.js.map' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/../package.json' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/assets/other.js' })).statusCode).toBe(404);
  });

  it('hands the app its map settings', async () => {
    const r = await app.inject({ url: '/app/config.json' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ tilesUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', tilesAttribution: '© OSM' });
  });

  it('says how to build the app when it is missing, and still answers the config', async () => {
    const bare = Fastify();
    await bare.register(helmet, { global: true });
    webRoutes(bare, { dir: join(dir, 'nowhere') });
    const r = await bare.inject({ url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toMatch(/npm run build:web/);
    expect((await bare.inject({ url: '/app/config.json' })).json()).toEqual({ tilesUrl: null, tilesAttribution: null });
    await bare.close();
  });

  it('answers with the reason the build recorded when Vite could not load', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'hub-web-unbuilt-'));
    writeFileSync(join(parent, 'web-unbuilt.txt'), 'Vite cannot load (Cannot find native binding)\n');
    const bare = Fastify();
    await bare.register(helmet, { global: true });
    webRoutes(bare, { dir: join(parent, 'web') });
    const r = await bare.inject({ url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('not built on this hub: Vite cannot load (Cannot find native binding).');
    expect(r.body).not.toMatch(/npm run build:web/);
    await bare.close();
    rmSync(parent, { recursive: true, force: true });
  });
});
