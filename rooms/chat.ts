// The family conversation: send, sync after an absence, read receipts.
import { RULES } from '../src/auth/rules.js';
import type { RoomDeps, RoomModule } from './types.js';

export function chatRoom({ chat }: RoomDeps): RoomModule {
  return {
    handlers: {
      'chat:send': {
        rule: RULES['chat.send'],
        handle: async (req, socket) => ({ message: await chat.send(socket.data.principal, req) }),
      },
      'chat:sync': { rule: RULES['chat.read'], handle: (req, socket) => chat.sync(socket.data.principal, req) },
      'chat:read': { rule: RULES['chat.read'], handle: (req, socket) => chat.read(socket.data.principal, req) },
    },
  };
}
