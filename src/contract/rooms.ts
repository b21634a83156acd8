// Room names: where each event goes. With the Redis backplane a room emit reaches the sockets of
// every node. No person, watch or family is named in an area room (only an H3 cell).
import type { Principal } from './models.js';

export const rooms = {
  family: (fid: string) => `family:${fid}`,
  /**
   * The family's people (not its watches): where the children's positions, fence crossings,
   * alerts and command updates go, so one child's watch never learns where a sibling is.
   */
  guardians: (fid: string) => `family:${fid}:people`,
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
