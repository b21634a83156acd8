// A latency histogram that several processes can fill and the parent can merge exactly: log-linear
// buckets over whole microseconds (every value below 2,048 µs has its own bucket; above, each
// power of two is cut into 1,024 buckets, so a bucket is at most 0.1% of its value wide). Merging
// adds bucket counts, so the merged percentiles are those of all samples together, to that
// resolution; count, sum, min and max are exact.
import type { Summary } from './stats.js';

const SUB = 2048;
const HALF = SUB / 2;
/** 2^36 µs is 19 hours: anything above is clamped there. */
const MAX_US = 2 ** 36;

/** Bucket index of a whole number of microseconds. */
function indexOf(us: number): number {
  if (us < SUB) return us;
  const k = Math.floor(Math.log2(us)) - 10;
  // Guard against floating-point log2 just below a power of two.
  const shift = us >= 2 ** (k + 11) ? k + 1 : us < 2 ** (k + 10) ? k - 1 : k;
  return HALF * shift + Math.floor(us / 2 ** shift);
}

/** The smallest and the largest microsecond value of a bucket. */
function boundsOf(index: number): [number, number] {
  if (index < SUB) return [index, index];
  const shift = Math.floor(index / HALF) - 1;
  const low = (index - HALF * shift) * 2 ** shift;
  return [low, low + 2 ** shift - 1];
}

/** The wire form: non-empty buckets as [index, count] pairs, plus the exact aggregates. */
export interface HistogramData {
  buckets: [number, number][];
  count: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  private sumUs = 0;
  private minUs = Infinity;
  private maxUs = 0;

  /** Records a value in milliseconds (stored in whole microseconds). */
  recordMs(ms: number): void {
    const us = Math.min(MAX_US, Math.max(0, Math.round(ms * 1000)));
    const i = indexOf(us);
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.count++;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.counts.clear();
    this.count = 0;
    this.sumUs = 0;
    this.minUs = Infinity;
    this.maxUs = 0;
  }

  toData(): HistogramData {
    return {
      buckets: [...this.counts.entries()],
      count: this.count,
      sumUs: this.sumUs,
      minUs: this.count ? this.minUs : 0,
      maxUs: this.maxUs,
    };
  }

  /** Adds another histogram's samples (exact: bucket counts add up). */
  merge(d: HistogramData): this {
    for (const [i, n] of d.buckets) this.counts.set(i, (this.counts.get(i) ?? 0) + n);
    if (d.count > 0) {
      this.count += d.count;
      this.sumUs += d.sumUs;
      this.minUs = Math.min(this.minUs, d.minUs);
      this.maxUs = Math.max(this.maxUs, d.maxUs);
    }
    return this;
  }

  static from(parts: readonly HistogramData[]): Histogram {
    const h = new Histogram();
    for (const p of parts) h.merge(p);
    return h;
  }

  /**
   * Nearest-rank percentiles in milliseconds. A bucket stands for the middle of its range,
   * clamped to the exact min and max (so p100 is the max).
   */
  summary(): Summary {
    if (this.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
    const at = (q: number): number => {
      const rank = Math.max(1, Math.ceil(q * this.count));
      let seen = 0;
      for (const [i, n] of sorted) {
        seen += n;
        if (seen >= rank) {
          const [lo, hi] = boundsOf(i);
          return Math.min(this.maxUs, Math.max(this.minUs, (lo + hi) / 2));
        }
      }
      return this.maxUs;
    };
    const ms = (us: number) => Math.round(us / 10) / 100;
    return {
      count: this.count,
      mean: ms(this.sumUs / this.count),
      p50: ms(at(0.5)),
      p90: ms(at(0.9)),
      p99: ms(at(0.99)),
      max: ms(this.maxUs),
    };
  }
}

/** For tests of the bucket layout: the bucket bounds of a value in µs. */
export const bucketBounds = (us: number): [number, number] => boundsOf(indexOf(us));
