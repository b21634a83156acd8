// What room modules see: the typed socket, the principal behind it, and the hub's services.
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import type { Access } from '../src/auth/access.js';
import type { CallForwardEvents } from '../src/cluster/call-forwarding.js';
import type { PeerMessage } from '../src/cluster/peers.js';
import type { Config } from '../src/config.js';
import type { RoomControl } from '../src/cluster/room-control.js';
import type { PresenceTracker } from '../src/cluster/presence.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/contract/events.js';
import type { Principal, PrincipalKind } from '../src/contract/models.js';
import type { EventName, EventPayload } from '../src/contract/schemas.js';
import type { CallService } from '../src/calls/service.js';
import type { ChatService } from '../src/chat/service.js';
import type { CommandService } from '../src/commands/service.js';
import type { LocationServices } from '../src/location/index.js';
import type { HubMetrics } from '../src/metrics.js';
import type { Store } from '../src/store/store.js';

export interface SocketData {
  principal: Principal;
  expiresAt: number;
  scopes: string[];
  sessionId: string | undefined;
}

export interface InterServerEvents extends CallForwardEvents {
  'hub:peer': (msg: PeerMessage) => void;
}

export type HubServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface RoomDeps {
  io: HubServer;
  store: Store;
  access: Access;
  location: LocationServices;
  chat: ChatService;
  commands: CommandService;
  calls: CallService;
  presence: PresenceTracker;
  roomControl: RoomControl;
  metrics: HubMetrics;
  logger: Logger;
  clock: () => number;
  config: Config;
  /** Several nodes share the clients (Redis adapter). */
  clustered: boolean;
}

export interface EventHandler<E extends EventName> {
  /** Principal kinds allowed to send the event; others get FORBIDDEN. */
  from: readonly PrincipalKind[];
  handle(payload: EventPayload<E>, socket: HubSocket): Promise<object>;
}

export type EventHandlers = { [E in EventName]?: EventHandler<E> };

/** One kind of room: who joins it on connect, what it does on disconnect, which events it answers. */
export interface RoomModule {
  onConnect?(socket: HubSocket): Promise<void>;
  onDisconnect?(socket: HubSocket): Promise<void>;
  handlers?: EventHandlers;
}
