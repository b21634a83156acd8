// OAuth 2.0 access tokens for a Google service account (the "JWT bearer" grant of RFC 7523, as
// Google's token endpoint speaks it): sign an RS256 assertion with the account's private key,
// trade it at token_uri for an access token, keep that token until shortly before it expires.
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { parseJsonOrUndefined, readBoundedText, shortReason } from './http-answer.js';
import { assertSafeBaseUrl } from './safe-url.js';

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google accepts assertions valid for at most one hour. */
const ASSERTION_LIFETIME_S = 3600;
const TOKEN_BODY_MAX_BYTES = 16 * 1024;
/** A token is renewed this long before it expires, so no request carries one about to lapse. */
export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;
export const DEFAULT_TOKEN_TIMEOUT_MS = 10_000;
/** Used when the endpoint names no lifetime: short, so a wrong guess costs little. */
const FALLBACK_EXPIRES_IN_S = 300;
const MAX_EXPIRES_IN_S = 24 * 3600;

const serviceAccountSchema = z.object({
  type: z.literal('service_account').optional(),
  project_id: z.string().min(1).max(100).optional(),
  private_key_id: z.string().min(1).max(100).optional(),
  private_key: z.string().min(100).max(10_000).includes('PRIVATE KEY'),
  client_email: z.string().min(3).max(320).includes('@'),
  token_uri: z.string().url().max(2000).optional(),
});

export interface GoogleServiceAccount {
  client_email: string;
  private_key: string;
  token_uri: string;
  private_key_id?: string;
  project_id?: string;
}

/**
 * Reads the JSON key file Google hands out. Errors name the bad field only: the file holds a
 * private key, and it must not end up in a log through an error message.
 */
export function parseServiceAccount(json: string): GoogleServiceAccount {
  const raw = parseJsonOrUndefined(json);
  if (raw === undefined) throw new Error('FCM service account is not valid JSON');
  const parsed = serviceAccountSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new Error(`FCM service account is missing or has bad fields: ${fields}`);
  }
  const a = parsed.data;
  const out: GoogleServiceAccount = {
    client_email: a.client_email,
    private_key: a.private_key,
    token_uri: a.token_uri ?? GOOGLE_TOKEN_URI,
  };
  if (a.private_key_id) out.private_key_id = a.private_key_id;
  if (a.project_id) out.project_id = a.project_id;
  return out;
}

/** Why no token could be had; the FCM sender turns it into a `retry`. */
export class AccessTokenError extends Error {
  override readonly name = 'AccessTokenError';
}

export interface GoogleAccessTokenSourceOptions {
  scope?: string;
  clock?: () => number;
  refreshMarginMs?: number;
  /** Bound on one exchange with the token endpoint. */
  timeoutMs?: number;
}

interface CachedToken {
  token: string;
  /** Renew from this time on (expiry minus the margin). */
  renewAt: number;
}

export class GoogleAccessTokenSource {
  private readonly scope: string;
  private readonly clock: () => number;
  private readonly refreshMarginMs: number;
  private readonly timeoutMs: number;
  private cached: CachedToken | null = null;
  /** The exchange in flight: concurrent sends wait for one exchange instead of starting many. */
  private pending: Promise<CachedToken> | null = null;

  constructor(
    private readonly account: GoogleServiceAccount,
    opts: GoogleAccessTokenSourceOptions = {},
  ) {
    assertSafeBaseUrl(account.token_uri, 'service account token_uri');
    this.scope = opts.scope ?? FCM_SCOPE;
    this.clock = opts.clock ?? Date.now;
    this.refreshMarginMs = opts.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
  }

  /** A valid access token; waits at most until `signal` aborts. Throws AccessTokenError. */
  async get(signal: AbortSignal): Promise<string> {
    const c = this.cached;
    if (c && this.clock() < c.renewAt) return c.token;
    if (!this.pending) {
      this.pending = this.exchange().finally(() => {
        this.pending = null;
      });
    }
    const got = await raceAbort(this.pending, signal);
    return got.token;
  }

  /** The service refused `token` (401): forget it so the next get() exchanges anew. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = null;
  }

  private async exchange(): Promise<CachedToken> {
    const now = this.clock();
    const iat = Math.floor(now / 1000);
    const signOpts: jwt.SignOptions = { algorithm: 'RS256' };
    if (this.account.private_key_id) signOpts.keyid = this.account.private_key_id;
    let assertion: string;
    try {
      assertion = jwt.sign(
        { iss: this.account.client_email, scope: this.scope, aud: this.account.token_uri, iat, exp: iat + ASSERTION_LIFETIME_S },
        this.account.private_key,
        signOpts,
      );
    } catch (err) {
      // jsonwebtoken's messages name the problem ("secretOrPrivateKey must be an asymmetric key…"), not the key.
      throw new AccessTokenError(`cannot sign the OAuth assertion: ${(err as Error).message}`);
    }
    let res: Response;
    try {
      res = await fetch(this.account.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      const e = err as Error;
      const why = e.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : e.message;
      throw new AccessTokenError(`OAuth token exchange failed: ${why}`);
    }
    const text = await readBoundedText(res, TOKEN_BODY_MAX_BYTES).catch(() => '');
    const body = parseJsonOrUndefined(text) as
      { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (res.status !== 200 || typeof body?.access_token !== 'string' || body.access_token.length === 0) {
      // Only the error code and description: never the body as a whole, which could hold a token.
      const code = typeof body?.error === 'string' ? ` ${body.error}` : '';
      const desc = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
      throw new AccessTokenError(shortReason(`OAuth token endpoint answered ${res.status}${code}${desc}`));
    }
    const expiresIn =
      typeof body.expires_in === 'number' && Number.isFinite(body.expires_in) && body.expires_in > 0
        ? Math.min(body.expires_in, MAX_EXPIRES_IN_S)
        : FALLBACK_EXPIRES_IN_S;
    const lifetimeMs = expiresIn * 1000;
    // A short-lived token is renewed at half its life rather than never used.
    const margin = Math.min(this.refreshMarginMs, lifetimeMs / 2);
    const cached = { token: body.access_token, renewAt: now + lifetimeMs - margin };
    this.cached = cached;
    return cached;
  }
}

/** Waits for `p` unless `signal` aborts first; the shared exchange itself goes on for others. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AccessTokenError('timed out waiting for an OAuth token'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AccessTokenError('timed out waiting for an OAuth token'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof AccessTokenError ? e : new AccessTokenError(String(e)));
      },
    );
  });
}
