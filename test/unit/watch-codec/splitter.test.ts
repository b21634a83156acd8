import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, escapeBinary, FrameSplitter } from '../../../src/watch/codec/index.js';
import { frame } from './helpers.js';

/** Cuts `buf` at the given offsets (any order, any count), as TCP might. */
function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, buf.length]) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  return out;
}

const feed = (s: FrameSplitter, parts: Buffer[]) => parts.flatMap((p) => s.push(p).map((f) => f.toString('latin1')));

/** Text content with balanced bracket groups, as Wi-Fi names may have. */
const textContent = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9 ,.:_-]{0,12}$/),
      fc.stringMatching(/^[A-Za-z0-9 ,]{0,8}$/).map((s) => `[${s}]`),
    ),
    {
      maxLength: 6,
    },
  )
  .map((parts) => `UD,${parts.join('')}`);
/** A binary payload, escaped as watches do, so it may hold any byte. */
const binaryContent = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from('TK,'), escapeBinary(b)]));
const aFrame = fc.oneof(textContent, binaryContent).map((c) => frame(c));
/** Bytes between frames: anything but `[`. */
const garbage = fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b.filter((x) => x !== 0x5b)));

describe('FrameSplitter', () => {
  it('returns frames split across reads and several from one read', () => {
    const s = new FrameSplitter();
    expect(feed(s, [Buffer.from('[3G*8800000015*0002*L'), Buffer.from('K][SG*1*0003*TKQ]'), Buffer.from('[3G*1*')])).toEqual([
      '[3G*8800000015*0002*LK]',
      '[SG*1*0003*TKQ]',
    ]);
    expect(s.bufferedBytes).toBe(6);
    expect(feed(s, [Buffer.from('0002*LK]')])).toEqual(['[3G*1*0002*LK]']);
    expect(s.bufferedBytes).toBe(0);
    expect(s.stats.frames).toBe(3);
  });

  it('keeps balanced brackets of a Wi-Fi name inside the frame', () => {
    const s = new FrameSplitter();
    const f = '[3G*1*0020*UD,x,1,[Guest] [5G],aa:bb:cc:dd:ee:ff,-50]';
    expect(feed(s, [Buffer.from(f + '[3G*1*0002*LK]')])).toEqual([f, '[3G*1*0002*LK]']);
  });

  it('skips and counts bytes outside frames, such as a CRLF or noise between frames', () => {
    const s = new FrameSplitter();
    expect(feed(s, [Buffer.from('\r\nGET / HTTP/1.1\r\n[3G*1*0002*LK]\r\n]]x[3G*1*0003*TKQ]')])).toEqual([
      '[3G*1*0002*LK]',
      '[3G*1*0003*TKQ]',
    ]);
    expect(s.stats.garbageBytes).toBe(2 + 14 + 2 + 2 + 2 + 1);
  });

  it('drops a frame that grows past the maximum, counts it, and picks up the next frame', () => {
    const s = new FrameSplitter({ maxFrameBytes: 100 });
    const big = '[3G*1*0200*UD,' + 'x'.repeat(200) + ']';
    const out = feed(s, [Buffer.from(big.slice(0, 90)), Buffer.from(big.slice(90) + '[3G*1*0002*LK]')]);
    expect(out).toEqual(['[3G*1*0002*LK]']);
    expect(s.stats.oversizeFrames).toBe(1);
    expect(s.stats.oversizeBytes).toBe(big.length);
    expect(s.stats.garbageBytes).toBe(0);
  });

  it('takes a frame of exactly the maximum size', () => {
    const s = new FrameSplitter({ maxFrameBytes: 64 });
    const f = '[3G*1*0000*UD,' + 'y'.repeat(64 - 15) + ']';
    expect(f.length).toBe(64);
    expect(feed(s, [Buffer.from(f)])).toEqual([f]);
    expect(s.stats.oversizeFrames).toBe(0);
  });

  it("cuts a frame short when an unbalanced [ in a Wi-Fi name would swallow the same watch's next frame", () => {
    const s = new FrameSplitter();
    const a = '[3G*8800000015*0030*UD,x,1,my[net,aa:bb:cc:dd:ee:ff,-50]';
    const b = '[3G*8800000015*0002*LK]';
    const c = '[3G*8800000015*0003*TKQ]';
    // Cut inside the second header, so the decision waits for bytes that have not arrived yet.
    const all = Buffer.from(a + b + c);
    const cut = a.length + 6;
    expect(feed(s, [all.subarray(0, cut), all.subarray(cut)])).toEqual([a, b, c]);
    expect(s.stats.resyncs).toBe(1);
  });

  it('does not cut at ][ when what follows is not the same watch header', () => {
    const s = new FrameSplitter();
    const f = '[3G*8800000015*0030*UD,x,[a][3G*99*b],aa:bb:cc:dd:ee:ff,-50]';
    expect(feed(s, [Buffer.from(f)])).toEqual([f]);
    expect(s.stats.resyncs).toBe(0);
  });

  it('recovers after an unbalanced ] in a name: the frame ends early, the tail is skipped', () => {
    const s = new FrameSplitter();
    const out = feed(s, [Buffer.from('[3G*1*0030*UD,x,1,my]net,aa:bb:cc:dd:ee:ff,-50][3G*1*0002*LK]')]);
    expect(out).toEqual(['[3G*1*0030*UD,x,1,my]', '[3G*1*0002*LK]']);
    expect(s.stats.garbageBytes).toBe('net,aa:bb:cc:dd:ee:ff,-50]'.length);
  });

  it('rejects a maximum too small for any frame', () => {
    expect(() => new FrameSplitter({ maxFrameBytes: 10 })).toThrow(RangeError);
    expect(new FrameSplitter().maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
  });

  it('property: any split of a stream gives the same frames as one read, and exactly the frames sent', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(garbage, aFrame), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (items, cuts) => {
        const stream = Buffer.concat(items.flatMap(([g, f]) => [g, f]));
        const sent = items.map(([, f]) => f.toString('latin1'));
        const whole = feed(new FrameSplitter(), [stream]);
        const split = new FrameSplitter();
        const parts = feed(split, chunks(stream, cuts));
        expect(whole).toEqual(sent);
        expect(parts).toEqual(sent);
        expect(split.stats.garbageBytes).toBe(items.reduce((n, [g]) => n + g.length, 0));
      }),
    );
  });

  it('property: whatever bytes arrive, in whatever reads, the buffer never holds more than the maximum', () => {
    const syntaxHeavy = fc
      .uint8Array({ maxLength: 400 })
      .map((b) => Buffer.from(b.map((x) => [0x5b, 0x5d, 0x2a, 0x41, x][x % 5]!)));
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 300 }),
        fc.array(
          fc.oneof(
            syntaxHeavy,
            fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
          ),
          { maxLength: 20 },
        ),
        (max, reads) => {
          const s = new FrameSplitter({ maxFrameBytes: max });
          let total = 0;
          let accounted = 0;
          for (const r of reads) {
            const out = s.push(r);
            total += r.length;
            accounted += out.reduce((n, f) => n + f.length, 0);
            for (const f of out) {
              expect(f.length).toBeLessThanOrEqual(max);
              expect(f[0]).toBe(0x5b);
              expect(f[f.length - 1]).toBe(0x5d);
            }
            expect(s.bufferedBytes).toBeLessThanOrEqual(max);
          }
          // Every byte is a frame byte, garbage, oversize, or still buffered: nothing is lost track of.
          const { garbageBytes, oversizeBytes } = s.stats;
          expect(accounted + garbageBytes + oversizeBytes + s.bufferedBytes).toBe(total);
        },
      ),
    );
  });

  it('stays linear on a flood of [ (no rescanning)', () => {
    const s = new FrameSplitter({ maxFrameBytes: 64 * 1024 });
    const flood = Buffer.alloc(2 * 1024 * 1024, 0x5b);
    const t0 = performance.now();
    for (let i = 0; i < flood.length; i += 4096) s.push(flood.subarray(i, i + 4096));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.bufferedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(s.stats.oversizeFrames).toBeGreaterThanOrEqual(31);
  });
});
