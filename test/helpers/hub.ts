// Test helpers: a real hub on an ephemeral port, real HTTP (fetch) and the real socket.io-client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import type { AckData, ClientToServerEvents, ServerToClientEvents } from '../../src/contract/events.js';
import type { ErrorBody } from '../../src/contract/errors.js';
import type { EventName } from '../../src/contract/schemas.js';
import type { Backplane } from '../../src/backplane/backplane.js';
import { memoryBackplane } from '../../src/backplane/memory.js';
import { openRedisBackplane } from '../../src/backplane/redis.js';
import { createHub, type Hub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { createMailer } from '../../src/mail/mailer.js';
import { openMedia } from '../../src/media/workers.js';
import { createInstallationSenders, createPushProvider } from '../../src/push/index.js';
import type { PushProvider } from '../../src/push/types.js';
import { createServices } from '../../src/services.js';
import { openStore, type Store } from '../../src/store/store.js';
import { randomImei as makeImei } from '../../src/contract/imei.js';

export const PROVISIONING_KEY = 'test-provisioning-key-0123456789';
export const JWT_SECRET = 'test-jwt-secret-0123456789-0123456789-abcdef';
export const FIELD_KEY = Buffer.alloc(32, 7);

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A clock the test can move forward; it follows real time otherwise. */
export class TestClock {
  private offset = 0;
  readonly now = () => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface TestHub {
  url: string;
  hub: Hub;
  store: Store;
  config: Config;
  clock: TestClock;
  /** Everything the hub logged, one JSON line per entry. */
  logs: string[];
  /** The watch gateway's plain TCP port (ephemeral), or null when HUB_WATCH_TCP_PORT is 0. */
  watchPort: number | null;
  /** Its TLS port, when HUB_WATCH_TLS_PORT (with cert and key files) is set. */
  watchTlsPort: number | null;
  close(): Promise<void>;
}

export interface StartHubOptions {
  env?: Record<string, string>;
  databaseUrl?: string;
  /** The current signing secret (default JWT_SECRET). */
  jwtSecret?: string;
  /**
   * A cluster node in this process: the Redis backplane on this URL (with HUB_NODE_ID from env,
   * or a random one). Several hubs started so, on one database, are one cluster.
   */
  redisUrl?: string;
  pushProvider?: PushProvider;
}

export async function startHub(opts: StartHubOptions = {}): Promise<TestHub> {
  const dir = mkdtempSync(join(tmpdir(), 'hub-test-'));
  const config = loadConfig({
    HUB_DATA_DIR: dir,
    HUB_PROVISIONING_KEY: PROVISIONING_KEY,
    HUB_LOG_LEVEL: 'info',
    HUB_DRAIN_TIMEOUT_MS: '2000',
    // Calls are off unless a test turns them on (each worker is a process).
    MEDIASOUP_WORKERS: '0',
    // Per-person budgets (code guesses, new families, history reads…) are tested where they are
    // the subject (HUB_BUDGET_SCALE: '1'); elsewhere a test's many requests from one user must pass.
    HUB_BUDGET_SCALE: '1000',
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    ...opts.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger(config.logLevel, 'test', sink);
  const store = await openStore(config.databaseUrl);
  const clock = new TestClock();
  const media = await openMedia(config.media, logger);
  const backplane: Backplane = opts.redisUrl
    ? await openRedisBackplane(
        {
          url: opts.redisUrl,
          nodeId: config.nodeId,
          sharded: config.redisSharded,
          heartbeatMs: config.nodeHeartbeatMs,
          prefix: config.redisPrefix,
        },
        logger,
      )
    : memoryBackplane(config.nodeId);
  const services = createServices(
    {
      store,
      logger,
      backplane,
      media,
      pushProvider: opts.pushProvider ?? createPushProvider(config, logger),
      mailer: config.smtp ? createMailer(config.smtp.url, { from: config.smtp.from }) : undefined,
      installationSenders: createInstallationSenders(config),
      jwtSecret: opts.jwtSecret ?? JWT_SECRET,
      fieldKey: FIELD_KEY,
      clock: clock.now,
    },
    config,
  );
  const hub = await createHub(services, config);
  const port = await hub.listen(0, '127.0.0.1');
  const sockets: ClientSocket[] = [];
  openSockets.set(`http://127.0.0.1:${port}`, sockets);
  return {
    url: `http://127.0.0.1:${port}`,
    hub,
    store,
    config,
    clock,
    logs,
    watchPort: hub.watchPorts.tcp,
    watchTlsPort: hub.watchPorts.tls,
    async close() {
      for (const s of sockets) s.disconnect();
      await hub.close();
      media.close();
      await backplane.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const openSockets = new Map<string, ClientSocket[]>();

/** Anything with a base URL: a TestHub, or a hub process started by a test. */
export type Endpoint = Pick<TestHub, 'url'>;

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One HTTP call with a JSON body and an optional bearer token. */
export async function api<T = any>(
  t: Pick<TestHub, 'url'>,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(t.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T), headers: res.headers };
}

let counter = 0;
const unique = () => `${process.pid}-${Date.now()}-${++counter}`;

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export async function registerUser(t: Endpoint, nickname = 'Parent'): Promise<TestUser> {
  const email = `user-${unique()}@example.test`;
  const password = 'correct horse battery';
  const r = await api(t, 'POST', '/v1/auth/register', { body: { email, password, nickname } });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.user.id, email, password, accessToken: r.body.accessToken, refreshToken: r.body.refreshToken };
}

/** A random IMEI with a valid Luhn check digit. */
export const randomImei = () => makeImei();

export interface TestWatch {
  deviceId: string;
  deviceToken: string;
  bindingCode: string;
  imei: string;
  /** The ID a 3G-protocol watch writes in its frames (the IMEI unless registered otherwise). */
  watchId: string;
}

export async function provisionWatch(t: Endpoint, imei = randomImei(), watchId?: string): Promise<TestWatch> {
  const r = await api(t, 'POST', '/v1/devices/register', {
    body: { imei, model: 'KW-7', ...(watchId ? { watchId } : {}) },
    headers: { 'x-provisioning-key': PROVISIONING_KEY },
  });
  if (r.status !== 201) throw new Error(`provision failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { ...r.body, imei };
}

export async function createFamily(t: Endpoint, owner: TestUser, name = 'The Smiths'): Promise<string> {
  const r = await api(t, 'POST', '/v1/families', { token: owner.accessToken, body: { name } });
  if (r.status !== 201) throw new Error(`create family failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

export interface BindOptions {
  /**
   * Bind as if this long ago: the hub's clock is moved back for the bind (in-process hubs only).
   * A family sees only fixes taken since it bound the watch, so a test that reports a recorded
   * path from the past binds before that path begins.
   */
  boundMsAgo?: number;
}

/** An endpoint whose clock a test may move: a TestHub. */
type MaybeClocked = Endpoint & { clock?: TestClock };

export async function bindWatch(
  t: MaybeClocked,
  owner: TestUser,
  familyId: string,
  watch: Pick<TestWatch, 'bindingCode'> & Partial<TestWatch>,
  opts: BindOptions = {},
): Promise<void> {
  const bind = () =>
    api(t, 'POST', `/v1/families/${familyId}/devices`, {
      token: owner.accessToken,
      body: { bindingCode: watch.bindingCode, childName: 'Mia' },
    });
  const r = opts.boundMsAgo ? await backdated(t, opts.boundMsAgo, bind) : await bind();
  if (r.status !== 201) throw new Error(`bind failed: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Runs `fn` with the hub's clock `ms` in the past, then puts it back. */
export async function backdated<T>(t: MaybeClocked, ms: number, fn: () => Promise<T>): Promise<T> {
  if (!t.clock) throw new Error('backdating needs an in-process hub (a TestHub with its clock)');
  t.clock.advance(-ms);
  try {
    return await fn();
  } finally {
    t.clock.advance(ms);
  }
}

/** Invites a new user into the family with the role and returns them. */
export async function addMember(t: Endpoint, owner: TestUser, familyId: string, role: string): Promise<TestUser> {
  const invite = await api(t, 'POST', `/v1/families/${familyId}/invites`, { token: owner.accessToken, body: { role } });
  if (invite.status !== 201) throw new Error(`invite failed: ${invite.status}`);
  const member = await registerUser(t, role);
  const r = await api(t, 'POST', `/v1/invites/${invite.body.code}/accept`, { token: member.accessToken });
  if (r.status !== 200) throw new Error(`accept failed: ${r.status} ${JSON.stringify(r.body)}`);
  return member;
}

/** A family with an owner and a bound watch. */
export async function familyWithWatch(t: MaybeClocked, opts: BindOptions = {}) {
  const owner = await registerUser(t, 'Owner');
  const familyId = await createFamily(t, owner);
  const watch = await provisionWatch(t);
  await bindWatch(t, owner, familyId, watch, opts);
  return { owner, familyId, watch };
}

/** Connects with the websocket transport; rejects with the connect_error's data. */
export function connect(t: Pick<TestHub, 'url'>, token: unknown): Promise<ClientSocket> {
  const socket: ClientSocket = ioClient(t.url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  openSockets.get(t.url)?.push(socket);
  const history: [string, unknown][] = [];
  histories.set(socket, history);
  socket.onAny((event: string, payload: unknown) => history.push([event, payload]));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      reject(Object.assign(err, { data: err.data }));
    });
  });
}

/** The connect_error data of a handshake that must fail. */
export async function connectError(t: Pick<TestHub, 'url'>, token: unknown): Promise<{ code: string; message: string }> {
  try {
    const s = await connect(t, token);
    s.close();
  } catch (err) {
    return (err as { data: { code: string; message: string } }).data;
  }
  throw new Error('connect succeeded but should have failed');
}

const histories = new WeakMap<ClientSocket, [string, unknown][]>();

/** Every event the socket received since it was created, oldest first. */
export function received<T = any>(socket: ClientSocket, event: string): T[] {
  return (histories.get(socket) ?? []).filter(([e]) => e === event).map(([, p]) => p as T);
}

/**
 * Resolves with the first `event` whose payload satisfies `predicate`, arriving from now on;
 * with `{ past: true }`, one that arrived earlier counts too (e.g. what the hub sends on connect).
 */
export function waitFor<T = any>(
  socket: ClientSocket,
  event: string,
  predicate: (payload: T) => boolean = () => true,
  opts: { past?: boolean; timeoutMs?: number } = {},
): Promise<T> {
  const earlier = opts.past ? received<T>(socket, event).find(predicate) : undefined;
  if (earlier !== undefined) return Promise.resolve(earlier);
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const s = socket as unknown as Socket;
    const timer = setTimeout(() => {
      s.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      s.off(event, listener);
      resolve(payload);
    };
    s.on(event, listener);
  });
}

/** Emits with an ack and resolves with the response. */
/**
 * What a request is answered with: the event's declared ack data and the error envelope, both
 * visible (a test knows which one it expects; the wrong one fails at run time).
 */
export type Answer<E extends EventName> = AckData<E> & { ok: boolean; error: ErrorBody };

/** The payload a client sends with event E, as the contract declares it (src/contract/events.ts). */
export type RequestOf<E extends EventName> = Parameters<ClientToServerEvents[E]>[0];

/** Emits a known event with its declared payload and an ack; resolves with the typed answer. */
export function request<E extends EventName>(socket: ClientSocket, event: E, payload: RequestOf<E>): Promise<Answer<E>> {
  return (socket as unknown as Socket).timeout(15_000).emitWithAck(event, payload) as Promise<Answer<E>>;
}

/** Any event name and arguments, answered untyped: for fuzzing and hostile input. */
export function requestRaw<T = any>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<T> {
  return (socket as unknown as Socket).timeout(15_000).emitWithAck(event, ...args) as Promise<T>;
}

export interface RawSocket {
  /** Emits `event` with a payload given as JSON text, exactly as written, and resolves with the ack. */
  request<T = any>(event: string, payloadJson: string): Promise<T>;
  close(): void;
}

/**
 * A Socket.IO client by hand (Engine.IO 4 over a WebSocket): it sends payloads as raw JSON text,
 * as a hostile client can, including values the real client cannot even encode (its encoder
 * recurses, so 9,000 levels of nesting overflow the test's own stack).
 */
export function rawSocket(t: Endpoint, token: string): Promise<RawSocket> {
  const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const acks = new Map<number, (payload: unknown) => void>();
  let next = 0;
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data) => {
      const m = data.toString();
      if (m === '2') return ws.send('3'); // ping → pong
      if (m.startsWith('0')) return ws.send(`40${JSON.stringify({ token })}`); // open → connect
      if (m.startsWith('44')) return reject(new Error(`connect refused: ${m.slice(2)}`));
      if (m.startsWith('40')) {
        return resolve({
          request<T>(event: string, payloadJson: string) {
            const id = next++;
            return new Promise<T>((done) => {
              acks.set(id, done as (payload: unknown) => void);
              ws.send(`42${id}[${JSON.stringify(event)},${payloadJson}]`);
            });
          },
          close: () => ws.close(),
        });
      }
      const ack = /^43(\d+)(.*)$/s.exec(m);
      if (ack) {
        const id = Number(ack[1]);
        acks.get(id)?.((JSON.parse(ack[2]!) as unknown[])[0]);
        acks.delete(id);
      }
    });
  });
}
