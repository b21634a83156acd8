// Apple Push Notification service over HTTP/2 with token (.p8) authentication:
// POST /3/device/<device token> with the provider JWT, the app's bundle id as topic and the
// apns-* headers; the JSON payload is {aps: {...}, ...ids}.
import { createHash } from 'node:crypto';
import type http2 from 'node:http2';
import { ApnsProviderToken, DEFAULT_TOKEN_REUSE_MS, type ApnsSigningKey } from './apns-provider-token.js';
import {
  assertDelivery,
  assertDevicePushMessage,
  assertToken,
  wireData,
  type DevicePushDelivery,
  type DevicePushMessage,
  type DevicePushResult,
  type DevicePushSender,
} from './device-push.js';
import { H2Client } from './h2-client.js';
import { parseJsonOrUndefined, parseRetryAfter, shortReason } from './http-answer.js';
import { assertSafeBaseUrl } from './safe-url.js';

export const APNS_PRODUCTION_URL = 'https://api.push.apple.com';
export const APNS_SANDBOX_URL = 'https://api.sandbox.push.apple.com';
/** Bound on one send() as a whole, the one retry after ExpiredProviderToken included. */
export const APNS_SEND_TIMEOUT_MS = 10_000;
/** APNs refuses larger payloads (413) for alert and background pushes. */
export const APNS_PAYLOAD_MAX_BYTES = 4096;
const TOPIC_PATTERN = /^[A-Za-z0-9.-]{1,200}$/;
// Device tokens are hex (64 chars today; Apple says they may grow). Anything else would be a dead
// registration, and must never be put into the request path.
const DEVICE_TOKEN_PATTERN = /^[0-9a-fA-F]{8,400}$/;

export interface ApnsSenderOptions {
  key: ApnsSigningKey;
  /** The app's bundle id. */
  topic: string;
  /** Use the development environment (apps built with a development profile). */
  sandbox?: boolean;
  /** Overrides the environment's URL; tests use a local cleartext HTTP/2 server. */
  baseUrl?: string;
  timeoutMs?: number;
  clock?: () => number;
  /** Provider token reuse; default 50 min, kept within Apple's 20–60 min window. */
  tokenReuseMs?: number;
  /**
   * How an SOS interrupts: 'time-sensitive' (needs the Time Sensitive capability) or 'critical'
   * (breaks through silent mode; needs Apple's critical-alerts entitlement). Default time-sensitive.
   */
  sosInterruptionLevel?: 'time-sensitive' | 'critical';
}

/** A UUID made from the delivery id, the same on every retry of one outbox row. */
export function apnsIdFor(deliveryId: string): string {
  const b = createHash('sha256').update(`apns-id\0${deliveryId}`).digest().subarray(0, 16);
  // RFC 9562 version 8 (custom) with the RFC variant bits, so it parses as a valid UUID.
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The JSON payload. Exported for tests and the docs. */
export function apnsPayload(
  msg: DevicePushMessage,
  delivery: DevicePushDelivery,
  sosLevel: 'time-sensitive' | 'critical' = 'time-sensitive',
): Record<string, unknown> {
  let aps: Record<string, unknown>;
  if (msg.alert) {
    aps = { alert: { title: msg.alert.title, body: msg.alert.body }, sound: 'default' };
    if (msg.collapseKey) aps['thread-id'] = msg.collapseKey;
    if (msg.kind === 'sos') {
      aps['interruption-level'] = sosLevel;
      if (sosLevel === 'critical') aps.sound = { critical: 1, name: 'default', volume: 1 };
    }
  } else {
    aps = { 'content-available': 1 };
  }
  // `aps` and the ids share the top level; device-push.ts reserves the key "aps".
  return { aps, ...wireData(msg, delivery) };
}

export class ApnsSender implements DevicePushSender {
  readonly provider = 'apns' as const;
  private readonly client: H2Client;
  private readonly tokens: ApnsProviderToken;
  private readonly topic: string;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  private readonly sosLevel: 'time-sensitive' | 'critical';

  constructor(opts: ApnsSenderOptions) {
    if (!TOPIC_PATTERN.test(opts.topic)) throw new TypeError('APNs topic (bundle id) malformed');
    const base = assertSafeBaseUrl(opts.baseUrl ?? (opts.sandbox ? APNS_SANDBOX_URL : APNS_PRODUCTION_URL), 'APNs base URL');
    this.client = new H2Client(base.origin);
    this.clock = opts.clock ?? Date.now;
    this.tokens = new ApnsProviderToken(opts.key, this.clock, opts.tokenReuseMs ?? DEFAULT_TOKEN_REUSE_MS);
    this.topic = opts.topic;
    this.timeoutMs = opts.timeoutMs ?? APNS_SEND_TIMEOUT_MS;
    this.sosLevel = opts.sosInterruptionLevel ?? 'time-sensitive';
  }

  /** Connections opened so far (reconnects after GOAWAY/close show here). */
  get connects(): number {
    return this.client.connects;
  }

  async send(token: string, message: DevicePushMessage, delivery: DevicePushDelivery): Promise<DevicePushResult> {
    assertToken(token);
    assertDelivery(delivery);
    assertDevicePushMessage(message);
    if (!DEVICE_TOKEN_PATTERN.test(token)) return { outcome: 'invalid_token', reason: 'not a hex APNs device token' };
    const body = JSON.stringify(apnsPayload(message, delivery, this.sosLevel));
    if (Buffer.byteLength(body, 'utf8') > APNS_PAYLOAD_MAX_BYTES) {
      throw new RangeError(`APNs payload over ${APNS_PAYLOAD_MAX_BYTES} bytes`);
    }
    const deadline = Date.now() + this.timeoutMs;
    let jwt = this.tokens.current();
    let answer = await this.client.request(this.headers(token, message, delivery, jwt), body, this.timeoutMs);
    if (answer.kind === 'response' && answer.status === 403 && reasonOf(answer.body) === 'ExpiredProviderToken') {
      // Our clock or Apple's thinks the token is too old: sign a new one and try once more.
      jwt = this.tokens.renew(jwt);
      const left = deadline - Date.now();
      if (left <= 0) return { outcome: 'retry', reason: 'APNs answered 403 ExpiredProviderToken; no time left to retry' };
      answer = await this.client.request(this.headers(token, message, delivery, jwt), body, left);
    }
    if (answer.kind === 'failed') return { outcome: 'retry', reason: shortReason(`APNs request failed: ${answer.reason}`) };
    return this.classify(answer.status, answer.headers, answer.body);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private headers(token: string, msg: DevicePushMessage, delivery: DevicePushDelivery, jwt: string): http2.OutgoingHttpHeaders {
    const alert = msg.alert !== undefined;
    const h: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': `/3/device/${token}`,
      authorization: `bearer ${jwt}`,
      'apns-topic': this.topic,
      'apns-push-type': alert ? 'alert' : 'background',
      // Background pushes must be priority 5; Apple refuses 10 for them.
      'apns-priority': alert && msg.priority === 'high' ? '10' : '5',
      // 0: deliver now or drop; otherwise the last second APNs may still deliver.
      'apns-expiration': msg.ttlSeconds === 0 ? '0' : String(Math.floor(this.clock() / 1000) + msg.ttlSeconds),
      'apns-id': apnsIdFor(delivery.id),
      'content-type': 'application/json',
    };
    if (msg.collapseKey) h['apns-collapse-id'] = msg.collapseKey;
    return h;
  }

  private classify(status: number, headers: http2.IncomingHttpHeaders, body: string): DevicePushResult {
    if (status === 200) {
      const id = headers['apns-id'];
      return typeof id === 'string' ? { outcome: 'delivered', providerId: id } : { outcome: 'delivered' };
    }
    const reasonCode = reasonOf(body);
    const reason = shortReason(`APNs answered ${status}${reasonCode ? ` ${reasonCode}` : ''}`);
    // 410: the app is gone from the device (Unregistered) or the token expired (ExpiredToken).
    // 400 BadDeviceToken: not a token of this environment (e.g. a sandbox token in production).
    if (status === 410) return { outcome: 'invalid_token', reason };
    if (status === 400 && reasonCode === 'BadDeviceToken') return { outcome: 'invalid_token', reason };
    if (status === 429 || status >= 500 || (status === 403 && reasonCode === 'ExpiredProviderToken')) {
      const retryAfterMs = parseRetryAfter(headers['retry-after'], this.clock());
      return retryAfterMs === undefined ? { outcome: 'retry', reason } : { outcome: 'retry', reason, retryAfterMs };
    }
    // DeviceTokenNotForTopic, BadTopic, InvalidProviderToken, PayloadTooLarge…: our setup or
    // payload, the same for every token; dropping registrations for it would lose them all.
    return { outcome: 'rejected', reason };
  }
}

function reasonOf(body: string): string {
  const r = (parseJsonOrUndefined(body) as { reason?: unknown } | undefined)?.reason;
  return typeof r === 'string' ? r.slice(0, 64) : '';
}
