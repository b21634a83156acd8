// Calls: the lifecycle and the mediasoup signaling of PROTOCOL.md "Calls". A call lives on the
// node that created it; in a cluster, requests about a call hosted elsewhere are forwarded there.
// A participant whose last socket drops keeps their place for the reconnect grace period.
import { CALL_METHODS, type CallMethod } from '../src/calls/service.js';
import { CALL_PRESENCE_EVENT, forwardCall } from '../src/cluster/call-forwarding.js';
import type { Principal } from '../src/contract/models.js';
import type { EventHandler, EventHandlers, RoomDeps, RoomModule } from './types.js';

export function callRoom(deps: RoomDeps): RoomModule {
  const { calls, presence, io, clustered } = deps;
  const both = ['user', 'device'] as const;

  const run = (method: CallMethod, p: Principal, req: { callId: string } & Record<string, unknown>) =>
    calls.hosts(req.callId) || !clustered ? calls.handle(method, p, req) : forwardCall(io, { method, principal: p, req });

  const handlers: EventHandlers = {
    'call:start': { from: both, handle: (req, s) => calls.start(s.data.principal, req) },
  };
  for (const method of CALL_METHODS) {
    (handlers as Record<string, EventHandler<never>>)[method] = {
      from: both,
      handle: (req: { callId: string } & Record<string, unknown>, s) => run(method, s.data.principal, req),
    } as EventHandler<never>;
  }

  /** The principal's call may live on another node: tell them too. */
  const tellCalls = (p: Principal, online: boolean) => {
    if (online) calls.socketsBack(p);
    else calls.socketsGone(p);
    if (clustered) io.serverSideEmit(CALL_PRESENCE_EVENT, { principal: p, online });
  };

  return {
    async onConnect(socket) {
      tellCalls(socket.data.principal, true);
    },
    async onDisconnect(socket) {
      const p = socket.data.principal;
      if (!(await presence.status(p)).online) tellCalls(p, false);
    },
    handlers,
  };
}
