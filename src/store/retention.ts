// Batch deletes for the retention job. Each deletes at most `batch` rows and says how many.
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

export class RetentionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private async count(q: Promise<{ numAffectedRows?: bigint }>): Promise<number> {
    return Number((await q).numAffectedRows ?? 0);
  }

  auditOlderThan(before: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ${before} LIMIT ${batch})`.execute(this.db),
    );
  }

  finishedCommandsOlderThan(before: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM commands WHERE id IN (SELECT id FROM commands
        WHERE status NOT IN ('queued', 'sent') AND updated_at < ${before} LIMIT ${batch})`.execute(this.db),
    );
  }

  /** Invites used, or expired, before `spentBefore`. */
  spentInvites(now: number, spentBefore: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM invites WHERE code_hash IN (SELECT code_hash FROM invites
        WHERE (used_at IS NOT NULL AND used_at < ${spentBefore}) OR expires_at < ${Math.min(now, spentBefore)}
        LIMIT ${batch})`.execute(this.db),
    );
  }

  /** Forgets binding codes that expired unused (used ones are cleared when used). */
  expiredBindingCodes(now: number, batch: number): Promise<number> {
    return this.count(
      sql`UPDATE devices SET binding_code_hash = NULL, binding_code_expires_at = NULL WHERE id IN (SELECT id FROM devices
        WHERE binding_code_expires_at IS NOT NULL AND binding_code_expires_at < ${now} LIMIT ${batch})`.execute(this.db),
    );
  }

  settledPushesOlderThan(before: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM push_outbox WHERE id IN (SELECT id FROM push_outbox
        WHERE (sent_at IS NOT NULL AND sent_at < ${before}) OR (failed_at IS NOT NULL AND failed_at < ${before})
        LIMIT ${batch})`.execute(this.db),
    );
  }
}
