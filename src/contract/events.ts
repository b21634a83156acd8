// Typed event maps shared by the server, the tests and the load generator: client → server (with
// the ack each request is answered with), server → client, and node → node (the backplane).
import type { ErrorBody, ErrorCode } from './errors.js';
import type {
  AlertView,
  CommandView,
  Fix,
  GeofenceEvent,
  LocationEvent,
  MemberView,
  MessageView,
  SyncedMessage,
  Principal,
  PresenceEntry,
  PresenceView,
  StoredFix,
} from './models.js';
import type { EventPayload } from './schemas.js';

/** Why a socket left a family (`family:removed`). */
export type FamilyExit = 'removed' | 'left' | 'deleted';

export type AckResponse<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export type Ack<T extends object = object> = (response: AckResponse<T>) => void;

export interface ReportResult {
  accepted: number;
  rejected: { index: number; code: ErrorCode; message: string }[];
}

/** What a successful ack of event E carries, besides `ok: true` (from the declared Ack type). */
export type AckData<E extends keyof ClientToServerEvents> =
  Parameters<ClientToServerEvents[E]> extends [unknown, Ack<infer T>] ? T : never;

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
  'chat:sync': (req: EventPayload<'chat:sync'>, ack: Ack<{ messages: SyncedMessage[]; hasMore: boolean }>) => void;
  'chat:read': (req: EventPayload<'chat:read'>, ack: Ack<{ seq: number }>) => void;
  'call:start': (req: EventPayload<'call:start'>, ack: Ack<{ callId: string; rtpCapabilities: object }>) => void;
  'call:accept': (req: EventPayload<'call:accept'>, ack: Ack<{ callId: string; rtpCapabilities: object }>) => void;
  'call:decline': (req: EventPayload<'call:decline'>, ack: Ack<{ callId: string }>) => void;
  'call:hangup': (req: EventPayload<'call:hangup'>, ack: Ack<{ callId: string }>) => void;
  'call:transport:create': (
    req: EventPayload<'call:transport:create'>,
    ack: Ack<{ id: string; iceParameters: object; iceCandidates: object[]; dtlsParameters: object }>,
  ) => void;
  'call:transport:connect': (req: EventPayload<'call:transport:connect'>, ack: Ack) => void;
  'call:produce': (req: EventPayload<'call:produce'>, ack: Ack<{ producerId: string }>) => void;
  'call:consume': (
    req: EventPayload<'call:consume'>,
    ack: Ack<{ consumerId: string; producerId: string; kind: string; rtpParameters: object }>,
  ) => void;
  'call:consumer:resume': (req: EventPayload<'call:consumer:resume'>, ack: Ack) => void;
  'call:ice:restart': (req: EventPayload<'call:ice:restart'>, ack: Ack<{ iceParameters: object }>) => void;
}

export interface ServerToClientEvents {
  presence: (p: PresenceView) => void;
  /**
   * This socket no longer belongs to the family: `removed` (by an owner, or the watch unbound),
   * `left` (the member left) or `deleted` (the family was deleted). Absent: `removed`.
   */
  'family:removed': (e: { familyId: string; reason?: FamilyExit }) => void;
  /** The family was renamed (family room). */
  'family:updated': (e: { familyId: string; name: string }) => void;
  /** A member's nickname or role changed (the family's people). */
  'member:updated': (e: { familyId: string; member: MemberView }) => void;
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
  /** A family message could not be given to a 3G-protocol watch (e.g. voice it cannot play, with no converter). */
  'chat:undeliverable': (e: { conversationId: string; messageId: string; deviceId: string; reason: string; at: number }) => void;
  'chat:read': (e: { conversationId: string; seq: number; by: Principal; at: number }) => void;
  /** A message was deleted by its sender or an owner: drop its content (the seq slot stays). */
  'chat:deleted': (e: { conversationId: string; id: string }) => void;
  /**
   * To a watch taken out of its family (unbound by the owner, the family deleted, or its last
   * owner's account deleted), on its own connection: the new code to show, so it can be bound again.
   */
  'binding:code': (e: { bindingCode: string; expiresAt: number }) => void;
  'call:ring': (e: { callId: string; from: Principal; video: boolean }) => void;
  'call:state': (e: { callId: string; state: 'ringing' | 'active' | 'ended'; reason?: string }) => void;
  /** Someone in the call produces media: consume it. */
  'call:producer': (e: { callId: string; producerId: string; kind: string; from: Principal }) => void;
  /** An operator's notice about an incident affecting the family's data. */
  incident: (e: { id: string; message: string; at: number }) => void;
}

/** What the hub keeps on each socket. Serialised by the Redis adapter (fetchSockets): plain data only. */
export interface SocketData {
  principal: Principal;
  expiresAt: number;
  scopes: string[];
  sessionId: string | undefined;
}

// --- node → node ------------------------------------------------------------------------------

/**
 * What one node tells the others so their caches do not go stale, and what it asks of the node
 * holding a call: a watch's binding or permissions changed, a family's fences changed, a watch
 * left its family (or lost consent), someone's part in the family's calls ends.
 */
export type PeerMessage =
  | { type: 'device'; id: string }
  | { type: 'fences'; id: string }
  | { type: 'watch-left'; id: string }
  /** The family deleted part of the watch's history: reload its erased ranges, let reports in flight end. */
  | { type: 'history-erased'; id: string; familyId: string }
  /** The principal left the family (or lost a permission): its part in the family's calls ends. */
  | { type: 'leave-calls'; principal: Principal; familyId: string; media?: ('audio' | 'video')[] };

/**
 * What reaches the 3G-protocol (TCP) watches, on whichever node holds their connection: a
 * command for a watch, a family chat message, and a node saying it now holds a watch's newest
 * connection (the others close theirs).
 */
export type WatchRelayMessage =
  | {
      type: 'command';
      deviceId: string;
      command: { id: string; type: string; params: Record<string, unknown>; expiresAt: number };
    }
  | { type: 'chat'; familyId: string; message: MessageView }
  | { type: 'claim'; deviceId: string; node: string; connection: string };

/** The call signaling requests a participant on any node may send (forwarded to the call's node). */
export const CALL_METHODS = [
  'call:accept',
  'call:decline',
  'call:hangup',
  'call:transport:create',
  'call:transport:connect',
  'call:produce',
  'call:consume',
  'call:consumer:resume',
  'call:ice:restart',
] as const;
export type CallMethod = (typeof CALL_METHODS)[number];

export interface CallForward {
  method: CallMethod;
  principal: Principal;
  req: { callId: string } & Record<string, unknown>;
}

export type CallForwardReply = { handled: false } | { handled: true; result: object } | { handled: true; error: ErrorBody };

/** A principal's sockets came (socketId: the one that connected) or all went. */
export type CallPresence = { principal: Principal; online: true; socketId: string } | { principal: Principal; online: false };

export const PEER_EVENT = 'hub:peer';
export const CALL_FORWARD_EVENT = 'hub:call';
export const CALL_PRESENCE_EVENT = 'hub:call-presence';
export const WATCH_RELAY_EVENT = 'hub:watch';

export interface InterServerEvents {
  [PEER_EVENT]: (msg: PeerMessage, ack: (done: true) => void) => void;
  [CALL_FORWARD_EVENT]: (msg: CallForward, ack: (reply: CallForwardReply) => void) => void;
  [CALL_PRESENCE_EVENT]: (msg: CallPresence) => void;
  [WATCH_RELAY_EVENT]: (msg: WatchRelayMessage) => void;
}
