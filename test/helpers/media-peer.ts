// A WebRTC peer without a browser: msc-node (mediasoup-client on the werift stack) driven over
// the hub's real call signaling. It can send synthetic RTP (opus silence, VP8 key-frame-like
// payloads) and counts what it receives.
import { Device, MediaStreamTrack, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'msc-node';
import { type ClientSocket, request } from './hub.js';

export class MediaPeer {
  readonly device = new Device({
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/VP8',
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        }),
      ],
    },
  });
  readonly received = { audio: 0, video: 0 };
  private feeder: NodeJS.Timeout | undefined;
  private closers: (() => void)[] = [];

  constructor(
    private readonly socket: ClientSocket,
    private readonly callId: string,
  ) {}

  async load(rtpCapabilities: object): Promise<void> {
    await this.device.load({ routerRtpCapabilities: rtpCapabilities as never });
  }

  private async transport(direction: 'send' | 'recv') {
    const info = await request(this.socket, 'call:transport:create', { callId: this.callId, direction });
    if (!info.ok) throw new Error(`transport: ${JSON.stringify(info.error)}`);
    const params = {
      id: info.id,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
    };
    // WebRTC parameters are opaque objects in the contract; msc-node knows their shape.
    const opts = params as never;
    const t = direction === 'send' ? this.device.createSendTransport(opts) : this.device.createRecvTransport(opts);
    t.on('connect', ({ dtlsParameters }: { dtlsParameters: object }, cb: () => void, eb: (e: Error) => void) => {
      request(this.socket, 'call:transport:connect', {
        callId: this.callId,
        transportId: t.id,
        dtlsParameters: dtlsParameters as never,
      }).then((r) => (r.ok ? cb() : eb(new Error(r.error.message))), eb);
    });
    this.closers.push(() => t.close());
    return t;
  }

  /** Produces audio and video (or only the kinds given, e.g. audio for a voice call) from synthetic RTP; returns the hub's producer ids. */
  async sendAudioVideo(kinds: readonly ('audio' | 'video')[] = ['audio', 'video']): Promise<string[]> {
    const send = await this.transport('send');
    send.on(
      'produce',
      (
        { kind, rtpParameters }: { kind: string; rtpParameters: object },
        cb: (r: { id: string }) => void,
        eb: (e: Error) => void,
      ) => {
        request(this.socket, 'call:produce', {
          callId: this.callId,
          transportId: send.id,
          kind: kind as 'audio' | 'video',
          rtpParameters: rtpParameters as never,
        }).then((r) => (r.ok ? cb({ id: r.producerId }) : eb(new Error(r.error.message))), eb);
      },
    );
    const audio = new MediaStreamTrack({ kind: 'audio' });
    const video = new MediaStreamTrack({ kind: 'video' });
    const ids: string[] = [];
    if (kinds.includes('audio')) ids.push((await send.produce({ track: audio })).id);
    if (kinds.includes('video')) ids.push((await send.produce({ track: video })).id);
    let seq = 0;
    let ts = 0;
    this.feeder = setInterval(() => {
      seq = (seq + 1) & 0xffff;
      ts += 960;
      audio.writeRtp(
        new RtpPacket(
          new RtpHeader({ payloadType: 100, sequenceNumber: seq, timestamp: ts, ssrc: 1111, marker: false }),
          Buffer.from([0xf8, 0xff, 0xfe]),
        ),
      );
      const vp8 = Buffer.concat([
        Buffer.from([0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x40, 0x00]),
        Buffer.alloc(100),
      ]);
      video.writeRtp(
        new RtpPacket(new RtpHeader({ payloadType: 101, sequenceNumber: seq, timestamp: ts * 2, ssrc: 2222, marker: true }), vp8),
      );
    }, 20);
    return ids;
  }

  /** Consumes producers through the hub (paused, then resumed as the protocol asks). */
  async receive(producerIds: string[]): Promise<string[]> {
    const recv = await this.transport('recv');
    const consumerIds: string[] = [];
    for (const producerId of producerIds) {
      const r = await request(this.socket, 'call:consume', {
        callId: this.callId,
        transportId: recv.id,
        producerId,
        rtpCapabilities: this.device.rtpCapabilities,
      });
      if (!r.ok) throw new Error(`consume: ${JSON.stringify(r.error)}`);
      const consumer = await recv.consume({
        id: r.consumerId,
        producerId: r.producerId,
        kind: r.kind as 'audio' | 'video',
        rtpParameters: r.rtpParameters as never,
      });
      const kind = r.kind as 'audio' | 'video';
      consumer.track.onReceiveRtp.subscribe(() => this.received[kind]++);
      const resumed = await request(this.socket, 'call:consumer:resume', { callId: this.callId, consumerId: r.consumerId });
      if (!resumed.ok) throw new Error(`resume: ${JSON.stringify(resumed.error)}`);
      consumerIds.push(r.consumerId);
    }
    return consumerIds;
  }

  close(): void {
    clearInterval(this.feeder);
    for (const c of this.closers) c();
  }
}
