// How services reach live connections: room emits and membership changes. They go through the
// Socket.IO adapter, so with the Redis backplane they reach the sockets on every node. Services get
// this at construction; the hub attaches the Socket.IO server once it has made it.
import type { FamilyExit, ServerToClientEvents } from '../contract/events.js';
import type { Principal } from '../contract/models.js';
import { familyRoomsOf, rooms } from '../contract/rooms.js';
import type { HubServer } from '../contract/server.js';

export interface RoomControl {
  joinFamily(p: Principal, familyId: string): void;
  /** The principal's sockets leave the family room at once and are told so (and why). */
  leaveFamily(p: Principal, familyId: string, reason?: FamilyExit): void;
  /** Ends every socket of the principal (its token was revoked). */
  disconnect(p: Principal): void;
  /** Ends every socket of a login session (logged out, or its refresh token was replayed). */
  endSession(sessionId: string): void;
  /** The principal's sockets join or leave a room. */
  join(p: Principal, room: string): void;
  leave(p: Principal, room: string): void;
  /** Emits to a room, on every node. */
  emit<E extends keyof ServerToClientEvents>(room: string, event: E, ...args: Parameters<ServerToClientEvents[E]>): void;
  /** True when the principal has a connected socket on any node. */
  isOnline(p: Principal): Promise<boolean>;
}

export interface RoomControlHooks {
  /** Online without a socket (a TCP watch held by the gateway on some node). */
  alsoOnline?: (p: Principal) => Promise<boolean>;
  /** Sees every emit, after it went to the sockets (the TCP watch gateway's relay). */
  onEmit?: (room: string, event: keyof ServerToClientEvents, payload: unknown) => void;
}

/** RoomControl over the hub's Socket.IO server, attached once the server exists. */
export class SocketRoomControl implements RoomControl {
  private server: HubServer | undefined;

  constructor(private readonly hooks: RoomControlHooks = {}) {}

  attach(io: HubServer): void {
    this.server = io;
  }

  private get io(): HubServer {
    if (!this.server) throw new Error('room control used before the Socket.IO server was attached');
    return this.server;
  }

  joinFamily(p: Principal, fid: string): void {
    this.io.in(rooms.of(p)).socketsJoin(familyRoomsOf(p, fid));
  }
  leaveFamily(p: Principal, fid: string, reason: FamilyExit = 'removed'): void {
    this.io.in(rooms.of(p)).socketsLeave(familyRoomsOf(p, fid));
    this.io.to(rooms.of(p)).emit('family:removed', { familyId: fid, reason });
  }
  disconnect(p: Principal): void {
    this.io.in(rooms.of(p)).disconnectSockets(true);
  }
  endSession(sid: string): void {
    this.io.to(rooms.session(sid)).emit('session:expired', { code: 'UNAUTHORIZED', message: 'session ended' });
    this.io.in(rooms.session(sid)).disconnectSockets(true);
  }
  join(p: Principal, room: string): void {
    this.io.in(rooms.of(p)).socketsJoin(room);
  }
  leave(p: Principal, room: string): void {
    this.io.in(rooms.of(p)).socketsLeave(room);
  }
  emit<E extends keyof ServerToClientEvents>(room: string, event: E, ...args: Parameters<ServerToClientEvents[E]>): void {
    (this.io.to(room).emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    this.hooks.onEmit?.(room, event, args[0]);
  }
  async isOnline(p: Principal): Promise<boolean> {
    if ((await this.io.in(rooms.of(p)).fetchSockets()).length > 0) return true;
    return this.hooks.alsoOnline ? this.hooks.alsoOnline(p) : false;
  }
}
