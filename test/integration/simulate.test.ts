// The watch simulator (src/tools/simulate.ts) against a real hub: it provisions watches, waits for
// binding and consent, walks, raises an SOS and sends AMR voice notes; and its command line
// refuses what it cannot do with a clear message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertView, LocationEvent, MessageView } from '../../src/contract/models.js';
import { main, startSimulator, type Simulator } from '../../src/tools/simulate.js';
import {
  api,
  bindWatch,
  connect,
  createFamily,
  PROVISIONING_KEY,
  registerUser,
  startHub,
  type TestHub,
  waitFor,
} from '../helpers/hub.js';

const capture = () => {
  const lines: string[] = [];
  return { lines, out: { log: (s: string) => lines.push(s), error: (s: string) => lines.push(`ERROR ${s}`) } };
};

describe('npm run simulate', () => {
  let t: TestHub;
  let sim: Simulator | undefined;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(async () => {
    sim?.stop();
    await t.close();
  });

  it('says clearly when the provisioning key is missing, or the watch port is off for --tcp', async () => {
    const a = capture();
    expect(await main([], { HUB_DATA_DIR: '/nonexistent' }, a.out)).toBe(2);
    expect(a.lines.join('\n')).toMatch(/ERROR HUB_PROVISIONING_KEY is not set/);
    const b = capture();
    expect(await main(['--tcp'], { HUB_PROVISIONING_KEY: PROVISIONING_KEY, HUB_WATCH_TCP_PORT: '0' }, b.out)).toBe(2);
    expect(b.lines.join('\n')).toMatch(/--tcp: the hub’s watch port is off/);
    const c = capture();
    expect(await main(['--watches', 'many'], { HUB_PROVISIONING_KEY: PROVISIONING_KEY }, c.out)).toBe(2);
    expect(c.lines.join('\n')).toMatch(/--watches must be a number/);
  });

  it('provisions watches that walk once bound and allowed, raise an SOS and send AMR voice notes', async () => {
    const log: string[] = [];
    sim = await startSimulator({
      url: t.url,
      provisioningKey: PROVISIONING_KEY,
      watches: 2,
      intervalMs: 200,
      lat: 48.8566,
      lng: 2.3522,
      sosAfter: 3,
      voiceEvery: 4,
      log: (l) => log.push(l),
    });
    expect(sim.watches).toHaveLength(2);
    const [first] = sim.watches;
    const owner = await registerUser(t);
    const familyId = await createFamily(t, owner);
    const parent = await connect(t, owner.accessToken);
    await bindWatch(t, owner, familyId, {
      deviceId: first!.deviceId,
      deviceToken: '',
      bindingCode: first!.bindingCode,
      imei: first!.imei,
    });
    await expect.poll(() => first!.state, { timeout: 5000 }).toBe('waiting-consent');
    const located = waitFor<LocationEvent>(parent, 'location', (e) => e.deviceId === first!.deviceId);
    const sos = waitFor<AlertView>(parent, 'alert', (a) => a.type === 'sos', { timeoutMs: 10_000 });
    const voice = waitFor<{ message: MessageView }>(parent, 'chat:message', (e) => e.message.kind === 'voice', {
      timeoutMs: 10_000,
    });
    const r = await api(t, 'PUT', `/v1/families/${familyId}/devices/${first!.deviceId}/permissions`, {
      token: owner.accessToken,
      body: { location: true, camera: false, microphone: true, contacts: false },
    });
    expect(r.status).toBe(200);
    const fix = await located;
    expect(Math.abs(fix.lat - 48.8566)).toBeLessThan(0.01);
    expect((await sos).deviceId).toBe(first!.deviceId);
    const note = (await voice).message;
    expect(note).toMatchObject({
      sender: { kind: 'device', id: first!.deviceId },
      media: { mime: 'audio/amr', durationMs: 2000 },
    });
    // The other watch, never bound, does not walk.
    expect(sim.watches[1]!.state).toBe('unbound');
    expect(log.join('\n')).toMatch(/watch 1: bound, location on: walking/);
  });

  it('--tcp: 3G-protocol watches over TCP walk once bound and allowed, raise an SOS and send TK voice notes', async () => {
    const log: string[] = [];
    const tcp = await startSimulator({
      url: t.url,
      provisioningKey: PROVISIONING_KEY,
      watches: 1,
      intervalMs: 200,
      lat: 48.8566,
      lng: 2.3522,
      sosAfter: 3,
      voiceEvery: 4,
      tcp: { host: '127.0.0.1', port: t.watchPort! },
      log: (l) => log.push(l),
    });
    try {
      const w = tcp.watches[0]!;
      expect(w.watchId).toMatch(/^\d{10}$/);
      const owner = await registerUser(t);
      const familyId = await createFamily(t, owner);
      const parent = await connect(t, owner.accessToken);
      await bindWatch(t, owner, familyId, { bindingCode: w.bindingCode });
      const located = waitFor<LocationEvent>(parent, 'location', (e) => e.deviceId === w.deviceId, { timeoutMs: 10_000 });
      const sos = waitFor<AlertView>(parent, 'alert', (a) => a.type === 'sos' && a.deviceId === w.deviceId, {
        timeoutMs: 15_000,
      });
      const voice = waitFor<{ message: MessageView }>(parent, 'chat:message', (e) => e.message.sender.id === w.deviceId, {
        timeoutMs: 15_000,
      });
      await api(t, 'PUT', `/v1/families/${familyId}/devices/${w.deviceId}/permissions`, {
        token: owner.accessToken,
        body: { location: true, camera: false, microphone: true, contacts: false },
      });
      expect(Math.abs((await located).lat - 48.8566)).toBeLessThan(0.01);
      await sos;
      expect((await voice).message).toMatchObject({ kind: 'voice', media: { mime: 'audio/amr', durationMs: 2000 } });
    } finally {
      tcp.stop();
    }
  });
});
