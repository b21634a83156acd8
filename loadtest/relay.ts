// The baseline: a bare relay on a plain `ws` server. No auth, no store, no validation, no H3.
// It speaks just enough of the Engine.IO v4 / Socket.IO v5 wire format (text packets over a
// websocket) for the very same socket.io-client load to run against it: each watch's
// `location:report` is re-sent as a `location` event of the hub's shape and size to the
// guardian sockets of its family, then acked like the hub acks. Who is who comes from the
// connection's query string (role, family, device), trusted as sent.
import { randomBytes } from 'node:crypto';
import { type WebSocket, WebSocketServer } from 'ws';
import { type RelayedFix, locationEvent } from './lib/relay-common.js';

const PING_INTERVAL_MS = 25_000;
const OPEN = JSON.stringify({ upgrades: [], pingInterval: PING_INTERVAL_MS, pingTimeout: 20_000, maxPayload: 1_000_000 });
const ACK_OK = '[{"ok":true,"accepted":1,"rejected":[]}]';

interface Peer {
  ws: WebSocket;
  role: string;
  family: string;
  device: string;
  connected: boolean;
}

const guardiansByFamily = new Map<string, Set<Peer>>();
const peers = new Set<Peer>();

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1_000_000 });

wss.on('connection', (ws, req) => {
  const q = new URL(req.url ?? '/', 'http://relay').searchParams;
  const peer: Peer = {
    ws,
    role: q.get('role') ?? '',
    family: q.get('family') ?? '',
    device: q.get('device') ?? '',
    connected: false,
  };
  peers.add(peer);
  // Engine.IO OPEN: `0{"sid":…}`.
  ws.send(`0{"sid":"${randomBytes(8).toString('hex')}",${OPEN.slice(1)}`);
  ws.on('message', (data) => onPacket(peer, data.toString()));
  ws.on('close', () => {
    peers.delete(peer);
    guardiansByFamily.get(peer.family)?.delete(peer);
  });
  ws.on('error', () => ws.terminate());
});

function onPacket(peer: Peer, packet: string): void {
  // Engine.IO: 2 ping, 3 pong, 4 message (a Socket.IO packet follows), 1 close.
  if (packet[0] !== '4') {
    if (packet[0] === '1') peer.ws.close();
    return;
  }
  // Socket.IO: 0 CONNECT, 1 DISCONNECT, 2 EVENT `2<ackId>["name",payload]`.
  const type = packet[1];
  if (type === '0') {
    peer.connected = true;
    if (peer.role === 'guardian') {
      let set = guardiansByFamily.get(peer.family);
      if (!set) guardiansByFamily.set(peer.family, (set = new Set()));
      set.add(peer);
    }
    peer.ws.send(`40{"sid":"${randomBytes(8).toString('hex')}"}`);
    return;
  }
  if (type === '1') {
    peer.ws.close();
    return;
  }
  if (type !== '2' || !peer.connected) return;
  const bracket = packet.indexOf('[');
  if (bracket < 0) return;
  const ackId = packet.slice(2, bracket);
  let args: unknown;
  try {
    args = JSON.parse(packet.slice(bracket));
  } catch {
    return;
  }
  if (!Array.isArray(args) || args[0] !== 'location:report' || peer.role !== 'watch') {
    if (ackId)
      peer.ws.send(`43${ackId}[{"ok":false,"error":{"code":"BAD_REQUEST","message":"relay only relays location:report"}}]`);
    return;
  }
  // The hub's `location` event, field for field.
  const event = locationEvent(peer.device, peer.family, args[1] as RelayedFix);
  const out = `42["location",${JSON.stringify(event)}]`;
  const guardians = guardiansByFamily.get(peer.family);
  if (guardians) for (const g of guardians) g.ws.send(out);
  if (ackId) peer.ws.send(`43${ackId}${ACK_OK}`);
}

const pinger = setInterval(() => {
  for (const p of peers) p.ws.send('2');
}, PING_INTERVAL_MS);

wss.on('listening', () => {
  const address = wss.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

const stop = () => {
  clearInterval(pinger);
  for (const p of peers) p.ws.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
