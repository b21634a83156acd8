// Location events: watches report fixes; family members read the newest positions and the history.
import { RULES } from '../src/auth/rules.js';
import type { RoomDeps, RoomModule } from './types.js';

export function locationRoom({ location }: RoomDeps): RoomModule {
  return {
    handlers: {
      'location:report': {
        rule: RULES['location.report'],
        handle: (payload, socket) => location.service.report(socket.data.principal, payload),
      },
      'location:latest': {
        rule: RULES['location.latest'],
        handle: (req, socket) => location.reads.latestOf(socket.data.principal, req),
      },
      'location:history': {
        rule: RULES['location.history'],
        handle: (req, socket) => location.reads.history(socket.data.principal, req),
      },
    },
  };
}
