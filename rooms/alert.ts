// Alerts raised by watches and acknowledged by guardians.
import { RULES } from '../src/auth/rules.js';
import type { RoomDeps, RoomModule } from './types.js';

export function alertRoom({ location }: RoomDeps): RoomModule {
  return {
    handlers: {
      'alert:raise': {
        rule: RULES['alert.raise'],
        handle: async (req, socket) => ({ alert: await location.alerts.raiseFromWatch(socket.data.principal, req) }),
      },
      'alert:ack': {
        rule: RULES['alert.ack'],
        handle: async (req, socket) => ({ alert: await location.alerts.ack(socket.data.principal, req) }),
      },
    },
  };
}
