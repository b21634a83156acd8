// What the benchmark's parent process and its client processes (client-worker.ts) say to each
// other over the IPC channel: the parent sends commands with an id, the client answers each one
// with the same id. Families are never split across clients, so a watch and the apps that time
// its reports share one clock (performance.now()).
import type { HistogramData } from './histogram.js';

/** One connection: the token the hub authenticates, the query string (the baselines route by it), a source address. */
export interface ConnSpec {
  token?: string;
  query: Record<string, string>;
  /** 127.0.0.x to connect from (the ephemeral ports of one source address run out near 28,000 connections to one port). */
  localAddress?: string;
}

export interface FamilyConn {
  familyId: string;
  deviceId: string;
  watch: ConnSpec;
  guardians: ConnSpec[];
}

/**
 * socket.io: the hub and the relay (which speaks the Socket.IO wire format) with socket.io-client;
 * socket.io-raw: the same wire format from a bare `ws` client (raw-sio.ts), cheaper per message;
 * mqtt: the broker baseline.
 */
export type Protocol = 'socket.io' | 'socket.io-raw' | 'mqtt';

export interface ConnectCommand {
  type: 'connect';
  protocol: Protocol;
  url: string;
  families: FamilyConn[];
  /** Connections opened at once by this client. */
  concurrency: number;
  timeoutMs: number;
  /** Count failed connections instead of failing the command (the memory benchmark's stages). */
  tolerateFailures: boolean;
}

export interface PhaseStartCommand {
  type: 'phase-start';
  mode: 'open' | 'closed';
  ratePerWatch: number;
  window: number;
  ackTimeoutMs: number;
  /**
   * gps (default): every fix has a GPS position. wifi: each watch first reports a few GPS fixes
   * that hear its family's access points (the hub learns them), then Wi-Fi-only fixes the hub
   * must locate itself.
   */
  fixes?: FixKind;
}

export type FixKind = 'gps' | 'wifi';

export type Command =
  | ConnectCommand
  | PhaseStartCommand
  | { type: 'measure'; on: boolean }
  | { type: 'tick' }
  | { type: 'stop-sending'; drainMs: number }
  | { type: 'close' }
  | { type: 'exit' };

export interface ConnectResult {
  families: number;
  sockets: number;
  failed: number;
  /** The first few failures, for the log. */
  errors: string[];
  seconds: number;
}

export interface TickResult {
  sent: number;
  acked: number;
  deliveries: number;
  inFlight: number;
  latency: HistogramData;
}

/** One client's measured window (answer to `measure` with on: false). */
export interface MeasureResult {
  windowMs: number;
  sent: number;
  acked: number;
  deliveries: number;
  echoes: number;
  latency: HistogramData;
  ackLatency: HistogramData;
  ackErrors: Record<string, number>;
  ackTimeouts: number;
  skippedSends: number;
  disconnects: number;
  guardiansPerWatch: number;
  watches: number;
}

export interface StopResult {
  unackedAtEnd: number;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
export type Request = Command & { id: number };
