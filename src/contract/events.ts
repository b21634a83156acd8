// Typed Socket.IO event maps shared by the server, the tests and the load generator.
import type { ErrorBody } from './errors.js';
import type { PresenceEntry, PresenceView } from './models.js';
import type { EventPayload } from './schemas.js';

export type AckResponse<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type Ack<T extends object = object> = (response: AckResponse<T>) => void;

export interface ClientToServerEvents {
  'presence:list': (req: EventPayload<'presence:list'>, ack: Ack<{ presence: PresenceEntry[] }>) => void;
}

export interface ServerToClientEvents {
  presence: (p: PresenceView) => void;
  /** This socket no longer belongs to the family (member or watch removed). */
  'family:removed': (e: { familyId: string }) => void;
  /** The access token expired; the socket is disconnected right after. Refresh and reconnect. */
  'session:expired': (e: { code: 'UNAUTHORIZED'; message: string }) => void;
  /** The node is shutting down; reconnect (the balancer sends you to another node). */
  'server:draining': (e: { reconnectAfterMs: number }) => void;
}
