// The simulator's Socket.IO watches (the default): they speak the app contract's watch events,
// learn from the acks whether they are bound, answer commands and decline calls.
import { randomInt } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../contract/events.js';
import { amrNote, provision, type Simulator, type SimulatedWatch, type SimulatorOptions } from './simulate-watch.js';

type WatchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

async function ask(
  socket: WatchSocket,
  event: string,
  payload: unknown,
): Promise<{ ok: boolean; error?: { code: string; message: string }; [k: string]: unknown }> {
  return (socket as unknown as Socket).timeout(10_000).emitWithAck(event, payload);
}

/** Simulated Socket.IO watches: provisioned, then walking once bound with their location permission on. */
export async function startSocketIoSimulator(opts: SimulatorOptions): Promise<Simulator> {
  let io: typeof import('socket.io-client').io;
  try {
    ({ io } = await import('socket.io-client'));
  } catch {
    throw new Error('socket.io-client is not installed (it is a development dependency): run `npm install` in a checkout');
  }
  const watches: SimulatedWatch[] = [];
  const timers: NodeJS.Timeout[] = [];
  const sockets: WatchSocket[] = [];

  for (let n = 1; n <= opts.watches; n++) {
    const p = await provision(opts, n);
    const w: SimulatedWatch = {
      deviceId: p.deviceId,
      bindingCode: p.bindingCode,
      imei: p.imei,
      familyId: undefined,
      state: 'unbound',
      positions: 0,
    };
    watches.push(w);
    const socket: WatchSocket = io(opts.url, { auth: { token: p.deviceToken }, transports: ['websocket'] });
    sockets.push(socket);
    const name = `watch ${n}`;
    socket.on('connect_error', (err) => opts.log(`${name}: cannot connect: ${err.message}`));
    socket.on('chat:message', ({ message }) => {
      w.familyId ??= message.conversationId;
      if (message.sender.kind === 'user')
        opts.log(`${name}: message from the family (${message.kind}${message.text ? `: ${message.text}` : ''})`);
    });
    socket.on('binding:code', (e) => {
      w.state = 'unbound';
      w.familyId = undefined;
      opts.log(`${name}: unbound; new binding code ${e.bindingCode}`);
    });
    socket.on('command', (c) => {
      // A camera-less simulator refuses photos; everything else is "done".
      const status = c.type === 'photo' ? 'rejected' : 'done';
      opts.log(`${name}: command ${c.type} → ${status}`);
      void ask(socket, 'command:result', {
        id: c.id,
        status,
        result: status === 'done' ? { applied: true } : { reason: 'the simulator has no camera' },
      });
      if (c.type === 'locate') void step();
    });
    socket.on('call:ring', (e) => {
      opts.log(`${name}: a call rings; the simulator cannot take calls and declines`);
      void ask(socket, 'call:decline', { callId: e.callId });
    });

    // Each watch walks its own loop (about 400 m across, 20 m a step) around the starting point.
    const angle0 = (2 * Math.PI * n) / opts.watches;
    const radiusDeg = 0.0018;
    let battery = 95 - n;
    const step = async (): Promise<void> => {
      if (!socket.connected) return;
      const a = angle0 + w.positions * 0.05;
      const lat = opts.lat + radiusDeg * Math.sin(a) + 0.002 * Math.cos(angle0);
      const lng = opts.lng + (radiusDeg * Math.cos(a)) / Math.cos((opts.lat * Math.PI) / 180) + 0.003 * Math.sin(angle0);
      if (w.positions % 20 === 19) battery = Math.max(5, battery - 1);
      const r = await ask(socket, 'location:report', {
        ts: Date.now(),
        lat,
        lng,
        acc: 8 + randomInt(20),
        battery,
        source: 'gps',
      });
      const code = r.ok ? undefined : r.error?.code;
      const next = r.ok
        ? 'walking'
        : code === 'CONSENT_REQUIRED'
          ? 'waiting-consent'
          : code === 'FORBIDDEN'
            ? 'unbound'
            : w.state;
      if (next !== w.state) {
        w.state = next;
        opts.log(
          `${name}: ${
            next === 'walking'
              ? 'bound, location on: walking'
              : next === 'waiting-consent'
                ? 'bound; waiting for its location permission (watch settings in the app)'
                : 'not bound to a family'
          }`,
        );
      }
      if (!r.ok) return;
      w.positions++;
      if (opts.sosAfter > 0 && w.positions === opts.sosAfter) {
        const sos = await ask(socket, 'alert:raise', { type: 'sos', ts: Date.now(), lat, lng });
        // The alert's ack names the family: the one way a watch learns its family id.
        const alert = sos.alert as { familyId?: string } | undefined;
        if (alert?.familyId) w.familyId = alert.familyId;
        opts.log(`${name}: SOS raised${sos.ok ? '' : ` (refused: ${sos.error?.message})`}`);
      }
      if (opts.voiceEvery > 0 && w.familyId && w.positions % opts.voiceEvery === 0) {
        const v = await ask(socket, 'chat:send', {
          conversationId: w.familyId,
          clientMsgId: `sim-${w.deviceId}-${w.positions}`,
          kind: 'voice',
          media: { data: amrNote(2), mime: 'audio/amr' },
        });
        opts.log(`${name}: voice note ${v.ok ? 'sent' : `not sent (${v.error?.message})`}`);
      }
    };
    timers.push(setInterval(() => void step().catch((err: unknown) => opts.log(`${name}: ${String(err)}`)), opts.intervalMs));
    socket.on('connect', () => void step().catch(() => undefined));
  }
  return {
    watches,
    stop() {
      timers.forEach(clearInterval);
      sockets.forEach((s) => s.disconnect());
    },
  };
}
