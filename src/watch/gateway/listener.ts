// The listeners: plain TCP and, with a certificate and key, TLS. Both hand each accepted socket
// to the gateway. TLS encrypts the link; it does not authenticate the watch (docs/watch-protocol.md).
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface ListenerSpec {
  kind: 'tcp' | 'tls';
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  onSocket(socket: Socket, kind: 'tcp' | 'tls'): void;
}

export function listen(spec: ListenerSpec): Promise<{ server: Server; port: number }> {
  const server: Server =
    spec.kind === 'tls'
      ? createTlsServer(
          {
            cert: readFileSync(spec.tls!.certFile),
            key: readFileSync(spec.tls!.keyFile),
            // A handshake that does not finish in time costs nothing more.
            handshakeTimeout: 10_000,
          },
          (socket) => spec.onSocket(socket, 'tls'),
        )
      : createServer((socket) => spec.onSocket(socket, 'tcp'));
  // A failed TLS handshake is the peer's problem, not the listener's.
  server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : spec.port });
    });
  });
}
