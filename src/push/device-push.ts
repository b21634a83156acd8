// What the hub hands to a phone's push service for one app installation, and what came back.
// The per-installation fan-out (after this module) builds one DevicePushMessage per event and
// calls the sender of the installation's provider once per registration token.
//
// Privacy: by default a message carries only a kind, ids and a fixed generic title/body ("New
// message", "SOS alert"). Message text or coordinates reach Google or Apple only when the caller
// passes them as `content`, which it does only when HUB_PUSH_INCLUDE_CONTENT allows it.

export type DevicePushProvider = 'fcm' | 'apns';

export type DevicePushKind =
  'message' | 'sos' | 'alert' | 'geofence' | 'call' | 'missed_call' | 'ring' | 'command_result' | 'incident';

export type DevicePushPriority = 'high' | 'normal';

export interface DevicePushMessage {
  kind: DevicePushKind;
  /**
   * What the phone shows. Absent: a silent (data-only / background) push the app handles itself.
   * Unless content is allowed this is the generic text of the kind, never a message or place.
   */
  alert?: { title: string; body: string };
  /** Ids only (family, conversation, message, alert, device, call…), as strings. */
  data: Record<string, string>;
  priority: DevicePushPriority;
  /** Pushes with the same key replace each other on the phone (FCM collapse_key, APNs collapse-id/thread). */
  collapseKey?: string;
  /** How long the push service may hold the push for an offline phone; 0 = now or never. */
  ttlSeconds: number;
}

/** One send attempt of one outbox row; `id` is the same on every retry of the row. */
export interface DevicePushDelivery {
  id: string;
  attempt: number;
}

export type DevicePushResult =
  | { outcome: 'delivered'; providerId?: string }
  /** Try again later; `retryAfterMs` when the service named a time. */
  | { outcome: 'retry'; reason: string; retryAfterMs?: number }
  /** The token is dead (app uninstalled, token rotated, wrong environment): drop the registration. */
  | { outcome: 'invalid_token'; reason: string }
  /**
   * The service refused this push for a reason retrying cannot fix and that is not the token's
   * fault (bad credentials, wrong topic or project, payload refused): keep the registration,
   * give up the push, and tell the operator.
   */
  | { outcome: 'rejected'; reason: string };

export interface DevicePushSender {
  readonly provider: DevicePushProvider;
  /**
   * Sends one push to one registration token. Every answer of the service (and every network
   * failure or timeout) comes back as a result; it throws only for programmer errors such as an
   * empty token or a message that breaks the limits below.
   */
  send(token: string, message: DevicePushMessage, delivery: DevicePushDelivery): Promise<DevicePushResult>;
  /** Closes kept-open connections (shutdown). */
  close(): Promise<void>;
}

// Both services refuse payloads over 4096 bytes. These bounds keep every message built here well
// below that, whatever the ids are, so a send never fails for size.
export const DATA_MAX_ENTRIES = 16;
export const DATA_KEY_MAX_CHARS = 40;
export const DATA_VALUE_MAX_CHARS = 128;
export const TITLE_MAX_CHARS = 80;
export const BODY_MAX_CHARS = 240;
/** APNs refuses an apns-collapse-id over 64 bytes; FCM's collapse_key has no smaller limit. */
export const COLLAPSE_KEY_MAX_BYTES = 64;
/** FCM's longest ttl is 28 days; APNs keeps pushes about as long. */
export const TTL_MAX_SECONDS = 28 * 24 * 3600;
export const TOKEN_MAX_CHARS = 4096;

/** Added by the senders: the outbox row id, so the app can drop a push it already showed. */
export const DELIVERY_ID_KEY = 'deliveryId';
/** Added by the senders: the kind, so the app can pick its own (localized) text and channel. */
export const KIND_KEY = 'kind';
// FCM refuses these data keys (or any starting with "google" / "gcm"); "aps" is APNs' own key.
const RESERVED_KEYS = new Set(['from', 'notification', 'message_type', 'aps', DELIVERY_ID_KEY, KIND_KEY]);
const RESERVED_PREFIXES = ['google', 'gcm'];

/** Fixed texts without personal data. English: apps that localize use the `kind` in the data. */
export const GENERIC_ALERTS: Readonly<Record<DevicePushKind, { title: string; body: string }>> = {
  message: { title: 'New message', body: 'You have a new message.' },
  sos: { title: 'SOS alert', body: 'A watch sent an SOS. Open the app now.' },
  alert: { title: 'Watch alert', body: 'A watch needs your attention.' },
  geofence: { title: 'Place alert', body: 'A watch entered or left a place.' },
  call: { title: 'Incoming call', body: 'A watch is calling.' },
  missed_call: { title: 'Missed call', body: 'You missed a call from a watch.' },
  ring: { title: 'Ring', body: 'Someone is ringing.' },
  command_result: { title: 'Watch update', body: 'A watch answered a command.' },
  incident: { title: 'Service notice', body: 'There is a notice about the service.' },
};

const HIGH_PRIORITY: ReadonlySet<DevicePushKind> = new Set(['sos', 'alert', 'geofence', 'call', 'ring', 'incident']);

/** Default holding time: a call or ring is useless after a minute; the rest may wait a day. */
export function defaultTtlSeconds(kind: DevicePushKind): number {
  return kind === 'call' || kind === 'ring' ? 60 : 24 * 3600;
}

export interface BuildDevicePushOptions {
  kind: DevicePushKind;
  data?: Record<string, string>;
  /** Real title/body (message text, a place name). Pass only when content is allowed. */
  content?: { title: string; body: string };
  /** No visible alert: the app wakes and decides. Ignored when `content` is given. */
  silent?: boolean;
  collapseKey?: string;
  ttlSeconds?: number;
}

function truncate(s: string, max: number): string {
  // Cut by code points so a surrogate pair is never split.
  const points = Array.from(s);
  return points.length <= max ? s : `${points.slice(0, max - 1).join('')}…`;
}

/** Builds a message with the privacy defaults above; throws on data that breaks the limits. */
export function buildDevicePushMessage(opts: BuildDevicePushOptions): DevicePushMessage {
  const msg: DevicePushMessage = {
    kind: opts.kind,
    data: { ...opts.data },
    priority: HIGH_PRIORITY.has(opts.kind) ? 'high' : 'normal',
    ttlSeconds: opts.ttlSeconds ?? defaultTtlSeconds(opts.kind),
  };
  if (opts.content) {
    msg.alert = { title: truncate(opts.content.title, TITLE_MAX_CHARS), body: truncate(opts.content.body, BODY_MAX_CHARS) };
  } else if (!opts.silent) {
    msg.alert = { ...GENERIC_ALERTS[opts.kind] };
  }
  if (opts.collapseKey !== undefined) msg.collapseKey = opts.collapseKey;
  assertDevicePushMessage(msg);
  return msg;
}

/** The senders call this too: a hand-built message gets the same checks. */
export function assertDevicePushMessage(msg: DevicePushMessage): void {
  if (!(msg.kind in GENERIC_ALERTS)) throw new TypeError(`unknown push kind ${String(msg.kind)}`);
  const entries = Object.entries(msg.data);
  if (entries.length > DATA_MAX_ENTRIES) throw new RangeError(`push data has ${entries.length} entries, max ${DATA_MAX_ENTRIES}`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > DATA_KEY_MAX_CHARS)
      throw new RangeError(`push data key length must be 1..${DATA_KEY_MAX_CHARS}`);
    if (RESERVED_KEYS.has(k) || RESERVED_PREFIXES.some((p) => k.toLowerCase().startsWith(p))) {
      throw new RangeError(`push data key ${k} is reserved`);
    }
    if (typeof v !== 'string') throw new TypeError(`push data value of ${k} must be a string`);
    if (v.length > DATA_VALUE_MAX_CHARS) throw new RangeError(`push data value of ${k} is over ${DATA_VALUE_MAX_CHARS} chars`);
  }
  if (msg.alert) {
    if (Array.from(msg.alert.title).length > TITLE_MAX_CHARS) throw new RangeError('push title too long');
    if (Array.from(msg.alert.body).length > BODY_MAX_CHARS) throw new RangeError('push body too long');
  }
  if (msg.collapseKey !== undefined) {
    const n = Buffer.byteLength(msg.collapseKey, 'utf8');
    if (n === 0 || n > COLLAPSE_KEY_MAX_BYTES)
      throw new RangeError(`push collapse key must be 1..${COLLAPSE_KEY_MAX_BYTES} bytes`);
  }
  if (!Number.isInteger(msg.ttlSeconds) || msg.ttlSeconds < 0 || msg.ttlSeconds > TTL_MAX_SECONDS) {
    throw new RangeError(`push ttlSeconds must be an integer in 0..${TTL_MAX_SECONDS}`);
  }
  if (msg.priority !== 'high' && msg.priority !== 'normal') throw new TypeError('push priority must be high or normal');
}

export const DELIVERY_ID_MAX_CHARS = 128;

export function assertDelivery(delivery: DevicePushDelivery): void {
  if (typeof delivery?.id !== 'string' || delivery.id.length === 0 || delivery.id.length > DELIVERY_ID_MAX_CHARS) {
    throw new TypeError(`push delivery id must be a string of 1..${DELIVERY_ID_MAX_CHARS} chars`);
  }
}

export function assertToken(token: string): void {
  if (typeof token !== 'string' || token.length === 0 || token.length > TOKEN_MAX_CHARS) {
    throw new TypeError(`push token must be a string of 1..${TOKEN_MAX_CHARS} chars`);
  }
}

/** The data the senders put on the wire: the caller's ids plus kind and delivery id. */
export function wireData(msg: DevicePushMessage, delivery: DevicePushDelivery): Record<string, string> {
  return { ...msg.data, [KIND_KEY]: msg.kind, [DELIVERY_ID_KEY]: delivery.id };
}
