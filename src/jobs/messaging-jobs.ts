// Periodic work for messaging and retention: command expiry, the push outbox, and the hourly
// retention purge (src/jobs/retention.ts).
import type { Logger } from 'pino';
import type { CommandService } from '../commands/service.js';
import type { Config } from '../config.js';
import type { PushOutbox } from '../push/outbox.js';
import type { Store } from '../store/store.js';
import type { HubMetrics } from '../metrics.js';
import { every } from './every.js';
import { purgeExpired } from './retention.js';

const RETENTION_EVERY_MS = 3_600_000;

export function startMessagingJobs(o: {
  store: Store;
  commands: CommandService;
  outbox: PushOutbox;
  config: Config;
  clock: () => number;
  logger: Logger;
  metrics: HubMetrics;
}): () => void {
  const stops = [
    every(5_000, 'command-expiry', o.logger, () => o.commands.expireDue()),
    o.outbox.start(1_000),
    every(RETENTION_EVERY_MS, 'retention', o.logger, async () => {
      const report = await purgeExpired(o.store, o.config, o.clock());
      o.metrics.retentionLastRun.set(o.clock() / 1000);
      for (const [kind, n] of Object.entries(report)) o.metrics.retentionRemoved.inc({ kind }, n);
      o.logger.info(report, 'retention purge');
    }),
  ];
  return () => stops.forEach((stop) => stop());
}
