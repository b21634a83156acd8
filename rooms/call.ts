// Calls: the lifecycle and the mediasoup signaling of PROTOCOL.md "Calls". A call lives on the
// node that created it; requests about a call hosted elsewhere are forwarded there by the
// backplane. A participant whose last socket drops keeps their place for the reconnect grace period;
// an invitee's socket that connects while the call rings for them hears the ring.
import { RULES } from '../src/auth/rules.js';
import { CALL_METHODS, type CallMethod, type CallPresence } from '../src/contract/events.js';
import type { Principal } from '../src/contract/models.js';
import type { EventHandler, EventHandlers, RoomDeps, RoomModule } from './types.js';

export function callRoom({ calls, backplane }: RoomDeps): RoomModule {
  const run = (method: CallMethod, p: Principal, req: { callId: string } & Record<string, unknown>) =>
    calls.hosts(req.callId) ? calls.handle(method, p, req) : backplane.forwardCall({ method, principal: p, req });

  const handlers: EventHandlers = {
    'call:start': { rule: RULES['call.start'], handle: (req, s) => calls.start(s.data.principal, req) },
  };
  for (const method of CALL_METHODS) {
    (handlers as Record<string, EventHandler<never>>)[method] = {
      rule: RULES['call.signal'],
      handle: (req: { callId: string } & Record<string, unknown>, s) => run(method, s.data.principal, req),
    } as EventHandler<never>;
  }

  /** The principal's call may live on another node: tell them too. */
  const tellCalls = (msg: CallPresence) => {
    if (msg.online) calls.socketsBack(msg.principal, msg.socketId);
    else calls.socketsGone(msg.principal);
    backplane.callPresence(msg);
  };

  return {
    async onConnect(socket) {
      tellCalls({ principal: socket.data.principal, online: true, socketId: socket.id });
    },
    async onDisconnect(socket) {
      const principal = socket.data.principal;
      if (!(await backplane.presence.status(principal)).online) tellCalls({ principal, online: false });
    },
    handlers,
  };
}
