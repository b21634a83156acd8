// Voice conversion with ffmpeg, for watches that only play AMR-NB and browsers that cannot play it.
//
// ffmpeg is an optional system tool found at run time (Debian: `ffmpeg`; AMR-NB encoding needs the
// `libavcodec-extra` build with libopencore_amrnb): without it, conversion says so with the reason
// `unavailable` and nothing else of the hub changes. Each conversion spawns one ffmpeg process with
// stdin/stdout pipes (no temp files, no shell), bounded on every side: input size, output size,
// time (the process is killed), and how many run at once (a small semaphore with a bounded queue,
// so a flood of voice notes cannot fork-bomb the host). ffmpeg reads nothing but its stdin
// (`-protocol_whitelist pipe`) and only audio containers we expect (`-format_whitelist`), so a
// crafted upload (a playlist, a concat script) cannot make it open files or URLs.
//
// Public API (the watch gateway and the media route use it): `audioConversionAvailable()`,
// `convertAudio(input, to, opts)`, `AudioConversionError`. One converter exists per ffmpeg path
// in the process (`audioConverter(path)`), so every hub of a process shares its semaphore;
// src/main.ts points the two free functions at the configured path with `useFfmpeg`.
import { spawn } from 'node:child_process';
import { prepareInput } from './mp4-faststart.js';

export type AudioTarget = 'amr-nb' | 'ogg';

export type AudioConversionFailure = 'unavailable' | 'failed' | 'timeout' | 'too-large' | 'busy';

/** Why a conversion did not happen: `reason` is stable, the message is for logs. */
export class AudioConversionError extends Error {
  override name = 'AudioConversionError';
  constructor(
    readonly reason: AudioConversionFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ConvertOptions {
  /** The whole conversion, waiting for a free slot included; the process is killed at the end. Default 15 s. */
  timeoutMs?: number;
  /** Output larger than this kills the process (`too-large`). Default 4 MiB. */
  maxOutputBytes?: number;
}

/** Input larger than this is refused before ffmpeg starts (32 MiB: the largest voice note the hub accepts). */
export const MAX_INPUT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Conversions running at once per converter, and how many may wait for a slot before `busy`. */
export const DEFAULT_MAX_CONCURRENT = 2;
export const DEFAULT_MAX_QUEUED = 32;

/** The demuxers ffmpeg may pick for an input (by its own sniffing): the voice formats of the contract and WAV/MP3. */
const INPUT_FORMATS = 'amr,ogg,matroska,webm,mov,mp4,m4a,3gp,wav,mp3,aac';
const STDERR_KEEP = 2048;

export interface AudioCapabilities {
  /** An AMR-NB encoder (libopencore_amrnb): anything → `amr-nb`. */
  toAmrNb: boolean;
  /** An AMR-NB decoder and libopus: AMR (and the other voice formats) → `ogg`. */
  toOgg: boolean;
}

export interface AudioConverterOptions {
  /** The ffmpeg binary: a name looked up in PATH, or a path. Default `ffmpeg`. */
  ffmpegPath?: string;
  maxConcurrent?: number;
  maxQueued?: number;
}

/** ffmpeg at one path: what it can do (asked once), and conversions through a semaphore. */
export class AudioConverter {
  readonly ffmpegPath: string;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private running = 0;
  private started = 0;
  private readonly failures: Record<AudioConversionFailure, number> = {
    unavailable: 0,
    failed: 0,
    timeout: 0,
    'too-large': 0,
    busy: 0,
  };
  private readonly waiting: (() => void)[] = [];
  private caps: Promise<AudioCapabilities> | undefined;

  constructor(opts: AudioConverterOptions = {}) {
    this.ffmpegPath = opts.ffmpegPath ?? 'ffmpeg';
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? DEFAULT_MAX_CONCURRENT);
    this.maxQueued = Math.max(0, opts.maxQueued ?? DEFAULT_MAX_QUEUED);
  }

  /** What this ffmpeg can convert; asked once (`-encoders`, `-decoders`), then cached. Never throws. */
  capabilities(): Promise<AudioCapabilities> {
    this.caps ??= this.probe();
    return this.caps;
  }

  /** Both directions work: AMR-NB out (for watches) and Ogg/Opus out (for browsers). */
  async available(): Promise<boolean> {
    const c = await this.capabilities();
    return c.toAmrNb && c.toOgg;
  }

  /** Conversions running now, waiting for a slot, and started since the process began (tests, metrics). */
  load(): { running: number; waiting: number; started: number } {
    return { running: this.running, waiting: this.waiting.length, started: this.started };
  }

  /** Conversions refused or failed since the process began, by reason (metrics). */
  failureCounts(): Readonly<Record<AudioConversionFailure, number>> {
    return { ...this.failures };
  }

  async convert(input: Buffer, to: AudioTarget, opts: ConvertOptions = {}): Promise<Buffer> {
    try {
      return await this.convertOnce(input, to, opts);
    } catch (err) {
      if (err instanceof AudioConversionError) this.failures[err.reason] += 1;
      throw err;
    }
  }

  private async convertOnce(input: Buffer, to: AudioTarget, opts: ConvertOptions): Promise<Buffer> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    if (to !== 'amr-nb' && to !== 'ogg') throw new AudioConversionError('failed', `unknown target format ${String(to)}`);
    if (input.length > MAX_INPUT_BYTES) {
      throw new AudioConversionError('too-large', `input of ${input.length} bytes is over ${MAX_INPUT_BYTES}`);
    }
    if (input.length === 0) throw new AudioConversionError('failed', 'empty input');
    const caps = await this.capabilities();
    if (!(to === 'amr-nb' ? caps.toAmrNb : caps.toOgg)) {
      throw new AudioConversionError(
        'unavailable',
        to === 'amr-nb'
          ? `no AMR-NB encoder: ${this.ffmpegPath} is missing or lacks libopencore_amrnb (Debian: ffmpeg with libavcodec-extra)`
          : `no Ogg/Opus conversion: ${this.ffmpegPath} is missing or lacks the AMR-NB decoder or libopus`,
      );
    }
    const deadline = Date.now() + timeoutMs;
    await this.acquire(timeoutMs);
    try {
      const left = deadline - Date.now();
      if (left <= 0) throw new AudioConversionError('timeout', `no conversion slot within ${timeoutMs} ms`);
      this.started += 1;
      const output = await this.run(argsFor(to), prepareInput(input), left, maxOutputBytes);
      checkOutput(output, to);
      return output;
    } finally {
      this.release();
    }
  }

  private acquire(timeoutMs: number): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueued) {
      return Promise.reject(
        new AudioConversionError('busy', `${this.running} conversions running and ${this.waiting.length} waiting`),
      );
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.running += 1;
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new AudioConversionError('timeout', `no conversion slot within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.running -= 1;
    const next = this.waiting.shift();
    if (next) next();
  }

  private async probe(): Promise<AudioCapabilities> {
    const none = { toAmrNb: false, toOgg: false };
    try {
      const [encoders, decoders] = await Promise.all([
        this.run(['-hide_banner', '-encoders'], Buffer.alloc(0), 10_000, 1024 * 1024),
        this.run(['-hide_banner', '-decoders'], Buffer.alloc(0), 10_000, 1024 * 1024),
      ]);
      const has = (list: Buffer, name: string) => new RegExp(`^\\s*A\\S*\\s+${name}\\s`, 'm').test(list.toString('latin1'));
      return {
        toAmrNb: has(encoders, 'libopencore_amrnb'),
        toOgg: has(encoders, 'libopus') && (has(decoders, 'amrnb') || has(decoders, 'libopencore_amrnb')),
      };
    } catch {
      return none;
    }
  }

  /** One ffmpeg process: input on stdin, stdout collected up to a bound, killed at the timeout. */
  private run(args: string[], input: Buffer, timeoutMs: number, maxOutputBytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const chunks: Buffer[] = [];
      let size = 0;
      let stderr = '';
      const child = spawn(this.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false, windowsHide: true });
      const finish = (err: AudioConversionError | undefined, out?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          child.kill('SIGKILL');
          reject(err);
        } else resolve(out!);
      };
      const timer = setTimeout(
        () => finish(new AudioConversionError('timeout', `ffmpeg did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.on('error', (err: NodeJS.ErrnoException) => {
        finish(
          err.code === 'ENOENT' || err.code === 'EACCES'
            ? new AudioConversionError('unavailable', `cannot run ${this.ffmpegPath}: ${err.code}`)
            : new AudioConversionError('failed', `ffmpeg: ${err.message}`),
        );
      });
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxOutputBytes) {
          finish(new AudioConversionError('too-large', `output over ${maxOutputBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
      });
      child.on('close', (code, signal) => {
        if (code === 0) finish(undefined, Buffer.concat(chunks, size));
        else {
          const why = stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
          finish(new AudioConversionError('failed', `ffmpeg exited with ${code ?? signal}${why ? `: ${why}` : ''}`));
        }
      });
      // ffmpeg stops reading when the input is garbage: a broken pipe here is answered by its exit code.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
  }
}

function argsFor(to: AudioTarget): string[] {
  const input = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-protocol_whitelist',
    'pipe',
    '-format_whitelist',
    INPUT_FORMATS,
    '-i',
    'pipe:0',
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-ac',
    '1',
  ];
  if (to === 'amr-nb') {
    // What watches play: 8 kHz mono AMR-NB at 12.2 kbit/s, in the `#!AMR\n` storage format.
    return [...input, '-ar', '8000', '-c:a', 'libopencore_amrnb', '-b:a', '12.2k', '-f', 'amr', 'pipe:1'];
  }
  // What browsers play: Opus in Ogg, tuned for speech.
  return [...input, '-c:a', 'libopus', '-b:a', '24k', '-application', 'voip', '-f', 'ogg', 'pipe:1'];
}

function checkOutput(out: Buffer, to: AudioTarget): void {
  const ok =
    to === 'amr-nb'
      ? out.length > 6 && out.subarray(0, 6).toString('latin1') === '#!AMR\n'
      : out.length > 4 && out.subarray(0, 4).toString('latin1') === 'OggS';
  if (!ok) throw new AudioConversionError('failed', `ffmpeg produced no ${to} audio (${out.length} bytes)`);
}

// ---------------------------------------------------------------------------------------------
// One converter per ffmpeg path in the process, and the free functions of the public API.

const converters = new Map<string, AudioConverter>();
let defaultPath = 'ffmpeg';

/** The process's converter for this ffmpeg binary (created on first use; shared, so is its semaphore). */
export function audioConverter(ffmpegPath: string = defaultPath): AudioConverter {
  let c = converters.get(ffmpegPath);
  if (!c) {
    c = new AudioConverter({ ffmpegPath });
    converters.set(ffmpegPath, c);
  }
  return c;
}

/** Points `audioConversionAvailable` and `convertAudio` at this ffmpeg (src/main.ts, from HUB_FFMPEG_PATH). */
export function useFfmpeg(ffmpegPath: string): void {
  defaultPath = ffmpegPath;
}

/** ffmpeg is there and converts both ways (AMR-NB encoder and decoder, libopus); asked once, then cached. */
export async function audioConversionAvailable(): Promise<boolean> {
  return audioConverter().available();
}

/**
 * `input` (AMR, Ogg, WebM, M4A/MP4, WAV, MP3) as 8 kHz mono AMR-NB (`#!AMR\n…`) or as Ogg/Opus.
 * Throws AudioConversionError: `unavailable` (no ffmpeg, or not this direction), `failed` (not
 * audio ffmpeg can read), `timeout`, `too-large` (input or output over its bound), `busy`.
 */
export async function convertAudio(input: Buffer, to: 'amr-nb' | 'ogg', opts?: ConvertOptions): Promise<Buffer> {
  return audioConverter().convert(input, to, opts);
}
