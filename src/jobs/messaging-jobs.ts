// Periodic work for messaging and retention: command expiry, the push outbox, and the purge of
// chat and location data past their retention, in bounded batches so the hub never stalls.
import type { Logger } from 'pino';
import type { CommandService } from '../commands/service.js';
import type { Config } from '../config.js';
import type { PushOutbox } from '../push/outbox.js';
import type { Store } from '../store/store.js';
import { every } from './every.js';

const DAY_MS = 86_400_000;
const PURGE_BATCH = 1000;
const RETENTION_EVERY_MS = 3_600_000;

export interface RetentionReport {
  messages: number;
  media: number;
  fixes: number;
}

/** Deletes what is past retention, batch by batch, until nothing is left. */
export async function purgeExpired(store: Store, config: Config, now: number): Promise<RetentionReport> {
  const report: RetentionReport = { messages: 0, media: 0, fixes: 0 };
  for (;;) {
    const r = await store.messages.purgeOlderThan(now - config.chat.retentionDays * DAY_MS, PURGE_BATCH);
    await store.mediaBlobs.delete(r.media);
    report.messages += r.messages;
    report.media += r.media.length;
    if (r.messages < PURGE_BATCH) break;
  }
  for (;;) {
    const n = await store.fixes.purgeOlderThan(now - config.location.retentionDays * DAY_MS, PURGE_BATCH);
    report.fixes += n;
    if (n < PURGE_BATCH) break;
  }
  return report;
}

export function startMessagingJobs(
  o: { store: Store; commands: CommandService; outbox: PushOutbox; config: Config; clock: () => number; logger: Logger },
): () => void {
  const stops = [
    every(5_000, 'command-expiry', o.logger, () => o.commands.expireDue()),
    o.outbox.start(1_000),
    every(RETENTION_EVERY_MS, 'retention', o.logger, async () => {
      const r = await purgeExpired(o.store, o.config, o.clock());
      if (r.messages + r.fixes > 0) o.logger.info(r, 'retention purge');
    }),
  ];
  return () => stops.forEach((stop) => stop());
}
