// The one Socket.IO connection of the signed-in user (every family's rooms come with it), typed
// with the contract's event maps, and request(): emit with an ack, resolve the data or throw the
// hub's error. The token is read at each (re)connect, so a refreshed token is used at once.
import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../src/contract/events.js';
import { getAccessToken, refreshAccess, session, tokenIsFresh } from './auth.js';
import { HubRequestError } from './errors.js';
import { Store } from './store.js';

export type HubSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectionState = 'offline' | 'connecting' | 'online';

export const connection = new Store<ConnectionState>('offline');

type AckData<E extends keyof ClientToServerEvents> = ClientToServerEvents[E] extends (req: never, ack: Ack<infer T>) => void
  ? T
  : never;
type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];

let socket: HubSocket | null = null;

export function currentSocket(): HubSocket | null {
  return socket;
}

/** Refreshes the token (unless the one held is still fresh) and connects again; a session that cannot be refreshed is over (auth.ts signs out). */
async function reconnectWithFreshToken(s: HubSocket): Promise<void> {
  try {
    // The hub ends a socket when the token it connected with expires, even if a newer token was
    // fetched since (auth.ts refreshes ahead of time): then the newer one is enough.
    if (!tokenIsFresh()) await refreshAccess();
    if (socket === s && !s.connected) s.connect();
  } catch {
    connection.set('offline');
  }
}

export function openSocket(): HubSocket {
  if (socket) return socket;
  // Same origin as the page; WebSocket only (no polling requests, and the CSP allows ws:/wss:).
  const s: HubSocket = io({
    transports: ['websocket'],
    auth: (cb) => cb({ token: getAccessToken() }),
    reconnectionDelayMax: 10_000,
  });
  socket = s;
  connection.set('connecting');
  s.on('connect', () => connection.set('online'));
  s.on('disconnect', (reason) => {
    connection.set(reason === 'io client disconnect' ? 'offline' : 'connecting');
  });
  s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    // A refused handshake is not retried by the client: refresh the token, then connect again.
    if (err.data?.code === 'UNAUTHORIZED') void reconnectWithFreshToken(s);
    else if (err.data?.code === 'UNAVAILABLE') setTimeout(() => socket === s && s.connect(), 1000);
  });
  s.on('session:expired', (e) => {
    // The hub disconnects right after; an expired token is renewed, an ended session is not.
    if (/expired/.test(e.message)) s.once('disconnect', () => void reconnectWithFreshToken(s));
    else s.once('disconnect', () => void refreshAccess().catch(() => undefined));
  });
  s.on('server:draining', () => {
    s.disconnect();
    setTimeout(() => socket === s && s.connect(), 1000);
  });
  return s;
}

export function closeSocket(): void {
  socket?.removeAllListeners();
  socket?.disconnect();
  socket = null;
  connection.set('offline');
}

/** One request: resolves the ack's data, or throws its error (or a timeout as UNAVAILABLE). */
export async function request<E extends keyof ClientToServerEvents>(
  event: E,
  payload: Payload<E>,
  timeoutMs = 15_000,
): Promise<AckData<E>> {
  const s = socket;
  if (!s) throw new HubRequestError('UNAVAILABLE', 'not connected');
  let res: { ok: boolean; error?: { code: HubRequestError['code']; message: string } };
  try {
    res = await (s as unknown as Socket).timeout(timeoutMs).emitWithAck(event, payload);
  } catch {
    throw new HubRequestError('UNAVAILABLE', 'the hub did not answer in time');
  }
  if (!res.ok) throw new HubRequestError(res.error?.code ?? 'INTERNAL', res.error?.message ?? 'request failed');
  return res as unknown as AckData<E>;
}

// The socket follows the session: open while signed in, closed otherwise.
session.subscribe((st) => {
  if (st.status === 'signedIn') openSocket();
  else closeSocket();
});
