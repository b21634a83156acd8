// The part of mediasoup's API the hub uses, declared here rather than imported from the package:
// mediasoup is an optional dependency whose install fails on machines without internet (its
// worker binary is downloaded), and the hub must still compile and start there. The shapes follow
// mediasoup 3.19; WebRTC parameter objects stay opaque (mediasoup validates them itself).

export type MediaKind = 'audio' | 'video';

/** Opaque WebRTC parameter objects: checked by mediasoup, passed through by the hub. */
export type RtpCapabilities = Record<string, unknown>;
export type RtpParameters = Record<string, unknown>;
export type DtlsParameters = Record<string, unknown>;
export type IceParameters = Record<string, unknown>;
export type IceCandidate = Record<string, unknown>;

export interface RouterRtpCodecCapability {
  kind: MediaKind;
  mimeType: string;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
}

/** One entry of getStats() (RTP streams report packet and byte counts). */
export interface RtpStreamStats {
  type: string;
  packetCount?: number;
  byteCount?: number;
  [k: string]: unknown;
}

interface Observer {
  once(event: 'close', listener: () => void): void;
}

export interface Producer {
  readonly id: string;
  readonly kind: MediaKind;
  readonly observer: Observer;
  getStats(): Promise<RtpStreamStats[]>;
  close(): void;
}

export interface Consumer {
  readonly id: string;
  readonly producerId: string;
  readonly kind: MediaKind;
  readonly rtpParameters: RtpParameters;
  readonly observer: Observer;
  resume(): Promise<void>;
  getStats(): Promise<RtpStreamStats[]>;
  close(): void;
}

export interface TransportListenInfo {
  protocol: 'udp' | 'tcp';
  ip: string;
  announcedAddress?: string;
}

export type DtlsState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

export interface WebRtcTransport {
  readonly id: string;
  readonly iceParameters: IceParameters;
  readonly iceCandidates: IceCandidate[];
  readonly dtlsParameters: DtlsParameters;
  readonly dtlsState: DtlsState;
  readonly iceState: 'new' | 'connected' | 'completed' | 'disconnected' | 'closed';
  connect(o: { dtlsParameters: DtlsParameters }): Promise<void>;
  restartIce(): Promise<IceParameters>;
  produce(o: { kind: MediaKind; rtpParameters: RtpParameters }): Promise<Producer>;
  consume(o: { producerId: string; rtpCapabilities: RtpCapabilities; paused?: boolean }): Promise<Consumer>;
  on(event: 'dtlsstatechange', listener: (state: DtlsState) => void): void;
  close(): void;
}

export interface Router {
  readonly rtpCapabilities: RtpCapabilities;
  canConsume(o: { producerId: string; rtpCapabilities: RtpCapabilities }): boolean;
  createWebRtcTransport(o: {
    listenInfos: TransportListenInfo[];
    initialAvailableOutgoingBitrate?: number;
  }): Promise<WebRtcTransport>;
  on(event: 'workerclose', listener: () => void): void;
  readonly observer: Observer;
  close(): void;
}

export interface ResourceUsage {
  ru_utime: number;
  ru_stime: number;
  ru_maxrss: number;
}

export interface Worker {
  readonly pid: number;
  readonly appData: Record<string, unknown>;
  createRouter(o: { mediaCodecs: RouterRtpCodecCapability[] }): Promise<Router>;
  getResourceUsage(): Promise<ResourceUsage>;
  on(event: 'died', listener: (err: Error) => void): void;
  close(): void;
}

export interface WorkerSettings {
  logLevel?: 'debug' | 'warn' | 'error' | 'none';
  rtcMinPort?: number;
  rtcMaxPort?: number;
  appData?: Record<string, unknown>;
}

export interface MediasoupModule {
  readonly version: string;
  createWorker(settings: WorkerSettings): Promise<Worker>;
}

// A variable, not a literal: TypeScript must not resolve the package (it may be absent).
const PACKAGE = 'mediasoup';

/** mediasoup, or the reason it cannot be loaded (not installed, or its worker binary missing). */
export async function loadMediasoup(): Promise<{ mediasoup: MediasoupModule } | { missing: string }> {
  try {
    return { mediasoup: (await import(PACKAGE)) as MediasoupModule };
  } catch (err) {
    return { missing: (err as Error).message };
  }
}
