// Voice notes in a format the reader can play: browsers get watches' AMR-NB notes as Ogg/Opus.
//
// Converted notes are kept in a bounded in-memory cache per node (least recently used out first,
// by bytes), not stored: media never change, so an entry never goes stale; a conversion costs
// well under a second of one core, so a node that restarts (or another node of the cluster)
// simply converts again; and nothing new is written that deletion, retention, export and the
// family's quota would each have to know about. A deleted note is never served from the cache,
// because every read is authorized against the stored media first (ChatService.media), which no
// longer exists; and no entry outlives an hour after its conversion, so a deleted note's
// converted copy is gone from memory within the hour. Concurrent reads of one note share one
// conversion.
import { E, type HubError } from '../contract/errors.js';
import { AudioConversionError, type AudioConverter } from '../media/audio-convert.js';

/** Cache budget per node: about 400 one-minute notes at 24 kbit/s. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** The longest a converted note stays in memory. */
export const CACHE_TTL_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 60 * 1000;

export interface VoiceFormatsOptions {
  maxCacheBytes?: number;
  ttlMs?: number;
  clock?: () => number;
}

export class VoiceFormats {
  private readonly cache = new Map<string, { data: Buffer; at: number }>();
  private cachedBytes = 0;
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  private readonly maxCacheBytes: number;
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private lastSweep = 0;

  constructor(
    private readonly converter: Pick<AudioConverter, 'convert'>,
    opts: VoiceFormatsOptions = {},
  ) {
    this.maxCacheBytes = opts.maxCacheBytes ?? DEFAULT_CACHE_BYTES;
    this.ttlMs = opts.ttlMs ?? CACHE_TTL_MS;
    this.clock = opts.clock ?? Date.now;
  }

  /** The note `id` (AMR bytes from `load`) as Ogg/Opus; HubErrors (UNAVAILABLE) when it cannot be converted. */
  async ogg(id: string, load: () => Promise<Buffer>): Promise<Buffer> {
    this.sweep();
    const hit = this.cache.get(id);
    if (hit && this.clock() - hit.at < this.ttlMs) {
      // Most recently used goes last.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit.data;
    }
    if (hit) this.forget(id);
    let p = this.inFlight.get(id);
    if (!p) {
      p = (async () => {
        try {
          const out = await this.converter.convert(await load(), 'ogg');
          this.remember(id, out);
          return out;
        } catch (err) {
          throw err instanceof AudioConversionError ? asHubError(err) : err;
        } finally {
          this.inFlight.delete(id);
        }
      })();
      this.inFlight.set(id, p);
    }
    return p;
  }

  /** Entries and bytes held (tests, metrics). */
  size(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cachedBytes };
  }

  private remember(id: string, out: Buffer): void {
    if (out.length > this.maxCacheBytes) return;
    this.forget(id);
    this.cache.set(id, { data: out, at: this.clock() });
    this.cachedBytes += out.length;
    for (const k of this.cache.keys()) {
      if (this.cachedBytes <= this.maxCacheBytes) break;
      this.forget(k);
    }
  }

  private forget(id: string): void {
    const e = this.cache.get(id);
    if (!e) return;
    this.cache.delete(id);
    this.cachedBytes -= e.data.length;
  }

  /** Drops entries past their lifetime (at most once a minute: a pass over the cache). */
  private sweep(): void {
    const now = this.clock();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [k, e] of this.cache) if (now - e.at >= this.ttlMs) this.forget(k);
  }
}

function asHubError(err: AudioConversionError): HubError {
  switch (err.reason) {
    case 'unavailable':
      return E.audioConversionUnavailable('voice conversion is not available on this hub (no ffmpeg with AMR-NB and Opus)');
    case 'busy':
      return E.audioConversionBusy();
    default:
      return E.audioConversionFailed(`this voice note could not be converted (${err.reason})`);
  }
}
