// The call lifecycle and signaling: start → ring → accept/decline → active → hangup, with missed
// after the ring timeout, a maximum length, a grace period for participants who drop, and late
// joiners getting the producers already there. Media is in CallSession, its negotiation in
// negotiation.ts; this file is who may do what, and who is told. A call lives on the node that
// created it (registry keeps its node id); other nodes forward their parties' requests to it.
import { randomUUID } from 'node:crypto';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { CallMethod } from '../contract/events.js';
import type { Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { EventPayload } from '../contract/schemas.js';
import { KeyedSerial } from '../location/keyed-serial.js';
import { CallSession } from '../media/call-session.js';
import type { Media } from '../media/workers.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import type { Store } from '../store/store.js';
import { type Call, type CallEndReason, partyKey, principalOf } from './call.js';
import { CallNegotiation } from './negotiation.js';

export interface CallOptions {
  nodeId: string;
  /** Calls a family may have going at once (on this node). */
  maxCallsPerFamily: number;
  ringTimeoutMs: number;
  maxDurationMs: number;
  graceMs: number;
}

export class CallService {
  private readonly calls = new Map<string, Call>();
  /** Principal → the call they are in or being rung for: "busy". */
  private readonly busy = new Map<string, string>();
  /** One start at a time per caller: two at once must not both pass the "busy" check. */
  private readonly starting = new KeyedSerial();
  /** Transports, producers and consumers: the SFU side of each party's signaling. */
  private readonly negotiation: CallNegotiation;

  constructor(
    private readonly deps: {
      media: Media;
      store: Store;
      guard: Guard;
      devices: DeviceDirectory;
      roomControl: RoomControl;
      pushRing: (userIds: string[], n: { kind: 'ring'; familyId: string; ts: number; callId: string }) => Promise<void>;
      /** A call nobody answered: a push to each invited user with no connection. */
      pushMissed?: (userIds: string[], n: { kind: 'missed_call'; familyId: string; ts: number; callId: string }) => Promise<void>;
      isOnline: (p: Principal) => Promise<boolean>;
      clock: () => number;
    },
    private readonly opts: CallOptions,
  ) {
    this.negotiation = new CallNegotiation(deps);
  }

  get available(): boolean {
    return this.deps.media.available;
  }

  /** Whether the call lives on this node. */
  hosts(callId: string): boolean {
    return this.calls.has(callId);
  }

  /** The signaling requests a participant on any node may send, by name (for forwarding). */
  async handle(method: CallMethod, p: Principal, req: { callId: string } & Record<string, unknown>): Promise<object> {
    switch (method) {
      case 'call:accept':
        return this.accept(p, req.callId);
      case 'call:decline':
        return this.decline(p, req.callId);
      case 'call:hangup':
        return this.hangup(p, req.callId);
    }
    const call = this.callFor(p, req.callId, 'participant');
    switch (method) {
      case 'call:transport:create':
        return this.negotiation.createTransport(call, p, req as never);
      case 'call:transport:connect':
        return this.negotiation.connectTransport(call, p, req as never);
      case 'call:produce':
        return this.negotiation.produce(call, p, req as never);
      case 'call:consume':
        return this.negotiation.consume(call, p, req as never);
      case 'call:consumer:resume':
        return this.negotiation.resumeConsumer(call, p, req as never);
      case 'call:ice:restart':
        return this.negotiation.restartIce(call, p, req as never);
    }
  }

  stats(): { calls: number; transports: number; producers: number; consumers: number } {
    const total = { calls: this.calls.size, transports: 0, producers: 0, consumers: 0 };
    for (const c of this.calls.values()) {
      const n = c.session.counts();
      total.transports += n.transports;
      total.producers += n.producers;
      total.consumers += n.consumers;
    }
    return total;
  }

  start(caller: Principal, req: EventPayload<'call:start'>) {
    return this.starting.run(partyKey(caller), () => this.startOnce(caller, req));
  }

  private async startOnce(caller: Principal, req: EventPayload<'call:start'>) {
    const { media } = this.deps;
    if (!media.available) throw E.callsUnavailable(media.reason);
    await this.deps.guard.check(RULES['call.start'], caller, req);
    if (this.busy.has(partyKey(caller))) throw E.inCall();
    const going = [...this.calls.values()].filter((c) => c.familyId === req.familyId).length;
    if (going >= this.opts.maxCallsPerFamily) throw E.familyCallsFull(this.opts.maxCallsPerFamily);
    const invitees = new Map<string, Principal>();
    for (const p of req.invitees) {
      if (partyKey(p) === partyKey(caller)) continue;
      await this.requireInvitee(p, req.familyId, req.video);
      if (!this.busy.has(partyKey(p))) invitees.set(partyKey(p), p);
    }
    if (invitees.size === 0) throw E.everyoneBusy();
    const call: Call = {
      id: randomUUID(),
      familyId: req.familyId,
      nodeId: this.opts.nodeId,
      caller,
      video: req.video,
      state: 'ringing',
      ringing: invitees,
      participants: new Map([[partyKey(caller), caller]]),
      session: await CallSession.open(media),
      timers: [],
      grace: new Map(),
    };
    this.calls.set(call.id, call);
    for (const k of [partyKey(caller), ...invitees.keys()]) this.busy.set(k, call.id);
    call.session.router.on('workerclose', () => this.end(call, 'media_failure'));
    call.timers.push(setTimeout(() => this.ringTimeout(call), this.opts.ringTimeoutMs).unref());
    call.timers.push(setTimeout(() => this.end(call, 'timeout'), this.opts.maxDurationMs).unref());
    this.deps.roomControl.join(caller, rooms.call(call.id));

    for (const p of invitees.values()) this.deps.roomControl.emit(rooms.of(p), 'call:ring', ringOf(call));
    const offline: string[] = [];
    for (const p of invitees.values()) if (p.kind === 'user' && !(await this.deps.isOnline(p))) offline.push(p.id);
    if (offline.length > 0)
      await this.deps.pushRing(offline, { kind: 'ring', familyId: call.familyId, ts: this.deps.clock(), callId: call.id });
    this.tell(call, { state: 'ringing' });
    return { callId: call.id, rtpCapabilities: call.session.rtpCapabilities };
  }

  async accept(p: Principal, callId: string) {
    const call = this.callFor(p, callId, 'invited');
    call.ringing.delete(partyKey(p));
    call.participants.set(partyKey(p), p);
    this.deps.roomControl.join(p, rooms.call(call.id));
    if (call.state === 'ringing') {
      call.state = 'active';
      this.tell(call, { state: 'active' });
    } else {
      this.deps.roomControl.emit(rooms.of(p), 'call:state', { callId: call.id, state: 'active' });
    }
    // A late joiner learns what is already being sent.
    for (const existing of call.session.producersExcept(partyKey(p))) {
      this.deps.roomControl.emit(rooms.of(p), 'call:producer', {
        callId: call.id,
        producerId: existing.producerId,
        kind: existing.kind,
        from: principalOf(existing.from),
      });
    }
    return { callId: call.id, rtpCapabilities: call.session.rtpCapabilities };
  }

  async decline(p: Principal, callId: string) {
    const call = this.callFor(p, callId, 'invited');
    call.ringing.delete(partyKey(p));
    this.busy.delete(partyKey(p));
    this.deps.roomControl.emit(rooms.of(p), 'call:state', { callId, state: 'ended', reason: 'declined' });
    if (call.state === 'ringing' && call.ringing.size === 0) this.end(call, 'declined');
    return { callId };
  }

  async hangup(p: Principal, callId: string) {
    const call = this.calls.get(callId);
    if (!call || (!call.participants.has(partyKey(p)) && !call.ringing.has(partyKey(p))))
      throw E.noSuchCall('no such call of yours');
    if (call.ringing.has(partyKey(p))) return this.decline(p, callId);
    this.leave(call, p, 'hangup');
    return { callId };
  }

  /** The principal's last socket closed: leave their calls after the grace period. */
  socketsGone(p: Principal): void {
    const call = this.calls.get(this.busy.get(partyKey(p)) ?? '');
    if (!call || !call.participants.has(partyKey(p)) || call.grace.has(partyKey(p))) return;
    call.grace.set(
      partyKey(p),
      setTimeout(() => {
        call.grace.delete(partyKey(p));
        this.leave(call, p, 'disconnected');
      }, this.opts.graceMs).unref(),
    );
  }

  /**
   * A socket of the principal connected: an invitee's new socket hears the call still ringing for
   * them (an app opened from the ring push knows only the call's id), and a participant in the
   * grace period stays in the call.
   */
  socketsBack(p: Principal, socketId: string): void {
    const call = this.calls.get(this.busy.get(partyKey(p)) ?? '');
    if (call?.ringing.has(partyKey(p))) this.deps.roomControl.emit(socketId, 'call:ring', ringOf(call));
    const timer = call?.grace.get(partyKey(p));
    if (!call || !timer) return;
    clearTimeout(timer);
    call.grace.delete(partyKey(p));
    this.deps.roomControl.join(p, rooms.call(call.id));
  }

  /**
   * The principal left the family, or lost a permission: its part in the family's calls on this
   * node ends at once (all of it, or only the media of these kinds).
   */
  removeParty(p: Principal, familyId: string, media?: readonly ('audio' | 'video')[]): void {
    for (const call of [...this.calls.values()]) {
      if (call.familyId !== familyId) continue;
      if (media) {
        if (call.participants.has(partyKey(p))) call.session.closeProducers(partyKey(p), media);
        continue;
      }
      if (call.ringing.has(partyKey(p))) {
        call.ringing.delete(partyKey(p));
        this.busy.delete(partyKey(p));
        this.deps.roomControl.emit(rooms.of(p), 'call:state', { callId: call.id, state: 'ended', reason: 'removed' });
        if (call.state === 'ringing' && call.ringing.size === 0) this.end(call, 'removed');
      } else if (call.participants.has(partyKey(p))) {
        this.leave(call, p, 'removed');
      }
    }
  }

  closeAll(): void {
    for (const call of [...this.calls.values()]) this.end(call, 'hangup');
  }

  private leave(call: Call, p: Principal, reason: CallEndReason): void {
    call.participants.delete(partyKey(p));
    this.busy.delete(partyKey(p));
    call.session.leave(partyKey(p));
    this.deps.roomControl.leave(p, rooms.call(call.id));
    this.deps.roomControl.emit(rooms.of(p), 'call:state', { callId: call.id, state: 'ended', reason });
    if (call.participants.size <= 1) this.end(call, reason);
  }

  private ringTimeout(call: Call): void {
    if (call.state === 'ringing') {
      this.end(call, 'missed');
      return;
    }
    // Active (someone else answered): those who never answered stop ringing, and missed it.
    const unanswered = [...call.ringing.values()];
    for (const p of unanswered) {
      this.busy.delete(partyKey(p));
      this.deps.roomControl.emit(rooms.of(p), 'call:state', { callId: call.id, state: 'ended', reason: 'missed' });
    }
    call.ringing.clear();
    void this.pushMissed(call, unanswered);
  }

  /** Tells the invited users not connected anywhere that they missed the call; never throws. */
  private async pushMissed(call: Call, invitees: Principal[]): Promise<void> {
    const users = invitees.filter((p) => p.kind === 'user');
    if (!this.deps.pushMissed || users.length === 0) return;
    try {
      const offline: string[] = [];
      for (const p of users) if (!(await this.deps.isOnline(p))) offline.push(p.id);
      if (offline.length > 0) {
        await this.deps.pushMissed(offline, {
          kind: 'missed_call',
          familyId: call.familyId,
          ts: this.deps.clock(),
          callId: call.id,
        });
      }
    } catch {
      // A push that could not be queued is lost; the call is over either way.
    }
  }

  private end(call: Call, reason: CallEndReason): void {
    if (call.state === 'ended') return;
    call.state = 'ended';
    call.timers.forEach(clearTimeout);
    call.grace.forEach(clearTimeout);
    // Still ringing when the call ends (nobody answered in time, the caller gave up, the call
    // broke off): a missed call for them.
    const unanswered = [...call.ringing.values()];
    const everyone = [...call.participants.values(), ...unanswered];
    for (const p of everyone) {
      this.busy.delete(partyKey(p));
      this.deps.roomControl.emit(rooms.of(p), 'call:state', { callId: call.id, state: 'ended', reason });
      this.deps.roomControl.leave(p, rooms.call(call.id));
    }
    call.session.close();
    this.calls.delete(call.id);
    void this.pushMissed(call, unanswered);
  }

  private tell(call: Call, s: { state: 'ringing' | 'active' }): void {
    for (const p of [...call.participants.values(), ...call.ringing.values()]) {
      this.deps.roomControl.emit(rooms.of(p), 'call:state', { callId: call.id, ...s });
    }
  }

  private callFor(p: Principal, callId: string, as: 'invited' | 'participant'): Call {
    const call = this.calls.get(callId);
    const member = as === 'invited' ? call?.ringing.has(partyKey(p)) : call?.participants.has(partyKey(p));
    if (!call || !member)
      throw E.noSuchCall(as === 'invited' ? 'no call is ringing for you with that id' : 'you are not in that call');
    return call;
  }

  /** Invitees are the family's members and watches; a watch needs its microphone (and camera for video). */
  private async requireInvitee(p: Principal, familyId: string, video: boolean): Promise<void> {
    if (p.kind === 'user') {
      if (!(await this.deps.store.families.roleOf(familyId, p.id))) throw E.callOutsideFamily();
      return;
    }
    const info = await this.deps.devices.get(p.id);
    if (info?.familyId !== familyId) throw E.callOutsideFamily();
    if (!info.permissions.microphone) throw E.permissionOff('microphone');
    if (video && !info.permissions.camera) throw E.permissionOff('camera');
  }
}

const ringOf = (call: Call) => ({ callId: call.id, from: call.caller, video: call.video });
