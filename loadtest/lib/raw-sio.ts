// A minimal Socket.IO client for the load generator (--client raw): the same wire format as
// socket.io-client 4 (Engine.IO v4 text packets over a websocket, Socket.IO v5 packets in the main
// namespace) on a bare `ws` socket, without the client library's managers, buffers and emitters.
// It exists because on a 2-core machine socket.io-client costs about twice the bare relay's CPU
// per update, so the clients, not the relay, set the relay's saturation. It handles only what the
// benchmark uses: CONNECT with an auth payload, events, acks, pings; no binary, no reconnection.
import WebSocket from 'ws';

type Handler = (payload: unknown) => void;

export class RawSocket {
  private readonly handlers = new Map<string, Handler>();
  private readonly acks = new Map<number, { cb: (args: unknown) => void; timer: NodeJS.Timeout }>();
  private nextAck = 0;
  private onClose: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {}

  /** Opens the websocket and the main namespace; rejects on a connect error (the server's message). */
  static connect(
    url: string,
    opts: { query: Record<string, string>; auth?: object; localAddress?: string; timeoutMs: number },
  ): Promise<RawSocket> {
    const u = new URL(url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = '/socket.io/';
    u.search = new URLSearchParams({ ...opts.query, EIO: '4', transport: 'websocket' }).toString();
    const ws = new WebSocket(u, {
      perMessageDeflate: false,
      handshakeTimeout: opts.timeoutMs,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    const s = new RawSocket(ws);
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error('timeout')), opts.timeoutMs);
      ws.on('error', (err) => fail(err));
      ws.on('close', () => {
        fail(new Error('closed before connecting'));
        s.onClose?.();
      });
      ws.on('message', (data: WebSocket.RawData) => {
        const p = data.toString();
        // Engine.IO: 0 open, 2 ping, 4 message; Socket.IO (after the 4): 0 connect, 2 event, 3 ack, 4 connect error.
        const t = p.charCodeAt(0);
        if (t === 50 /* 2 */) {
          ws.send('3');
          return;
        }
        if (t === 48 /* 0 */) {
          ws.send(`40${opts.auth ? JSON.stringify(opts.auth) : ''}`);
          return;
        }
        if (t !== 52 /* 4 */) return;
        const k = p.charCodeAt(1);
        if (k === 50 /* 2: event */) {
          const b = p.indexOf('[');
          const args = JSON.parse(p.slice(b)) as [string, unknown];
          s.handlers.get(args[0])?.(args[1]);
        } else if (k === 51 /* 3: ack */) {
          const b = p.indexOf('[');
          const id = Number(p.slice(2, b));
          const a = s.acks.get(id);
          if (a) {
            s.acks.delete(id);
            clearTimeout(a.timer);
            a.cb((JSON.parse(p.slice(b)) as unknown[])[0]);
          }
        } else if (k === 48 /* 0: connected */) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(s);
        } else if (k === 52 /* 4: connect error */) {
          fail(new Error(p.slice(2)));
        } else if (k === 49 /* 1: disconnected by the server */) {
          ws.close();
        }
      });
    });
  }

  on(event: string, h: Handler): void {
    this.handlers.set(event, h);
  }

  onDisconnect(h: () => void): void {
    this.onClose = h;
  }

  /** An event with an ack; `cb(undefined, reply)` or `cb(error)` after `timeoutMs`. */
  emitWithAck(event: string, payload: unknown, timeoutMs: number, cb: (err: Error | undefined, reply?: unknown) => void): void {
    const id = this.nextAck++;
    const timer = setTimeout(() => {
      this.acks.delete(id);
      cb(new Error('operation has timed out'));
    }, timeoutMs);
    this.acks.set(id, { cb: (reply) => cb(undefined, reply), timer });
    this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send('41');
      this.ws.close();
    } else this.ws.terminate();
    for (const a of this.acks.values()) clearTimeout(a.timer);
    this.acks.clear();
  }
}
