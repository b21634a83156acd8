// The simulator's 3G-protocol watches over TCP (`npm run simulate -- --tcp`), apart from the
// Socket.IO ones: they speak another protocol, through loadtest's watch simulator.
import { randomInt } from 'node:crypto';
import { amrNote, provision, type Simulator, type SimulatedWatch, type SimulatorOptions, walk } from './simulate-watch.js';

/**
 * 3G-protocol watches over TCP (the protocol simulator of loadtest/lib/watch-sim.ts, which speaks
 * through the hub's own codec). The protocol has no answers to positions, so a watch cannot tell
 * whether it is bound: it walks from the start, and the hub keeps nothing until it is bound with
 * its location permission on. It echoes commands as real watches do.
 */
export async function startTcpSimulator(opts: SimulatorOptions, tcp: { host: string; port: number }): Promise<Simulator> {
  const { WatchSim } = await import('../../loadtest/lib/watch-sim.js');
  const watches: SimulatedWatch[] = [];
  const timers: NodeJS.Timeout[] = [];
  const sims: InstanceType<typeof WatchSim>[] = [];
  for (let n = 1; n <= opts.watches; n++) {
    const watchId = String(randomInt(1_000_000_000, 9_999_999_999));
    const p = await provision(opts, n, watchId);
    const w: SimulatedWatch = {
      deviceId: p.deviceId,
      bindingCode: p.bindingCode,
      imei: p.imei,
      watchId,
      familyId: undefined,
      state: 'walking',
      positions: 0,
    };
    watches.push(w);
    const name = `watch ${n}`;
    const sim = new WatchSim({
      id: watchId,
      positionOnLocate: { valid: true, ...walk(opts, n, opts.watches, 0), satellites: 8 },
      onDownlink: (f) => {
        if (f.kind === 'text') opts.log(`${name}: message from the family: ${f.text}`);
        else if (f.kind === 'voice') opts.log(`${name}: voice from the family (${f.audio.length} bytes of AMR-NB)`);
        else if (f.kind !== 'reply') opts.log(`${name}: ${f.type} from the hub (echoed)`);
      },
    });
    sims.push(sim);
    await sim.connect(tcp.host, tcp.port);
    await sim.init();
    let battery = 95 - n;
    const step = async (): Promise<void> => {
      if (!sim.connected) return;
      const at = walk(opts, n, opts.watches, w.positions);
      if (w.positions % 20 === 19) battery = Math.max(5, battery - 1);
      if (w.positions % 5 === 0) await sim.heartbeat(battery);
      await sim.position({ valid: true, ...at, satellites: 6 + randomInt(5), battery });
      w.positions++;
      if (opts.sosAfter > 0 && w.positions === opts.sosAfter) {
        await sim.alarm('sos', { valid: true, ...at, satellites: 8, battery });
        opts.log(`${name}: SOS (AL frame) sent`);
      }
      if (opts.voiceEvery > 0 && w.positions % opts.voiceEvery === 0) {
        await sim.voice(amrNote(2));
        opts.log(`${name}: voice note (TK frame) sent`);
      }
    };
    timers.push(setInterval(() => void step().catch((err: unknown) => opts.log(`${name}: ${String(err)}`)), opts.intervalMs));
    void step().catch(() => undefined);
  }
  return {
    watches,
    stop() {
      timers.forEach(clearInterval);
      sims.forEach((s) => void s.close());
    },
  };
}
