// One TCP (or TLS) connection from a watch: bytes → frames (bounded) → one frame at a time, in
// order, through the uplink mapping; the replies the watch expects; downlinks (commands, family
// messages) written as frames; limits (frame and byte rates, a backlog bound, idle and hello
// timeouts). A connection names its watch with its first frame; an ID that is not a registered
// watch gets no answer at all and the connection is closed.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Principal } from '../../contract/models.js';
import type { Services } from '../../services.js';
import {
  decodeFrame,
  encodeDownlink,
  FrameSplitter,
  replyFor,
  VoiceAssembler,
  type Downlink,
  type WatchAddress,
  type WatchFrame,
} from '../codec/index.js';
import { WindowBudget } from './budget.js';
import { EchoTracker } from './echoes.js';
import type { CloseReason, GatewayMetrics } from './metrics.js';

export interface GatewayContext {
  services: Services;
  config: Config['watch'];
  maxFutureMs: number;
  lowBatteryPercent: number;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Names the watch; undefined for an unregistered ID (the gateway's negative cache in front of the store). */
  identify(watchId: string): Promise<string | undefined>;
  /** This connection now holds the watch: older ones (here or on other nodes) are replaced. */
  claimed(conn: WatchConnection): void;
  released(conn: WatchConnection): void;
  /** What a decoded frame becomes (uplink.ts); returns the outcome for the metrics. */
  handleFrame(conn: WatchConnection, frame: WatchFrame): Promise<string>;
}

/** Frames waiting to be handled before the socket is paused (a watch waits for replies; a flood does not). */
const MAX_BACKLOG = 64;
const MINUTE = 60_000;
/** Photo commands whose RCAPTURE was echoed, waiting for their img. */
const MAX_AWAITING_PHOTOS = 16;

export class WatchConnection {
  readonly id = randomUUID();
  deviceId: string | null = null;
  /** The family the watch was in when last checked (refreshed on every heartbeat). */
  familyId: string | null = null;
  address: WatchAddress | null = null;
  readonly echoes = new EchoTracker();
  /** The newest family message given to the watch on this connection (replay and relay overlap). */
  chatSeen: { conversationId: string; seq: number } | null = null;
  readonly awaitingPhotos: string[] = [];
  readonly voice: VoiceAssembler;

  private readonly splitter: FrameSplitter;
  private readonly frames: WindowBudget;
  private readonly bytes: WindowBudget;
  private chain: Promise<void> = Promise.resolve();
  private backlog = 0;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private onClosed: (() => void)[] = [];

  constructor(
    private readonly socket: Socket,
    readonly ctx: GatewayContext,
    readonly listener: 'tcp' | 'tls',
  ) {
    const c = ctx.config;
    this.splitter = new FrameSplitter({ maxFrameBytes: c.maxFrameBytes });
    this.voice = new VoiceAssembler(c.maxVoiceBytes);
    this.frames = new WindowBudget(c.maxFramesPerMin, MINUTE);
    this.bytes = new WindowBudget(c.maxBytesPerMin, MINUTE);
    this.log = ctx.logger.child({ watchConnection: this.id, listener });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'watch socket error'));
    socket.on('close', () => this.finish('peer_closed'));
    this.helloTimer = setTimeout(() => this.close('hello_timeout'), c.helloTimeoutMs);
    this.helloTimer.unref();
    this.touch();
  }

  get principal(): Principal {
    return { kind: 'device', id: this.deviceId! };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  whenClosed(fn: () => void): void {
    if (this.closed) fn();
    else this.onClosed.push(fn);
  }

  /** Resolves once the frames received so far are handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Ends the connection (a clean end, then a destroy if the peer lingers). */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.finish(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Writes one downlink; false when it cannot be encoded (the error is returned) or the connection is gone. */
  send(d: Downlink): { ok: true; answers: string[] } | { ok: false; message: string } {
    if (this.closed || !this.address) return { ok: false, message: 'the watch is not connected' };
    const r = encodeDownlink(this.address, d);
    if (!r.ok) return { ok: false, message: r.error.message };
    for (const f of r.frames) this.socket.write(f.bytes);
    return { ok: true, answers: r.frames.flatMap((f) => (f.answer ? [f.answer] : [])) };
  }

  /** Runs work in this connection's order (after the frames received before it). */
  enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: unknown) => this.log.error({ err }, 'watch work failed'));
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close('idle'), this.ctx.config.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.touch();
    if (!this.bytes.spend(chunk.length)) return this.close('byte_rate');
    const before = { garbage: this.splitter.stats.garbageBytes, oversize: this.splitter.stats.oversizeFrames };
    const frames = this.splitter.push(chunk);
    const { metrics } = this.ctx;
    metrics.garbageBytes.inc(this.splitter.stats.garbageBytes - before.garbage);
    metrics.oversizeFrames.inc(this.splitter.stats.oversizeFrames - before.oversize);
    for (const raw of frames) {
      if (!this.frames.spend()) return this.close('frame_rate');
      if (++this.backlog > MAX_BACKLOG * 4) return this.close('backlog');
      if (this.backlog === MAX_BACKLOG) this.socket.pause();
      this.enqueue(async () => {
        try {
          if (!this.closed) await this.handle(raw);
        } finally {
          if (--this.backlog === MAX_BACKLOG - 1) this.socket.resume();
        }
      });
    }
  }

  private async handle(raw: Buffer): Promise<void> {
    const r = decodeFrame(raw);
    const header = r.ok ? r.frame.header : r.error.header;
    if (!header) {
      this.ctx.metrics.frames.inc({ kind: 'unreadable', outcome: 'bad' });
      return;
    }
    if (!(await this.identified(header))) return;
    // Replies and downlinks echo the watch's own MF, ID and (latest) INDEX.
    this.address = { maker: header.maker, id: header.id, index: header.index };
    // The reply first: a watch that waits for it (LK, AL, each JXTK chunk) is not kept waiting
    // for the store. Due even when the fields were unreadable (an AL is acked, or it repeats).
    const type = r.ok ? r.frame.type : r.error.type;
    if (type !== undefined) {
      const reply = replyFor(this.address, type);
      if (reply) this.socket.write(reply);
    }
    if (!r.ok) {
      this.ctx.metrics.frames.inc({ kind: 'unreadable', outcome: 'bad' });
      this.log.debug({ code: r.error.code, message: r.error.message, type }, 'watch frame not decoded');
      return;
    }
    await this.dispatch(r.frame);
  }

  private async dispatch(frame: WatchFrame): Promise<void> {
    const outcome = await this.ctx.handleFrame(this, frame);
    this.ctx.metrics.frames.inc({ kind: frame.kind, outcome });
  }

  /** The first frame names the watch; later frames must name the same one. */
  private async identified(header: WatchAddress): Promise<boolean> {
    const watchId = header.id;
    if (this.address) {
      if (watchId === this.address.id) return true;
      this.close('id_changed');
      return false;
    }
    const deviceId = await this.ctx.identify(watchId);
    if (this.closed) return false;
    if (!deviceId) {
      this.ctx.metrics.unknownIds.inc();
      // No answer of any kind: scanning for IDs yields closed connections.
      this.close('unknown_id');
      return false;
    }
    clearTimeout(this.helloTimer);
    this.deviceId = deviceId;
    this.address = { maker: header.maker, id: watchId, index: header.index };
    this.ctx.metrics.connections.inc({ listener: this.listener });
    const { presence, commands } = this.ctx.services;
    // Counted online before the older connection (if any) is let go, so the family sees no flap.
    await presence.arrived(this.principal);
    this.ctx.claimed(this);
    this.familyId = (await presence.familiesOf(this.principal))[0] ?? null;
    this.log.info({ deviceId }, 'watch connected');
    // What waits for it: open commands, oldest first (delivered through the relay, like any command).
    await commands.deliverOpen(deviceId);
    return !this.closed;
  }

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.helloTimer);
    this.voice.reset();
    this.ctx.metrics.closed.inc({ reason });
    if (this.deviceId) {
      this.ctx.metrics.connections.dec({ listener: this.listener });
      this.ctx.released(this);
      const p = this.principal;
      // After the frames in flight: the watch goes offline once what it sent is handled.
      this.enqueue(async () => {
        await this.ctx.services.presence.disconnected(p);
      });
      this.log.info({ deviceId: this.deviceId, reason }, 'watch disconnected');
    }
    for (const fn of this.onClosed.splice(0)) fn();
  }

  /** Keeps a photo command waiting for its img (bounded). */
  awaitPhoto(commandId: string): void {
    this.awaitingPhotos.push(commandId);
    if (this.awaitingPhotos.length > MAX_AWAITING_PHOTOS) this.awaitingPhotos.shift();
  }
}
