// Request/reply between nodes for calls: a call lives on the node that created it (its mediasoup
// router is there); a participant connected to another node has their signaling forwarded to it
// over the Socket.IO adapter (serverSideEmit with acknowledgements), with a timeout that answers
// UNAVAILABLE.
import type { Server } from 'socket.io';
import type { CallMethod } from '../calls/service.js';
import { type ErrorBody, HubError } from '../contract/errors.js';
import type { Principal } from '../contract/models.js';

export const CALL_FORWARD_EVENT = 'hub:call';
export const CALL_PRESENCE_EVENT = 'hub:call-presence';

export interface CallForward {
  method: CallMethod;
  principal: Principal;
  req: { callId: string } & Record<string, unknown>;
}

export type CallForwardReply = { handled: false } | { handled: true; result: object } | { handled: true; error: ErrorBody };

export interface CallForwardEvents {
  [CALL_FORWARD_EVENT]: (msg: CallForward, ack: (reply: CallForwardReply) => void) => void;
  [CALL_PRESENCE_EVENT]: (msg: { principal: Principal; online: boolean }) => void;
}

type ForwardingServer = Server<any, any, CallForwardEvents>;

/** Asks every other node; the one hosting the call answers. */
export function forwardCall(io: ForwardingServer, msg: CallForward): Promise<object> {
  return new Promise((resolve, reject) => {
    // The adapter times the request out (its requestsTimeout, 5 s by default).
    io.serverSideEmit(CALL_FORWARD_EVENT, msg, (err: Error | null, replies: CallForwardReply[]) => {
      const reply = (replies ?? []).find((r) => r.handled);
      if (reply && 'result' in reply) return resolve(reply.result);
      if (reply && 'error' in reply) return reject(new HubError(reply.error.code, reply.error.message));
      if (err) return reject(new HubError('UNAVAILABLE', 'the node hosting this call did not answer'));
      reject(new HubError('NOT_FOUND', 'you are not in that call'));
    });
  });
}

/** Answers other nodes' forwarded requests for the calls this node hosts. */
export function serveForwardedCalls(
  io: ForwardingServer,
  calls: {
    hosts(callId: string): boolean;
    handle(method: CallMethod, p: Principal, req: CallForward['req']): Promise<object>;
    socketsGone(p: Principal): void;
    socketsBack(p: Principal): void;
  },
): void {
  io.on(CALL_FORWARD_EVENT, (msg, ack) => {
    if (!calls.hosts(msg.req.callId)) return ack({ handled: false });
    calls.handle(msg.method, msg.principal, msg.req).then(
      (result) => ack({ handled: true, result }),
      (err: unknown) =>
        ack({
          handled: true,
          error: err instanceof HubError ? err.toBody() : { code: 'INTERNAL', message: 'internal error' },
        }),
    );
  });
  io.on(CALL_PRESENCE_EVENT, ({ principal, online }) => (online ? calls.socketsBack(principal) : calls.socketsGone(principal)));
}
