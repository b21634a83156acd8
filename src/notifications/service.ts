// Notifications that reach a closed app: each app installation's push registration (made before
// or after sign-in, tied to the user signed in on it, untied when that session ends), each user's
// mutes and quiet hours (which never silence an SOS), the family's emergency contacts, and the
// one way every use case pushes to users (src/push/outbox.ts does the sending and retrying).
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { Principal } from '../contract/models.js';
import {
  type MutableType,
  type NotificationSettingsView,
  type NotificationType,
  type PushRegistrationProvider,
  type QuietHours,
  inQuietHours,
} from '../contract/notifications.js';
import type { PushNotification } from '../push/types.js';
import type { Store } from '../store/store.js';

export interface RegistrationView {
  installationId: string;
  provider: PushRegistrationProvider;
  /** Tied to the caller (signed in on this installation). */
  signedIn: boolean;
  updatedAt: number;
}

/** The type a user's mutes and quiet hours are judged by. */
export function notificationType(n: PushNotification): NotificationType {
  switch (n.kind) {
    case 'alert':
      return (n.alertType ?? 'sos') as NotificationType;
    case 'ring':
      return 'call';
    default:
      return n.kind;
  }
}

/** Never muted, never held back by quiet hours. */
const ALWAYS: ReadonlySet<NotificationType> = new Set(['sos', 'incident']);

interface Settings {
  muted: Set<string>;
  quietHours: QuietHours | null;
}

function parseSettings(muted: string, quiet: string | null): Settings {
  let m: unknown = [];
  let q: unknown = null;
  try {
    m = JSON.parse(muted);
    q = quiet ? JSON.parse(quiet) : null;
  } catch {
    // A row that does not parse mutes nothing.
  }
  return { muted: new Set(Array.isArray(m) ? (m as string[]) : []), quietHours: (q as QuietHours | null) ?? null };
}

export class NotificationService {
  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      clock: () => number;
      /** Whether this hub can send through a provider (its credentials are configured). */
      supports: (provider: PushRegistrationProvider) => boolean;
      /** Queues the push durably (one row per installation, or per user without any). */
      enqueue: (userIds: readonly string[], n: PushNotification) => Promise<void>;
      onError: (err: unknown, what: string) => void;
      /** Closes the providers' kept-open connections (APNs HTTP/2). */
      closeSenders?: () => Promise<void>;
    },
    private readonly opts: { maxInstallationsPerUser: number },
  ) {}

  /** At shutdown, after the last push was queued. */
  async close(): Promise<void> {
    await this.deps.closeSenders?.();
  }

  /**
   * `POST /v1/push/registrations`. Without a caller the installation is registered signed out
   * (it gets nothing of any family). A caller ties it to themself and this session. An
   * installation tied to someone else is changed only by a caller presenting its current token
   * (the same phone), so knowing an installation id is not enough to divert its pushes.
   */
  async register(
    caller: { principal: Principal; sessionId: string | undefined } | null,
    req: { installationId: string; provider: PushRegistrationProvider; token: string },
  ): Promise<{ created: boolean; registration: RegistrationView }> {
    if (caller) await this.deps.guard.check(RULES['push.register'], caller.principal, {});
    if (!this.deps.supports(req.provider)) throw E.pushProviderOff(req.provider);
    const now = this.deps.clock();
    const existing = await this.deps.store.pushRegistrations.find(req.installationId);
    const userId = caller?.principal.id ?? null;
    if (existing?.user_id && existing.user_id !== userId && existing.token !== req.token) throw E.installationTaken();
    await this.deps.store.pushRegistrations.upsert({
      installation_id: req.installationId,
      provider: req.provider,
      token: req.token,
      user_id: userId,
      session_id: caller?.sessionId ?? null,
      created_at: existing?.created_at ?? now,
      updated_at: now,
    });
    if (userId) await this.bound(userId, now);
    return {
      created: !existing,
      registration: { installationId: req.installationId, provider: req.provider, signedIn: userId !== null, updatedAt: now },
    };
  }

  /** A user keeps at most maxInstallationsPerUser installations signed in: the oldest are untied. */
  private async bound(userId: string, now: number): Promise<void> {
    const mine = await this.deps.store.pushRegistrations.forUser(userId);
    for (const old of mine.slice(this.opts.maxInstallationsPerUser)) {
      await this.deps.store.pushRegistrations.upsert({ ...old, user_id: null, session_id: null, updated_at: now });
    }
  }

  /** A session ended (logout, refresh reuse, another helper's password change): its installations are untied. */
  sessionEnded(sessionId: string): void {
    this.deps.store.pushRegistrations
      .untieSession(sessionId, this.deps.clock())
      .catch((err: unknown) => this.deps.onError(err, 'untying push registrations'));
  }

  async settings(principal: Principal): Promise<NotificationSettingsView> {
    await this.deps.guard.check(RULES['notifications.settings'], principal, {});
    const row = await this.deps.store.notificationSettings.find(principal.id);
    if (!row) return { muted: [], quietHours: null };
    const s = parseSettings(row.muted, row.quiet_hours);
    return { muted: [...s.muted] as MutableType[], quietHours: s.quietHours };
  }

  /** `PUT /v1/me/notifications`: replaces the mutes; quiet hours are replaced when given (null clears). */
  async putSettings(
    principal: Principal,
    req: { muted: MutableType[]; quietHours?: QuietHours | null | undefined },
  ): Promise<NotificationSettingsView> {
    await this.deps.guard.check(RULES['notifications.settings'], principal, {});
    const before = await this.deps.store.notificationSettings.find(principal.id);
    const quietHours =
      req.quietHours !== undefined ? req.quietHours : before ? parseSettings(before.muted, before.quiet_hours).quietHours : null;
    await this.deps.store.notificationSettings.put({
      user_id: principal.id,
      muted: JSON.stringify(req.muted),
      quiet_hours: quietHours ? JSON.stringify(quietHours) : null,
      updated_at: this.deps.clock(),
    });
    return { muted: req.muted, quietHours };
  }

  /** `PUT /v1/families/:fid/members/:uid/emergency-contact` (owner). */
  async setEmergencyContact(
    principal: Principal,
    req: { familyId: string; userId: string; emergencyContact: boolean },
  ): Promise<{ userId: string; emergencyContact: boolean }> {
    await this.deps.guard.check(RULES['member.emergencyContact'], principal, req);
    if (!(await this.deps.store.notificationSettings.setEmergencyContact(req.familyId, req.userId, req.emergencyContact))) {
      throw E.noSuchMember();
    }
    return { userId: req.userId, emergencyContact: req.emergencyContact };
  }

  emergencyContacts(familyId: string): Promise<string[]> {
    return this.deps.store.notificationSettings.emergencyContacts(familyId);
  }

  /**
   * Pushes to users, minus those who muted the type or are in their quiet hours (never for an
   * SOS). Who is offline is the caller's choice (src/push/family-notifier.ts).
   */
  async push(userIds: readonly string[], n: PushNotification): Promise<void> {
    const users = [...new Set(userIds)];
    if (users.length === 0) return;
    const type = notificationType(n);
    let to = users;
    if (!ALWAYS.has(type)) {
      const now = this.deps.clock();
      const rows = await this.deps.store.notificationSettings.forUsers(users);
      const silenced = new Set<string>();
      for (const r of rows) {
        const s = parseSettings(r.muted, r.quiet_hours);
        if (s.muted.has(type) || (s.quietHours && inQuietHours(s.quietHours, now))) silenced.add(r.user_id);
      }
      to = users.filter((u) => !silenced.has(u));
    }
    if (to.length > 0) await this.deps.enqueue(to, n);
  }
}
