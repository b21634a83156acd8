// The hub as `npm start` runs it: the built main.js on embedded defaults (SQLite file, no Redis
// or PostgreSQL), a bad variable stopping the start, the JWT secret kept across restarts, and a
// clean exit on SIGTERM. `npm test` builds dist/ first.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROVISIONING_KEY, api, connect, request } from '../helpers/hub.js';
import { fix, sharingFamily } from '../helpers/location.js';
import { startHubProcess } from '../helpers/processes.js';

const dataDir = mkdtempSync(join(tmpdir(), 'hub-process-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const start = (env: Record<string, string>) => startHubProcess({ HUB_DATA_DIR: dataDir, ...env });

describe('the hub process', () => {
  it('starts on embedded defaults, keeps its secret across restarts, and exits cleanly on SIGTERM', async () => {
    const first = await start({});
    expect((await api(first, 'GET', '/healthz')).status).toBe(200);
    expect((await api(first, 'GET', '/readyz')).body).toEqual({ status: 'ready' });
    expect(existsSync(join(dataDir, 'hub.sqlite'))).toBe(true);
    expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    const reg = await api(first, 'POST', '/v1/auth/register', {
      body: { email: 'proc@example.test', password: 'correct horse battery', nickname: 'P' },
    });
    expect(reg.status).toBe(201);
    const socket = await connect(first, reg.body.accessToken);
    const told = new Promise((resolve) => socket.once('server:draining', resolve));
    first.child.kill('SIGTERM');
    await told;
    socket.disconnect();
    expect(await first.exited).toBe(0);

    // Same data dir: the account and the token signed before the restart are still good.
    const second = await start({});
    try {
      const me = await api(second, 'GET', '/v1/me', { token: reg.body.accessToken });
      expect(me.status).toBe(200);
      expect(me.body.user.email).toBe('proc@example.test');
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('refuses to start on a bad variable, naming it', async () => {
    const err = (await start({ PORT: 'eighty', HUB_H3_RES: '99' }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/PORT/);
    expect(err.stderr).toMatch(/HUB_H3_RES/);
  });

  it('loses no acknowledged fix when killed without warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-crash-'));
    const env = { HUB_DATA_DIR: dir, HUB_PROVISIONING_KEY: PROVISIONING_KEY, HUB_SOCKET_RATE_POINTS: '10000' };
    try {
      const first = await start(env);
      const a = await sharingFamily(first);
      // From now on (a family sees only fixes taken since it bound the watch): the 400 fixes span
      // 40 s ahead, well within HUB_FIX_MAX_FUTURE_S.
      const t0 = Date.now();
      // Reports in flight together, so several group commits are under way when the kill lands.
      // The kill lands as soon as a quarter of the reports are acknowledged, with the rest in
      // flight: whatever was acknowledged must be there after the restart.
      const acked: number[] = [];
      let killNow: () => void = () => undefined;
      const quarterAcked = new Promise<void>((resolve) => (killNow = resolve));
      for (let r = 0; r < 40; r++) {
        const fixes = Array.from({ length: 10 }, (_, i) => fix({ ts: t0 + (r * 10 + i) * 100 }));
        void request(a.watchSocket, 'location:report', { fixes }).then(
          (res: { ok: boolean }) => {
            if (res.ok) acked.push(...fixes.map((f) => f.ts));
            if (acked.length >= 100) killNow();
          },
          () => undefined,
        );
      }
      await quarterAcked;
      first.child.kill('SIGKILL');
      await first.exited;
      expect(acked.length).toBeGreaterThan(0);

      const second = await start(env);
      try {
        const parent = await connect(second, a.owner.accessToken);
        const stored: number[] = [];
        let cursor: string | null = null;
        do {
          const page: { fixes: { ts: number }[]; nextCursor: string | null } = await request(parent, 'location:history', {
            deviceId: a.deviceId,
            from: t0,
            to: t0 + 400 * 100,
            limit: 1000,
            ...(cursor ? { cursor } : {}),
          });
          stored.push(...page.fixes.map((f) => f.ts));
          cursor = page.nextCursor;
        } while (cursor);
        const storedSet = new Set(stored);
        expect(acked.filter((ts) => !storedSet.has(ts))).toEqual([]);
        parent.disconnect();
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
