// Room names and the membership changes HTTP handlers make to live sockets. These go through the
// Socket.IO adapter, so with the Redis adapter they reach the sockets on every node.
import type { Server } from 'socket.io';
import type { ServerToClientEvents } from '../contract/events.js';
import type { Principal } from '../contract/models.js';

export const rooms = {
  family: (fid: string) => `family:${fid}`,
  /**
   * The family's people (not its watches): where the children's positions, fence crossings,
   * alerts and command updates go, so one child's watch never learns where a sibling is.
   */
  guardians: (fid: string) => `family:${fid}:people`,
  /** Area rooms are named by H3 cell only: no person, watch or family in the name. */
  area: (cell: string) => `area:${cell}`,
  user: (uid: string) => `user:${uid}`,
  device: (did: string) => `device:${did}`,
  /** A login session (refresh-token chain): its sockets end with it. */
  session: (sid: string) => `session:${sid}`,
  call: (cid: string) => `call:${cid}`,
  of: (p: Principal) => (p.kind === 'user' ? `user:${p.id}` : `device:${p.id}`),
};

/** The rooms a principal's sockets are in for a family. */
export function familyRoomsOf(p: Principal, familyId: string): string[] {
  return p.kind === 'user' ? [rooms.family(familyId), rooms.guardians(familyId)] : [rooms.family(familyId)];
}

export interface RoomControl {
  joinFamily(p: Principal, familyId: string): void;
  /** The principal's sockets leave the family room at once and are told so. */
  leaveFamily(p: Principal, familyId: string): void;
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

export function socketRoomControl(io: Server<any, ServerToClientEvents>): RoomControl {
  return {
    joinFamily: (p, fid) => io.in(rooms.of(p)).socketsJoin(familyRoomsOf(p, fid)),
    leaveFamily: (p, fid) => {
      io.in(rooms.of(p)).socketsLeave(familyRoomsOf(p, fid));
      io.to(rooms.of(p)).emit('family:removed', { familyId: fid });
    },
    disconnect: (p) => io.in(rooms.of(p)).disconnectSockets(true),
    endSession: (sid) => {
      io.to(rooms.session(sid)).emit('session:expired', { code: 'UNAUTHORIZED', message: 'session ended' });
      io.in(rooms.session(sid)).disconnectSockets(true);
    },
    join: (p, room) => io.in(rooms.of(p)).socketsJoin(room),
    leave: (p, room) => io.in(rooms.of(p)).socketsLeave(room),
    emit: (room, event, ...args) => {
      (io.to(room).emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    },
    isOnline: async (p) => (await io.in(rooms.of(p)).fetchSockets()).length > 0,
  };
}
