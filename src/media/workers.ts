// The mediasoup worker pool. mediasoup is an optional dependency: where the package or its worker
// binary cannot be installed, openMedia() answers why, the hub runs without calls, and a call
// attempt is answered UNAVAILABLE with that reason. A worker that dies is replaced, and the calls
// it carried are ended through onWorkerDied.
import type { Logger } from 'pino';
import { loadMediasoup, type Worker } from './sfu-types.js';

export interface MediaSettings {
  workers: number;
  listenIp: string;
  announcedIp: string | undefined;
  minPort: number;
  maxPort: number;
}

export interface MediaWorkers {
  readonly available: true;
  readonly settings: MediaSettings;
  /** The least loaded worker. */
  pick(): Worker;
  /** CPU seconds and resident memory of every worker, for metrics. */
  usage(): Promise<{ pid: number; cpuSeconds: number; rssBytes: number }[]>;
  onWorkerDied(listener: (worker: Worker) => void): void;
  close(): void;
}

/** No calls on this node, and why (told to whoever tries to call). */
export interface MediaOff {
  readonly available: false;
  readonly reason: string;
  close(): void;
}

export type Media = MediaWorkers | MediaOff;

/** How to turn calls on, for the messages below; docs/operations.md#calls has the details. */
const HOW_TO_ENABLE =
  'see docs/operations.md#calls (with internet, `npm install` fetches it; offline, `npm run media:worker` builds it)';

export const mediaOff = (reason: string): MediaOff => ({ available: false, reason, close: () => undefined });

export async function openMedia(settings: MediaSettings, logger: Logger): Promise<Media> {
  if (settings.workers === 0) {
    logger.info('MEDIASOUP_WORKERS=0: calls are off');
    return mediaOff('calls are turned off on this hub (MEDIASOUP_WORKERS=0)');
  }
  const loaded = await loadMediasoup();
  if ('missing' in loaded) {
    logger.warn(
      { err: loaded.missing },
      `calls are unavailable: the optional mediasoup package is not installed; ${HOW_TO_ENABLE}`,
    );
    return mediaOff(`calls are unavailable on this hub: its media server (mediasoup) is not installed; ${HOW_TO_ENABLE}`);
  }
  const { mediasoup } = loaded;
  const count = settings.workers;
  const workers: Worker[] = [];
  const diedListeners: ((w: Worker) => void)[] = [];
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
    logger.warn({ err: (err as Error).message }, `calls are unavailable: the mediasoup worker cannot start; ${HOW_TO_ENABLE}`);
    for (const w of workers) w.close();
    return mediaOff(`calls are unavailable on this hub: its media worker cannot start; ${HOW_TO_ENABLE}`);
  }
  logger.info({ workers: count }, 'mediasoup ready');

  return {
    available: true,
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
