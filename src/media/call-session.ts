// One call's media: a router on one worker, and per participant their WebRTC transports,
// producers and consumers. Knows nothing of sockets; the call service drives it.
import type * as types from './sfu-types.js';
import { E } from '../contract/errors.js';
import type { MediaWorkers } from './workers.js';

const MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

/**
 * What one participant may hold in a call: a send and a receive transport, with room for a
 * reconnect; one producer per kind; one consumer per kind of everyone else. One caller must not
 * be able to take every media port of the node.
 */
export const PARTICIPANT_LIMITS = { transports: 4, producers: 2, consumers: 2 * 8 } as const;

/** mediasoup's answer when the worker's port range is used up. */
const NO_PORTS = /no more available ports|port.*in use|EADDRINUSE/i;

export interface TransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

interface Participant {
  transports: Map<string, types.WebRtcTransport>;
  producers: Map<string, types.Producer>;
  consumers: Map<string, types.Consumer>;
}

export class CallSession {
  private readonly participants = new Map<string, Participant>();

  private constructor(
    readonly router: types.Router,
    private readonly workers: MediaWorkers,
  ) {}

  static async open(workers: MediaWorkers): Promise<CallSession> {
    const worker = workers.pick();
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    (worker.appData.routers as number)++;
    router.observer.once('close', () => (worker.appData.routers as number)--);
    return new CallSession(router, workers);
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  counts(): { transports: number; producers: number; consumers: number } {
    let transports = 0;
    let producers = 0;
    let consumers = 0;
    for (const p of this.participants.values()) {
      transports += p.transports.size;
      producers += p.producers.size;
      consumers += p.consumers.size;
    }
    return { transports, producers, consumers };
  }

  async createTransport(who: string): Promise<TransportInfo> {
    if (this.participant(who).transports.size >= PARTICIPANT_LIMITS.transports) {
      throw E.callLimit(`at most ${PARTICIPANT_LIMITS.transports} transports per participant`);
    }
    const { listenIp, announcedIp } = this.workers.settings;
    const transport = await this.router
      .createWebRtcTransport({
        listenInfos: [
          { protocol: 'udp', ip: listenIp, ...(announcedIp ? { announcedAddress: announcedIp } : {}) },
          { protocol: 'tcp', ip: listenIp, ...(announcedIp ? { announcedAddress: announcedIp } : {}) },
        ],
        initialAvailableOutgoingBitrate: 600_000,
      })
      .catch((err: Error) => {
        if (NO_PORTS.test(err.message)) throw E.callsUnavailable('no media ports are free on this hub; try again shortly');
        throw err;
      });
    this.participant(who).transports.set(transport.id, transport);
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(who: string, transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    await this.transport(who, transportId)
      .connect({ dtlsParameters })
      .catch((err: Error) => {
        throw E.callMediaRefused(`cannot connect: ${err.message}`);
      });
  }

  async restartIce(who: string, transportId: string): Promise<types.IceParameters> {
    return this.transport(who, transportId).restartIce();
  }

  async produce(
    who: string,
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
  ): Promise<types.Producer> {
    const mine = this.participant(who).producers;
    if (mine.size >= PARTICIPANT_LIMITS.producers || [...mine.values()].some((p) => p.kind === kind)) {
      throw E.callLimit(`one ${kind} producer per participant`);
    }
    const producer = await this.transport(who, transportId)
      .produce({ kind, rtpParameters })
      .catch((err: Error) => {
        throw E.callMediaRefused(`cannot produce: ${err.message}`);
      });
    this.participant(who).producers.set(producer.id, producer);
    producer.observer.once('close', () => this.participants.get(who)?.producers.delete(producer.id));
    return producer;
  }

  /** Consumers start paused; the client resumes once it is ready to receive. */
  async consume(
    who: string,
    transportId: string,
    producerId: string,
    rtpCapabilities: types.RtpCapabilities,
  ): Promise<types.Consumer> {
    let canConsume = false;
    try {
      canConsume = this.router.canConsume({ producerId, rtpCapabilities });
    } catch {
      // mediasoup throws on malformed capabilities: the same answer as unusable ones.
    }
    if (!canConsume) throw E.callMediaRefused('cannot consume that producer with these capabilities');
    if (this.participant(who).consumers.size >= PARTICIPANT_LIMITS.consumers) {
      throw E.callLimit(`at most ${PARTICIPANT_LIMITS.consumers} consumers per participant`);
    }
    const consumer = await this.transport(who, transportId)
      .consume({ producerId, rtpCapabilities, paused: true })
      .catch((err: Error) => {
        throw E.callMediaRefused(`cannot consume: ${err.message}`);
      });
    this.participant(who).consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.participants.get(who)?.consumers.delete(consumer.id));
    return consumer;
  }

  async resumeConsumer(who: string, consumerId: string): Promise<void> {
    const consumer = this.participants.get(who)?.consumers.get(consumerId);
    if (!consumer) throw E.noSuchConsumer();
    await consumer.resume();
  }

  /** Producers of everyone else: what a late joiner should consume. */
  producersExcept(who: string): { producerId: string; kind: types.MediaKind; from: string }[] {
    const out: { producerId: string; kind: types.MediaKind; from: string }[] = [];
    for (const [key, p] of this.participants) {
      if (key === who) continue;
      for (const producer of p.producers.values()) out.push({ producerId: producer.id, kind: producer.kind, from: key });
    }
    return out;
  }

  /** Stops what a participant sends of these kinds (its consumers close with the producers). */
  closeProducers(who: string, kinds: readonly types.MediaKind[]): void {
    for (const producer of [...(this.participants.get(who)?.producers.values() ?? [])]) {
      if (kinds.includes(producer.kind)) producer.close();
    }
  }

  /** Closes a participant's transports (and with them their producers and consumers). */
  leave(who: string): void {
    const p = this.participants.get(who);
    if (!p) return;
    for (const t of p.transports.values()) t.close();
    this.participants.delete(who);
  }

  close(): void {
    this.router.close();
    this.participants.clear();
  }

  private participant(who: string): Participant {
    let p = this.participants.get(who);
    if (!p) {
      p = { transports: new Map(), producers: new Map(), consumers: new Map() };
      this.participants.set(who, p);
    }
    return p;
  }

  private transport(who: string, transportId: string): types.WebRtcTransport {
    const t = this.participants.get(who)?.transports.get(transportId);
    if (!t) throw E.noSuchTransport();
    return t;
  }
}
