// createHub(deps, config): the Fastify HTTP API and the Socket.IO server on one port, with the
// socket auth middleware and the rooms mounted. No listening, no process handling: main.ts and
// the tests decide that.
import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { mountRooms, type HubServer } from '../rooms/index.js';
import { Access } from './auth/access.js';
import { Accounts } from './auth/accounts.js';
import { FieldCipher } from './auth/field-crypto.js';
import { Authenticator } from './auth/authenticator.js';
import { TokenService } from './auth/tokens.js';
import { CallService } from './calls/service.js';
import { ChatService } from './chat/service.js';
import { MemoryPresence, type PresenceTracker } from './cluster/presence.js';
import { serveForwardedCalls } from './cluster/call-forwarding.js';
import { memoryLimiters } from './cluster/limits.js';
import { PEER_EVENT, type PeerMessage } from './cluster/peers.js';
import type { Cluster } from './cluster/redis.js';
import { rooms, socketRoomControl } from './cluster/room-control.js';
import { CommandService } from './commands/service.js';
import type { Config } from './config.js';
import { type ErrorCode, HubError } from './contract/errors.js';
import { authRoutes } from './http/auth-routes.js';
import { deviceRoutes } from './http/device-routes.js';
import { installErrorHandlers } from './http/errors.js';
import { familyRoutes } from './http/family-routes.js';
import { geofenceRoutes } from './http/geofence-routes.js';
import { mediaRoutes } from './http/media-routes.js';
import { opsRoutes } from './http/ops-routes.js';
import { privacyRoutes } from './http/privacy-routes.js';
import type { HttpDeps } from './http/types.js';
import { isOwnOrigin, webRoutes } from './http/web-routes.js';
import { every } from './jobs/every.js';
import { startLocationJobs } from './jobs/location-jobs.js';
import { startMessagingJobs } from './jobs/messaging-jobs.js';
import { applyPeerMessage, createLocationServices } from './location/index.js';
import { type Media, mediaOff } from './media/workers.js';
import { HubMetrics } from './metrics.js';
import { familyNotifier } from './push/family-notifier.js';
import { PushOutbox, createPushProvider } from './push/index.js';
import type { PushProvider } from './push/types.js';
import type { Store } from './store/store.js';

export interface HubDeps {
  store: Store;
  logger: Logger;
  /** The HS256 secret for the hub's own tokens (main.ts resolves the config default). */
  jwtSecret: string;
  /** The AES-256-GCM key for sensitive fields (main.ts resolves the config default). */
  fieldKey: Buffer;
  /** Defaults to the provider the config chooses. */
  pushProvider?: PushProvider;
  /** The mediasoup workers (main.ts opens them); off or absent: calls answer UNAVAILABLE with the reason. */
  media?: Media | undefined;
  /** Cluster mode over Redis (main.ts opens it when REDIS_URL is set); absent: a single node. */
  cluster?: Cluster | undefined;
  presence?: PresenceTracker;
  clock?: () => number;
}

export interface Hub {
  readonly app: FastifyInstance;
  readonly io: HubServer;
  readonly tokens: TokenService;
  readonly metrics: HubMetrics;
  /** Starts listening; resolves with the bound port (use port 0 in tests). */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops taking new work, tells clients to reconnect elsewhere, finishes in-flight acks, disconnects. */
  drain(): Promise<void>;
  /** Drains (if not yet) and closes the servers. The store is the caller's to close. */
  close(): Promise<void>;
}

const RECONNECT_AFTER_MS = 1000;
const DRAIN_POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function createHub(deps: HubDeps, config: Config): Promise<Hub> {
  const { store, logger } = deps;
  const media = deps.media ?? mediaOff('calls are turned off on this hub');
  const clock = deps.clock ?? Date.now;
  const newId = () => randomUUID();
  const metrics = new HubMetrics();
  const tokens = new TokenService({
    secret: deps.jwtSecret,
    previousSecrets: config.jwtPreviousSecrets,
    accessTtlS: config.accessTokenTtlS,
    deviceTtlS: config.deviceTokenTtlS,
    external: config.externalIssuer,
    clock,
  });
  const authenticator = new Authenticator(tokens, store, clock, newId);
  const access = new Access(store);
  let accepting = true;

  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Our onResponse hook logs route patterns; Fastify's own lines would log raw URLs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxHttpBodyBytes,
    trustProxy: config.trustProxy,
    // Errors the router raises before any route runs (a path that does not decode, a param
    // longer than the router allows) keep the contract's shape too.
    frameworkErrors: (err, _req, reply) => {
      void (reply as FastifyReply).status(400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    },
  });
  // Security headers on every answer; CORS only for the configured browser origins.
  await app.register(helmet, { global: true });
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'range', 'if-none-match'],
    maxAge: 600,
  });
  const io: HubServer = new Server(app.server, {
    serveClient: false,
    // Watches and apps send no Origin; a browser's must be on the allow-list, or be the hub's own
    // (the web app it serves at /).
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      callback(
        null,
        origin === undefined || config.corsOrigins.includes(origin) || isOwnOrigin(origin, req.headers, config.trustProxy),
      );
    },
    ...(config.corsOrigins.length > 0 ? { cors: { origin: config.corsOrigins } } : {}),
    // Socket.IO closes a connection whose message is larger: above every per-event limit, so
    // an oversize event gets a TOO_LARGE answer instead.
    maxHttpBufferSize:
      Math.max(1_000_000, config.maxEventBytes, config.chat.maxVoiceBytes, config.chat.maxImageBytes) + 128 * 1024,
  });
  if (deps.cluster) io.adapter(deps.cluster.adapter);
  const roomControl = socketRoomControl(io);

  io.use((socket, next) => {
    const reject = (code: ErrorCode, message: string) => {
      metrics.connectRejections.inc({ code });
      next(Object.assign(new Error(message), { data: { code, message } }));
    };
    if (!accepting) return reject('UNAVAILABLE', 'this node is shutting down; reconnect');
    const auth: unknown = socket.handshake.auth;
    const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    authenticator.authenticate(token).then(
      (ctx) => {
        socket.data = { principal: ctx.principal, expiresAt: ctx.expiresAt, scopes: ctx.scopes, sessionId: ctx.sessionId };
        next();
      },
      (err: unknown) => {
        if (err instanceof HubError) return reject(err.code, err.message);
        logger.error({ err }, 'socket authentication failed');
        reject('INTERNAL', 'internal error');
      },
    );
  });

  const presence = deps.cluster?.presence ?? deps.presence ?? new MemoryPresence();
  const limiter = deps.cluster?.limiter ?? memoryLimiters;
  const outbox = new PushOutbox(store.push, deps.pushProvider ?? createPushProvider(config, logger), {
    maxAttempts: config.push.maxAttempts,
    includeContent: config.push.includeContent,
    clock,
    newId,
    logger,
  });
  const notifyOffline = familyNotifier(store, presence, (userIds, n) => outbox.enqueue(userIds, n));
  // A single node has no peers (and the in-memory adapter has no server-side emit).
  const publish = deps.cluster ? (msg: PeerMessage) => void io.serverSideEmit(PEER_EVENT, msg) : () => undefined;
  const location = createLocationServices({
    store,
    access,
    roomControl,
    notifyOffline,
    publish,
    sharedLatest: deps.cluster?.latest,
    clock,
    config,
  });
  io.on(PEER_EVENT, (msg: PeerMessage) => applyPeerMessage(location, msg));
  const chat = new ChatService(
    {
      store,
      access,
      devices: location.devices,
      roomControl,
      notifyOffline,
      clock,
      onPushError: (err) => logger.error({ err }, 'push enqueue failed'),
    },
    config.chat,
  );
  const commands = new CommandService(
    { store, access, devices: location.devices, roomControl, cipher: new FieldCipher(deps.fieldKey), clock },
    { maxContacts: config.commands.maxContacts, defaultTtlMs: config.commands.defaultTtlS * 1000 },
  );
  const calls = new CallService(
    {
      media,
      store,
      access,
      devices: location.devices,
      roomControl,
      pushRing: (userIds, n) => outbox.enqueue(userIds, n),
      isOnline: async (p) => (await presence.status(p)).online,
      clock,
    },
    { nodeId: config.nodeId ?? 'local', ...config.calls },
  );
  metrics.observeCalls(calls, media);
  if (deps.cluster) serveForwardedCalls(io, calls);
  const cluster = deps.cluster;
  const stopJobs = [
    // Principals whose node died: their presence goes offline for their families.
    cluster
      ? every(config.nodeHeartbeatMs, 'presence-sweep', logger, async () => {
          const now = clock();
          for (const p of await cluster.presence.sweep(now)) {
            for (const fid of await access.familiesOf(p)) {
              roomControl.emit(rooms.family(fid), 'presence', { kind: p.kind, id: p.id, online: false, lastSeen: now });
            }
            calls.socketsGone(p);
          }
        })
      : () => undefined,
    startLocationJobs(location, config, clock, logger),
    startMessagingJobs({ store, commands, outbox, config, clock, logger, metrics }),
  ];
  const mediaEventBytes = Math.max(config.chat.maxVoiceBytes, config.chat.maxImageBytes) + 64 * 1024;
  const dispatcher = mountRooms(
    {
      io,
      store,
      access,
      location,
      chat,
      commands,
      calls,
      presence,
      roomControl,
      metrics,
      logger,
      clock,
      config,
      clustered: Boolean(deps.cluster),
    },
    { maxEventBytes: config.maxEventBytes, eventBytes: { 'chat:send': mediaEventBytes }, rate: config.socketRate },
  );

  const httpDeps: HttpDeps = {
    config,
    store,
    accounts: new Accounts({
      store,
      tokens,
      refreshTtlS: config.refreshTokenTtlS,
      loginMaxFailures: config.loginMaxFailures,
      limiter,
      clock,
      newId,
      onSessionEnded: (sid) => roomControl.endSession(sid),
    }),
    authenticator,
    access,
    tokens,
    roomControl,
    location,
    limiter,
    commands,
    notifyOffline,
    metrics,
    clock,
    newId,
    isAccepting: () => accepting,
    clusterPing: deps.cluster ? () => deps.cluster!.ping() : undefined,
  };
  installErrorHandlers(app, logger);
  app.addHook('onResponse', async (req, reply) => {
    // Route patterns, never raw URLs: these carry invite codes and ids.
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: req.method, route, status: reply.statusCode }, seconds);
    logger.info({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'http');
  });
  opsRoutes(app, httpDeps);
  authRoutes(app, httpDeps);
  deviceRoutes(app, httpDeps);
  familyRoutes(app, httpDeps);
  geofenceRoutes(app, httpDeps);
  mediaRoutes(app, httpDeps);
  privacyRoutes(app, httpDeps);
  webRoutes(app, config.map);

  // Drain: refuse new sockets and turn unready, ask clients to reconnect (the balancer sends
  // them to another node), give them until the drain timeout to leave while their requests are
  // still served, then wait for in-flight handlers and disconnect whoever is left.
  let drained: Promise<void> | undefined;
  const drain = () =>
    (drained ??= (async () => {
      accepting = false;
      io.local.emit('server:draining', { reconnectAfterMs: RECONNECT_AFTER_MS });
      const deadline = Date.now() + config.drainTimeoutMs;
      while (io.of('/').sockets.size > 0 && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
      await Promise.race([dispatcher.idle(), sleep(Math.max(0, deadline - Date.now()))]);
      io.local.disconnectSockets(true);
    })());

  app.addHook('preClose', async () => {
    await drain();
    stopJobs.forEach((stop) => stop());
    calls.closeAll();
    await location.writer.flush();
    io.engine.close();
  });

  return {
    app,
    io,
    tokens,
    metrics,
    async listen(port = config.port, host = config.host) {
      await app.listen({ port, host });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : port;
    },
    drain,
    close: () => app.close(),
  };
}
