// The mediasoup worker pool. mediasoup is an optional dependency: where its worker binary cannot
// be installed, openMedia() answers undefined and the hub runs without calls. A worker that dies
// is replaced, and the calls it carried are ended through onWorkerDied.
import type { Logger } from 'pino';
import type { types } from 'mediasoup';

export interface MediaSettings {
  workers: number;
  listenIp: string;
  announcedIp: string | undefined;
  minPort: number;
  maxPort: number;
}

export interface MediaWorkers {
  readonly settings: MediaSettings;
  /** The least loaded worker. */
  pick(): types.Worker;
  /** CPU seconds and resident memory of every worker, for metrics. */
  usage(): Promise<{ pid: number; cpuSeconds: number; rssBytes: number }[]>;
  onWorkerDied(listener: (worker: types.Worker) => void): void;
  close(): void;
}

type Mediasoup = typeof import('mediasoup');

async function loadMediasoup(logger: Logger): Promise<Mediasoup | undefined> {
  try {
    return await import('mediasoup');
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'mediasoup is not installed: calls are unavailable');
    return undefined;
  }
}

export async function openMedia(settings: MediaSettings, logger: Logger): Promise<MediaWorkers | undefined> {
  if (settings.workers === 0) {
    logger.info('MEDIASOUP_WORKERS=0: calls are off');
    return undefined;
  }
  const mediasoup = await loadMediasoup(logger);
  if (!mediasoup) return undefined;
  const count = settings.workers;
  const workers: types.Worker[] = [];
  const diedListeners: ((w: types.Worker) => void)[] = [];
  let closed = false;

  // Each worker gets its own slice of the port range, so restarts never collide.
  const span = Math.floor((settings.maxPort - settings.minPort + 1) / count);
  const start = async (slot: number): Promise<void> => {
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      rtcMinPort: settings.minPort + slot * span,
      rtcMaxPort: settings.minPort + (slot + 1) * span - 1,
      appData: { slot, routers: 0 },
    });
    worker.on('died', (err) => {
      logger.error({ err, pid: worker.pid }, 'mediasoup worker died');
      workers.splice(workers.indexOf(worker), 1);
      for (const l of diedListeners) l(worker);
      if (!closed) start(slot).catch((e: unknown) => logger.error({ err: e }, 'mediasoup worker restart failed'));
    });
    workers.push(worker);
  };

  try {
    for (let slot = 0; slot < count; slot++) await start(slot);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'mediasoup worker cannot start: calls are unavailable');
    for (const w of workers) w.close();
    return undefined;
  }
  logger.info({ workers: count }, 'mediasoup ready');

  return {
    settings,
    pick() {
      const w = [...workers].sort((a, b) => (a.appData.routers as number) - (b.appData.routers as number))[0];
      if (!w) throw new Error('no mediasoup worker');
      return w;
    },
    async usage() {
      return Promise.all(
        workers.map(async (w) => {
          const u = await w.getResourceUsage();
          return { pid: w.pid, cpuSeconds: (u.ru_utime + u.ru_stime) / 1000, rssBytes: u.ru_maxrss * 1024 };
        }),
      );
    },
    onWorkerDied: (l) => diedListeners.push(l),
    close() {
      closed = true;
      for (const w of workers) w.close();
    },
  };
}
