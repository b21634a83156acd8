// Commands to a watch: guardians send; the watch gets what is open on every connect and reports
// results.
import { RULES } from '../src/auth/rules.js';
import type { RoomDeps, RoomModule } from './types.js';

export function commandRoom({ commands }: RoomDeps): RoomModule {
  return {
    async onConnect(socket) {
      if (socket.data.principal.kind === 'device') await commands.deliverOpen(socket.data.principal.id);
    },
    handlers: {
      'command:send': {
        rule: RULES['command.send'],
        handle: async (req, socket) => ({ command: await commands.send(socket.data.principal, req) }),
      },
      'command:result': {
        rule: RULES['command.result'],
        handle: async (req, socket) => ({ command: await commands.result(socket.data.principal, req) }),
      },
    },
  };
}
