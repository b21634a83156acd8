// Puts JXTK chunks back together. One per connection: a watch uploads one recording at a time and
// waits for each chunk's JXTKR,1 before the next, so chunks come in order; a chunk the watch sends
// again (its ack was lost) is a duplicate, not a gap. Memory is bounded by `maxBytes`.

/** 60 s of AMR-NB at 12.2 kbit/s is about 92 KB; this leaves room for five minutes. */
export const DEFAULT_MAX_VOICE_BYTES = 512 * 1024;

export interface VoiceChunk {
  session: string;
  index: number;
  total: number;
  audio: Buffer;
}

export type AssembleResult =
  | { status: 'partial'; received: number; total: number }
  | { status: 'duplicate' }
  | { status: 'complete'; session: string; audio: Buffer }
  /** The recording in progress was abandoned (a gap, a changed total, too big); the chunk too. */
  | { status: 'dropped'; reason: string };

export class VoiceAssembler {
  private session: string | null = null;
  private total = 0;
  private next = 1;
  private parts: Buffer[] = [];
  private bytes = 0;

  constructor(readonly maxBytes: number = DEFAULT_MAX_VOICE_BYTES) {}

  get bufferedBytes(): number {
    return this.bytes;
  }

  add(c: VoiceChunk): AssembleResult {
    if (c.index === 1) {
      // A first chunk starts a new recording, whatever was unfinished.
      this.reset();
      this.session = c.session;
      this.total = c.total;
    } else if (this.session === null || c.session !== this.session) {
      return this.drop('a chunk of a recording whose start was not seen');
    } else if (c.index < this.next) {
      return { status: 'duplicate' };
    } else if (c.index > this.next) {
      return this.drop(`chunk ${c.index} came before chunk ${this.next}`);
    } else if (c.total !== this.total) {
      return this.drop('the total changed mid-recording');
    }
    if (this.bytes + c.audio.length > this.maxBytes) return this.drop(`the recording is over ${this.maxBytes} bytes`);
    this.parts.push(c.audio);
    this.bytes += c.audio.length;
    this.next = c.index + 1;
    if (c.index < this.total) return { status: 'partial', received: c.index, total: this.total };
    const done = { status: 'complete' as const, session: this.session!, audio: Buffer.concat(this.parts) };
    this.reset();
    return done;
  }

  reset(): void {
    this.session = null;
    this.total = 0;
    this.next = 1;
    this.parts = [];
    this.bytes = 0;
  }

  private drop(reason: string): AssembleResult {
    this.reset();
    return { status: 'dropped', reason };
  }
}
