// Typed Socket.IO event maps shared by the server, the tests and the load generator.
import type { ErrorBody, ErrorCode } from './errors.js';
import type {
  AlertView,
  CommandView,
  Fix,
  GeofenceEvent,
  LocationEvent,
  MessageView,
  Principal,
  PresenceEntry,
  PresenceView,
  StoredFix,
} from './models.js';
import type { EventPayload } from './schemas.js';

export type AckResponse<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type Ack<T extends object = object> = (response: AckResponse<T>) => void;

export interface ReportResult {
  accepted: number;
  rejected: { index: number; code: ErrorCode; message: string }[];
}

export interface ClientToServerEvents {
  'presence:list': (req: EventPayload<'presence:list'>, ack: Ack<{ presence: PresenceEntry[] }>) => void;
  'location:report': (req: Fix | { fixes: Fix[] }, ack: Ack<ReportResult>) => void;
  'location:latest': (req: EventPayload<'location:latest'>, ack: Ack<{ positions: LocationEvent[] }>) => void;
  'location:history': (
    req: EventPayload<'location:history'>,
    ack: Ack<{ fixes: StoredFix[]; nextCursor: string | null }>,
  ) => void;
  'area:subscribe': (req: EventPayload<'area:subscribe'>, ack: Ack<{ cells: string[] }>) => void;
  'area:unsubscribe': (req: EventPayload<'area:unsubscribe'>, ack: Ack<{ cells: string[] }>) => void;
  'alert:raise': (req: EventPayload<'alert:raise'>, ack: Ack<{ alert: AlertView }>) => void;
  'alert:ack': (req: EventPayload<'alert:ack'>, ack: Ack<{ alert: AlertView }>) => void;
  'command:send': (req: EventPayload<'command:send'>, ack: Ack<{ command: CommandView }>) => void;
  'command:result': (req: EventPayload<'command:result'>, ack: Ack<{ command: CommandView }>) => void;
  'chat:send': (req: EventPayload<'chat:send'>, ack: Ack<{ message: MessageView }>) => void;
  'chat:sync': (req: EventPayload<'chat:sync'>, ack: Ack<{ messages: MessageView[]; hasMore: boolean }>) => void;
  'chat:read': (req: EventPayload<'chat:read'>, ack: Ack<{ seq: number }>) => void;
}

export interface ServerToClientEvents {
  presence: (p: PresenceView) => void;
  /** This socket no longer belongs to the family (member or watch removed). */
  'family:removed': (e: { familyId: string }) => void;
  /** The access token expired; the socket is disconnected right after. Refresh and reconnect. */
  'session:expired': (e: { code: 'UNAUTHORIZED'; message: string }) => void;
  /** The node is shutting down; reconnect (the balancer sends you to another node). */
  'server:draining': (e: { reconnectAfterMs: number }) => void;
  location: (e: LocationEvent) => void;
  geofence: (e: GeofenceEvent) => void;
  alert: (e: AlertView) => void;
  /** An alert was acknowledged by a guardian: stop showing it as open. */
  'alert:acked': (e: { id: string; familyId: string; ackedBy: string; ackedAt: number }) => void;
  /** Active watches per subscribed cell; never an identity. */
  'area:stats': (e: { cells: Record<string, number>; ts: number }) => void;
  /** `positions` mode only (tokens with the ops scope). */
  'area:position': (e: LocationEvent) => void;
  /** To a watch: a command to carry out (again after a reconnect until it sends a result). */
  command: (e: { id: string; type: string; params: Record<string, unknown>; expiresAt: number }) => void;
  /** A command of the family's watch changed status. */
  'command:update': (e: { command: CommandView }) => void;
  'chat:message': (e: { message: MessageView }) => void;
  'chat:read': (e: { conversationId: string; seq: number; by: Principal; at: number }) => void;
  /** To a watch unbound when its family was deleted: the new code to show. */
  'binding:code': (e: { bindingCode: string; expiresAt: number }) => void;
  /** An operator's notice about an incident affecting the family's data. */
  incident: (e: { id: string; message: string; at: number }) => void;
}
