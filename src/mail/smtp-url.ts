// HUB_SMTP_URL → nodemailer SMTP options. Parsed here rather than by nodemailer so the timeouts
// and the TLS rule below always apply, and so a typo fails at start with a clear message.

/** This machine: a local relay may take mail in clear text. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export interface SmtpTimeouts {
  /** TCP (and TLS) connect. */
  connectionTimeoutMs: number;
  /** From connect to the server's 220 greeting. */
  greetingTimeoutMs: number;
  /** Silence on an open connection. */
  socketTimeoutMs: number;
  /** Name lookup of the host. */
  dnsTimeoutMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: Readonly<SmtpTimeouts> = {
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
  dnsTimeoutMs: 10_000,
};

export interface SmtpOptions {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (smtps://, usually port 465). */
  secure: boolean;
  /** Refuse to go on without STARTTLS (smtp://): the password must never cross in clear text. */
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
  dnsTimeout: number;
  /** Never log: nodemailer's logger would print the conversation, AUTH included. */
  logger: false;
  debug: false;
  tls: { minVersion: 'TLSv1.2' };
}

/**
 * smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (implicit TLS). User and
 * password are percent-decoded. On smtp://, STARTTLS is required when a password is given and
 * the host is not this machine (a local relay on 127.0.0.1 may speak clear text); `requireTLS`
 * overrides that. Errors never repeat the URL, which holds the password.
 */
export function smtpOptionsFromUrl(
  url: string,
  timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS,
  requireTLS?: boolean,
): SmtpOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError('HUB_SMTP_URL is not a URL');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new TypeError('HUB_SMTP_URL must start with smtp:// or smtps://');
  if (!u.hostname) throw new TypeError('HUB_SMTP_URL has no host');
  if (u.search || u.hash || (u.pathname !== '' && u.pathname !== '/')) {
    throw new TypeError('HUB_SMTP_URL takes no path or query: smtp[s]://user:pass@host:port');
  }
  const secure = u.protocol === 'smtps:';
  const port = u.port ? Number(u.port) : secure ? 465 : 587;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  let auth: { user: string; pass: string } | undefined;
  if (u.username || u.password) {
    try {
      auth = { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
    } catch {
      throw new TypeError('HUB_SMTP_URL user or password is badly percent-encoded');
    }
  }
  const opts: SmtpOptions = {
    host,
    port,
    secure,
    requireTLS: requireTLS ?? (!secure && auth !== undefined && !isLoopbackHost(u.hostname)),
    connectionTimeout: timeouts.connectionTimeoutMs,
    greetingTimeout: timeouts.greetingTimeoutMs,
    socketTimeout: timeouts.socketTimeoutMs,
    dnsTimeout: timeouts.dnsTimeoutMs,
    logger: false,
    debug: false,
    tls: { minVersion: 'TLSv1.2' },
  };
  if (auth) opts.auth = auth;
  return opts;
}

/** The URL as it may be logged: smtp://user:***@host:587. */
export function redactSmtpUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable HUB_SMTP_URL)';
  }
}
