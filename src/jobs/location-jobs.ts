// Periodic location work: area stats, offline detection, SOS re-notification. Each run is
// guarded so a slow store does not pile runs up, and every failure is logged, never thrown.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { LocationServices } from '../location/index.js';
import { newlyOffline } from './offline.js';

export function startLocationJobs(s: LocationServices, config: Config, clock: () => number, logger: Logger): () => void {
  const loc = config.location;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, name: string, job: () => Promise<void> | void) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      Promise.resolve()
        .then(job)
        .catch((err: unknown) => logger.error({ err, job: name }, 'job failed'))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    timers.push(timer);
  };

  every(loc.areaStatsIntervalS * 1000, 'area-stats', () => s.area.sendStats(clock(), loc.areaActiveWindowS * 1000));

  const silenceMs = loc.intervalS * loc.offlineAfterIntervals * 1000;
  const raised = new Map<string, number>();
  every(Math.min(silenceMs / 4, 5_000), 'offline', async () => {
    for (const l of newlyOffline(s.latest.all(), clock(), silenceMs, raised)) {
      const { familyId, deviceId, lat, lng } = l.event;
      await s.alerts.raise({ familyId, deviceId, type: 'offline', ts: clock(), lat, lng });
    }
  });

  const renotifyMs = loc.sosRenotifyS * 1000;
  every(Math.max(250, renotifyMs / 4), 'sos-renotify', async () => {
    await s.alerts.renotifySos(renotifyMs);
  });

  return () => timers.forEach(clearInterval);
}
