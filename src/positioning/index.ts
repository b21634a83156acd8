// Positions without GPS: what the location path and the composition root use.
export { CellTowerIndex, type CellTowerIndexOptions } from './cell-tower-index.js';
export { GeolocationProvider, type GeolocationProviderOptions, type ProviderAnswer } from './geolocation-provider.js';
export { type GpsFix, LearnedAccessPoints, type LearnedAccessPointsOptions } from './learned-access-points.js';
export { PositioningMetrics } from './metrics.js';
export {
  type CellObservation,
  type Observations,
  type WifiObservation,
  cellsField,
  checkFixPosition,
  fixObservationShape,
  hasObservations,
  serialiseObservations,
  wifiField,
} from './observations.js';
export { PositionResolver, type PositionResolverDeps, type ResolvedPosition } from './resolver.js';
