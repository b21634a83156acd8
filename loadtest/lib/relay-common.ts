// What the benchmark's own servers share: the `location` event the relays send (the hub's shape
// and size, relay.ts and sio-relay.ts), and how a plain Socket.IO server (plain-io.ts,
// sio-relay.ts) listens on loopback, tells its port and stops.
import type { Server as HttpServer } from 'node:http';
import type { Server } from 'socket.io';

/** The hub's H3 cells are 15 characters; the relays send a fixed one of the same size. */
const CELL = '891fb466257ffff';

/** A watch's report, as the benchmark's clients send it. */
export interface RelayedFix {
  ts: number;
  lat: number;
  lng: number;
  acc: number;
  battery?: number;
  source: string;
}

/** The hub's `location` event, field for field. */
export function locationEvent(deviceId: string, familyId: string, f: RelayedFix) {
  return {
    deviceId,
    familyId,
    ts: f.ts,
    lat: f.lat,
    lng: f.lng,
    acc: f.acc,
    battery: f.battery ?? null,
    source: f.source,
    cell: CELL,
  };
}

/** Listens on 127.0.0.1 (any port), prints `{"port":N}` for the parent, and stops on SIGTERM/SIGINT. */
export function serveOnLoopback(http: HttpServer, io: Server): void {
  http.listen(0, '127.0.0.1', () => {
    const a = http.address();
    process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 })}\n`);
  });
  const stop = () => {
    void io.close();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
