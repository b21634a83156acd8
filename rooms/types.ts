// What room modules see: the typed socket, and the hub's services. A module is a transport: it
// turns an event into a use-case call (which checks the caller's rights) and the answer into the ack.
import type { Rule } from '../src/auth/policy.js';
import type { AckData } from '../src/contract/events.js';
import type { EventName, EventPayload } from '../src/contract/schemas.js';
import type { HubSocket } from '../src/contract/server.js';
import type { Services } from '../src/services.js';

export type { HubServer, HubSocket } from '../src/contract/server.js';

export interface EventHandler<E extends EventName> {
  /** The use case's rule (src/auth/rules.ts): its `who` is checked before the payload is parsed. */
  rule: Rule;
  handle(payload: EventPayload<E>, socket: HubSocket): Promise<AckData<E>>;
}

export type EventHandlers = { [E in EventName]?: EventHandler<E> };

/** One kind of room: who joins it on connect, what it does on disconnect, which events it answers. */
export interface RoomModule {
  onConnect?(socket: HubSocket): Promise<void>;
  onDisconnect?(socket: HubSocket): Promise<void>;
  handlers?: EventHandlers;
}

export type RoomDeps = Services;
