// The signed-in session. The access token lives only in this module's memory: never in storage,
// never in a URL, never in the DOM. The refresh token is not visible to page scripts at all: the
// hub keeps it in an HttpOnly, SameSite=Strict cookie scoped to /v1/auth/ when a request carries
// `X-Hub-Session: cookie` (src/http/web-session.ts). After a reload the app asks for a fresh
// access token with that cookie.
import type { UserView } from '../../src/contract/models.js';
import { HubRequestError } from './errors.js';
import { httpJson, httpRaw, type HttpOptions } from './http.js';
import { Store } from './store.js';

export type SessionState =
  { status: 'loading' } | { status: 'signedOut'; notice?: string } | { status: 'signedIn'; user: UserView };

export const session = new Store<SessionState>({ status: 'loading' });

const COOKIE_MODE = { 'x-hub-session': 'cookie' };
/** "This browser may hold a session cookie": a hint with no secret in it, so a fresh visitor makes no doomed refresh call. */
const HINT_KEY = 'kidwatch.session';
/** Refresh this long before the access token expires. */
const REFRESH_EARLY_MS = 60_000;

let accessToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<string> | null = null;
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('kidwatch-session') : null;

export const getAccessToken = (): string | null => accessToken;

/** The `exp` claim of a JWT, in ms (the token is ours to use, not to trust: the hub checks it). */
function expiresAt(token: string): number | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** True when the access token held will not expire within the next 10 s. */
export function tokenIsFresh(): boolean {
  const exp = accessToken ? expiresAt(accessToken) : undefined;
  return exp !== undefined && exp - Date.now() > 10_000;
}

function adopt(token: string): void {
  accessToken = token;
  clearTimeout(refreshTimer);
  const exp = expiresAt(token);
  if (exp === undefined) return;
  // A minute before expiry, or at 80 % of a short lifetime; never more often than every 5 s, so
  // a reload rarely cuts a refresh short (its new cookie would be lost, and the old one, already
  // used, would then end the session as a replay).
  const left = exp - Date.now();
  const delay = Math.max(5_000, left > 5 * REFRESH_EARLY_MS ? left - REFRESH_EARLY_MS : left * 0.8);
  refreshTimer = setTimeout(() => void refreshAccess().catch(() => undefined), delay);
}

function forget(notice?: string): void {
  accessToken = null;
  clearTimeout(refreshTimer);
  localStorage.removeItem(HINT_KEY);
  session.set(notice ? { status: 'signedOut', notice } : { status: 'signedOut' });
}

/**
 * Rotating refresh tokens punish two concurrent refreshes as a replay (the hub then ends the
 * session), and every tab shares the one cookie: tabs take turns through a Web Lock where the
 * browser has it, and one tab never runs two refreshes at once.
 */
async function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? (locks.request('kidwatch-refresh', fn) as Promise<T>) : fn();
}

export function refreshAccess(): Promise<string> {
  inflight ??= oneAtATime(async () => {
    try {
      const r = await httpJson<{ accessToken: string }>('/v1/auth/refresh', { method: 'POST', headers: COOKIE_MODE });
      adopt(r.accessToken);
      return r.accessToken;
    } catch (err) {
      if (err instanceof HubRequestError && err.code === 'UNAUTHORIZED') forget('Your session ended. Please sign in again.');
      throw err;
    }
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}

/** fetch() with the bearer token; one refresh and one retry when the hub says 401. */
export async function authFetch(path: string, opts: HttpOptions = {}): Promise<Response> {
  const res = await httpRaw(path, { ...opts, token: accessToken });
  if (res.status !== 401 || !localStorage.getItem(HINT_KEY)) return res;
  try {
    await refreshAccess();
  } catch {
    return res;
  }
  return httpRaw(path, { ...opts, token: accessToken });
}

interface SignedIn {
  user: UserView;
  accessToken: string;
}

function signedIn(r: SignedIn): void {
  localStorage.setItem(HINT_KEY, '1');
  adopt(r.accessToken);
  session.set({ status: 'signedIn', user: r.user });
}

export async function signUp(email: string, password: string, nickname: string): Promise<void> {
  signedIn(
    await httpJson<SignedIn>('/v1/auth/register', { method: 'POST', body: { email, password, nickname }, headers: COOKIE_MODE }),
  );
}

export async function signIn(email: string, password: string): Promise<void> {
  signedIn(await httpJson<SignedIn>('/v1/auth/login', { method: 'POST', body: { email, password }, headers: COOKIE_MODE }));
}

/** On start: resume the cookie session, if this browser has one. */
export async function restore(): Promise<void> {
  if (!localStorage.getItem(HINT_KEY)) return session.set({ status: 'signedOut' });
  try {
    await refreshAccess();
    const { user } = await httpJson<{ user: UserView }>('/v1/me', { token: accessToken });
    session.set({ status: 'signedIn', user });
  } catch (err) {
    if (session.get().status !== 'signedOut') {
      session.set({
        status: 'signedOut',
        notice: err instanceof HubRequestError && err.code === 'NETWORK' ? 'The hub cannot be reached.' : 'Please sign in again.',
      });
    }
  }
}

/** Ends the session on the hub (every socket of it closes) and drops the cookie. */
export async function signOut(notice?: string): Promise<void> {
  try {
    await httpRaw('/v1/auth/logout', { method: 'POST', headers: COOKIE_MODE });
  } finally {
    tabs?.postMessage('signed-out');
    forget(notice);
  }
}

/** After the account is deleted on the hub: nothing of it stays in this browser. */
export async function forgetAccount(): Promise<void> {
  await signOut('Your account was deleted.');
}

export function updateUser(user: UserView): void {
  if (session.get().status === 'signedIn') session.set({ status: 'signedIn', user });
}

// Another tab signed out: the cookie is gone, so this tab's session is over too.
tabs?.addEventListener('message', (e) => {
  if (e.data === 'signed-out' && session.get().status === 'signedIn') forget('You signed out in another tab.');
});
