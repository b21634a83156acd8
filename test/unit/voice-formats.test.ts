// The converted-voice cache: one conversion per note, bounded by bytes (least recently used out),
// no entry past its lifetime, concurrent reads sharing one conversion, and conversion failures as
// the documented HubErrors.
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/contract/errors.js';
import { AudioConversionError, type AudioTarget } from '../../src/media/audio-convert.js';
import { VoiceFormats } from '../../src/chat/voice-formats.js';

/** A stand-in converter: `size` bytes of output per call, counted; or the failure it is told. */
function fakeConverter(size = 100) {
  const calls: string[] = [];
  let fail: AudioConversionError | undefined;
  let gate: Promise<void> = Promise.resolve();
  return {
    calls,
    failWith(err: AudioConversionError | undefined) {
      fail = err;
    },
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return open;
    },
    async convert(input: Buffer, to: AudioTarget): Promise<Buffer> {
      calls.push(`${input.toString()}->${to}`);
      await gate;
      if (fail) throw fail;
      return Buffer.alloc(size, input.toString());
    },
  };
}

const load = (id: string) => async () => Buffer.from(id);

describe('VoiceFormats', () => {
  it('converts a note once and serves it from memory after', async () => {
    const c = fakeConverter();
    const v = new VoiceFormats(c);
    const a = await v.ogg('a', load('a'));
    expect(await v.ogg('a', load('a'))).toBe(a);
    expect(c.calls).toEqual(['a->ogg']);
    expect(v.size()).toEqual({ entries: 1, bytes: 100 });
  });

  it('shares one conversion between concurrent reads', async () => {
    const c = fakeConverter();
    const v = new VoiceFormats(c);
    const open = c.hold();
    const reads = Array.from({ length: 5 }, () => v.ogg('a', load('a')));
    open();
    const out = await Promise.all(reads);
    for (const o of out) expect(o).toBe(out[0]);
    expect(c.calls).toEqual(['a->ogg']);
  });

  it('holds at most its byte budget, dropping the least recently used first', async () => {
    const c = fakeConverter(100);
    const v = new VoiceFormats(c, { maxCacheBytes: 250 });
    await v.ogg('a', load('a'));
    await v.ogg('b', load('b'));
    await v.ogg('a', load('a')); // a is now the most recent
    await v.ogg('c', load('c')); // over 250: b goes
    expect(v.size()).toEqual({ entries: 2, bytes: 200 });
    await v.ogg('a', load('a'));
    await v.ogg('b', load('b'));
    expect(c.calls).toEqual(['a->ogg', 'b->ogg', 'c->ogg', 'b->ogg']);
    // An output larger than the whole budget is served but not kept.
    const big = new VoiceFormats(fakeConverter(1000), { maxCacheBytes: 250 });
    expect((await big.ogg('x', load('x'))).length).toBe(1000);
    expect(big.size()).toEqual({ entries: 0, bytes: 0 });
  });

  it('keeps no converted note past its lifetime', async () => {
    let now = 1_000_000;
    const c = fakeConverter();
    const v = new VoiceFormats(c, { ttlMs: 3_600_000, clock: () => now });
    await v.ogg('a', load('a'));
    await v.ogg('b', load('b'));
    now += 3_600_000 - 1;
    await v.ogg('a', load('a'));
    expect(c.calls).toEqual(['a->ogg', 'b->ogg']);
    now += 61_000;
    // A read sweeps (at most once a minute): b, never read again, is gone too.
    await v.ogg('c', load('c'));
    expect(v.size()).toEqual({ entries: 1, bytes: 100 });
    await v.ogg('a', load('a'));
    expect(c.calls).toEqual(['a->ogg', 'b->ogg', 'c->ogg', 'a->ogg']);
  });

  it('turns conversion failures into the documented errors, and keeps nothing for them', async () => {
    const c = fakeConverter();
    const v = new VoiceFormats(c);
    const cases = [
      ['unavailable', 'UNAVAILABLE', 'audio_conversion_unavailable'],
      ['busy', 'UNAVAILABLE', 'audio_conversion_busy'],
      ['failed', 'UNAVAILABLE', 'audio_conversion_failed'],
      ['timeout', 'UNAVAILABLE', 'audio_conversion_failed'],
      ['too-large', 'UNAVAILABLE', 'audio_conversion_failed'],
    ] as const;
    for (const [why, code, reason] of cases) {
      c.failWith(new AudioConversionError(why, 'x'));
      const err = await v.ogg('a', load('a')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HubError);
      expect(err).toMatchObject({ code, reason });
    }
    expect(v.size()).toEqual({ entries: 0, bytes: 0 });
    c.failWith(undefined);
    expect((await v.ogg('a', load('a'))).length).toBe(100);
  });
});
