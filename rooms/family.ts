// Family rooms: every member's and bound watch's sockets join `family:<fid>` on connect. The room
// is told when a principal comes online for the first time or goes offline for the last time,
// and a new socket is told who is online already.
import { RULES } from '../src/auth/rules.js';
import { familyRoomsOf, rooms } from '../src/contract/rooms.js';
import type { RoomDeps, RoomModule } from './types.js';

export function familyRoom({ presence, location, clock }: RoomDeps): RoomModule {
  return {
    async onConnect(socket) {
      const p = socket.data.principal;
      // The watch may have reported through another node meanwhile: re-read what this node
      // caches about its fences.
      if (p.kind === 'device') location.service.dropCaches(p.id);
      const familyIds = await presence.familiesOf(p);
      await socket.join(familyIds.flatMap((fid) => familyRoomsOf(p, fid)));
      const now = clock();
      if (await presence.connected(p, now)) {
        for (const fid of familyIds) {
          socket.to(rooms.family(fid)).emit('presence', { kind: p.kind, id: p.id, online: true, lastSeen: now });
        }
      }
      for (const view of await presence.online(p, familyIds)) socket.emit('presence', view);
    },

    async onDisconnect(socket) {
      await presence.disconnected(socket.data.principal);
    },

    handlers: {
      'presence:list': {
        rule: RULES['presence.list'],
        handle: async (req, socket) => ({ presence: await presence.list(socket.data.principal, req) }),
      },
    },
  };
}
