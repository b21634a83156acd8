// Every inbound event goes through here: rate limit → known event → allowed sender → size →
// schema → handler, answered exactly once through the ack envelope. Handlers only see valid input.
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { E, type ErrorBody, HubError } from '../src/contract/errors.js';
import { type EventName, eventSchemas, parseOrThrow } from '../src/contract/schemas.js';
import type { HubMetrics } from '../src/metrics.js';
import { payloadBytes } from './payload-size.js';
import type { EventHandler, EventHandlers, HubSocket } from './types.js';

export interface DispatcherOptions {
  maxEventBytes: number;
  /** Larger limits for some events (chat:send carries media). */
  eventBytes?: Partial<Record<EventName, number>>;
  rate: { points: number; windowS: number };
}

const isKnownEvent = (e: string): e is EventName => Object.hasOwn(eventSchemas, e);

export class Dispatcher {
  private readonly handlers = new Map<string, EventHandler<EventName>>();
  private readonly limiter: RateLimiterMemory;
  /** One child logger per socket, outside socket.data (which the Redis adapter serialises). */
  private readonly loggers = new WeakMap<HubSocket, Logger>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: { metrics: HubMetrics; logger: Logger },
    private readonly opts: DispatcherOptions,
  ) {
    this.limiter = new RateLimiterMemory({ points: opts.rate.points, duration: opts.rate.windowS });
  }

  register(handlers: EventHandlers): void {
    for (const [event, handler] of Object.entries(handlers)) {
      if (this.handlers.has(event)) throw new Error(`event ${event} has two handlers`);
      this.handlers.set(event, handler as EventHandler<EventName>);
    }
  }

  attach(socket: HubSocket): void {
    // Socket.IO also allows numeric event names: none are ours.
    socket.onAny((event: unknown, ...args: unknown[]) => void this.dispatch(socket, String(event), args));
    socket.on('disconnect', () => void this.limiter.delete(socket.id));
  }

  /** The socket's logger: its id and principal on every line. */
  loggerOf(socket: HubSocket): Logger {
    let l = this.loggers.get(socket);
    if (!l) {
      const { principal } = socket.data;
      l = this.deps.logger.child({ socket: socket.id, principal: `${principal.kind}:${principal.id}` });
      this.loggers.set(socket, l);
    }
    return l;
  }

  /** Resolves once no event is being handled (used by the SIGTERM drain). */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async dispatch(socket: HubSocket, event: string, args: unknown[]): Promise<void> {
    const label = isKnownEvent(event) ? event : '<unknown>';
    const ack = args.at(-1);
    if (typeof ack !== 'function') {
      this.deps.metrics.events.inc({ event: label, outcome: 'no_ack' });
      await this.limiter.consume(socket.id).catch(() => undefined);
      return;
    }
    const stopTimer = this.deps.metrics.eventDuration.startTimer({ event: label });
    this.inFlight++;
    let response: { ok: true } | { ok: false; error: ErrorBody };
    try {
      const data = await this.run(socket, event, args.slice(0, -1));
      response = { ...data, ok: true };
    } catch (err) {
      response = { ok: false, error: this.toErrorBody(socket, err, label) };
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
    this.deps.metrics.events.inc({ event: label, outcome: response.ok ? 'ok' : response.error.code });
    stopTimer();
    try {
      (ack as (r: unknown) => void)(response);
    } catch (err) {
      this.loggerOf(socket).warn({ err, event: label }, 'ack failed');
    }
  }

  private async run(socket: HubSocket, event: string, args: unknown[]): Promise<object> {
    try {
      await this.limiter.consume(socket.id);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw E.rateLimited('events', err.msBeforeNext);
      throw err;
    }
    const handler = isKnownEvent(event) ? this.handlers.get(event) : undefined;
    if (!handler) throw E.unknownEvent(event);
    const kind = socket.data.principal.kind;
    if (!handler.rule.who.includes(kind)) throw E.principalKind(`a ${kind} cannot send ${event}`);
    if (args.length !== 1) throw E.badArguments();
    const limit = this.opts.eventBytes?.[event as EventName] ?? this.opts.maxEventBytes;
    if (payloadBytes(args[0], limit) > limit) throw E.payloadTooLarge(limit);
    return handler.handle(parseOrThrow(eventSchemas[event as EventName], args[0]) as never, socket);
  }

  private toErrorBody(socket: HubSocket, err: unknown, event: string): ErrorBody {
    if (err instanceof HubError) return err.toBody();
    this.loggerOf(socket).error({ err, event }, 'event handler failed');
    return E.internal().toBody();
  }
}
