// Push credentials (OAuth assertions, access tokens, APNs provider tokens) are bearer secrets:
// they may travel in clear text only to this machine, which is what the tests' local servers are.

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Throws unless `url` is https, or http to a loopback address. Returns the parsed URL. */
export function assertSafeBaseUrl(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${what} is not a URL`);
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u;
  throw new TypeError(`${what} must be https (plain http only to a loopback address)`);
}
