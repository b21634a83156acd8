// Who may do what, as data: each use case has a rule (src/auth/rules.ts) saying which principals
// may ask, which family the request concerns and how to find it, the roles a member needs, and the
// watch permission the action needs. One guard enforces every rule, against the store on every
// request (a removed member's still-valid token stops working at once), and refuses with one
// error factory per refusal (src/contract/errors.ts).
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../backplane/backplane.js';
import { E, type HubError } from '../contract/errors.js';
import type { WatchPermission, Principal, PrincipalKind, Role } from '../contract/models.js';
import type { DeviceDirectory, DeviceInfo } from '../store/device-directory.js';
import type { Store } from '../store/store.js';

/**
 * Where the family a request concerns comes from: a field holding a family id, or the id of a
 * thing that belongs to one (a watch's current family, an alert's, a media item's).
 */
export type FamilyVia = 'family' | 'watch' | 'alert' | 'media';

/** One permission, several (checked in order: the first one off is named), or none. */
type Needed = WatchPermission | readonly WatchPermission[] | undefined;

export interface Rule {
  /** Principal kinds that may ask. */
  who: readonly PrincipalKind[];
  /** The request field naming the family (or the thing whose family it is); absent: no family. */
  family?: { field: string; via: FamilyVia };
  /** The roles a user needs in that family; absent: any member. Watches must be bound to it. */
  roles?: readonly Role[];
  /**
   * The watch permission the action needs: of the watch asking, or (for a user's request) of the
   * watch named by `family.via: 'watch'`. A function picks it from the request (a photo command
   * needs the camera, a voice note the microphone); undefined then means none.
   */
  permission?: Needed | ((req: Record<string, unknown>) => Needed);
  /** A token scope the caller needs (operators' tools). */
  scope?: 'ops';
  /** What the action is, for refusal messages ("positions mode needs …"). */
  what?: string;
  /**
   * How often one principal may do it: cheap to ask, costly to serve (an audit row, a scrypt, a
   * code guess). Counted per principal, shared by the nodes of a cluster.
   */
  budget?: { name: string; points: number; durationS: number };
}

/** What a passed check established, for the use case to act on. */
export interface Grant {
  principal: Principal;
  /** The family the request concerns, when the rule names one. */
  familyId?: string;
  /** The caller's role in it (users). */
  role?: Role;
  /** The watch concerned: the caller if it is a watch, or the watch the request named. */
  device?: DeviceInfo;
}

export const ANY_ROLE: readonly Role[] = ['owner', 'guardian', 'viewer'];
export const WRITERS: readonly Role[] = ['owner', 'guardian'];
export const OWNER: readonly Role[] = ['owner'];

/** How an unknown or foreign id of each kind is answered: the same either way, so ids cannot be probed. */
const NOT_YOURS: Record<FamilyVia, () => HubError> = {
  family: E.notMember,
  watch: E.watchNotInFamily,
  alert: E.noSuchAlert,
  media: E.noSuchMedia,
};

export class Guard {
  private readonly budgets = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly store: Store,
    private readonly devices: DeviceDirectory,
    private readonly limiter: LimiterFactory,
    /** HUB_BUDGET_SCALE: multiplies every rule's budget. */
    private readonly budgetScale = 1,
  ) {}

  /** Spends one point of the rule's budget for the principal; RATE_LIMITED once spent. */
  private async spend(rule: Rule, principal: Principal): Promise<void> {
    const b = rule.budget;
    if (!b) return;
    let limiter = this.budgets.get(b.name);
    if (!limiter) {
      limiter = this.limiter({ keyPrefix: `budget-${b.name}`, points: b.points * this.budgetScale, durationS: b.durationS });
      this.budgets.set(b.name, limiter);
    }
    try {
      await limiter.consume(`${principal.kind}:${principal.id}`);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw E.rateLimited(rule.what ?? 'requests', err.msBeforeNext);
      throw err;
    }
  }

  /** Checks a rule; returns what it established, or throws the refusal. */
  async check(rule: Rule, principal: Principal, req: Record<string, unknown>, scopes: readonly string[] = []): Promise<Grant> {
    if (!rule.who.includes(principal.kind)) {
      throw E.principalKind(principal.kind === 'device' ? 'a watch cannot do this' : 'this is for watches only');
    }
    if (rule.scope && !scopes.includes(rule.scope)) throw E.opsScopeRequired(rule.what ?? 'this');
    await this.spend(rule, principal);
    const grant: Grant = { principal };
    if (principal.kind === 'device') grant.device = await this.boundWatch(principal.id);
    if (rule.family) {
      const via = rule.family.via;
      const id = req[rule.family.field];
      const found = typeof id === 'string' ? await this.familyOf(via, id) : undefined;
      if (!found) throw principal.kind === 'device' && via === 'family' ? E.watchNotInFamily() : NOT_YOURS[via]();
      grant.familyId = found.familyId;
      if (found.device && principal.kind === 'user') grant.device = found.device;
      if (principal.kind === 'user')
        grant.role = await this.requireRole(found.familyId, principal.id, rule.roles ?? ANY_ROLE, via);
      else if (grant.device?.familyId !== found.familyId) throw via === 'family' ? E.watchNotInFamily() : NOT_YOURS[via]();
    } else if (principal.kind === 'device') {
      grant.familyId = grant.device!.familyId!;
    }
    const needed = typeof rule.permission === 'function' ? rule.permission(req) : rule.permission;
    if (grant.device) {
      for (const p of typeof needed === 'string' ? [needed] : (needed ?? [])) {
        if (!grant.device.permissions[p]) throw E.permissionOff(p);
      }
    }
    return grant;
  }

  /** The user's role in the family; refuses a non-member (or a member without one of `roles`). */
  async requireRole(
    familyId: string,
    userId: string,
    roles: readonly Role[] = ANY_ROLE,
    via: FamilyVia = 'family',
  ): Promise<Role> {
    const role = await this.store.families.roleOf(familyId, userId);
    // A thing of a family the caller is not in answers as if it did not exist.
    if (!role) throw NOT_YOURS[via]();
    if (!roles.includes(role)) throw E.roleRequired(roles);
    return role;
  }

  /** Users must be members; watches must be bound to the family. */
  async requireInFamily(p: Principal, familyId: string): Promise<void> {
    if (p.kind === 'user') await this.requireRole(familyId, p.id);
    else if ((await this.devices.get(p.id))?.familyId !== familyId) throw E.watchNotInFamily();
  }

  /** The families a principal belongs to now. */
  async familiesOf(p: Principal): Promise<string[]> {
    if (p.kind === 'user') return this.store.families.familyIdsOf(p.id);
    const fid = (await this.devices.get(p.id))?.familyId;
    return fid ? [fid] : [];
  }

  private async boundWatch(deviceId: string): Promise<DeviceInfo> {
    const info = await this.devices.get(deviceId);
    if (!info?.familyId) throw E.watchUnbound();
    return info;
  }

  private async familyOf(via: FamilyVia, id: string): Promise<{ familyId: string; device?: DeviceInfo } | undefined> {
    switch (via) {
      case 'family':
        return { familyId: id };
      case 'watch': {
        const device = await this.devices.get(id);
        return device?.familyId ? { familyId: device.familyId, device } : undefined;
      }
      case 'alert': {
        const alert = await this.store.alerts.find(id);
        return alert ? { familyId: alert.family_id } : undefined;
      }
      case 'media': {
        const media = await this.store.messages.mediaById(id);
        return media ? { familyId: media.family_id } : undefined;
      }
    }
  }
}
