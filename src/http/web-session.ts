// The browser session mode of the auth routes. A request carrying `X-Hub-Session: cookie` gets its
// refresh token as an HttpOnly, SameSite=Strict cookie scoped to /v1/auth/ instead of in the JSON
// body, and refresh/logout then read it from that cookie. Page scripts never see the refresh token
// (an XSS cannot steal it), and a cross-site page cannot use it: SameSite=Strict keeps the cookie
// off cross-site requests, and a form cannot send the custom header (a script on another origin
// that sets it needs a CORS preflight, which the hub does not grant for this header).
// Requests without the header behave exactly as before (native apps, tests, watches' makers).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { E } from '../contract/errors.js';
import type { TokenPair } from '../contract/models.js';

export const SESSION_HEADER = 'x-hub-session';
export const REFRESH_COOKIE = 'hub_refresh';
/** Only the auth routes need the cookie: it is never sent with API or media requests. */
export const REFRESH_COOKIE_PATH = '/v1/auth/';

export function wantsCookieSession(req: FastifyRequest): boolean {
  const v = req.headers[SESSION_HEADER];
  return typeof v === 'string' && v.trim().toLowerCase() === 'cookie';
}

/** The first value of a cookie in the request's Cookie header, if any. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

function cookieAttributes(req: FastifyRequest, maxAgeS: number): string {
  // Secure whenever the browser reached us over HTTPS (directly or, with HUB_TRUST_PROXY, through
  // a TLS-terminating balancer); plain-HTTP development on localhost must still work.
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `Path=${REFRESH_COOKIE_PATH}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${secure}`;
}

export function setRefreshCookie(req: FastifyRequest, reply: FastifyReply, token: string, maxAgeS: number): void {
  // Refresh tokens are base64url: safe as a cookie value without quoting.
  void reply.header('set-cookie', `${REFRESH_COOKIE}=${token}; ${cookieAttributes(req, maxAgeS)}`);
  void reply.header('cache-control', 'no-store');
}

export function clearRefreshCookie(req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', `${REFRESH_COOKIE}=; ${cookieAttributes(req, 0)}`);
}

/**
 * The refresh token a refresh or logout request presents: from the cookie in cookie mode (the body
 * is ignored then, so a page script has nothing to put there), from the parsed body otherwise.
 * Returns undefined in cookie mode when the browser holds no cookie.
 */
export function presentedRefreshToken(req: FastifyRequest, fromBody: () => string): string | undefined {
  return wantsCookieSession(req) ? readCookie(req, REFRESH_COOKIE) : fromBody();
}

/**
 * Sends a token answer: unchanged without the header; in cookie mode the refresh token goes into
 * the cookie and is left out of the body.
 */
export function sendTokens<T extends TokenPair>(
  req: FastifyRequest,
  reply: FastifyReply,
  result: T,
  maxAgeS: number,
): Omit<T, 'refreshToken'> | T {
  if (!wantsCookieSession(req)) return result;
  const { refreshToken, ...rest } = result;
  setRefreshCookie(req, reply, refreshToken, maxAgeS);
  return rest;
}

/** A refresh in cookie mode without a cookie: the browser has no session. */
export const noSessionCookie = () => E.sessionEnded('no session cookie: sign in again');
