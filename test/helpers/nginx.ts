// Debian's nginx in front of hub processes, with the project's own deploy/nginx.conf adapted to
// loopback: the same proxy rules docker-compose uses, pointed at the test's nodes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CONF = join(import.meta.dirname, '../../deploy/nginx.conf');

export interface Nginx {
  url: string;
  stop(): void;
}

export async function startNginx(upstreamPorts: number[], listenPort: number): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'hub-nginx-'));
  let conf = readFileSync(CONF, 'utf8')
    .replace(/^user\s.*$/m, '')
    .replace(/^worker_processes\s.*$/m, 'worker_processes 1;')
    .replace(/^error_log\s.*$/m, `error_log ${dir}/error.log warn;`)
    .replace(/^pid\s.*$/m, `pid ${dir}/nginx.pid;`)
    .replace(/access_log\s+\S+/g, `access_log ${dir}/access.log`)
    .replace(/^\s*resolver\s.*$/m, '')
    .replace(/listen\s+80;/, `listen 127.0.0.1:${listenPort};`);
  // Compose's hub1..hub3 become the test's nodes; `resolve` is for Docker's DNS only.
  const servers = upstreamPorts.map((p) => `        server  127.0.0.1:${p}  max_fails=3  fail_timeout=10s;`).join('\n');
  conf = conf.replace(/(\s*server\s+hub\d:3000[^\n]*\n)+/g, `\n${servers}\n`);
  conf = conf.replace(/http \{/, `http {\n    client_body_temp_path ${dir}/body;\n    proxy_temp_path ${dir}/proxy;`);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${listenPort}`;
  for (let i = 0; i < 50; i++) {
    try {
      await fetch(`${url}/healthz`);
      return { url, stop: () => child.kill('SIGTERM') };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not start: ${readFileSync(join(dir, 'error.log'), 'utf8').slice(-500)}`);
}
