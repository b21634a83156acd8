// Commands to a watch. Until the durable command queue lands (messaging issue) only `locate`
// exists, and only for a watch that is connected: it makes the watch report at once.
import { randomUUID } from 'node:crypto';
import { HubError, forbidden } from '../src/contract/errors.js';
import { rooms } from '../src/cluster/room-control.js';
import type { RoomDeps, RoomModule } from './types.js';

export function commandRoom(deps: RoomDeps): RoomModule {
  const { access, location, roomControl } = deps;
  return {
    handlers: {
      'command:send': {
        from: ['user'],
        async handle({ deviceId, type }, socket) {
          const info = await location.devices.get(deviceId);
          if (!info?.familyId) throw forbidden('not a watch of your family');
          await access.requireRole(info.familyId, socket.data.principal.id, ['owner', 'guardian']);
          if (!(await roomControl.isOnline({ kind: 'device', id: deviceId }))) {
            throw new HubError('UNAVAILABLE', 'the watch is offline; queued commands are not supported yet');
          }
          const command = { id: randomUUID(), type, params: {} };
          roomControl.emit(rooms.device(deviceId), 'command', command);
          return { command: { ...command, deviceId, status: 'sent' as const } };
        },
      },
    },
  };
}
