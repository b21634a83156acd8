// Calls: the lifecycle and the mediasoup signaling of PROTOCOL.md "Calls". A participant whose
// last socket drops keeps their place for the reconnect grace period.
import type { RoomDeps, RoomModule } from './types.js';

export function callRoom(deps: RoomDeps): RoomModule {
  const { calls, presence } = deps;
  const both = ['user', 'device'] as const;
  return {
    async onConnect(socket) {
      calls.socketsBack(socket.data.principal);
    },
    async onDisconnect(socket) {
      const p = socket.data.principal;
      if (!(await presence.status(p)).online) calls.socketsGone(p);
    },
    handlers: {
      'call:start': { from: both, handle: (req, s) => calls.start(s.data.principal, req) },
      'call:accept': { from: both, handle: ({ callId }, s) => calls.accept(s.data.principal, callId) },
      'call:decline': { from: both, handle: ({ callId }, s) => calls.decline(s.data.principal, callId) },
      'call:hangup': { from: both, handle: ({ callId }, s) => calls.hangup(s.data.principal, callId) },
      'call:transport:create': { from: both, handle: async (req, s) => ({ ...(await calls.createTransport(s.data.principal, req)) }) },
      'call:transport:connect': { from: both, handle: (req, s) => calls.connectTransport(s.data.principal, req) },
      'call:produce': { from: both, handle: (req, s) => calls.produce(s.data.principal, req) },
      'call:consume': { from: both, handle: (req, s) => calls.consume(s.data.principal, req) },
      'call:consumer:resume': { from: both, handle: (req, s) => calls.resumeConsumer(s.data.principal, req) },
      'call:ice:restart': { from: both, handle: (req, s) => calls.restartIce(s.data.principal, req) },
    },
  };
}
