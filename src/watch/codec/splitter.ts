// Cuts a TCP byte stream into frames. A frame starts at `[` and ends where the bracket depth
// returns to zero, so a balanced bracket inside a Wi-Fi name stays in its frame. LEN is ignored:
// real watches get it wrong. Binary payloads cannot fool the depth count, as they are escaped.

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const STAR = 0x2a; // *

/** Big enough for a watch photo (most are 10–60 KB) or a whole TK recording, small enough to hold per connection. */
export const DEFAULT_MAX_FRAME_BYTES = 128 * 1024;
const MIN_MAX_FRAME_BYTES = 64;
/** Header prefixes (`[MF*ID*`) longer than this are not used for resynchronising. */
const MAX_PREFIX = 48;
/** A buffer that grew past this for a big frame is let go once the frame is out, so idle watches stay cheap. */
const KEEP_CAPACITY = 4096;

export interface SplitterStats {
  /** Complete frames returned. */
  frames: number;
  /** Bytes outside any frame, skipped. */
  garbageBytes: number;
  /** Frames that grew past the maximum and were dropped. */
  oversizeFrames: number;
  /** Bytes of those frames, including the tail skipped while resynchronising. */
  oversizeBytes: number;
  /** Frames cut short because the same watch's next header followed a `]` (an unbalanced `[` in a Wi-Fi name). */
  resyncs: number;
}

export interface SplitterOptions {
  maxFrameBytes?: number;
}

export class FrameSplitter {
  readonly maxFrameBytes: number;
  readonly stats: SplitterStats = { frames: 0, garbageBytes: 0, oversizeFrames: 0, oversizeBytes: 0, resyncs: 0 };

  private buf: Buffer;
  /** Bytes of the current frame in `buf`; 0 when between frames. */
  private len = 0;
  private depth = 0;
  /** Skipping the tail of an oversize frame until the next `[`. */
  private skipping = false;
  /** Length of the current frame's `[MF*ID*` prefix once known (0 until then, or when too long). */
  private prefixLen = 0;
  private stars = 0;
  /** Offset of a `[` that followed a `]` inside the frame, being compared with the prefix; -1 when none. */
  private candidate = -1;

  constructor(options: SplitterOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < MIN_MAX_FRAME_BYTES) {
      throw new RangeError(`maxFrameBytes must be an integer >= ${MIN_MAX_FRAME_BYTES}`);
    }
    this.maxFrameBytes = max;
    this.buf = Buffer.allocUnsafe(Math.min(256, max));
  }

  /** Bytes held for an incomplete frame; never more than `maxFrameBytes`. */
  get bufferedBytes(): number {
    return this.len;
  }

  /** Feeds one read; returns the frames it completed, in order (each a copy, brackets included). */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.len === 0) {
        // Between frames: jump to the next `[`.
        const start = chunk.indexOf(OPEN, i);
        const skipped = (start < 0 ? chunk.length : start) - i;
        if (this.skipping) this.stats.oversizeBytes += skipped;
        else this.stats.garbageBytes += skipped;
        if (start < 0) return out;
        this.skipping = false;
        this.startFrame();
        i = start + 1;
        continue;
      }
      const b = chunk[i++]!;
      if (this.len === this.maxFrameBytes) {
        this.dropOversize();
        i--; // the byte is looked at again, as the start of the skipped tail
        continue;
      }
      this.append(b);
      if (b === OPEN) {
        this.depth++;
        if (this.candidate < 0 && this.prefixLen > 0 && this.buf[this.len - 2] === CLOSE) this.candidate = this.len - 1;
      } else if (b === CLOSE) {
        this.depth--;
      } else if (b === STAR && this.prefixLen === 0 && this.stars < 2) {
        this.stars++;
        if (this.stars === 2 && this.len <= MAX_PREFIX) this.prefixLen = this.len;
      }
      if (this.candidate >= 0 && this.checkCandidate(out)) continue;
      if (this.depth === 0) this.emit(out, this.len);
    }
    return out;
  }

  /** Forgets any partial frame (e.g. after the gateway decides to resynchronise itself). */
  reset(): void {
    this.len = 0;
    this.depth = 0;
    this.skipping = false;
    this.candidate = -1;
    this.shrink();
  }

  private startFrame(): void {
    this.len = 0;
    this.depth = 1;
    this.prefixLen = 0;
    this.stars = 0;
    this.candidate = -1;
    this.append(OPEN);
  }

  private append(b: number): void {
    if (this.len === this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.buf.length * 2, this.maxFrameBytes));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }

  /**
   * A `[` right after a `]` while the frame is still open is either a bracket in a Wi-Fi name or
   * the next frame behind an unbalanced `[` in a name. When the bytes after it repeat this frame's
   * own `[MF*ID*` prefix, it is the next frame: the current one ends at the `]`, and the next one
   * carries on from its `[`. Returns true when it split the frame.
   */
  private checkCandidate(out: Buffer[]): boolean {
    const at = this.candidate;
    const k = this.len - 1 - at; // position inside the prefix of the byte just appended
    if (this.buf[this.len - 1] !== this.buf[k]) {
      this.candidate = -1;
      return false;
    }
    if (k + 1 < this.prefixLen) return false;
    const prefixLen = this.prefixLen;
    const next = Buffer.from(this.buf.subarray(at, this.len));
    this.stats.resyncs++;
    this.emit(out, at);
    this.startFrame();
    for (let j = 1; j < next.length; j++) this.append(next[j]!);
    // The prefix holds no brackets, and exactly two stars.
    this.depth = 1;
    this.stars = 2;
    this.prefixLen = prefixLen;
    return true;
  }

  private emit(out: Buffer[], length: number): void {
    out.push(Buffer.from(this.buf.subarray(0, length)));
    this.stats.frames++;
    this.len = 0;
    this.depth = 0;
    this.candidate = -1;
    this.shrink();
  }

  private dropOversize(): void {
    this.stats.oversizeFrames++;
    this.stats.oversizeBytes += this.len;
    this.len = 0;
    this.depth = 0;
    this.candidate = -1;
    this.skipping = true;
    this.shrink();
  }

  private shrink(): void {
    if (this.buf.length > KEEP_CAPACITY) this.buf = Buffer.allocUnsafe(Math.min(256, this.maxFrameBytes));
  }
}
