// Area subscriptions by H3 cell, per connection: stats for anyone, positions with the ops scope.
import { RULES } from '../src/auth/rules.js';
import type { RoomDeps, RoomModule } from './types.js';

export function areaRoom({ location }: RoomDeps): RoomModule {
  const { area } = location;
  return {
    async onDisconnect(socket) {
      area.dropSocket(socket.id);
    },
    handlers: {
      'area:subscribe': {
        rule: RULES['area.subscribe'],
        async handle(req, socket) {
          const { principal, scopes } = socket.data;
          const { cells, join } = await area.subscribeSocket(principal, scopes, socket.id, req);
          if (join.length > 0) await socket.join(join);
          return { cells };
        },
      },
      'area:unsubscribe': {
        rule: RULES['area.subscribe'],
        async handle({ cells }, socket) {
          for (const room of area.unsubscribeSocket(socket.id, cells)) await socket.leave(room);
          return { cells };
        },
      },
    },
  };
}
