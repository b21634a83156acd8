// The hub as `npm start` runs it: the built main.js on embedded defaults (SQLite file, no Redis
// or PostgreSQL), a bad variable stopping the start, the JWT secret kept across restarts, and a
// clean exit on SIGTERM. `npm test` builds dist/ first.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, connect } from '../helpers/hub.js';

const MAIN = join(import.meta.dirname, '../../dist/src/main.js');
const dataDir = mkdtempSync(join(tmpdir(), 'hub-process-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts main.js with a clean environment plus `env`; resolves once it logs its port. */
function start(env: Record<string, string>): Promise<Started> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"port":(\d+)[^\n]*"msg":"hub listening"/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}`, exited });
    });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    void exited.then((code) => reject(Object.assign(new Error(`exited ${code}: ${err}`), { code, stderr: err })));
  });
}

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
});
