// The family's data rights: exports (streamed JSON, audit-logged), account cancellation for good,
// and the operators' incident notices to affected families.
import { randomUUID } from 'node:crypto';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { normalizeCode, randomCode, sha256 } from '../auth/secrets.js';
import { E } from '../contract/errors.js';
import type { CommandView, Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { FamilyNotifier } from '../push/family-notifier.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { CommandRow } from '../store/commands.js';
import type { Store } from '../store/store.js';
import { exportDevice, exportUser } from './export.js';

const CONFIRM = 'delete my account';

function decodeAuditCursor(cursor: string): { at: number; id: string } {
  const m = /^(\d{1,16}):([\w-]{1,128})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw E.badCursor();
  return { at: Number(m[1]), id: m[2]! };
}
/** Exports streamed at once: one per person, a few per node (each holds a database cursor). */
const EXPORTS_PER_USER = 1;
const EXPORTS_PER_NODE = 4;

export class PrivacyService {
  private readonly exporting = new Map<string, number>();
  private exportsRunning = 0;

  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      roomControl: RoomControl;
      notifyOffline: FamilyNotifier;
      viewCommand: (row: CommandRow) => CommandView;
      /** A watch of a deleted family left it: unbind everything of it everywhere. */
      watchLeft: (deviceId: string, familyId: string) => Promise<void>;
      /** A family was deleted: drop what the hub holds of it in memory (its learned access points). */
      familyDeleted: (familyId: string) => void;
      /** Checks a password through the login throttle (a wrong one counts as a failed login). */
      confirmPassword: (account: string, password: string | undefined, hash: string) => Promise<void>;
      clock: () => number;
      newId: () => string;
    },
    private readonly opts: { bindingCodeTtlS: number },
  ) {}

  private audit(actor: Principal, action: string, familyId: string | null, subject: Principal | null, details = {}) {
    return this.deps.store.audit.record({
      id: this.deps.newId(),
      at: this.deps.clock(),
      actor,
      action,
      familyId,
      subject,
      details,
    });
  }

  /** Streams an export, refusing one too many at once; the slot is freed when the stream ends. */
  private bounded(user: Principal, chunks: AsyncGenerator<string>): AsyncGenerator<string> {
    const mine = this.exporting.get(user.id) ?? 0;
    if (mine >= EXPORTS_PER_USER || this.exportsRunning >= EXPORTS_PER_NODE) throw E.rateLimited('exports at once', 5000);
    this.exporting.set(user.id, mine + 1);
    this.exportsRunning++;
    const release = () => {
      this.exportsRunning--;
      const left = (this.exporting.get(user.id) ?? 1) - 1;
      if (left > 0) this.exporting.set(user.id, left);
      else this.exporting.delete(user.id);
    };
    return (async function* () {
      try {
        yield* chunks;
      } finally {
        release();
      }
    })();
  }

  /** GET /v1/me/export: every personal datum the hub holds on the caller. */
  async exportMe(user: Principal): Promise<AsyncGenerator<string>> {
    await this.deps.guard.check(RULES['account.export'], user, {});
    await this.audit(user, 'export.user', null, user);
    const { store } = this.deps;
    return this.bounded(user, exportUser(store, store.privacy, this.deps.viewCommand, user.id, this.deps.clock()));
  }

  /**
   * The owner's export of a child's data: what the watch recorded while it was the family's, in
   * each of its binding periods (the current one, and earlier ones: a family that had the watch
   * keeps this right after unbinding it). A family that never had it: NOT_FOUND.
   */
  async exportWatch(user: Principal, req: { familyId: string; deviceId: string }): Promise<AsyncGenerator<string>> {
    await this.deps.guard.check(RULES['watch.export'], user, req);
    const { store } = this.deps;
    const periods = await store.devices.bindingsOf(req.deviceId, req.familyId);
    if (periods.length === 0) throw E.noSuchWatch();
    await this.audit(
      user,
      'export.device',
      req.familyId,
      { kind: 'device', id: req.deviceId },
      {
        periods: periods.map((p) => ({ boundAt: p.boundAt, unboundAt: p.unboundAt })),
      },
    );
    return this.bounded(
      user,
      exportDevice(store, store.privacy, this.deps.viewCommand, req.deviceId, req.familyId, periods, this.deps.clock()),
    );
  }

  /**
   * `GET /v1/families/:fid/audit?cursor&limit` (owner): who read, exported or deleted what of the
   * family's data, when, about whom; newest first, a page at a time.
   */
  async familyAudit(user: Principal, req: { familyId: string; cursor?: string | undefined; limit?: number | undefined }) {
    await this.deps.guard.check(RULES['family.audit'], user, req);
    const limit = req.limit ?? 50;
    const before = req.cursor === undefined ? undefined : decodeAuditCursor(req.cursor);
    const rows = await this.deps.store.audit.pageForFamily(req.familyId, before, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      entries: page.map((e) => ({
        id: e.id,
        at: e.at,
        actor: { ...e.actor, ...(e.actorName !== null ? { nickname: e.actorName } : {}) },
        action: e.action,
        subject: e.subject,
        details: e.details,
      })),
      nextCursor: rows.length > limit && last ? Buffer.from(`${last.at}:${last.id}`).toString('base64url') : null,
    };
  }

  /**
   * DELETE /v1/me: the account goes for good. An account with a password re-confirms it (each
   * wrong one counts as a failed login); an outside-login account confirms with a phrase.
   */
  async deleteAccount(user: Principal, body: { password?: string | undefined; confirm?: string | undefined }): Promise<void> {
    await this.deps.guard.check(RULES['account.delete'], user, body);
    const { store, roomControl } = this.deps;
    const row = await store.users.findById(user.id);
    if (!row) throw E.accountGone();
    if (row.password_hash) await this.deps.confirmPassword(row.email ?? row.id, body.password, row.password_hash);
    else if (body.confirm !== CONFIRM)
      throw E.confirmRequired(`confirm: send "${CONFIRM}" to delete an account without a password`);
    const codes = new Map<string, string>();
    const expiresAt = this.deps.clock() + this.opts.bindingCodeTtlS * 1000;
    const result = await store.erasure.erase(user.id, (deviceId) => {
      const code = randomCode();
      codes.set(deviceId, code);
      return { hash: sha256(normalizeCode(code)), expiresAt };
    });
    await store.mediaBlobs.delete(result.mediaIds);
    // The rows went with the families (cascade); what this node holds of them goes now, so no
    // later write-back brings any of it back.
    for (const fid of result.deletedFamilies) this.deps.familyDeleted(fid);
    roomControl.disconnect(user);
    const now = this.deps.clock();
    for (const fid of result.leftFamilies)
      roomControl.emit(rooms.family(fid), 'presence', { kind: 'user', id: user.id, online: false, lastSeen: now });
    for (const did of result.unboundDevices) {
      for (const fid of result.deletedFamilies) await this.deps.watchLeft(did, fid);
      // The watch shows its new code, so it can be bound again.
      roomControl.emit(rooms.device(did), 'binding:code', { bindingCode: codes.get(did)!, expiresAt });
    }
  }

  /** POST /v1/ops/incidents: a notice to every affected family, by socket and push, audited per family. */
  async incident(op: Principal, scopes: readonly string[], req: { message: string; familyIds?: string[] | undefined }) {
    await this.deps.guard.check(RULES['ops.incident'], op, req, scopes);
    const { store } = this.deps;
    const targets = req.familyIds ?? (await store.families.allIds());
    const id = randomUUID();
    const at = this.deps.clock();
    let notified = 0;
    for (const fid of targets) {
      if (!(await store.families.findById(fid))) continue;
      this.deps.roomControl.emit(rooms.family(fid), 'incident', { id, message: req.message, at });
      await this.deps.notifyOffline(fid, null, { kind: 'incident', familyId: fid, ts: at, incidentId: id, notice: req.message });
      await this.audit(op, 'incident.notified', fid, null, { incidentId: id });
      notified++;
    }
    return { id, notifiedFamilies: notified };
  }
}
