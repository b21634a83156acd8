// Frames as the simulator writes them, read back by the hub's decoder: the two halves must agree.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeUplink,
  FrameSplitter,
  VoiceAssembler,
  type EncodeResult,
  type PositionInput,
  type Uplink,
  type WatchFrame,
} from '../../../src/watch/codec/index.js';
import { as } from './helpers.js';

const from = { maker: '3G', id: '1234567890', index: null };

function bytesOf(r: EncodeResult): Buffer[] {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.frames.map((f) => f.bytes);
}

function roundTrip(u: Uplink): WatchFrame[] {
  return bytesOf(encodeUplink(from, u)).map((b) => {
    const r = decodeFrame(b);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.frame;
  });
}

// Values at the precision the wire carries (6 decimals of a degree, 2 of a km/h, 1 of a degree or metre).
const micro = (max: number) => fc.integer({ min: -max * 1e6, max: max * 1e6 }).map((n) => n / 1e6);
const mac = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .filter((b) => b.some((x) => x !== 0))
  .map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
/** Names with commas, spaces and balanced brackets, but no digits (so no part of one reads as an RSSI or a MAC). */
const ssid = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[A-Za-z ,&'._-]{0,8}$/),
      fc.stringMatching(/^[A-Za-z ,]{0,5}$/).map((s) => `[${s}]`),
    ),
    {
      maxLength: 3,
    },
  )
  .map((p) => p.join(''));
const ALERT_BITS = [0, 16, 17, 20, 21, 22];
const position = fc.record({
  ts: fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 }).map((s) => s * 1000),
  valid: fc.boolean(),
  lat: micro(90),
  lng: micro(180),
  speedKmh: fc.integer({ min: 0, max: 20_000 }).map((n) => n / 100),
  course: fc.integer({ min: 0, max: 3599 }).map((n) => n / 10),
  altitude: fc.integer({ min: -4000, max: 90_000 }).map((n) => n / 10),
  satellites: fc.integer({ min: 0, max: 30 }),
  signal: fc.integer({ min: 0, max: 100 }),
  battery: fc.integer({ min: 0, max: 100 }),
  steps: fc.integer({ min: 0, max: 99_999 }),
  tumbles: fc.integer({ min: 0, max: 999 }),
  // Any status word, but the alert bits come only from `alerts` and `lowBattery`.
  status: fc
    .integer({ min: 0, max: 0xffffffff })
    .map((w) => ALERT_BITS.reduce((x, b) => (Math.floor(x / 2 ** b) % 2 ? x - 2 ** b : x), w)),
  alerts: fc.subarray(['sos', 'fall', 'removed'] as const),
  lowBattery: fc.boolean(),
  mcc: fc.integer({ min: 200, max: 799 }),
  mnc: fc.integer({ min: 0, max: 999 }),
  cells: fc.array(
    fc.record({
      lac: fc.integer({ min: 1, max: 65_535 }),
      cid: fc.integer({ min: 1, max: 2 ** 28 }),
      rssi: fc.integer({ min: 0, max: 200 }),
    }),
    { maxLength: 16 },
  ),
  wifi: fc.array(fc.record({ mac, rssi: fc.integer({ min: -100, max: -1 }), ssid }), { maxLength: 32 }),
});

describe('uplink encode → decode', () => {
  it('property: a position comes back as sent, through any split of the stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(position, fc.constantFrom('UD', 'UD2', 'UD_LTE', 'AL', 'AL_LTE')), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, cuts) => {
          const inputs = items.map(([p, frameType]) => {
            const cells = p.cells.map((c) => ({ mcc: p.mcc, mnc: p.mnc, ...c }));
            const input: PositionInput = { ...p, cells };
            const u: Uplink = frameType.startsWith('AL')
              ? { type: 'alarm', frameType: frameType as 'AL' | 'AL_LTE', position: input }
              : { type: 'position', frameType: frameType as 'UD' | 'UD2' | 'UD_LTE', position: input };
            return { u, p, frameType, cells };
          });
          const stream = Buffer.concat(inputs.flatMap(({ u }) => bytesOf(encodeUplink(from, u))));
          const s = new FrameSplitter();
          const at = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
          const frames = [...at, stream.length].flatMap((end, i) => s.push(stream.subarray(i === 0 ? 0 : at[i - 1], end)));
          expect(frames).toHaveLength(inputs.length);
          frames.forEach((b, i) => {
            const { p, frameType, cells } = inputs[i]!;
            const r = decodeFrame(b);
            if (!r.ok) throw new Error(r.error.message);
            const f = r.frame;
            expect(f.kind).toBe(frameType.startsWith('AL') ? 'alarm' : 'position');
            if (f.kind !== 'alarm' && f.kind !== 'position') return;
            const hasFix = p.valid && !(p.lat === 0 && p.lng === 0);
            const expected: Record<string, unknown> = {
              ts: p.ts,
              valid: hasFix,
              speedKmh: p.speedKmh,
              course: p.course,
              altitude: p.altitude,
              satellites: p.satellites,
              signal: p.signal,
              battery: p.battery,
              steps: p.steps,
              tumbles: p.tumbles,
              status: expect.any(Number),
              flags: {
                alerts: ['sos', 'fall', 'removed'].filter((a) => (p.alerts as string[]).includes(a)),
                lowBattery: p.lowBattery,
              },
              cells: cells.map((c) => (frameType.endsWith('_LTE') ? { ...c, radio: 'lte' } : c)),
              wifi: p.wifi.map((w) => (w.ssid === '' ? { mac: w.mac, rssi: w.rssi } : w)),
            };
            if (hasFix) Object.assign(expected, { lat: p.lat, lng: p.lng });
            expect(f.position).toEqual(expected);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads heartbeats, INIT, voice queries and echoes back', () => {
    expect(roundTrip({ type: 'heartbeat' })).toMatchObject([{ kind: 'heartbeat', type: 'LK' }]);
    expect(roundTrip({ type: 'heartbeat', steps: 120, rollovers: 4, battery: 66 })).toMatchObject([
      { kind: 'heartbeat', steps: 120, rollovers: 4, battery: 66 },
    ]);
    expect(roundTrip({ type: 'init', fields: ['13800138000', '1'] })).toMatchObject([
      { kind: 'init', fields: ['13800138000', '1'] },
    ]);
    expect(roundTrip({ type: 'voice_query', frameType: 'TKQ2' })).toMatchObject([{ kind: 'voice-query', type: 'TKQ2' }]);
    expect(roundTrip({ type: 'echo', content: 'PHB2' })).toMatchObject([{ kind: 'echo', echo: 'PHB2', command: 'set_contacts' }]);
    expect(roundTrip({ type: 'echo', content: 'TK,1' })).toMatchObject([{ kind: 'echo', echo: 'TK', ok: true }]);
  });

  it('reads every health frame type back', () => {
    const cases: [Uplink, object][] = [
      [{ type: 'health', frameType: 'heart', reading: { heartRate: 77 } }, { heartRate: 77 }],
      [{ type: 'health', frameType: 'PULSE', reading: { heartRate: 64 } }, { heartRate: 64 }],
      [
        { type: 'health', frameType: 'BLOOD', reading: { systolic: 118, diastolic: 76 } },
        { systolic: 118, diastolic: 76 },
      ],
      [
        { type: 'health', frameType: 'bphrt', reading: { systolic: 121, diastolic: 80, heartRate: 70 } },
        { systolic: 121, diastolic: 80, heartRate: 70 },
      ],
      [{ type: 'health', frameType: 'TEMP', reading: { bodyTempC: 36.6 } }, { bodyTempC: 36.6 }],
      [{ type: 'health', frameType: 'btemp2', reading: { bodyTempC: 37.25 } }, { bodyTempC: 37.25 }],
      [{ type: 'health', frameType: 'btemp2', reading: {} }, {}],
      [{ type: 'health', frameType: 'oxygen', reading: { spo2: 96 } }, { spo2: 96 }],
    ];
    for (const [u, reading] of cases) expect(as(roundTrip(u)[0]!, 'health').reading).toEqual(reading);
  });

  it('property: TK, TK2 and img bytes come back unchanged, whatever bytes they hold', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4000 }), (raw) => {
        const audio = Buffer.concat([Buffer.from('#!AMR\n'), raw]);
        expect(as(roundTrip({ type: 'voice', audio })[0]!, 'voice').audio).toEqual(audio);
        const tk2 = as(roundTrip({ type: 'voice', frameType: 'TK2', target: 'chat42', audio })[0]!, 'voice');
        expect([tk2.target, tk2.audio]).toEqual(['chat42', audio]);
        const jpeg = Buffer.from(raw);
        const img = as(roundTrip({ type: 'image', image: jpeg, takenAt: Date.UTC(2024, 1, 29, 23, 59, 58) })[0]!, 'image');
        expect([img.image, img.takenAt, img.imageType]).toEqual([jpeg, Date.UTC(2024, 1, 29, 23, 59, 58), '5']);
      }),
      { numRuns: 60 },
    );
  });

  it('property: JXTK chunks reassemble into the recording, whatever the chunk size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 5000 }), fc.integer({ min: 1, max: 1200 }), (raw, chunkSize) => {
        const audio = Buffer.concat([Buffer.from('#!AMR\n'), raw]);
        const chunks = roundTrip({ type: 'voice_chunks', audio, chunkSize, session: 'watch_7_20240101120000' });
        expect(chunks).toHaveLength(Math.ceil(audio.length / chunkSize));
        const a = new VoiceAssembler();
        const results = chunks.map((c) => a.add(as(c, 'voice-chunk')));
        expect(results.at(-1)).toEqual({ status: 'complete', session: 'watch_7_20240101120000', audio });
        expect(results.slice(0, -1).every((r) => r.status === 'partial')).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('expects the hub to answer what needs an answer', () => {
    const answer = (u: Uplink) => {
      const r = encodeUplink(from, u);
      return r.ok ? r.frames.map((f) => f.answer) : [];
    };
    expect(answer({ type: 'init' })).toEqual(['INIT']);
    expect(answer({ type: 'heartbeat' })).toEqual(['LK']);
    expect(answer({ type: 'alarm', frameType: 'AL_LTE', position: { ts: 0, valid: false } })).toEqual(['AL']);
    expect(answer({ type: 'position', position: { ts: 0, valid: false } })).toEqual([null]);
    expect(answer({ type: 'voice_chunks', audio: Buffer.alloc(5), chunkSize: 2 })).toEqual(['JXTKR', 'JXTKR', 'JXTKR']);
  });
});
