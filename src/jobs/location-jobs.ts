// Periodic location work: area stats, offline detection, SOS re-notification, writing back learned
// access points.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { LocationServices } from '../location/index.js';
import type { DeviceDirectory } from '../store/device-directory.js';
import { every } from './every.js';

const ACCESS_POINT_FLUSH_MS = 10_000;

export function startLocationJobs(
  s: LocationServices,
  devices: DeviceDirectory,
  config: Config,
  clock: () => number,
  logger: Logger,
): () => void {
  const loc = config.location;
  const stops: (() => void)[] = [];
  const run = (ms: number, name: string, job: () => Promise<unknown> | unknown) => stops.push(every(ms, name, logger, job));

  run(loc.areaStatsIntervalS * 1000, 'area-stats', () => s.area.sendStats(clock(), loc.areaActiveWindowS * 1000));

  // Offline detection from the store (src/location/liveness.ts): survives restarts, one alert
  // per silence across the cluster.
  const silenceMs = loc.intervalS * loc.offlineAfterIntervals * 1000;
  run(Math.min(silenceMs / 4, 5_000), 'offline', () => s.liveness.sweep());

  // Learned access points are written back in batches; at shutdown the hub flushes the rest.
  run(ACCESS_POINT_FLUSH_MS, 'access-points-flush', () => s.positioning.accessPoints.flush());

  // The SOS escalation: every node looks, one claims each send (src/store/alerts.ts claimEscalation).
  const steps = [loc.sosRenotifyS * 1000, ...loc.sosEscalationS.slice(1).map((x, i) => (x - loc.sosEscalationS[i]!) * 1000)];
  run(Math.min(1000, Math.max(100, Math.min(...steps) / 4)), 'sos-escalation', async () => {
    await s.alerts.escalateSos();
  });

  return () => stops.forEach((stop) => stop());
}
