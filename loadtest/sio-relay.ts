// A second baseline: the bare relay's job (relay.ts) done by a plain Socket.IO 4 server, as the hub
// is built. No auth, store, validation or H3: each watch's `location:report` is re-sent as a
// `location` event of the hub's shape and size to its family's guardians room, through Socket.IO's
// room broadcast as the hub sends it, then acked like the hub acks. Who is who comes from the
// connection's query string (role, family, device), trusted as sent. Between the bare relay and
// the hub it tells apart what Socket.IO itself costs per update from what the hub adds.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { rooms } from '../src/contract/rooms.js';

/** The hub's H3 cells are 15 characters; the relay sends a fixed one of the same size. */
const CELL = '891fb466257ffff';
const ACK_OK = { ok: true, accepted: 1, rejected: [] };

interface Fix {
  ts: number;
  lat: number;
  lng: number;
  acc: number;
  battery?: number;
  source: string;
}

const http = createServer();
const io = new Server(http, { serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 1_000_000 });

io.on('connection', (socket) => {
  const q = socket.handshake.query;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const family = str(q.family);
  const device = str(q.device);
  if (q.role === 'guardian') {
    void socket.join(rooms.guardians(family));
    return;
  }
  socket.on('location:report', (f: Fix, ack?: (r: unknown) => void) => {
    io.to(rooms.guardians(family)).emit('location', {
      deviceId: device,
      familyId: family,
      ts: f.ts,
      lat: f.lat,
      lng: f.lng,
      acc: f.acc,
      battery: f.battery ?? null,
      source: f.source,
      cell: CELL,
    });
    if (typeof ack === 'function') ack(ACK_OK);
  });
});

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
