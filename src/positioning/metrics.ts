// Prometheus metrics of positioning, registered on the hub's own registry (HubMetrics.registry).
// Labels are fixed words: never a cell, MAC, watch or family.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from './circuit-breaker.js';

export const PROVIDER_OUTCOMES = [
  'ok',
  'not_found',
  'rate_limited',
  'rejected',
  'server_error',
  'bad_response',
  'timeout',
  'network_error',
] as const;
export type ProviderOutcome = (typeof PROVIDER_OUTCOMES)[number];

export const RESOLVERS = ['learned_wifi', 'cell_table', 'provider', 'none'] as const;
export type ResolverName = (typeof RESOLVERS)[number];

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export class PositioningMetrics {
  readonly providerRequests: Counter<'outcome'>;
  readonly providerDuration: Histogram<'outcome'>;
  /** Lookups answered without a request: cache hits, or skipped (breaker open, too many in flight). */
  readonly providerShortCircuits: Counter<'reason'>;
  readonly breakerState: Gauge;
  readonly resolutions: Counter<'resolver'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.providerRequests = new Counter({
      name: 'hub_geolocation_requests_total',
      help: 'Requests to the outside geolocation provider, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.providerDuration = new Histogram({
      name: 'hub_geolocation_request_duration_seconds',
      help: 'Latency of requests to the outside geolocation provider',
      labelNames: ['outcome'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.providerShortCircuits = new Counter({
      name: 'hub_geolocation_short_circuits_total',
      help: 'Provider lookups answered without a request (cache_hit, breaker_open, overloaded)',
      labelNames: ['reason'],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'hub_geolocation_breaker_state',
      help: 'Circuit breaker of the geolocation provider: 0 closed, 1 half-open, 2 open',
      registers,
    });
    this.resolutions = new Counter({
      name: 'hub_positioning_resolutions_total',
      help: 'Fixes without GPS by the resolver that located them (none: a sign of life only)',
      labelNames: ['resolver'],
      registers,
    });
  }

  setBreaker(state: BreakerState): void {
    this.breakerState.set(BREAKER_VALUE[state]);
  }
}
