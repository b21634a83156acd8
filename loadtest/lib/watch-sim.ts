// A 3G-protocol watch over TCP, for integration tests, the watch benchmark and `npm run simulate`.
// It speaks through the same codec as the hub's gateway (so the two can only disagree where the
// codec is wrong, which the codec's tests are for) and answers downlinks as real watches do: it
// echoes each command, `TK,1` for a voice message, and can follow `CR` with a position and
// `rcapture` with a photo. Each watch is one socket; nothing here is shared between instances.
import { Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import {
  decodeDownlink,
  echoContentFor,
  encodeUplink,
  FrameSplitter,
  type DeviceAlert,
  type DownlinkFrame,
  type HealthFrameType,
  type HealthReading,
  type PositionInput,
  type Uplink,
  type WatchAddress,
} from '../../src/watch/codec/index.js';

/** A position to report; `ts` defaults to now, everything the wire needs but this has a default. */
export type SimPosition = Omit<PositionInput, 'ts'> & { ts?: number };

export interface WatchSimOptions {
  /** The ID the watch writes in its frames (the `watchId` it is registered with). */
  id: string;
  /** `3G` (default), `SG`, `CS`, `ZJ`… */
  maker?: string;
  /** Write the 4-hex INDEX field, counting up from 0001 per frame, as ZJ watches do. */
  indexed?: boolean;
  /** Answer downlinks as a real watch does (default true); a function decides per frame. */
  autoEcho?: boolean | ((frame: DownlinkFrame) => boolean);
  /** After echoing `CR`, report this position (a real watch locates itself and sends UD). */
  positionOnLocate?: SimPosition;
  /** After echoing `rcapture`, upload this JPEG as `img`. */
  photoOnCapture?: Buffer;
  /** Called for every frame from the hub, after any automatic answer was sent. */
  onDownlink?: (frame: DownlinkFrame, sim: WatchSim) => void;
  /** How long init(), heartbeat(), alarm() and each JXTK chunk wait for the hub's reply (default 5000 ms). */
  replyTimeoutMs?: number;
  /** Frames kept in `received` (default 1000; the oldest go first). */
  maxLog?: number;
}

export interface ReceivedFrame {
  /** Date.now() when it arrived. */
  at: number;
  raw: Buffer;
  /** Null when the codec could not read it (then `error` says why). */
  frame: DownlinkFrame | null;
  error?: string;
}

interface Waiter {
  match: (f: DownlinkFrame) => boolean;
  resolve: (f: DownlinkFrame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** A frame matches a wanted type by its kind (`phonebook`, `reply`) or by its wire type (`PHB2`, `LK`), in any case. */
function matchesType(f: DownlinkFrame, type: string | undefined): boolean {
  return type === undefined || f.kind === type || f.type.toUpperCase() === type.toUpperCase();
}

export class WatchSim {
  readonly id: string;
  readonly maker: string;
  /** Every frame from the hub, oldest first (capped at `maxLog`). */
  readonly received: ReceivedFrame[] = [];
  /** Frames and bytes written, for benchmarks. */
  readonly counters = { framesSent: 0, bytesSent: 0, framesReceived: 0, echoesSent: 0 };

  private socket: Socket | null = null;
  private readonly splitter = new FrameSplitter();
  private readonly options: WatchSimOptions;
  private waiters: Waiter[] = [];
  /** Received frames not yet returned by waitForFrame, oldest first. */
  private unclaimed: DownlinkFrame[] = [];
  private nextIndex = 1;
  private closedError: Error | null = null;

  constructor(options: WatchSimOptions) {
    this.options = options;
    this.id = options.id;
    this.maker = options.maker ?? '3G';
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.destroyed;
  }

  /** Opens the TCP (or TLS) connection; resolves once it is up. */
  connect(host: string, port: number, opts: { tls?: boolean | ConnectionOptions } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      const ready = () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.fail(err));
        resolve();
      };
      const socket = opts.tls
        ? tlsConnect({ host, port, ...(typeof opts.tls === 'object' ? opts.tls : {}) }, ready)
        : netConnect({ host, port }, ready);
      socket.setNoDelay(true);
      socket.once('error', onError);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('close', () => this.fail(new Error(`watch ${this.id}: connection closed`)));
      this.socket = socket;
      this.closedError = null;
    });
  }

  /** INIT; resolves with the hub's `INIT,1`. */
  init(fields: string[] = []): Promise<DownlinkFrame> {
    return this.request({ type: 'init', fields }, 'INIT');
  }

  /** LK (with steps, rollovers and battery when a battery is given); resolves with the hub's `LK`. */
  heartbeat(battery?: number, more: { steps?: number; rollovers?: number } = {}): Promise<DownlinkFrame> {
    const u: Uplink = battery === undefined ? { type: 'heartbeat' } : { type: 'heartbeat', battery, ...more };
    return this.request(u, 'LK');
  }

  /** A UD report (or UD_LTE, WT…); the hub does not answer positions. */
  position(p: SimPosition, frameType: 'UD' | 'UD2' | 'UD3' | 'UD_LTE' | 'UD_WCDMA' | 'WT' = 'UD'): Promise<void> {
    return this.send({ type: 'position', frameType, position: { ...p, ts: p.ts ?? Date.now() } });
  }

  /** An AL report raising the given alerts; resolves with the hub's `AL`. */
  alarm(alerts: DeviceAlert | DeviceAlert[], p: Partial<SimPosition> = {}): Promise<DownlinkFrame> {
    const position: PositionInput = {
      valid: false,
      ...p,
      ts: p.ts ?? Date.now(),
      alerts: Array.isArray(alerts) ? alerts : [alerts],
    };
    return this.request({ type: 'alarm', position }, 'AL');
  }

  /** A whole recording in one TK frame. */
  voice(amr: Buffer): Promise<void> {
    return this.send({ type: 'voice', audio: amr });
  }

  /** A recording in JXTK chunks of `chunkSize` bytes, each sent after the hub's `JXTKR,1` for the previous one, as watches do. */
  async voiceChunked(amr: Buffer, chunkSize: number, session = `watch_${this.id}_${Date.now()}`): Promise<void> {
    const r = encodeUplink(this.address(), { type: 'voice_chunks', audio: amr, chunkSize, session });
    if (!r.ok) throw new Error(`watch ${this.id}: ${r.error.message}`);
    for (const f of r.frames) {
      const reply = this.waitForFrame('JXTKR', undefined, this.replyTimeout());
      await this.write(this.withIndex(f.bytes));
      await reply;
    }
  }

  /** An `img` upload. */
  photo(jpeg: Buffer, takenAt: number = Date.now()): Promise<void> {
    return this.send({ type: 'image', image: jpeg, takenAt });
  }

  /**
   * Health readings, one frame per measurement: heart rate alone as `heart`, blood pressure as
   * `bphrt` (with the heart rate), temperature as `TEMP`, SpO2 as `oxygen`. `frameType` forces one type.
   */
  async health(reading: HealthReading, frameType?: HealthFrameType): Promise<void> {
    if (frameType) return this.send({ type: 'health', frameType, reading });
    const types: HealthFrameType[] = [];
    if (reading.systolic !== undefined && reading.diastolic !== undefined) types.push('bphrt');
    else if (reading.heartRate !== undefined) types.push('heart');
    if (reading.bodyTempC !== undefined) types.push('TEMP');
    if (reading.spo2 !== undefined) types.push('oxygen');
    for (const t of types) await this.send({ type: 'health', frameType: t, reading });
  }

  /** TKQ / TKQ2: asks whether voice messages wait; resolves with the hub's echo of it. */
  voiceQuery(type: 'TKQ' | 'TKQ2' = 'TKQ'): Promise<DownlinkFrame> {
    return this.request({ type: 'voice_query', frameType: type }, type);
  }

  /** Any uplink the codec can write (echoes, TK2, a raw INIT…). */
  async send(u: Uplink): Promise<void> {
    const r = encodeUplink(this.address(), u);
    if (!r.ok) throw new Error(`watch ${this.id}: ${r.error.message}`);
    for (const f of r.frames) await this.write(this.withIndex(f.bytes));
  }

  /** Bytes as they are, for hostile tests (garbage, broken frames, a forged ID). */
  sendRaw(data: Buffer | string): Promise<void> {
    return this.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /**
   * The first frame from the hub that matches `type` (a kind such as `phonebook`, or a wire type
   * such as `PHB2`) and `predicate`, and that no earlier call returned: frames that arrived before
   * the call count, so there is no race with a fast hub. Rejects after `timeoutMs` or when the
   * connection closes.
   */
  waitForFrame(type?: string, predicate: (f: DownlinkFrame) => boolean = () => true, timeoutMs = 5000): Promise<DownlinkFrame> {
    const match = (f: DownlinkFrame) => matchesType(f, type) && predicate(f);
    const i = this.unclaimed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0]!);
    if (this.closedError && !this.connected) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`watch ${this.id}: no ${type ?? 'frame'} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Closes the connection (ends it cleanly, then destroys it if the hub does not close its side). */
  close(): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => s.destroy(), 1000);
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      s.end();
    });
  }

  private address(): WatchAddress {
    return { maker: this.maker, id: this.id, index: this.options.indexed ? '0001' : null };
  }

  /** Puts this frame's INDEX in place of the placeholder the encoder wrote (same length, so LEN holds). */
  private withIndex(bytes: Buffer): Buffer {
    if (!this.options.indexed) return bytes;
    const at = 1 + this.maker.length + 1 + this.id.length + 1;
    const index = (this.nextIndex++ % 0x10000).toString(16).toUpperCase().padStart(4, '0');
    const out = Buffer.from(bytes);
    out.write(index, at, 'latin1');
    return out;
  }

  private replyTimeout(): number {
    return this.options.replyTimeoutMs ?? 5000;
  }

  private async request(u: Uplink, replyType: string): Promise<DownlinkFrame> {
    const reply = this.waitForFrame(replyType, (f) => f.kind === 'reply', this.replyTimeout());
    // A failed write rejects both; the reply's rejection is then the one reported.
    reply.catch(() => undefined);
    await this.send(u);
    return reply;
  }

  private write(data: Buffer): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed) return Promise.reject(this.closedError ?? new Error(`watch ${this.id}: not connected`));
    this.counters.framesSent++;
    this.counters.bytesSent += data.length;
    return new Promise((resolve, reject) => s.write(data, (err) => (err ? reject(err) : resolve())));
  }

  private onData(chunk: Buffer): void {
    for (const raw of this.splitter.push(chunk)) {
      this.counters.framesReceived++;
      const r = decodeDownlink(raw);
      const entry: ReceivedFrame = r.ok
        ? { at: Date.now(), raw, frame: r.frame }
        : { at: Date.now(), raw, frame: null, error: r.error.message };
      this.received.push(entry);
      if (this.received.length > (this.options.maxLog ?? 1000)) this.received.shift();
      if (!r.ok) continue;
      this.answer(r.frame);
      this.options.onDownlink?.(r.frame, this);
      const w = this.waiters.find((x) => x.match(r.frame));
      if (w) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(r.frame);
      } else {
        this.unclaimed.push(r.frame);
        if (this.unclaimed.length > (this.options.maxLog ?? 1000)) this.unclaimed.shift();
      }
    }
  }

  /** What a real watch does with a downlink: echo it, then (for CR and rcapture) do what it asked. */
  private answer(f: DownlinkFrame): void {
    if (f.kind === 'reply' || f.kind === 'unknown') return;
    const auto = this.options.autoEcho ?? true;
    if (!(typeof auto === 'function' ? auto(f) : auto)) return;
    this.counters.echoesSent++;
    const done = (p: Promise<void>) => p.catch((err: Error) => this.fail(err));
    done(this.send({ type: 'echo', content: echoContentFor(f.type) }));
    if (f.kind === 'locate' && this.options.positionOnLocate) done(this.position(this.options.positionOnLocate));
    if (f.kind === 'photo' && this.options.photoOnCapture) done(this.photo(this.options.photoOnCapture));
  }

  private fail(err: Error): void {
    this.closedError = err;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters = [];
  }
}
