// convertAudio with the real ffmpeg (Debian's, with libavcodec-extra for the AMR-NB encoder): what
// watches and browsers are sent, and what a bad input, a flood or a hung process costs.
// Test audio is made by ffmpeg itself from a sine (`-f lavfi -i sine`): no shipped binaries.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AudioConversionError,
  AudioConverter,
  MAX_INPUT_BYTES,
  audioConversionAvailable,
  convertAudio,
} from '../../src/media/audio-convert.js';
import { prepareInput } from '../../src/media/mp4-faststart.js';
import { checkMedia } from '../../src/chat/media-check.js';

/** `seconds` of a 440 Hz sine, encoded by ffmpeg with these output options. */
export function sine(seconds: number, ...output: string[]): Buffer {
  return execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, ...output, 'pipe:1'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

/** An M4A as most recorders write it: `moov` (the index) after `mdat` (needs a seekable output, so a file). */
function m4aMoovLast(seconds: number, bitrate = '64k'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'audio-'));
  const file = join(dir, 'note.m4a');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=duration=${seconds}`],
    ...['-c:a', 'aac', '-b:a', bitrate, file],
  ]);
  return execFileSync('cat', [file], { maxBuffer: 64 * 1024 * 1024 });
}

const topBoxes = (b: Buffer) => {
  const out: string[] = [];
  for (let off = 0; off + 8 <= b.length;) {
    const size = b.readUInt32BE(off);
    out.push(b.toString('latin1', off + 4, off + 8));
    if (size < 8) break;
    off += size;
  }
  return out;
};

const head = (b: Buffer, n: number) => b.subarray(0, n).toString('latin1');

/** Duration of an encoded file: ffmpeg decodes it back to 8 kHz 16-bit mono, 16,000 bytes a second. */
function durationS(data: Buffer): number {
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-ac', '1', '-ar', '8000', '-f', 's16le', 'pipe:1'], {
    input: data,
    maxBuffer: 64 * 1024 * 1024,
  });
  return pcm.length / 16_000;
}

async function failure(p: Promise<unknown>): Promise<AudioConversionError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AudioConversionError);
  return err as AudioConversionError;
}

describe('convertAudio (real ffmpeg)', () => {
  it('is available here (ffmpeg with the AMR-NB encoder, the decoder and libopus)', async () => {
    expect(await audioConversionAvailable()).toBe(true);
    expect(await new AudioConverter().capabilities()).toEqual({ toAmrNb: true, toOgg: true });
  });

  const inputs: [string, () => Buffer][] = [
    ['webm (Opus, what Chrome records)', () => sine(2, '-c:a', 'libopus', '-f', 'webm')],
    ['ogg (Opus)', () => sine(2, '-c:a', 'libopus', '-f', 'ogg')],
    ['m4a (AAC, moov first)', () => sine(2, '-c:a', 'aac', '-movflags', 'frag_keyframe+empty_moov', '-f', 'mp4')],
    ['m4a (AAC, moov after mdat, as recorders write it)', () => m4aMoovLast(2)],
    ['wav', () => sine(2, '-f', 'wav')],
    ['amr (AMR-NB already)', () => sine(2, '-ar', '8000', '-ac', '1', '-c:a', 'libopencore_amrnb', '-f', 'amr')],
  ];
  for (const [name, make] of inputs) {
    it(`converts ${name} to 8 kHz mono AMR-NB (#!AMR) that the hub's own AMR check accepts`, async () => {
      const amr = await convertAudio(make(), 'amr-nb');
      expect(head(amr, 6)).toBe('#!AMR\n');
      // 12.2 kbit/s: 32 bytes a 20 ms frame, so about 1.6 KB a second.
      expect(amr.length).toBeGreaterThan(2 * 50 * 32 * 0.9);
      const checked = checkMedia('voice', 'audio/amr', amr, undefined, {
        maxVoiceBytes: 1 << 20,
        maxImageBytes: 1 << 20,
        maxVoiceDurationMs: 60_000,
      });
      expect(checked.durationMs).toBeGreaterThanOrEqual(1900);
      expect(checked.durationMs).toBeLessThanOrEqual(2200);
      const info = execFileSync(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels', '-of', 'csv=p=0', '-i', 'pipe:0'],
        {
          input: amr,
        },
      ).toString();
      expect(info.trim()).toBe('amr_nb,8000,1');
    });
  }

  it('converts a watch AMR-NB note to Ogg/Opus for browsers', async () => {
    const amr = sine(3, '-ar', '8000', '-ac', '1', '-c:a', 'libopencore_amrnb', '-f', 'amr');
    const ogg = await convertAudio(amr, 'ogg');
    expect(head(ogg, 4)).toBe('OggS');
    expect(ogg.includes(Buffer.from('OpusHead'))).toBe(true);
    expect(durationS(ogg)).toBeCloseTo(3, 0);
  });

  it('reads all of a long M4A whose moov comes last (ffmpeg alone would stop after its first packets)', async () => {
    const amr = await convertAudio(m4aMoovLast(30, '128k'), 'amr-nb');
    expect(durationS(amr)).toBeCloseTo(30, 0);
  });

  it('rewrites an M4A with moov after mdat so a pipe can read it, and leaves other inputs alone', () => {
    const m4a = m4aMoovLast(1);
    expect(topBoxes(m4a).indexOf('moov')).toBeGreaterThan(topBoxes(m4a).indexOf('mdat'));
    const fixed = prepareInput(m4a);
    expect(fixed.length).toBe(m4a.length);
    expect(topBoxes(fixed).indexOf('moov')).toBeLessThan(topBoxes(fixed).indexOf('mdat'));
    const webm = sine(1, '-c:a', 'libopus', '-f', 'webm');
    expect(prepareInput(webm)).toBe(webm);
    const truncated = m4a.subarray(0, m4a.length - 10);
    expect(prepareInput(truncated)).toBe(truncated);
  });

  it('answers garbage with `failed`, not a crash or an empty file', async () => {
    const garbage = Buffer.alloc(20_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) & 0xff;
    for (const input of [garbage, Buffer.from('#!AMR\nnot really'), Buffer.from('hello'), Buffer.alloc(0)]) {
      for (const to of ['amr-nb', 'ogg'] as const) {
        const err = await failure(convertAudio(input, to));
        expect(err.reason, `${to} of ${input.length} bytes`).toBe('failed');
      }
    }
    // A truncated M4A (its index cut off): ffmpeg fails rather than producing a short file.
    const err = await failure(convertAudio(m4aMoovLast(2).subarray(0, 4000), 'amr-nb'));
    expect(err.reason).toBe('failed');
  });

  it('reads nothing but its input: playlists and concat scripts naming files or URLs fail', async () => {
    // ffmpeg 5's own defaults refuse most of these from a pipe too; the hub's -protocol_whitelist
    // and -format_whitelist make that not depend on the build or version.
    const dir = mkdtempSync(join(tmpdir(), 'audio-secret-'));
    const secret = join(dir, 'secret.wav');
    writeFileSync(secret, sine(1, '-f', 'wav'));
    const crafted = [
      `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\nfile://${secret}\n#EXT-X-ENDLIST\n`,
      `ffconcat version 1.0\nfile '${secret}'\n`,
      `#EXTM3U\n#EXTINF:1.0,\nhttp://127.0.0.1:9/x.wav\n`,
    ];
    for (const text of crafted) {
      for (const to of ['amr-nb', 'ogg'] as const) {
        const err = await failure(convertAudio(Buffer.from(text), to));
        expect(err.reason, text.slice(0, 20)).toBe('failed');
      }
    }
  });

  it('refuses input over the bound before starting ffmpeg, and output over the caller bound', async () => {
    const big = Buffer.alloc(MAX_INPUT_BYTES + 1);
    expect((await failure(convertAudio(big, 'amr-nb'))).reason).toBe('too-large');
    const wav = sine(5, '-f', 'wav');
    expect((await failure(convertAudio(wav, 'amr-nb', { maxOutputBytes: 1000 }))).reason).toBe('too-large');
    // The same input with room for its output converts.
    expect(head(await convertAudio(wav, 'amr-nb', { maxOutputBytes: 100_000 }), 6)).toBe('#!AMR\n');
  });

  it('kills a conversion that does not finish in time', async () => {
    // A stand-in ffmpeg that answers the capability probe and then hangs on any conversion.
    const dir = mkdtempSync(join(tmpdir(), 'fake-ffmpeg-'));
    const fake = join(dir, 'ffmpeg');
    writeFileSync(
      fake,
      [
        '#!/bin/sh',
        'case "$*" in',
        '  *-encoders*) echo " A..... libopencore_amrnb  AMR"; echo " A..... libopus  Opus";;',
        '  *-decoders*) echo " A....D amrnb  AMR-NB";;',
        '  *) echo $$ > "$0.pid"; exec sleep 30;;',
        'esac',
      ].join('\n'),
    );
    chmodSync(fake, 0o755);
    const converter = new AudioConverter({ ffmpegPath: fake });
    expect(await converter.available()).toBe(true);
    const err = await failure(converter.convert(sine(1, '-f', 'wav'), 'amr-nb', { timeoutMs: 300 }));
    expect(err.reason).toBe('timeout');
    expect(converter.load()).toMatchObject({ running: 0, waiting: 0 });
    // The process is gone (killed, not left running).
    const pid = Number(execFileSync('cat', [`${fake}.pid`]).toString());
    await expect
      .poll(() => {
        try {
          process.kill(pid, 0);
          return 'alive';
        } catch {
          return 'gone';
        }
      })
      .toBe('gone');
  });

  it('runs at most a few at once and refuses a flood beyond its queue as `busy`', async () => {
    const converter = new AudioConverter({ maxConcurrent: 2, maxQueued: 3 });
    const wav = sine(2, '-f', 'wav');
    let peak = 0;
    const jobs = Array.from({ length: 12 }, () => {
      const p = converter.convert(wav, 'amr-nb').then(
        (out) => ({ ok: true as const, out }),
        (err: AudioConversionError) => ({ ok: false as const, reason: err.reason }),
      );
      peak = Math.max(peak, converter.load().running);
      return p;
    });
    const sample = setInterval(() => (peak = Math.max(peak, converter.load().running)), 5);
    const results = await Promise.all(jobs);
    clearInterval(sample);
    expect(peak).toBeLessThanOrEqual(2);
    const done = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(done.length).toBe(5); // 2 running + 3 queued
    expect(refused.map((r) => !r.ok && r.reason)).toEqual(Array(7).fill('busy'));
    expect(converter.load()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('says `unavailable` for a missing ffmpeg, and only for the direction a build lacks', async () => {
    const missing = new AudioConverter({ ffmpegPath: '/nonexistent/ffmpeg' });
    expect(await missing.available()).toBe(false);
    expect((await failure(missing.convert(Buffer.from('#!AMR\n'), 'ogg'))).reason).toBe('unavailable');
    // Debian's plain ffmpeg: decodes AMR and encodes Opus, but has no AMR-NB encoder.
    const dir = mkdtempSync(join(tmpdir(), 'plain-ffmpeg-'));
    const plain = join(dir, 'ffmpeg');
    writeFileSync(
      plain,
      [
        '#!/bin/sh',
        'case "$*" in',
        '  *-encoders*) exec ffmpeg -hide_banner -encoders | grep -v amrnb;;',
        '  *) exec ffmpeg "$@";;',
        'esac',
      ].join('\n'),
    );
    chmodSync(plain, 0o755);
    const partial = new AudioConverter({ ffmpegPath: plain });
    expect(await partial.capabilities()).toEqual({ toAmrNb: false, toOgg: true });
    expect(await partial.available()).toBe(false);
    const amr = sine(1, '-ar', '8000', '-ac', '1', '-c:a', 'libopencore_amrnb', '-f', 'amr');
    expect((await failure(partial.convert(amr, 'amr-nb'))).reason).toBe('unavailable');
    expect(head(await partial.convert(amr, 'ogg'), 4)).toBe('OggS');
  });
});
