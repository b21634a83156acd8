// Voice notes in a format the reader can play: browsers get watches' AMR-NB notes as Ogg/Opus.
//
// Converted notes are kept in a bounded in-memory cache per node (least recently used out first,
// by bytes), not stored: media never change, so an entry never goes stale; a conversion costs
// well under a second of one core, so a node that restarts (or another node of the cluster)
// simply converts again; and nothing new is written that deletion, retention, export and the
// family's quota would each have to know about. A deleted note is never served from the cache,
// because every read is authorized against the stored media first (ChatService.media), which no
// longer exists; its entry ages out. Concurrent reads of one note share one conversion.
import { E, type HubError } from '../contract/errors.js';
import { AudioConversionError, type AudioConverter } from '../media/audio-convert.js';

/** Cache budget per node: about 400 one-minute notes at 24 kbit/s. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export class VoiceFormats {
  private readonly cache = new Map<string, Buffer>();
  private cachedBytes = 0;
  private readonly inFlight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly converter: AudioConverter,
    private readonly maxCacheBytes: number = DEFAULT_CACHE_BYTES,
  ) {}

  /** The note `id` (AMR bytes from `load`) as Ogg/Opus; HubErrors (UNAVAILABLE) when it cannot be converted. */
  async ogg(id: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.cache.get(id);
    if (hit) {
      // Most recently used goes last.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
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
    this.cache.set(id, out);
    this.cachedBytes += out.length;
    for (const [k, v] of this.cache) {
      if (this.cachedBytes <= this.maxCacheBytes) break;
      this.cache.delete(k);
      this.cachedBytes -= v.length;
    }
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
