// A second baseline: the bare relay's job (relay.ts) done by a plain Socket.IO 4 server, as the hub
// is built. No auth, store, validation or H3: each watch's `location:report` is re-sent as a
// `location` event of the hub's shape and size to its family's guardians room, through Socket.IO's
// room broadcast as the hub sends it, then acked like the hub acks. Who is who comes from the
// connection's query string (role, family, device), trusted as sent. Between the bare relay and
// the hub it tells apart what Socket.IO itself costs per update from what the hub adds.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { rooms } from '../src/contract/rooms.js';
import { type RelayedFix, locationEvent, serveOnLoopback } from './lib/relay-common.js';

const ACK_OK = { ok: true, accepted: 1, rejected: [] };

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
  socket.on('location:report', (f: RelayedFix, ack?: (r: unknown) => void) => {
    io.to(rooms.guardians(family)).emit('location', locationEvent(device, family, f));
    if (typeof ack === 'function') ack(ACK_OK);
  });
});

serveOnLoopback(http, io);
