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

  /** Alerts raised before `before` (acknowledged or not): they carry the watch's position. */
  alertsOlderThan(before: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE created_at < ${before} LIMIT ${batch})`.execute(this.db),
    );
  }

  /**
   * Consent records older than `before`, but for the newest record of each permission of a watch
   * in the family it is bound to now (since that binding): who turned on what the watch shares
   * today stays provable for as long as it shares it.
   */
  consentsOlderThan(before: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM consent_records WHERE id IN (SELECT c.id FROM consent_records c
        WHERE c.at < ${before}
        AND NOT EXISTS (SELECT 1 FROM devices d
          WHERE d.id = c.device_id AND d.family_id = c.family_id AND c.at >= COALESCE(d.bound_at, 0)
          AND NOT EXISTS (SELECT 1 FROM consent_records n
            WHERE n.device_id = c.device_id AND n.family_id = c.family_id AND n.permission = c.permission
            AND (n.at > c.at OR (n.at = c.at AND n.id > c.id))))
        LIMIT ${batch})`.execute(this.db),
    );
  }

  /** Deleted history ranges that end before `before`: fixes that old are refused at ingest anyway. */
  erasuresOlderThan(before: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM fix_erasures WHERE id IN (SELECT id FROM fix_erasures WHERE to_ts < ${before} LIMIT ${batch})`.execute(
        this.db,
      ),
    );
  }

  /** Binding periods that ended before `before`: nothing they covered is kept any more. */
  endedBindingsOlderThan(before: number, batch: number): Promise<number> {
    return this.count(
      sql`DELETE FROM device_bindings WHERE (device_id, family_id, bound_at) IN
        (SELECT device_id, family_id, bound_at FROM device_bindings
          WHERE unbound_at IS NOT NULL AND unbound_at < ${before} LIMIT ${batch})`.execute(this.db),
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
