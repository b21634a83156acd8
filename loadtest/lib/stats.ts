// Latency samples and their percentiles (nearest rank), kept in a growable Float64Array.
export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class Samples {
  private buf = new Float64Array(4096);
  count = 0;

  push(v: number): void {
    if (this.count === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.count++] = v;
  }

  /** Summary of the samples from index `from` on (e.g. the last second's). */
  summary(from = 0): Summary {
    return summarize(this.buf.slice(from, this.count));
  }

  reset(): void {
    this.count = 0;
  }
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

export function summarize(values: Float64Array): Summary {
  const n = values.length;
  if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  values.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const at = (q: number) => values[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  return {
    count: n,
    mean: round(sum / n),
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(values[n - 1]!),
  };
}

export { round };
