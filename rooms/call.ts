// Calls: the lifecycle and the mediasoup signaling of PROTOCOL.md "Calls". A call lives on the
// node that created it; requests about a call hosted elsewhere are forwarded there by the
// backplane. A participant whose last socket drops keeps their place for the reconnect grace period.
import { RULES } from '../src/auth/rules.js';
import { CALL_METHODS, type CallMethod } from '../src/contract/events.js';
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
  const tellCalls = (p: Principal, online: boolean) => {
    if (online) calls.socketsBack(p);
    else calls.socketsGone(p);
    backplane.callPresence(p, online);
  };

  return {
    async onConnect(socket) {
      tellCalls(socket.data.principal, true);
    },
    async onDisconnect(socket) {
      const p = socket.data.principal;
      if (!(await backplane.presence.status(p)).online) tellCalls(p, false);
    },
    handlers,
  };
}
