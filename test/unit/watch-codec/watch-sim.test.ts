// The simulator against a small real TCP server built from the codec, as the gateway will be:
// splitter → decodeFrame → replyFor, and downlinks through encodeDownlink.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WatchSim } from '../../../loadtest/lib/watch-sim.js';
import {
  decodeFrame,
  encodeDownlink,
  FrameSplitter,
  replyFor,
  VoiceAssembler,
  type Downlink,
  type WatchFrame,
} from '../../../src/watch/codec/index.js';

/** A hub stand-in: answers what the protocol says to answer, records every decoded frame, sends downlinks on demand. */
class MiniHub {
  readonly frames: WatchFrame[] = [];
  readonly assembled: Buffer[] = [];
  private server: Server;
  private socket: Socket | null = null;
  private waiters: { match: (f: WatchFrame) => boolean; resolve: (f: WatchFrame) => void }[] = [];
  private seen = 0;
  port = 0;

  constructor() {
    this.server = createServer((socket) => {
      this.socket = socket;
      const splitter = new FrameSplitter();
      const voice = new VoiceAssembler();
      socket.on('data', (chunk) => {
        for (const raw of splitter.push(chunk)) {
          const r = decodeFrame(raw);
          if (!r.ok) continue;
          const reply = replyFor(r.frame.header, r.frame.type);
          if (reply) socket.write(reply);
          if (r.frame.kind === 'voice-chunk') {
            const done = voice.add(r.frame);
            if (done.status === 'complete') this.assembled.push(done.audio);
          }
          this.frames.push(r.frame);
          const w = this.waiters.find((x) => x.match(r.frame));
          if (w) {
            this.waiters = this.waiters.filter((x) => x !== w);
            w.resolve(r.frame);
          }
        }
      });
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      }),
    );
  }

  /** The next frame (after those already returned) of this kind that passes `predicate`. */
  next<K extends WatchFrame['kind']>(kind: K, predicate: (f: Extract<WatchFrame, { kind: K }>) => boolean = () => true) {
    const match = (f: WatchFrame) => f.kind === kind && predicate(f as Extract<WatchFrame, { kind: K }>);
    const i = this.frames.slice(this.seen).findIndex(match);
    if (i >= 0) {
      const f = this.frames[this.seen + i]!;
      this.seen += i + 1;
      return Promise.resolve(f as Extract<WatchFrame, { kind: K }>);
    }
    return new Promise<Extract<WatchFrame, { kind: K }>>((resolve) => {
      this.waiters.push({
        match,
        resolve: (f) => {
          this.seen = this.frames.length;
          resolve(f as Extract<WatchFrame, { kind: K }>);
        },
      });
    });
  }

  send(to: { maker: string; id: string; index: string | null }, d: Downlink): void {
    const r = encodeDownlink(to, d);
    if (!r.ok) throw new Error(r.error.message);
    for (const f of r.frames) this.socket!.write(f.bytes);
  }

  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const AMR = Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 37) % 256))]);
const JPEG = Buffer.from([0xff, 0xd8, 0x5b, 0x5d, 0x2c, 0x2a, 0x7d, 0xff, 0xd9]);
const watch = { maker: '3G', id: '4700609403', index: null };

describe('WatchSim against a codec-built server', () => {
  let hub: MiniHub;
  let sim: WatchSim;

  beforeEach(async () => {
    hub = new MiniHub();
    await hub.listen();
  });
  afterEach(async () => {
    await sim?.close();
    await hub.close();
  });

  it('logs in, beats, reports positions, alarms, voice, photos and health, and gets the replies due', async () => {
    sim = new WatchSim({ id: watch.id });
    await sim.connect('127.0.0.1', hub.port);
    expect(await sim.init()).toMatchObject({ kind: 'reply', content: 'INIT,1' });
    expect((await hub.next('init')).header).toEqual({ maker: '3G', id: '4700609403', index: null, declaredLength: 4 });

    expect(await sim.heartbeat(80, { steps: 1234 })).toMatchObject({ kind: 'reply', type: 'LK' });
    expect(await hub.next('heartbeat')).toMatchObject({ battery: 80, steps: 1234 });

    const ts = Date.UTC(2024, 5, 1, 8, 30, 0);
    await sim.position({
      ts,
      lat: 48.858844,
      lng: 2.294351,
      valid: true,
      battery: 64,
      cells: [{ mcc: 208, mnc: 1, lac: 12345, cid: 67890, rssi: 60 }],
      wifi: [{ ssid: 'Café, [Paris]', mac: '10:20:30:40:50:60', rssi: -61 }],
    });
    const p = (await hub.next('position')).position;
    expect(p).toMatchObject({ ts, valid: true, lat: 48.858844, lng: 2.294351, battery: 64 });
    expect(p.cells).toEqual([{ mcc: 208, mnc: 1, lac: 12345, cid: 67890, rssi: 60 }]);
    expect(p.wifi).toEqual([{ ssid: 'Café, [Paris]', mac: '10:20:30:40:50:60', rssi: -61 }]);

    expect(await sim.alarm(['sos', 'fall'], { battery: 12 })).toMatchObject({ kind: 'reply', type: 'AL' });
    const al = await hub.next('alarm');
    expect(al.position.flags.alerts).toEqual(['sos', 'fall']);
    expect(al.position.valid).toBe(false);

    await sim.voice(AMR);
    expect((await hub.next('voice')).audio).toEqual(AMR);

    await sim.voiceChunked(AMR, 256, 'rec1');
    expect(hub.frames.filter((f) => f.kind === 'voice-chunk')).toHaveLength(3);
    expect(hub.assembled).toEqual([AMR]);

    await sim.photo(JPEG, Date.UTC(2024, 5, 1, 8, 31, 0));
    expect(await hub.next('image')).toMatchObject({ image: JPEG, takenAt: Date.UTC(2024, 5, 1, 8, 31, 0) });

    await sim.health({ heartRate: 72, systolic: 118, diastolic: 77, bodyTempC: 36.6 });
    expect((await hub.next('health')).reading).toEqual({ systolic: 118, diastolic: 77, heartRate: 72 });
    expect((await hub.next('health')).reading).toEqual({ bodyTempC: 36.6 });

    expect(await sim.voiceQuery('TKQ2')).toMatchObject({ kind: 'reply', type: 'TKQ2' });
    expect(sim.counters.framesSent).toBeGreaterThanOrEqual(12);
  });

  it('echoes downlinks as a watch does, locates itself on CR and uploads a photo on rcapture', async () => {
    sim = new WatchSim({
      id: watch.id,
      positionOnLocate: { lat: 1.5, lng: 2.5, valid: true, battery: 90 },
      photoOnCapture: JPEG,
    });
    await sim.connect('127.0.0.1', hub.port);
    await sim.heartbeat();

    hub.send(watch, { type: 'locate' });
    expect(await hub.next('echo')).toMatchObject({ echo: 'CR', command: 'locate' });
    expect((await hub.next('position')).position).toMatchObject({ lat: 1.5, lng: 2.5 });
    expect(await sim.waitForFrame('locate')).toMatchObject({ kind: 'locate', type: 'CR' });

    hub.send(watch, { type: 'photo' });
    expect(await hub.next('echo')).toMatchObject({ echo: 'RCAPTURE', command: 'photo' });
    expect((await hub.next('image')).image).toEqual(JPEG);

    const contacts = Array.from({ length: 7 }, (_, i) => ({ name: `Contact ${i}`, phone: `+3361234560${i}` }));
    hub.send(watch, { type: 'set_contacts', params: { contacts } });
    expect(await hub.next('echo')).toMatchObject({ echo: 'PHB' });
    expect(await hub.next('echo')).toMatchObject({ echo: 'PHB2' });
    const part2 = await sim.waitForFrame('phonebook', (f) => f.kind === 'phonebook' && f.part === 2);
    expect(part2.kind === 'phonebook' && part2.contacts).toEqual(contacts.slice(5));

    hub.send(watch, { type: 'voice_message', audio: AMR });
    expect(await hub.next('echo')).toMatchObject({ echo: 'TK', ok: true });
    const tk = await sim.waitForFrame('TK');
    expect(tk.kind === 'voice' && tk.audio).toEqual(AMR);

    hub.send(watch, { type: 'text_message', text: 'Dinner at 7 🍝' });
    expect(await sim.waitForFrame('text')).toMatchObject({ kind: 'text', text: 'Dinner at 7 🍝' });
    expect(await hub.next('echo')).toMatchObject({ echo: 'MESSAGE' });
  });

  it('stays silent when auto-echo is off, and writes an incrementing INDEX when asked', async () => {
    sim = new WatchSim({ id: '014111001332708', maker: 'ZJ', indexed: true, autoEcho: false });
    await sim.connect('127.0.0.1', hub.port);
    await sim.heartbeat();
    hub.send({ maker: 'ZJ', id: '014111001332708', index: '0001' }, { type: 'find' });
    expect(await sim.waitForFrame('find')).toMatchObject({ kind: 'find' });
    await sim.heartbeat(50);
    // Had the watch echoed FIND, that echo would have reached the hub before this second LK.
    expect(hub.frames.map((f) => [f.kind, f.header.index])).toEqual([
      ['heartbeat', '0001'],
      ['heartbeat', '0002'],
    ]);
    expect(sim.received.map((r) => r.frame?.kind)).toEqual(['reply', 'find', 'reply']);
    expect(sim.received[0]!.raw.toString()).toBe('[ZJ*014111001332708*0001*0002*LK]');
  });

  it('rejects a wait that times out, and pending waits when the connection closes', async () => {
    sim = new WatchSim({ id: watch.id });
    await sim.connect('127.0.0.1', hub.port);
    await expect(sim.waitForFrame('FIND', undefined, 50)).rejects.toThrow(/no FIND within 50 ms/);
    const pending = sim.waitForFrame('CR', undefined, 5000);
    await hub.close();
    await expect(pending).rejects.toThrow(/closed/);
    expect(sim.connected).toBe(false);
  });
});
