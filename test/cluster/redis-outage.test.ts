// Redis restarted under a running node: readiness turns false while it is down, the node keeps
// serving what does not need Redis, and everything comes back when Redis does.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../helpers/databases.js';
import { PROVISIONING_KEY, api, connect, request, waitFor } from '../helpers/hub.js';
import { fix, sharingFamily } from '../helpers/location.js';
import { startHubProcess } from '../helpers/processes.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server on loopback, so stopping it disturbs no other test. */
function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
}

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('a Redis outage', () => {
  it('turns readiness false while it lasts, keeps serving, and recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-redis-'));
    const port = await freePort();
    let redis = await startRedis(port, dir);
    const db = await freshDatabaseUrl('postgres');
    const node = await startHubProcess({
      HUB_NODE_ID: 'outage',
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      HUB_JWT_SECRET: 'cluster-test-secret-0123456789-0123456789',
      HUB_FIELD_KEY: Buffer.alloc(32, 3).toString('base64'),
      HUB_PROVISIONING_KEY: PROVISIONING_KEY,
      HUB_DATA_DIR: dir,
      MEDIASOUP_WORKERS: '0',
      HUB_LOG_LEVEL: 'info',
    });
    try {
      const fam = await sharingFamily(node);
      expect((await api(node, 'GET', '/readyz')).status).toBe(200);

      redis.kill('SIGKILL');
      expect(await until(async () => (await api(node, 'GET', '/readyz')).status === 503, 15_000)).toBe(true);
      expect((await api(node, 'GET', '/readyz')).body).toEqual({ status: 'redis unreachable' });
      // What needs only the store goes on: HTTP reads, and the process stays up.
      expect((await api(node, 'GET', '/healthz')).status).toBe(200);
      expect((await api(node, 'GET', `/v1/families/${fam.familyId}`, { token: fam.owner.accessToken })).status).toBe(200);

      redis = await startRedis(port, dir);
      expect(await until(async () => (await api(node, 'GET', '/readyz')).status === 200, 20_000)).toBe(true);
      // The sockets outlived the outage, and live events flow again through the adapter.
      // Clients (re)connecting now are served in full: their reports are stored and told. (Sockets
      // may drop during the outage; real clients reconnect by themselves.)
      const parent = await connect(node, fam.owner.accessToken);
      const watch = await connect(node, fam.watch.deviceToken);
      const heard = waitFor(parent, 'location');
      expect((await request(watch, 'location:report', fix())).ok).toBe(true);
      await heard;
      expect(node.child.exitCode).toBeNull();
    } finally {
      await node.stop();
      redis.kill('SIGKILL');
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
