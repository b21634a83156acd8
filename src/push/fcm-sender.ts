// Firebase Cloud Messaging, HTTP v1 API: one POST per registration token to
// {baseUrl}/v1/projects/{projectId}/messages:send with an OAuth access token of a service account.
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
import { AccessTokenError, GoogleAccessTokenSource, type GoogleServiceAccount } from './google-oauth.js';
import { parseJsonOrUndefined, parseRetryAfter, readBoundedText, shortReason } from './http-answer.js';
import { assertSafeBaseUrl } from './safe-url.js';

export const FCM_BASE_URL = 'https://fcm.googleapis.com';
/** Bound on one send() as a whole: token exchange, the POST, and the one retry after a 401. */
export const FCM_SEND_TIMEOUT_MS = 10_000;
const ANSWER_MAX_BYTES = 16 * 1024;

export interface FcmSenderOptions {
  serviceAccount: GoogleServiceAccount;
  /** Firebase project id; default the service account's project_id. */
  projectId?: string;
  /** Default https://fcm.googleapis.com; tests point it at a local server. */
  baseUrl?: string;
  timeoutMs?: number;
  clock?: () => number;
  /** Renew the access token this long before it expires; default 5 min. */
  refreshMarginMs?: number;
}

/** The FCM v1 `message` object for one token. Exported for tests and for the docs. */
export function fcmMessageBody(token: string, msg: DevicePushMessage, delivery: DevicePushDelivery): object {
  const high = msg.priority === 'high';
  const ttl = `${msg.ttlSeconds}s`;
  const android: Record<string, unknown> = { priority: high ? 'high' : 'normal', ttl };
  // Android keeps at most four collapse keys per app; the caller picks few (per kind, not per chat).
  if (msg.collapseKey) android.collapse_key = msg.collapseKey;
  const apnsHeaders: Record<string, string> = {
    // iOS devices registered through FCM: FCM passes these on to APNs.
    'apns-priority': msg.alert && high ? '10' : '5',
    'apns-push-type': msg.alert ? 'alert' : 'background',
  };
  if (msg.collapseKey) apnsHeaders['apns-collapse-id'] = msg.collapseKey;
  const aps: Record<string, unknown> = msg.alert ? {} : { 'content-available': 1 };
  if (msg.alert && msg.kind === 'sos') aps['interruption-level'] = 'time-sensitive';
  const message: Record<string, unknown> = {
    token,
    data: wireData(msg, delivery),
    android,
    apns: { headers: apnsHeaders, payload: { aps } },
  };
  // `alert` holds real text only when the caller was allowed to put it there; else generic text.
  if (msg.alert) message.notification = { title: msg.alert.title, body: msg.alert.body };
  return { message };
}

interface FcmErrorBody {
  error?: { code?: unknown; status?: unknown; message?: unknown; details?: unknown };
}

/** The errorCode of the FcmError detail, and whether a BadRequest names the token field. */
function errorFacts(body: FcmErrorBody | undefined): { status: string; fcmCode: string; tokenField: boolean; message: string } {
  const e = body?.error;
  const status = typeof e?.status === 'string' ? e.status : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  let fcmCode = '';
  let tokenField = false;
  if (Array.isArray(e?.details)) {
    for (const d of e.details as unknown[]) {
      if (!d || typeof d !== 'object') continue;
      const rec = d as Record<string, unknown>;
      const type = typeof rec['@type'] === 'string' ? rec['@type'] : '';
      if (type.endsWith('google.firebase.fcm.v1.FcmError') && typeof rec.errorCode === 'string') fcmCode = rec.errorCode;
      if (type.endsWith('google.rpc.BadRequest') && Array.isArray(rec.fieldViolations)) {
        tokenField ||= (rec.fieldViolations as unknown[]).some(
          (v) => !!v && typeof v === 'object' && (v as Record<string, unknown>).field === 'message.token',
        );
      }
    }
  }
  return { status, fcmCode, tokenField, message };
}

export class FcmSender implements DevicePushSender {
  readonly provider = 'fcm' as const;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  private readonly tokens: GoogleAccessTokenSource;

  constructor(opts: FcmSenderOptions) {
    const projectId = opts.projectId ?? opts.serviceAccount.project_id;
    if (!projectId || !/^[a-z0-9-]{1,100}$/i.test(projectId)) throw new TypeError('FCM project id missing or malformed');
    const base = assertSafeBaseUrl(opts.baseUrl ?? FCM_BASE_URL, 'FCM base URL');
    this.url = new URL(`/v1/projects/${projectId}/messages:send`, base).toString();
    this.timeoutMs = opts.timeoutMs ?? FCM_SEND_TIMEOUT_MS;
    this.clock = opts.clock ?? Date.now;
    const tokenOpts: ConstructorParameters<typeof GoogleAccessTokenSource>[1] = { clock: this.clock, timeoutMs: this.timeoutMs };
    if (opts.refreshMarginMs !== undefined) tokenOpts.refreshMarginMs = opts.refreshMarginMs;
    this.tokens = new GoogleAccessTokenSource(opts.serviceAccount, tokenOpts);
  }

  async send(token: string, message: DevicePushMessage, delivery: DevicePushDelivery): Promise<DevicePushResult> {
    assertToken(token);
    assertDelivery(delivery);
    assertDevicePushMessage(message);
    const body = JSON.stringify(fcmMessageBody(token, message, delivery));
    // One deadline for the whole call, so a slow token endpoint plus a slow FCM stay within it.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const first = await this.post(body, deadline);
    if (first.kind !== 'unauthenticated') return first.result;
    // An access token can be revoked before its expiry: get a new one, try exactly once more.
    this.tokens.invalidate(first.accessToken);
    const second = await this.post(body, deadline);
    if (second.kind !== 'unauthenticated') return second.result;
    this.tokens.invalidate(second.accessToken);
    return { outcome: 'retry', reason: 'FCM answered 401 twice, even with a fresh access token' };
  }

  async close(): Promise<void> {
    // fetch keeps no connection we own.
  }

  private async post(
    body: string,
    deadline: AbortSignal,
  ): Promise<{ kind: 'done'; result: DevicePushResult } | { kind: 'unauthenticated'; accessToken: string }> {
    let accessToken: string;
    try {
      accessToken = await this.tokens.get(deadline);
    } catch (err) {
      const reason = err instanceof AccessTokenError ? err.message : 'no OAuth token';
      return { kind: 'done', result: { outcome: 'retry', reason: shortReason(reason) } };
    }
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: deadline,
        redirect: 'manual',
      });
    } catch (err) {
      const e = err as Error;
      const why = e.name === 'TimeoutError' || deadline.aborted ? `timed out after ${this.timeoutMs} ms` : e.message;
      return { kind: 'done', result: { outcome: 'retry', reason: shortReason(`FCM request failed: ${why}`) } };
    }
    const text = await readBoundedText(res, ANSWER_MAX_BYTES).catch(() => '');
    // 401 THIRD_PARTY_AUTH_ERROR is the project's APNs key or certificate, not our access token.
    if (
      res.status === 401 &&
      errorFacts(parseJsonOrUndefined(text) as FcmErrorBody | undefined).fcmCode !== 'THIRD_PARTY_AUTH_ERROR'
    ) {
      return { kind: 'unauthenticated', accessToken };
    }
    return { kind: 'done', result: this.classify(res, text) };
  }

  private classify(res: Response, text: string): DevicePushResult {
    const parsed = parseJsonOrUndefined(text);
    if (res.status === 200) {
      const name = (parsed as { name?: unknown } | undefined)?.name;
      return typeof name === 'string' ? { outcome: 'delivered', providerId: name } : { outcome: 'delivered' };
    }
    const f = errorFacts(parsed as FcmErrorBody | undefined);
    const reason = shortReason(`FCM answered ${res.status} ${f.fcmCode || f.status}${f.message ? `: ${f.message}` : ''}`);
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.clock());
    // UNREGISTERED: the app was uninstalled or the token rotated. INVALID_ARGUMENT names the token
    // either as FcmError code or as a BadRequest on message.token; on any other field it is our
    // payload, and the registration stays. SENDER_ID_MISMATCH: the token belongs to another project.
    if (f.fcmCode === 'UNREGISTERED') return { outcome: 'invalid_token', reason };
    if (f.fcmCode === 'SENDER_ID_MISMATCH') return { outcome: 'invalid_token', reason };
    if (res.status === 400 && (f.fcmCode === 'INVALID_ARGUMENT' || f.tokenField)) return { outcome: 'invalid_token', reason };
    if (
      res.status === 429 ||
      res.status >= 500 ||
      f.fcmCode === 'QUOTA_EXCEEDED' ||
      f.fcmCode === 'UNAVAILABLE' ||
      f.fcmCode === 'INTERNAL'
    ) {
      return retryAfterMs === undefined ? { outcome: 'retry', reason } : { outcome: 'retry', reason, retryAfterMs };
    }
    // 400 on our payload, 403 (no permission, APNs auth of the project), 404 without UNREGISTERED
    // (wrong project id), a redirect: retrying will not help, and the token is not to blame.
    return { outcome: 'rejected', reason };
  }
}
