// The media of one call, with mediasoup-client: a Device loaded with the call's router
// capabilities, one send and one receive WebRTC transport (signaled over the hub's call:* events),
// producers for the microphone (and camera), and consumers for what the others send.
import { Device } from 'mediasoup-client';
import type { Consumer, Producer, Transport } from 'mediasoup-client/types';
import { request } from './socket.js';

export class CallMedia {
  private readonly device = new Device();
  private send: Transport | undefined;
  private recv: Transport | undefined;
  private producers: Producer[] = [];
  private consumers: Consumer[] = [];
  private local: MediaStream | undefined;
  private readonly remote = new MediaStream();
  private closed = false;
  ready = false;

  constructor(
    private readonly callId: string,
    private readonly video: boolean,
    private readonly onRemote: (stream: MediaStream) => void,
  ) {}

  async load(routerRtpCapabilities: object): Promise<void> {
    if (!this.device.loaded) await this.device.load({ routerRtpCapabilities: routerRtpCapabilities as never });
  }

  private async transport(direction: 'send' | 'recv'): Promise<Transport> {
    const info = await request('call:transport:create', { callId: this.callId, direction });
    const params = {
      id: info.id,
      iceParameters: info.iceParameters as never,
      iceCandidates: info.iceCandidates as never,
      dtlsParameters: info.dtlsParameters as never,
    };
    const t = direction === 'send' ? this.device.createSendTransport(params) : this.device.createRecvTransport(params);
    t.on('connect', ({ dtlsParameters }, done, fail) => {
      request('call:transport:connect', { callId: this.callId, transportId: t.id, dtlsParameters: dtlsParameters as never }).then(
        () => done(),
        fail,
      );
    });
    t.on('connectionstatechange', (state) => {
      // A network change: new ICE credentials from the hub, the same transport.
      if (state === 'failed' || state === 'disconnected') {
        request('call:ice:restart', { callId: this.callId, transportId: t.id }).then(
          (r) => t.restartIce({ iceParameters: r.iceParameters as never }),
          () => undefined,
        );
      }
    });
    if (direction === 'send') {
      t.on('produce', ({ kind, rtpParameters }, done, fail) => {
        request('call:produce', { callId: this.callId, transportId: t.id, kind, rtpParameters: rtpParameters as never }).then(
          (r) => done({ id: r.producerId }),
          fail,
        );
      });
    }
    return t;
  }

  /** Opens the microphone (and camera), produces them, and gets ready to consume. */
  async start(): Promise<MediaStream> {
    this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.video });
    this.send = await this.transport('send');
    this.recv = await this.transport('recv');
    for (const track of this.local.getTracks()) {
      if (this.closed) break;
      this.producers.push(await this.send.produce({ track }));
    }
    this.ready = true;
    return this.local;
  }

  async consume(producerId: string): Promise<void> {
    const recv = this.recv;
    if (!recv || this.closed) return;
    const r = await request('call:consume', {
      callId: this.callId,
      transportId: recv.id,
      producerId,
      rtpCapabilities: this.device.rtpCapabilities as never,
    });
    const consumer = await recv.consume({
      id: r.consumerId,
      producerId: r.producerId,
      kind: r.kind as 'audio' | 'video',
      rtpParameters: r.rtpParameters as never,
    });
    this.consumers.push(consumer);
    this.remote.addTrack(consumer.track);
    this.onRemote(this.remote);
    // Created paused on the hub, so no packet arrives before this consumer exists.
    await request('call:consumer:resume', { callId: this.callId, consumerId: r.consumerId });
  }

  /** Bytes sent and received so far, from the transports' WebRTC statistics. */
  async stats(): Promise<{ sent: number; received: number }> {
    let sent = 0;
    let received = 0;
    for (const [t, type, field] of [
      [this.send, 'outbound-rtp', 'bytesSent'],
      [this.recv, 'inbound-rtp', 'bytesReceived'],
    ] as const) {
      if (!t) continue;
      const report = await t.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type === type && typeof s[field] === 'number') {
          if (field === 'bytesSent') sent += s[field] as number;
          else received += s[field] as number;
        }
      });
    }
    return { sent, received };
  }

  setMuted(muted: boolean): void {
    for (const t of this.local?.getAudioTracks() ?? []) t.enabled = !muted;
  }

  close(): void {
    this.closed = true;
    this.ready = false;
    for (const c of this.consumers) c.close();
    for (const p of this.producers) p.close();
    this.send?.close();
    this.recv?.close();
    this.local?.getTracks().forEach((t) => t.stop());
  }
}
