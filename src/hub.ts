// createHub(services, config): the transports over the services. The Fastify HTTP API, the
// parents' web app and the Socket.IO server on one port, with the socket authentication and the
// rooms mounted. No listening, no process handling: main.ts and the tests decide that.
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { Server } from 'socket.io';
import { mountRooms } from '../rooms/index.js';
import type { Config } from './config.js';
import { E, HubError } from './contract/errors.js';
import { rooms } from './contract/rooms.js';
import type { HubServer } from './contract/server.js';
import { authRoutes } from './http/auth-routes.js';
import type { HttpContext } from './http/context.js';
import { deviceRoutes } from './http/device-routes.js';
import { installErrorHandlers } from './http/errors.js';
import { familyRoutes } from './http/family-routes.js';
import { geofenceRoutes } from './http/geofence-routes.js';
import { mediaRoutes } from './http/media-routes.js';
import { notificationRoutes } from './http/notification-routes.js';
import { opsRoutes } from './http/ops-routes.js';
import { privacyRoutes } from './http/privacy-routes.js';
import { dataRightsRoutes } from './http/data-rights-routes.js';
import { isOwnOrigin, webRoutes } from './http/web-routes.js';
import type { Services } from './services.js';
import { createWatchGateway, type WatchPorts } from './watch/gateway/index.js';

export interface Hub {
  readonly app: FastifyInstance;
  readonly io: HubServer;
  readonly services: Services;
  /**
   * Starts listening; resolves with the bound port (use port 0 in tests: the watch listeners
   * then bind ephemeral ports too, see `watchPorts`).
   */
  listen(port?: number, host?: string): Promise<number>;
  /** The watch gateway's bound ports (null: that listener is off), once listening. */
  readonly watchPorts: WatchPorts;
  /** Stops taking new work, tells clients to reconnect elsewhere, finishes in-flight acks, disconnects. */
  drain(): Promise<void>;
  /** Drains (if not yet) and closes the servers. The store and the backplane are the caller's to close. */
  close(): Promise<void>;
}

const RECONNECT_AFTER_MS = 1000;
const DRAIN_POLL_MS = 50;
/** How long the drain waits for the cleanups of the connections it closed. */
const DRAIN_CLEANUP_MS = 2000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function createHub(services: Services, config: Config): Promise<Hub> {
  const { logger, metrics, authenticator } = services;
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
      void (reply as FastifyReply).status(400).send({ error: E.invalid(err.message).toBody() });
    },
  });
  // Security headers on every answer; CORS only for the configured browser origins.
  await app.register(helmet, { global: true });
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
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
  services.backplane.attach(io);
  services.roomControl.attach(io);

  io.use((socket, next) => {
    const reject = (err: HubError) => {
      metrics.connectRejections.inc({ code: err.code });
      next(Object.assign(new Error(err.message), { data: err.toBody() }));
    };
    if (!accepting) return reject(E.draining());
    const auth: unknown = socket.handshake.auth;
    const token = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    authenticator.authenticate(token).then(
      (ctx) => {
        // Connections are cheap to open and cost memory to hold: a few per principal per node
        // (tabs, phones, a watch reconnecting), counted by the principal's room on this node.
        const held = io.of('/').adapter.rooms.get(rooms.of(ctx.principal))?.size ?? 0;
        if (held >= config.maxSocketsPerPrincipal) return reject(E.tooManyConnections(config.maxSocketsPerPrincipal));
        socket.data = { principal: ctx.principal, expiresAt: ctx.expiresAt, scopes: ctx.scopes, sessionId: ctx.sessionId };
        next();
      },
      (err: unknown) => {
        if (err instanceof HubError) return reject(err);
        logger.error({ err }, 'socket authentication failed');
        reject(E.internal());
      },
    );
  });

  const stopJobs = services.startJobs();
  const mediaEventBytes = Math.max(config.chat.maxVoiceBytes, config.chat.maxImageBytes) + 64 * 1024;
  const dispatcher = mountRooms(io, services, {
    maxEventBytes: config.maxEventBytes,
    eventBytes: { 'chat:send': mediaEventBytes },
    rate: config.socketRate,
  });

  // The 3G-protocol watches' transport, over the same services.
  const watches = createWatchGateway(services, config);

  const http: HttpContext = { services, isAccepting: () => accepting };
  installErrorHandlers(app, logger);
  app.addHook('onResponse', async (req, reply) => {
    // Route patterns, never raw URLs: these carry invite codes and ids.
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: req.method, route, status: reply.statusCode }, seconds);
    req.log.info({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'http');
  });
  opsRoutes(app, http);
  authRoutes(app, http);
  deviceRoutes(app, http);
  familyRoutes(app, http);
  geofenceRoutes(app, http);
  mediaRoutes(app, http);
  notificationRoutes(app, http);
  privacyRoutes(app, http);
  dataRightsRoutes(app, http);
  webRoutes(app, config.map);

  // Drain: refuse new sockets and turn unready, ask clients to reconnect (the balancer sends
  // them to another node), give them until the drain timeout to leave while their requests are
  // still served, then wait for in-flight handlers and disconnect whoever is left.
  let drained: Promise<void> | undefined;
  const drain = () =>
    (drained ??= (async () => {
      accepting = false;
      io.local.emit('server:draining', { reconnectAfterMs: RECONNECT_AFTER_MS });
      // TCP watches cannot be asked to move: they are closed, and reconnect (to another node).
      const watchesGone = watches.drain();
      const deadline = Date.now() + config.drainTimeoutMs;
      while (io.of('/').sockets.size > 0 && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
      await Promise.race([dispatcher.idle(), sleep(Math.max(0, deadline - Date.now()))]);
      io.local.disconnectSockets(true);
      // Their cleanups (presence told to the families) run while the backplane is open.
      await Promise.race([dispatcher.idle(), sleep(DRAIN_CLEANUP_MS)]);
      await watchesGone;
    })());

  app.addHook('preClose', async () => {
    await drain();
    stopJobs();
    await watches.close();
    services.calls.closeAll();
    await services.location.close();
    await services.notifications.close();
    // The families are told of the connections closed above while the backplane is still open
    // (bounded: with Redis unreachable the notices wait on it).
    await Promise.race([services.presence.settled(), sleep(DRAIN_CLEANUP_MS)]);
    io.engine.close();
  });

  return {
    app,
    io,
    services,
    async listen(port = config.port, host = config.host) {
      await app.listen({ port, host });
      const address = app.server.address();
      await watches.listen(host, port === 0);
      return typeof address === 'object' && address ? address.port : port;
    },
    watchPorts: watches.ports,
    drain,
    close: () => app.close(),
  };
}
