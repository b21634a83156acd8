// A circuit breaker for the outside provider: after `failureThreshold` failures in a row it opens
// (no requests: a provider that is down or out of quota is not hammered, and fixes do not wait
// on it); after `openMs` one trial request is let through (half-open); its success closes the
// breaker, its failure opens it again.
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold: number;
  openMs: number;
  clock?: () => number;
  onState?: (state: BreakerState) => void;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private readonly clock: () => number;

  constructor(private readonly opts: BreakerOptions) {
    if (!(opts.failureThreshold >= 1)) throw new RangeError('failureThreshold must be at least 1');
    this.clock = opts.clock ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a request may go now; in half-open, only the one trial may. */
  tryAcquire(): boolean {
    if (this.current === 'open') {
      if (this.clock() - this.openedAt < this.opts.openMs) return false;
      this.set('half_open');
    }
    if (this.current === 'half_open') {
      if (this.trialInFlight) return false;
      this.trialInFlight = true;
    }
    return true;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    if (this.current !== 'closed') this.set('closed');
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.current === 'half_open' || this.failures >= this.opts.failureThreshold) {
      this.openedAt = this.clock();
      this.set('open');
    }
  }

  private set(state: BreakerState): void {
    this.current = state;
    this.opts.onState?.(state);
  }
}
