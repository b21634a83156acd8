// Static checks of the deployment files: Dockerfile, docker-compose.yml and deploy/nginx.conf.
// No Docker engine is needed: the files are parsed and cross-checked against src/config.ts, so a
// compose file that sets an unknown variable, a value the hub would refuse at start, or an nginx
// upstream on the wrong port fails here rather than in production.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS, envSchema, loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');
const KNOWN_ENV = new Set<string>(ENV_VARS);

// ---------------------------------------------------------------------------------------------
// Compose variable interpolation (the subset of the compose spec that matters here):
// $$ → $, ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error},
// ${VAR:+alt}, ${VAR+alt}. Defaults may themselves contain interpolations.

type Vars = Readonly<Record<string, string | undefined>>;

function interpolate(text: string, vars: Vars): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch !== '$') {
      out += ch;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      // Find the matching brace (defaults can nest ${...}).
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j += 1) {
        if (text[j] === '{') depth += 1;
        else if (text[j] === '}') depth -= 1;
      }
      if (depth !== 0) throw new Error(`unterminated interpolation in ${JSON.stringify(text)}`);
      const inner = text.slice(i + 2, j - 1);
      out += resolveExpr(inner, vars);
      i = j;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (bare) {
      out += vars[bare[0]] ?? '';
      i += 1 + bare[0].length;
      continue;
    }
    out += '$';
    i += 1;
  }
  return out;
}

function resolveExpr(inner: string, vars: Vars): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([\s\S]*))?$/.exec(inner);
  if (!m) throw new Error(`invalid interpolation \${${inner}}`);
  const name = m[1] ?? '';
  const colon = m[2] === ':';
  const op = m[3];
  const arg = m[4] ?? '';
  const value = vars[name];
  const missing = value === undefined || (colon && value === '');
  switch (op) {
    case undefined:
      return value ?? '';
    case '-':
      return missing ? interpolate(arg, vars) : (value ?? '');
    case '?':
      if (missing) throw new Error(`required variable ${name} is missing: ${arg}`);
      return value ?? '';
    case '+':
      return missing ? '' : interpolate(arg, vars);
    default:
      throw new Error(`invalid interpolation \${${inner}}`);
  }
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface Service {
  build?: unknown;
  image?: unknown;
  pull_policy?: unknown;
  environment?: unknown;
  ports?: unknown;
  volumes?: unknown;
  depends_on?: unknown;
  healthcheck?: unknown;
  stop_grace_period?: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Raw (uninterpolated) environment of a service: map or list form. null → inherited → undefined. */
function rawEnv(service: Service): Record<string, string | undefined> {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const s = String(entry);
        const eq = s.indexOf('=');
        return eq < 0 ? [s, undefined] : [s.slice(0, eq), s.slice(eq + 1)];
      }),
    );
  }
  if (!isRecord(env)) throw new Error('environment must be a map or a list');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? undefined : String(v)]));
}

/** Environment as the container sees it, with the compose file's own defaults (empty shell). */
function resolvedEnv(service: Service, shell: Vars = {}): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(rawEnv(service)).map(([k, v]) => [k, v === undefined ? shell[k] : interpolate(v, shell)]),
  );
}

/** Is the service built from this repository's Dockerfile? */
function builtFromDockerfile(service: Service): boolean {
  const b = service.build;
  const ctxOk = (ctx: unknown) => typeof ctx === 'string' && resolve(ROOT, ctx) === resolve(ROOT);
  if (typeof b === 'string') return ctxOk(b);
  if (isRecord(b)) {
    const dockerfile = b['dockerfile'] ?? 'Dockerfile';
    return ctxOk(b['context'] ?? '.') && dockerfile === 'Dockerfile';
  }
  return false;
}

function dependsOn(service: Service): string[] {
  const d = service.depends_on;
  if (Array.isArray(d)) return d.map(String);
  if (isRecord(d)) return Object.keys(d);
  return [];
}

function dependsHealthy(service: Service, on: string): boolean {
  const d = service.depends_on;
  if (!isRecord(d)) return false;
  const entry = d[on];
  return isRecord(entry) && entry['condition'] === 'service_healthy';
}

/** Published ports as { host, container } (short "h:c", "ip:h:c" or long syntax). */
interface PublishedPort {
  host: number | undefined;
  container: number;
  protocol: 'tcp' | 'udp';
}

/** Published ports, one entry per port (a range `a-b:a-b/udp` gives b-a+1 entries). */
function publishedPorts(service: Service): PublishedPort[] {
  const ports = service.ports;
  if (ports === undefined || ports === null) return [];
  if (!Array.isArray(ports)) throw new Error('ports must be a list');
  return ports.flatMap((p): PublishedPort[] => {
    if (isRecord(p)) {
      return [
        {
          host: p['published'] === undefined ? undefined : Number(p['published']),
          container: Number(p['target']),
          protocol: p['protocol'] === 'udp' ? 'udp' : 'tcp',
        },
      ];
    }
    const text = String(p);
    const protocol = /\/udp$/.test(text) ? 'udp' : 'tcp';
    const parts = text.replace(/\/(tcp|udp)$/, '').split(':');
    const range = (v: string | undefined): [number, number] => {
      const [lo = '', hi] = (v ?? '').split('-');
      return [Number(lo), Number(hi ?? lo)];
    };
    const [cLo, cHi] = range(parts[parts.length - 1]);
    const hostPart = parts.length >= 2 ? parts[parts.length - 2] : undefined;
    const [hLo, hHi] = hostPart === undefined ? [undefined, undefined] : range(hostPart);
    if (hLo !== undefined && hHi! - hLo !== cHi - cLo) throw new Error(`mismatched port ranges in ${text}`);
    return Array.from({ length: cHi - cLo + 1 }, (_, i) => ({
      host: hLo === undefined ? undefined : hLo + i,
      container: cLo + i,
      protocol,
    }));
  });
}

/** Bind mounts as { source, target, readOnly }. */
function mounts(service: Service): { source: string; target: string; readOnly: boolean }[] {
  const vols = service.volumes;
  if (!Array.isArray(vols)) return [];
  return vols.map((v) => {
    if (isRecord(v)) {
      return { source: String(v['source']), target: String(v['target']), readOnly: v['read_only'] === true };
    }
    const [source = '', target = '', mode = ''] = String(v).split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

function healthTest(service: Service): string {
  const h = service.healthcheck;
  if (!isRecord(h)) return '';
  const t = h['test'];
  return Array.isArray(t) ? t.map(String).join(' ') : String(t ?? '');
}

const compose: unknown = parse(read('docker-compose.yml'), { merge: true });
if (!isRecord(compose) || !isRecord(compose['services'])) throw new Error('docker-compose.yml has no services');
const services = compose['services'] as Record<string, Service>;
/** The services that build the Dockerfile (one: the image is built once) and the image they tag. */
const builders = Object.keys(services).filter((name) => builtFromDockerfile(services[name] ?? {}));
const hubImage = String(services[builders[0] ?? '']?.image ?? '');
/** The hubs: every service running that image. */
const hubNames = Object.keys(services)
  .filter((name) => hubImage !== '' && services[name]?.image === hubImage)
  .sort();
const hubs = hubNames.map((name) => ({ name, service: services[name] ?? {} }));

// ---------------------------------------------------------------------------------------------
// deploy/nginx.conf

const nginxText = read('deploy/nginx.conf');
/** Comments removed, whitespace collapsed, so directives compare as `name arg arg;`. */
const nginx = nginxText
  .split('\n')
  .map((line) => line.replace(/(^|\s)#.*$/, ''))
  .join('\n')
  .replace(/\s+/g, ' ');

/** Body of the first block `<head> { ... }` (nested blocks included). */
function block(text: string, head: RegExp): string | undefined {
  const m = head.exec(text);
  if (!m) return undefined;
  let i = m.index + m[0].length;
  while (i < text.length && text[i] !== '{') i += 1;
  const start = i + 1;
  let depth = 1;
  for (i = start; i < text.length && depth > 0; i += 1) {
    if (text[i] === '{') depth += 1;
    else if (text[i] === '}') depth -= 1;
  }
  return depth === 0 ? text.slice(start, i - 1) : undefined;
}

function locations(text: string): { path: string; body: string }[] {
  const out: { path: string; body: string }[] = [];
  const re = /location ((?:[=~^*]+ )?)(\S+) \{/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const body = block(text.slice(m.index), /location [^{]*/);
    out.push({ path: `${m[1] ?? ''}${m[2] ?? ''}`, body: body ?? '' });
  }
  return out;
}

// (The head stops before the brace: block() starts at the first brace after it.)
const httpBlock = block(nginx, /(?:^|[;{}]) ?http (?=\{)/) ?? '';
/** The TCP proxy for watches (the stream module): a top-level `stream { … }`. */
const streamBlock = block(nginx, /(?:^|[;{}]) ?stream (?=\{)/);

/** Every upstream block of a context: its name, body and servers. */
function upstreamsOf(text: string) {
  return [...text.matchAll(/upstream (\S+) \{/g)].map((m) => {
    const body = block(text.slice(m.index), /upstream \S+ /) ?? '';
    const servers = [...body.matchAll(/(?:^|[;{ ])server ([^\s;:]+):(\d+)[^;]*;/g)].map((x) => ({
      host: x[1] ?? '',
      port: Number(x[2]),
    }));
    return { name: m[1] ?? '', body, servers };
  });
}
/** The http context's upstreams (HTTP and Socket.IO). */
const upstreams = upstreamsOf(httpBlock);
const streamUpstreams = upstreamsOf(streamBlock ?? '');
/** The `server { … }` blocks of the stream context. */
const streamServers = [...(streamBlock ?? '').matchAll(/(?:^|[;{}]) ?server \{/g)].map(
  (m) => block((streamBlock ?? '').slice(m.index), /server /) ?? '',
);
/** A hub's watch TCP port, as its environment sets it (the gateway's default otherwise). */
const watchPortOf = (service: Service): number => envSchema.HUB_WATCH_TCP_PORT.parse(resolvedEnv(service)['HUB_WATCH_TCP_PORT']);
const WATCH_PORT_DEFAULT = envSchema.HUB_WATCH_TCP_PORT.parse(undefined);
const upstreamNames = upstreams.map((u) => u.name);
/** The Socket.IO upstream map: `map "<key>" $var { <value> <upstream>; … }`. */
const socketIoMap = /map "\$arg_transport:\$arg_sid" \$(\S+) \{([^}]*)\}/.exec(nginx);
const mapTargets = Object.fromEntries(
  [...(socketIoMap?.[2] ?? '').matchAll(/(\S+)\s+(\S+);/g)].map((m) => [m[1]!.replace(/"/g, ''), m[2] ?? '']),
);
const nginxLocations = locations(httpBlock);
const socketIo = nginxLocations.find((l) => l.path.replace(/^[=~^*]+ /, '') === '/socket.io/');

function sizeBytes(v: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (!m) throw new Error(`bad size ${v}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

function seconds(v: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v);
  if (!m) throw new Error(`bad duration ${v}`);
  const unit = m[2] ?? 's';
  const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * mult;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}

const dockerfile: Instruction[] = read('Dockerfile')
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const m = /^(\S+)\s*(.*)$/.exec(l);
    return { keyword: (m?.[1] ?? '').toUpperCase(), args: (m?.[2] ?? '').trim() };
  });

interface Stage {
  base: string;
  name: string | undefined;
  body: Instruction[];
}

const stages: Stage[] = [];
for (const ins of dockerfile) {
  if (ins.keyword === 'FROM') {
    const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
    stages.push({ base: m?.[1] ?? '', name: m?.[2]?.toLowerCase(), body: [] });
  } else {
    stages[stages.length - 1]?.body.push(ins);
  }
}
const finalStage = stages[stages.length - 1];
const stageByName = (name: string) => stages.find((s) => s.name === name.toLowerCase());
/** Stage and its ancestors (FROM <earlier stage>), nearest first. */
function lineage(stage: Stage | undefined): Stage[] {
  const out: Stage[] = [];
  for (let s = stage; s && !out.includes(s); s = stageByName(s.base)) out.push(s);
  return out;
}
const runsIn = (stage: Stage | undefined, re: RegExp) =>
  lineage(stage).some((s) => s.body.some((i) => i.keyword === 'RUN' && re.test(i.args)));
/** ENV a=b c=d or ENV a b */
function envOf(stage: Stage | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of stage?.body ?? []) {
    if (i.keyword !== 'ENV') continue;
    if (/^\S+=/.test(i.args)) {
      for (const m of i.args.matchAll(/(\S+?)=("[^"]*"|\S*)/g)) out[m[1] ?? ''] = (m[2] ?? '').replace(/^"|"$/g, '');
    } else {
      const [k = '', ...rest] = i.args.split(/\s+/);
      out[k] = rest.join(' ');
    }
  }
  return out;
}
/** COPY --from=<stage> <src...> <dest> in the final stage. */
const copiesFrom = (finalStage?.body ?? [])
  .filter((i) => i.keyword === 'COPY')
  .map((i) => {
    const from = /--from=(\S+)/.exec(i.args)?.[1];
    const paths = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    return { from, srcs: paths.slice(0, -1), dest: paths[paths.length - 1] ?? '' };
  });

const defaults = loadConfig({});

// =============================================================================================

describe('compose interpolation resolver', () => {
  it('resolves defaults, required values, escapes and nesting', () => {
    expect(interpolate('${A:-x}', {})).toBe('x');
    expect(interpolate('${A:-x}', { A: '' })).toBe('x');
    expect(interpolate('${A-x}', { A: '' })).toBe('');
    expect(interpolate('${A:-x}', { A: 'y' })).toBe('y');
    expect(interpolate('a$${B}c', {})).toBe('a${B}c');
    expect(interpolate('$A/${B}', { A: '1', B: '2' })).toBe('1/2');
    expect(interpolate('${A:-${B:-z}}', {})).toBe('z');
    expect(interpolate('${A:+set}', { A: '1' })).toBe('set');
    expect(() => interpolate('${A:?needed}', {})).toThrow(/A/);
  });
});

describe('docker-compose.yml', () => {
  it('has redis, postgres, nginx and exactly three hubs running one image built once from the Dockerfile', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'postgres', 'nginx']));
    expect(builders).toHaveLength(1);
    expect(hubImage).toMatch(/\S/);
    expect(hubNames).toHaveLength(3);
    // The others never try to pull the locally built image from a registry.
    for (const { name, service } of hubs) if (!builders.includes(name)) expect(service.pull_policy, name).toBe('never');
    expect(String(services['redis']?.image)).toMatch(/^redis:/);
    expect(String(services['postgres']?.image)).toMatch(/^postgres:/);
    expect(String(services['nginx']?.image)).toMatch(/^nginx:/);
    for (const name of ['redis', 'postgres', 'nginx']) expect(hubNames).not.toContain(name);
  });

  it('gives redis and postgres health checks, and hubs wait for them', () => {
    expect(healthTest(services['postgres'] ?? {})).toMatch(/pg_isready/);
    // Over TCP (-h): during initdb the server answers on its socket only, not on the network.
    expect(healthTest(services['postgres'] ?? {})).toMatch(/pg_isready .*-h 127\.0\.0\.1/);
    expect(healthTest(services['redis'] ?? {})).toMatch(/redis-cli.*ping/);
    for (const { service } of hubs) {
      expect(dependsHealthy(service, 'postgres')).toBe(true);
      expect(dependsHealthy(service, 'redis')).toBe(true);
    }
  });

  it('sets only environment variables the hub knows (src/config.ts ENV_VARS)', () => {
    for (const { name, service } of hubs) {
      const unknown = Object.keys(rawEnv(service)).filter((k) => !KNOWN_ENV.has(k));
      expect(unknown, `${name} sets unknown variables`).toEqual([]);
    }
  });

  it('points every hub at the shared postgres and redis services', () => {
    const pgEnv = resolvedEnv(services['postgres'] ?? {});
    for (const { name, service } of hubs) {
      const env = resolvedEnv(service);
      const db = new URL(env['DATABASE_URL'] ?? 'missing:');
      expect(db.protocol, `${name} DATABASE_URL`).toMatch(/^postgres(ql)?:$/);
      expect(db.hostname, `${name} DATABASE_URL host`).toBe('postgres');
      expect(['', '5432']).toContain(db.port);
      expect(decodeURIComponent(db.username)).toBe(pgEnv['POSTGRES_USER'] ?? 'postgres');
      expect(decodeURIComponent(db.password)).toBe(pgEnv['POSTGRES_PASSWORD']);
      expect(db.pathname).toBe(`/${pgEnv['POSTGRES_DB'] ?? pgEnv['POSTGRES_USER'] ?? 'postgres'}`);

      const redis = new URL(env['REDIS_URL'] ?? 'missing:');
      expect(redis.protocol, `${name} REDIS_URL`).toMatch(/^rediss?:$/);
      expect(redis.hostname, `${name} REDIS_URL host`).toBe('redis');
      expect(['', '6379']).toContain(redis.port);
    }
  });

  it('gives hubs distinct node ids and the same secrets', () => {
    const envs = hubs.map(({ service }) => resolvedEnv(service));
    const ids = envs.map((e) => e['HUB_NODE_ID']);
    for (const id of ids) expect(id).toMatch(/\S/);
    expect(new Set(ids).size).toBe(hubs.length);

    const secrets = envs.map((e) => e['HUB_JWT_SECRET']);
    expect(secrets[0]).toBeDefined();
    expect(new Set(secrets).size).toBe(1);
    // Also when the operator sets it: the raw text must be the same interpolation.
    expect(new Set(hubs.map(({ service }) => rawEnv(service)['HUB_JWT_SECRET'])).size).toBe(1);
    expect(new Set(envs.map((e) => e['HUB_PROVISIONING_KEY'])).size).toBe(1);
  });

  it("feeds each hub's environment to loadConfig without a ConfigError", () => {
    for (const { name, service } of hubs) {
      const env = resolvedEnv(service);
      const config = loadConfig(env);
      expect(config.nodeId, name).toBe(env['HUB_NODE_ID']);
      expect(config.databaseUrl).toMatch(/^postgres(ql)?:\/\//);
      expect(config.redisUrl).toMatch(/^rediss?:\/\//);
      expect(config.jwtSecret).toBeDefined();
    }
  });

  it('also loads when the operator overrides the secrets from the shell', () => {
    const shell = { HUB_JWT_SECRET: 'x'.repeat(40), HUB_PROVISIONING_KEY: 'k'.repeat(20) };
    for (const { service } of hubs) {
      const config = loadConfig(resolvedEnv(service, shell));
      expect(config.jwtSecret).toBe(shell.HUB_JWT_SECRET);
      expect(config.provisioningKey).toBe(shell.HUB_PROVISIONING_KEY);
    }
  });

  it('publishes nginx, and of each hub only its own media port range, with its config mounted read-only', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'nginx' || hubNames.includes(name)) continue;
      expect(publishedPorts(service), `${name} must not publish ports`).toEqual([]);
    }
    const taken = new Set<string>();
    for (const { name, service } of hubs) {
      const config = loadConfig(resolvedEnv(service));
      const published = publishedPorts(service);
      for (const protocol of ['udp', 'tcp'] as const) {
        const ports = published.filter((p) => p.protocol === protocol);
        // Exactly the worker's range, the same numbers outside (ICE candidates carry the port).
        expect(
          ports.map((p) => p.container),
          `${name} ${protocol}`,
        ).toEqual(Array.from({ length: config.media.maxPort - config.media.minPort + 1 }, (_, i) => config.media.minPort + i));
        for (const p of ports) {
          expect(p.host, `${name} ${protocol} ${p.container}`).toBe(p.container);
          const key = `${protocol}:${p.host}`;
          expect(taken.has(key), `${key} published twice`).toBe(false);
          taken.add(key);
        }
      }
      expect(config.media.workers, name).toBeGreaterThan(0);
      expect(config.media.listenIp, name).toBe('0.0.0.0');
      expect(config.media.announcedIp, name).toMatch(/\S/);
    }
    const nginxService = services['nginx'] ?? {};
    const ports = publishedPorts(nginxService);
    const listen = Number(/listen (\d+)/.exec(httpBlock)?.[1]);
    expect(ports.some((p) => p.host !== undefined && p.host > 0 && p.container === listen)).toBe(true);
    // And the watches' TCP port, the same number outside and in (watches are set to a host and port).
    const watchListen = Number(/listen (\d+)/.exec(streamServers[0] ?? '')?.[1]);
    expect(ports.some((p) => p.protocol === 'tcp' && p.host === watchListen && p.container === watchListen)).toBe(true);

    const conf = mounts(nginxService).find((m) => m.target === '/etc/nginx/nginx.conf');
    expect(conf).toBeDefined();
    expect(resolve(ROOT, conf?.source ?? '')).toBe(resolve(ROOT, 'deploy/nginx.conf'));
    expect(conf?.readOnly).toBe(true);
    expect(existsSync(join(ROOT, 'deploy/nginx.conf'))).toBe(true);
    expect(dependsOn(nginxService).sort()).toEqual(expect.arrayContaining(hubNames));
  });

  it('pins nginx to a release that accepts deploy/nginx.conf', () => {
    const m = /^nginx:(\d+)\.(\d+)\.(\d+)(-\w+)?$/.exec(String(services['nginx']?.image));
    expect(m, 'an exact nginx version').not.toBeNull();
    const version = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    // `server … resolve` in an upstream needs nginx 1.27.3 or later.
    if (/\bresolve\b/.test(nginx)) {
      const atLeast = (v: number[], min: number[]) =>
        v[0]! > min[0]! || (v[0] === min[0] && (v[1]! > min[1]! || (v[1] === min[1] && v[2]! >= min[2]!)));
      expect(atLeast(version, [1, 27, 3]), `nginx ${version.join('.')}`).toBe(true);
    }
  });

  it('lets a hub drain before SIGKILL', () => {
    for (const { name, service } of hubs) {
      const grace = service.stop_grace_period;
      const config = loadConfig(resolvedEnv(service));
      const graceS = grace === undefined ? 10 : seconds(String(grace));
      expect(graceS * 1000, `${name} stop_grace_period`).toBeGreaterThan(config.drainTimeoutMs);
    }
  });
});

describe('deploy/nginx.conf', () => {
  it('has events and http blocks', () => {
    expect(block(nginx, /(?:^|[;{}]) ?events \{/)).toBeDefined();
    expect(block(nginx, /(?:^|[;{}]) ?http \{/)).toBeDefined();
  });

  it('balances over exactly the compose hub services, on the port each hub listens on', () => {
    expect(upstreams.length).toBeGreaterThanOrEqual(1);
    for (const u of upstreams) {
      expect(u.servers.map((x) => x.host).sort(), u.name).toEqual(hubNames);
      for (const { name, service } of hubs) {
        const port = loadConfig(resolvedEnv(service)).port;
        expect(u.servers.find((x) => x.host === name)?.port, `${u.name}: ${name} upstream port`).toBe(port);
      }
    }
    // Every proxied location goes to an upstream, or to the Socket.IO map whose values are upstreams.
    const proxied = nginxLocations.filter((l) => / ?proxy_pass /.test(l.body));
    expect(proxied.length).toBeGreaterThanOrEqual(4);
    for (const l of proxied) {
      const target = /proxy_pass http:\/\/(\S+);/.exec(l.body)?.[1] ?? '';
      if (target.startsWith('$')) {
        expect(target, l.path).toBe(`$${socketIoMap?.[1]}`);
        for (const value of Object.values(mapTargets)) expect(upstreamNames, l.path).toContain(value);
      } else expect(upstreamNames, l.path).toContain(target);
    }
  });

  it('keeps a long-polling session on one node, and lets WebSocket-only sessions go anywhere', () => {
    // Default socket.io-client options poll first: each poll is a new request that must reach the
    // node holding the session, and so must the upgrade (it carries the sid).
    expect(socketIo?.body).toMatch(new RegExp(`proxy_pass http://\\$${socketIoMap?.[1]};`));
    const sticky = upstreams.find((u) => u.name === mapTargets.default);
    expect(sticky?.body).toMatch(/(hash \$remote_addr( consistent)?|ip_hash);/);
    const wsOnly = upstreams.find((u) => u.name === mapTargets['websocket:']);
    expect(wsOnly).toBeDefined();
    expect(wsOnly?.body).not.toMatch(/hash|ip_hash/);
  });

  it('upgrades /socket.io/ to WebSocket with a long read timeout', () => {
    expect(socketIo).toBeDefined();
    const body = socketIo?.body ?? '';
    expect(body).toMatch(/proxy_http_version 1\.1;/);
    expect(body).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(body).toMatch(/proxy_set_header Connection (\$connection_upgrade|"?upgrade"?);/);
    expect(nginx).toMatch(/map \$http_upgrade \$connection_upgrade \{/);
    const timeout = /proxy_read_timeout (\S+);/.exec(body)?.[1];
    expect(timeout).toBeDefined();
    // Longer than Engine.IO's ping interval + timeout (25 s + 20 s).
    expect(seconds(timeout ?? '0')).toBeGreaterThan(45);
  });

  it('proxies /v1/, /healthz and /readyz, passing the client address everywhere', () => {
    const paths = nginxLocations.filter((l) => / ?proxy_pass /.test(l.body)).map((l) => l.path.replace(/^[=~^*]+ /, ''));
    expect(paths).toEqual(expect.arrayContaining(['/socket.io/', '/v1/', '/healthz', '/readyz']));
    // A location with any proxy_set_header inherits none from above: check each one.
    for (const l of nginxLocations.filter((x) => / ?proxy_pass /.test(x.body))) {
      // nginx is the edge: it overwrites the header, so a client cannot choose its own address.
      expect(l.body, l.path).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
      expect(l.body, l.path).toMatch(/proxy_set_header X-Real-IP \$remote_addr;/);
    }
  });

  it('does not expose /metrics', () => {
    const metrics = nginxLocations.find((l) => l.path.replace(/^[=~^*]+ /, '') === '/metrics');
    expect(metrics).toBeDefined();
    expect(metrics?.body ?? '').not.toMatch(/proxy_pass/);
    expect(metrics?.body ?? '').toMatch(/return 40[34];|deny all;/);
  });

  it('accepts bodies at least as large as the hub default', () => {
    const size = /client_max_body_size (\S+);/.exec(nginx)?.[1];
    expect(size).toBeDefined();
    expect(sizeBytes(size ?? '0')).toBeGreaterThanOrEqual(defaults.maxHttpBodyBytes);
  });
});

describe('deploy/nginx.conf stream block (watches over TCP)', () => {
  it('listens on the watch port and balances it over exactly the compose hubs, on the port each hub listens on', () => {
    expect(streamBlock, 'a top-level stream { } block').toBeDefined();
    expect(streamServers).toHaveLength(1);
    const server = streamServers[0] ?? '';
    const listen = Number(/listen (\d+)[^;]*;/.exec(server)?.[1]);
    // Every hub sets the watch port explicitly, and nginx listens on the same number.
    for (const { name, service } of hubs) {
      expect(rawEnv(service)['HUB_WATCH_TCP_PORT'], `${name} sets HUB_WATCH_TCP_PORT`).toBeDefined();
      expect(watchPortOf(service), name).toBeGreaterThan(0);
    }
    expect(listen).toBe(WATCH_PORT_DEFAULT);
    const target = /proxy_pass (\S+);/.exec(server)?.[1] ?? '';
    const upstream = streamUpstreams.find((u) => u.name === target);
    expect(upstream, `proxy_pass ${target} names a stream upstream`).toBeDefined();
    expect(upstream?.servers.map((x) => x.host).sort()).toEqual(hubNames);
    for (const { name, service } of hubs) {
      expect(upstream?.servers.find((x) => x.host === name)?.port, `${name} watch port`).toBe(watchPortOf(service));
    }
    // Not HTTP: no http upstream or location points at the watch port.
    for (const u of upstreams) for (const x of u.servers) expect(x.port, u.name).not.toBe(WATCH_PORT_DEFAULT);
  });

  it('keeps quiet watch connections open longer than the hub would, and finds dead ones', () => {
    const server = streamServers[0] ?? '';
    const timeout = /proxy_timeout (\S+);/.exec(server)?.[1];
    expect(timeout, 'proxy_timeout (the default, 10 min, is shorter than a watch may be quiet)').toBeDefined();
    // Longer than the gateway's idle limit (HUB_WATCH_IDLE_TIMEOUT_S, 15 min by default): the hub decides.
    expect(seconds(timeout ?? '0')).toBeGreaterThan(15 * 60);
    expect(server).toMatch(/listen \d+ [^;]*so_keepalive=on/);
    expect(server).toMatch(/proxy_connect_timeout \S+;/);
  });

  it('balances by open connections and bounds connections per client address at the edge', () => {
    const server = streamServers[0] ?? '';
    const upstream = streamUpstreams.find((u) => u.name === /proxy_pass (\S+);/.exec(server)?.[1]);
    // One TCP connection is one watch session: nothing needs to stick, so no address hash.
    expect(upstream?.body).toMatch(/least_conn;/);
    expect(upstream?.body).not.toMatch(/\bhash\b|ip_hash/);
    // Every watch reaches a hub from nginx's address: the per-address bound lives in nginx, and the
    // hubs' own one must not be what caps the whole balancer.
    const zone = /limit_conn_zone \$binary_remote_addr zone=(\w+):\S+;/.exec(streamBlock ?? '')?.[1];
    expect(zone).toBeDefined();
    const perAddr = Number(new RegExp(`limit_conn ${zone} (\\d+);`).exec(server)?.[1]);
    expect(perAddr).toBeGreaterThan(0);
    for (const { name, service } of hubs) {
      const hubBound = envSchema.HUB_WATCH_MAX_CONNECTIONS_PER_IP.parse(resolvedEnv(service)['HUB_WATCH_MAX_CONNECTIONS_PER_IP']);
      expect(hubBound, `${name} HUB_WATCH_MAX_CONNECTIONS_PER_IP`).toBeGreaterThanOrEqual(perAddr * 100);
    }
  });
});

describe('Dockerfile', () => {
  it('is multi-stage with a fresh, slim node base for the final stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const base = finalStage?.base ?? '';
    expect(stageByName(base), 'final stage must not extend a build stage').toBeUndefined();
    expect(Number(/^node:(\d+)/.exec(base)?.[1])).toBeGreaterThanOrEqual(20);
    expect(base).toMatch(/slim/);
  });

  it('runs as a non-root user', () => {
    const users = (finalStage?.body ?? []).filter((i) => i.keyword === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '']).not.toContain(users[users.length - 1]);
  });

  it('checks health on /healthz with node (no curl in slim images)', () => {
    const hc = (finalStage?.body ?? []).find((i) => i.keyword === 'HEALTHCHECK');
    expect(hc).toBeDefined();
    expect(hc?.args).toMatch(/CMD/);
    expect(hc?.args).toMatch(/\/healthz/);
    expect(hc?.args).toMatch(/127\.0\.0\.1|localhost/);
    expect(hc?.args).toMatch(/\bnode\b/);
    expect(hc?.args).not.toMatch(/\b(curl|wget)\b/);
  });

  it('ships production dependencies only, and the compiled build', () => {
    const modules = copiesFrom.find((c) => c.srcs.some((s) => /node_modules\/?$/.test(s)));
    expect(modules?.from).toBeDefined();
    expect(runsIn(stageByName(modules?.from ?? ''), /npm ci\b.*--omit=dev/)).toBe(true);

    const dist = copiesFrom.find((c) => c.srcs.some((s) => /dist\/?$/.test(s)));
    expect(dist?.from).toBeDefined();
    expect(runsIn(stageByName(dist?.from ?? ''), /npm run build|\btsc\b/)).toBe(true);

    expect(copiesFrom.some((c) => c.srcs.includes('package.json'))).toBe(true);
  });

  it('exposes the default PORT and watch port and starts what `npm start` starts', () => {
    const expose = (finalStage?.body ?? [])
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map((e) => Number(e.split('/')[0]));
    expect(expose).toEqual([defaults.port, WATCH_PORT_DEFAULT]);

    const cmd = (finalStage?.body ?? []).filter((i) => i.keyword === 'CMD').pop();
    const argv = JSON.parse(cmd?.args ?? 'null') as unknown;
    expect(Array.isArray(argv)).toBe(true);
    const pkg = JSON.parse(read('package.json')) as { scripts?: Record<string, string> };
    // npm start builds when the sources changed, then execs the same command the image runs.
    expect(pkg.scripts?.['start']).toMatch(new RegExp(`exec ${(argv as string[]).join(' ').replace(/\./g, '\\.')}$`));
  });

  it('sets production env, a known data dir and a volume for it', () => {
    const env = envOf(finalStage);
    expect(env['NODE_ENV']).toBe('production');
    for (const k of Object.keys(env)) if (k !== 'NODE_ENV') expect(KNOWN_ENV.has(k), k).toBe(true);
    const dataDir = env['HUB_DATA_DIR'];
    expect(dataDir).toBeDefined();
    expect(loadConfig({ HUB_DATA_DIR: dataDir }).dataDir).toBe(dataDir);
    const body = finalStage?.body ?? [];
    const volumeAt = body.findIndex((i) => i.keyword === 'VOLUME');
    const volumeArgs = body[volumeAt]?.args ?? '';
    const volumes = volumeArgs.startsWith('[') ? (JSON.parse(volumeArgs) as string[]) : volumeArgs.split(/\s+/);
    expect(volumes).toContain(dataDir);
    // Writable by the runtime user: chowned before VOLUME (changes after it are discarded).
    const user =
      body
        .filter((i) => i.keyword === 'USER')
        .pop()
        ?.args.split(':')[0] ?? '';
    const chowned = body
      .slice(0, volumeAt)
      .some((i) => i.keyword === 'RUN' && new RegExp(`chown (-R )?${user}(:\\S+)? (\\S+ )*${dataDir}( |$)`).test(i.args));
    expect(chowned, `${dataDir} chowned to ${user} before VOLUME`).toBe(true);
    const stop = (finalStage?.body ?? []).find((i) => i.keyword === 'STOPSIGNAL');
    if (stop) expect(stop.args).toBe('SIGTERM');
  });

  it('installs ffmpeg with the AMR-NB encoder in the runtime image (voice for watches)', () => {
    // The final stage itself: build stages are not shipped.
    const installs = (finalStage?.body ?? []).filter((i) => i.keyword === 'RUN' && /apt-get install/.test(i.args));
    const text = installs.map((i) => i.args).join(' ');
    expect(text).toMatch(/\bffmpeg\b/);
    // Debian's plain libavcodec has no libopencore_amrnb encoder; the -extra build does.
    expect(text).toMatch(/\blibavcodec-extra\b/);
    expect(text).toMatch(/--no-install-recommends/);
    expect(text).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('keeps host build output and data out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['node_modules', 'dist', 'data', '.git']) expect(ignored).toContain(p);
  });
});
