// Every inbound event goes through here: rate limit → known event → allowed sender → size →
// schema → handler, answered exactly once through the ack envelope. Handlers only see valid input.
import type { Logger } from 'pino';
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
  /** Each socket's event budget: a fixed window, counted on the socket (it lives on this node). */
  private readonly budgets = new WeakMap<HubSocket, { windowEnds: number; spent: number }>();
  /** Metric children by label, looked up once rather than hashed on every event. */
  private readonly counted = new Map<string, { inc(): void }>();
  private readonly timed = new Map<string, { observe(seconds: number): void }>();
  /** One child logger per socket, outside socket.data (which the Redis adapter serialises). */
  private readonly loggers = new WeakMap<HubSocket, Logger>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: { metrics: HubMetrics; logger: Logger },
    private readonly opts: DispatcherOptions,
  ) {}

  register(handlers: EventHandlers): void {
    for (const [event, handler] of Object.entries(handlers)) {
      if (this.handlers.has(event)) throw new Error(`event ${event} has two handlers`);
      this.handlers.set(event, handler as EventHandler<EventName>);
    }
  }

  attach(socket: HubSocket): void {
    // Socket.IO also allows numeric event names: none are ours.
    socket.onAny((event: unknown, ...args: unknown[]) => void this.dispatch(socket, String(event), args));
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

  /** Spends one point of the socket's budget; returns 0, or how long until it has points again. */
  private spend(socket: HubSocket): number {
    const now = Date.now();
    let b = this.budgets.get(socket);
    if (!b || now >= b.windowEnds) {
      b = { windowEnds: now + this.opts.rate.windowS * 1000, spent: 0 };
      this.budgets.set(socket, b);
    }
    b.spent++;
    return b.spent > this.opts.rate.points ? b.windowEnds - now : 0;
  }

  private count(event: string, outcome: string): void {
    const k = `${event}\0${outcome}`;
    let c = this.counted.get(k);
    if (!c) {
      c = this.deps.metrics.events.labels({ event, outcome });
      this.counted.set(k, c);
    }
    c.inc();
  }

  private timer(event: string): { observe(seconds: number): void } {
    let h = this.timed.get(event);
    if (!h) {
      h = this.deps.metrics.eventDuration.labels({ event });
      this.timed.set(event, h);
    }
    return h;
  }

  /** Resolves once no event is being handled, nor tracked work (used by the SIGTERM drain). */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Work outside an event (a closed socket's cleanup) that `idle()` waits for too. */
  track(work: Promise<unknown>): void {
    this.inFlight++;
    const done = () => this.settle();
    work.then(done, done);
  }

  private settle(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async dispatch(socket: HubSocket, event: string, args: unknown[]): Promise<void> {
    const label = isKnownEvent(event) ? event : '<unknown>';
    const ack = args.at(-1);
    if (typeof ack !== 'function') {
      this.count(label, 'no_ack');
      this.spend(socket);
      return;
    }
    const started = performance.now();
    this.inFlight++;
    let response: { ok: true } | { ok: false; error: ErrorBody };
    try {
      const data = await this.run(socket, event, args.slice(0, -1));
      response = { ...data, ok: true };
    } catch (err) {
      response = { ok: false, error: this.toErrorBody(socket, err, label) };
    } finally {
      this.settle();
    }
    this.count(label, response.ok ? 'ok' : response.error.code);
    this.timer(label).observe((performance.now() - started) / 1000);
    try {
      (ack as (r: unknown) => void)(response);
    } catch (err) {
      this.loggerOf(socket).warn({ err, event: label }, 'ack failed');
    }
  }

  private async run(socket: HubSocket, event: string, args: unknown[]): Promise<object> {
    const retryMs = this.spend(socket);
    if (retryMs > 0) throw E.rateLimited('events', retryMs);
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
