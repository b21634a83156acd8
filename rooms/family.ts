// Family rooms: every member's and bound watch's sockets join `family:<fid>` on connect. The room
// is told when a principal comes online for the first time or goes offline for the last time,
// and a new socket is told who is online already.
import { familyRoomsOf, rooms } from '../src/cluster/room-control.js';
import type { Principal, PresenceEntry } from '../src/contract/models.js';
import type { HubSocket, RoomDeps, RoomModule } from './types.js';

export function familyRoom(deps: RoomDeps): RoomModule {
  const { access, presence, store, io, clock } = deps;

  const view = async (p: Principal): Promise<PresenceEntry> => ({
    kind: p.kind,
    id: p.id,
    ...(await presence.status(p)),
  });

  const principalsOf = async (familyId: string): Promise<Principal[]> => {
    const [members, devices] = await Promise.all([store.families.members(familyId), store.devices.listByFamily(familyId)]);
    return [
      ...members.map((m): Principal => ({ kind: 'user', id: m.userId })),
      ...devices.map((d): Principal => ({ kind: 'device', id: d.id })),
    ];
  };

  const sendSnapshot = async (socket: HubSocket, familyIds: string[]) => {
    const self = socket.data.principal;
    const seen = new Set<string>();
    for (const fid of familyIds) {
      for (const p of await principalsOf(fid)) {
        const key = `${p.kind}:${p.id}`;
        if (seen.has(key) || (p.kind === self.kind && p.id === self.id)) continue;
        seen.add(key);
        const v = await view(p);
        if (v.online && v.lastSeen !== null) socket.emit('presence', { ...v, lastSeen: v.lastSeen });
      }
    }
  };

  return {
    async onConnect(socket) {
      const p = socket.data.principal;
      // In a cluster a watch may have reported through another node meanwhile: re-read what
      // this node cached about it.
      if (p.kind === 'device' && deps.clustered) deps.location.service.dropCaches(p.id);
      const familyIds = await access.familiesOf(p);
      await socket.join(familyIds.flatMap((fid) => familyRoomsOf(p, fid)));
      const now = clock();
      if (await presence.connected(p, now)) {
        for (const fid of familyIds) {
          socket.to(rooms.family(fid)).emit('presence', { kind: p.kind, id: p.id, online: true, lastSeen: now });
        }
      }
      await sendSnapshot(socket, familyIds);
    },

    async onDisconnect(socket) {
      const p = socket.data.principal;
      const now = clock();
      if (!(await presence.disconnected(p, now))) return;
      for (const fid of await access.familiesOf(p)) {
        io.to(rooms.family(fid)).emit('presence', { kind: p.kind, id: p.id, online: false, lastSeen: now });
      }
    },

    handlers: {
      'presence:list': {
        from: ['user', 'device'],
        async handle({ familyId }, socket) {
          await access.requireInFamily(socket.data.principal, familyId);
          return { presence: await Promise.all((await principalsOf(familyId)).map(view)) };
        },
      },
    },
  };
}
