// The SFU side of a party's call signaling: transports, producers and consumers through the
// call's CallSession. A watch's permissions are checked again at each step that sends media, so a
// permission turned off mid-call stops what it covers. The caller (CallService) has already found
// the call and checked that the party is in it.
import { E } from '../contract/errors.js';
import type { Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { EventPayload } from '../contract/schemas.js';
import type { TransportInfo } from '../media/call-session.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import { type Call, partyKey } from './call.js';

export class CallNegotiation {
  constructor(private readonly deps: { devices: DeviceDirectory; roomControl: RoomControl }) {}

  async createTransport(call: Call, p: Principal, req: EventPayload<'call:transport:create'>): Promise<TransportInfo> {
    // A watch sends only with its microphone on: no send transport to one that may not send.
    if (req.direction === 'send' && p.kind === 'device' && !(await this.deps.devices.get(p.id))?.permissions.microphone) {
      throw E.permissionOff('microphone');
    }
    return call.session.createTransport(partyKey(p));
  }

  async connectTransport(call: Call, p: Principal, req: EventPayload<'call:transport:connect'>) {
    await call.session.connectTransport(partyKey(p), req.transportId, req.dtlsParameters as never);
    return {};
  }

  async produce(call: Call, p: Principal, req: EventPayload<'call:produce'>) {
    if (req.kind === 'video' && !call.video) throw E.voiceCallNoVideo();
    if (p.kind === 'device') {
      const info = await this.deps.devices.get(p.id);
      const needed = req.kind === 'video' ? 'camera' : 'microphone';
      if (!info?.permissions[needed]) throw E.permissionOff(needed);
    }
    const producer = await call.session.produce(partyKey(p), req.transportId, req.kind, req.rtpParameters as never);
    for (const other of call.participants.values()) {
      if (partyKey(other) === partyKey(p)) continue;
      this.deps.roomControl.emit(rooms.of(other), 'call:producer', {
        callId: call.id,
        producerId: producer.id,
        kind: producer.kind,
        from: p,
      });
    }
    return { producerId: producer.id };
  }

  async consume(call: Call, p: Principal, req: EventPayload<'call:consume'>) {
    const consumer = await call.session.consume(partyKey(p), req.transportId, req.producerId, req.rtpCapabilities as never);
    return {
      consumerId: consumer.id,
      producerId: consumer.producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
    };
  }

  async resumeConsumer(call: Call, p: Principal, req: EventPayload<'call:consumer:resume'>) {
    await call.session.resumeConsumer(partyKey(p), req.consumerId);
    return {};
  }

  async restartIce(call: Call, p: Principal, req: EventPayload<'call:ice:restart'>) {
    return { iceParameters: await call.session.restartIce(partyKey(p), req.transportId) };
  }
}
