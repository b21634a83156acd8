// Positions without GPS, end to end with the real hub and the real client: a watch located from
// the Wi-Fi its own GPS fixes taught the hub, from an imported cell-tower table, or by an outside
// provider (a real local HTTP server speaking the Google Geolocation API); and a fix nobody can
// place, which is a sign of life only.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocationEvent } from '../../src/contract/models.js';
import { distanceMeters } from '../../src/geo/geometry.js';
import { importCellTowers } from '../../src/tools/cells-import.js';
import { type FreshDatabase, STORE_KINDS, freshDatabaseUrl } from '../helpers/databases.js';
import { type GeolocationServer, startGeolocationServer } from '../helpers/geolocation-server.js';
import {
  type ClientSocket,
  type TestHub,
  api,
  createFamily,
  provisionWatch,
  received,
  registerUser,
  request,
  connect,
  startHub,
  waitFor,
} from '../helpers/hub.js';
import { dLat, dLng, fix, setPermissions, sharingFamily } from '../helpers/location.js';

const HOME = { lat: 48.8566, lng: 2.3522 };
/** The home router and two neighbours', as a watch spells them (any case, hyphens), with SSIDs. */
const HOME_APS = [
  { mac: '0A-11-22-33-44-01', ssid: 'Maison-Dupont' },
  { mac: '0a:11:22:33:44:02', ssid: 'Freebox-7F3A' },
  { mac: '0a:11:22:33:44:03', ssid: 'Livebox-19C2' },
];
const homeWifi = (rssi = [-48, -63, -71]) => HOME_APS.map((ap, i) => ({ ...ap, rssi: rssi[i] }));

/** Two LTE cells of a tower 3 km north-east of home, as OpenCellID lists them. */
const TOWER = { lat: HOME.lat + dLat(2000), lng: HOME.lng + dLng(2000, HOME.lat) };
const CELLS = [
  { mcc: 208, mnc: 1, lac: 40100, cid: 26843545, radio: 'lte' as const, rssi: -85 },
  { mcc: 208, mnc: 1, lac: 40100, cid: 26843546, radio: 'lte' as const, rssi: -95 },
];
const CSV = [
  'radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal',
  `LTE,208,1,40100,26843545,0,${TOWER.lng.toFixed(6)},${TOWER.lat.toFixed(6)},900,40,1,1600000000,1700000000,0`,
  `LTE,208,1,40100,26843546,0,${(TOWER.lng + dLng(150, TOWER.lat)).toFixed(6)},${TOWER.lat.toFixed(6)},1200,25,1,1600000000,1700000000,0`,
  // Not this watch's: another operator's cell with the same ids is a different cell.
  `LTE,208,10,40100,26843545,0,2.9,49.2,500,40,1,1600000000,1700000000,0`,
].join('\n');

/** Every `location` event the socket got, after a round trip on it that orders us behind them. */
async function heard(s: ClientSocket, familyId: string): Promise<LocationEvent[]> {
  await request(s, 'location:latest', { familyId });
  return received<LocationEvent>(s, 'location');
}

/** The watch's stored fixes, positions and signs of life, with what they heard (the export's read). */
async function storedFixes(t: TestHub, deviceId: string) {
  const out: Record<string, unknown>[] = [];
  for await (const f of t.store.privacy.fixes(deviceId, 0)) out.push(f);
  return out;
}

/** The family's watch reports GPS fixes at home that hear the home access points. */
async function teachHome(t: TestHub, a: Awaited<ReturnType<typeof sharingFamily>>, n = 4): Promise<number> {
  let ts = t.clock.now();
  for (let i = 0; i < n; i++) {
    const offset = [
      [4, -3],
      [-6, 2],
      [1, 7],
      [-2, -5],
    ][i % 4]!;
    const r = await request(a.watchSocket, 'location:report', {
      ...fix({ ts: ts++, lat: HOME.lat + dLat(offset[0]!), lng: HOME.lng + dLng(offset[1]!, HOME.lat), acc: 8 }),
      wifi: homeWifi(),
    });
    expect(r).toMatchObject({ ok: true, accepted: 1 });
  }
  return ts;
}

describe.each(STORE_KINDS)('positions without GPS (%s)', (kind) => {
  let t: TestHub;
  let db: FreshDatabase;
  let provider: GeolocationServer;
  beforeAll(async () => {
    provider = await startGeolocationServer();
    db = await freshDatabaseUrl(kind);
    t = await startHub({
      databaseUrl: db.url,
      env: {
        HUB_GEOLOCATION_URL: provider.url,
        HUB_GEOLOCATION_API_KEY: 'test-geolocation-key',
        // Offline after 10 s of silence, checked every 2.5 s.
        HUB_LOCATION_INTERVAL_S: '5',
        HUB_OFFLINE_AFTER_INTERVALS: '2',
        HUB_SOCKET_RATE_POINTS: '1000',
      },
    });
    const summary = await importCellTowers(Readable.from([CSV]), t.store.cellTowers);
    expect(summary).toMatchObject({ imported: 3, skipped: 0 });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await db?.drop();
  });

  it('locates a watch at home from Wi-Fi alone, learned from its own GPS fixes there, and tells its family', async () => {
    const a = await sharingFamily(t);
    const fence = await api(t, 'POST', `/v1/families/${a.familyId}/geofences`, {
      token: a.owner.accessToken,
      body: { name: 'Home', kind: 'circle', center: HOME, radius: 150 },
    });
    expect(fence.status).toBe(201);
    let ts = await teachHome(t, a);
    // Off to town by GPS (out of the fence), then back home, indoors: no GPS, only what it hears
    // (another spelling, other signal strengths).
    const away = fix({ ts: ts++, lat: HOME.lat + dLat(2000), lng: HOME.lng, acc: 10 });
    expect((await request(a.watchSocket, 'location:report', away)).accepted).toBe(1);
    const located = waitFor<LocationEvent>(a.parentSocket, 'location', (e) => e.source === 'wifi');
    const r = await request(a.watchSocket, 'location:report', {
      ts: ts++,
      source: 'wifi',
      battery: 77,
      wifi: [
        { mac: '0a1122334401', rssi: -52, ssid: 'Maison-Dupont' },
        { mac: '0A:11:22:33:44:02', rssi: -66 },
        { mac: '0a:11:22:33:44:03', rssi: -75 },
      ],
    });
    expect(r).toEqual({ ok: true, accepted: 1, rejected: [] });
    const e = await located;
    expect(e).toMatchObject({ deviceId: a.deviceId, familyId: a.familyId, source: 'wifi', battery: 77 });
    expect(distanceMeters(e, HOME)).toBeLessThan(40);
    // Honest: never better than 15 m from Wi-Fi, and not a cell's kilometre either.
    expect(e.acc).toBeGreaterThanOrEqual(15);
    expect(e.acc).toBeLessThanOrEqual(80);
    expect(Number.isInteger(e.acc)).toBe(true);
    // It is the newest position, and it feeds the fences with its accuracy like a GPS fix.
    const latest = await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
    expect(latest.positions).toEqual([e]);
    // GPS left the fence; the Wi-Fi fix, judged with its accuracy, brings the watch back in.
    expect(received(a.parentSocket, 'geofence').map((g: { transition: string; ts: number }) => [g.transition, g.ts])).toEqual([
      ['exit', away.ts],
      ['enter', e.ts],
    ]);
    // Placed locally: the outside provider was not asked, and what the watch heard is kept.
    expect(provider.requests.filter((q) => q.raw.includes('0a:11:22:33:44:01'))).toEqual([]);
    const stored = (await storedFixes(t, a.deviceId)).at(-1)!;
    expect(stored).toMatchObject({ source: 'wifi', lat: e.lat, lng: e.lng, acc: e.acc });
    expect(stored.wifi).toEqual([
      { mac: '0a:11:22:33:44:01', rssi: -52 },
      { mac: '0a:11:22:33:44:02', rssi: -66 },
      { mac: '0a:11:22:33:44:03', rssi: -75 },
    ]);
    expect(JSON.stringify(stored)).not.toContain('Maison');
  });

  it('never locates a watch with another family’s learned access points', async () => {
    const a = await sharingFamily(t);
    await teachHome(t, a);
    const b = await sharingFamily(t);
    provider.on('0a:11:22:33:44:01', { kind: 'not_found' });
    const r = await request(b.watchSocket, 'location:report', { ts: t.clock.now(), source: 'wifi', wifi: homeWifi() });
    expect(r.accepted).toBe(1);
    await t.hub.services.location.service.idle();
    expect(await heard(b.parentSocket, b.familyId)).toEqual([]);
  });

  it('locates a fix with only cells from the imported tower table, with a cell’s accuracy', async () => {
    const a = await sharingFamily(t);
    const fence = (name: string, radius: number) =>
      api(t, 'POST', `/v1/families/${a.familyId}/geofences`, {
        token: a.owner.accessToken,
        body: { name, kind: 'circle', center: TOWER, radius },
      });
    const wide = await fence('Town', 5000);
    expect((await fence('Block', 400)).status).toBe(201);
    // Just out of both fences by GPS first; then only cells.
    const ts = t.clock.now();
    const away = fix({ ts, lat: TOWER.lat + dLat(5200), lng: TOWER.lng, acc: 10 });
    expect((await request(a.watchSocket, 'location:report', away)).accepted).toBe(1);
    const located = waitFor<LocationEvent>(a.parentSocket, 'location');
    const r = await request(a.watchSocket, 'location:report', { ts: ts + 1, source: 'cell', battery: 60, cells: CELLS });
    expect(r).toEqual({ ok: true, accepted: 1, rejected: [] });
    const e = await located;
    expect(e).toMatchObject({ source: 'cell', battery: 60 });
    expect(distanceMeters(e, TOWER)).toBeLessThan(300);
    // The cells' ranges (900 m, 1.2 km), not a GPS-like claim.
    expect(e.acc).toBeGreaterThanOrEqual(900);
    expect(e.acc).toBeLessThanOrEqual(2000);
    // Geofences judge it with that accuracy: inside the town, undecided for the block.
    await request(a.parentSocket, 'location:latest', { familyId: a.familyId });
    expect(
      received(a.parentSocket, 'geofence').map((g: { geofenceId: string; transition: string }) => [g.geofenceId, g.transition]),
    ).toEqual([[wide.body.id, 'enter']]);
    expect(provider.requests.filter((q) => q.raw.includes('26843545'))).toEqual([]);
  });

  it('keeps a fix nobody can place as a sign of life: stored, not told, not the newest position, but heard from', async () => {
    const a = await sharingFamily(t);
    const gps = fix({ ts: t.clock.now(), lat: HOME.lat, lng: HOME.lng, acc: 9 });
    expect((await request(a.watchSocket, 'location:report', gps)).accepted).toBe(1);
    const before = await heard(a.parentSocket, a.familyId);
    expect(before).toHaveLength(1);
    // 8 s later, indoors somewhere unknown to the family, the table and the provider.
    t.clock.advance(8000);
    const unknown = [
      { mac: '0a:99:00:00:00:01', rssi: -60, ssid: 'Cafe du Coin' },
      { mac: '0a:99:00:00:00:02', rssi: -70 },
    ];
    const cells = [{ mcc: 208, mnc: 1, lac: 40100, cid: 999, radio: 'lte' as const }];
    provider.on('0a:99:00:00:00:01', { kind: 'not_found' });
    const ts = t.clock.now();
    const r = await request(a.watchSocket, 'location:report', { ts, source: 'wifi', battery: 5, wifi: unknown, cells });
    expect(r).toEqual({ ok: true, accepted: 1, rejected: [] });
    await provider.arrived('0a:99:00:00:00:01');
    await t.hub.services.location.service.idle();

    // Stored without a position (never 0,0), with what it heard.
    const stored = (await storedFixes(t, a.deviceId)).find((f) => f.ts === ts)!;
    expect(stored).toMatchObject({ lat: null, lng: null, acc: null, cell: null, source: 'wifi', battery: 5 });
    expect(stored.cells).toEqual([{ mcc: 208, mnc: 1, lac: 40100, cid: 999, radio: 'lte' }]);
    // Not broadcast, not the newest position, not in the track, no low-battery alert from it.
    expect(await heard(a.parentSocket, a.familyId)).toEqual(before);
    expect((await request(a.parentSocket, 'location:latest', { familyId: a.familyId })).positions).toEqual(before);
    const history = await request(a.parentSocket, 'location:history', {
      deviceId: a.deviceId,
      from: 0,
      to: t.clock.now(),
    });
    expect(history.fixes.map((f: { ts: number }) => f.ts)).toEqual([gps.ts]);
    expect(received(a.parentSocket, 'alert')).toEqual([]);

    // Offline detection heard it: 13 s after the GPS fix (silence: 10 s) but 5 s after the sign
    // of life, no offline alert, through at least one check…
    t.clock.advance(5000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(received(a.parentSocket, 'alert').filter((x: { type: string }) => x.type === 'offline')).toEqual([]);
    // …until the watch is silent for long after it too; the alert has the last real position.
    const offline = waitFor(a.parentSocket, 'alert', (x: { type: string; deviceId: string }) => x.type === 'offline');
    t.clock.advance(6000);
    expect(await offline).toMatchObject({ deviceId: a.deviceId, lat: HOME.lat, lng: HOME.lng });
  }, 20_000);

  it('asks the outside provider only what local resolvers cannot place, and tells the family its answer', async () => {
    const a = await sharingFamily(t);
    const aps = [
      { mac: '0a:77:00:00:00:01', rssi: -58, ssid: 'Ecole-Jules-Ferry' },
      { mac: '0a:77:00:00:00:02', rssi: -67, ssid: 'Ecole-Invites_nomap' },
      { mac: '0a:77:00:00:00:03', rssi: -73 },
    ];
    const school = { lat: 48.8606, lng: 2.3376 };
    provider.on('0a:77:00:00:00:01', { kind: 'answer', ...school, accuracy: 24.2 });
    const located = waitFor<LocationEvent>(a.parentSocket, 'location');
    const ts = t.clock.now();
    const r = await request(a.watchSocket, 'location:report', { ts, source: 'wifi', wifi: aps, cells: [CELLS[0]!] });
    expect(r).toEqual({ ok: true, accepted: 1, rejected: [] });
    // The tower table knew the cell, but learned Wi-Fi comes first and there is none: the cell
    // answers locally, so the provider is not asked for this one.
    const first = await located;
    expect(first.source).toBe('cell');
    expect(provider.requests.filter((q) => q.raw.includes('0a:77:00:00:00:01'))).toEqual([]);

    // Without a cell the table knows, the provider is asked; the family hears its answer.
    const fromProvider = waitFor<LocationEvent>(a.parentSocket, 'location');
    const r2 = await request(a.watchSocket, 'location:report', { ts: ts + 1, source: 'wifi', battery: 41, wifi: aps });
    expect(r2.accepted).toBe(1);
    const e = await fromProvider;
    expect(e).toMatchObject({ ts: ts + 1, source: 'wifi', lat: school.lat, lng: school.lng, acc: 25, battery: 41 });
    const stored = (await storedFixes(t, a.deviceId)).find((f) => f.ts === ts + 1)!;
    expect(stored).toMatchObject({ lat: school.lat, lng: school.lng, acc: 25, source: 'wifi', cell: e.cell });
    // A position the hub worked out teaches the learner nothing: only the watch's own GPS does.
    const learned = await t.hub.services.location.positioning.accessPoints.estimates(a.familyId);
    expect([...learned.keys()].filter((mac) => mac.startsWith('0a:77'))).toEqual([]);

    // What the provider received: identifiers and signal only, the opted-out AP left out; no
    // watch, family or user id, no SSID, no time, no position.
    const q = await provider.arrived('0a:77:00:00:00:01');
    expect(q.method).toBe('POST');
    expect(new URL(q.url, 'http://x').searchParams.get('key')).toBe('test-geolocation-key');
    expect(q.body).toEqual({
      considerIp: false,
      wifiAccessPoints: [
        { macAddress: '0a:77:00:00:00:01', signalStrength: -58 },
        { macAddress: '0a:77:00:00:00:03', signalStrength: -73 },
      ],
    });
    for (const secret of [a.deviceId, a.familyId, a.watch.imei, a.owner.id, 'Ecole', 'ssid', String(ts + 1)]) {
      expect(q.raw + q.url + JSON.stringify(q.headers)).not.toContain(secret);
    }
  });
});

describe('positions without GPS, no outside provider configured', () => {
  let t: TestHub;
  let provider: GeolocationServer;
  beforeAll(async () => {
    provider = await startGeolocationServer();
    t = await startHub();
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  it('asks no provider: an unknown place stays a sign of life', async () => {
    const a = await sharingFamily(t);
    provider.on('0a:55:00:00:00:01', { kind: 'answer', lat: 1, lng: 1, accuracy: 10 });
    const ts = Date.now();
    const wifi = [
      { mac: '0a:55:00:00:00:01', rssi: -60 },
      { mac: '0a:55:00:00:00:02', rssi: -61 },
    ];
    const r = await request(a.watchSocket, 'location:report', { ts, source: 'wifi', wifi });
    expect(r).toEqual({ ok: true, accepted: 1, rejected: [] });
    await t.hub.services.location.service.idle();
    expect(await heard(a.parentSocket, a.familyId)).toEqual([]);
    expect((await storedFixes(t, a.deviceId)).map((f) => [f.ts, f.lat])).toEqual([[ts, null]]);
    expect(provider.requests).toEqual([]);
  });

  it('refuses half a position and a position-less fix that hears nothing', async () => {
    const a = await sharingFamily(t);
    const r = await request(a.watchSocket, 'location:report', {
      fixes: [
        { ts: Date.now(), lat: 48.1, source: 'wifi', wifi: homeWifi() },
        { ts: Date.now() + 1, source: 'wifi' },
        { ts: Date.now() + 2, source: 'gps', cells: [CELLS[0]!] },
        { ts: Date.now() + 3, source: 'wifi', wifi: [{ mac: '01:00:5e:00:00:fb' }] },
        { ts: Date.now() + 4, source: 'cell', cells: [{ ...CELLS[0]!, cid: 2 ** 28, radio: 'lte' }] },
        { ts: Date.now() + 5, lat: 0, lng: 0, acc: 10, source: 'gps' },
      ],
    });
    expect(r.accepted).toBe(1);
    expect(r.rejected.map((x: { index: number; message: string }) => [x.index, x.message])).toEqual([
      [0, 'lng: required: lat, lng and acc go together; acc: required: lat, lng and acc go together'],
      [1, 'a fix without lat/lng/acc must carry cells or wifi'],
      [2, 'a fix without lat/lng/acc has source wifi or cell'],
      [3, expect.stringContaining('unicast MAC')],
      [4, expect.stringContaining('cid must be at most')],
    ]);
  });
});

describe('a slow, failing or outdated outside provider', () => {
  let t: TestHub;
  let provider: GeolocationServer;
  beforeAll(async () => {
    provider = await startGeolocationServer();
    t = await startHub({
      env: { HUB_GEOLOCATION_URL: provider.url, HUB_GEOLOCATION_TIMEOUT_MS: '8000', HUB_SOCKET_RATE_POINTS: '1000' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  const wifiOf = (n: number) => [
    { mac: `0a:33:00:00:0${n}:01`, rssi: -60 },
    { mac: `0a:33:00:00:0${n}:02`, rssi: -70 },
  ];

  it('delays no ack and no other watch while it hangs, and keeps each watch’s order when it answers', async () => {
    const a = await sharingFamily(t);
    const b = await sharingFamily(t);
    provider.on('0a:33:00:00:01:01', { kind: 'hold', then: { kind: 'answer', lat: 48.87, lng: 2.33, accuracy: 40 } });
    provider.on('0a:33:00:00:02:01', { kind: 'hold', then: { kind: 'answer', lat: 48.88, lng: 2.34, accuracy: 40 } });
    const ts = Date.now();
    // A's first fix waits for the provider; the ack does not.
    const started = performance.now();
    const r1 = await request(a.watchSocket, 'location:report', { ts, source: 'wifi', wifi: wifiOf(1) });
    expect(r1).toEqual({ ok: true, accepted: 1, rejected: [] });
    await provider.arrived('0a:33:00:00:01:01');
    // Another watch's GPS report is acked and told while the provider still hangs.
    const bHeard = waitFor<LocationEvent>(b.parentSocket, 'location');
    expect((await request(b.watchSocket, 'location:report', fix({ ts }))).accepted).toBe(1);
    expect((await bHeard).deviceId).toBe(b.deviceId);
    // So is another of A's, by Wi-Fi through the provider (a second lookup, also held), and then a GPS one.
    expect((await request(a.watchSocket, 'location:report', { ts: ts + 1, source: 'wifi', wifi: wifiOf(2) })).accepted).toBe(1);
    await provider.arrived('0a:33:00:00:02:01');
    const gps = fix({ ts: ts + 2, lat: 48.9, lng: 2.3 });
    const aGps = waitFor<LocationEvent>(a.parentSocket, 'location');
    expect((await request(a.watchSocket, 'location:report', gps)).accepted).toBe(1);
    expect(await aGps).toMatchObject({ ts: ts + 2, source: 'gps' });
    expect(performance.now() - started).toBeLessThan(3000);

    // The provider answers now: both positions are stored, but the family never sees time go
    // backwards: they are older than the GPS fix it was told, so nothing more is broadcast.
    provider.release();
    await t.hub.services.location.service.idle();
    expect((await heard(a.parentSocket, a.familyId)).map((e) => [e.ts, e.source])).toEqual([[ts + 2, 'gps']]);
    const stored = await storedFixes(t, a.deviceId);
    expect(stored.map((f) => [f.ts, f.source, f.lat])).toEqual([
      [ts, 'wifi', 48.87],
      [ts + 1, 'wifi', 48.88],
      [ts + 2, 'gps', 48.9],
    ]);
  }, 20_000);

  it('leaves a fix a sign of life when the provider fails, and tells nobody', async () => {
    const a = await sharingFamily(t);
    provider.on('0a:33:00:00:03:01', { kind: 'fail', status: 503 });
    const ts = Date.now();
    expect((await request(a.watchSocket, 'location:report', { ts, source: 'wifi', wifi: wifiOf(3) })).accepted).toBe(1);
    await provider.arrived('0a:33:00:00:03:01');
    await t.hub.services.location.service.idle();
    expect(await heard(a.parentSocket, a.familyId)).toEqual([]);
    expect((await storedFixes(t, a.deviceId)).map((f) => [f.ts, f.lat])).toEqual([[ts, null]]);
  });

  it('stores nothing and asks nothing while location is off', async () => {
    const a = await sharingFamily(t);
    await setPermissions(t, a.owner.accessToken, a.familyId, a.deviceId, false);
    provider.on('0a:33:00:00:04:01', { kind: 'answer', lat: 48.8, lng: 2.3, accuracy: 30 });
    const r = await request(a.watchSocket, 'location:report', {
      fixes: [
        { ts: Date.now(), source: 'wifi', wifi: wifiOf(4) },
        { ...fix(), wifi: wifiOf(4) },
      ],
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'CONSENT_REQUIRED' } });
    await t.hub.services.location.service.idle();
    expect(await storedFixes(t, a.deviceId)).toEqual([]);
    expect(await t.store.fixObservations.between(a.deviceId, 0, Date.now(), 10)).toEqual([]);
    expect(provider.requests.filter((q) => q.raw.includes('0a:33:00:00:04:01'))).toEqual([]);
    expect((await t.hub.services.location.positioning.accessPoints.estimates(a.familyId)).size).toBe(0);
  });

  it('tells the old family nothing when the watch is re-bound while the provider answers', async () => {
    const a = await sharingFamily(t);
    provider.on('0a:33:00:00:05:01', { kind: 'hold', then: { kind: 'answer', lat: 48.85, lng: 2.36, accuracy: 30 } });
    const ts = Date.now();
    expect((await request(a.watchSocket, 'location:report', { ts, source: 'wifi', wifi: wifiOf(5) })).accepted).toBe(1);
    await provider.arrived('0a:33:00:00:05:01');
    // The owner unbinds the watch; another family binds it and shares its location.
    const del = await api(t, 'DELETE', `/v1/families/${a.familyId}/devices/${a.deviceId}`, { token: a.owner.accessToken });
    expect(del.status).toBe(204);
    const again = await provisionWatch(t, a.watch.imei);
    const owner = await registerUser(t, 'B owner');
    const familyId = await createFamily(t, owner, 'Family B');
    const bind = await api(t, 'POST', `/v1/families/${familyId}/devices`, {
      token: owner.accessToken,
      body: { bindingCode: again.bindingCode, childName: 'Sam' },
    });
    expect(bind.status).toBe(201);
    await setPermissions(t, owner.accessToken, familyId, a.deviceId, true);
    const bParent = await connect(t, owner.accessToken);

    provider.release('0a:33:00:00:05:01');
    await t.hub.services.location.service.idle();
    expect(received(a.parentSocket, 'location')).toEqual([]);
    expect(await heard(bParent, familyId)).toEqual([]);
    // The old binding's fix stays as it was accepted: a sign of life, placed for nobody.
    expect((await storedFixes(t, a.deviceId)).map((f) => [f.ts, f.lat])).toEqual([[ts, null]]);
  }, 20_000);
});

describe('the family’s learned access points', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub({ env: { HUB_SOCKET_RATE_POINTS: '1000' } });
  });
  afterAll(() => t?.close());

  it('are in the owner’s export of a watch, with each fix’s cells and access points (no SSIDs)', async () => {
    const a = await sharingFamily(t);
    await teachHome(t, a);
    const ts = t.clock.now() + 10;
    expect((await request(a.watchSocket, 'location:report', { ts, source: 'cell', cells: [CELLS[0]!] })).accepted).toBe(1);
    // Learned estimates are written back in batches (every 10 s, and at shutdown).
    await t.hub.services.location.positioning.accessPoints.flush();
    const r = await api(t, 'GET', `/v1/families/${a.familyId}/devices/${a.deviceId}/export`, { token: a.owner.accessToken });
    expect(r.status).toBe(200);
    expect(r.body.familyAccessPoints.map((ap: { mac: string }) => ap.mac)).toEqual(
      HOME_APS.map((ap) => ap.mac.toLowerCase().replaceAll('-', ':')),
    );
    for (const ap of r.body.familyAccessPoints) {
      expect(distanceMeters(ap, HOME)).toBeLessThan(30);
      expect(ap).toMatchObject({ count: expect.any(Number), first_seen: expect.any(Number), last_seen: expect.any(Number) });
    }
    expect(r.body.fixes).toHaveLength(5);
    expect(r.body.fixes[0].wifi).toHaveLength(3);
    expect(r.body.fixes[4]).toMatchObject({ ts, source: 'cell', cells: [{ mcc: 208, mnc: 1, lac: 40100, cid: 26843545 }] });
    expect(JSON.stringify(r.body)).not.toMatch(/Maison|Freebox|Livebox|ssid/);
  });

  it('go with the family when its last owner deletes the account, from the store and from memory', async () => {
    const a = await sharingFamily(t);
    await teachHome(t, a, 2);
    await t.hub.services.location.positioning.accessPoints.flush();
    // Learned since the last write-back: held in memory only.
    await teachHome(t, a, 2);
    const learner = t.hub.services.location.positioning.accessPoints;
    expect((await learner.estimates(a.familyId)).size).toBe(3);
    const del = await api(t, 'DELETE', '/v1/me', { token: a.owner.accessToken, body: { password: a.owner.password } });
    expect(del.status).toBe(204);
    // Nothing held locates or is written again (checked before any write-back could notice).
    expect((await learner.estimates(a.familyId)).size).toBe(0);
    await learner.flush();
    expect(await t.store.accessPoints.forFamily(a.familyId, undefined, 10)).toEqual([]);
    // The watch's fixes went with the family, and their cells and access points with them.
    expect(await t.store.fixObservations.between(a.deviceId, 0, t.clock.now() + 1000, 10)).toEqual([]);
  });
});
