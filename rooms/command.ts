// Commands to a watch: guardians send; the watch gets what is open on every connect and reports
// results.
import type { RoomDeps, RoomModule } from './types.js';

export function commandRoom(deps: RoomDeps): RoomModule {
  const { commands } = deps;
  return {
    async onConnect(socket) {
      if (socket.data.principal.kind === 'device') await commands.deliverOpen(socket.data.principal.id);
    },
    handlers: {
      'command:send': {
        from: ['user'],
        handle: async (req, socket) => ({ command: await commands.send(socket.data.principal, req) }),
      },
      'command:result': {
        from: ['device'],
        handle: async (req, socket) => ({ command: await commands.result(socket.data.principal, req) }),
      },
    },
  };
}
