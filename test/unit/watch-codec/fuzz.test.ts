// Hostile and broken input: nothing may throw, nothing may grow without bound, and no invalid fix may
// come out as a position (let alone 0,0).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDownlink, decodeFrame, FrameSplitter, type WatchFrame } from '../../../src/watch/codec/index.js';
import { frame } from './helpers.js';

const CODES = ['BAD_FRAME', 'BAD_HEADER', 'BAD_TYPE', 'BAD_FIELDS'];

const SEEDS = [
  'UD2,140523,071522,A,22.571707,N,113.861396,E,0.50,12.8,45.0,7,80,91,1200,2,00000000,2,1,460,0,9360,4082,131,9360,4092,148,1,home-ap,34:31:c4:c8:a9:22,-67,0.0',
  'AL,040418,052156,V,0,N,0,E,0,0,0,5,100,82,1000,50,00010000,0,4,a,b,f4:db:e6:d2:a8:00,-53,[x],f4:db:e6:da:d0:80,-79,p,0,-60,q,78:0C:F0:24:F9:80,-82',
  'UD,251021,223408,A,41.465000,N,81.531280,W,0.926,000,0,00,70,70,0,50,00000000,0,1,,,,00',
  'LK,50,3,87',
  'bphrt,120,79,73,,,,',
  'JXTK,0,watch_7,1,6,#!AMR\n\x7d\x01\x7d\x02',
  'img,5,230405101502,\xff\xd8\x7d\x03\xff\xd9',
  'TK,#!AMR\n\x01\x02',
  'PHB,+33612345678,004D0075006D',
  'SILENCETIME2,08:00-12:00-0111110,,,',
];

/** Position invariants: a fix is valid exactly when it has coordinates, never at 0,0, and in range. */
function checkFrame(f: WatchFrame) {
  if (f.kind !== 'position' && f.kind !== 'alarm') return;
  const p = f.position;
  if (p.valid) {
    expect(typeof p.lat).toBe('number');
    expect(typeof p.lng).toBe('number');
    expect(p.lat === 0 && p.lng === 0).toBe(false);
    expect(Math.abs(p.lat!)).toBeLessThanOrEqual(90);
    expect(Math.abs(p.lng!)).toBeLessThanOrEqual(180);
  } else {
    expect(p.lat).toBeUndefined();
    expect(p.lng).toBeUndefined();
  }
  expect(p.cells.length).toBeLessThanOrEqual(16);
  expect(p.wifi.length).toBeLessThanOrEqual(32);
}

function decodeAll(b: Buffer) {
  const up = decodeFrame(b);
  if (up.ok) checkFrame(up.frame);
  else expect(CODES).toContain(up.error.code);
  const down = decodeDownlink(b);
  if (!down.ok) expect(CODES).toContain(down.error.code);
}

/** A seed frame with bytes replaced, inserted or removed, then maybe cut short. */
const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(',', '*', '[', ']', '-', '.', '0', 'A', 'V', 'S', ' ', '\x7d', '', ':', '9')), {
      maxLength: 8,
    }),
    fc.array(fc.nat(), { maxLength: 3 }),
  )
  .map(([seed, edits, drops]) => {
    let s = seed;
    for (const [at, ch] of edits) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + ch + s.slice(i + (at % 2));
    }
    for (const d of drops) s = s.slice(0, d % (s.length + 1)) + s.slice((d % (s.length + 1)) + 1);
    return frame(Buffer.from(s, 'latin1'));
  });

describe('fuzz', () => {
  it('property: mutated real frames never throw, and any fix that decodes keeps the invariants', () => {
    fc.assert(fc.property(mutated, decodeAll), { numRuns: 2000 });
  });

  it('property: random bytes through the splitter never throw, and every frame decodes to a value', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (reads) => {
        const s = new FrameSplitter({ maxFrameBytes: 256 });
        for (const r of reads) {
          const withBrackets = Buffer.from(r.map((x) => (x % 7 === 0 ? 0x5b : x % 11 === 0 ? 0x5d : x % 13 === 0 ? 0x2a : x)));
          for (const f of s.push(withBrackets)) decodeAll(f);
          expect(s.bufferedBytes).toBeLessThanOrEqual(256);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: any content after a good header decodes to a frame or an error, never an exception', () => {
    const token = fc.oneof(
      fc.constantFrom(
        'UD',
        'UD_LTE',
        'AL',
        'WT',
        'LK',
        'JXTK',
        'img',
        'TK',
        'TK2',
        'heart',
        'PHB2',
        'SOS1',
        'LZ',
        'MESSAGE',
        'SILENCETIME',
      ),
      fc.constantFrom('A', 'V', 'N', 'S', 'E', 'W', '', '0', '-1', '1e9', 'NaN', '0x10', '99999999999999999999', '00000000'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 40 }), (tokens) => decodeAll(frame(tokens.join(',')))),
      { numRuns: 2000 },
    );
  });

  it('handles frames far bigger than any watch sends without trouble', () => {
    const huge = frame('UD,' + '1,'.repeat(200_000));
    const r = decodeFrame(huge);
    expect(r.ok ? 'ok' : r.error.code).toBe('BAD_FIELDS');
    const many = frame('UD,010120,025946,V,0,N,0,E,0,0,0,0,100,98,0,0,00000000,0,9999,' + 'a,aa:bb:cc:dd:ee:ff,-1,'.repeat(5000));
    const m = decodeFrame(many);
    expect(m.ok && m.frame.kind === 'position' && m.frame.position.wifi.length).toBe(32);
  });

  it('stays linear on a maximum-size frame full of MAC-less Wi-Fi entries', () => {
    const head = 'UD,010120,025946,V,0,N,0,E,0,0,0,0,100,98,0,0,00000000,0,60000,';
    const body = head + 'x,0,1,'.repeat(21_000) + 'a,aa:bb:cc:dd:ee:ff,-1';
    expect(body.length).toBeGreaterThan(120_000);
    const t0 = performance.now();
    const r = decodeFrame(frame(body));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.ok && r.frame.kind === 'position' && r.frame.position.wifi).toEqual([
      { ssid: 'a', mac: 'aa:bb:cc:dd:ee:ff', rssi: -1 },
    ]);
  });
});
