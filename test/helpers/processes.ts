// Hub processes for tests that need real nodes: the built main.js with its own environment,
// started on port 0 and found by the port it logs.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const MAIN = join(import.meta.dirname, '../../dist/src/main.js');

export interface HubProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const START_TIMEOUT_MS = 30_000;

/** Starts main.js; a node that does not say it listens within 30 s is killed and the start fails. */
export function startHubProcess(env: Record<string, string>): Promise<HubProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('hub did not start (does HUB_LOG_LEVEL let "hub listening" through?)'));
    }, START_TIMEOUT_MS);
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"port":(\d+)[^\n]*"msg":"hub listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        out = '';
        resolve({
          child,
          url: `http://127.0.0.1:${m[1]}`,
          exited,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
      if (out.length > 1_000_000) out = out.slice(-10_000);
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited ${code}: ${err}`), { code, stderr: err }));
    });
  });
}
