// The memory benchmark's baseline: a plain Socket.IO 4 server on node:http, with no auth, store,
// handlers or presence. Each socket joins the rooms the hub would put it in (its own
// `user:`/`device:` room, the family's room, the family's people room for a user, its login
// session's room when it has one), named as the hub names them and taken from the connection's
// query string (role, family, device or user, session), trusted as sent. What it holds per
// connection is then what Socket.IO itself costs; the hub's figures are compared with it.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { familyRoomsOf, rooms } from '../src/contract/rooms.js';
import type { Principal } from '../src/contract/models.js';
import { serveOnLoopback } from './lib/relay-common.js';

const http = createServer();
const io = new Server(http, { serveClient: false });

io.on('connection', (socket) => {
  const q = socket.handshake.query;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const family = str(q.family);
  const p: Principal = q.role === 'watch' ? { kind: 'device', id: str(q.device) } : { kind: 'user', id: str(q.user) };
  const session = str(q.session);
  void socket.join([rooms.of(p), ...(session ? [rooms.session(session)] : []), ...(family ? familyRoomsOf(p, family) : [])]);
});

globalThis.__benchStats = () => ({
  sockets: io.engine.clientsCount,
  rooms: io.of('/').adapter.rooms.size,
});

serveOnLoopback(http, io);
