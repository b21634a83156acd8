// Room names and the membership changes HTTP handlers make to live sockets. These go through the
// Socket.IO adapter, so with the Redis adapter they reach the sockets on every node.
import type { Server } from 'socket.io';
import type { Principal } from '../contract/models.js';

export const rooms = {
  family: (fid: string) => `family:${fid}`,
  user: (uid: string) => `user:${uid}`,
  device: (did: string) => `device:${did}`,
  of: (p: Principal) => (p.kind === 'user' ? `user:${p.id}` : `device:${p.id}`),
};

export interface RoomControl {
  joinFamily(p: Principal, familyId: string): void;
  /** The principal's sockets leave the family room at once and are told so. */
  leaveFamily(p: Principal, familyId: string): void;
  /** Ends every socket of the principal (its token was revoked). */
  disconnect(p: Principal): void;
}

export function socketRoomControl(io: Server): RoomControl {
  return {
    joinFamily: (p, fid) => io.in(rooms.of(p)).socketsJoin(rooms.family(fid)),
    leaveFamily: (p, fid) => {
      io.in(rooms.of(p)).socketsLeave(rooms.family(fid));
      io.to(rooms.of(p)).emit('family:removed', { familyId: fid });
    },
    disconnect: (p) => io.in(rooms.of(p)).disconnectSockets(true),
  };
}
