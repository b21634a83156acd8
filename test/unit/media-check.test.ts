import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IMAGE_MIMES, type MediaLimits, VOICE_MIMES, amrDurationMs, checkMedia, sniffMime } from '../../src/chat/media-check.js';
import { HubError } from '../../src/contract/errors.js';
import { amrFile, jpegFile, m4aFile, oggFile, pngFile, webmFile } from '../helpers/media.js';

const limits: MediaLimits = { maxVoiceBytes: 200_000, maxImageBytes: 100_000, maxVoiceDurationMs: 60_000 };

/** The HubError `fn` throws (fails the test when it throws anything else or nothing). */
function hubError(fn: () => unknown): HubError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HubError) return e;
    throw e;
  }
  throw new Error('expected a HubError, nothing was thrown');
}

const bytes = (...xs: (number | string)[]) =>
  Buffer.concat(xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from([x]))));

/** An EBML header with the given DocType (as in webmFile). */
function ebmlHeader(doctype: string): Buffer {
  const body = Buffer.concat([
    bytes(0x42, 0x86, 0x81, 1, 0x42, 0xf7, 0x81, 1, 0x42, 0xf2, 0x81, 4, 0x42, 0xf3, 0x81, 8),
    bytes(0x42, 0x82, 0x80 | doctype.length, doctype),
    bytes(0x42, 0x87, 0x81, 4, 0x42, 0x85, 0x81, 2),
  ]);
  return Buffer.concat([bytes(0x1a, 0x45, 0xdf, 0xa3, 0x80 | body.length), body]);
}

/** An 'ftyp' box with the given major and compatible brands. */
function ftyp(major: string, ...compatible: string[]): Buffer {
  const size = 16 + 4 * compatible.length;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(size, 0);
  b.write('ftyp', 4, 'latin1');
  b.write(major, 8, 'latin1');
  compatible.forEach((c, i) => b.write(c, 16 + 4 * i, 'latin1'));
  return b;
}

describe('sniffMime', () => {
  it('recognises each of our types from the generated files', () => {
    expect(sniffMime(amrFile(1))).toBe('audio/amr');
    expect(sniffMime(oggFile())).toBe('audio/ogg');
    expect(sniffMime(m4aFile())).toBe('audio/mp4');
    expect(sniffMime(webmFile())).toBe('audio/webm');
    expect(sniffMime(jpegFile())).toBe('image/jpeg');
    expect(sniffMime(pngFile())).toBe('image/png');
    expect(sniffMime(pngFile(16, 9))).toBe('image/png');
  });

  it('recognises MP4/M4A by the common audio brands, major or compatible', () => {
    for (const brand of ['M4A ', 'mp42', 'isom', 'mp41', 'iso5', 'dash']) {
      expect(sniffMime(m4aFile(brand)), brand).toBe('audio/mp4');
      expect(sniffMime(ftyp(brand)), brand).toBe('audio/mp4');
    }
    expect(sniffMime(ftyp('XXXX', 'abcd', 'isom'))).toBe('audio/mp4');
  });

  it('rejects an ftyp box without any of our brands, or with a broken size', () => {
    expect(sniffMime(ftyp('3gp4', '3gp4'))).toBeUndefined();
    expect(sniffMime(ftyp('qt  '))).toBeUndefined();
    const broken = ftyp('M4A ');
    broken.writeUInt32BE(7, 0);
    expect(sniffMime(broken)).toBeUndefined();
  });

  it('recognises WebM only with DocType "webm"', () => {
    expect(sniffMime(ebmlHeader('webm'))).toBe('audio/webm');
    expect(sniffMime(ebmlHeader('matroska'))).toBeUndefined();
    expect(sniffMime(bytes(0x1a, 0x45, 0xdf, 0xa3))).toBeUndefined();
    expect(sniffMime(webmFile().subarray(0, 20))).toBeUndefined(); // cut before the DocType
  });

  it('returns undefined for empty input, garbage and near-misses', () => {
    expect(sniffMime(new Uint8Array(0))).toBeUndefined();
    expect(sniffMime(Buffer.from('hello, this is not a voice message', 'utf8'))).toBeUndefined();
    expect(sniffMime(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>', 'utf8'))).toBeUndefined();
    expect(sniffMime(bytes('GIF89a', 1, 0, 1, 0))).toBeUndefined();
    expect(sniffMime(bytes('RIFF', 0, 0, 0, 0, 'WAVEfmt '))).toBeUndefined();
    expect(sniffMime(bytes('Ogg'))).toBeUndefined();
    expect(sniffMime(bytes(0xff, 0xd8))).toBeUndefined();
    expect(sniffMime(pngFile().subarray(0, 7))).toBeUndefined();
    expect(sniffMime(bytes('#!AMR'))).toBeUndefined();
  });

  it('rejects AMR-WB and multi-channel AMR (not ours)', () => {
    expect(sniffMime(bytes('#!AMR-WB\n', 0x2c, ...new Array<number>(60).fill(0)))).toBeUndefined();
    expect(sniffMime(bytes('#!AMR_MC1.0\n', 0, 0, 0, 1))).toBeUndefined();
  });
});

describe('amrDurationMs', () => {
  it('is exact for whole and half seconds of 12.2 kbit/s frames', () => {
    expect(amrFile(1)).toHaveLength(6 + 50 * 32);
    expect(amrDurationMs(amrFile(1))).toBe(1000);
    expect(amrDurationMs(amrFile(3.5))).toBe(3500);
  });

  it('counts every frame type at 20 ms, SID and NO_DATA included', () => {
    const frames = [
      bytes(0 << 3, ...new Array<number>(12).fill(0x55)), // 4.75 kbit/s
      bytes((5 << 3) | 4, ...new Array<number>(20).fill(0x55)), // 7.95 kbit/s, Q bit set
      bytes((8 << 3) | 4, 1, 2, 3, 4, 5), // SID
      bytes((15 << 3) | 4), // NO_DATA
    ];
    expect(amrDurationMs(Buffer.concat([bytes('#!AMR\n'), ...frames]))).toBe(80);
  });

  it('is 0 for a header alone and undefined for anything that is not AMR-NB', () => {
    expect(amrDurationMs(bytes('#!AMR\n'))).toBe(0);
    expect(amrDurationMs(oggFile())).toBeUndefined();
    expect(amrDurationMs(bytes('#!AMR-WB\n', 0x2c))).toBeUndefined();
  });

  it('is undefined for a truncated last frame', () => {
    const f = amrFile(1);
    expect(amrDurationMs(f.subarray(0, f.length - 1))).toBeUndefined();
    expect(amrDurationMs(f.subarray(0, 6 + 1))).toBeUndefined(); // a lone frame header
  });

  it('is undefined for a bad frame type', () => {
    for (const type of [9, 10, 11, 12, 13, 14]) {
      const f = Buffer.from(amrFile(1));
      f[6 + 32 * 10] = (type << 3) | 4; // the 11th frame's header
      expect(amrDurationMs(f), `type ${type}`).toBeUndefined();
    }
  });

  it('is 20 ms per frame for any number of frames (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), (frames) => {
        expect(amrDurationMs(amrFile(frames / 50))).toBe(frames * 20);
      }),
    );
  });
});

describe('checkMedia', () => {
  it('accepts each valid voice and image type', () => {
    expect(checkMedia('voice', 'audio/amr', amrFile(2), undefined, limits)).toEqual({
      mime: 'audio/amr',
      bytes: 6 + 100 * 32,
      durationMs: 2000,
    });
    const ogg = oggFile();
    expect(checkMedia('voice', 'audio/ogg', ogg, 1500, limits)).toEqual({
      mime: 'audio/ogg',
      bytes: ogg.length,
      durationMs: 1500,
    });
    expect(checkMedia('voice', 'audio/mp4', m4aFile(), 800, limits)).toMatchObject({ mime: 'audio/mp4', durationMs: 800 });
    expect(checkMedia('voice', 'audio/webm', webmFile(), 4000, limits)).toMatchObject({ mime: 'audio/webm', durationMs: 4000 });
    const jpeg = jpegFile();
    expect(checkMedia('image', 'image/jpeg', jpeg, undefined, limits)).toStrictEqual({ mime: 'image/jpeg', bytes: jpeg.length });
    const png = pngFile(8, 8);
    expect(checkMedia('image', 'image/png', png, undefined, limits)).toStrictEqual({ mime: 'image/png', bytes: png.length });
  });

  it('takes a declared mime case-insensitively and without its parameters', () => {
    expect(checkMedia('voice', 'audio/webm;codecs=opus', webmFile(), 1000, limits).mime).toBe('audio/webm');
    expect(checkMedia('image', ' Image/PNG ', pngFile(), undefined, limits).mime).toBe('image/png');
  });

  it('empty → BAD_REQUEST, before any other rule', () => {
    for (const [kind, mime] of [
      ['voice', 'audio/amr'],
      ['image', 'image/png'],
      ['voice', 'audio/wav'],
    ] as const) {
      const e = hubError(() => checkMedia(kind, mime, new Uint8Array(0), undefined, limits));
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.message).toMatch(/empty/);
    }
  });

  it('over the size limit for the kind → TOO_LARGE, before the mime and content checks', () => {
    const small: MediaLimits = { maxVoiceBytes: 1000, maxImageBytes: 100, maxVoiceDurationMs: 60_000 };
    const voice = hubError(() => checkMedia('voice', 'audio/amr', amrFile(1), undefined, small));
    expect(voice.code).toBe('TOO_LARGE');
    expect(voice.message).toContain('1000');
    expect(hubError(() => checkMedia('voice', 'audio/wav', Buffer.alloc(1001), 10, small)).code).toBe('TOO_LARGE');
    expect(hubError(() => checkMedia('image', 'image/png', pngFile(16, 16), undefined, small)).code).toBe('TOO_LARGE');
    expect(hubError(() => checkMedia('image', 'image/gif', Buffer.alloc(101), undefined, small)).code).toBe('TOO_LARGE');
    // The voice limit does not apply to images, nor the other way round.
    const png = pngFile(16, 16);
    expect(png.length).toBeGreaterThan(100);
    expect(checkMedia('image', 'image/png', png, undefined, { ...small, maxImageBytes: png.length }).bytes).toBe(png.length);
    const ogg = oggFile();
    expect(() => checkMedia('voice', 'audio/ogg', ogg, 1000, { ...small, maxVoiceBytes: ogg.length })).not.toThrow();
  });

  it("declared mime not in the kind's list → BAD_REQUEST", () => {
    for (const [kind, mime, data] of [
      ['voice', 'audio/wav', amrFile(1)],
      ['voice', 'image/png', pngFile()],
      ['voice', 'audio/amr-wb', amrFile(1)],
      ['voice', '', oggFile()],
      ['image', 'image/gif', pngFile()],
      ['image', 'audio/ogg', oggFile()],
      ['image', 'image/svg+xml', pngFile()],
    ] as const) {
      const e = hubError(() => checkMedia(kind, mime, data, kind === 'voice' ? 1000 : undefined, limits));
      expect(e.code, `${kind} ${mime}`).toBe('BAD_REQUEST');
      expect(e.message, `${kind} ${mime}`).toMatch(/unsupported/);
    }
  });

  it('content not of the declared type → BAD_REQUEST "content is not <declared>"', () => {
    const png = hubError(() => checkMedia('image', 'image/jpeg', pngFile(), undefined, limits));
    expect(png.code).toBe('BAD_REQUEST');
    expect(png.message).toContain('content is not image/jpeg');
    const ogg = hubError(() => checkMedia('voice', 'audio/webm', oggFile(), 1000, limits));
    expect(ogg.code).toBe('BAD_REQUEST');
    expect(ogg.message).toContain('content is not audio/webm');
    const garbage = hubError(() => checkMedia('voice', 'audio/ogg', Buffer.from('not audio at all'), 1000, limits));
    expect(garbage.code).toBe('BAD_REQUEST');
    expect(garbage.message).toBe('content is not audio/ogg');
    const wb = hubError(() =>
      checkMedia('voice', 'audio/amr', bytes('#!AMR-WB\n', 0x2c, ...new Array<number>(60).fill(0)), undefined, limits),
    );
    expect(wb.code).toBe('BAD_REQUEST');
    expect(wb.message).toContain('content is not audio/amr');
  });

  it('AMR: the duration comes from the frames, whatever the client declared', () => {
    expect(checkMedia('voice', 'audio/amr', amrFile(3.5), 1, limits).durationMs).toBe(3500);
    expect(checkMedia('voice', 'audio/amr', amrFile(3.5), undefined, limits).durationMs).toBe(3500);
  });

  it('AMR: a malformed or frameless stream → BAD_REQUEST', () => {
    const f = amrFile(1);
    const truncated = hubError(() => checkMedia('voice', 'audio/amr', f.subarray(0, f.length - 3), 1000, limits));
    expect(truncated.code).toBe('BAD_REQUEST');
    expect(truncated.message).toMatch(/AMR/);
    const badType = Buffer.from(f);
    badType[6] = (12 << 3) | 4;
    expect(hubError(() => checkMedia('voice', 'audio/amr', badType, 1000, limits)).code).toBe('BAD_REQUEST');
    expect(hubError(() => checkMedia('voice', 'audio/amr', bytes('#!AMR\n'), 1000, limits)).code).toBe('BAD_REQUEST');
  });

  it('other voice formats: the declared duration is required and a positive integer → else BAD_REQUEST', () => {
    for (const d of [undefined, 0, -1000, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      for (const [mime, data] of [
        ['audio/ogg', oggFile()],
        ['audio/mp4', m4aFile()],
        ['audio/webm', webmFile()],
      ] as const) {
        const e = hubError(() => checkMedia('voice', mime, data, d, limits));
        expect(e.code, `${mime} ${d}`).toBe('BAD_REQUEST');
        expect(e.message).toMatch(/durationMs/);
      }
    }
    expect(hubError(() => checkMedia('voice', 'audio/ogg', oggFile(), '1000' as unknown as number, limits)).code).toBe(
      'BAD_REQUEST',
    );
  });

  it('a duration over the limit → TOO_LARGE; at the limit is fine', () => {
    const amr = hubError(() => checkMedia('voice', 'audio/amr', amrFile(60.02), undefined, limits));
    expect(amr.code).toBe('TOO_LARGE');
    expect(amr.message).toContain('60000');
    expect(checkMedia('voice', 'audio/amr', amrFile(60), undefined, limits).durationMs).toBe(60_000);
    expect(hubError(() => checkMedia('voice', 'audio/ogg', oggFile(), 60_001, limits)).code).toBe('TOO_LARGE');
    expect(checkMedia('voice', 'audio/ogg', oggFile(), 60_000, limits).durationMs).toBe(60_000);
  });

  it('images: durationMs must be absent → else BAD_REQUEST', () => {
    for (const d of [0, 1000]) {
      const e = hubError(() => checkMedia('image', 'image/png', pngFile(), d, limits));
      expect(e.code).toBe('BAD_REQUEST');
      expect(e.message).toMatch(/durationMs/);
    }
  });

  it('rejects non-binary data and an unknown kind with BAD_REQUEST', () => {
    expect(
      hubError(() => checkMedia('image', 'image/png', 'iVBORw0KGgo=' as unknown as Uint8Array, undefined, limits)).code,
    ).toBe('BAD_REQUEST');
    expect(hubError(() => checkMedia('video' as 'voice', 'audio/ogg', oggFile(), 1000, limits)).code).toBe('BAD_REQUEST');
  });

  it('never accepts bytes that do not start with one of the magic numbers (property)', () => {
    // Magic numbers as (offset, bytes); the ftyp box's type sits at offset 4.
    const magics: [number, number[]][] = [
      [0, [...Buffer.from('#!AMR\n', 'latin1')]],
      [0, [...Buffer.from('OggS', 'latin1')]],
      [4, [...Buffer.from('ftyp', 'latin1')]],
      [0, [0x1a, 0x45, 0xdf, 0xa3]],
      [0, [0xff, 0xd8, 0xff]],
      [0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
    ];
    const startsWithMagic = (d: Uint8Array) =>
      magics.some(([off, m]) => d.length >= off + m.length && m.every((b, i) => d[off + i] === b));
    // Random bytes, and near-misses: a magic number with one byte changed (or cut short), then random bytes.
    const nearMiss = fc
      .record({
        which: fc.integer({ min: 0, max: magics.length - 1 }),
        lead: fc.uint8Array({ minLength: 4, maxLength: 4 }),
        at: fc.nat(),
        delta: fc.integer({ min: 1, max: 255 }),
        cut: fc.boolean(),
        tail: fc.uint8Array({ maxLength: 64 }),
      })
      .map(({ which, lead, at, delta, cut, tail }) => {
        const [off, magic] = magics[which]!;
        const m = [...magic];
        const i = at % m.length;
        m[i] = (m[i]! + delta) & 0xff;
        return Uint8Array.from([...lead.subarray(0, off), ...(cut ? m.slice(0, i) : m), ...(cut ? [] : tail)]);
      });
    const data = fc.oneof(fc.uint8Array({ maxLength: 300 }), nearMiss).filter((d) => !startsWithMagic(d));
    const attempts = [...VOICE_MIMES.map((m) => ['voice', m] as const), ...IMAGE_MIMES.map((m) => ['image', m] as const)];
    fc.assert(
      fc.property(data, fc.option(fc.integer({ min: 1, max: 60_000 }), { nil: undefined }), (d, durationMs) => {
        expect(sniffMime(d)).toBeUndefined();
        expect(amrDurationMs(d)).toBeUndefined();
        for (const [kind, mime] of attempts) {
          const e = hubError(() => checkMedia(kind, mime, d, kind === 'voice' ? durationMs : undefined, limits));
          expect(e.code).toBe('BAD_REQUEST');
        }
      }),
      { numRuns: 500 },
    );
  });
});
