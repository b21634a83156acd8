// Errors of the wire contract (PROTOCOL.md "Conventions"): each error has a code (what a client
// does about it), a stable reason (which rule refused, so a client can tell "camera is off" from
// "microphone is off" without parsing English) and a message for people. Every error the hub
// sends is made by one factory of `E` below, so every reason is listed here and documented in
// docs/protocol.md ("Error reasons"; test/unit/docs.test.ts checks it).
import type { WatchPermission } from './models.js';

export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'TOO_LARGE',
  'RATE_LIMITED',
  'CONSENT_REQUIRED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  CONSENT_REQUIRED: 403,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** Which rule refused (see `E`); stable across releases, unlike the message. */
  reason: string;
}

/** An error meant for the client: its code, reason and message go on the wire as they are. */
export class HubError extends Error {
  override name = 'HubError';
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, reason: this.reason };
  }

  /** An error another node answered with (call forwarding), as it was. */
  static fromBody(b: ErrorBody): HubError {
    return new HubError(b.code, b.reason, b.message);
  }
}

/** A factory of one reason: `E.notMember()` throws-ready; `.reason` and `.code` for docs and tests. */
type Factory<A extends unknown[]> = ((...args: A) => HubError) & { readonly reason: string; readonly code: ErrorCode };

function reason<A extends unknown[]>(name: string, code: ErrorCode, message: (...args: A) => string): Factory<A> {
  return Object.assign((...args: A) => new HubError(code, name, message(...args)), { reason: name, code });
}

const text = (fallback: string) => (m?: string) => m ?? fallback;

/** Every error the hub sends, by reason. */
export const E = {
  // --- BAD_REQUEST: input that does not fit ------------------------------------------------------
  invalid: reason('invalid_input', 'BAD_REQUEST', (m: string) => m),
  unknownEvent: reason('unknown_event', 'BAD_REQUEST', (event: string) => `unknown event "${event.slice(0, 64)}"`),
  badArguments: reason('bad_arguments', 'BAD_REQUEST', () => 'send exactly one payload object and an ack callback'),
  badCursor: reason('bad_cursor', 'BAD_REQUEST', () => 'cursor is not one this hub issued'),
  badTime: reason('time_out_of_range', 'BAD_REQUEST', (m: string) => m),
  notACell: reason('not_a_cell', 'BAD_REQUEST', (cell: string) => `not an H3 cell: ${cell.slice(0, 16)}`),
  tooManyCells: reason('too_many_cells', 'BAD_REQUEST', (max: number) => `at most ${max} cells per connection`),
  tooManyGeofences: reason('too_many_geofences', 'BAD_REQUEST', (max: number) => `a family can have at most ${max} geofences`),
  mediaInvalid: reason('media_invalid', 'BAD_REQUEST', (m: string) => m),
  callMediaRefused: reason('call_media_refused', 'BAD_REQUEST', (m: string) => m),
  seqPastEnd: reason(
    'seq_past_end',
    'BAD_REQUEST',
    (seq: number, last: number) => `seq ${seq} is past the last message (${last})`,
  ),
  confirmRequired: reason('confirm_required', 'BAD_REQUEST', (m: string) => m),
  formatUnsupported: reason('format_unsupported', 'BAD_REQUEST', (m: string) => m),

  // --- UNAUTHORIZED: who you are is not established --------------------------------------------
  tokenMissing: reason('token_missing', 'UNAUTHORIZED', text('missing token')),
  tokenInvalid: reason('token_invalid', 'UNAUTHORIZED', text('invalid token')),
  tokenExpired: reason('token_expired', 'UNAUTHORIZED', () => 'token expired'),
  tokenRevoked: reason('token_revoked', 'UNAUTHORIZED', () => 'token revoked'),
  sessionEnded: reason('session_ended', 'UNAUTHORIZED', text('session ended')),
  accountGone: reason('account_gone', 'UNAUTHORIZED', () => 'account no longer exists'),
  credentialsWrong: reason('credentials_wrong', 'UNAUTHORIZED', () => 'wrong email or password'),
  refreshInvalid: reason('refresh_invalid', 'UNAUTHORIZED', (m: string) => m),
  refreshReused: reason('refresh_reused', 'UNAUTHORIZED', () => 'refresh token reused: the session was revoked, log in again'),

  // --- FORBIDDEN: known, but not allowed -------------------------------------------------------
  notMember: reason('not_member', 'FORBIDDEN', () => 'not a member of this family'),
  roleRequired: reason('role_required', 'FORBIDDEN', (roles: readonly string[]) => `this needs the role ${roles.join(' or ')}`),
  watchNotInFamily: reason('watch_not_in_family', 'FORBIDDEN', () => 'not a watch of your family'),
  watchUnbound: reason('watch_unbound', 'FORBIDDEN', () => 'this watch is not bound to a family'),
  principalKind: reason('principal_kind', 'FORBIDDEN', (m: string) => m),
  opsScopeRequired: reason('ops_scope_required', 'FORBIDDEN', (what: string) => `${what} needs a token with the ops scope`),
  passwordWrong: reason('password_wrong', 'FORBIDDEN', () => 'wrong password'),
  resetCodeWrong: reason(
    'reset_code_wrong',
    'FORBIDDEN',
    () => 'the reset code is wrong, already used or expired: ask for a new one',
  ),
  provisioningKeyWrong: reason('provisioning_key_wrong', 'FORBIDDEN', () => 'wrong provisioning key'),
  callOutsideFamily: reason('call_outside_family', 'FORBIDDEN', () => 'you can only call your family'),
  voiceCallNoVideo: reason('voice_call_no_video', 'FORBIDDEN', () => 'this is a voice call'),
  installationTaken: reason(
    'installation_taken',
    'FORBIDDEN',
    () => 'this installation is signed in as someone else; sign in on it, or register with its current token',
  ),
  notYourMessage: reason(
    'not_your_message',
    'FORBIDDEN',
    () => 'only its sender or an owner of the family may delete this message',
  ),

  // --- CONSENT_REQUIRED: the family's owner has not turned a watch permission on ---------------
  /** Reason `permission_off.<permission>`, e.g. `permission_off.camera`. */
  permissionOff: Object.assign(
    (p: WatchPermission, m?: string) =>
      new HubError(
        'CONSENT_REQUIRED',
        `permission_off.${p}`,
        m ?? `the ${p} permission is off for this watch; the family owner can turn it on`,
      ),
    { reason: 'permission_off.<permission>', code: 'CONSENT_REQUIRED' as const },
  ),

  // --- NOT_FOUND: no such thing for you (others' ids answer the same, so they cannot be probed)
  noSuchRoute: reason('no_such_route', 'NOT_FOUND', () => 'no such route'),
  noSuchFamily: reason('no_such_family', 'NOT_FOUND', () => 'no such family'),
  noSuchWatch: reason('no_such_watch', 'NOT_FOUND', () => 'no such watch in this family'),
  noSuchMember: reason('no_such_member', 'NOT_FOUND', () => 'no such member'),
  noSuchGeofence: reason('no_such_geofence', 'NOT_FOUND', () => 'no such geofence in this family'),
  noSuchAlert: reason('no_such_alert', 'NOT_FOUND', () => 'no such alert'),
  noSuchMedia: reason('no_such_media', 'NOT_FOUND', () => 'no such media'),
  noSuchMessage: reason('no_such_message', 'NOT_FOUND', () => 'no such message in this family'),
  noSuchCommand: reason('no_such_command', 'NOT_FOUND', () => 'no such command for this watch'),
  noSuchCall: reason('no_such_call', 'NOT_FOUND', (m: string) => m),
  noSuchTransport: reason('no_such_transport', 'NOT_FOUND', () => 'no such transport of yours in this call'),
  noSuchConsumer: reason('no_such_consumer', 'NOT_FOUND', () => 'no such consumer of yours in this call'),
  codeUnknown: reason('code_unknown', 'NOT_FOUND', (m: string) => m),

  // --- CONFLICT: the state does not allow it now -----------------------------------------------
  emailTaken: reason('email_taken', 'CONFLICT', () => 'an account with this email already exists'),
  alreadyMember: reason('already_member', 'CONFLICT', () => 'already a member of this family'),
  watchBound: reason('watch_bound', 'CONFLICT', () => 'this watch is bound to a family; its owner must remove it first'),
  watchIdTaken: reason('watch_id_taken', 'CONFLICT', () => 'another watch is registered with this watchId'),
  lastOwner: reason('last_owner', 'CONFLICT', () => 'a family needs an owner: name another owner first'),
  noPassword: reason('no_password', 'CONFLICT', () => 'this account signs in through an outside issuer and has no password here'),
  policyVersionMismatch: reason(
    'policy_version_mismatch',
    'CONFLICT',
    (current: string) => `the current privacy policy is version ${current}: accept that one`,
  ),
  commandFinished: reason('command_finished', 'CONFLICT', (status: string) => `the command is already ${status}`),
  inCall: reason('in_call', 'CONFLICT', () => 'you are already in a call'),
  everyoneBusy: reason('everyone_busy', 'CONFLICT', () => 'everyone you called is busy in another call'),
  familyCallsFull: reason('family_calls_full', 'CONFLICT', (max: number) => `the family already has ${max} calls going`),
  callLimit: reason('call_limit', 'CONFLICT', (m: string) => m),
  duplicateFix: reason('duplicate_fix', 'CONFLICT', () => 'another fix in this report has the same ts'),
  messageDeleted: reason('message_deleted', 'CONFLICT', () => 'this message was deleted'),

  // --- TOO_LARGE -------------------------------------------------------------------------------
  payloadTooLarge: reason('payload_too_large', 'TOO_LARGE', (limit: number) => `payload exceeds ${limit} bytes`),
  textTooLong: reason('text_too_long', 'TOO_LARGE', (max: number) => `text is longer than ${max} characters`),
  mediaTooLarge: reason('media_too_large', 'TOO_LARGE', (m: string) => m),
  storageFull: reason('storage_full', 'TOO_LARGE', (m: string) => m),

  // --- RATE_LIMITED ----------------------------------------------------------------------------
  rateLimited: reason(
    'rate_limited',
    'RATE_LIMITED',
    (what: string, retryMs: number) => `too many ${what}; retry in ${Math.ceil(retryMs / 1000)} s`,
  ),
  tooManyConnections: reason('too_many_connections', 'RATE_LIMITED', (max: number) => `at most ${max} connections at once`),
  uploadRate: reason(
    'upload_rate',
    'RATE_LIMITED',
    (retryMs: number) => `too many bytes uploaded; retry in ${Math.ceil(retryMs / 1000)} s`,
  ),
  loginLocked: reason(
    'login_locked',
    'RATE_LIMITED',
    (retryMs: number) => `too many failed logins; try again in ${Math.ceil(retryMs / 1000)} s`,
  ),

  // --- UNAVAILABLE -----------------------------------------------------------------------------
  provisioningOff: reason('provisioning_off', 'UNAVAILABLE', () => 'watch provisioning is off: HUB_PROVISIONING_KEY is not set'),
  mailOff: reason(
    'mail_off',
    'UNAVAILABLE',
    () => 'password reset by email is off on this hub: HUB_SMTP_URL is not set; ask its operator',
  ),
  draining: reason('draining', 'UNAVAILABLE', () => 'this node is shutting down; reconnect'),
  callsUnavailable: reason('calls_unavailable', 'UNAVAILABLE', (m: string) => m),
  pushProviderOff: reason(
    'push_provider_off',
    'UNAVAILABLE',
    (provider: string) => `${provider} push is not configured on this hub`,
  ),
  nodeUnreachable: reason('node_unreachable', 'UNAVAILABLE', (m: string) => m),
  audioConversionUnavailable: reason('audio_conversion_unavailable', 'UNAVAILABLE', (m: string) => m),
  audioConversionFailed: reason('audio_conversion_failed', 'UNAVAILABLE', (m: string) => m),
  audioConversionBusy: reason('audio_conversion_busy', 'UNAVAILABLE', () => 'too many voice conversions at once; retry shortly'),

  // --- INTERNAL --------------------------------------------------------------------------------
  internal: reason('internal', 'INTERNAL', () => 'internal error'),
} as const;

/** Every factory, for docs and tests. */
export const ALL_REASONS: readonly { reason: string; code: ErrorCode }[] = Object.values(E).map((f) => ({
  reason: f.reason,
  code: f.code,
}));

/** The wire body of any error: a HubError as it is, anything else INTERNAL (details only in the log). */
export function errorBody(err: unknown): ErrorBody {
  return err instanceof HubError ? err.toBody() : E.internal().toBody();
}
