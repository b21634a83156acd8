// The socket's own lifecycle: its principal's personal room, and the end of the socket when its
// access token expires (the client refreshes and reconnects).
import { rooms } from '../src/contract/rooms.js';
import type { HubSocket, RoomDeps, RoomModule } from './types.js';

// setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); device tokens live longer.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function sessionRoom(deps: Pick<RoomDeps, 'clock'>): RoomModule {
  const timers = new Map<string, NodeJS.Timeout>();

  const schedule = (socket: HubSocket) => {
    const remaining = socket.data.expiresAt - deps.clock();
    if (remaining <= 0) {
      socket.emit('session:expired', { code: 'UNAUTHORIZED', message: 'access token expired' });
      socket.disconnect(true);
      return;
    }
    const timer = setTimeout(() => schedule(socket), Math.min(remaining, MAX_TIMER_MS));
    timer.unref();
    timers.set(socket.id, timer);
  };

  return {
    async onConnect(socket) {
      const { principal, sessionId } = socket.data;
      await socket.join(sessionId ? [rooms.of(principal), rooms.session(sessionId)] : rooms.of(principal));
      schedule(socket);
    },
    async onDisconnect(socket) {
      clearTimeout(timers.get(socket.id));
      timers.delete(socket.id);
    },
  };
}
