// The mistakes a newcomer makes on a first start, each answered with one line that names what to
// change (no stack trace), and `npm start` behaving as a user expects: no rebuild when nothing
// changed, and `kill <pid of npm start>` stops the hub. `npm test` builds dist/ first.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/hub.js';
import { startHubProcess } from '../helpers/processes.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'hub-first-run-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type StartFailure = { code: number; stderr: string };
const failure = (env: Record<string, string>) =>
  startHubProcess(env).then(
    async (hub) => {
      await hub.stop();
      throw new Error('the hub started but should not have');
    },
    (err: unknown) => err as StartFailure,
  );

/** One line starting "hub failed to start:", with no stack frames. */
function expectOneLine(err: StartFailure, pattern: RegExp): void {
  const line = err.stderr.trim();
  expect(line).toMatch(/^hub failed to start: /);
  expect(line.split('\n')).toHaveLength(1);
  expect(line).not.toMatch(/\n\s+at /);
  expect(line).toMatch(pattern);
}

describe('first-run mistakes', () => {
  it('a port already in use names the port and PORT', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await failure({ HUB_DATA_DIR: tempDir(), PORT: String(port) });
      expectOneLine(err, new RegExp(`port ${port} .*already in use.*PORT=`));
    } finally {
      blocker.close();
    }
  });

  it('a second hub on the same SQLite data directory is refused, and the first keeps serving', async () => {
    const dir = tempDir();
    const first = await startHubProcess({ HUB_DATA_DIR: dir });
    try {
      const err = await failure({ HUB_DATA_DIR: dir });
      expectOneLine(err, new RegExp(`another hub \\(pid ${first.child.pid}\\) is already using the database .*HUB_DATA_DIR`));
      expect((await api(first, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await first.stop();
    }
    // Once the first has stopped, its lock is gone and the directory can be used again.
    const again = await startHubProcess({ HUB_DATA_DIR: dir });
    await again.stop();
  });

  it('an unreachable PostgreSQL says so and names DATABASE_URL, without the password', async () => {
    const err = await failure({ HUB_DATA_DIR: tempDir(), DATABASE_URL: 'postgres://hub:s3cret@127.0.0.1:1/hub' });
    expectOneLine(err, /cannot use PostgreSQL at postgres:\/\/hub:\*\*\*@127\.0\.0\.1:1\/hub.*connection refused.*DATABASE_URL/);
    expect(err.stderr).not.toContain('s3cret');
  });

  it('a PostgreSQL database that does not exist is named as such', async () => {
    const url = new URL(process.env.HUB_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    url.pathname = '/hub_no_such_database';
    const err = await failure({ HUB_DATA_DIR: tempDir(), DATABASE_URL: url.toString() });
    expectOneLine(err, /database does not exist.*DATABASE_URL/);
  });

  it('a data directory that cannot be written names HUB_DATA_DIR', async () => {
    const parent = tempDir();
    const file = join(parent, 'not-a-directory');
    await import('node:fs').then((fs) => fs.writeFileSync(file, 'x'));
    const err = await failure({ HUB_DATA_DIR: join(file, 'data') });
    expectOneLine(err, /HUB_DATA_DIR .* cannot be used .*writable directory/);
  });

  it('a watch TLS certificate that is missing, or is not a PEM certificate and key, names the variables', async () => {
    const dir = tempDir();
    const tls = (cert: string, key: string) => ({
      HUB_DATA_DIR: dir,
      HUB_WATCH_TCP_PORT: '0',
      HUB_WATCH_TLS_PORT: '47999', // refused before anything listens
      HUB_WATCH_TLS_CERT_FILE: cert,
      HUB_WATCH_TLS_KEY_FILE: key,
    });
    const missing = await failure(tls(join(dir, 'no-such-cert.pem'), join(dir, 'no-such-key.pem')));
    expectOneLine(
      missing,
      /HUB_WATCH_TLS_CERT_FILE .*no-such-cert\.pem cannot be read \(ENOENT\): point it at a readable PEM file/,
    );
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const garbled = await failure(tls(junk, junk));
    expectOneLine(garbled, /HUB_WATCH_TLS_CERT_FILE and HUB_WATCH_TLS_KEY_FILE are not a PEM certificate and its private key/);
  });

  it('creates the data directory for its owner only', async () => {
    const dir = join(tempDir(), 'fresh');
    const hub = await startHubProcess({ HUB_DATA_DIR: dir });
    await hub.stop();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});

describe('npm start', () => {
  it('does not rebuild when nothing changed, serves, and stops when npm is killed', async () => {
    const root = join(import.meta.dirname, '../..');
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        PORT: '0',
        HOST: '127.0.0.1',
        HUB_DATA_DIR: tempDir(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    npm.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`npm start did not listen: ${stderr}`)), 30_000);
      npm.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /"port":(\d+)[^\n]*"msg":"hub listening"/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${m[1]}`);
        }
      });
    });
    expect(stderr).not.toMatch(/building dist/);
    expect((await api({ url }, 'GET', '/healthz')).status).toBe(200);
    npm.kill('SIGTERM');
    // The hub itself must stop (not linger as an orphan holding the port).
    const deadline = Date.now() + 15_000;
    let up = true;
    while (up && Date.now() < deadline) {
      up = await fetch(`${url}/healthz`).then(
        () => true,
        () => false,
      );
      if (up) await new Promise((r) => setTimeout(r, 100));
    }
    expect(up).toBe(false);
  });
});
