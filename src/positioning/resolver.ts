// Locates a fix that has no GPS position, in order: the access points the family's own GPS fixes
// taught us; the local cell-tower table; the outside provider (if configured). The first that
// answers wins, with its own accuracy. No answer means a sign of life only: the caller stores the
// fix without coordinates and broadcasts no position — never 0,0.
import { locateFromTowers } from './cell-locator.js';
import type { CellTowerIndex } from './cell-tower-index.js';
import type { GeolocationProvider } from './geolocation-provider.js';
import type { LearnedAccessPoints } from './learned-access-points.js';
import type { PositioningMetrics, ResolverName } from './metrics.js';
import type { Observations } from './observations.js';

export interface ResolvedPosition {
  lat: number;
  lng: number;
  /** Metres. */
  acc: number;
  /** The fix's `source`. */
  source: 'wifi' | 'cell';
  resolver: Exclude<ResolverName, 'none'>;
}

export interface PositionResolverDeps {
  accessPoints?: LearnedAccessPoints | undefined;
  cellTowers?: CellTowerIndex | undefined;
  provider?: GeolocationProvider | undefined;
  metrics?: PositioningMetrics | undefined;
  clock?: () => number;
}

export class PositionResolver {
  private readonly clock: () => number;

  constructor(private readonly deps: PositionResolverDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Every resolver in order; awaits the provider (bounded by its timeout) only when the local ones fail. */
  async resolve(familyId: string, obs: Observations): Promise<ResolvedPosition | undefined> {
    const found = (await this.local(familyId, obs)) ?? (await this.remote(obs));
    this.deps.metrics?.resolutions.inc({ resolver: found?.resolver ?? 'none' });
    return found;
  }

  /** Whether an outside provider is configured (resolveRemote can answer). */
  get hasProvider(): boolean {
    return this.deps.provider !== undefined;
  }

  /**
   * The local resolvers only (no network): for a caller that must not wait on the provider.
   * Warm, it answers from memory. A miss counts as `none` only when there is no provider left to
   * ask; the caller then asks `resolveRemote`, which counts the outcome.
   */
  async resolveLocal(familyId: string, obs: Observations): Promise<ResolvedPosition | undefined> {
    const found = await this.local(familyId, obs);
    if (found || !this.hasProvider) this.deps.metrics?.resolutions.inc({ resolver: found?.resolver ?? 'none' });
    return found;
  }

  /** The outside provider alone (after resolveLocal found nothing); never rejects. */
  async resolveRemote(obs: Observations): Promise<ResolvedPosition | undefined> {
    const found = await this.remote(obs).catch(() => undefined);
    this.deps.metrics?.resolutions.inc({ resolver: found?.resolver ?? 'none' });
    return found;
  }

  private async local(familyId: string, obs: Observations): Promise<ResolvedPosition | undefined> {
    const now = this.clock();
    const { accessPoints, cellTowers } = this.deps;
    if (accessPoints && obs.wifi && obs.wifi.length > 0) {
      // Warm: answered from memory. Cold: one load of the family's APs, then memory.
      const warm = accessPoints.locateWarm(familyId, obs.wifi, now);
      const est = warm === 'cold' ? await accessPoints.locate(familyId, obs.wifi, now) : warm;
      if (est) return position(est, 'wifi', 'learned_wifi');
    }
    if (cellTowers && obs.cells && obs.cells.length > 0) {
      const towers = cellTowers.lookupWarm(obs.cells) ?? (await cellTowers.lookup(obs.cells));
      const est = locateFromTowers(towers);
      if (est) return position(est, 'cell', 'cell_table');
    }
    return undefined;
  }

  private async remote(obs: Observations): Promise<ResolvedPosition | undefined> {
    const answer = await this.deps.provider?.locate(obs);
    return answer && position(answer, answer.usedWifi ? 'wifi' : 'cell', 'provider');
  }
}

function position(
  e: { lat: number; lng: number; acc: number },
  source: ResolvedPosition['source'],
  resolver: ResolvedPosition['resolver'],
): ResolvedPosition {
  // Whole metres: finer would claim a precision none of these have.
  return { lat: e.lat, lng: e.lng, acc: Math.ceil(e.acc), source, resolver };
}
