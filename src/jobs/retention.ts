// One job for every retention limit: chat and media, fixes (with their cells and access points),
// learned access points not heard within the location retention, audit entries, alerts, consent
// records, deleted history ranges, ended binding periods, finished
// commands, spent invites and binding codes, expired password-reset codes, delivered pushes. Each class is deleted in bounded batches, so
// a large backlog never holds the store for long; the report feeds the metrics.
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';

const DAY_MS = 86_400_000;
const BATCH = 1000;
/** Spent invites and delivered pushes are kept this long for support, then go. */
const SPENT_KEEP_MS = 7 * DAY_MS;
/** Push registrations of installations signed out are kept this long, then forgotten. */
const UNTIED_KEEP_MS = 30 * DAY_MS;

export interface RetentionReport {
  messages: number;
  media: number;
  fixes: number;
  healthReadings: number;
  accessPoints: number;
  audit: number;
  alerts: number;
  consents: number;
  erasures: number;
  bindings: number;
  commands: number;
  invites: number;
  bindingCodes: number;
  resetCodes: number;
  pushes: number;
  geofenceEvents: number;
  pushRegistrations: number;
}

/** Repeats a batch delete until a batch comes back short; returns the total. */
async function drain(batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await batch();
    total += n;
    if (n < BATCH) return total;
  }
}

export async function purgeExpired(store: Store, config: Config, now: number): Promise<RetentionReport> {
  let media = 0;
  const messages = await drain(async () => {
    const r = await store.messages.purgeOlderThan(now - config.chat.retentionDays * DAY_MS, BATCH);
    await store.mediaBlobs.delete(r.media);
    media += r.media.length;
    return r.messages;
  });
  return {
    messages,
    media,
    // A fix's cells and access points (fix_observations) go with it (foreign key, cascade).
    fixes: await drain(() => store.fixes.purgeOlderThan(now - config.location.retentionDays * DAY_MS, BATCH)),
    healthReadings: await drain(() => store.health.purgeOlderThan(now - config.watch.healthRetentionDays * DAY_MS, BATCH)),
    // Where a family's access points are is location data: kept while its watches still hear
    // them, and no longer than the fixes once they go quiet.
    accessPoints: await drain(() => store.accessPoints.purgeStale(now - config.location.retentionDays * DAY_MS, BATCH)),
    audit: await drain(() => store.retention.auditOlderThan(now - config.auditRetentionDays * DAY_MS, BATCH)),
    // Alerts carry the watch's position (and SOS its whereabouts): kept like data, not forever.
    alerts: await drain(() => store.retention.alertsOlderThan(now - config.alertRetentionDays * DAY_MS, BATCH)),
    consents: await drain(() => store.retention.consentsOlderThan(now - config.consentRetentionDays * DAY_MS, BATCH)),
    erasures: await drain(() => store.retention.erasuresOlderThan(now - config.location.retentionDays * DAY_MS, BATCH)),
    // A former family's binding period is kept while anything it covered may still be: its
    // fixes, messages, alerts and consent records.
    bindings: await drain(() =>
      store.retention.endedBindingsOlderThan(
        now -
          Math.max(
            config.location.retentionDays,
            config.chat.retentionDays,
            config.alertRetentionDays,
            config.consentRetentionDays,
          ) *
            DAY_MS,
        BATCH,
      ),
    ),
    commands: await drain(() => store.retention.finishedCommandsOlderThan(now - config.commands.retentionDays * DAY_MS, BATCH)),
    invites: await drain(() => store.retention.spentInvites(now, now - SPENT_KEEP_MS, BATCH)),
    bindingCodes: await drain(() => store.retention.expiredBindingCodes(now, BATCH)),
    // At most one per account, so one statement is bounded.
    resetCodes: await store.passwordResets.purgeExpired(now),
    pushes: await drain(() => store.retention.settledPushesOlderThan(now - SPENT_KEEP_MS, BATCH)),
    // Crossings are positions of a child: kept no longer than the fixes.
    geofenceEvents: await drain(() => store.geofenceEvents.purgeOlderThan(now - config.location.retentionDays * DAY_MS, BATCH)),
    // An installation nobody signed in on for a month: its token goes.
    pushRegistrations: await drain(() => store.pushRegistrations.purgeUntiedBefore(now - UNTIED_KEEP_MS, BATCH)),
  };
}
