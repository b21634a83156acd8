// Mounts the room modules on the Socket.IO server: joins on connect, cleanup on disconnect, and
// the events each module answers, all through one dispatcher.
import { alertRoom } from './alert.js';
import { areaRoom } from './area.js';
import { callRoom } from './call.js';
import { chatRoom } from './chat.js';
import { commandRoom } from './command.js';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import { familyRoom } from './family.js';
import { locationRoom } from './location.js';
import { sessionRoom } from './session.js';
import type { HubServer, HubSocket, RoomDeps, RoomModule } from './types.js';

export type { HubServer, HubSocket } from './types.js';

export function mountRooms(io: HubServer, deps: RoomDeps, opts: DispatcherOptions): Dispatcher {
  const modules: RoomModule[] = [
    sessionRoom(deps),
    familyRoom(deps),
    locationRoom(deps),
    alertRoom(deps),
    areaRoom(deps),
    commandRoom(deps),
    chatRoom(deps),
    callRoom(deps),
  ];
  const dispatcher = new Dispatcher(deps, opts);
  for (const m of modules) if (m.handlers) dispatcher.register(m.handlers);

  io.on('connection', (socket: HubSocket) => {
    const kind = socket.data.principal.kind;
    deps.metrics.connections.inc({ kind });
    // Listen before the async joins, so no early event is lost.
    dispatcher.attach(socket);
    const joined = (async () => {
      for (const m of modules) await m.onConnect?.(socket);
    })().catch((err: unknown) => {
      dispatcher.loggerOf(socket).error({ err }, 'socket setup failed');
      socket.disconnect(true);
    });
    socket.on('disconnect', () => {
      deps.metrics.connections.dec({ kind });
      // Tracked, so that a node shutting down tells the families before its backplane closes.
      dispatcher.track(
        joined
          .then(async () => {
            for (const m of modules) await m.onDisconnect?.(socket);
          })
          .catch((err: unknown) => dispatcher.loggerOf(socket).error({ err }, 'socket cleanup failed')),
      );
    });
  });
  return dispatcher;
}
