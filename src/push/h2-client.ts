// One long-lived HTTP/2 connection to one origin, shared by all requests, opened again when the
// server closes it or says GOAWAY. APNs wants exactly this: it treats rapid connect/disconnect
// as a denial-of-service attempt and serves many concurrent streams on one connection.
import http2 from 'node:http2';

export interface H2Response {
  kind: 'response';
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export interface H2Failure {
  kind: 'failed';
  reason: string;
}

export interface H2ClientOptions {
  /** Bytes of a response body kept; the rest is dropped. */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 8 * 1024;
const CLOSE_GRACE_MS = 2000;

interface Tracked {
  session: http2.ClientHttp2Session;
  /** Time of the last response seen on the session: tells a dead connection from a slow stream. */
  lastResponseAt: number;
}

/** The request never reached the server's processing, so sending it again cannot duplicate it. */
class NotSent extends Error {}

export class H2Client {
  private current: Tracked | null = null;
  private readonly maxBodyBytes: number;
  private closed = false;
  /** How many connections were opened; for logs and tests. */
  connects = 0;

  constructor(
    private readonly origin: string,
    opts: H2ClientOptions = {},
  ) {
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /**
   * Sends one request and waits at most `timeoutMs` (connecting included). Never throws: network
   * trouble comes back as `failed`. A request refused before the server processed it (the
   * connection was going away) is sent once more on a fresh connection within the same bound.
   */
  async request(headers: http2.OutgoingHttpHeaders, body: string, timeoutMs: number): Promise<H2Response | H2Failure> {
    if (this.closed) return { kind: 'failed', reason: 'client closed' };
    const deadline = Date.now() + timeoutMs;
    for (let round = 0; ; round++) {
      try {
        return await this.once(headers, body, Math.max(1, deadline - Date.now()));
      } catch (err) {
        const reason = (err as Error).message;
        if (!(err instanceof NotSent) || round >= 1 || Date.now() >= deadline) return { kind: 'failed', reason };
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const t = this.current;
    this.current = null;
    if (!t || t.session.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        t.session.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      t.session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private session(): Tracked {
    const c = this.current;
    if (c && !c.session.closed && !c.session.destroyed) return c;
    const session = http2.connect(this.origin);
    const tracked: Tracked = { session, lastResponseAt: Date.now() };
    this.connects++;
    const forget = () => {
      if (this.current === tracked) this.current = null;
    };
    // After GOAWAY the session finishes its accepted streams; new requests go to a new one.
    session.on('goaway', forget);
    session.on('close', forget);
    // Errors also reach each stream; the listener only keeps the process from crashing.
    session.on('error', forget);
    // An idle kept-open connection must not hold the process open at shutdown.
    session.unref();
    this.current = tracked;
    return tracked;
  }

  private once(headers: http2.OutgoingHttpHeaders, body: string, timeoutMs: number): Promise<H2Response> {
    const tracked = this.session();
    const startedAt = Date.now();
    let req: http2.ClientHttp2Stream;
    try {
      req = tracked.session.request(headers);
    } catch (err) {
      // ERR_HTTP2_GOAWAY_SESSION / ERR_HTTP2_INVALID_SESSION: nothing was written.
      if (this.current === tracked) this.current = null;
      return Promise.reject(new NotSent(`HTTP/2 session unusable: ${(err as Error).message}`));
    }
    return new Promise<H2Response>((resolve, reject) => {
      let status = 0;
      let resHeaders: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        // Nothing at all came back on this connection since we asked: it is likely dead (a
        // dropped NAT entry, a server that stopped reading). Drop it so the next try reconnects.
        if (tracked.lastResponseAt < startedAt) {
          if (this.current === tracked) this.current = null;
          tracked.session.destroy();
        } else {
          req.close(http2.constants.NGHTTP2_CANCEL);
        }
        settle(() => reject(new Error(`timed out after ${timeoutMs} ms`)));
      }, timeoutMs);
      req.on('response', (h) => {
        tracked.lastResponseAt = Date.now();
        status = Number(h[':status']);
        resHeaders = h;
      });
      req.on('data', (chunk: Buffer) => {
        const room = this.maxBodyBytes - size;
        if (room > 0) chunks.push(chunk.subarray(0, room));
        size += chunk.length;
      });
      req.on('end', () => {
        settle(() => resolve({ kind: 'response', status, headers: resHeaders, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', (err: Error) => {
        settle(() => reject(refused(req) ? new NotSent(`stream refused: ${err.message}`) : err));
      });
      req.on('close', () => {
        settle(() =>
          reject(
            refused(req)
              ? new NotSent('stream refused (connection going away)')
              : new Error(`stream closed (code ${req.rstCode})`),
          ),
        );
      });
      req.end(body);
    });
  }
}

function refused(req: http2.ClientHttp2Stream): boolean {
  return req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
}
