// Debian's nginx in front of hub processes, with the project's own deploy/nginx.conf adapted to
// loopback: the same proxy rules docker-compose uses, pointed at the test's nodes. The `stream`
// block (watches over TCP) is pointed at the nodes' watch ports when the test gives them, and
// left out otherwise.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CONF = join(import.meta.dirname, '../../deploy/nginx.conf');
/** Debian builds the stream module as a dynamic module (package libnginx-mod-stream). */
const DEBIAN_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export interface Nginx {
  url: string;
  /** Where watches connect (the stream block's listener), when watch ports were given. */
  watchPort?: number;
  stop(): void;
}

export interface NginxOptions {
  /** The nodes' watch TCP ports (HUB_WATCH_TCP_PORT) for the stream block; without them it is left out. */
  watchPorts?: number[];
  /** The port nginx listens on for watches (default: listenPort + 1). */
  watchListenPort?: number;
}

/** The text of `<head> { … }` from `head` to its closing brace, or undefined. */
function blockAt(conf: string, head: RegExp): { start: number; end: number } | undefined {
  const m = head.exec(conf);
  if (!m) return undefined;
  let depth = 0;
  for (let i = conf.indexOf('{', m.index); i < conf.length; i++) {
    if (conf[i] === '{') depth += 1;
    else if (conf[i] === '}' && --depth === 0) return { start: m.index, end: i + 1 };
  }
  return undefined;
}

/** deploy/nginx.conf as the test's nginx runs it from `dir`. */
export function renderNginxConf(dir: string, upstreamPorts: number[], listenPort: number, opts: NginxOptions = {}): string {
  let conf = readFileSync(CONF, 'utf8')
    .replace(/^user\s.*$/m, '')
    .replace(/^worker_processes\s.*$/m, 'worker_processes 1;')
    .replace(/^error_log\s.*$/m, `error_log ${dir}/error.log warn;`)
    .replace(/^pid\s.*$/m, `pid ${dir}/nginx.pid;`)
    .replace(/access_log\s+\S+/g, `access_log ${dir}/access.log`)
    .replace(/^\s*resolver\s.*$/gm, '')
    .replace(/listen\s+80;/, `listen 127.0.0.1:${listenPort};`);
  // Compose's hub1..hub3 become the test's nodes; `resolve` is for Docker's DNS only.
  const servers = upstreamPorts.map((p) => `        server  127.0.0.1:${p}  max_fails=3  fail_timeout=10s;`).join('\n');
  conf = conf.replace(/(\s*server\s+hub\d:3000[^\n]*\n)+/g, `\n${servers}\n`);
  conf = conf.replace(/http \{/, `http {\n    client_body_temp_path ${dir}/body;\n    proxy_temp_path ${dir}/proxy;`);
  const stream = blockAt(conf, /^stream\s*\{/m);
  if (stream && opts.watchPorts?.length) {
    const watchServers = opts.watchPorts.map((p) => `        server  127.0.0.1:${p}  max_fails=3  fail_timeout=10s;`).join('\n');
    let body = conf.slice(stream.start, stream.end);
    body = body.replace(/(\s*server\s+hub\d:\d+[^\n]*\n)+/g, `\n${watchServers}\n`);
    body = body.replace(/listen\s+\d+(\s[^;]*)?;/, `listen 127.0.0.1:${opts.watchListenPort ?? listenPort + 1}$1;`);
    conf = conf.slice(0, stream.start) + body + conf.slice(stream.end);
    if (existsSync(DEBIAN_STREAM_MODULE)) conf = `load_module ${DEBIAN_STREAM_MODULE};\n${conf}`;
  } else if (stream) {
    conf = conf.slice(0, stream.start) + conf.slice(stream.end);
  }
  return conf;
}

export async function startNginx(upstreamPorts: number[], listenPort: number, opts: NginxOptions = {}): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'hub-nginx-'));
  const conf = renderNginxConf(dir, upstreamPorts, listenPort, opts);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${listenPort}`;
  const watchPort = opts.watchPorts?.length ? (opts.watchListenPort ?? listenPort + 1) : undefined;
  for (let i = 0; i < 50; i++) {
    try {
      await fetch(`${url}/healthz`);
      return { url, ...(watchPort !== undefined ? { watchPort } : {}), stop: () => child.kill('SIGTERM') };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '(no error log)';
  throw new Error(`nginx did not start: ${log.slice(-500)}`);
}
