// fetch() with the hub's conventions: JSON bodies, `{ error: { code, message } }` errors, and
// network failures turned into HubRequestError('NETWORK').
import { HubRequestError } from './errors.js';

export interface HttpOptions {
  method?: string;
  body?: unknown;
  token?: string | null;
  headers?: Record<string, string>;
}

export async function httpRaw(path: string, opts: HttpOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  // Routes without a body must be called without one (and without a JSON content type).
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  try {
    // same-origin: the refresh cookie is sent only to /v1/auth/ (its path) and never cross-site.
    return await fetch(path, { method: opts.method ?? 'GET', headers, body, credentials: 'same-origin' });
  } catch {
    throw new HubRequestError('NETWORK', 'network error');
  }
}

/** Throws the hub's error for a non-2xx answer. */
export async function errorOf(res: Response): Promise<HubRequestError> {
  let code: HubRequestError['code'] = 'INTERNAL';
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code as HubRequestError['code'];
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's error page): keep the status.
  }
  return new HubRequestError(code, message, res.status);
}

export async function httpJson<T>(path: string, opts: HttpOptions = {}): Promise<T> {
  const res = await httpRaw(path, opts);
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
