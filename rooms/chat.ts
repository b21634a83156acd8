// The family conversation: send, sync after an absence, read receipts.
import type { RoomDeps, RoomModule } from './types.js';

export function chatRoom(deps: RoomDeps): RoomModule {
  const { chat } = deps;
  return {
    handlers: {
      'chat:send': {
        from: ['user', 'device'],
        handle: async (req, socket) => ({ message: await chat.send(socket.data.principal, req) }),
      },
      'chat:sync': {
        from: ['user', 'device'],
        handle: (req, socket) => chat.sync(socket.data.principal, req),
      },
      'chat:read': {
        from: ['user', 'device'],
        handle: (req, socket) => chat.read(socket.data.principal, req),
      },
    },
  };
}
