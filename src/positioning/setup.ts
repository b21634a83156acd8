// The positioning parts of one hub, over its store: the family's learned access points, the
// cell-tower table behind its cache, and the outside provider when the configuration names one
// (HUB_GEOLOCATION_URL; none otherwise). "Provider or none" is the only choice made here, and it
// is made from the configuration alone: nothing here depends on single node or cluster.
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import { CellTowerIndex } from './cell-tower-index.js';
import { GeolocationProvider } from './geolocation-provider.js';
import { LearnedAccessPoints } from './learned-access-points.js';
import { PositioningMetrics } from './metrics.js';
import { PositionResolver } from './resolver.js';

export interface Positioning {
  resolver: PositionResolver;
  accessPoints: LearnedAccessPoints;
  cellTowers: CellTowerIndex;
  provider: GeolocationProvider | undefined;
  metrics: PositioningMetrics;
}

export function createPositioning(o: {
  store: Store;
  geolocation: Config['geolocation'];
  registry: Registry;
  clock: () => number;
}): Positioning {
  const { store, geolocation, clock } = o;
  const metrics = new PositioningMetrics(o.registry);
  const accessPoints = new LearnedAccessPoints(store.accessPoints, { clock });
  const cellTowers = new CellTowerIndex(store.cellTowers, { clock });
  const provider = geolocation
    ? new GeolocationProvider({
        url: geolocation.url,
        apiKey: geolocation.apiKey,
        timeoutMs: geolocation.timeoutMs,
        cacheEntries: geolocation.cacheEntries,
        clock,
        metrics,
      })
    : undefined;
  const resolver = new PositionResolver({ accessPoints, cellTowers, provider, metrics, clock });
  return { resolver, accessPoints, cellTowers, provider, metrics };
}
